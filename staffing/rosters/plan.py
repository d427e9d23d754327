"""Rosters for a solved plan, and the plan recomputed from the rosters actually built.

`attach(scenario, opts, req, results)` builds every in-house team's rosters week by week
(groups in parallel), a week planned again where the rosters before it cannot give what its
plan asks (`_carry`), then for each week whose rostered shifts differ from the plan's
re-solves that week with the in-house shifts fixed at the rostered ones, so the outsourced
capacity is re-optimised against any gap (`refit_week`). Coverage, service level and cost
then come from the rosters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import time
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pulp

from .. import allocation as alloc, memory, parallel
from ..errors import InfeasiblePlan, SolverError
from . import builder
from ..calendar import paid_days_off, week_dates
from .contracts import group_column, groups as contract_groups, week_terms
from .contracts import paid_days_off as contract_days_off
from .rules import WorkingRules
from .state import adviser_states


def _team_job(args):
    """builder.build_team of one group; its CPU seconds in the result's attrs["job_cpu_s"],
    and for one week its advisers' carry.week_marks in attrs["marks"]."""
    from . import carry

    team, ids, contract, weeks, rules, start, open_days, brk, state, week_days, leave = args
    c0 = time.process_time()
    out = builder.build_team(team, ids, contract, weeks, rules, start,
                             lambda w: open_days[w], brk, state, week_days=week_days,
                             leave=leave, build=len(week_days))
    if len(week_days) == 1:
        out.attrs["marks"] = carry.week_marks(out, ids, start)
    out.attrs["job_cpu_s"] = time.process_time() - c0
    return out


def _open_days(scenario, start: pd.Timestamp, weeks: int, weekdays=tuple(range(7))) -> list:
    """Per week, the day indices (from the week's first day) open and on `weekdays`."""
    out = []
    for w in range(weeks):
        days = []
        for d in range(7):
            date = (start + pd.Timedelta(days=7 * w + d)).date()
            if scenario.opening_on(date) is not None and date.weekday() in weekdays:
                days.append(d)
        out.append(days)
    return out


def group_ids(g, results) -> list[str]:
    """The adviser ids of group g (contracts.Group): its members (advisers table), else
    generated ids numbered across the team from g.first, as many as the group's count (a team
    without a mix: its largest headcount over the plan's weeks `results`)."""
    if g.members:
        return list(g.members)
    n = (g.count if g.count is not None else
         int(round(max(r.headcount.get(g.team, 0) for r in results))) if results else 0)
    return [f"{g.team}-{i:04d}" for i in range(g.first, g.first + n)]


TEXT_COLUMNS = ("adviser", "team", "contract", "plateau")  # the rosters table's text


def text_dtypes(scenario, ids: dict) -> dict:
    """Column -> a CategoricalDtype of the values (sorted) a text column of the rosters table
    (TEXT_COLUMNS) may hold: the adviser ids of the groups (`ids`: group key -> ids), their
    teams and contracts, the scenario's plateaux. One shared dtype per column, so that
    frames made with it stay categorical when joined. Raises nothing."""
    groups = contract_groups(scenario)
    return {"adviser": pd.CategoricalDtype(sorted({a for v in ids.values() for a in v})),
            "team": pd.CategoricalDtype(sorted({g.team for g in groups})),
            "contract": pd.CategoricalDtype(sorted({g.contract.id for g in groups})),
            "plateau": pd.CategoricalDtype(sorted(scenario.plateaux.index))}


def as_categories(rosters: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """Roster lines with their text columns as `dtypes`' categoricals (`text_dtypes`): an
    int8/int16 code per line instead of a text each, ~80 MB less for a year's 832,000
    lines. The values, their order under sort_values and what writers print are unchanged.
    Raises RuntimeError for a value `dtypes` lacks (it would become missing)."""
    out = rosters.copy(deep=False)
    for c, dtype in dtypes.items():
        if c in out.columns:
            col = out[c].astype(dtype)
            if (col.isna() != out[c].isna()).any():
                raise RuntimeError(f"rosters: a {c} value outside its categories")
            out[c] = col
    return out


def _joined(by_team: dict) -> pd.DataFrame:
    """Rosters by team (`team_rosters`) as one table in team, adviser and date order (the
    rosters table, without the scenario column)."""
    if not by_team:
        return pd.DataFrame(columns=builder.ROSTER_COLUMNS)
    return pd.concat([by_team[t] for t in sorted(by_team)], ignore_index=True)


def _dated(rosters: pd.DataFrame, lo, hi) -> pd.DataFrame:
    """Roster lines dated lo <= date < hi."""
    return rosters[(rosters["date"] >= lo) & (rosters["date"] < hi)]


def _lines_between(by_team: dict, lo, hi) -> pd.DataFrame:
    """Roster lines of every team dated lo <= date < hi."""
    parts = [_dated(r, lo, hi) for _, r in sorted(by_team.items())]
    return (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=builder.ROSTER_COLUMNS))


def team_rosters(scenario, opts, results, from_week: int = 0,
                 states: dict | None = None, teams=None,
                 to_week: int | None = None, cost: dict | None = None,
                 marks: dict | None = None) -> dict:
    """Rosters per team (team -> its lines in adviser and date order) for the plan's week
    results: one CP-SAT job per group (a team's advisers on one contract,
    rosters.contracts.groups), with that contract's days each week (cycle and paid days off),
    weekdays and shifts. From week `from_week` on (then `states`: each adviser's AdviserState
    at that week's start, see carry.states_at; default the pre-horizon state); of the groups
    of the in-house `teams` (team ids or group keys; default all); up to week `to_week`
    (excluded; default the horizon's end), with the plan of week `to_week` as the last week's
    look-ahead (builder.build_team). cost: group key -> CPU seconds of its last job, updated
    here; the jobs start dearest first (groups not yet measured before them). marks: group
    key -> its carry.week_marks, filled here for a one-week call."""
    cost = {} if cost is None else cost
    keys, jobs = _group_jobs(scenario, opts, results, from_week, states, teams, to_week, cost)
    try:
        parts = alloc.run_jobs(_team_job, jobs, opts.workers or 2)
    except ValueError as exc:
        raise SolverError(f"rosters: {exc}") from None
    return _by_team(dict(zip(keys, parts)), cost, marks)


def _group_jobs(scenario, opts, results, from_week: int, states: dict | None, teams,
                to_week: int | None, cost: dict, only: list | None = None) -> tuple[list, list]:
    """(group keys, `_team_job` arguments) of `team_rosters`, dearest first by `cost`; of the
    groups `only` when given. Each job carries the states of its own advisers only."""
    rules: WorkingRules = scenario.rules or WorkingRules()
    t0 = pd.Timestamp(opts.start)
    everyweek = sorted(results, key=lambda r: r.week)
    to_week = opts.weeks if to_week is None else min(to_week, opts.weeks)
    results = everyweek[from_week:to_week + 1]
    jobs, keys = [], []
    if states is None:
        states = adviser_states(getattr(scenario, "roster_state", None), t0)
    start = t0 + pd.Timedelta(days=7 * from_week)
    for g in contract_groups(scenario):
        if teams is not None and g.team not in teams and g.key not in teams:
            continue
        if only is not None and g.key not in only:
            continue
        weeks = []
        for r in results:
            x = _group_plan(r.x, g.key, g.team)
            weeks.append(x[["date", "plateau", "start_min", "end_min", "break_start_min",
                            "paid_hours", "advisers"]].reset_index(drop=True))
        week_days = [week_terms(g.contract, scenario, t0.date(), w)[1]
                     for w in range(from_week, to_week)]
        leave = {a: {(d - start.date()).days for d in lv} for a, lv in zip(g.members, g.leave)}
        ids = group_ids(g, everyweek)
        mine = {a: states[a] for a in ids if a in states}
        jobs.append((g.team, ids, g.contract, weeks, rules, start.date(),
                     _open_days(scenario, start, to_week - from_week, g.contract.weekdays),
                     int(scenario.shifts.unpaid_break_minutes), mine, week_days, leave))
        keys.append(g.key)
    order = sorted(range(len(jobs)), key=lambda i: _dearest_first(keys[i], len(jobs[i][1]), cost))
    return [keys[i] for i in order], [jobs[i] for i in order]


def _dearest_first(key: str, advisers: int, cost: dict) -> tuple:
    """A group's job's place among a week's (a sort key): the dearest first (the shortest
    makespan of a week's jobs on a few processes), by its last job's CPU (`cost`); groups
    not measured yet before them, those small enough for the adviser-level model first (it
    may run to its limit), then the largest (`advisers`: the group's)."""
    return ((1, -cost[key]) if key in cost
            else (0, advisers > builder.EXACT_MAX_ADVISERS, -advisers))


