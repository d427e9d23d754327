"""Shifts that cross midnight: a day open until 24:00 before a date opening at 00:00 gets
patterns like 22:00-06:00, dated by their start, whose tail staffs the next date's slots (in
the weekly model, and across a week boundary from the rosters). Rules are checked with
tests/roster_rules.py (an independent reading), coverage recounted from the roster lines."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import small_scenario as ss
from roster_rules import violations, rows_of
from staffing import allocation, queueing, scenario as scenario_mod
from staffing.cli import main
from staffing.rosters import patterns
from staffing.rosters.rules import WorkingRules

RULES = dataclasses.asdict(WorkingRules())
# 6 h shifts need no break (L3121-16: more than 6 h of work), so one shift covers a whole night
SHIFTS = {"paid_hours": [6.0], "unpaid_break_minutes": 0, "break_after_hours": 6.0,
          "start_step_minutes": 30, "weekly_hours": 30.0, "days_per_week": 5}
NEED = 5  # agents in every night slot
HEADS = 7  # 7 nights x 5 agents = 35 shifts = 7 advisers x 5 nights


def _calls_for(need: int) -> int:
    """Whole calls per 15-minute slot whose Erlang C requirement (80 % in 20 s) is `need`."""
    for c in range(1, 100):
        if int(queueing.required_agents(np.array([float(c)]), 300.0, 15.0, ss.SL_TARGET,
                                        ss.ANSWER_S)[0]) == need:
            return c
    raise AssertionError("no call volume gives that requirement")


def _night_scenario(root, weeks: int = 2):
    """15-minute slots, open 24/7 but Sunday from 20:00 (so Sunday's night is covered only by
    shifts crossing into Monday), calls only 22:00-04:00 (none before 04:00 on the first
    Monday: no shift of the horizon could be at work then)."""
    calls = _calls_for(NEED)
    start = dt.datetime(2009, 3, 2)
    rows = []
    for k in range(weeks * 7 * 96):
        t = start + dt.timedelta(minutes=15 * k)
        night = t.hour >= 22 or t.hour < 4
        if t.weekday() == 6 and t.hour < 20:
            continue  # Sunday opens at 20:00
        rows.append(("p", f"{t:%Y-%m-%d %H:%M}", calls if night and k >= 16 else 0, 300))
    team = {"id": "team", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 20,
            "headcount": HEADS, "shrinkage": 0}
    sub = {"id": "sub", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 60,
           "seats": 100, "shrinkage": 0}
    model = ss.write(root, providers=[team, sub], forecast=rows, weeks=weeks,
                     opening={"default": ["00:00", "24:00"], "sun": ["20:00", "24:00"]},
                     shifts=SHIFTS)
    model.write_text(model.read_text().replace("slot_minutes = 30", "slot_minutes = 15"))
    return model



def _at_work(r: pd.DataFrame, t: pd.Timestamp) -> int:
    """Roster lines at work at instant t (whatever their date), breaks excluded."""
    on = (r["shift_start"] <= t) & (r["shift_end"] > t)
    brk = (r["break_start"] <= t) & (r["break_end"] > t)
    return int((on & ~brk.fillna(False)).sum())


def test_patterns_cross_midnight_only_into_a_date_open_at_midnight():
    rules = scenario_mod.load().shifts
    # 24/7: starts up to 23:30, the tail after midnight on the next date's grid
    pats = {p.id: p for p in patterns.day_patterns(0, 1440, 30, rules, next_close=1440)}
    p = next(v for v in pats.values() if v.start_min == 22 * 60)
    assert (p.end_min, p.paid_hours) == (30 * 60, 7.0)
    assert p.slots == (44, 45, 46, 47) and len(p.next_slots) + len(p.slots) == 14
    assert p.next_slots[-1] == 11  # 05:30-06:00 the next date
    assert max(v.start_min for v in pats.values()) == 23 * 60 + 30
    # the next date closes at 02:00: no shift runs past it
    late = patterns.day_patterns(960, 1440, 30, rules, next_close=120)
    assert max(v.end_min for v in late) == 1440 + 120
    assert min(v.start_min for v in late) == 960
    # no crossing without next_close, or when the day closes before 24:00: today's patterns
    assert max(v.end_min for v in patterns.day_patterns(0, 1440, 30, rules)) == 1440
    same = patterns.day_patterns(480, 1320, 30, rules, next_close=1440)
    assert same == patterns.day_patterns(480, 1320, 30, rules)
    assert patterns.next_close((480, 1440), (0, 600)) == 600
    assert patterns.next_close((480, 1440), (60, 600)) is None
    assert patterns.next_close((480, 1320), (0, 600)) is None


@pytest.fixture(scope="module")
def night_plan(tmp_path_factory):
    sc = scenario_mod.load(str(_night_scenario(tmp_path_factory.mktemp("night"))))
    plan = allocation.optimise(sc, allocation.Options(weeks=2, rosters=True))
    return sc, plan


def test_night_demand_is_met_by_shifts_crossing_midnight(night_plan):
    sc, plan = night_plan
    r = plan.tables["rosters"]
    assert r["adviser"].nunique() == HEADS
    cross = r[r["shift_end"] > r["date"] + pd.Timedelta(days=1)]
    # only 22:00-04:00 covers a night in one shift: 7 advisers x 5 shifts meet 7 nights x 5
    # agents only that way (a night from shifts within a day takes twice the shifts), so week
    # 1 needs no subcontracted agent at all (Saturday's night ends at midnight: Sunday opens
    # at 20:00, and its night is worked by shifts crossing into Monday)
    first = r[r["date"] < pd.Timestamp(sc.start) + pd.Timedelta(days=7)]
    night = first[first["shift_start"].dt.strftime("%H:%M") == "22:00"]
    assert (night["shift_end"].dt.strftime("%H:%M") == "04:00").all()
    per_date = night.groupby(night["date"].dt.day_of_week).size()
    assert per_date.reindex(range(5), fill_value=0).min() >= NEED  # Monday to Friday
    sunday = first[first["date"].dt.day_of_week == 6]
    assert len(sunday) >= NEED and (sunday["shift_end"] > sunday["date"] + pd.Timedelta(days=1)).all()
    alloc = plan.tables["allocation"]
    week1 = alloc["slot_start"] < pd.Timestamp(sc.start) + pd.Timedelta(days=7)
    assert alloc.loc[week1 & (alloc["kind"] != "inhouse"), "logged_agents"].sum() == 0
    # a shift is dated by its start, ends the next date (ISO), and is one shift that date
    assert (cross["shift_start"].dt.normalize() == cross["date"]).all()
    assert (cross["shift_end"].dt.normalize() == cross["date"] + pd.Timedelta(days=1)).all()
    assert not r.duplicated(["adviser", "date"]).any()
    assert violations(rows_of(r), sc.start, 2, RULES) == []


def test_night_coverage_recounted_from_the_roster_lines(night_plan):
    sc, plan = night_plan
    r = plan.tables["rosters"]
    req, alloc = plan.tables["requirements"], plan.tables["allocation"]
    inhouse = alloc[alloc["kind"] == "inhouse"].groupby("slot_start")["logged_agents"].sum()
    other = alloc[alloc["kind"] != "inhouse"].groupby("slot_start")["logged_agents"].sum()
    for t, need in zip(req["slot_start"], req["agents"]):
        got = _at_work(r, t)
        # the reported in-house agents are the roster lines at work, tails included
        assert got == int(round(inhouse.get(t, 0.0))), t
        assert got + other.get(t, 0.0) >= need - 1e-9, t
    # the tails really count: after midnight, the night's staff are the previous date's lines
    tue = pd.Timestamp(sc.start) + pd.Timedelta(days=1, hours=2)
    assert _at_work(r[r["date"] == tue.normalize() - pd.Timedelta(days=1)], tue) >= NEED
    assert _at_work(r[r["date"] == tue.normalize()], tue) == 0


def test_tail_past_the_week_counts_in_the_next_week(night_plan):
    sc, plan = night_plan
    r = plan.tables["rosters"]
    monday2 = pd.Timestamp(sc.start) + pd.Timedelta(days=7)
    # Sunday 20:00-24:00 holds no 6 h shift: its night is worked by shifts ending on Monday
    sunday = r[r["date"] == monday2 - pd.Timedelta(days=1)]
    assert len(sunday) >= NEED and (sunday["shift_end"] > monday2).all()
    alloc = plan.tables["allocation"]
    need = plan.tables["requirements"].set_index("slot_start")["agents"]
    for k in range(0, 16):  # week 2's Monday 00:00-04:00: week 1's Sunday lines count there
        t = monday2 + pd.Timedelta(minutes=15 * k)
        at = alloc[alloc["slot_start"] == t]
        got = at.loc[at["kind"] == "inhouse", "logged_agents"].sum()
        assert got == _at_work(r, t) >= _at_work(sunday, t), t
        bought = at.loc[at["kind"] != "inhouse", "logged_agents"].sum()
        # the week's re-solve counted them: agents are bought only for what they leave short
        assert bought == max(need[t] - got, 0.0), t
    assert _at_work(sunday, monday2) >= NEED
    assert 2 in plan.manifest["rosters"]["weeks_resolved_from_rosters"]
    # the horizon's last tail has no slot to count on: nothing reported past the horizon
    assert alloc["slot_start"].max() < monday2 + pd.Timedelta(days=7)


def test_midnight_opening_errors_name_the_field(tmp_path, capsys):
    assert main(["validate", "--set", 'opening.default=["18:00","02:00"]']) == 2
    err = capsys.readouterr().err.strip()
    assert "opening.default" in err and '"24:00"' in err and len(err.splitlines()) == 1
    base = scenario_mod.packaged_models_dir() / "orange-2009.toml"
    model = tmp_path / "variant.toml"
    model.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n'
                     '[[calendar.exceptions]]\nfrom = 2009-03-03\nopen = "18:00"\n'
                     'close = "02:00"\n')
    assert main(["validate", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "calendar.exceptions" in err and '"24:00"' in err and len(err.splitlines()) == 1


def _short_saturday(root, friday_close: str):
    """Friday 16:00-<friday_close>, Saturday 00:00-02:00 (no 6 h shift of its own fits)."""
    team = {"id": "team", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 20,
            "headcount": 2, "shrinkage": 0}
    fc = [("p", "2009-03-06 16:00", 5, 300), ("p", "2009-03-07 00:30", 5, 300)]
    return str(ss.write(root, providers=[team], forecast=fc, shifts={
        **SHIFTS, "weekly_hours": 6.0, "days_per_week": 1}, opening={
        "default": "closed", "fri": ["16:00", friday_close], "sat": ["00:00", "02:00"]}))


def test_validate_counts_the_tail_of_the_day_before(tmp_path, capsys):
    # Saturday 00:00-02:00 holds no 6 h shift of its own, but Friday's shifts to 24:00 run on
    assert main(["validate", _short_saturday(tmp_path / "a", "24:00")]) == 0
    assert "no allowed shift covers" not in capsys.readouterr().out
    # Friday closing at 23:00: nothing reaches Saturday's hours
    assert main(["validate", _short_saturday(tmp_path / "b", "23:00")]) == 0
    assert "sat 00:00-02:00 is open but no allowed shift covers it" in capsys.readouterr().out
