"""Rosters across week boundaries: a week's plan keeps what the previous week's rosters leave
(daily rest after Sunday's late shifts, days in a row, Sundays), re-solves keep to the run's
deadline, and the Sunday limit counts the Sundays worked before the horizon. Every rule is
read by tests/roster_rules.py (an independent reading), coverage from the run's tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import small_scenario as ss
from roster_rules import violations, rows_of
from staffing import allocation, scenario
from staffing.allocation.options import Deadline
from staffing.cli import main
from staffing.rosters import check, plan as roster_plan
from staffing.rosters.rules import WorkingRules

START = dt.date(2009, 3, 2)



def _read(run: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    r = pd.read_csv(run / "rosters.csv", parse_dates=["date", "shift_start", "shift_end",
                                                       "break_start", "break_end"])
    cov = pd.read_csv(run / "coverage.csv")
    return r, cov, json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def _boundary_model(root: Path, rules: str = "", state: str | None = None,
                    weeks: int = 3) -> Path:
    """Three weeks (or `weeks`), two teams: t1 (10 advisers, plateaux p, q) and t2 (12, plateaux p, r), no
    subcontractor, open 07:00-23:00 every day. Sundays of weeks 1 and 2: a late peak on q
    (t1 only; every Sunday but the last with more weeks); the next Mondays: an early peak
    on p and a late one on r (t2 only). Each
    week alone can put t1 on Monday's early peak; after Sunday's late shifts most of t1 may
    not start before 10:00, so the early peak must go to t2."""
    provs = [dict(id="t1", kind="inhouse", site="A", plateaux="p;q", cost_eur_per_hour=50,
                  headcount=10, shrinkage=0.0, aht_factor=1.0),
             dict(id="t2", kind="inhouse", site="B", plateaux="p;r", cost_eur_per_hour=50,
                  headcount=12, shrinkage=0.0, aht_factor=1.0)]
    fc = []
    for d in range(7 * weeks):
        day = START + dt.timedelta(days=d)
        for j in range(32):  # 07:00 .. 22:30
            m = 7 * 60 + 30 * j
            t = f"{day} {m // 60:02d}:{m % 60:02d}"
            monday, sunday = d % 7 == 0 and d > 0, d % 7 == 6 and d < 7 * (weeks - 1)
            p = 15.0 if monday and m < 10 * 60 else 8.0
            q = 18.0 if sunday and m >= 16 * 60 else 0.0
            r = 12.0 if monday and m >= 16 * 60 else 0.0
            fc += [("p", t, p, 300.0), ("q", t, q, 300.0), ("r", t, r, 300.0)]
    plateaux = [{"id": x, "annual_calls": 1000000, "aht_s": 300, "callback_share": 0,
                 "long_call_aht_s": 2400} for x in "pqr"]
    model = ss.write(root, providers=provs, forecast=fc, plateaux=plateaux,
                     opening={"default": ["07:00", "23:00"]}, weeks=weeks,
                     shifts={"paid_hours": [7.0], "unpaid_break_minutes": 60,
                             "break_after_hours": 6, "start_step_minutes": 30,
                             "weekly_hours": 35.0, "days_per_week": 5})
    text = model.read_text(encoding="utf-8")
    if rules:
        text += "\n[rules]\n" + rules
    if state is not None:
        (model.parent / "state.csv").write_text(state, encoding="utf-8")
        text = text.replace("[inputs]\n", '[inputs]\nroster_state = "state.csv"\n')
    model.write_text(text, encoding="utf-8")
    return model


def _assert_legal_and_covered(run: Path, weeks: int, rules: dict, state=None) -> dict:
    r, cov, manifest = _read(run)
    assert violations(rows_of(r), pd.Timestamp(manifest["options"]["start"]).date(), weeks, rules,
                      state) == []
    assert (cov["answering_agents"] >= cov["required_agents"] - 1e-9).all()
    assert manifest["shortfall_share"] == 0.0
    return manifest


def test_christmas_2009_week_boundary_is_kept_and_covered(tmp_path, capsys):
    # the expert cell's Monday 28 Dec early shifts after Sunday 27 Dec late ones: the pro
    # plateau (no subcontractor) was 1.4-1.6 agents short 08:00-10:30 (exit 3)
    run = tmp_path / "xmas"
    code = main(["optimise", "--start", "2009-12-21", "--weeks", "2", "--out", str(run)])
    assert code == 0, capsys.readouterr().err
    manifest = _assert_legal_and_covered(run, 2, dataclasses.asdict(WorkingRules()))
    # the price of legality stays small: within 0.5 % of the rule-free LP bound
    assert manifest["gap"] <= 0.005


def test_three_weeks_of_shifting_peaks_across_week_boundaries(tmp_path, capsys):
    model = _boundary_model(tmp_path / "m")
    free = tmp_path / "free"
    assert main(["optimise", str(model), "--no-rosters", "--out", str(free)]) == 0
    run = tmp_path / "run"
    assert main(["optimise", str(model), "--out", str(run)]) == 0, capsys.readouterr().err
    manifest = _assert_legal_and_covered(run, 3, dataclasses.asdict(WorkingRules()))
    r = _read(run)[0]
    # Monday's 07:00 peak is staffed by advisers rested since Sunday: the peak went to t2
    for monday in ("2009-03-09", "2009-03-16"):
        early = r[(r["shift_start"] == pd.Timestamp(f"{monday} 07:00"))]
        sunday = pd.Timestamp(monday) - pd.Timedelta(days=1)
        late = set(r[(r["date"] == sunday) & (r["shift_end"].dt.hour >= 21)]["adviser"])
        assert len(early) >= 5 and not set(early["adviser"]) & late
    free_cost = json.loads((free / "manifest.json").read_text(encoding="utf-8"))["objective_eur"]
    assert manifest["objective_eur"] <= free_cost * 1.005


def test_five_weeks_of_shifting_peaks_rostered_week_by_week(tmp_path, capsys):
    """Weeks are rostered one at a time from the states the week before leaves, re-planned
    weeks again: the horizon stays legal across every week's edge, every Monday peak is
    staffed by advisers rested since Sunday, and nothing is short."""
    model = _boundary_model(tmp_path / "m", weeks=5)
    run = tmp_path / "run"
    assert main(["optimise", str(model), "--out", str(run)]) == 0, capsys.readouterr().err
    _assert_legal_and_covered(run, 5, dataclasses.asdict(WorkingRules()))
    r = _read(run)[0]
    assert r.groupby("adviser")["paid_hours"].sum().eq(5 * 35.0).all()
    for week in range(1, 5):
        monday = pd.Timestamp(START) + pd.Timedelta(days=7 * week)
        early = r[r["shift_start"] == monday + pd.Timedelta(hours=7)]
        late = set(r[(r["date"] == monday - pd.Timedelta(days=1))
                     & (r["shift_end"].dt.hour >= 21)]["adviser"])
        assert len(early) >= 5 and not set(early["adviser"]) & late


def test_a_passed_deadline_stops_the_re_solves_and_says_so(tmp_path):
    sc = scenario.load(_boundary_model(tmp_path / "m"))
    opts = allocation.Options(rosters=True).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    weeks = [req[req["week"] == w] for w in range(opts.weeks)]
    results = allocation._solve_weeks(sc, opts, weeks, Deadline.after(600), None)
    assert allocation.combined_status(r.status for r in results) != "time_limit"
    passed = Deadline(time.time() - 1.0)
    # a re-solve gets no minimum of its own past the deadline: nothing is solved
    t0 = time.perf_counter()
    assert roster_plan.refit_week(sc, opts, weeks[1], 1, {}, None, passed) is None
    assert time.perf_counter() - t0 < 5.0  # (no LP was built and solved: not a timing test)
    rosters, out, refit, starts = roster_plan.attach(sc, opts, req, results, passed)
    assert refit == [] and starts == []
    # the weeks whose rosters needed a re-solve keep them, status time_limit, gap as deficit
    stopped = [r for r in out if r.status == "time_limit"]
    assert stopped and allocation.combined_status(r.status for r in out) == "time_limit"
    assert sum(float(r.u.sum()) for r in stopped) > 0
    assert violations(rows_of(rosters), START, 3, dataclasses.asdict(WorkingRules())) == []


SUNDAY_RULES = "max_sundays_per_4_weeks = 3\n"
# t1-0001 and t1-0002 worked the three Sundays before the horizon
SUNDAY_STATE = ("adviser,last_shift_end,days_in_a_row,sundays_worked\n"
                "t1-0001,2009-03-01 15:00,1,3\nt1-0002,2009-03-01 16:00,2,3\n")


def test_sundays_before_the_horizon_are_kept_and_checked(tmp_path, capsys):
    model = _boundary_model(tmp_path / "m", SUNDAY_RULES, SUNDAY_STATE)
    run = tmp_path / "run"
    assert main(["optimise", str(model), "--out", str(run)]) == 0, capsys.readouterr().err
    rules = dataclasses.replace(WorkingRules(), max_sundays_per_4_weeks=3)
    state = {"t1-0001": (dt.datetime(2009, 3, 1, 15), 1, 3),
             "t1-0002": (dt.datetime(2009, 3, 1, 16), 2, 3)}
    _assert_legal_and_covered(run, 3, dataclasses.asdict(rules), state)
    r = _read(run)[0]
    suns = r[r["date"].dt.day_of_week == 6]
    # three Sundays before: none in the first week (window -3..0), two at most after
    assert (suns["date"] == pd.Timestamp("2009-03-08")).sum() >= 7  # (the Sunday peak on q)
    for a in state:
        mine = suns[suns["adviser"] == a]
        assert not (mine["date"] < pd.Timestamp("2009-03-09")).any() and len(mine) <= 2
    # an injected Sunday in week 1 for t1-0001 breaks the limit with the state, not without
    extra = r[r["adviser"] == "t1-0003"].iloc[[0]].copy()
    extra["adviser"] = "t1-0001"
    shift = pd.Timestamp("2009-03-08") - extra["date"].iloc[0]
    for c in ("date", "shift_start", "shift_end", "break_start", "break_end"):
        extra[c] = extra[c] + shift
    edited = pd.concat([r[~((r["adviser"] == "t1-0001") & (r["date"] == pd.Timestamp(
        "2009-03-08")))], extra], ignore_index=True)
    st = pd.DataFrame([(a, pd.Timestamp(e), n, k) for a, (e, n, k) in state.items()],
                      columns=["adviser", "last_shift_end", "days_in_a_row", "sundays_worked"])
    v = check.check_rosters(edited, rules, START, 3, state=st)
    sun = v[v["rule"] == "sundays"]
    assert list(sun["adviser"]) == ["t1-0001"] and sun["excess"].iloc[0] == 1.0
    assert check.check_rosters(edited, rules, START, 3)["rule"].ne("sundays").all()
    assert ("t1-0001", "sundays") in violations(rows_of(edited), START, 3,
                                                dataclasses.asdict(rules), state)
    assert ("t1-0001", "sundays") not in violations(rows_of(edited), START, 3,
                                                    dataclasses.asdict(rules))
    # and `staffing check` reads the state from the run's manifest
    edited[list(r.columns)].to_csv(run / "rosters.csv", index=False)
    for f in run.glob("*.parquet"):
        f.unlink()
    capsys.readouterr()
    assert main(["check", str(run)]) == 3
    assert "t1-0001 2009-03-02 sundays" in capsys.readouterr().out


# --- the carry with contracts and named advisers: limits per group, patterns per leave class

def _advisers_variant(folder) -> str:
    """The default scenario with Montigny's 60 advisers named: 10 expert-only, 10 pro-only,
    30 full-time on both, 10 part-time (4 days of 7 h); m-001 away Tue-Thu of the first week
    of 2 Mar 2009, m-055 away on Monday 28 Dec 2009."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["id,team,contract,skills,unavailable"]
    away = {1: "2009-03-03..2009-03-05", 55: "2009-12-28"}
    for i in range(1, 61):
        contract = "full-time" if i <= 50 else "pt"
        skills = "expert" if i <= 10 else ("pro" if i <= 20 else "")
        rows.append(f"m-{i:03d},fr-montigny,{contract},{skills},\"{away.get(i, '')}\"")
    (folder / "advisers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    base = scenario.packaged_models_dir() / "orange-2009.toml"
    path = folder / "variant.toml"
    path.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n[inputs]\n'
                    'advisers = "advisers.csv"\n[contracts.pt]\npaid_hours = [7.0]\n'
                    'days_per_week = 4\nweekly_hours = 28\n', encoding="utf-8")
    return str(path)