def _group_plan(x: pd.DataFrame, key: str, team: str) -> pd.DataFrame:
    """The plan's in-house shifts `x` of group `key` (of `team`): x's rows of that group, in
    order, made once per table and group (`_PLAN_ROWS`): the same frame each time, to be
    read, not changed."""
    col, k = ("group", key) if "group" in x else ("provider", team)
    got = _PLAN_ROWS.get(id(x))
    if got is None or got[0] is not x:
        got = (x, x.groupby(col, sort=False, observed=True, dropna=True).indices, {})
        _PLAN_ROWS[id(x)] = got
        while len(_PLAN_ROWS) > _PLAN_ROWS_KEPT:
            _PLAN_ROWS.pop(next(iter(_PLAN_ROWS)))
    if k not in got[2]:
        rows = got[1].get(k)
        got[2][k] = x.iloc[rows] if rows is not None else x.iloc[:0]
    return got[2][k]


# id(plan table) -> (the table, group -> its row positions, group -> its rows), for the last
# few tables: the rosters pass reads a week's plan per group in its job, its shortfall checks
# and the re-plan before it (the pass never changes a plan table in place: a new plan is a
# new table)
_PLAN_ROWS: dict = {}
_PLAN_ROWS_KEPT = 16


def _group_short(r, key: str, team: str, states: dict, rules, t0) -> bool:
    """Whether group `key`'s (of `team`) plan in week result r asks more of the week's first
    days than its advisers' `states` at the week's start allow (carry.shortfall; t0: the
    horizon's start)."""
    from . import carry

    return bool(carry.shortfall(_group_plan(r.x, key, team), states, rules,
                                t0 + pd.Timedelta(days=7 * r.week)))


# how far ahead of the week being decided the rosters pass may run a group's weeks
AHEAD_WEEKS = 4
# jobs given to the pool beyond one per worker: a worker takes the next as soon as it ends
QUEUED_JOBS = 1
_QUEUED = object()  # a lane's week or a re-plan waiting in the queue


class _Lanes:
    """The rosters pass's jobs in the kept pool (`parallel.kept_pool`), each group's weeks in
    a lane of its own: a group's next week starts as soon as its own week ends, up to
    AHEAD_WEEKS past the week being decided (`begin`), so that a slow group (the
    adviser-level model of a small team) does not hold the other groups, and a core, until
    the week's end. A week's lines are final once the week is decided: a lane's later weeks
    run from its lines before then, and when a re-plan has a group's week rostered again
    (`reroster`) its later weeks are dropped and run again from the new lines; the groups
    `held` (those a short week's re-plan may roster again) do not run past the week until it
    is decided (`release`), nor does a lane past a later week where it or a group sharing a
    plateau with it is short, once that is known (`_is_short`). Every job reads what the
    week-by-week pass would give it, so the rosters are the same. The pool is given one job
    per worker at a time and QUEUED_JOBS more, the earliest week's first (its groups dearest
    first, then its re-plan), and a re-solve (`_Refits`) when nothing else is ready. A later
    week's re-plan is queued as soon as its arguments are known (`_speculate`), and taken at
    the week if they are still the same. `final`: group -> (week, carry.week_marks) of its
    final weeks before the one being decided (the pass's, kept up to date by it)."""

    def __init__(self, scenario, opts, results: list, final: dict, ids: dict, team_of: dict,
                 before: dict, cost: dict, refits: "_Refits", req=None, deadline=None):
        from . import carry

        self.scenario, self.opts, self.results = scenario, opts, results
        self.req, self.deadline = req, deadline  # (a later week's re-plan: `_speculate`)
        self.final, self.ids, self.team_of, self.before = final, ids, team_of, before
        self.cost, self.refits = cost, refits
        self.rules = scenario.rules or WorkingRules()
        self.t0 = pd.Timestamp(opts.start)
        # group -> the groups whose being short would have it rostered again (carry.sharing)
        self.related = {k: {j for j in ids if team_of[k] in carry.sharing(scenario, {j})}
                        for k in ids}
        self._states: dict = {}  # (group, week) -> its states from its lane's weeks
        self._short: dict = {}  # (group, week) -> whether carry.shortfall finds it short
        self.workers = max(1, int(opts.workers or 2))
        self.lane: dict = {k: {} for k in ids}  # group -> week -> Future or its lines
        self.marks: dict = {k: {} for k in ids}  # group -> week -> its lines' week_marks
        self.queue: list = []  # heap: (week, rank, seq, func, job, what)
        self.running: dict = {}  # Future -> what: ("team", key, week), ("replan", week), ...
        self.replans: dict = {}  # week -> its re-plan's Future or (its result,)
        self.replan_args: dict = {}  # week -> the arguments its re-plan was given
        self.held: set = set()
        self.week = 0
        self._seq = 0

    # --- the pass's calls
    def begin(self, week: int, states: dict, held: set) -> None:
        """Week `week` is the one being decided, its groups' states `states` (adviser ->
        AdviserState, from the final lines before it); the groups `held` wait at it."""
        self.week, self.held = week, set(held)
        for k in self.lane:
            for w in [w for w in self.lane[k] if w < week]:
                del self.lane[k][w]
                self.marks[k].pop(w, None)
                self._states.pop((k, w), None)
                self._short.pop((k, w), None)
            if week not in self.lane[k]:
                self._submit(k, week, {a: states[a] for a in self.ids[k]})
            self._extend(k)
        self._pump()

    def replan(self, args) -> None:
        """Week `args[3].week`'s re-plan (carry.replan_week's arguments), queued after the
        week's own rosters; the one started ahead of the week (`_speculate`) if it was given
        the same arguments."""
        w = args[3].week
        if w in self.replans and _same_replan(self.replan_args.get(w), args):
            return
        self.drop_replan(w)
        self._queue_replan(w, args)
        self._pump()

    def _queue_replan(self, w: int, args) -> None:
        self.replans[w], self.replan_args[w] = _QUEUED, args
        self._push(w, (1,), _replan_job, args, ("replan", w))

    def replan_result(self, week: int):
        """The re-plan of `week` once it ends."""
        while not self._ready(self.replans[week]):
            self._step()
        self.replan_args.pop(week, None)
        return self.replans.pop(week)[0]

    def drop_replan(self, week: int) -> None:
        """The re-plan of `week` is not needed: dropped while queued, its result ignored."""
        self.queue = [q for q in self.queue if q[5] != ("replan", week)]
        heapq.heapify(self.queue)
        self.replans.pop(week, None)
        self.replan_args.pop(week, None)
        for f, what in self.running.items():
            if what == ("replan", week):
                self.running[f] = ("dropped",)

    def lines(self, week: int, keys=None) -> dict:
        """Team -> its lines of `week` (`_by_team`), of the groups `keys` (default all), once
        their jobs end."""
        keys = list(self.lane) if keys is None else list(keys)
        while not all(self._ready(self.lane[k].get(week)) for k in keys):
            self._step()
        return _by_team({k: self.lane[k][week] for k in keys}, self.cost)

    def reroster(self, week: int, states: dict, keys) -> None:
        """The groups `keys` rostered again for `week` (the plan in `results` changed), from
        the same states; their later weeks dropped."""
        self.held -= set(keys)  # (final once rostered again: each lane goes on as it ends)
        for k in keys:
            self._drop(k, week)
            self._submit(k, week, {a: states[a] for a in self.ids[k]})
        self._pump()

    def release(self) -> None:
        """The week being decided is decided: its held groups' lanes go on (a re-plan of it
        started ahead and not taken is dropped)."""
        self.held = set()
        for w in [w for w in self.replans if w <= self.results[self.week].week]:
            self.drop_replan(w)
        for k in self.lane:
            self._extend(k)
        self._speculate()
        self._pump()

    def _speculate(self) -> None:
        """A later week's re-plan queued before the pass reaches the week, as `_roster_weeks`
        would give it, once a group is known to be short there and the states of the groups
        it holds are known (a group whose states are not known yet counted as not short).
        Only while no week between is held or known to have a short group (whose re-plan
        could roster those groups again). The pass takes it if its arguments are the same
        (`replan`); a re-plan the week does not need is dropped, as at the week itself."""
        if self.req is None or self.held:
            return
        for v in range(self.week + 1, min(len(self.results), self.week + AHEAD_WEEKS + 1)):
            r = self.results[v]
            if r.week != self.results[v - 1].week + 1:
                return
            known = {k: self._states_of(k, v) for k in self.ids}
            short = {k for k, st in known.items() if st is not None and self._is_short(k, v)}
            if not short:
                continue
            if r.week not in self.replans:
                free, held = _held(self.scenario, short, self.team_of)
                if any(known[k] is None for k in held):
                    return
                self._queue_replan(r.week, _replan_args(
                    self.scenario, self.opts, self.req, self.results, v, free, held, known,
                    self.team_of, self.deadline))
            return  # (the weeks after a short one wait for it)

    # --- the lanes
    def _extend(self, k: str) -> None:
        """Group k's next week queued when its weeks from the decided one on have ended and it
        is within AHEAD_WEEKS (not past a week it is held at)."""
        mine, w = self.lane[k], self.week
        while w in mine and self._ready(mine[w]):
            w += 1
        if (w in mine or w >= len(self.results) or w > self.week + AHEAD_WEEKS
                or (w > 0 and self.results[w].week != self.results[w - 1].week + 1)
                or (k in self.held and w > self.week)):
            return
        # not past a later week a related group is short at (it may be planned again): that
        # week is waited for, as the week being decided is by its held groups
        if any(self._is_short(j, v) for v in range(self.week + 1, w) for j in self.related[k]):
            return
        self._submit(k, w, self._states_of(k, w))

    def _states_of(self, k: str, w: int) -> dict | None:
        """Group k's states at week w from its final weeks and its lane's (None while a week
        between is not rostered)."""
        from . import carry

        if (k, w) not in self._states:
            if any(not self._ready(self.lane[k].get(v, _QUEUED)) for v in range(self.week, w)):
                return None
            marks = self.final[k] + [(v, self.marks[k][v]) for v in range(self.week, w)]
            self._states[k, w] = carry.states_from_marks(marks, self.ids[k], w, self.before)
        return self._states[k, w]

    def _is_short(self, k: str, w: int) -> bool:
        """Whether group k is short at week w (`_group_short`; False while its states are not
        known)."""
        if (k, w) not in self._short:
            st = self._states_of(k, w)
            if st is None:
                return False
            self._short[k, w] = _group_short(self.results[w], k, self.team_of[k], st,
                                             self.rules, self.t0)
        return self._short[k, w]

    def _submit(self, k: str, week: int, states: dict) -> None:
        _, jobs = _group_jobs(self.scenario, self.opts, self.results, week, states, None,
                              week + 1, {}, [k])
        self.lane[k][week] = _QUEUED  # (a week's groups before its re-plan, rank (1,))
        self._push(week, (0, *_dearest_first(k, len(self.ids[k]), self.cost)), _team_job,
                   jobs[0], ("team", k, week))

    def _drop(self, k: str, week: int) -> None:
        """Group k's lane from `week` on emptied: queued jobs removed, running ones ignored."""
        self.queue = [q for q in self.queue
                      if not (q[5][0] == "team" and q[5][1] == k and q[5][2] >= week)]
        heapq.heapify(self.queue)
        for w in [w for w in self.lane[k] if w >= week]:
            del self.lane[k][w]
            self.marks[k].pop(w, None)
        for w in [w for (j, w) in self._states if j == k and w > week]:
            self._states.pop((k, w), None)
            self._short.pop((k, w), None)
        for f, what in self.running.items():
            if what[0] == "team" and what[1] == k and what[2] >= week:
                self.running[f] = ("dropped",)

    # --- the pool
    def _push(self, week: int, rank: tuple, func, job, what: tuple) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (week, rank, self._seq, func, job, what))

    def _pump(self) -> None:
        """Jobs into the pool while a worker is free: the queue's first, else a re-solve."""
        while len(self.running) < self.workers + QUEUED_JOBS:
            if self.queue:
                week, _, _, func, job, what = heapq.heappop(self.queue)
                f = parallel.submit(func, job)
                if what[0] == "team":
                    self.lane[what[1]][what[2]] = f
                elif what[0] == "replan":
                    self.replans[what[1]] = f
            elif any(w[0] == "refit" for w in self.running.values()):
                return  # (one re-solve at a time: the pass's own jobs come first)
            else:
                f = self.refits.start_next()
                what = ("refit",)
                if f is None:
                    return
            self.running[f] = what

    @staticmethod
    def _ready(x) -> bool:
        return x is not _QUEUED and not isinstance(x, Future)

    def _step(self) -> None:
        """Until a job ends: its result kept, its lane extended, the pool topped up."""
        from concurrent.futures import FIRST_COMPLETED, wait

        if not self.running:
            raise RuntimeError("the rosters pass waits for a job it never started")
        ended, _ = wait(self.running, return_when=FIRST_COMPLETED)
        for f in ended:
            what = self.running.pop(f)
            if what[0] == "team":
                _, k, w = what
                try:
                    self.lane[k][w] = f.result()
                except ValueError as exc:
                    raise SolverError(f"rosters: {exc}") from None
                self.marks[k][w] = self.lane[k][w].attrs.pop("marks")
                spent = self.lane[k][w].attrs.pop("job_cpu_s", None)
                if spent is not None:
                    self.cost[k] = spent
                self._extend(k)
            elif what[0] == "replan" and what[1] in self.replans:
                self.replans[what[1]] = (f.result(),)
            elif what[0] == "dropped":
                f.exception()  # (its lines were dropped; an error of it is not the pass's)
        self._speculate()
        self._pump()


