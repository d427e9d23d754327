"""Rosters per adviser: every rule holds on every line (checked by tests/roster_rules.py, an
independent reading of the rules), the rostered plan covers what it reports, the checker
finds hand-made violations, and `staffing check` reads a run folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from staffing import allocation, scenario
from staffing.cli import main
from staffing.rosters import check
from staffing.rosters.rules import WorkingRules

from roster_rules import two_days_off_share, violations, rows_of

RULES = dataclasses.asdict(WorkingRules())



@pytest.fixture(scope="module")
def default_two_weeks():
    sc = scenario.load()
    plan = allocation.optimise(sc, allocation.Options(weeks=2, rosters=True))
    return sc, plan


def test_default_rosters_keep_every_rule(default_two_weeks):
    sc, plan = default_two_weeks
    r = plan.tables["rosters"]
    assert r["adviser"].nunique() == 3200
    # text as categories: a code per line (a year's table ~80 MB smaller)
    assert all(isinstance(r[c].dtype, pd.CategoricalDtype)
               for c in ("scenario", "adviser", "team", "contract", "plateau"))
    rows = rows_of(r)
    assert violations(rows, sc.start, 2, RULES) == []
    # every adviser works the contract: 5 shifts of 7 paid hours each week
    week = (pd.to_datetime(r["date"]) - pd.Timestamp(sc.start)).dt.days // 7
    per = r.assign(week=week).groupby(["adviser", "week"])["paid_hours"].agg(["sum", "size"])
    assert (per["sum"] == 35.0).all() and (per["size"] == 5).all() and len(per) == 6400
    assert two_days_off_share(rows, sc.start, 2) >= 0.90


def test_rostered_plan_covers_what_it_reports(default_two_weeks):
    sc, plan = default_two_weeks
    r, alloc = plan.tables["rosters"], plan.tables["allocation"]
    # in-house advisers at work per slot and site, recounted from the roster lines
    slot = alloc[alloc["kind"] == "inhouse"].groupby(["slot_start", "provider"])["logged_agents"].sum()
    probe = slot.sample(200, random_state=1)
    for (t, k), agents in probe.items():
        mine = r[(r["team"] == k) & (r["shift_start"] <= t) & (r["shift_end"] > t)]
        on_break = (mine["break_start"] <= t) & (mine["break_end"] > t)
        assert int((~on_break).sum()) == int(round(agents)), (t, k)


def test_tours_are_a_summary_of_the_rosters_with_real_weekdays(default_two_weeks):
    sc, plan = default_two_weeks
    t = plan.tables["tours"]
    assert t.groupby("week")["advisers"].sum().tolist() == [3200.0, 3200.0]
    r = plan.tables["rosters"]
    sunday = r[pd.to_datetime(r["date"]).dt.day_of_week == 6]
    w1 = t[t["week"] == 1]
    assert (w1["sun"] != "off").mul(w1["advisers"]).sum() == \
        sunday[sunday["date"] < pd.Timestamp(sc.start) + pd.Timedelta(days=7)]["adviser"].nunique()


def test_checker_finds_hand_made_violations():
    d = pd.Timestamp("2009-03-02")
    h = pd.Timedelta(hours=1)
    # 14:00-22:00 then 08:00 next day: 10 h rest, 1 h short; 7 days in a row; no break
    rows = [(d + k * 24 * h + (14 * h if k == 0 else 8 * h),
             d + k * 24 * h + (22 * h if k == 0 else 15 * h + pd.Timedelta(minutes=30)))
            for k in range(7)]
    r = pd.DataFrame({"adviser": "a", "team": "t", "contract": "full-time",
                      "date": [s.normalize() for s, _ in rows],
                      "shift_start": [s for s, _ in rows], "shift_end": [e for _, e in rows],
                      "break_start": pd.NaT, "break_end": pd.NaT, "plateau": "p",
                      "paid_hours": 7.0})
    v = check.check_rosters(r, WorkingRules(), d, 1, {"full-time": 35.0})
    got = {(x.rule, round(x.excess, 3)) for x in v.itertuples()}
    assert ("daily_rest", 1.0) in got
    assert ("days_in_a_row", 1.0) in got
    assert ("break", 20.0) in got  # 8 h and 7.5 h of work without a break
    assert ("contract_hours", 49.0 + 3.5 - 35.0 + 1.0 - 1.0) in got or any(
        rule == "contract_hours" for rule, _ in got)
    # the independent reading agrees on which rules fail
    ind = {rule for _, rule in violations(rows_of(r), d.date(), 1, RULES)}
    assert {"daily_rest", "days_in_a_row", "break"} <= ind
    assert {x.rule for x in v.itertuples()} - {"contract_hours", "weekly_hours"} <= ind | {"weekly_rest"}


def test_check_command_on_a_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["optimise", "--rosters", "--set", "opening.default=[\"08:00\",\"20:00\"]",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["check", str(run)]) == 0
    assert "every working-time rule holds" in capsys.readouterr().out
    r = pd.read_csv(run / "rosters.csv")
    first = r.index[r["adviser"] == r["adviser"].iloc[0]]
    # move the adviser's second shift 14 h earlier: under 11 h from the first one
    for c in ("shift_start", "shift_end", "break_start", "break_end"):
        r.loc[first[1], c] = (pd.Timestamp(r.loc[first[1], c]) - pd.Timedelta(hours=14)).isoformat()
    r.to_csv(run / "rosters.csv", index=False)
    for f in run.glob("*.parquet"):  # load() prefers Parquet: read the edited CSV
        f.unlink()
    assert main(["check", str(run)]) == 3
    out = capsys.readouterr()
    assert "daily_rest" in out.out and "rosters:" in out.out


def test_midnight_close_and_night_shifts_keep_every_rule():
    sc = scenario.load(None, scenario.parse_set(['opening.default=["00:00","24:00"]',
                                                 "horizon.slot_minutes=15"]))
    plan = allocation.optimise(sc, allocation.Options(weeks=1, rosters=True))
    r = plan.tables["rosters"]
    # shifts ending at 24:00 or later are dated by their start and end the next date (the
    # default's nights have no calls: shifts crossing midnight, tests/test_night_shifts.py,
    # are not needed here, a 1 EUR tie-break leaves them out)
    late = r[r["shift_end"] >= r["date"] + pd.Timedelta(days=1)]
    assert len(late) and (late["shift_start"].dt.normalize() == late["date"]).all()
    assert violations(rows_of(r), sc.start, 1, RULES) == []
    # in-house agents reported per slot = roster lines at work then, whatever their date
    alloc = plan.tables["allocation"]
    inhouse = alloc[alloc["kind"] == "inhouse"].groupby("slot_start")["logged_agents"].sum()
    s, e = r["shift_start"].to_numpy(), r["shift_end"].to_numpy()
    bs, be = r["break_start"].to_numpy(), r["break_end"].to_numpy()
    for t in inhouse.index.to_numpy()[::7]:
        on = (s <= t) & (e > t) & ~((bs <= t) & (be > t))
        assert int(on.sum()) == int(round(inhouse[t])), t
    assert plan.shortfall_share == 0.0


def test_validate_warns_of_open_hours_no_shift_can_cover(capsys):
    args = ["validate", "--set", 'opening.sat=["09:00","13:00"]', "--set",
            'opening.fri=["08:00","23:00"]']
    assert main(args) == 0
    out = capsys.readouterr().out
    # 4 open hours cannot hold a 7 h shift (+1 h break); 22:00-23:00 on Friday can (14:30-23:00)
    assert "warning     sat 09:00-13:00 is open but no allowed shift covers it" in out
    assert "fri" not in out.split("warning")[-1]
    assert main(["validate", "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["warnings"] == []


def _state_model(tmp_path, rows: str):
    from scenario_helpers import copy_default

    model = copy_default(tmp_path / "m")
    state = model.parent / "state.csv"
    state.write_text("adviser,last_shift_end,days_in_a_row\n" + rows, encoding="utf-8")
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("[inputs]\n", f'[inputs]\nroster_state = "{state.name}"\n'),
                     encoding="utf-8")
    return model


def test_pre_horizon_state_is_kept_and_checked(tmp_path, capsys):
    # (a team whose plateaux subcontractors also serve, so the re-solved week stays covered)
    # 0001 worked the six days before the horizon, the last until 23:00 on Sunday: no Monday;
    # 0002 ended at 23:30: no shift before 10:30 on Monday
    model = _state_model(tmp_path, "fr-lyon-0001,2009-03-01 23:00,6\n"
                                   "fr-lyon-0002,2009-03-01T23:30,1\n")
    run = tmp_path / "run"
    assert main(["optimise", str(model), "--out", str(run)]) == 0, capsys.readouterr().err
    r = pd.read_csv(run / "rosters.csv", parse_dates=["date", "shift_start"])
    one = r[r["adviser"] == "fr-lyon-0001"]
    assert pd.Timestamp("2009-03-02") not in set(one["date"])
    two = r[(r["adviser"] == "fr-lyon-0002") & (r["date"] == pd.Timestamp("2009-03-02"))]
    assert (two["shift_start"] >= pd.Timestamp("2009-03-02 10:30")).all()
    # the checker reads the state from the manifest: an edited roster breaking it is caught
    r2 = pd.read_csv(run / "rosters.csv")
    first = r2.index[r2["adviser"] == "fr-lyon-0002"][0]
    day = r2.loc[first, "date"]
    for c, v in (("date", "2009-03-02"), ("shift_start", "2009-03-02T08:00:00"),
                 ("shift_end", "2009-03-02T16:00:00"), ("break_start", "2009-03-02T12:00:00"),
                 ("break_end", "2009-03-02T13:00:00")):
        r2.loc[first, c] = v
    if day != "2009-03-02":
        r2 = r2[~((r2["adviser"] == "fr-lyon-0002") & (r2["date"] == "2009-03-02")
                  & (r2.index != first))]
    r2.to_csv(run / "rosters.csv", index=False)
    for f in run.glob("*.parquet"):
        f.unlink()
    capsys.readouterr()
    assert main(["check", str(run)]) == 3
    assert "fr-lyon-0002 2009-03-02 daily_rest exceeded by 2.5 hours" in capsys.readouterr().out


def test_bad_state_row_is_named(tmp_path, capsys):
    model = _state_model(tmp_path, "fr-lyon-0001,2009-03-01 23:00,6\nfr-paris-0001,2009-03-01,2\n")
    assert main(["validate", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "state.csv, row 3, field 'adviser'" in err
    assert "unknown adviser 'fr-paris-0001'" in err and "\n" not in err


def test_check_by_blocks_of_advisers_finds_what_the_whole_table_check_finds(
        default_two_weeks, monkeypatch):
    """A large table is checked by ranges of advisers: the same violations, in the same
    order, as the whole table at once, across block edges, for advisers without a line,
    with a pre-horizon state and leave."""
    sc, plan = default_two_weeks
    r = plan.tables["rosters"]
    names = sorted(r["adviser"].unique().tolist())
    rng = np.random.default_rng(7)
    hit = rng.choice(len(r), 400, replace=False)
    bad = r.copy()
    bad["shift_start"] = bad["shift_start"].astype("datetime64[ns]")
    late = bad.index[hit[:200]]  # later starts: daily rest, weekly hours, window, spread
    for c in ("shift_start", "shift_end"):
        bad.loc[late, c] = bad.loc[late, c] + pd.Timedelta(hours=9)
    nobreak = bad.index[hit[200:]]  # no break: break rule, daily hours
    bad.loc[nobreak, ["break_start", "break_end"]] = pd.NaT
    bad.loc[nobreak, "paid_hours"] = 11.0
    gone = names[5::400]  # advisers with no line left (contract hours and days of 0)
    bad = bad[~bad["adviser"].isin(gone)].reset_index(drop=True)
    t0 = pd.Timestamp(sc.start)
    state = pd.DataFrame({"adviser": names[::97], "last_shift_end": t0 - pd.Timedelta(hours=2),
                          "days_in_a_row": 6, "sundays_worked": 3})
    leave = {a: {"dates": [str((t0 + pd.Timedelta(days=2)).date())], "days_off": [1, 0]}
             for a in names[3::211]}
    advisers = {a: "full-time" for a in names}
    args = (bad, WorkingRules(), t0, 2, {"full-time": 35.0})
    kw = dict(state=state, leave=leave, advisers=advisers)
    monkeypatch.setattr(check, "BLOCK_LINES", 10**9)
    whole = check.check_rosters(*args, **kw)
    monkeypatch.setattr(check, "BLOCK_LINES", 997)
    assert len(check.adviser_blocks(bad["adviser"], 997)) > 20
    split = check.check_rosters(*args, **kw)
    pd.testing.assert_frame_equal(split, whole)
    assert {"daily_rest", "days_in_a_row", "break", "daily_hours", "contract_hours",
            "leave"} <= set(whole["rule"]), set(whole["rule"])
    assert set(gone) <= set(whole["adviser"]) and whole["adviser"].nunique() > 300


def test_roster_sheet_by_blocks_of_advisers_is_the_whole_tables_sheet(default_two_weeks,
                                                                      monkeypatch):
    from staffing.rosters import plan as roster_plan

    r = default_two_weeks[1].tables["rosters"]
    monkeypatch.setattr(check, "BLOCK_LINES", 10**9)
    whole = roster_plan.roster_sheet(r)
    monkeypatch.setattr(check, "BLOCK_LINES", 997)
    split = roster_plan.roster_sheet(r)
    pd.testing.assert_frame_equal(split, whole)
    assert len(whole) == 3200 and whole["adviser"].is_monotonic_increasing
    # each day column holds the adviser's shift of that date, "" when off
    one = r[r["adviser"] == whole["adviser"].iloc[1234]]
    row = whole.iloc[1234]
    for d in whole.columns[3:]:
        mine = one[one["date"] == pd.Timestamp(d)]
        want = "" if not len(mine) else (f"{mine['shift_start'].iloc[0]:%H:%M}-"
                                         f"{mine['shift_end'].iloc[0]:%H:%M} {mine['plateau'].iloc[0]}")
        assert row[d] == want, d


def _compatible(state, t, band_lo: dict, rules) -> bool:
    """The rules linking a week to the ones before, read for one adviser and one tour type."""
    from staffing.rosters.builder import DAY

    if not t.days:
        return True
    first_start = t.days[0] * DAY + band_lo[t.bands[0]]
    if first_start - state.last_end < rules.daily_rest_hours * 60:
        return False
    lead = 0
    while lead in t.days:
        lead += 1
    if state.run + lead > rules.max_days_in_a_row:
        return False
    off = [d for d in range(7) if d not in t.days]
    interior = any(0 < d < 6 for d in off) or any(b - a == 1 for a, b in zip(off, off[1:]))
    if not interior and first_start - state.last_end < rules.weekly_rest_hours * 60:
        return False  # the week's rest is the leading day off: it must reach weekly_rest
    return not (6 in t.days and sum(state.sundays) + 1 > rules.max_sundays_per_4_weeks)


def test_tour_types_a_class_may_take_are_those_each_rule_allows():
    """builder._allowed (arrays over the week's tour types) against the rules read one type
    at a time, for classes with every kind of past and with leave."""
    from staffing.rosters import builder

    rules = WorkingRules()
    bands = [(360, 600), (540, 780), (720, 960)]
    band_lo = {b: lo for b, (lo, _) in enumerate(bands)}
    types = builder.tour_types(range(7), 5, len(bands), rules)
    types += builder.tour_types([0, 1, 2, 4, 5, 6], 4, len(bands), rules)
    types.append(builder.TourType((), ()))
    table = builder._type_table(types, band_lo)
    rng = np.random.default_rng(11)
    kept = set()
    for _ in range(300):
        st = builder.AdviserState(int(rng.integers(0, 9)),  # (beyond the limit too)
                                  int(rng.choice([builder.NO_PAST, -int(rng.integers(0, 3000))])),
                                  tuple(bool(b) for b in rng.integers(0, 2, 3)))
        ck = st.key()
        want = [i for i, t in enumerate(types) if _compatible(st, t, band_lo, rules)]
        if rng.random() < 0.4:  # leave: days away, days to work
            away = tuple(sorted(set(rng.integers(0, 7, int(rng.integers(1, 3))).tolist())))
            n_days = int(rng.integers(0, 6))
            ck += (away, n_days)
            want = [i for i in want if len(types[i].days) == n_days
                    and not set(away) & set(types[i].days)]
        got = builder._allowed(ck, table, rules)
        assert got == want, ck
        kept.add(len(got))
    assert len(kept) > 10 and 0 in kept  # classes allowed many, few and no types


def test_band_model_settings_reach_the_defaults_optimal_values(monkeypatch):
    """builder.BAND_MODEL_PARAMETERS (no presolve, the whole linear relaxation) are chosen for
    speed alone: every band model of the default scenario's first two weeks (each in-house
    group, the rosters pass as it runs) ends OPTIMAL at the objective value CP-SAT's
    defaults prove optimal for the same model."""
    from ortools.sat.python import cp_model

    from staffing.allocation.options import Deadline
    from staffing.rosters import builder, plan as roster_plan

    sc = scenario.load()
    opts = allocation.Options(rosters=True, workers=1, weeks=2).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    results = allocation._solve_weeks(sc, opts, [req[req["week"] == w] for w in range(2)],
                                      Deadline.after(6000), None)
    solved, solve = [], cp_model.CpSolver.Solve

    def recorded(self, m, *a, **k):
        status = solve(self, m, *a, **k)
        if not self.parameters.cp_model_presolve:  # (the band model's, not the exact one's)
            solved.append((m.clone(), status, self.ObjectiveValue()))
        return status

    monkeypatch.setattr(cp_model.CpSolver, "Solve", recorded)
    roster_plan.team_rosters(sc, opts, results)
    monkeypatch.undo()
    assert len(solved) >= 2 * 6  # every team, both weeks
    for m, status, value in solved:
        assert status == cp_model.OPTIMAL
        default = cp_model.CpSolver()
        default.parameters.num_workers = 1
        default.parameters.max_deterministic_time = builder.SOLVE_SECONDS
        assert default.Solve(m) == cp_model.OPTIMAL and default.ObjectiveValue() == value


# fr-montigny's plan (the default scenario's expert cell, 60 advisers) for the week of
# 2010-01-11: 47 late shifts on Monday, then 50 and 59 of the 60 advisers at 08:00 on
# Wednesday and Thursday. (day, plateau, start_min, end_min, break_start_min, advisers)
WINTER_WEEK = [(0, "expert", 780, 1260, 960, 25), (0, "expert", 840, 1320, 1020, 22),
               (0, "pro", 540, 1020, 690, 10), (0, "pro", 810, 1290, 1020, 3),
               (1, "expert", 480, 960, 690, 19), (1, "expert", 690, 1170, 870, 12),
               (1, "pro", 690, 1170, 900, 19), (1, "pro", 810, 1290, 1050, 1),
               (1, "pro", 840, 1320, 990, 9), (2, "expert", 570, 1050, 810, 6),
               (2, "expert", 660, 1140, 810, 3), (2, "pro", 480, 960, 660, 50),
               (2, "pro", 840, 1320, 990, 1), (3, "expert", 840, 1320, 1110, 1),
               (3, "pro", 480, 960, 750, 59), (4, "expert", 660, 1140, 930, 4),
               (4, "expert", 840, 1320, 1080, 7), (4, "pro", 510, 990, 750, 12),
               (4, "pro", 750, 1230, 930, 32), (6, "expert", 480, 960, 750, 5)]


def _plan_rows(rows: list, monday) -> pd.DataFrame:
    """A week's plan rows (day, plateau, start_min, end_min, break_start_min, advisers) of
    7-hour shifts as builder reads them: dated from `monday`, the day kept."""
    x = pd.DataFrame(rows, columns=["day", "plateau", "start_min", "end_min",
                                    "break_start_min", "advisers"])
    return x.assign(date=pd.to_datetime(monday) + pd.to_timedelta(x["day"], unit="D"),
                    paid_hours=7.0, advisers=x["advisers"].astype(float))


def _winter_week():
    """(its Monday, the plan's rows of WINTER_WEEK as builder.build_team reads them, the 60
    advisers, their full-time contract)."""
    from staffing.rosters.rules import Contract

    monday = dt.date(2010, 1, 11)
    x = _plan_rows(WINTER_WEEK, monday).drop(columns="day")
    advisers = [f"a{i:02d}" for i in range(60)]
    contract = Contract(id="full-time", paid_hours=(7.0,), days=(5,), hours=(35.0,))
    return monday, x, advisers, contract


def test_adviser_level_model_meets_the_plan_the_band_model_cannot():
    """A small team's week whose plan the band model misses (a run never steps to an earlier
    band, and this plan needs Monday's late advisers at 08:00 on Thursday): the adviser-level
    model's rosters have the plan's count of every day and shift, and every rule holds."""
    from staffing.rosters import builder

    monday, x, advisers, contract = _winter_week()
    rules = WorkingRules()
    plan = x.groupby(["date", "start_min"])["advisers"].sum()

    def counts(r):
        got = r.assign(start_min=(r["shift_start"] - r["date"]) // pd.Timedelta(minutes=1))
        return got.groupby(["date", "start_min"]).size().reindex(plan.index, fill_value=0)

    def build():
        return builder.build_team("fr-montigny", advisers, contract, [x], rules, monday,
                                  lambda w: list(range(7)), 60)

    with mock.patch.object(builder, "EXACT_MAX_ADVISERS", 0):  # the band model alone
        band = build()
    assert (counts(band) != plan).any()
    r = build()
    assert (counts(r) == plan).all() and len(r) == 300
    assert violations(rows_of(r), monday, 1, RULES) == []


def test_band_model_without_rosters_in_its_limit_tries_the_lighter_relaxation_then_a_start(
        monkeypatch):
    """Where the band model finds no rosters in its limit (as a 24/7 centre's week with night
    calls did: 38,000 variables), CP-SAT runs again with the lighter relaxation
    (BAND_MODEL_RETRY_PARAMETERS); where that finds none either, each class's advisers take
    its first allowed tour type. Either way the week has rosters, and every rule holds on
    every line: here fr-montigny's winter week (WINTER_WEEK), the band model alone, with
    CP-SAT made to find nothing (a limit of 1e-9) and with the first solve made to end
    UNKNOWN."""
    from ortools.sat.python import cp_model

    from staffing.rosters import builder

    monday, x, advisers, contract = _winter_week()
    solves, solve = [], cp_model.CpSolver.Solve

    def recorded(self, m, *a, **k):
        status = solve(self, m, *a, **k)
        if first_unknown and not solves:
            status = cp_model.UNKNOWN
        solves.append((self.parameters.linearization_level, status))
        return status

    monkeypatch.setattr(cp_model.CpSolver, "Solve", recorded)
    monkeypatch.setattr(builder, "EXACT_MAX_ADVISERS", 0)  # the band model alone
    got = {}
    for case, limit, first_unknown in (("none found", 1e-9, False),
                                       ("first unknown", builder.SOLVE_SECONDS, True)):
        solves.clear()
        monkeypatch.setattr(builder, "SOLVE_SECONDS", limit)
        r = builder.build_team("fr-montigny", advisers, contract, [x], WorkingRules(), monday,
                               lambda w: list(range(7)), 60)
        got[case] = (list(solves), r.attrs.get("band_starts"))
        assert violations(rows_of(r), monday, 1, RULES) == [], case
        assert len(r) == 300 and r.groupby("adviser").size().eq(5).all(), case
    assert got["none found"] == ([(2, cp_model.UNKNOWN), (1, cp_model.UNKNOWN)],
                                 [("fr-montigny", "full-time", monday)])
    assert got["first unknown"] == ([(2, cp_model.UNKNOWN), (1, cp_model.OPTIMAL)], None)
    # with the adviser-level model (a team of at most EXACT_MAX_ADVISERS), whose own limits
    # are untouched: it replaces the start with rosters of the plan's counts, not reported
    monkeypatch.setattr(builder, "EXACT_MAX_ADVISERS", 150)
    monkeypatch.setattr(builder, "SOLVE_SECONDS", 1e-9)
    first_unknown = False
    r = builder.build_team("fr-montigny", advisers, contract, [x], WorkingRules(), monday,
                           lambda w: list(range(7)), 60)
    assert "band_starts" not in r.attrs
    assert builder._deviation(x.assign(day=(pd.to_datetime(x["date"])
                                            - pd.Timestamp(monday)).dt.days), [
        (a, (d - pd.Timestamp(monday)).days, (s - d).total_seconds() // 60,
         (e - d).total_seconds() // 60) for a, d, s, e in
        r[["adviser", "date", "shift_start", "shift_end"]].itertuples(index=False)]) == 0


def test_weeks_rostered_from_the_last_resort_start_are_named_in_the_manifest_and_warnings(
        monkeypatch):
    """Where no band model of the week finds rosters (CP-SAT made to end UNKNOWN on both of
    its tries) and no adviser-level model replaces them, every group's rosters come from the
    start, every rule still holds, and the run says so: one warning per team, each team,
    contract and week in rosters.band_model_starts."""
    from ortools.sat.python import cp_model

    solve = cp_model.CpSolver.Solve

    def band_unknown(self, m, *a, **k):  # (the band model alone runs without presolve)
        if not self.parameters.cp_model_presolve:
            return cp_model.UNKNOWN
        return solve(self, m, *a, **k)

    monkeypatch.setattr(cp_model.CpSolver, "Solve", band_unknown)
    from staffing.rosters import builder

    monkeypatch.setattr(builder, "EXACT_MAX_ADVISERS", 0)  # (no adviser-level model after)
    sc = scenario.load()
    plan = allocation.optimise(sc, allocation.Options(weeks=1, workers=1, rosters=True))
    groups = sorted(sc.providers.index[sc.providers["kind"] == "inhouse"])
    monday = pd.Timestamp(sc.start)
    assert plan.manifest["rosters"]["band_model_starts"] == [
        {"team": g, "contract": "full-time", "week_start": monday.date().isoformat()}
        for g in groups]
    said = [w for w in plan.warnings if w.startswith("rosters: CP-SAT found no rosters")]
    assert [w.split()[6] for w in said] == groups
    assert all("in 1 week (first 2009-03-02)" in w for w in said)
    r = plan.tables["rosters"]
    assert r["adviser"].nunique() == 3200
    assert violations(rows_of(r), monday, 1, RULES) == []


def test_a_run_whose_band_models_all_find_rosters_names_no_start(default_two_weeks):
    sc, plan = default_two_weeks
    assert plan.manifest["rosters"]["band_model_starts"] == []
    assert not any(w.startswith("rosters:") for w in plan.warnings)


def test_adviser_level_model_finds_the_nearest_rosters_when_none_meets_the_plan():
    """A plan asking 11 of 10 advisers on Monday (and 9 on Friday): no roster meets its counts,
    and the nearest one is 2 adviser-days away (Monday's extra shift worked on Friday
    instead); the model proves the first, then finds such rosters."""
    from staffing.rosters import builder
    from staffing.rosters.rules import Contract

    x = pd.DataFrame({"day": [0, 1, 2, 3, 4], "plateau": "fixed", "start_min": 480,
                      "end_min": 960, "break_start_min": 720, "paid_hours": 7.0,
                      "advisers": [11.0, 10.0, 10.0, 10.0, 9.0]})
    advisers = [f"a{i}" for i in range(10)]
    states = {a: builder.AdviserState() for a in advisers}
    contract = Contract(id="full-time", paid_hours=(7.0,), days=(5,), hours=(35.0,))
    got = builder._solve_week_exact(advisers, states, x, contract, WorkingRules(),
                                    list(range(7)), 60)
    rows = builder._deal_exact(x, got)
    assert builder._deviation(x, rows) == 2
    assert len(rows) == 50 and len({(r[0], r[1]) for r in rows}) == 50


def test_a_re_solve_whose_rosters_cannot_serve_a_days_callbacks_reports_them_short():
    """A re-solve from rosters (plan.refit_week) with the in-house shifts fixed: where no agent
    is there to serve a plateau-day's callbacks (each served that day), the week's model has
    no solution; the re-solve then prices that work as deficit past the need (model.build's
    spill) instead of failing. Here the default's first week with the expert plateau's
    Wednesday shifts moved to `pro` (same teams, times and hours): no in-house team is left
    on expert, and no subcontractor serves it, so its deficit that day is its whole need
    plus its callback work, and no other row is short."""
    from staffing.allocation.options import Deadline
    from staffing.rosters import plan as roster_plan

    sc = scenario.load()
    opts = allocation.Options(weeks=1, workers=1, rosters=True).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    week = req[req["week"] == 0]
    r = allocation._solve_weeks(sc, opts, [week], Deadline.after(600), None)[0]
    wed = r.x["date"].min() + pd.Timedelta(days=2)
    expert_wed = (r.x["plateau"] == "expert") & (r.x["date"] == wed)
    assert r.x.loc[expert_wed, "advisers"].sum() > 0
    x = r.x.assign(plateau=r.x["plateau"].where(~expert_wed, "pro"))
    counts: dict = {}
    for g, p, d, s, b, h, n in x[["group", "plateau", "date", "start_min", "break_start_min",
                                  "paid_hours", "advisers"]].itertuples(index=False):
        key = (g, p, pd.Timestamp(d), int(s), -1 if pd.isna(b) else int(b), float(h))
        counts[key] = counts.get(key, 0.0) + float(n)
    new = roster_plan.refit_week(sc, opts, week, 0, counts, r.lp_bound)
    rows = week.reset_index(drop=True)
    on = ((rows["plateau"] == "expert") & (rows["date"] == wed)).to_numpy()
    need, work = rows["agents"].to_numpy(float), rows["callback_agents"].to_numpy(float)
    assert new.status == "optimal" and work[on].sum() > 0
    assert new.u[on].sum() == pytest.approx(need[on].sum() + work[on].sum(), rel=1e-6)
    assert (new.u[on] > need[on] + 1e-6).any()  # past the need: callbacks nobody serves
    assert new.u[~on].sum() == pytest.approx(0.0, abs=1e-6)


# fr-montigny's week of Monday 2009-03-16 in a year whose plan asks for 60 advisers on Thursday
# (day, plateau, start, end, break start, advisers), the advisers' states at its start
# (run, last end in minutes from Monday 00:00, Sundays worked), each adviser's in turn, and
# next week's first days (builder._lead_need)
SPRING_WEEK = [(0, "expert", 480, 960, 750, 21), (0, "expert", 510, 990, 720, 9),
               (0, "expert", 570, 1050, 840, 6), (0, "pro", 690, 1170, 840, 17),
               (1, "expert", 540, 1020, 690, 2), (1, "expert", 660, 1140, 900, 7),
               (1, "pro", 840, 1320, 1080, 44), (2, "pro", 690, 1170, 960, 57),
               (2, "pro", 720, 1200, 930, 3), (3, "pro", 480, 960, 660, 60),
               (4, "expert", 480, 960, 690, 17), (4, "pro", 540, 1020, 780, 26),
               (4, "pro", 810, 1290, 1080, 14), (4, "pro", 840, 1320, 1110, 3),
               (5, "pro", 840, 1320, 990, 7), (6, "expert", 840, 1320, 990, 7)]
SPRING_STATES = [(0, -3030, (False, False, False)), (0, -3300, (False, False, False)),
                 (0, -3000, (False, False, False)), (0, -3360, (False, False, False)),
                 (5, -120, (False, True, True)), (1, -120, (False, True, True)),
                 (0, -1560, (False, False, False))]
SPRING_ADVISERS = "010213100331033111304131105113630141411331411021143120341100"  # their states
SPRING_AHEAD = {1: 53, 2: 46, 3: 46, 4: 46, 5: 46,
                "starts": np.repeat([480, 510, 570, 690], [21, 9, 6, 17])}


def test_adviser_level_model_proves_two_days_off_in_a_row_for_every_adviser():
    """The adviser-level model's last phase (two days off in a row) on fr-montigny's week of
    2009-03-16 (SPRING_WEEK): rosters exist with the plan's count of every day and shift in
    which each of the 60 advisers has two days off in a row, and the phase finds them within
    its limit (with the default linear relaxation it stopped at the limit with 4 advisers
    without). Every rule holds from the advisers' states."""
    from staffing.rosters import builder
    from staffing.rosters.rules import Contract

    monday = pd.Timestamp("2009-03-16")
    x = _plan_rows(SPRING_WEEK, monday)
    states = {f"a{i:02d}": builder.AdviserState(*SPRING_STATES[int(k)])
              for i, k in enumerate(SPRING_ADVISERS)}
    advisers = list(states)
    contract = Contract(id="full-time", paid_hours=(7.0,), days=(5,), hours=(35.0,))
    got = builder._solve_week_exact(advisers, states, x, contract, WorkingRules(),
                                    list(range(7)), 60, ahead=SPRING_AHEAD)
    rows = builder._deal_exact(x, got)
    assert builder._deviation(x, rows) == 0 and len(rows) == 300
    worked: dict = {}
    for a, d, *_ in rows:
        worked.setdefault(a, set()).add(d)
    assert all(any(d not in days and d + 1 not in days for d in range(6))
               for days in worked.values()) and len(worked) == 60
    t0 = monday.to_pydatetime()
    at = lambda d, m: t0 + dt.timedelta(days=d, minutes=m)  # noqa: E731
    lines = [{"adviser": a, "shift_start": at(d, s), "shift_end": at(d, e),
              "break_start": at(d, b), "break_end": at(d, b + 60), "paid_hours": p}
             for a, d, s, e, b, _, p in rows]
    past = {a: (at(0, st.last_end), st.run, sum(st.sundays)) for a, st in states.items()}
    assert violations(lines, monday.date(), 1, RULES, past) == []