def test_patterns_and_carried_limits_are_per_group_and_leave_class(tmp_path):
    from staffing.allocation import model as model_mod
    from staffing.rosters import carry
    from staffing.rosters.builder import AdviserState

    sc = scenario.load(_advisers_variant(tmp_path / "m"))
    opts = allocation.Options(rosters=True, start=START, weeks=1).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    m = model_mod.build(sc, opts, req[req["week"] == 0].reset_index(drop=True), 0)
    tours = m.prob._staffing_tours
    assert set(tours) == set(m.groups)
    expert = "fr-montigny__full-time__expert"
    by_size: dict = {}
    for dates, _ in tours[expert]:
        by_size.setdefault(len(dates), []).append(dates)
    # 9 advisers on 5 of 7 days, m-001's class on 2 of the 4 dates not away: C(7,5), C(4,2)
    away = {pd.Timestamp(f"2009-03-0{d}") for d in (3, 4, 5)}
    assert len(by_size[5]) == 21 and len(by_size[2]) == 6 and set(by_size) == {2, 5}
    assert not any(d & away for d in by_size[2])
    assert len({ds for ds in by_size[5]}) == 21
    # the expert group's ten advisers ended at 23:00 on Sunday: none may start before 10:00
    # on Monday; the other groups carry nothing
    states = {f"m-{i:03d}": AdviserState(1, -60) for i in range(1, 11)}
    carry.add_limits(m, {expert: states}, WorkingRules(), START, 0)
    mine = {v.name for (_, _, _, _, v), g in zip(m.x, m.x_group) if g == expert}
    m.prob.materialise()  # (the rows as PuLP constraints, to read them)
    rows = {n: c for n, c in m.prob.constraints.items() if n.startswith("carry_")}
    assert rows
    for c in rows.values():
        xs = {v.name for v in c if not v.name.startswith("carry_")}
        assert xs <= mine and c.constant == 0  # sum of those shifts <= 0 advisers (+ slack)
    starts = {pat.start_min for (_, _, d, pat, v), g in zip(m.x, m.x_group)
              if g == expert and pd.Timestamp(d) == pd.Timestamp(START)}
    assert len(rows) == len([s for s in starts if s < 600])  # 23:00 + 11 h of daily rest
    # teams that may take over a group's shifts: those serving its skills
    assert carry.sharing(sc, {"fr-montigny__full-time__pro"}) == {"fr-montigny", "fr-nancy"}
    assert carry.sharing(sc, {"fr-lyon"}) == {"fr-lille", "fr-lyon", "fr-rennes"}