def _held(scenario, short: set, team_of: dict) -> tuple[set, set]:
    """(the teams free in a week's re-plan, the groups it holds) for the groups `short`: the
    teams sharing a plateau with a short group, and their groups (rostered again if so)."""
    from . import carry

    free = carry.sharing(scenario, short) if short else set()
    return free, {k for k, team in team_of.items() if team in free}


def _replan_args(scenario, opts, req, results: list, i: int, free: set, held: set,
                 states: dict, team_of: dict, deadline) -> tuple:
    """carry.replan_week's arguments for week results[i] (free, held: `_held`; states:
    group -> its advisers' states at the week's start, the held groups' at least), with the
    held groups' next week's plans, so that the re-plan leaves room for them (None without
    a next week)."""
    r = results[i]
    nxt = results[i + 1] if i + 1 < len(results) else None
    after = ({k: _group_plan(nxt.x, k, team_of[k]) for k in held}
             if nxt is not None and nxt.week == r.week + 1 else None)
    return (scenario, opts, req[req["week"] == r.week], r, {k: states[k] for k in held},
            deadline, free, after)


def _same_replan(a, b) -> bool:
    """Whether two argument tuples of carry.replan_week give the same re-plan: the same
    scenario, options, plan and deadline objects, equal requirement rows, states, free teams
    and next week's plans."""
    if a is None:
        return False
    if any(x is not y for x, y in zip((a[0], a[1], a[3], a[5]), (b[0], b[1], b[3], b[5]))):
        return False
    if a[4] != b[4] or a[6] != b[6] or not a[2].equals(b[2]):
        return False
    if a[7] is None or b[7] is None:
        return a[7] is b[7]
    return a[7].keys() == b[7].keys() and all(a[7][k].equals(b[7][k]) for k in a[7])


def _pop_starts(lines: dict) -> dict:
    """Team -> the attrs["band_starts"] of its lines (`_by_team`), taken off them before
    any frame is made from them (pandas would copy attrs into each)."""
    return {t: f.attrs.pop("band_starts") for t, f in lines.items() if "band_starts" in f.attrs}


def _by_team(parts: dict, cost: dict, marks: dict | None = None) -> dict:
    """Team -> its lines in adviser and date order, from the groups' jobs' results (parts:
    group key -> frame); each group's job CPU recorded in `cost`, its week's marks (one-week
    jobs, `_team_job`) in `marks` when given; the weeks whose band model took the last-resort
    start (build_team's attrs["band_starts"]) in the team's attrs["band_starts"]."""
    by_team: dict = {}
    starts: dict = {}  # team -> (team, contract, first day) of its last-resort weeks
    for k in sorted(parts):
        p = parts[k]
        spent = p.attrs.pop("job_cpu_s", None)
        if spent is not None:
            cost[k] = spent
        mine = p.attrs.pop("marks", None)
        if marks is not None and mine is not None:
            marks[k] = mine
        for start in p.attrs.pop("band_starts", ()):
            starts.setdefault(start[0], []).append(start)
        if len(p):
            by_team.setdefault(p["team"].iloc[0], []).append(p)
    del parts
    out = {}
    for t in list(by_team):  # each team's parts freed as it is sorted
        ps = by_team.pop(t)
        out[t] = (ps[0] if len(ps) == 1 else pd.concat(ps, ignore_index=True)).sort_values(
            ["adviser", "date"], ignore_index=True)
    for t, got in starts.items():  # (a team without a line that week has none to report)
        if t in out:
            out[t].attrs["band_starts"] = got
    return out


