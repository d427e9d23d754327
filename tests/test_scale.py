"""The year's fast paths give what the plain per-line computations give: rostered coverage
(rebalance), the tours and roster sheet summarised from the rosters."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pandas as pd
import pytest

from staffing.rosters import plan as roster_plan
from staffing.rosters import rebalance

START = pd.Timestamp("2009-03-02")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _rosters(seed: int = 3, advisers: int = 40, weeks: int = 2) -> pd.DataFrame:
    """Random roster lines: 30-minute grid starts from 06:00 to 20:30 (some crossing
    midnight), with or without a one-hour break, on two plateaux and two teams."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(advisers):
        team = "t1" if a % 3 else "t2"
        for day in sorted(rng.choice(7 * weeks, size=5 * weeks, replace=False)):
            date = START + pd.Timedelta(days=int(day))
            s = date + pd.Timedelta(minutes=int(rng.integers(12, 42)) * 30)
            span = int(rng.choice([4, 8, 16]))  # slots: 2 h, 4 h, 8 h
            e = s + pd.Timedelta(minutes=30 * span)
            brk = s + pd.Timedelta(minutes=30 * int(rng.integers(1, span))) if span > 4 else pd.NaT
            rows.append({"adviser": f"{team}-{a:04d}", "team": team, "contract": "c",
                         "date": date, "shift_start": s, "shift_end": e, "break_start": brk,
                         "break_end": brk + pd.Timedelta(hours=1) if pd.notna(brk) else pd.NaT,
                         "plateau": "p1" if rng.random() < 0.6 else "p2",
                         "paid_hours": float(span) / 2 - (1.0 if pd.notna(brk) else 0.0)})
    return pd.DataFrame(rows)


