"""What a week's plan must respect of the rosters already built before it (docs/rosters.md,
"Carrying the rosters into the next week's plan").

Weeks of the plan are solved independently, so a week's first days may ask for shifts the
advisers cannot take after the previous week's rosters: early starts on Monday after late
shifts on Sunday (daily rest), a Monday for advisers already at the end of a run of days
(days in a row), a Sunday for advisers at their Sunday limit. `states_at` reads each adviser's
state at a week's start from the rosters built so far; `shortfall` says whether a plan's
counts ask more of the first days than those states allow; `add_limits` puts the same limits
into the week's model, so that the week can be planned again (in-house shifts included) with
them: per in-house group k (a team's advisers on one contract, rosters.contracts.groups), for
each day d and start time s,

    sum_{p, shifts on d starting at or before s} x_{k,p,d,s'} <= A_k(d, s) + e

with A_k(d, s) the group's advisers whose last shift ended at least the daily rest before s
on d (and, on the week's first day, whose run of days leaves room for one more); per run
length q, sum_{patterns working days 0..q-1} m_j <= R_k(q) + e (advisers with at most
max_days_in_a_row - q days in a row); and sum_{patterns working Sunday} m_j <= S_k + e
(advisers below their Sunday limit); m_j are the group's days-off patterns over all its
leave classes (aggregate.tour_terms), each with the dates it works. e >= 0 is priced at
LIMIT_EUR per adviser, so the model stays feasible. The re-plan also leaves room for the next
week's plan (`_ahead_rows`, slacks priced AHEAD_EUR): without it a re-planned week tends to
leave the next one short in turn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .builder import DAY, NO_PAST, AdviserState, _lead_need, _trail_run

LIMIT_EUR = 5000.0  # per adviser the carried limits cannot have: more than any shift's cost
# per adviser the next week's plan asks beyond what this week's re-plan leaves (the
# look-ahead rows): a tie-breaker, as aggregate.NO_PAIR_EUR (the next week may be planned
# again instead)
AHEAD_EUR = 1.0
LOOKBACK_DAYS = 28  # the rules reach back at most 3 weeks (Sundays) and a run of days


def states_at(rosters, advisers, horizon_start, week: int, before: dict | None = None) -> dict:
    """AdviserState of each adviser at week `week`'s start (minutes from it), from the roster
    lines before it (a frame, or a list of frames read as one) and, for what reaches before
    the horizon, the pre-horizon state `before` (rosters.state.adviser_states: minutes from
    the horizon's start). Same reading as the builder's own rolling (builder._next_states):
    last shift end, days worked in a row up to the day before, Sundays (day 6 of each
    planning week) of the last three weeks."""
    t = pd.Timestamp(horizon_start) + pd.Timedelta(days=7 * week)
    advisers = list(advisers)
    lo = (t - pd.Timedelta(days=LOOKBACK_DAYS)).to_datetime64()
    worked = np.zeros(len(advisers), dtype=np.int64)  # bit LOOKBACK_DAYS + d: worked day d < 0
    last = np.full(len(advisers), NO_END, dtype=np.int64)  # minutes from t
    for lines in ([rosters] if isinstance(rosters, pd.DataFrame) else rosters):
        if not len(lines) or not len(advisers):
            continue
        date = lines["date"].to_numpy()
        near = np.flatnonzero((date < t.to_datetime64()) & (date >= lo))
        days, ends = _marks(lines, near, advisers, lo)  # (from the window's first day)
        worked |= days
        last = np.maximum(last, np.where(ends == NO_END, NO_END, ends - LOOKBACK_DAYS * DAY))
    return _states(worked, last, advisers, before, week)


NO_END = np.iinfo(np.int64).min  # week_marks: no shift that week


def week_marks(lines: pd.DataFrame, advisers, week_start) -> tuple[np.ndarray, np.ndarray]:
    """What `states_at` reads of one week's roster lines (dated within the week from
    `week_start`), per adviser of `advisers` (in that order): (days worked, bit d for day d
    of the week; end of the last shift, minutes from week_start, NO_END if none). The pass
    keeps these instead of reading its weeks' lines again (`states_from_marks`)."""
    advisers = list(advisers)
    if not len(lines) or not len(advisers):
        return (np.zeros(len(advisers), dtype=np.int64),
                np.full(len(advisers), NO_END, dtype=np.int64))
    return _marks(lines, np.arange(len(lines)), advisers, pd.Timestamp(week_start).to_datetime64())


