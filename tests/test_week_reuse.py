"""Identical weeks are solved once: the reused plan equals the plan solved week by week."""

from __future__ import annotations

import pandas as pd
import pytest

from staffing import allocation, scenario
from staffing.allocation import reuse


@pytest.fixture(scope="module")
def default():
    return scenario.load(None)


def _plan(sc, monkeypatch, reuse_weeks: bool, **kw):
    solved = []
    real = allocation._week_job
    monkeypatch.setattr(allocation, "_week_job", lambda a: solved.append(a[3]) or real(a))
    if not reuse_weeks:
        monkeypatch.setattr(reuse, "distinct", lambda keys: {w: w for w in range(len(keys))})
    plan = allocation.optimise(sc, allocation.Options(workers=1, **kw))
    monkeypatch.undo()
    return plan, solved


def test_a_repeated_week_is_solved_once_with_the_same_plan(default, monkeypatch):
    # the default's weeks of 2009-03-02 and 2009-03-09 have the same calls, slot for slot
    reused, solved = _plan(default, monkeypatch, True, weeks=2)
    assert solved == [0]
    each, solved = _plan(default, monkeypatch, False, weeks=2)
    assert solved == [0, 1]
    assert set(reused.tables) == set(each.tables)
    for name, table in each.tables.items():
        pd.testing.assert_frame_equal(reused.tables[name], table, check_exact=True, obj=name)
    assert reused.manifest["objective_eur"] == each.manifest["objective_eur"]
    tours = reused.tables["tours"]
    assert sorted(tours["week"].unique()) == [1, 2]
    shifts = reused.tables["shifts"]
    assert pd.to_datetime(shifts["date"]).min() == pd.Timestamp("2009-03-02")
    assert pd.to_datetime(shifts["date"]).max() <= pd.Timestamp("2009-03-15")


def test_week_keys_see_calls_weekdays_and_times(default):
    opts = allocation.Options(weeks=3).resolved(default)
    _, req = allocation._weekly_requirements(default, opts)
    start = pd.Timestamp(opts.start)
    w0, w1 = req[req["week"] == 0], req[req["week"] == 1]
    key = reuse.week_key(w0, start)
    assert reuse.week_key(w1, start + pd.Timedelta(weeks=1)) == key
    assert reuse.week_key(w0, start - pd.Timedelta(days=1)) != key  # another weekday
    more = w0.assign(calls=w0["calls"].where(w0.index != w0.index[5], w0["calls"] + 1))
    assert reuse.week_key(more, start) != key  # one slot's calls differ
    later = w0.assign(slot_start=w0["slot_start"] + pd.Timedelta(minutes=30))
    assert reuse.week_key(later, start) != key
    assert reuse.distinct(["a", "b", "a", "c", "b"]) == {0: 0, 1: 1, 2: 0, 3: 3, 4: 1}


def test_the_horizon_headcount_solves_each_distinct_week_lp_once(default, monkeypatch):
    from staffing.allocation import headcount

    prov = default.providers.copy()
    inh = prov["kind"] == "inhouse"
    prov.loc[inh, "headcount_min"] = (prov.loc[inh, "headcount"] * 0.5).round()
    prov.loc[inh, "headcount_max"] = (prov.loc[inh, "headcount"] * 1.2).round()
    sc = default.replace(providers=prov)
    lps = []
    real = headcount._week_lp
    monkeypatch.setattr(headcount, "_week_lp", lambda job: lps.append(job[3]) or real(job))
    opts = allocation.Options(weeks=3, headcount="optimise", workers=1).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    weeks = [req[req["week"] == w] for w in range(3)]
    deadline = allocation.Deadline.after(None)
    once = headcount.decide(sc, opts, weeks, deadline)
    assert lps == [0]  # the default's first three weeks are the same week
    lps.clear()
    monkeypatch.setattr(reuse, "distinct", lambda keys: {w: w for w in range(len(keys))})
    assert headcount.decide(sc, opts, weeks, deadline) == once
    assert lps == [0, 1, 2]