def shift_counts(rosters: pd.DataFrame, scenario=None) -> pd.DataFrame:
    """Rostered shifts per group (contracts.group_column; the team without a scenario),
    plateau, date and pattern (start, break, paid length)."""
    r = rosters
    d = pd.DataFrame({
        "group": r["team"] if scenario is None else group_column(scenario, r),
        "provider": r["team"], "contract": r["contract"],
        "plateau": r["plateau"], "date": pd.to_datetime(r["date"]),
        "start_min": ((r["shift_start"] - r["date"]).dt.total_seconds() // 60).astype(int),
        "break_start_min": ((r["break_start"] - r["date"]).dt.total_seconds() // 60),
        "paid_hours": r["paid_hours"].astype(float)})
    d["break_start_min"] = d["break_start_min"].fillna(-1).astype(int)
    return d.groupby(list(d.columns), observed=True).size().rename("advisers").reset_index()


SHIFT_KEYS = ["group", "plateau", "date", "start_min", "break_start_min", "paid_hours"]


def _key_frame(x: pd.DataFrame) -> pd.DataFrame:
    k = x[SHIFT_KEYS + ["advisers"]].copy()
    k["date"] = pd.to_datetime(k["date"])
    k["break_start_min"] = k["break_start_min"].fillna(-1).astype(int)
    k["start_min"] = k["start_min"].astype(int)
    return k


REFIT_GAP_SLOTS = 0.01  # the re-solve's MIP gap, in agent-slots of deficit (its penalty)


def refit_week(scenario, opts, req_week: pd.DataFrame, week: int, counts: dict,
               lp_bound: float | None, deadline=None,
               carry: pd.DataFrame | None = None) -> "alloc.WeekResult | None":
    """The week again with in-house shifts fixed at `counts` ((group, plateau, date,
    start_min, break_start_min or -1, paid_hours) -> advisers): LP for the outsourced agents,
    rounded as in the plan (`allocation.rounding.round_agents`), a last LP for the rest; where
    rounding left a gap, those days' outsourced agents by MIP (seats are shared by plateaux)
    to within REFIT_GAP_SLOTS agent-slots of deficit of its optimum.
    Within the run's deadline like every phase: None when it has passed before the LPs could
    finish (the caller keeps the week's outsourced plan with the rosters, status
    time_limit); status `time_limit` when it stopped the MIP. carry: in-house advisers at work
    per row (row, provider, agents) from the previous week's shifts crossing midnight: they
    staff the rows too, and join the result's in-house table."""
    from ..allocation import highs, model as model_mod, rounding, solve as solve_mod
    from ..allocation import tables as tables_mod
    from ..allocation.options import Deadline
    from ..allocation.service import slot_weight

    deadline = deadline or Deadline()
    if deadline.passed():
        return None
    t1 = time.perf_counter()
    req = req_week.reset_index(drop=True)
    eff = ((1.0 - scenario.providers["shrinkage"]) / scenario.providers["aht_factor"]).to_dict()
    has_carry = carry is not None and len(carry)
    carry_v = np.zeros(len(req))
    if has_carry:
        np.add.at(carry_v, carry["row"].to_numpy(int),
                  carry["agents"].to_numpy(float) * carry["provider"].map(eff).to_numpy(float))
    for spill in (False, True):
        m = model_mod.build(scenario, opts, req, week, carry=carry_v if has_carry else None,
                            spill=spill)
        for (k, p, d, pat, v), g in zip(m.x, m.x_group):
            key = (g, p, pd.Timestamp(d), pat.start_min,
                   -1 if pat.break_start_min is None else pat.break_start_min,
                   float(pat.paid_hours))
            v.lowBound = v.upBound = v.varValue = float(counts.get(key, 0))
        for k, h in m.headcount.items():
            if isinstance(h, pulp.LpVariable):
                h.lowBound = h.upBound = h.varValue = float(sum(
                    c for key, c in counts.items() if key[0] == k)) / max(m.contract[1], 1)
        prob = m.prob
        highs.first_solve(prob, opts, deadline)
        if deadline.passed() and pulp.LpStatus[prob.status] != "Optimal":
            return None
        try:
            solve_mod.check_status(prob, opts, week, need_optimal=True)
            break
        except InfeasiblePlan:
            # the rostered shifts cannot serve a plateau-day's callbacks (each served that
            # day, by agents there): once more with that work's shortfall priced as a
            # deficit (model.build's spill), which the run then reports as short
            if spill:
                raise
    status = "optimal"
    if not opts.relax:
        rounding.round_agents(m, scenario, opts)
        zs = [v for *_, v in m.z]
        restore = highs.fixed(zs)
        if not highs.resolve_lp(prob, opts, deadline, zs):
            if deadline.passed():
                return None
            raise SolverError(f"week {week + 1}: no plan with the rostered in-house shifts")
        u = rounding.u_values(m)
        days = {d for d, uv in zip(m.date_of_row, u) if uv > 1e-6}
        if days:
            restore()
            free = [v for k, p, i, v in m.z if m.date_of_row[i] in days]
            keep = highs.fixed([v for k, p, i, v in m.z if m.date_of_row[i] not in days])
            # to within a hundredth of an agent-slot of deficit of its optimum: no deficit
            # the optimum avoids is kept, and a week whose deficit no agent can close does not
            # prove its last euros to REPAIR_SECONDS (one took 20 s and 1.2 GB to gap 0)
            highs.resolve_mip(prob, opts, deadline, zs, free,
                              gap_abs=REFIT_GAP_SLOTS * slot_weight(scenario),
                              seconds=solve_mod.REPAIR_SECONDS)
            keep()
            if deadline.passed():
                status = "time_limit"
    objective = float(pulp.value(prob.objective))
    solved = solve_mod.Solved(status, objective, objective if lp_bound is None else lp_bound,
                              time.perf_counter() - t1)
    r = tables_mod.extract(m, week, solved, integer=not opts.relax)
    tables_mod.week_parts(scenario, opts, m, r)  # (no anonymous tours: the rosters replace them)
    if has_carry:
        r.inhouse = (pd.concat([r.inhouse, carry], ignore_index=True)
                     .groupby(["row", "provider"], as_index=False)["agents"].sum())
    return r


def _replan_job(args):
    """carry.replan_week(*args) in a worker."""
    from . import carry

    with memory.paused_gc():  # (a model's objects: see memory.paused_gc)
        return carry.replan_week(*args)


def _refit_job(args):
    """refit_week(*args) in a worker."""
    with memory.paused_gc():
        return refit_week(*args)


def _refit_key(job, start) -> tuple:
    """What decides a re-solve: the week's requirement rows and rostered shift counts (dates
    relative to its first day), its LP bound, the advisers carried in from the previous
    week's shifts crossing midnight (by row), and the order of its dates' names (variables
    are named by date, and the solver sees them in name order)."""
    req_week, week, counts, lp_bound = job[2:6]
    carry = job[7] if len(job) > 7 else None
    from ..allocation import reuse

    w0 = start + pd.Timedelta(days=7 * week)
    rel = sorted((k[0], k[1], (pd.Timestamp(k[2]) - w0).days, *k[3:], v) for k, v in counts.items())
    names = [f"{w0 + pd.Timedelta(days=d):%m%d}" for d in range(7)]
    carried = (None if carry is None else
               repr(carry[["row", "provider", "agents"]].to_records(index=False).tolist()))
    return (reuse.week_key(req_week, w0), repr(rel), lp_bound, carried,
            tuple(np.argsort(names)))


class _Refits:
    """Re-solves (`refit_week` jobs), each distinct one solved once: a week whose key
    (`_refit_key`) equals an earlier job's gets that result moved by whole weeks
    (allocation.reuse.moved), as identical weeks of the plan do. `start_next` starts the next
    distinct job in the open `parallel.kept_pool` (the rosters pass does, when a worker has
    nothing else to do: `_Lanes`); `results` solves the rest and returns every job's result in
    order."""

    def __init__(self, opts):
        self.start = pd.Timestamp(opts.start)
        self.jobs: list = []
        self.first: list = []  # per job: the index of the first job with its key
        self._index: dict = {}  # key -> its first job
        self._started: dict = {}  # job index -> Future
        self._next = 0

    def add(self, job) -> None:
        i = len(self.jobs)
        self.jobs.append(job)
        self.first.append(self._index.setdefault(_refit_key(job, self.start), i))

    def start_next(self):
        """The next distinct job not yet started, started in the open kept pool: its Future
        (None when there is none, or no pool)."""
        while self._next < len(self.jobs) and self.first[self._next] != self._next:
            self._next += 1
        if self._next >= len(self.jobs):
            return None
        f = parallel.submit(_refit_job, self.jobs[self._next])
        if f is not None:
            self._started[self._next] = f
            self._next += 1
        return f

    def results(self, workers: int) -> list:
        from ..allocation import reuse

        rest = [i for i, f in enumerate(self.first) if f == i and i not in self._started]
        got = dict(zip(rest, alloc.run_jobs(_refit_job, [self.jobs[i] for i in rest], workers)))
        got.update({i: f.result() for i, f in self._started.items()})
        out = []
        for i, job in enumerate(self.jobs):
            src = got[self.first[i]]
            out.append(src if self.first[i] == i or src is None else
                       reuse.moved(src, job[3], 7 * (job[3] - self.jobs[self.first[i]][3])))
        return out


def _run_refits(jobs: list, opts) -> list:
    """The re-solves `jobs` (in order), each distinct one solved once (`_Refits`)."""
    lane = _Refits(opts)
    for job in jobs:
        lane.add(job)
    return lane.results(opts.workers or 2)


def roster_cover(req: pd.DataFrame, rosters: pd.DataFrame, slot_minutes: int) -> pd.DataFrame:
    """In-house advisers at work per requirement row and team, from the roster lines:
    rows (row, provider, agents) in row and provider order, `row` indexing req (one shift per
    slot it works, its break excluded; a slot of a repeated hour counts on its first row).
    Identical lines (times, plateau, team) are expanded into slots once, with their number."""
    if not len(rosters):
        return pd.DataFrame(columns=["row", "provider", "agents"])
    step = pd.Timedelta(minutes=slot_minutes)
    plats = pd.Index(pd.unique(req["plateau"]))
    team, teams = pd.factorize(rosters["team"], sort=True)
    times = [rosters[c].to_numpy().astype("datetime64[ns]")
             for c in ("shift_start", "shift_end", "break_start", "break_end")]
    plat = plats.get_indexer(rosters["plateau"])
    key = np.column_stack([t.view(np.int64) for t in times] + [plat, team])
    one, count = _unique_rows(key)
    start, end, bs, be = (t[one] for t in times)
    n = ((end - start) // step.to_timedelta64()).astype(int)
    idx = np.repeat(np.arange(len(one)), n)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    t = start[idx] + k * step.to_timedelta64()
    work = ~((t >= bs[idx]) & (t < be[idx]))
    idx, t = idx[work], t[work]
    # (slot start in minutes, plateau code) of each cell and of each requirement row's first
    # occurrence, matched as integers (no text merge)
    cell_p = plat[one][idx]
    cell = t.astype("datetime64[m]").astype(np.int64) * (len(plats) + 1) + cell_p
    req_key = (req["slot_start"].to_numpy().astype("datetime64[m]").astype(np.int64)
               * (len(plats) + 1) + plats.get_indexer(req["plateau"].to_numpy()))
    keys, first = np.unique(req_key, return_index=True)
    at = np.searchsorted(keys, cell).clip(max=len(keys) - 1)
    hit = (keys[at] == cell) & (cell_p >= 0)
    pair, which = np.unique(first[at[hit]].astype(np.int64) * len(teams) + team[one][idx[hit]],
                            return_inverse=True)
    agents = np.bincount(which.ravel(), weights=count[idx[hit]], minlength=len(pair))
    return pd.DataFrame({"row": pair // max(len(teams), 1),
                         "provider": pd.Series(np.asarray(teams, dtype=object)
                                               [pair % max(len(teams), 1)],
                                               dtype=rosters["team"].dtype),
                         "agents": agents.astype(float)})


def _unique_rows(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the first row of each distinct row of the 2-D integer array `key`, how many rows equal
    it), the distinct rows in numeric order: the index and counts np.unique(key, axis=0)
    gives (in its order, the rows' bytes'), by a lexsort, in a fifteenth of its time."""
    if not len(key):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort(key.T[::-1])
    k = key[order]
    new = np.ones(len(k), dtype=bool)
    new[1:] = (k[1:] != k[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    return order[starts], np.diff(np.append(starts, len(k)))


def carried_in(rosters: pd.DataFrame, w0) -> pd.DataFrame:
    """Roster lines dated before `w0` (a week's first day) that end after it: the shifts
    crossing midnight into the week, whose tail staffs its first morning."""
    if not len(rosters):
        return rosters
    return rosters[(rosters["date"] < w0) & (rosters["shift_end"] > w0)]


def _adopt(scenario, opts, r, req_week: pd.DataFrame, rosters_week: pd.DataFrame,
           force: bool = False, carried: pd.DataFrame | None = None):
    """The week's result with the rostered in-house shifts, when they leave no requirement row
    less staffed than its need with the week's outsourced agents (no re-solve needed: the
    outsourced plan and its cost stand); None otherwise. force: even with a gap (the deadline
    left no time to re-solve: its deficit is then what the rosters leave, status
    time_limit). carried: the previous week's lines crossing midnight into this one (they
    staff its first morning)."""
    prov = scenario.providers
    eff = ((1.0 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    req_week = req_week.reset_index(drop=True)
    at_work = (rosters_week if carried is None or not len(carried)
               else pd.concat([carried, rosters_week], ignore_index=True))
    inhouse = roster_cover(req_week, at_work, scenario.slot_minutes)
    staffed = np.zeros(len(req_week))
    np.add.at(staffed, inhouse["row"].to_numpy(int),
              inhouse["agents"].to_numpy(float) * inhouse["provider"].map(eff).to_numpy(float))
    if len(r.z):
        np.add.at(staffed, r.z["row"].to_numpy(int),
                  r.z["agents"].to_numpy(float) * r.z["provider"].map(eff).to_numpy(float))
    staffed -= r.cb
    need = (req_week["floor_agents"] if opts.sl_scope == "day" else req_week["agents"]).to_numpy(float)
    if not force and ((staffed + r.u < need - 1e-6).any() or opts.sl_scope == "day"):
        return None  # a gap (or day scope, whose daily SL needs the model): re-solve
    from .patterns import hhmm

    c = shift_counts(rosters_week, scenario)
    brk = scenario.shifts.unpaid_break_minutes
    span = (c["paid_hours"] * 60).round().astype(int) + np.where(c["break_start_min"] >= 0, brk, 0)
    x = pd.DataFrame({
        "provider": c["provider"], "plateau": c["plateau"], "date": c["date"],
        "start_min": c["start_min"], "end_min": c["start_min"] + span,
        "break_start_min": c["break_start_min"].where(c["break_start_min"] >= 0),
        "paid_hours": c["paid_hours"], "advisers": c["advisers"].astype(float),
        "group": c["group"], "contract": c["contract"]})
    x.insert(3, "shift", [f"{hhmm(a)}-{hhmm(b)}" + ("" if pd.isna(bb) else f" b{hhmm(bb)}")
                          for a, b, bb in zip(x["start_min"], x["end_min"], x["break_start_min"])])
    # no row is short of more than before: the week's objective, less the penalty of the
    # deficit the rosters remove (service.deficit_cost), stays an upper bound (forced: the
    # deficit the rosters leave, the objective then the plan's, understated)
    u = np.maximum(need - staffed, 0.0)
    objective = r.objective
    if not force:
        from ..allocation.service import deficit_cost, slot_weight

        u = np.minimum(u, r.u)
        removed = float((deficit_cost(r.u, need) - deficit_cost(u, need)).sum())
        objective -= slot_weight(scenario) * removed
    new = dataclasses.replace(r, x=x, inhouse=inhouse, u=u, objective=objective,
                              status="time_limit" if force else r.status)
    sh = x.copy()
    sh["start"] = sh["start_min"].map(hhmm)
    sh["end"] = sh["end_min"].map(hhmm)
    sh["break_start"] = sh["break_start_min"].map(hhmm)
    new.shifts = sh
    new.tours = pd.DataFrame()
    return new


def _against_plan(scenario, r, week_lines: pd.DataFrame) -> tuple:
    """Week r's rostered shift counts (from its roster lines `week_lines`: group, plateau,
    date, start_min, break_start_min or -1, paid_hours, advisers) and whether they differ from
    its plan's; (None, False) for a week the calendar closes (neither has a shift)."""
    plan = _key_frame(r.x)
    mine = (shift_counts(week_lines, scenario).drop(columns=["provider", "contract"])
            if len(week_lines) else plan.iloc[:0])
    if not len(plan) and not len(mine):
        return None, False
    both = plan.merge(mine, on=SHIFT_KEYS, how="outer", suffixes=("_plan", "_roster")).fillna(0)
    return mine, bool((both["advisers_plan"] != both["advisers_roster"]).any())


def _refit_need(scenario, opts, req, r, week_lines: pd.DataFrame, carried: pd.DataFrame,
                deadline=None):
    """What week r needs once rostered (`week_lines`: its roster lines; `carried`: earlier
    lines crossing midnight into it, `carried_in`): None when its rostered shifts are its
    plan's and none are carried in; the week with the rostered shifts when they leave no gap
    (`_adopt`); else the re-solve's job (a tuple of `refit_week`'s arguments)."""
    mine, differs = _against_plan(scenario, r, week_lines)
    if mine is None or not (differs or len(carried)):
        return None
    week_req = req[req["week"] == r.week]
    # with shifts carried in, the week's model never counted them: re-solve the outsourced
    # agents against the rosters (its first morning may need fewer)
    if not len(carried):
        adopted = _adopt(scenario, opts, r, week_req, week_lines)
        if adopted is not None:
            return adopted
    counts = {tuple(row[:-1]): float(row[-1])
              for row in mine[SHIFT_KEYS + ["advisers"]].itertuples(index=False)}
    carry = (roster_cover(week_req.reset_index(drop=True), carried, scenario.slot_minutes)
             if len(carried) else None)
    return (scenario, opts, week_req, r.week, counts, r.lp_bound, deadline, carry)


def _refit_changed(scenario, opts, req, results, rosters, weeks=None,
                   deadline=None) -> tuple[list, list]:
    """Re-solve the weeks (all, or those in `weeks`) whose rostered shifts differ from the
    week's shifts and leave a gap, with the rostered ones; weeks without a gap take the
    rostered shifts as they are (`_adopt`). Returns (results, weeks re-solved)."""
    start = pd.Timestamp(opts.start)
    jobs, kept = [], []
    for r in results:
        if weeks is not None and r.week not in weeks:
            continue
        w0 = start + pd.Timedelta(days=7 * r.week)
        need = _refit_need(scenario, opts, req, r, _dated(rosters, w0, w0 + pd.Timedelta(days=7)),
                           carried_in(rosters, w0), deadline)
        if need is not None:
            (jobs if isinstance(need, tuple) else kept).append(need)
    refits = _run_refits(jobs, opts) if jobs else []
    return _with_refits(scenario, opts, results, rosters, kept, jobs, refits)


def _with_refits(scenario, opts, results, rosters, kept: list, jobs: list,
                 refits: list) -> tuple[list, list]:
    """results with the weeks `kept` (rostered shifts adopted) and the re-solves of `jobs`
    (`refits`, their results in order; None where the deadline passed: the rosters with the
    week's outsourced plan, status time_limit). Returns (results, weeks re-solved)."""
    start = pd.Timestamp(opts.start)
    by_week = {r.week: r for r in results}
    for new in kept:
        by_week[new.week] = new
    done = []
    for job, new in zip(jobs, refits):
        old = by_week[job[3]]
        if new is None:  # the deadline passed: the rosters with the week's outsourced plan
            w0 = start + pd.Timedelta(days=7 * old.week)
            by_week[old.week] = _adopt(scenario, opts, old, job[2],
                                       _dated(rosters, w0, w0 + pd.Timedelta(days=7)), True,
                                       carried_in(rosters, w0))
            continue
        new.solve_s, new.build_s = old.solve_s, old.build_s
        new.status = alloc.combined_status([old.status, new.status])
        by_week[new.week] = new
        done.append(new.week)
    return [by_week[w] for w in sorted(by_week)], done


def _leaves_gap(scenario, opts, r, req, week_lines: pd.DataFrame, carried: pd.DataFrame,
                need) -> bool:
    """Whether week r's rostered shifts (`week_lines`) differ from its plan and leave a gap
    (`_adopt`), from what `_refit_need` found for the same lines (`need`)."""
    if not isinstance(need, tuple):
        return False  # its plan's shifts, or adopted as they are
    if not len(carried):
        return True  # _refit_need found them different and `_adopt` refused them
    return (_against_plan(scenario, r, week_lines)[1]
            and _adopt(scenario, opts, r, req[req["week"] == r.week], week_lines) is None)


def _carry(scenario, opts, req, results: list, deadline):
    """Weeks in order, each rostered from its advisers' states at its start (carry.states_at on
    the rosters before it and the pre-horizon state), with the next week's plan as its
    look-ahead. A week whose rosters leave a gap while its plan asks of a group's first days
    more than those states allow (carry.shortfall: daily rest after the previous Sunday, days
    in a row, Sundays) is planned again under those limits, per group, the in-house shifts of
    the teams sharing a plateau with a short group included (carry.replan_week), and those
    teams are rostered again for that week. Each week is rostered once, and a re-planned
    week's teams once more: linear in the horizon. Once a week is rostered, what it needs
    (`_refit_need`) is known: its re-solve starts in a worker when one has nothing else to
    do, the rest at the end of the pass. A week's re-plan starts in a worker beside its
    rosters, from what is known before them (`_replan_job`), and each group's next weeks as
    soon as its own week ends (`_Lanes`). Returns
    (results, the rosters table, (weeks adopted, re-solve jobs, their results) for
    `_with_refits`, the band models' last-resort weeks as (team, contract, first day))."""
    from ..allocation.options import Deadline

    deadline = deadline or Deadline()
    results = sorted(results, key=lambda r: r.week)
    t0 = pd.Timestamp(opts.start)
    before = adviser_states(getattr(scenario, "roster_state", None), t0)
    # every adviser of each group (those who never work still count)
    groups = contract_groups(scenario)
    ids = {g.key: group_ids(g, results) for g in groups}
    team_of = {g.key: g.team for g in groups}
    weekly: dict = {}  # team -> its rosters, one frame per week rostered
    refits = _Refits(opts)
    starts: list = []
    with parallel.kept_pool(opts.workers or 2):
        kept = _roster_weeks(scenario, opts, req, results, deadline, weekly, ids, team_of,
                             before, refits, text_dtypes(scenario, ids), starts)
        solved = refits.results(opts.workers or 2)
    by_team = {}
    for t in sorted(weekly):  # each team's weekly frames freed as its table is made
        by_team[t] = pd.concat(weekly.pop(t), ignore_index=True).sort_values(
            ["adviser", "date"], ignore_index=True)
    rosters = _joined(by_team)
    del by_team
    memory.release()  # (the pass's weekly frames and team tables)
    return results, rosters, (kept, refits.jobs, solved), starts


def _roster_weeks(scenario, opts, req, results: list, deadline, weekly: dict, ids: dict,
                  team_of: dict, before: dict, refits: "_Refits", text: dict,
                  starts: list) -> list:
    """`_carry`'s pass: results (in week order) and weekly (team -> one roster frame per
    week, its text columns as `text`'s categoricals) updated in place, each week's re-solve
    added to `refits`, the (team, contract, first day) of each week whose kept rosters came
    from the band model's last-resort start (`_by_team`) to `starts`. Returns the weeks that take
    their rostered shifts as they are (`_adopt`). In the kept pool the jobs run in
    `_Lanes`; without one (one worker, a Dask cluster) a week's groups run together
    (`team_rosters`), the same jobs."""
    from . import carry

    rules = scenario.rules or WorkingRules()
    t0 = pd.Timestamp(opts.start)
    cost: dict = {}  # group key -> CPU seconds of its last job (jobs start dearest first)
    kept, previous = [], pd.DataFrame(columns=builder.ROSTER_COLUMNS)
    final: dict = {k: [] for k in ids}  # group -> (week, week_marks) of its last weeks
    lanes = (_Lanes(scenario, opts, results, final, ids, team_of, before, cost, refits, req,
                    deadline)
             if parallel.pool_open() else None)
    for i, r in enumerate(results):
        w0 = t0 + pd.Timedelta(days=7 * r.week)
        every = {}  # each adviser's state at the week's start
        for k, a in ids.items():
            every.update(carry.states_from_marks(final[k], a, r.week, before))
        marks: dict = {}  # group -> the week_marks of its final lines of the week
        states = {k: {x: every[x] for x in a} for k, a in ids.items()}
        # groups whose plan asks more of the first days than their states allow: only then
        # can the week be planned again and its rosters change once built
        short = {k for k, st in states.items() if _group_short(r, k, team_of[k], st, rules, t0)
                 } if (r.week > 0 or before) else set()
        free, held = _held(scenario, short, team_of)
        if short:  # its re-plan, should the rosters leave a gap: all it reads is known now
            replan = _replan_args(scenario, opts, req, results, i, free, held, states, team_of,
                                  deadline)
        if lanes is not None:
            lanes.begin(i, every, held)
            if short:  # in a worker beside the week's rosters (a week with no gap drops it)
                lanes.replan(replan)
            lines = lanes.lines(i)
        else:
            lines = team_rosters(scenario, opts, results, r.week, every, to_week=r.week + 1,
                                 cost=cost, marks=marks)
        started = _pop_starts(lines)
        week_lines = _lines_between(lines, w0, w0 + pd.Timedelta(days=7))
        carried = carried_in(previous, w0)
        need = _refit_need(scenario, opts, req, r, week_lines, carried, deadline)
        # (without a short group a gap is not the previous week's doing: re-solve, outsourced)
        if short and _leaves_gap(scenario, opts, r, req, week_lines, carried, need):
            new = lanes.replan_result(i) if lanes is not None else carry.replan_week(*replan)
            if new is None:
                r.status = "time_limit"
            else:
                results[i] = new
                for team in free:
                    lines.pop(team, None)
                    started.pop(team, None)
                if lanes is not None:
                    lanes.reroster(i, every, held)
                    again = lanes.lines(i, held)
                else:
                    again = team_rosters(scenario, opts, results, r.week, every, teams=free,
                                         to_week=r.week + 1, cost=cost, marks=marks)
                started.update(_pop_starts(again))
                lines.update(again)
                week_lines = _lines_between(lines, w0, w0 + pd.Timedelta(days=7))
                need = _refit_need(scenario, opts, req, new, week_lines, carried, deadline)
        elif short and lanes is not None:
            lanes.drop_replan(i)
        if lanes is not None:
            marks = {k: lanes.marks[k][i] for k in ids}
            lanes.release()
        for k in ids:  # (the rules read back LOOKBACK_DAYS)
            final[k] = final[k][-(carry.LOOKBACK_DAYS // 7 - 1):] + [(r.week, marks[k])]
        for team, frame in lines.items():  # (a year's lines: 45 MB, not 130 as text)
            starts += started.get(team, [])
            weekly.setdefault(team, []).append(as_categories(frame, text))
        if isinstance(need, tuple):
            refits.add(need)
        elif need is not None:
            kept.append(need)
        previous = week_lines
    return kept


def attach(scenario, opts, req: pd.DataFrame, results: list, deadline=None):
    """Rosters for the plan; weeks whose rostered shifts differ from the plan's re-solved with
    the rostered ones; where a slot is still short, advisers moved to another of their team's
    plateaux (`rebalance`) and those weeks re-solved again. Returns (rosters, results, weeks
    re-solved, (team, contract, first day) of each week whose rosters came from the band
    model's last-resort start: builder.build_team)."""
    from .rebalance import rebalance

    results, rosters, (kept, jobs, solved), starts = _carry(scenario, opts, req, results,
                                                            deadline)
    results, refit = _with_refits(scenario, opts, results, rosters, kept, jobs, solved)
    if len(rosters) and any((r.u > 1e-6).any() for r in results):
        rosters, moved = rebalance(scenario, opts, req, results, rosters)
        if moved:
            results, again = _refit_changed(scenario, opts, req, results, rosters, moved,
                                            deadline)
            refit = sorted(set(refit) | set(again))
    return rosters, results, refit, starts


def tours_from_rosters(rosters: pd.DataFrame, start, weeks: int) -> pd.DataFrame:
    """The tours table as a summary of the rosters: per team and week, identical weekly lines
    (day columns are the real weekdays: "HH:MM-HH:MM plateau" or "off") and their advisers.
    Made one team at a time (a year's 832,000 lines: a fifth of the temporaries at once)."""
    from .patterns import WEEKDAYS

    cols = ["week", "provider", "plateau", "tour", "advisers"] + list(WEEKDAYS) + ["paid_hours"]
    if not len(rosters):
        return pd.DataFrame(columns=cols)
    team = rosters["team"]
    parts = [_team_tours(rosters[team == t], pd.Timestamp(start), WEEKDAYS)
             for t in sorted(team.dropna().unique().tolist())]
    lines = pd.concat(parts, ignore_index=True).rename(columns={"team": "provider"})
    lines = lines.sort_values(["week", "provider", "advisers"], ascending=[True, True, False],
                              kind="stable").reset_index(drop=True)
    lines["tour"] = lines.groupby(["week", "provider"], observed=True).cumcount().map(
        lambda i: f"T{i + 1:04d}")
    lines["advisers"] = lines["advisers"].astype(float)
    return lines[cols]


def _team_tours(r: pd.DataFrame, start: pd.Timestamp, weekdays) -> pd.DataFrame:
    """One team's lines of the tours table, in (week, day cells, plateau, paid hours) order,
    before numbering (tours_from_rosters)."""
    r = r.copy(deep=False)  # copy-on-write: the columns added here are r's alone
    date = pd.to_datetime(r["date"])
    r["week"] = ((date - start).dt.days // 7 + 1).astype(int)
    groups = r.groupby(["week", "team", "adviser"], sort=True, observed=True)  # (categorical)
    group, index = groups.ngroup().to_numpy(), groups.size().index
    wide = _week_grid(group, date.dt.day_of_week.to_numpy(), np.take(*_cells_text(r)), index,
                      weekdays)
    extra = pd.DataFrame({"paid_hours": groups["paid_hours"].sum(),
                          "plateau": _plateaux_joined(group, index, r["plateau"])})
    wide = wide.join(extra).reset_index()
    return (wide.groupby(["week", "team"] + list(weekdays) + ["plateau", "paid_hours"],
                         observed=True).size().rename("advisers").reset_index())


_HHMM = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)], dtype=object)


def _cells_text(r: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """"HH:MM-HH:MM plateau" per roster line (shift start and end, wall clock), as (the
    distinct texts, each line's code into them): strftime's text, each made once."""
    key, plats = _cell_keys(r)
    uniq, inverse = np.unique(key, return_inverse=True)
    return _cell_texts(uniq, plats), inverse.ravel()


def _cell_keys(r: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Per roster line, an integer naming its cell (shift start and end minute of the day,
    plateau code into the returned plateaux; `_cell_texts` makes the texts), computed
    ROWS_AT_A_TIME lines at a time."""
    code, plats = pd.factorize(r["plateau"])  # (no text object per line)
    key = np.empty(len(r), dtype=np.int64)
    for a in range(0, len(r), ROWS_AT_A_TIME):
        part = slice(a, a + ROWS_AT_A_TIME)
        s, e = (r[c].iloc[part].to_numpy("datetime64[m]") for c in ("shift_start", "shift_end"))
        s = (s - s.astype("datetime64[D]")).astype(np.int64)
        e = (e - e.astype("datetime64[D]")).astype(np.int64)
        key[part] = (s * 1440 + e) * (len(plats) + 1) + code[part] + 1
    return key, plats


ROWS_AT_A_TIME = 200_000


def _cell_texts(uniq: np.ndarray, plats: pd.Index) -> np.ndarray:
    """The texts of the distinct cell keys `uniq` (`_cell_keys`), as an object array."""
    p = uniq % (len(plats) + 1) - 1
    se = uniq // (len(plats) + 1)
    return np.array([f"{_HHMM[a // 1440]}-{_HHMM[a % 1440]} {plats[i] if i >= 0 else np.nan}"
                     for a, i in zip(se.tolist(), p.tolist())], dtype=object)


def _object_grid(shape, value) -> np.ndarray:
    """An object array of `shape`, every cell the one object `value` (np.full would make a
    new text or float object per cell: 60 MB for a year's 166,400 adviser-weeks)."""
    out = np.empty(shape, dtype=object)
    out.fill(value)
    return out


def _week_grid(group, day, cell, index, weekdays) -> pd.DataFrame:
    """Groups down (`index`, group codes `group` of the lines), weekdays across: each day's
    first line's cell, "off" where none."""
    grid = _object_grid((len(index), 7), "off")
    first = ~pd.Series(group * 7 + day).duplicated().to_numpy()
    grid[group[first], day[first]] = cell[first]
    return pd.DataFrame(grid, index=index, columns=pd.Index(list(weekdays), name="wd"))


def _plateaux_joined(group: np.ndarray, index: pd.Index, plateau: pd.Series) -> pd.Series:
    """Per group (`index`, in group code order; `group`: each line's code), the distinct
    plateaux of its lines, sorted, joined by ";" (from integer codes: no copy of the text)."""
    code, names = pd.factorize(plateau, sort=True)
    pair = np.unique(group.astype(np.int64) * (len(names) + 1) + code + 1)
    g, c = pair // (len(names) + 1), pair % (len(names) + 1) - 1
    text = np.array([str(n) for n in names] + [""], dtype=object)[c]  # (missing: "")
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    joined = [";".join(x for x in text[i:j] if x) for i, j in zip(starts, ends)]
    return pd.Series(joined, index=index[g[starts]], dtype=object)


def roster_sheet(rosters: pd.DataFrame) -> pd.DataFrame:
    """Advisers down, dates across: "HH:MM-HH:MM plateau" or "" (off). The day columns are
    categorical, one set of texts for all (a year's 1.2 million cells hold small codes, not
    a text each); rows made by ranges of advisers (check.BLOCK_LINES lines at a time)."""
    from .check import BLOCK_LINES, adviser_blocks

    if not len(rosters):
        return pd.DataFrame(columns=["adviser", "team", "contract"])
    keys = ["adviser", "team", "contract"]
    dates = rosters["date"].to_numpy("datetime64[D]")
    n = dates.view(np.int64)
    lo = int(n.min())
    days = (np.flatnonzero(np.bincount(n - lo)) + lo).astype("datetime64[D]")
    cell, plats = _cell_keys(rosters)
    uniq = np.unique(cell)
    text = _cell_texts(uniq, plats)
    plateau = rosters["plateau"].dtype  # (the text dtype, that of its categories if any)
    plateau = getattr(plateau, "categories", pd.Index([], dtype=plateau)).dtype
    cells = pd.CategoricalDtype(pd.Index([""] + text.tolist(), dtype=plateau))
    small = np.int8 if len(text) < 127 else np.int16 if len(text) < 32767 else np.int32
    grids, heads = [], []
    for names in adviser_blocks(rosters["adviser"], BLOCK_LINES):
        mine = (slice(None) if names is None else
                np.flatnonzero(rosters["adviser"].isin(names).to_numpy()))
        # (adviser, team, contract) in sorted order from integer codes: no text per line
        group, head = _group_codes(rosters.iloc[mine][keys], keys)
        code = np.searchsorted(days, dates[mine])
        grid = np.zeros((len(head), len(days)), dtype=small)  # code 0: ""
        first = ~pd.Series(group * len(days) + code).duplicated().to_numpy()
        grid[group[first], code[first]] = np.searchsorted(uniq, cell[mine][first]) + 1
        grids.append(grid)
        heads.append(head)
    grid = np.concatenate(grids)
    head = pd.concat(heads, ignore_index=True)
    names = pd.Index(pd.DatetimeIndex(days).strftime("%Y-%m-%d"), name="day")
    wide = pd.DataFrame({n: pd.Categorical.from_codes(grid[:, j], dtype=cells)
                         for j, n in enumerate(names)})
    wide.columns = names
    return pd.concat([head, wide], axis=1)


def _group_codes(frame: pd.DataFrame, keys: list) -> tuple[np.ndarray, pd.DataFrame]:
    """(each row's group code, the groups' key values in code order): groupby(keys,
    sort=True).ngroup() and its keys, from each column's sorted integer codes (missing
    values sort last, as groupby's dropna=False)."""
    codes, uniques = [], []
    for k in keys:
        c, u = pd.factorize(frame[k], sort=True, use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        uniques.append(u)
    key = np.zeros(len(frame), dtype=np.int64)
    for c, u in zip(codes, uniques):
        key = key * len(u) + c
    first, group = np.unique(key, return_index=True, return_inverse=True)[1:]
    return group.ravel(), frame[keys].iloc[first].reset_index(drop=True)


def add_tables(tables: dict, rosters: pd.DataFrame, scenario, opts) -> None:
    """The rosters table, and tours as the rosters' summary, into a plan's tables."""
    name = scenario.name
    t = tours_from_rosters(rosters, opts.start, opts.weeks)
    memory.release()
    t.insert(0, "scenario", name)
    tables["tours"] = t
    r = rosters.copy(deep=False)  # copy-on-write: the scenario column is r's alone
    r.insert(0, "scenario", pd.Categorical.from_codes(np.zeros(len(r), np.int8), [name]))
    tables["rosters"] = r.reset_index(drop=True)


def _contract_entry(c, scenario, start, weeks: int) -> dict:
    """A contract as the manifest records it: its definition, the cycle week of each planning
    week and, when it does not work all seven weekdays, its own paid days off per week (the
    run's `paid_days_off` otherwise)."""
    dates = [week_dates(start, w) for w in range(weeks)]
    out = dict(c.as_dict(), cycle_week=[c.cycle_week(d[0], start) for d in dates])
    if tuple(c.weekdays) != tuple(range(7)):
        out["paid_days_off"] = [min(contract_days_off(c, scenario, d), c.days[i])
                                for d, i in zip(dates, out["cycle_week"])]
    return out


def _leave_entry(scenario, start, weeks: int) -> dict:
    """Advisers of the advisers table unavailable within the horizon: their dates there and
    the contract days those dates take off each week (paid, not worked)."""
    from .contracts import leave_days_off

    out = {}
    start = dt.date(start.year, start.month, start.day)
    end = start + dt.timedelta(days=7 * weeks)
    for g in contract_groups(scenario):
        for a, lv in zip(g.members, g.leave):
            dates = sorted(d for d in lv if start <= d < end)
            if dates:
                out[a] = {"dates": [d.isoformat() for d in dates],
                          "days_off": [leave_days_off(g.contract, scenario, start, w, lv)
                                       for w in range(weeks)]}
    return out


def _start_groups(starts: list) -> dict:
    """(team, contract id) -> the distinct first days of its weeks in `starts` (`attach`'s:
    (team, contract id, first day)), sorted (a team's groups of named advisers with other
    skills share its contract's)."""
    out: dict = {}
    for team, contract, day in starts:
        out.setdefault((team, contract), set()).add(day)
    return {tc: sorted(days) for tc, days in sorted(out.items())}


def start_warnings(starts: list) -> list[str]:
    """One warning per team and contract whose rosters came, some week, from the band model's
    last-resort start (`attach`'s starts: (team, contract id, first day of the week))."""
    from .contracts import DEFAULT_ID

    weeks = {(team if contract == DEFAULT_ID else f"{team} (contract {contract})"): days
             for (team, contract), days in _start_groups(starts).items()}
    return [f"rosters: CP-SAT found no rosters for {k} within its limit in {len(days)} "
            f"week{'s' if len(days) > 1 else ''} (first {min(days).isoformat()}); each class "
            "of its advisers took its first allowed tour type: every rule holds but the "
            "plan's counts are not kept, and the week's re-solve staffs the gaps from other "
            "providers where it can (manifest rosters.band_model_starts)"
            for k, days in weeks.items()]


def manifest_entry(scenario, refit_weeks, opts, starts: list = ()) -> dict:
    """What `staffing check` needs to check a run's rosters, and what was re-solved;
    paid_days_off: per week, the days the calendar closes that are paid, not worked;
    band_model_starts: the team, contract and week start of the weeks whose rosters came
    from the band model's last-resort start (`attach`)."""
    rules = scenario.rules or WorkingRules()
    start = opts.start or scenario.start
    used = {}
    for g in contract_groups(scenario):
        used.setdefault(g.contract.id, g.contract)
    contracts = [_contract_entry(c, scenario, start, opts.weeks) for c in used.values()]
    out = {"rules": rules.as_dict(), "contracts": contracts,
           "paid_days_off": [paid_days_off(scenario, week_dates(start, w))
                             for w in range(opts.weeks)],
           "weeks_resolved_from_rosters": [w + 1 for w in refit_weeks],
           "band_model_starts": [{"team": team, "contract": contract,
                                  "week_start": day.isoformat()}
                                 for (team, contract), days in
                                 _start_groups(starts).items() for day in days]}
    out["advisers"] = [{"team": g.team, "contract": g.contract.id, "ids": list(g.members)}
                       if g.members else {"team": g.team, "contract": g.contract.id,
                                          "first": g.first, "count": g.count}
                       for g in contract_groups(scenario)]
    leave = _leave_entry(scenario, start, opts.weeks)
    if leave:
        out["leave"] = leave
    st = getattr(scenario, "roster_state", None)
    if st is not None:
        out["state"] = [[a, e.isoformat(), int(n), int(s)] for a, e, n, s in
                        st.itertuples(index=False)]
    return out