def _marks(lines: pd.DataFrame, rows: np.ndarray, advisers: list, t) -> tuple:
    """(days worked, bit d for day d from `t`; last shift end, minutes from t, NO_END if
    none) per adviser of `advisers`, from the lines `rows` of `lines` (dated from t on)."""
    days = np.zeros(len(advisers), dtype=np.int64)
    ends = np.full(len(advisers), NO_END, dtype=np.int64)
    who = _positions(lines["adviser"], rows, advisers)
    mine = who >= 0
    who, rows = who[mine], rows[mine]
    day = ((lines["date"].to_numpy()[rows] - t) // np.timedelta64(1, "D")).astype(np.int64)
    end = ((lines["shift_end"].to_numpy()[rows] - t) // np.timedelta64(1, "m")).astype(np.int64)
    np.bitwise_or.at(days, who, np.left_shift(1, day))
    np.maximum.at(ends, who, end)
    return days, ends


def states_from_marks(marks: list, advisers, week: int, before: dict | None = None) -> dict:
    """`states_at` at week `week`'s start from the `week_marks` of the weeks before it
    (`marks`: (week number, marks) pairs, each aligned to `advisers`; weeks more than
    LOOKBACK_DAYS before are not read) and the pre-horizon state `before`: the same
    AdviserState per adviser."""
    advisers = list(advisers)
    worked = np.zeros(len(advisers), dtype=np.int64)
    last = np.full(len(advisers), NO_END, dtype=np.int64)
    for v, (days, ends) in marks:
        back = week - v
        if 1 <= back <= LOOKBACK_DAYS // 7:
            worked |= np.left_shift(days, LOOKBACK_DAYS - 7 * back)
            last = np.maximum(last, np.where(ends == NO_END, NO_END, ends - back * 7 * DAY))
    return _states(worked, last, advisers, before, week)


def _states(worked: np.ndarray, last: np.ndarray, advisers: list, before: dict | None,
            week: int) -> dict:
    """AdviserState per adviser from the lookback window's days worked and last end
    (`_rolled`) and the pre-horizon states `before`."""
    run, end, suns = _rolled(worked, last, [(before or {}).get(a) for a in advisers], week)
    return {a: AdviserState(r, e, s) for a, r, e, s in zip(advisers, run, end, suns)}


def _positions(column: pd.Series, rows: np.ndarray, advisers: list) -> np.ndarray:
    """Position in `advisers` of the adviser of each of the lines `rows` (-1: not one of
    them); a categorical column is read by its codes, a text one only at `rows`."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        at = np.append(pd.Index(advisers).get_indexer(column.cat.categories), -1)
        return at[column.cat.codes.to_numpy()[rows]]  # (code -1, missing: the last, -1)
    return pd.Index(advisers).get_indexer(column.iloc[rows].to_numpy())


def _rolled(worked: np.ndarray, last: np.ndarray, past: list, week: int) -> tuple:
    """(runs, last ends, Sundays) of advisers from their days worked in the lookback window
    (worked: bit LOOKBACK_DAYS + d set when day d < 0 of the week was worked; last: end of
    the last shift in it, minutes) and their pre-horizon AdviserState or None (`past`), as
    Python values in the advisers' order."""
    full = (1 << LOOKBACK_DAYS) - 1
    idle = ~worked & full  # days not worked; the run is the set bits above the highest idle
    # bit_length of idle (< 2**28: exact in float64)
    length = np.where(idle > 0, np.floor(np.log2(np.maximum(idle, 1))).astype(np.int64) + 1, 0)
    run = np.where(idle > 0, LOOKBACK_DAYS - length, LOOKBACK_DAYS)
    none = AdviserState()
    past = [none if p is None else p for p in past]
    p_run = np.array([p.run for p in past], dtype=np.int64)
    p_end = np.array([p.last_end for p in past], dtype=np.int64)
    # every day since the horizon's start: the run goes on before it
    run = np.where(run == 7 * week, run + p_run, run)
    off = NO_PAST if 7 * week > LOOKBACK_DAYS else np.maximum(p_end - 7 * week * DAY, NO_PAST)
    end = np.where(worked == 0, off, last)
    cols = []
    for i in (3, 2, 1):
        if week - i >= 0:
            cols.append((worked >> (LOOKBACK_DAYS - 7 * i + 6)) & 1 == 1)
        else:
            cols.append(np.array([p.sundays[3 + week - i] for p in past], dtype=bool))
    suns = zip(*(c.tolist() for c in cols)) if len(past) else iter(())
    return run.tolist(), end.tolist(), [tuple(x) for x in suns]


def _limits(states: dict, rules) -> tuple:
    """(last ends sorted, ends of advisers able to work the week's first day sorted,
    advisers per room in the run (index q: may work q more days in a row), advisers below
    the Sunday limit)."""
    ends = np.sort([s.last_end for s in states.values()])
    first = np.sort([s.last_end for s in states.values() if s.run < rules.max_days_in_a_row])
    room = np.array([rules.max_days_in_a_row - s.run for s in states.values()])
    sun = sum(sum(s.sundays) < rules.max_sundays_per_4_weeks for s in states.values())
    return ends, first, room, sun


def _able(ends, first, day: int, start, rest: int):
    """Advisers who may start at `start` (minutes: a number, or an array of them) on day
    `day` of the week (daily rest; run on day 0): an int, or an array shaped as `start`."""
    pool = first if day == 0 else ends
    got = np.searchsorted(pool, day * DAY + np.asarray(start) - rest, side="right")
    return int(got) if np.ndim(got) == 0 else got


def shortfall(x: pd.DataFrame, states: dict, rules, week_start) -> int:
    """Advisers a team's planned shifts x (date, start_min, advisers) ask beyond what the
    carried states allow on the week's first days (the limits of `add_limits` that the plan's
    counts show; 0 when they all hold)."""
    if not len(x) or not states:
        return 0
    ends, first, room, sun = _limits(states, rules)
    rest = int(round(rules.daily_rest_hours * 60))
    day = ((pd.to_datetime(x["date"]).to_numpy() - pd.Timestamp(week_start).to_datetime64())
           // np.timedelta64(1, "D")).astype(np.int64)
    start = x["start_min"].to_numpy(np.int64)
    n = x["advisers"].to_numpy(float)
    heads = len(states)
    over = 0
    for d in np.unique(day).tolist():
        if d * DAY + int(start.min()) - rest >= ends[-1] and d > 0:
            continue  # every adviser rested by then
        on = day == d
        starts, at = np.unique(start[on], return_inverse=True)
        cum = np.cumsum(np.bincount(at, weights=n[on])).astype(np.int64)  # asked by each start
        over = max(over, int((cum - _able(ends, first, d, starts, rest)).max()))
    week = (day >= 0) & (day < 7)
    per_day = np.bincount(day[week], weights=n[week], minlength=7)
    for q in range(1, 8):  # advisers who must work days 0..q-1 (builder._lead_need)
        need = int(per_day[:q].sum() - (q - 1) * heads)
        over = max(over, need - int((room >= q).sum()))
    if (day == 6).any():
        over = max(over, int(per_day[6]) - sun)
    return max(over, 0)


def add_limits(m, states_by_group: dict, rules, week_start, week: int,
               ahead: dict | None = None) -> None:
    """The limits carried from the rosters before the week (module docstring) into a built
    week model m (allocation.model.Model, built with rosters on), per group key (m.x_group)
    with that group's advisers' states (`states_by_group`: key -> adviser -> AdviserState);
    slacks priced LIMIT_EUR. With `ahead` (group key -> the next week's demand on this
    week's end, builder._lead_need), the look-ahead rows too (`_ahead_rows`), their slacks
    priced AHEAD_EUR."""
    import pulp

    from ..allocation.lp import LE, add_row

    rest = int(round(rules.daily_rest_hours * 60))
    t = pd.Timestamp(week_start)
    tours = getattr(m.prob, "_staffing_tours", {})
    by_group: dict = {}
    keys = m.x_group or [k for k, *_ in m.x]
    for (_, p, d, pat, v), k in zip(m.x, keys):
        by_group.setdefault(k, {}).setdefault((pd.Timestamp(d) - t).days, []).append((pat, v))
    extra = []
    for k, days in by_group.items():
        states = states_by_group.get(k)
        if not states:
            continue
        ends, first, room, sun = _limits(states, rules)
        heads = len(states)

        def limit(name, terms, bound, kind="carry", price=LIMIT_EUR):
            if bound >= heads or not terms:
                return
            make = getattr(m.prob, "add_variable", pulp.LpVariable)  # as model.Context.newvar
            e = make(f"{kind}_{k}_w{week}_{name}", 0)
            add_row(m.prob, [(v, 1.0) for v in terms] + [(e, -1.0)], LE, bound,
                    f"{kind}_{k}_w{week}_{name}")
            extra.append((e, price))

        for d, cells in days.items():
            for s in sorted({pat.start_min for pat, _ in cells}):
                limit(f"d{d}_{s}", [v for pat, v in cells if pat.start_min <= s],
                      _able(ends, first, d, s, rest))
        pats = tours.get(k, [])
        for q in range(1, 8):
            lead = [v for dates, v in pats
                    if all(t + pd.Timedelta(days=i) in dates for i in range(q))]
            limit(f"run{q}", lead, int((room >= q).sum()))
        sunday = t + pd.Timedelta(days=6)
        limit("sun", [v for dates, v in pats if sunday in dates], sun)
        for name, terms, bound in (_ahead_rows(days.get(6, []), pats, ahead[k], heads, rules, t)
                                   if (ahead or {}).get(k) else ()):
            limit(name, terms, bound, "ahead", AHEAD_EUR)
    if extra:
        m.objective = list(m.objective or []) + extra
        m.prob.setObjective(pulp.LpAffineExpression(m.objective, constant=m.const))


def _ahead_rows(sunday: list, pats: list, need: dict, heads: int, rules, week_start) -> list:
    """What the next week's plan asks of this week's end, as rows (name, terms, bound: the
    terms' sum at most bound): per run length q of the next week's demand L(q) (advisers who
    must work its first q days), sum_{patterns ending in a run longer than max_days_in_a_row
    - q} m_j <= H - L(q); per end time theta of this Sunday's shifts,
    sum_{Sunday's shifts ending at or after theta} x <= H - (next Monday's shifts starting
    less than the daily rest after theta). sunday: [(pattern, x)] of the group's Sunday;
    pats: [(dates worked, m_j)]; need: builder._lead_need."""
    t = pd.Timestamp(week_start)
    out = []
    runs = [(v, _trail_run({(d - t).days for d in dates})) for dates, v in pats]
    for q, n in need.items():
        if q != "starts":
            out.append((f"run{q}", [v for v, tr in runs
                                    if tr > rules.max_days_in_a_row - q], heads - n))
    starts = np.sort(np.asarray(need.get("starts", []), dtype=int))
    rest = int(round(rules.daily_rest_hours * 60))
    for theta in sorted({pat.end_min for pat, _ in sunday}) if len(starts) else ():
        early = int(np.searchsorted(starts, theta + rest - DAY, side="left"))
        if early:
            out.append((f"mon{theta}", [v for pat, v in sunday if pat.end_min >= theta],
                        heads - early))
    return out


def sharing(scenario, keys: set) -> set:
    """The in-house teams that may take over the shifts of `keys` (group keys or team ids):
    their teams and every in-house team with a group serving one of their plateaux (a group's
    skills, else its team's plateaux). Returns team ids."""
    from .contracts import groups

    prov = scenario.providers
    inhouse = prov[prov["kind"] == "inhouse"]
    plats = {k: set(v) if isinstance(v, (tuple, list, set)) else set(str(v).split(";"))
             for k, v in inhouse["plateaux"].items()}
    serves = [(g.key, g.team, set(g.skills) if g.skills else plats.get(g.team, set()))
              for g in groups(scenario)]
    short = [(key, team, ps) for key, team, ps in serves if key in keys or team in keys]
    mine = set().union(*(ps for *_, ps in short)) if short else set()
    return ({team for _, team, _ in short} | {k for k in keys if k in plats}
            | {team for _, team, ps in serves if ps & mine})


def replan_week(scenario, opts, req_week: pd.DataFrame, old, states_by_group: dict, deadline,
                free=None, nxt: dict | None = None):
    """Week `old.week` planned again under the limits carried from the rosters before it
    (`add_limits`, per group key), at the week's headcount, the in-house shifts of the `free`
    teams included (default all; other teams' shifts stay as planned); None when the deadline
    left no time for it (or cut its LP). The week's LP bound stays the rule-free one (the
    manifest's gap is then the price of legality)."""
    from ..allocation import model as model_mod, solve as solve_mod, tables as tables_mod
    from ..errors import SolverError

    if deadline is not None and deadline.passed():
        return None
    from .rules import WorkingRules

    rules = scenario.rules or WorkingRules()
    week = old.week
    start = pd.Timestamp(opts.start) + pd.Timedelta(days=7 * week)
    m = model_mod.build(scenario, opts, req_week.reset_index(drop=True), week,
                        heads={k: float(v) for k, v in old.headcount.items()})
    if free is not None:  # the other teams' shifts as planned
        col = "group" if "group" in old.x else "provider"
        planned = {(g, p, pd.Timestamp(d), int(s), -1 if pd.isna(b) else int(b), float(h)): n
                   for g, p, d, s, b, h, n in old.x[[col, "plateau", "date", "start_min",
                                                     "break_start_min", "paid_hours",
                                                     "advisers"]].itertuples(index=False)}
        for (k, p, d, pat, v), g in zip(m.x, m.x_group or [k for k, *_ in m.x]):
            if k not in free:
                v.lowBound = v.upBound = float(planned.get(
                    (g, p, pd.Timestamp(d), pat.start_min,
                     -1 if pat.break_start_min is None else pat.break_start_min,
                     float(pat.paid_hours)), 0.0))
    ahead = {k: _lead_need(x, start + pd.Timedelta(days=7), len(states_by_group[k]))
             for k, x in (nxt or {}).items() if states_by_group.get(k)}
    add_limits(m, states_by_group, rules, start, week, ahead)
    try:
        solved = solve_mod.solve_model(m, scenario, opts, deadline, week)
    except SolverError:
        return None  # (its LP did not finish before the deadline): the week stays as it was
    r = tables_mod.extract(m, week, solved, integer=not opts.relax)
    tables_mod.week_parts(scenario, opts, m, r)
    r.lp_bound = old.lp_bound
    r.solve_s, r.build_s = old.solve_s + r.solve_s, old.build_s + r.build_s
    return r