@pytest.fixture(scope="module")
def named_christmas(tmp_path_factory):
    base = tmp_path_factory.mktemp("named")
    run = base / "run"
    code = main(["optimise", _advisers_variant(base / "m"), "--start", "2009-12-21",
                 "--weeks", "2", "--out", str(run)])
    return code, run


def test_christmas_2009_with_named_advisers_keeps_every_rule_and_contract(named_christmas):
    from roster_rules import contract_violations

    code, run = named_christmas
    assert code in (0, 3)  # 3: see the xfail below (a plan shortfall on iptv, not Montigny)
    r, cov, manifest = _read(run)
    assert violations(rows_of(r), dt.date(2009, 12, 21), 2,
                      dataclasses.asdict(WorkingRules())) == []
    # the expert cell's plateaux are covered, and week 2 was planned again under the carried
    # limits of Montigny's groups (no re-solve of outsourced capacity left to do)
    mine_cov = cov[cov["plateau"].isin(["expert", "pro"])]
    assert (mine_cov["answering_agents"] >= mine_cov["required_agents"] - 1e-9).all()
    assert manifest["rosters"]["weeks_resolved_from_rosters"] == []
    mine = r[r["team"] == "fr-montigny"]
    assert set(mine["adviser"]) <= {f"m-{i:03d}" for i in range(1, 61)}
    assert not ((mine["adviser"] == "m-055") & (mine["date"] == pd.Timestamp("2009-12-28"))).any()
    skills = {f"m-{i:03d}": ("expert" if i <= 10 else "pro") for i in range(1, 21)}
    assert all(skills.get(a, p) == p for a, p in zip(mine["adviser"], mine["plateau"]))
    members = {f"m-{i:03d}": "full-time" if i <= 50 else "pt" for i in range(1, 61)}
    contracts = {"full-time": {"paid_hours": [7.0], "days_per_week": 5, "weekly_hours": 35},
                 "pt": {"paid_hours": [7.0], "days_per_week": 4, "weekly_hours": 28}}
    # days paid, not worked: the days the calendar closes each week (the manifest's), and
    # m-055's Monday 28 Dec (week 2), at most the contract's days
    closed = manifest["rosters"]["paid_days_off"]
    days_off = {(a, w): min(closed[w] + (a == "m-055" and w == 1),
                            contracts[c]["days_per_week"])
                for a, c in members.items() for w in range(2)}
    assert contract_violations(rows_of(mine), dt.date(2009, 12, 21), 2, contracts, members,
                               days_off) == []
    assert manifest["gap"] <= 0.005