def _req(weeks: int = 2) -> pd.DataFrame:
    """Requirement rows 08:00-22:00 for p1, 10:00-20:00 for p2 (so some worked slots have no
    row), with a repeated 10:00 slot on one day (fold 1 of a clock change)."""
    rows = []
    for d in range(7 * weeks):
        date = START + pd.Timedelta(days=d)
        for p, (a, b) in (("p1", (16, 44)), ("p2", (20, 40))):
            for k in range(a, b):
                t = date + pd.Timedelta(minutes=30 * k)
                rows.append((t, 0, p, d // 7))
                if d == 3 and k == 20:
                    rows.append((t, 1, p, d // 7))
    return pd.DataFrame(rows, columns=["slot_start", "fold", "plateau", "week"])


@pytest.mark.parametrize("seed,chunk", [(1, 50_000), (2, 7), (3, 1)])
def test_rostered_coverage_equals_the_line_by_line_sum(seed, chunk, monkeypatch):
    monkeypatch.setattr(rebalance, "CHUNK_LINES", chunk)  # blocks of lines: any size
    rosters, req = _rosters(seed), _req()
    row_of: dict = {}
    for i, key in enumerate(zip(req["slot_start"], req["plateau"])):
        row_of.setdefault(key, i)
    eff = {"t1": 0.7, "t2": 0.65}
    want = np.zeros(len(req))
    for sh in rosters.itertuples():
        for i in rebalance._rows(sh, 30, row_of, sh.plateau):
            want[i] += eff[sh.team]
    got = rebalance._staffed(req, [], eff, 30, rosters, row_of)
    assert (got == want).all()  # the same sums in the same order: equal to the last bit
    assert want.sum() > 0 and (want == 0).any()


@pytest.mark.parametrize("seed", [1, 2, 6])
def test_roster_cover_counts_each_worked_slot_on_its_first_requirement_row(seed):
    """roster_cover: per requirement row and team, the advisers at work in that slot on that
    plateau (breaks out, slots without a row ignored, a repeated hour on its first row),
    counted line by line."""
    r = _rosters(seed)
    req = _req()
    first: dict = {}
    for i, key in enumerate(zip(req["slot_start"], req["plateau"])):
        first.setdefault(key, i)
    want: collections.Counter = collections.Counter()
    for x in r.itertuples(index=False):
        t = x.shift_start
        while t < x.shift_end:
            off = pd.notna(x.break_start) and x.break_start <= t < x.break_end
            if not off and (t, x.plateau) in first:
                want[(first[(t, x.plateau)], x.team)] += 1
            t += pd.Timedelta(minutes=30)
    got = roster_plan.roster_cover(req, r, 30)
    assert {(int(a), b): c for a, b, c in got.itertuples(index=False)} == dict(want)
    assert got.sort_values(["row", "provider"]).index.equals(got.index)  # in that order
    assert (got["agents"] > 0).all() and len(want) > 100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unique_rows_are_numpys_distinct_rows_with_their_first_place_and_count(seed):
    """roster_plan._unique_rows: the distinct rows of an integer array (NaT's smallest int64
    among them), each with its first row and how many rows equal it, as np.unique(axis=0)."""
    rng = np.random.default_rng(seed)
    key = rng.integers(-3, 3, size=(500, 4))
    key[rng.random(500) < 0.1, 2] = np.iinfo(np.int64).min  # a NaT break
    one, count = roster_plan._unique_rows(key)
    rows, first, n = np.unique(key, axis=0, return_index=True, return_counts=True)
    got = {tuple(key[i]): (int(i), int(c)) for i, c in zip(one, count)}
    assert got == {tuple(r): (int(i), int(c)) for r, i, c in zip(rows, first, n)}
    assert [tuple(key[i]) for i in one] == sorted(got)  # in numeric order
    assert count.sum() == len(key)
    e = roster_plan._unique_rows(key[:0])
    assert len(e[0]) == len(e[1]) == 0


def _tours_by_hand(r: pd.DataFrame) -> collections.Counter:
    """(week, team, day cells..., plateaux, paid hours) -> advisers, line by line."""
    per: dict = {}
    for x in r.itertuples(index=False):
        week = (x.date - START).days // 7 + 1
        cell = f"{x.shift_start:%H:%M}-{x.shift_end:%H:%M} {x.plateau}"
        got = per.setdefault((week, x.team, x.adviser), [dict(), set(), 0.0])
        got[0].setdefault(WEEKDAYS[x.date.day_of_week], cell)
        got[1].add(x.plateau)
        got[2] += x.paid_hours
    out: collections.Counter = collections.Counter()
    for (week, team, _), (cells, plats, paid) in per.items():
        out[(week, team, *[cells.get(d, "off") for d in WEEKDAYS], ";".join(sorted(plats)),
             paid)] += 1
    return out


@pytest.mark.parametrize("seed", [1, 4])
def test_tours_summarise_the_rosters_line_by_line(seed):
    r = _rosters(seed, advisers=60, weeks=3)
    t = roster_plan.tours_from_rosters(r, START, 3)
    got = collections.Counter()
    for x in t.itertuples(index=False):
        got[(x.week, x.provider, *[getattr(x, d) for d in WEEKDAYS], x.plateau,
             x.paid_hours)] += x.advisers
    assert got == _tours_by_hand(r)
    assert t["plateau"].str.contains(";").any()  # advisers on several plateaux in a week
    first = t.groupby(["week", "provider"])["tour"].first()
    assert (first == "T0001").all()


def test_roster_sheet_cells_are_the_lines_text():
    r = _rosters(5)
    sheet = roster_plan.roster_sheet(r).set_index("adviser")
    for x in r.sample(50, random_state=0).itertuples(index=False):
        assert sheet.at[x.adviser, f"{x.date:%Y-%m-%d}"] == (
            f"{x.shift_start:%H:%M}-{x.shift_end:%H:%M} {x.plateau}")
    worked = r.groupby("adviser")["date"].nunique()
    days = sheet.drop(columns=["team", "contract"])
    assert ((days != "").sum(axis=1).reindex(worked.index) == worked).all()
    # the day columns share one categorical dtype: a small code per cell, not a text each
    dtypes = set(days.dtypes)
    assert len(dtypes) == 1 and isinstance(dtypes.pop(), pd.CategoricalDtype)
    heads = r[["adviser", "team", "contract"]].drop_duplicates().sort_values(
        ["adviser", "team", "contract"], ignore_index=True)
    pd.testing.assert_frame_equal(sheet.reset_index()[["adviser", "team", "contract"]], heads,
                                  check_dtype=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_codes_are_groupbys_sorted_groups(seed):
    """_group_codes (integer codes per column) numbers the rows' key combinations as
    groupby(keys, sort=True).ngroup() does, with the same keys in the same order."""
    rng = np.random.default_rng(seed)
    n = 5000
    f = pd.DataFrame({"a": rng.choice([f"x{i:03d}" for i in range(80)], n),
                      "b": rng.choice(["t1", "t2", "t10"], n),
                      "c": rng.choice(["full-time", "part-time"], n)}).astype("str")
    group, heads = roster_plan._group_codes(f, ["a", "b", "c"])
    g = f.groupby(["a", "b", "c"], sort=True)
    assert (group == g.ngroup().to_numpy()).all()
    pd.testing.assert_frame_equal(heads, g.size().index.to_frame(index=False))


@pytest.fixture(scope="module")
def default_week_plan():
    from staffing import allocation, scenario

    sc = scenario.load()
    opts = allocation.Options(weeks=2, rosters=True, workers=1).resolved(sc)
    _, req = allocation._weekly_requirements(sc, opts)
    weeks = [req[req["week"] == w] for w in range(2)]
    results = allocation._solve_weeks(sc, opts, weeks, allocation.Deadline.after(None), None)
    return sc, opts, req, results


def _counts(x: pd.DataFrame, days: int, drop: int = 0) -> dict:
    """A week's shift counts keyed as refit_week wants them, `days` later, with `drop`
    advisers moved from the largest shift of the first day to its earliest shift of the same
    team and plateau (a gap to re-solve)."""
    out = {}
    for r in x.itertuples(index=False):
        key = (r.provider, r.plateau, pd.Timestamp(r.date) + pd.Timedelta(days=days),
               int(r.start_min), -1 if pd.isna(r.break_start_min) else int(r.break_start_min),
               float(r.paid_hours))
        out[key] = out.get(key, 0.0) + float(r.advisers)
    if drop:
        big = max((k for k in out if k[2] == min(k[2] for k in out)), key=lambda k: out[k])
        out[big] -= drop
        early = min((k for k in out if k[:3] == big[:3] and k != big), key=lambda k: k[3])
        out[early] += drop
    return out


def test_identical_re_solves_are_solved_once_with_the_same_result(default_week_plan):
    sc, opts, req, results = default_week_plan
    x0 = results[0].x
    jobs = [(sc, opts, req[req["week"] == w], w, _counts(x0, 7 * w, drop=d),
             results[w].lp_bound, None) for w, d in ((0, 40), (1, 40), (1, 60))]
    assert results[0].lp_bound == results[1].lp_bound  # the same week, moved
    solved = []
    run_jobs = roster_plan.alloc.run_jobs

    def counted(func, js, workers, *a, **k):
        solved.extend(j[3] for j in js)
        return run_jobs(func, js, 1, *a, **k)

    from unittest import mock

    with mock.patch.object(roster_plan.alloc, "run_jobs", counted):
        fast = roster_plan._run_refits(jobs, opts)
    assert len(solved) == 2  # weeks 0 and 1 with 60 dropped; week 1 with 40 is week 0 moved
    for job, got in zip(jobs, fast):
        want = roster_plan.refit_week(*job)
        assert got.week == want.week and got.objective == want.objective
        assert (got.u == want.u).all() and (got.cb == want.cb).all()
        pd.testing.assert_frame_equal(got.x.reset_index(drop=True), want.x.reset_index(drop=True))
        pd.testing.assert_frame_equal(got.z.reset_index(drop=True), want.z.reset_index(drop=True))
    assert fast[1].objective != fast[2].objective


def test_re_solves_started_in_the_kept_pool_give_what_they_give_at_the_end(default_week_plan):
    """The rosters pass starts re-solves in the kept pool when a worker has nothing else to
    do (`_Refits.start_next`): the same results as solving them all at the end, a repeated
    one still solved once (never started)."""
    from staffing import parallel

    sc, opts, req, results = default_week_plan
    x0 = results[0].x
    jobs = [(sc, opts, req[req["week"] == w], w, _counts(x0, 7 * w, drop=d),
             results[w].lp_bound, None) for w, d in ((0, 40), (1, 60), (1, 40))]
    at_end = roster_plan._run_refits(jobs, opts)
    started = []
    submit = parallel.submit

    def counted(func, job):
        f = submit(func, job)
        started.append((job[3], f))
        return f

    from unittest import mock

    lane = roster_plan._Refits(opts)
    with parallel.kept_pool(2), mock.patch.object(parallel, "submit", counted):
        lane.add(jobs[0])
        first = lane.start_next()
        assert lane.start_next() is None  # nothing more to start
        lane.add(jobs[1])
        lane.add(jobs[2])  # week 0's moved: never started
        second = lane.start_next()
        assert lane.start_next() is None
        got = lane.results(2)
    assert [w for w, _ in started] == [0, 1]
    assert [f for _, f in started] == [first, second] and None not in (first, second)
    for a, b in zip(got, at_end):
        assert a.week == b.week and a.objective == b.objective
        pd.testing.assert_frame_equal(a.x.reset_index(drop=True), b.x.reset_index(drop=True))
        pd.testing.assert_frame_equal(a.z.reset_index(drop=True), b.z.reset_index(drop=True))


@pytest.mark.parametrize("mip", [False, True])
def test_the_problem_reaches_highs_as_pulps_own_interface_passes_it(default_week_plan, mip):
    """highs._TimedHiGHS passes a problem whose rows are held as arrays (lp.Problem) in
    three array calls: the same columns, costs, bounds, integrality, rows and coefficients as
    PuLP's HiGHS.buildSolverModel passes the same week built as PuLP constraints, in order
    (a row after the build, a variable twice in a row and a zero coefficient included)."""
    import highspy
    import pulp

    from staffing.allocation import highs, lp, model as model_mod

    sc, opts, req, _ = default_week_plan
    lps = []
    for cls in (pulp.HiGHS, highs._TimedHiGHS):
        m = model_mod.build(sc, opts, req[req["week"] == 0].reset_index(drop=True), 0)
        v0, v1, v2 = (v for *_, v in m.x[:3])
        m.prob += (pulp.lpSum(v for *_, v in m.x[:3]) >= 0, "zero_coefficient_row")
        m.prob.add_row([(v0, 2.0), (v1, 1.0), (v0, -2.0), (v2, 0.5)], lp.LE, 7.0, "twice",
                       constant=1.5)
        if cls is pulp.HiGHS:  # the rows as PuLP constraints, as PuLP's interface reads them
            m.prob.materialise()
            assert not m.prob._names and len(m.prob._constraints) > 1000
        else:
            assert not m.prob._constraints and len(m.prob._names) > 1000
        m.prob.solverModel = highspy.Highs()
        cls(mip=mip, msg=False).buildSolverModel(m.prob)
        lps.append((m.prob.solverModel.getLp(), [v.index for v in m.prob.variables()]))
    (a, ai), (b, bi) = lps
    assert ai == bi == list(range(len(ai)))
    assert a.num_col_ == b.num_col_ > 1000 and a.num_row_ == b.num_row_ > 1000
    for f in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert list(getattr(a, f)) == list(getattr(b, f)), f
    assert list(a.integrality_) == list(b.integrality_)
    assert (highspy.HighsVarType.kInteger in list(b.integrality_)) == mip
    for f in ("start_", "index_", "value_"):
        assert list(getattr(a.a_matrix_, f)) == list(getattr(b.a_matrix_, f)), f
    assert b.row_upper_[-1] == 5.5 and b.row_lower_[-1] == -highspy.kHighsInf  # 7 - 1.5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weekly_rest_excess_is_what_the_longest_rest_of_the_week_lacks(seed):
    """check._weekly_rest against a reading by hand: per adviser and week, the longest time
    off (between shifts, unbounded before the first and after the last) that overlaps the
    week by at least 24 h; short of weekly_rest_hours by the excess reported."""
    from staffing.rosters import check
    from staffing.rosters.rules import WorkingRules

    r = _rosters(seed, advisers=30, weeks=3)
    rules = WorkingRules()
    v = check.check_rosters(r, rules, START, 3)
    got = {(x.adviser, (x.date - START).days // 7): round(x.excess, 6)
           for x in v.itertuples() if x.rule == "weekly_rest"}
    want = {}
    minute = pd.Timedelta(minutes=1)
    for a, g in r.groupby("adviser"):
        iv = sorted(((s - START) / minute, (e - START) / minute)
                    for s, e in zip(g["shift_start"], g["shift_end"]))
        edges = [-1e9] + [x for s, e in iv for x in (s, e)] + [1e9]
        offs = list(zip(edges[::2], edges[1::2]))
        for w in range(3):
            lo, hi = w * 10080, (w + 1) * 10080
            best = max(((b - e) / 60 for e, b in offs if min(b, hi) - max(e, lo) >= 1440),
                       default=0.0)
            if best < rules.weekly_rest_hours - 1e-9:
                want[(a, w)] = round(rules.weekly_rest_hours - best, 6)
    assert got == want
    assert len(want) >= 3


def test_a_re_solves_repair_mip_stops_within_a_hundredth_of_an_agent_slot_of_its_optimum(
        default_week_plan, monkeypatch):
    """refit_week's MIP over the outsourced agents of the days rounding left short stops within
    REFIT_GAP_SLOTS agent-slots of deficit (its penalty) of its optimum, not at REPAIR_SECONDS
    of wall time. The path is forced (each row short after rounding) and solved twice: to
    that gap, and to optimality."""
    from staffing.allocation import highs, rounding
    from staffing.allocation.service import service_weight

    sc, opts, req, results = default_week_plan
    gap = roster_plan.REFIT_GAP_SLOTS * service_weight(sc) * sc.slot_minutes / 60
    u_values, resolve_mip = rounding.u_values, highs.resolve_mip
    monkeypatch.setattr(rounding, "u_values", lambda m: u_values(m) + 1.0)
    job = (sc, opts, req[req["week"] == 0], 0, _counts(results[0].x, 0, drop=60),
           results[0].lp_bound, None)
    gaps, got = [], {}
    for exact in (False, True):
        def spy(*a, **k):
            gaps.append(k.get("gap_abs", 0.0))
            return resolve_mip(*a, **{**k, "gap_abs": 0.0} if exact else k)

        monkeypatch.setattr(highs, "resolve_mip", spy)
        got[exact] = roster_plan.refit_week(*job).objective
    assert gaps == [gap, gap]
    assert got[True] - 1e-6 <= got[False] <= got[True] + gap + 1e-6


def test_a_week_adopting_rosters_that_remove_a_deficit_drops_its_penalty(default_week_plan):
    """`_adopt` (a week takes its rostered shifts as they are): rows the rosters staff that the
    week's result had short lose their deficit, and the week's objective the deficit's
    penalty (the service weight per agent-slot on phi's first piece, 5 % of a row's need),
    so the manifest's objective and gap do not count a deficit that is not there."""
    from staffing.allocation.service import service_weight

    sc, opts, req, results = default_week_plan
    rosters = roster_plan._joined(roster_plan.team_rosters(sc, opts, results, to_week=1))
    w0 = pd.Timestamp(opts.start)
    week = roster_plan._dated(rosters, w0, w0 + pd.Timedelta(days=7))
    req0 = req[req["week"] == 0]
    r = results[0]
    kept = roster_plan._adopt(sc, opts, r, req0, week)
    assert kept is not None and (kept.u == 0).all() and kept.objective == r.objective
    need = req0["agents"].to_numpy(float)
    rows = np.flatnonzero(need >= 40)[:3]
    short = r.u.copy()
    short[rows] = 0.05 * need[rows]  # phi's first piece: slope 1
    penalty = service_weight(sc) * sc.slot_minutes / 60 * float(short[rows].sum())
    had = dataclasses.replace(r, u=short, objective=r.objective + penalty)
    got = roster_plan._adopt(sc, opts, had, req0, week)
    assert (got.u == 0).all()
    assert got.objective == pytest.approx(r.objective, rel=1e-12)


def test_plateaux_each_roster_line_may_answer_are_read_once_per_adviser_and_team():
    """rebalance._able, read per (adviser, team) pair, against a line-by-line reading: named
    advisers' own skills, others' team plateaux, an id under two teams, categorical and
    object columns, a shuffled index."""
    rng = np.random.default_rng(7)
    n = 2000
    adviser = rng.choice([f"a{i}" for i in range(40)], n)
    team = np.where(rng.random(n) < 0.9, np.char.add("t", (np.char.lstrip(adviser, "a")
                                                          .astype(int) % 3).astype(str)), "t9")
    skills = {"t0": {"p", "q"}, "t1": {"q"}, "t2": {"p", "r"}, "t9": {"r"}}
    own = {f"a{i}": {"q", "r"} for i in range(0, 40, 4)}
    for text in (False, True):
        rosters = pd.DataFrame({"adviser": adviser, "team": team},
                               index=rng.permutation(n) + 100)
        if not text:
            rosters = rosters.astype("category")
        got = rebalance._able(rosters, own, skills, ["p", "q", "r", "s"])
        for p in ("p", "q", "r", "s"):
            want = [p in own.get(a, skills.get(k, ())) for a, k in zip(adviser, team)]
            assert got[p].index.equals(rosters.index) and got[p].tolist() == want


@pytest.mark.parametrize("categorical", [False, True])
def test_rebalance_moves_lines_to_a_short_plateau_and_leaves_its_input_as_it_was(categorical):
    """rebalance on random rosters whose p2 is short at one slot (p1 needs nobody): every
    line at work on p1 in that slot (breaks out) moves to p2, no other line changes, and the
    table it was given is unchanged (it copies only the plateau column; a year's table is
    large; under pandas's copy-on-write the input is safe anyway, with pandas 2, which the
    project allows, that column's own copy is what keeps it). The same with the rosters
    table's categorical text columns."""
    from types import SimpleNamespace

    rosters, req = _rosters(4), _req()
    if categorical:
        rosters = rosters.astype({c: "category" for c in ("adviser", "team", "contract",
                                                          "plateau")})
    before = rosters.copy(deep=True)
    t = START + pd.Timedelta(days=1, hours=12)
    req["agents"] = np.where((req["slot_start"] == t) & (req["plateau"] == "p2"), 100.0, 0.0)
    prov = pd.DataFrame({"kind": "inhouse", "shrinkage": 0.3, "aht_factor": 1.0,
                         "plateaux": [("p1", "p2")] * 2}, index=["t1", "t2"])
    sc = SimpleNamespace(providers=prov, slot_minutes=30, advisers=None,
                         plateaux=pd.DataFrame(index=["p1", "p2"]))
    opts = SimpleNamespace(sl_scope="interval", start=START, weeks=2)
    got, changed = rebalance.rebalance(sc, opts, req, [], rosters)
    pd.testing.assert_frame_equal(rosters, before)
    at_work = ((rosters["shift_start"] <= t) & (rosters["shift_end"] > t)
               & ~((rosters["break_start"] <= t) & (rosters["break_end"] > t)))
    moved = at_work & (rosters["plateau"] == "p1")
    assert moved.sum() > 0 and changed == {0}
    assert (got.loc[moved, "plateau"] == "p2").all()
    pd.testing.assert_frame_equal(got.loc[~moved], before.loc[~moved])