def test_christmas_2009_with_named_advisers_has_no_shortfall(named_christmas):
    code, run = named_christmas
    _, cov, manifest = _read(run)
    assert code == 0 and manifest["shortfall_share"] == 0.0
    assert (cov["answering_agents"] >= cov["required_agents"] - 1e-9).all()


def test_christmas_2009_contracts_plan_keeps_the_lp_service_when_within_the_gap():
    """Rounding the plan of 21-27 Dec 2009 (contracts variant, rosters on) once left 0.35
    agent short on iptv Mon 11:00 that the LP covered: the plan was within --gap of the bound,
    so no repair ran, and the run failed its no-shortfall rule (exit 3). The rounded plan
    must keep every plateau-day at the LP's deficit (here none), gap or not."""
    from staffing.allocation import rounding, solve as solve_mod

    sc = scenario.load("orange-2009-contracts")
    opts = allocation.Options(rosters=True, start=dt.date(2009, 12, 21), weeks=1).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    lp_deficit = []
    real = solve_mod.rounded_plan

    def spy(m, *args):
        lp_deficit.append(float(rounding.u_values(m).sum()))
        return real(m, *args)

    solve_mod.rounded_plan, saved = spy, solve_mod.rounded_plan
    try:
        m, solved = solve_mod.solve_week(sc, opts, req[req["week"] == 0], 0, Deadline())
    finally:
        solve_mod.rounded_plan = saved
    assert lp_deficit == [0.0]
    assert rounding.u_values(m).max() <= 1e-6
    # independent of the model's deficit variables: the plan's agents cover every row
    staffed = rounding.staffed(m, np.array([v.varValue for *_, v in m.z], dtype=float))
    assert (staffed >= np.asarray(m.need, dtype=float) - 1e-6).all()
    assert solved.objective <= solved.bound * (1 + opts.gap)


def _states_by_lines(rosters: pd.DataFrame, advisers, t0, week: int, before: dict) -> dict:
    """AdviserState at week `week`'s start read line by line (the rules' own definitions)."""
    from staffing.rosters.builder import DAY, NO_PAST, AdviserState

    t = pd.Timestamp(t0) + pd.Timedelta(days=7 * week)
    out = {}
    for a in advisers:
        mine = rosters[(rosters["adviser"] == a) & (rosters["date"] < t)
                       & (rosters["date"] >= t - pd.Timedelta(days=28))]
        days = {(d - t).days for d in mine["date"]}
        p = before.get(a, AdviserState())
        run = 0
        while -(run + 1) in days:
            run += 1
        if run == 7 * week:
            run += p.run
        if len(mine):
            end = int((mine["shift_end"].max() - t) / pd.Timedelta(minutes=1))
        else:
            end = NO_PAST if 7 * week > 28 else max(p.last_end - 7 * week * DAY, NO_PAST)
        suns = tuple((-7 * i + 6 in days) if week - i >= 0 else p.sundays[3 + week - i]
                     for i in (3, 2, 1))
        out[a] = AdviserState(run, end, suns)
    return out


def test_states_at_matches_a_line_by_line_reading():
    """carry.states_at (arrays over the whole table), and carry.states_from_marks (the
    weeks' carry.week_marks, as the rosters pass keeps them), equal the rules read line by
    line for advisers with random shifts over six weeks, pre-horizon states included, at
    every week."""
    from staffing.rosters import carry
    from staffing.rosters.builder import AdviserState

    rng = np.random.default_rng(7)
    t0 = pd.Timestamp(START)
    rows = []
    for i in range(40):
        for d in range(42):
            if rng.random() < (1.0 if i < 4 else 0.7):  # four advisers work every day
                s = int(rng.integers(6 * 60, 20 * 60))
                date = t0 + pd.Timedelta(days=d)
                rows.append((f"a{i:02d}", date, date + pd.Timedelta(minutes=s),
                             date + pd.Timedelta(minutes=s + int(rng.integers(180, 600)))))
    r = pd.DataFrame(rows, columns=["adviser", "date", "shift_start", "shift_end"])
    before = {f"a{i:02d}": AdviserState(int(rng.integers(0, 6)), -int(rng.integers(0, 2000)),
                                        tuple(bool(b) for b in rng.integers(0, 2, 3)))
              for i in range(0, 40, 3)}
    advisers = [f"a{i:02d}" for i in range(40)] + ["nobody"]
    # as the rosters pass holds them: ids categorical, with categories no line uses and ids
    # of lines that are none of the advisers asked for
    held = r.assign(adviser=r["adviser"].astype(pd.CategoricalDtype(
        ["zz"] + advisers + ["a99"])))
    held.loc[held.index[::50], "adviser"] = "zz"
    for week in range(7):
        got = carry.states_at(r, advisers, t0, week, before)
        assert got == _states_by_lines(r, advisers, t0, week, before), week
        expected = _states_by_lines(held.astype({"adviser": str}), advisers, t0, week, before)
        assert carry.states_at(held, advisers, t0, week, before) == expected, week
        assert carry.states_at(held, advisers[::-1], t0, week, before) == expected, week
        # the same lines a frame per week
        weeks = [g for _, g in held.groupby((held["date"] - t0).dt.days // 7)]
        assert carry.states_at(weeks, advisers, t0, week, before) == expected, week
        # as the rosters pass keeps them: each week's marks (every week before this one,
        # those beyond the rules' reach included)
        marks = [(v, carry.week_marks(g, advisers, t0 + pd.Timedelta(days=7 * v)))
                 for v, g in enumerate(weeks[:week])]
        assert carry.states_from_marks(marks, advisers, week, before) == expected, week
        assert carry.states_from_marks(marks[-4:], advisers, week, before) == expected, week
    assert got["a00"].run == 28 and got["nobody"] == AdviserState(
        0, carry.NO_PAST, (False, False, False))
    assert all(type(s.run) is int and type(s.last_end) is int
               and all(type(b) is bool for b in s.sundays) for s in got.values())


def test_team_rosters_record_each_groups_cost_and_order_by_it_without_changing_them(tmp_path):
    """team_rosters keeps each group's last job CPU (its next call starts the dearest first);
    the order the jobs run in changes no roster."""
    from staffing.rosters.contracts import groups

    sc = scenario.load(_boundary_model(tmp_path / "m"))
    opts = allocation.Options(rosters=True, workers=2).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    results = allocation._solve_weeks(sc, opts, [req[req["week"] == w] for w in range(3)],
                                      Deadline.after(600), None)
    cost: dict = {}
    first = roster_plan.team_rosters(sc, opts, results, cost=cost)
    assert set(cost) == {g.key for g in groups(sc)} and all(c > 0 for c in cost.values())
    cost = {k: (100.0 if i else 0.001) for i, k in enumerate(sorted(cost))}  # reversed order
    again = roster_plan.team_rosters(sc, opts, results, cost=cost)
    assert sorted(first) == sorted(again)
    for team in first:
        pd.testing.assert_frame_equal(first[team], again[team])
        assert "job_cpu_s" not in again[team].attrs


def test_groups_run_ahead_in_lanes_and_change_nothing(monkeypatch):
    """In the rosters pass each group's next week starts as soon as its own week ends, up to
    plan.AHEAD_WEEKS past the week being decided (`plan._Lanes`); a re-planned week's groups
    rostered again have their later weeks dropped and run again. The rosters, plans and
    re-solves are those of the pass run one week at a time (one worker). The default
    scenario's first eight weeks: week index 6 has a short group, is re-planned (leaving room
    for week 7's plan) and its teams rostered again. Four runs: one worker; two workers; jobs
    run at once in this process as they are given to the pool, the lanes made to run past
    short weeks too (as they do while a related group's states are not known yet): the
    re-rostered groups' later weeks are then dropped and run again; and jobs run at once
    with the lanes as they are: the groups' states at week 6 are known before week 6 is
    decided, so its re-plan starts then (`_Lanes._speculate`) and is the one taken."""
    from concurrent.futures import Future

    from staffing import parallel
    from staffing.rosters import carry

    sc = scenario.load()
    weeks = 8
    got = {}
    for run in ("one worker", "two workers", "at once", "at once, ahead"):
        opts = allocation.Options(rosters=True, workers=1 if run == "one worker" else 2,
                                  weeks=weeks).resolved(sc)
        _, req = allocation._weekly_requirements(sc, opts)
        results = allocation._solve_weeks(sc, opts, [req[req["week"] == w]
                                                     for w in range(weeks)],
                                          Deadline.after(6000), None)
        short_weeks, jobs, submit = set(), [], parallel.submit
        shortfall, replan, begin = carry.shortfall, carry.replan_week, roster_plan._Lanes.begin
        deciding, replanned, submitted = [None], [], []

        def counted_shortfall(x, states, rules, week_start):
            n = shortfall(x, states, rules, week_start)
            if n:
                short_weeks.add((pd.Timestamp(week_start) - pd.Timestamp(opts.start)).days // 7)
            return n

        def watched_begin(self, week, *a, **k):
            deciding[0] = week
            begin(self, week, *a, **k)
            while run.startswith("at once") and self.running:  # lanes as far as they go
                self._step()

        def recorded(func, job):
            if func is roster_plan._team_job:
                week = (pd.Timestamp(job[5]) - pd.Timestamp(opts.start)).days // 7
                jobs.append((deciding[0], week, job[0]))
            if func is roster_plan._replan_job:
                submitted.append((deciding[0], job[3].week))
                if run == "two workers":  # (in a worker)
                    replanned.append(job[3].week)
            if not run.startswith("at once"):
                return submit(func, job)
            f = Future()
            f.set_result(func(job))
            return f

        def counted_replan(scenario_, opts_, req_, r, *a, **k):
            replanned.append(r.week)
            return replan(scenario_, opts_, req_, r, *a, **k)

        with monkeypatch.context() as m:
            m.setattr(carry, "shortfall", counted_shortfall)
            m.setattr(carry, "replan_week", counted_replan)
            m.setattr(roster_plan._Lanes, "begin", watched_begin)
            m.setattr(parallel, "submit", recorded)
            if run == "at once":
                m.setattr(roster_plan._Lanes, "_is_short", lambda self, k, w: False)
            rosters, out, refit, starts = roster_plan.attach(sc, opts, req, results,
                                                             Deadline.after(6000))
        got[run] = (rosters, out, refit, short_weeks, jobs, replanned, submitted)
    r1, o1, f1, short1, jobs1, p1, _ = got["one worker"]
    assert short1 == {6} and p1 == [6] and jobs1 == []  # (no pool: its jobs run together)
    groups = {f"fr-{t}" for t in ("lille", "lyon", "bordeaux", "rennes", "nancy", "montigny")}
    # ahead: week 6's re-plan started once, while an earlier week was decided, and was taken
    (deciding, week), = got["at once, ahead"][6]
    assert week == 6 and deciding < 6 and got["at once, ahead"][5] == [6]
    for run in ("two workers", "at once", "at once, ahead"):
        r2, o2, f2, short2, jobs2, p2, _ = got[run]
        # the short week's re-plan starts in a worker beside the week's rosters, used as they
        # leave a gap (the lanes read ahead which groups are short: `short2` has week 6)
        assert 6 in short2 and p2 == [6], run
        assert all(0 <= w - now <= roster_plan.AHEAD_WEEKS for now, w, _ in jobs2), run
        again = [(w, g) for _, w, g in jobs2]
        assert {(w, g) for w, g in again} == {(w, g) for w in range(weeks) for g in groups}
        twice = sorted({x for x in again if again.count(x) > 1})
        held = sorted(g for (w, g) in twice if w == 6)
        assert held and all(again.count(x) == 2 for x in twice), run
        # at once, the held groups had run past week 6: those weeks ran again
        if run == "at once":
            assert any(w > 6 for w, _ in twice)
            assert all(g in held for _, g in twice)
        pd.testing.assert_frame_equal(r1, r2)
        assert f1 == f2
        for a, b in zip(o1, o2):
            pd.testing.assert_frame_equal(a.x, b.x)
            pd.testing.assert_frame_equal(a.z, b.z)


def _trailing_days(dates, week_start) -> int:
    """Days worked in a row up to the week's Sunday, read as a 7-letter string."""
    t = pd.Timestamp(week_start)
    word = "".join("x" if t + pd.Timedelta(days=i) in dates else "." for i in range(7))
    return len(word) - len(word.rstrip("x"))


def test_a_re_plan_leaves_room_for_the_next_weeks_first_days():
    """carry.add_limits with the next week's demand (`ahead`, builder._lead_need): per run
    length q, the patterns ending in more than max_days_in_a_row - q days in a row are at most
    H - L(q); per end time of this Sunday's shifts, those ending at or after it at most H less
    next Monday's starts within the daily rest of it. The default scenario's first week,
    planned again with a next week that needs all of fr-lyon's advisers on Monday to
    Wednesday from 08:00: every row is there, and the plan keeps them at no slack."""
    from staffing.allocation import model as model_mod, solve as solve_mod
    from staffing.rosters import builder, carry
    from staffing.rosters.builder import AdviserState

    sc = scenario.load()
    opts = allocation.Options(rosters=True, start=START, weeks=1).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    m = model_mod.build(sc, opts, req[req["week"] == 0].reset_index(drop=True), 0)
    rules = sc.rules or WorkingRules()
    lyon = next(k for k in m.groups if k.startswith("fr-lyon"))
    heads = int(round(float(m.groups[lyon][1])))
    nxt_monday = pd.Timestamp(START) + pd.Timedelta(days=7)
    nxt = pd.DataFrame({"date": [nxt_monday + pd.Timedelta(days=d) for d in range(3)],
                        "start_min": [480] * 3, "advisers": [heads] * 3})
    need = builder._lead_need(nxt, nxt_monday, heads)
    assert need[1] == need[2] == need[3] == heads and 4 not in need
    states = {f"a{i}": AdviserState() for i in range(heads)}  # (no limit carried in)
    carry.add_limits(m, {lyon: states}, rules, START, 0, {lyon: need})
    tours = dict((v.name, dates) for dates, v in m.prob._staffing_tours[lyon])
    sunday = {v.name: pat.end_min for (_, _, d, pat, v), g in zip(m.x, m.x_group)
              if g == lyon and pd.Timestamp(d) == pd.Timestamp(START) + pd.Timedelta(days=6)}
    m.prob.materialise()
    rows = {n: c for n, c in m.prob.constraints.items() if n.startswith("ahead_")}
    k = rules.max_days_in_a_row
    for q in (1, 2, 3):
        want = {n for n, ds in tours.items() if _trailing_days(ds, START) > k - q}
        c = next((c for n, c in rows.items() if n.endswith(f"_w0_run{q}")), None)
        assert (c is None) == (not want) and bool(want) == (q > 1)  # 5 days: a run of 5 at most
        if c is not None:
            assert {v.name for v in c if not v.name.startswith("ahead_")} == want
            assert -c.constant == heads - need[q]  # (0: no adviser may end so long a run)
    rest = rules.daily_rest_hours * 60
    mon = {n: c for n, c in rows.items() if "_mon" in n}
    assert mon  # (Sunday has shifts ending after 21:00)
    assert len(mon) == len({e for e in sunday.values() if 480 + 1440 - e < rest})
    for n, c in mon.items():
        theta = int(n.rsplit("mon", 1)[1])
        assert {v.name for v in c if v.name in sunday} == {
            x for x, e in sunday.items() if e >= theta}
        assert -c.constant == 0  # every adviser starts at 08:00 next Monday
    solve_mod.solve_model(m, sc, opts, Deadline.after(600), 0)
    slack = {v.name: v.varValue for v in m.prob.variables() if v.name.startswith("ahead_")}
    assert slack and max(slack.values()) < 1e-6
    ends = [e for x, e in sunday.items() if (m.prob.variablesDict()[x].varValue or 0) > 0.5]
    assert all(480 + 1440 - e >= rest for e in ends)  # Sunday's shifts all end by 21:00


def test_a_re_plan_started_ahead_is_taken_only_with_the_same_arguments():
    """plan._same_replan: a re-plan started before its week is decided is the week's only if
    it was given the same scenario, options, plan and deadline, and equal requirement rows,
    states, free teams and next week's plans."""
    from staffing.rosters.builder import AdviserState

    sc, opts, r, deadline = object(), object(), object(), object()
    req = pd.DataFrame({"week": [3, 3], "agents": [1.0, 2.0]})
    states = {"g": {"a1": AdviserState(2, -600, (False, True, False))}}
    after = {"g": pd.DataFrame({"advisers": [1.0]})}
    args = (sc, opts, req, r, states, deadline, {"t"}, after)
    same = (sc, opts, req.copy(), r, {"g": {"a1": AdviserState(2, -600, (False, True, False))}},
            deadline, {"t"}, {"g": after["g"].copy()})
    assert roster_plan._same_replan(args, same)
    assert not roster_plan._same_replan(None, same)
    for i, other in [(4, {"g": {"a1": AdviserState(3, -600, (False, True, False))}}),
                     (6, {"t", "u"}), (3, object()), (2, req.assign(agents=[1.0, 3.0])),
                     (7, None), (7, {"g": pd.DataFrame({"advisers": [2.0]})})]:
        changed = list(same)
        changed[i] = other
        assert not roster_plan._same_replan(args, tuple(changed)), i


def test_re_solves_after_advisers_move_plateaux_read_the_categorical_rosters_table():
    """After `rebalance`, the weeks are re-solved from the whole rosters table, whose text
    columns are categorical (plan.as_categories); with a contract mix, the group of a line is
    its team and contract joined (contracts.group_column), which failed on categories and
    stopped the contracts model's year. The re-solves from the table as it is equal those
    from the same lines as plain text."""
    sc = scenario.load("orange-2009-contracts")
    opts = allocation.Options(weeks=2, workers=1, rosters=True).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    weeks = [req[req["week"] == w] for w in range(opts.weeks)]
    results = allocation._solve_weeks(sc, opts, weeks, Deadline.after(600), None)
    rosters, results, _, _ = roster_plan.attach(sc, opts, req, results)
    text = ["adviser", "team", "contract", "plateau"]
    assert all(rosters[c].dtype == "category" for c in text)
    plain = rosters.astype({c: object for c in text})
    groups = roster_plan.group_column(sc, rosters)
    assert groups.equals(roster_plan.group_column(sc, plain))
    assert set(groups) == {g.key for g in roster_plan.contract_groups(sc)}
    as_text = {"group": object, "provider": object, "contract": object, "plateau": object}
    pd.testing.assert_frame_equal(roster_plan.shift_counts(rosters, sc).astype(as_text),
                                  roster_plan.shift_counts(plain, sc).astype(as_text))
    got = [roster_plan._refit_changed(sc, opts, req, results, r, {0, 1})
           for r in (rosters, plain)]
    assert got[0][1] == got[1][1]
    assert [r.objective for r in got[0][0]] == [r.objective for r in got[1][0]]
