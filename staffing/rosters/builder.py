"""Rosters per adviser over the whole horizon, from the plan's daily shift counts (CP-SAT).

Method (docs/rosters.md): a team's shift starts fall into *bands*, windows of start times no
wider than 24 h - longest shift span - daily rest (and the start-spread option), so any two
shifts of one band on consecutive days keep the daily rest. A week's *tour type* is a set of
working days and a band. Week by week, advisers are grouped into *classes* by what the rules
need from their past (days worked in a row at the week's start, latest possible end of their
last shift, Sundays worked in the last three weeks); a small CP-SAT model chooses how many
advisers of each class take each tour type, with every rule that links the week to the
previous one as a compatibility condition, to match the plan's advisers per day and band
(and give two days off in a row). Within a day and band every adviser may take any of the
band's shifts, so the plan's shifts are dealt out in start order.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import datetime as dt
import itertools

import numpy as np
import pandas as pd

from .rules import NIGHT_SHIFT_MIN_HOURS, Contract, WorkingRules

DAY = 1440
NO_PAST = -10 ** 7  # minutes: "no shift before the horizon"
DEVIATION_WEIGHT = 10  # per adviser-day away from the plan's count of a day and band...
NO_PAIR_WEIGHT = 3  # ...against one adviser-week without two days off in a row
SOLVE_SECONDS = 10.0  # CP-SAT deterministic time limits (load-independent, reproducible)
# the band model's CP-SAT settings: without presolve and with its whole linear relaxation,
# the same optimal values as the defaults in a quarter of the CPU (docs/rosters.md, "Limits")
BAND_MODEL_PARAMETERS = {"cp_model_presolve": False, "linearization_level": 2}
# ...and, where they find no rosters in the limit (a 24/7 centre's week with night calls: 18
# bands, 1,600 tour types, 38,000 variables), the lighter relaxation, whose first rosters come
# sooner, within the same limit (`_solve_week`)
BAND_MODEL_RETRY_PARAMETERS = {"linearization_level": 1}
EXACT_SECONDS = 0.5  # the adviser-level model's time limit per week, for the plan's counts...
EXACT_NEAREST_SECONDS = 1.0  # ...for the nearest to them when none meets them...
EXACT_PAIRS_SECONDS = 0.5  # ...then for two days off in a row
# the two-days-off phase with its whole linear relaxation: the bound that proves most weeks'
# best rosters within the limit, where the default relaxation leaves them unproven
EXACT_PAIRS_PARAMETERS = {"linearization_level": 2}
EXACT_MAX_ADVISERS = 150
# an adviser next week's plan cannot have: a tie-breaker against one shift moved now (the
# next week is planned again under what this week leaves, see carry.py)
LOOKAHEAD_WEIGHT = 1
MAX_BANDS_FOR_STEPS = 4  # runs may step to a later band when there are at most this many

ROSTER_COLUMNS = ["adviser", "team", "contract", "date", "shift_start", "shift_end",
                  "break_start", "break_end", "plateau", "paid_hours"]


@dataclasses.dataclass
class AdviserState:
    """What the rules need from an adviser's past, in minutes from the coming week's start."""

    run: int = 0  # days worked in a row up to the day before the week
    last_end: int = NO_PAST  # end of the last shift (latest possible, for classes)
    sundays: tuple = (False, False, False)  # Sundays worked, the last three weeks

    def key(self):
        return (self.run, self.last_end, self.sundays)


def bands_of(starts, span_max: int, rules: WorkingRules) -> list[tuple[int, int]]:
    """Start windows (lo, hi) in minutes, no wider than 24 h - span_max - daily rest (and
    max_start_spread_hours): one from each whole hour after the first start until a window
    reaches the last start. Windows overlap, so an adviser's band need not split the plan's
    starts in fixed blocks."""
    width = DAY - span_max - int(round(rules.daily_rest_hours * 60))
    if rules.max_start_spread_hours is not None:
        width = min(width, int(round(rules.max_start_spread_hours * 60)))
    width = max(width, 0)
    st = sorted(set(int(s) for s in starts))
    if not st:
        return []
    out = []
    lo = st[0]
    while True:
        first = min(s for s in st if s >= lo)
        out.append((first, first + width))
        if first + width >= st[-1]:
            break
        lo = max(lo + 60, first + 1) if width >= 60 else first + 1
        lo = min(s for s in st if s >= lo)
    return out


def night_minutes(start: int, end: int, brk: int | None, brk_len: int, rules: WorkingRules) -> int:
    """Minutes of work of a shift [start, end) (minutes from its day's midnight, break
    excluded) inside the night period night_start..night_end, on any day."""
    ns = rules.night_start.hour * 60 + rules.night_start.minute
    ne = rules.night_end.hour * 60 + rules.night_end.minute
    total = 0
    for day0 in range(-DAY, end + DAY, DAY):
        a, b = day0 + ns, day0 + ne + (DAY if ne <= ns else 0)
        total += max(0, min(b, end) - max(a, start))
        if brk is not None:
            total -= max(0, min(b, brk + brk_len) - max(a, brk))
    return total


@dataclasses.dataclass(frozen=True)
class TourType:
    days: tuple  # working day indices 0..6 of the week
    bands: tuple  # band of each working day: never earlier within a run (see _run_bands)

    def band_on(self, d: int) -> int:
        return self.bands[self.days.index(d)]

    @property
    def pair(self) -> bool:
        off = [d for d in range(7) if d not in self.days]
        return any(b - a == 1 for a, b in zip(off, off[1:]))


def _lead_run(days) -> int:
    n = 0
    while n in days:
        n += 1
    return n


def _trail_run(days) -> int:
    n = 0
    while 6 - n in days:
        n += 1
    return n


_TRAIL_OF_MASK = [_trail_run([d for d in range(7) if m >> d & 1]) for m in range(128)]


def _runs(days) -> list[list[int]]:
    """Working days split where two or more days off separate them (48 h off: any band may
    follow)."""
    runs = []
    for d in days:
        if runs and d - runs[-1][-1] <= 2:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _run_bands(length: int, n_bands: int) -> list[tuple]:
    """Band sequences of a run of working days: one band, or (with few bands) one step to a
    later band. A later start never shortens the rest before it, and a band's starts keep the
    daily rest between themselves."""
    out = [(b,) * length for b in range(n_bands)]
    if n_bands <= MAX_BANDS_FOR_STEPS:
        out += [(b1,) * i + (b2,) * (length - i) for b1 in range(n_bands)
                for b2 in range(b1 + 1, n_bands) for i in range(1, length)]
    return out


def tour_types(open_days, n_days: int, n_bands: int, rules: WorkingRules,
               night_bands=frozenset()) -> list[TourType]:
    """Working-day sets of n_days open days that leave a weekly rest inside the week (an off
    day between two days, or two off days in a row, or the first day off), with one band per
    run of days (runs split by two days off or more); night bands on at most
    max_night_shifts_per_week days."""
    n_days = min(n_days, len(open_days))
    out = []
    for days in itertools.combinations(sorted(open_days), n_days):
        off = [d for d in range(7) if d not in days]
        if not off:
            continue
        interior = any(0 < d < 6 for d in off)
        if not interior and off != [0, 6] and off != [0]:
            continue  # only a Sunday off: its rest would end in the next week
        if max((len(list(g)) for k, g in itertools.groupby(range(7), lambda d: d in days) if k),
               default=0) > rules.max_days_in_a_row:
            continue
        runs = _runs(days)
        for combo in itertools.product(*[_run_bands(len(r), n_bands) for r in runs]):
            bands = tuple(b for seq in combo for b in seq)
            if sum(b in night_bands for b in bands) > rules.max_night_shifts_per_week:
                continue
            out.append(TourType(tuple(days), bands))
    return out


@dataclasses.dataclass
class _TypeTable:
    """What the rules linking a week to the ones before read of each tour type (`_allowed`),
    as arrays over the week's types (a type without a working day: first start +inf, no
    run, no Sunday)."""

    first_start: np.ndarray  # minutes from the week's start: the first shift's earliest start
    lead: np.ndarray  # days worked from the week's first day on
    interior: np.ndarray  # a weekly rest inside the week (an off day between two, or a pair)
    sunday: np.ndarray
    n_days: np.ndarray
    days: np.ndarray  # bit d: works day d


def _type_table(types: list, band_lo: dict) -> _TypeTable:
    first, interior = [], []
    for t in types:
        off = [d for d in range(7) if d not in t.days]
        pair = any(b - a == 1 for a, b in zip(off, off[1:]))
        interior.append(any(0 < d < 6 for d in off) or pair)
        first.append(t.days[0] * DAY + band_lo[t.bands[0]] if t.days else np.inf)
    return _TypeTable(np.array(first, dtype=float), np.array([_lead_run(t.days) for t in types]),
                      np.array(interior, dtype=bool), np.array([6 in t.days for t in types]),
                      np.array([len(t.days) for t in types]),
                      np.array([sum(1 << d for d in t.days) for t in types], dtype=np.int64))


def _allowed(ck: tuple, table: _TypeTable, rules: WorkingRules) -> list[int]:
    """Tour types a class may take (indices into the table's types): compatible with its past
    (ck[:3], AdviserState), that is the daily rest from its last shift to the type's first
    start, the days in a row, the weekly rest when the type's only rest is a leading day off,
    and the Sunday limit; and, with leave (ck[3]: days away, ck[4]: days to work), of its
    length and off its days away. A type without a working day is always compatible."""
    run, last_end, sundays = ck[:3]
    gap = table.first_start - last_end
    ok = ((gap >= rules.daily_rest_hours * 60) & (run + table.lead <= rules.max_days_in_a_row)
          & (table.interior | (gap >= rules.weekly_rest_hours * 60))
          & ~(table.sunday & (sum(sundays) + 1 > rules.max_sundays_per_4_weeks)))
    ok |= table.n_days == 0
    if len(ck) > 3:
        ok &= (table.n_days == max(ck[4], 0)) & (table.days & sum(1 << d for d in ck[3]) == 0)
    return np.flatnonzero(ok).tolist()


def _solve_week(classes: dict, types: list, bands: list, units: dict, rules: WorkingRules,
                ahead: dict | None = None) -> tuple[dict, bool]:
    """CP-SAT: advisers of each class per tour type. units[day]: the plan's shift starts that
    day (minutes, one per adviser). Per day, the advisers at work should equal the plan's
    shifts, and every range of starts needs as many advisers whose band meets it (Hall's
    condition, so the plan's shifts can be dealt to them). Returns ({(class, type): advisers},
    whether CP-SAT found them: False for the last resort, each class on its first allowed
    type)."""
    from ortools.sat.python import cp_model

    band_lo = {b: lo for b, (lo, hi) in enumerate(bands)}
    table = _type_table(types, band_lo)
    m = cp_model.CpModel()
    f = {}
    for ck, members in classes.items():
        allowed = _allowed(ck, table, rules)
        if not allowed:
            raise ValueError(f"no tour type keeps the rules for advisers with past {ck}")
        for i in allowed:
            f[ck, i] = m.new_int_var(0, len(members), f"f_{len(f)}")
        m.add(cp_model.LinearExpr.sum([f[ck, i] for i in allowed]) == len(members))
    obj = []
    on: dict = {}  # (day, band) -> the f at work that day in that band, in f's order
    for (ck, i), v in f.items():
        for d, b in zip(types[i].days, types[i].bands):
            on.setdefault((d, b), []).append(v)
    heads = sum(len(c) for c in classes.values())
    for d in range(7):
        starts = np.sort(np.asarray(units.get(d, []), dtype=int))
        wb = []
        for b in range(len(bands)):
            terms = on.get((d, b), [])
            wv = m.new_int_var(0, heads, f"w_{d}_{b}")
            m.add(wv == cp_model.LinearExpr.sum(terms))
            wb.append(wv)
        dev = m.new_int_var(0, 10 ** 6, f"dev_{d}")
        m.add_abs_equality(dev, sum(wb) - len(starts))
        obj.append(DEVIATION_WEIGHT * dev)
        obj += _hall_terms(m, d, starts, wb, bands)
    if rules.two_days_off_in_a_row:
        pair = [t.pair for t in types]
        obj += [NO_PAIR_WEIGHT * v for (ck, i), v in f.items() if not pair[i]]
    trail = [_trail_run(t.days) for t in types]
    for q, need in (ahead or {}).items():  # who may work next week's first q days
        if q == "starts":
            continue
        able = [v for (ck, i), v in f.items() if trail[i] <= rules.max_days_in_a_row - q]
        short = m.new_int_var(0, need, f"ahead_{q}")
        m.add(sum(able) + short >= need)
        obj.append(LOOKAHEAD_WEIGHT * short)
    m.minimize(cp_model.LinearExpr.sum(obj))
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = SOLVE_SECONDS
    solver.parameters.num_workers = 1
    for k, v in BAND_MODEL_PARAMETERS.items():
        setattr(solver.parameters, k, v)
    status = solver.Solve(m)
    if status == cp_model.UNKNOWN:  # no rosters found in the limit (a large model)
        for k, v in BAND_MODEL_RETRY_PARAMETERS.items():
            setattr(solver.parameters, k, v)
        status = solver.Solve(m)
    if status == cp_model.UNKNOWN:
        # still none: each class's advisers on its first allowed tour type (the class counts
        # are the model's only hard constraints; the plan's counts and Hall's conditions are
        # priced): rosters that keep every rule, far from the plan's counts, whose gaps the
        # re-solve fills (docs/rosters.md, step 9)
        first: dict = {}
        for ck, i in f:
            first.setdefault(ck, i)
        return {(ck, i): len(classes[ck]) for ck, i in first.items()}, False
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError(f"CP-SAT ended with status {solver.StatusName(status)}")
    return {key: int(solver.Value(v)) for key, v in f.items() if solver.Value(v) > 0}, True


def _hall_terms(m, d: int, starts: np.ndarray, wb: list, bands: list) -> list:
    """Day d's Hall conditions in model m: every range [s1, s2] of the plan's starts that day
    (`starts`, sorted) needs as many advisers in the bands meeting it (wb: advisers per band);
    returns the objective terms of their shortfalls."""
    from ortools.sat.python.cp_model import LinearExpr

    starts = starts.tolist()
    obj = []
    distinct = sorted(set(starts))
    for i, s1 in enumerate(distinct):
        below = bisect.bisect_left(starts, s1)
        for s2 in distinct[i:]:
            n = bisect.bisect_right(starts, s2) - below
            meet = [wb[b] for b, (lo, hi) in enumerate(bands) if lo <= s2 and hi >= s1]
            if n == len(starts) and len(meet) == len(bands):
                continue  # the day's total, already counted
            short = m.new_int_var(0, n, f"h_{d}_{s1}_{s2}")
            m.add(short >= n - LinearExpr.sum(meet))
            obj.append(DEVIATION_WEIGHT * short)
    return obj


def _deal(units: list, workers: list, spare: list = ()) -> list:
    """Match units (plan shift rows, one per adviser, with start_min) to workers (adviser,
    lo, hi): by start, each unit to a free worker whose window contains it and closes first
    (optimal for points and intervals). Workers left over repeat the unit nearest their
    window's middle among those inside it (or among `spare`, the week's other shifts, when
    none is); units left over are not staffed."""
    keys: dict = {}  # a unit is one plan row repeated per adviser: its key made once
    for u in units:
        if id(u) not in keys:
            keys[id(u)] = (u.start_min, -1 if pd.isna(u.break_start_min) else u.break_start_min,
                           u.plateau)
    units = sorted(units, key=lambda u: keys[id(u)])
    queues: dict = {}
    for a, lo, hi in sorted(workers):
        queues.setdefault((hi, lo), []).append(a)
    order = sorted(queues)  # windows by closing time
    for q in queues.values():
        q.reverse()  # pop() takes the smallest adviser id
    out = []
    for u in units:
        for hi, lo in order:
            q = queues[hi, lo]
            if q and lo <= u.start_min <= hi:
                out.append((q.pop(), u))
                break
    for (hi, lo), q in queues.items():
        inside = ([u for u in units if lo <= u.start_min <= hi]
                  or [u for u in spare if lo <= u.start_min <= hi])
        if inside and q:
            mid = (lo + hi) / 2
            pick = min(inside, key=lambda u: abs(u.start_min - mid))
            out += [(a, pick) for a in reversed(q)]
    return out


def build_team(team: str, advisers: list, contract: Contract, weeks: list, rules: WorkingRules,
               start: dt.date, open_days_of_week, break_minutes: int,
               state: dict | None = None, week_days: list | None = None,
               leave: dict | None = None, build: int | None = None) -> pd.DataFrame:
    """Rosters of one team over the horizon.

    advisers: adviser ids; weeks: per week, the plan's shifts of the team as rows (date,
    plateau, start_min, end_min, break_start_min, paid_hours, advisers) with integer advisers;
    open_days_of_week(w) -> weekday indices 0..6 (days from the week's first day) that are open;
    state: optional pre-horizon AdviserState per adviser (minutes from the horizon's start);
    week_days: per week, the days each adviser works (the contract's cycle week less the days
    the calendar closes, paid not worked: contracts.week_terms); default the contract's days.
    The plan's shifts (`weeks`) are the contract's own: its lengths, weekdays and window.
    leave: adviser -> day numbers from the horizon's start the adviser is unavailable (paid,
    not worked): no shift those days, one day less that week per open one.
    build: the weeks rostered (the first `build` of `weeks`; default all), the rest read only
    as the last one's look-ahead (next week's demand on its end, `_lead_need`).
    Returns the roster rows (columns ROSTER_COLUMNS, one per shift worked); where CP-SAT
    found no rosters for a week's band model, each class took its first allowed tour type
    (`_solve_week`) and the adviser-level model did not replace them, (team, contract id,
    first day of the week) in attrs["band_starts"].
    """
    allx = pd.concat([w for w in weeks if len(w)], ignore_index=True) if any(
        len(w) for w in weeks) else pd.DataFrame(columns=["start_min", "end_min",
                                                         "break_start_min"])
    span_max = int((allx["end_min"] - allx["start_min"]).max()) if len(allx) else 0
    bands = bands_of(allx["start_min"], span_max, rules) if len(allx) else []
    band_lo = {b: lo for b, (lo, hi) in enumerate(bands)}
    band_hi_end = {b: hi + span_max for b, (lo, hi) in enumerate(bands)}
    night_starts = (set(allx.loc[night_ok(allx, rules, break_minutes), "start_min"].astype(int))
                    if len(allx) else set())
    night_bands = frozenset(b for b, (lo, hi) in enumerate(bands)
                            if any(lo <= s <= hi for s in night_starts))
    states = {a: (state or {}).get(a, AdviserState()) for a in advisers}
    rows = []  # (adviser, day of the week, start_min, end_min, break_start_min or -1, plateau, paid)
    started = []  # (team, contract, first day) of the weeks rostered from the last resort
    weeks_of_rows = []  # rows of each week, in turn
    for w, x in enumerate(weeks[:build]):
        monday = pd.Timestamp(start) + pd.Timedelta(days=7 * w)
        week_rows = []
        week_contract = dataclasses.replace(
            contract, days=(week_days[w] if week_days else contract.days_per_week,))
        if bands and len(x):
            x = x.assign(day=((pd.to_datetime(x["date"]) - monday).dt.days).to_numpy())
            ahead = _lead_need(weeks[w + 1] if w + 1 < len(weeks) else None,
                               monday + pd.Timedelta(days=7), len(advisers))
            away = {a: frozenset(d - 7 * w for d in (leave or {}).get(a, ())
                                 if 7 * w <= d < 7 * w + 7) for a in advisers}
            chosen, found = _band_week(advisers, states, x, bands, week_contract, rules,
                                       open_days_of_week(w), night_bands, ahead, away)
            band_rows = week_rows = _deal_week(x, chosen, bands)
            if (len(advisers) <= EXACT_MAX_ADVISERS and _deviation(x, week_rows)
                    and not _carried_short(x, states, rules, monday)):
                hint = {(r[0], r[1]): (r[2], r[3]) for r in week_rows}
                exact = _solve_week_exact(advisers, states, x, week_contract, rules,
                                          open_days_of_week(w), break_minutes, hint, ahead, away)
                exact_rows = _deal_exact(x, exact) if exact is not None else week_rows
                if _deviation(x, exact_rows) <= _deviation(x, week_rows):
                    week_rows = exact_rows
            if not found and week_rows is band_rows:  # the last-resort start kept
                started.append((team, contract.id, monday.date()))
        rows += week_rows
        weeks_of_rows.append(len(week_rows))
        states = _next_states(states, week_rows)
    out = _frame(rows, team, contract, start, break_minutes, weeks_of_rows)
    if started:
        out.attrs["band_starts"] = started
    return out


def _frame(rows: list, team: str, contract: Contract, start, break_minutes: int,
           weeks_of_rows: list) -> pd.DataFrame:
    """Roster rows (adviser, day from its week's start, start, end, break start or -1 in
    minutes from that day, plateau, paid hours) as the rosters table; weeks_of_rows: the
    rows' count of each week from the horizon's start, in turn."""
    cols = list(zip(*rows)) if rows else [()] * 7
    day, s, e, b = (np.asarray(cols[i], dtype="int64") for i in (1, 2, 3, 4))
    day = day + np.repeat(7 * np.arange(len(weeks_of_rows)), weeks_of_rows)
    # datetimes in the tables' unit (pandas 3 would make these microseconds): the writers then
    # take the columns as they are instead of copying a year's five of them
    date = pd.Timestamp(start).as_unit("ns").to_datetime64() + day * np.timedelta64(1, "D")
    minute = np.timedelta64(1, "m")
    has = b >= 0
    brk = np.where(has, date + b * minute, np.datetime64("NaT", "ns"))
    # (an empty text column as objects, not the floats pandas gives an empty list)
    out = pd.DataFrame({
        "adviser": pd.Series(cols[0], dtype=object if not rows else None),
        "team": team, "contract": contract.id, "date": date,
        "shift_start": date + s * minute, "shift_end": date + e * minute,
        "break_start": brk,
        "break_end": np.where(has, brk + break_minutes * minute, np.datetime64("NaT", "ns")),
        "plateau": pd.Series(cols[5], dtype=object if not rows else None),
        "paid_hours": np.asarray(cols[6], dtype=float)})
    return out[ROSTER_COLUMNS]


def _lead_need(nxt, monday, heads: int) -> dict:
    """Next week's demand on this week's end: L[q], the advisers who must work each of next
    week's first q days (at least the days' counts less (q - 1) x headcount); and under key
    "starts", next Monday's shift starts (minutes, one per adviser)."""
    if nxt is None or not len(nxt):
        return {}
    day = (pd.to_datetime(nxt["date"]) - monday).dt.days
    n = nxt.groupby(day)["advisers"].sum().reindex(range(7), fill_value=0).to_numpy()
    out = {}
    for q in range(1, 8):
        need = int(n[:q].sum() - (q - 1) * heads)
        if need > 0:
            out[q] = need
    first = nxt[day.to_numpy() == 0]
    out["starts"] = np.repeat(first["start_min"].to_numpy(int), first["advisers"].to_numpy(int))
    return out


def _carried_short(x, states: dict, rules, monday) -> bool:
    """Whether the week's plan x asks of its first days more than the advisers' states allow
    (carry.shortfall): no roster meets it, the adviser-level model would run to its limit, and
    the week is planned again with those limits (plan._carry)."""
    from .carry import shortfall

    return shortfall(x, states, rules, monday) > 0


def _deviation(x, rows) -> int:
    """Advisers away from the plan's count, summed over day and shift shape."""
    plan = x.groupby(["day", "start_min", "end_min"])["advisers"].sum()
    got: dict = {}
    for r in rows:
        key = (r[1], r[2], r[3])
        got[key] = got.get(key, 0) + 1
    keys = set(plan.index) | set(got)
    return int(sum(abs(plan.get(k, 0) - got.get(k, 0)) for k in keys))


def _band_week(advisers, states, x, bands, contract, rules, open_days, night_bands,
               ahead: dict | None = None, away: dict | None = None) -> tuple[dict, bool]:
    """(tour type of each adviser for the week, whether CP-SAT found them: `_solve_week`)
    (band model, CP-SAT over classes); away: adviser -> days of the week on leave (no shift,
    one working day less per open one)."""
    units = {int(d): np.repeat(g["start_min"].to_numpy(int), g["advisers"].to_numpy(int))
             for d, g in x.groupby("day")}
    away = away or {}
    types, seen = [], set()
    for off in sorted({frozenset(away.get(a, ())) & set(open_days) for a in advisers}, key=sorted):
        free = [d for d in open_days if d not in off]
        for t in tour_types(free, max(contract.days_per_week - len(off), 0), len(bands), rules,
                            night_bands):
            if t not in seen:
                seen.add(t)
                types.append(t)
    # the rules see a past shift's end only through thresholds (a first start less the daily or
    # weekly rest): advisers whose last ends fall between the same thresholds form one class
    cuts = sorted({d * DAY + lo - int(round(h * 60)) for d in range(7) for lo, _ in bands
                   for h in (rules.daily_rest_hours, rules.weekly_rest_hours)})
    classes: dict = {}
    open_set = frozenset(open_days)
    for a in advisers:
        st = states[a]
        i = bisect.bisect_left(cuts, st.last_end)
        end = cuts[i] if i < len(cuts) else cuts[-1] + 1
        off = open_set.intersection(away.get(a, ()))
        classes.setdefault((st.run, max(end, st.last_end) if st.last_end <= NO_PAST else end,
                            st.sundays, tuple(sorted(off)),
                            min(contract.days_per_week - len(off), len(open_days) - len(off))),
                           []).append(a)
    counts, found = _solve_week(classes, types, bands, units, rules, ahead or {})
    chosen = {}
    for ck, members in classes.items():
        pos = 0
        for i, t in enumerate(types):
            c = counts.get((ck, i), 0)
            for a in members[pos:pos + c]:
                chosen[a] = t
            pos += c
    return chosen, found


def _next_states(states: dict, week_rows: list) -> dict:
    """Each adviser's state at the next week's start, from the shifts just rostered."""
    worked: dict = {}  # adviser -> [bit d: works day d, latest shift end in minutes]
    for a, d, _, e, *_ in week_rows:
        got = worked.get(a)
        if got is None:
            worked[a] = [1 << d, d * DAY + e]
        else:
            got[0] |= 1 << d
            got[1] = max(got[1], d * DAY + e)
    out = {}
    for a, st in states.items():
        mask, end = worked.get(a, (0, None))
        trail = _TRAIL_OF_MASK[mask]
        run = st.run + 7 if trail == 7 else trail
        last_end = end - 7 * DAY if end is not None else max(st.last_end - 7 * DAY, NO_PAST)
        out[a] = AdviserState(run, last_end, st.sundays[1:] + (bool(mask >> 6 & 1),))
    return out


def _solve_week_exact(advisers, states, x, contract, rules, open_days, break_minutes,
                      hint: dict | None = None, ahead: dict | None = None,
                      away: dict | None = None) -> dict | None:
    """Adviser-level CP-SAT for a small team: each adviser's shift shape (start, end) on each
    day, every rule exact; the plan's count of every day and shape met, or where CP-SAT
    proves that none can be, the nearest (docs/rosters.md, step 5). Returns
    {(adviser, day): (start_min, end_min)}, or None when it finds no rosters in its time."""
    from ortools.sat.python import cp_model

    shapes = sorted({(int(s), int(e)) for s, e in zip(x["start_min"], x["end_min"])})
    need = x.groupby(["day", "start_min", "end_min"])["advisers"].sum().to_dict()
    # a day takes the week's shapes that lie within the span of its own plan shapes: another
    # day's may not fit its opening hours (a Sunday opening at 20:00, a date with other hours)
    day_shapes = {int(d): {u for u in shapes if g["start_min"].min() <= u[0]
                           and u[1] <= g["end_min"].max()} for d, g in x.groupby("day")}
    rest, wrest = rules.daily_rest_hours * 60, rules.weekly_rest_hours * 60
    night = {u: night_minutes(u[0], u[1], None, 0, rules) >= NIGHT_SHIFT_MIN_HOURS * 60
             for u in shapes}

    def build(strict: bool):
        """(model, its w literals, first objective terms, pair objective terms, two_off), or
        None when the plan's counts are more than the advisers who may take them."""
        m = cp_model.CpModel()
        w, obj, able = {}, [], {}
        two_off: dict = {}  # adviser -> (its pair literals, Monday..Saturday, and `has`)
        for a in advisers:
            st = states[a]
            off = set((away or {}).get(a, ())) & set(open_days)
            n_days = max(min(contract.days_per_week - len(off), len(open_days) - len(off)), 0)
            for d in open_days:
                if d in off:
                    continue
                for u in shapes:
                    if u in day_shapes.get(d, ()) and d * DAY + u[0] - st.last_end >= rest:
                        w[a, d, u] = m.NewBoolVar("")
            work = {d: sum(w[a, d, u] for u in shapes if (a, d, u) in w) for d in range(7)}
            for d in range(7):
                m.Add(work[d] <= 1)
            m.Add(sum(work.values()) == n_days)
            for d in range(6):  # daily rest between consecutive days
                for u in shapes:
                    bad = [w[a, d + 1, v] for v in shapes if (a, d + 1, v) in w
                           and DAY + v[0] - u[1] < rest]
                    if (a, d, u) in w and bad:
                        m.Add(w[a, d, u] + sum(bad) <= 1)
            k = rules.max_days_in_a_row
            if st.run:  # the run carried from before the week
                m.Add(sum(work[d] for d in range(max(0, k + 1 - st.run))) <= max(0, k - st.run))
            for d in range(7 - k):
                m.Add(sum(work[d + i] for i in range(k + 1)) <= k)
            off = {d: 1 - work[d] for d in range(7)}
            pairs = []
            for d in range(6):
                y = m.NewBoolVar("")
                m.Add(y <= off[d])
                m.Add(y <= off[d + 1])
                pairs.append(y)
            singles = []
            for d in range(1, 6):  # one interior day off: the rest around it must reach weekly_rest
                y = m.NewBoolVar("")
                m.Add(y <= off[d])
                for u in shapes:
                    bad = [w[a, d + 1, v] for v in shapes if (a, d + 1, v) in w
                           and 2 * DAY + v[0] - u[1] < wrest]
                    if (a, d - 1, u) in w and bad:
                        m.Add(y + w[a, d - 1, u] + sum(bad) <= 2)
                singles.append(y)
            # Monday off, the rest from the last shift reaching weekly_rest
            first = m.NewBoolVar("")
            m.Add(first <= off[0])
            for u in shapes:
                if (a, 1, u) in w and DAY + u[0] - st.last_end < wrest:
                    m.Add(first + w[a, 1, u] <= 1)
            m.AddBoolOr(pairs + singles + [first])
            if 6 in open_days:
                m.Add(work[6] + sum(st.sundays) <= rules.max_sundays_per_4_weeks)
            m.Add(sum(w[a, d, u] for d in range(7) for u in shapes
                      if (a, d, u) in w and night[u]) <= rules.max_night_shifts_per_week)
            if rules.two_days_off_in_a_row:
                has = m.NewBoolVar("")
                m.AddBoolOr(pairs).OnlyEnforceIf(has)
                obj.append(1 - has)
                two_off[a] = (pairs, has)
            for q in (ahead or {}):  # this adviser may work next week's first q days
                if q == "starts":
                    continue
                room = rules.max_days_in_a_row - q
                if 0 <= room < 7:
                    able_q = m.NewBoolVar("")
                    m.Add(sum(work[d] for d in range(6 - room, 7)) <= room).OnlyEnforceIf(able_q)
                    able.setdefault(q, []).append(able_q)
        goal = []  # the first search's objective terms
        for d in range(7):  # the plan's count of each day and shape: exactly, or weighed
            for u in shapes:
                terms = [w[a, d, u] for a in advisers if (a, d, u) in w]
                target = int(need.get((d, u[0], u[1]), 0))
                if strict and target > len(terms):
                    return None  # more shifts than advisers who may take them
                if strict and terms:
                    m.Add(sum(terms) == target)
                elif not strict and (terms or target):
                    dev = m.NewIntVar(0, len(advisers) + target, "")
                    m.AddAbsEquality(dev, sum(terms) - target)
                    goal.append(DEVIATION_WEIGHT * dev)
        for q, asked in (ahead or {}).items():
            if q == "starts":
                continue
            short = m.NewIntVar(0, asked, "")
            m.Add(sum(able.get(q, [])) + short >= asked)
            goal.append(LOOKAHEAD_WEIGHT * short)
        # Sunday's late shifts and next Monday's early ones are different advisers
        nxt = np.asarray((ahead or {}).get("starts", []), dtype=int)
        for theta in sorted({u[1] for u in shapes}) if len(nxt) and 6 in open_days else ():
            early = int((nxt + DAY - theta < rest).sum())
            late = [w[a, 6, u] for a in advisers for u in shapes
                    if u[1] >= theta and (a, 6, u) in w]
            if early and late:
                short = m.NewIntVar(0, len(advisers), "")
                m.Add(sum(late) - short <= len(advisers) - early)
                goal.append(LOOKAHEAD_WEIGHT * short)
        for (a, d, u), v in w.items():
            if hint is not None:
                m.AddHint(v, int(hint.get((a, d)) == u))
        return m, w, goal, obj, two_off

    # first rosters with the plan's counts, the fewest short next week; then two days off in a
    # row. With every count a constraint, CP-SAT prunes far sooner than when it weighs the
    # deviations (docs/rosters.md, step 5); those are weighed only where no roster meets the
    # counts (proven so), for the nearest one
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = cp_model.INFEASIBLE
    built = build(strict=True)
    if built is not None:
        m, w, goal, obj, two_off = built
        m.Minimize(sum(goal))
        solver.parameters.max_deterministic_time = EXACT_SECONDS
        status = solver.Solve(m)
    if status == cp_model.INFEASIBLE:
        m, w, goal, obj, two_off = build(strict=False)
        m.Minimize(sum(goal))
        solver.parameters.max_deterministic_time = EXACT_NEAREST_SECONDS
        status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None  # none in the time given: the band model's rosters
    best = {k: solver.Value(v) for k, v in w.items()}
    if obj:
        m.Add(sum(goal) <= int(solver.ObjectiveValue()))
        # the first phase's whole solution as the hint, its pair and `has` literals set to
        # what its shifts give (the first phase leaves them at 0): the second phase starts
        # from the true count of advisers without two days off in a row, and stops at once
        # when that is none
        found = list(solver.ResponseProto().solution)
        worked: dict = {}
        for (a, d, _), on in best.items():
            if on:
                worked.setdefault(a, set()).add(d)
        for a, (pairs, has) in two_off.items():
            days = worked.get(a, set())
            got = [int(d not in days and d + 1 not in days) for d in range(6)]
            for y, g in zip(pairs, got):
                found[y.Index()] = g
            found[has.Index()] = int(any(got))
        m.ClearHints()
        m.Proto().solution_hint.vars.extend(range(len(found)))
        m.Proto().solution_hint.values.extend(found)
        m.Minimize(sum(obj))
        solver.parameters.max_deterministic_time = EXACT_PAIRS_SECONDS
        for k, v in EXACT_PAIRS_PARAMETERS.items():
            setattr(solver.parameters, k, v)
        if solver.Solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = {k: solver.Value(v) for k, v in w.items()}
    return {(a, d): u for (a, d, u), v in best.items() if v}


def _deal_exact(x, chosen: dict) -> list:
    """The plan's shifts of each day and shape to the advisers given that shape; an adviser
    beyond the plan's count repeats one of the shape's shifts (any day of the week)."""
    rows = []
    by: dict = {}
    for (a, d), u in sorted(chosen.items()):
        by.setdefault((d, u), []).append(a)
    for (d, u), workers in sorted(by.items()):
        grp = x[(x["day"] == d) & (x["start_min"] == u[0]) & (x["end_min"] == u[1])]
        if not len(grp):
            grp = x[(x["start_min"] == u[0]) & (x["end_min"] == u[1])].head(1)
        units = [r for r in grp.sort_values(["plateau"]).itertuples(index=False)
                 for _ in range(max(int(r.advisers), 1))]
        rows += [_row(a, d, units[i % len(units)]) for i, a in enumerate(workers)]
    return rows


def _row(a, d, u) -> tuple:
    brk = -1 if pd.isna(u.break_start_min) else int(u.break_start_min)
    return (a, int(d), int(u.start_min), int(u.end_min), brk, u.plateau, float(u.paid_hours))


def _deal_week(x, chosen: dict, bands) -> list:
    """Each day, the plan's shifts to the advisers at work, within their bands (`_deal`)."""
    rows = []
    ordered = sorted(chosen.items())
    spare = _units(x)
    by_day: dict = {}
    for u in spare:
        by_day.setdefault(u.day, []).append(u)
    for d in sorted({d for t in chosen.values() for d in t.days}):
        workers = [(a, *bands[t.band_on(d)]) for a, t in ordered if d in t.days]
        recs = by_day.get(d)
        if not recs:  # no plan shift that day: the nearest day's shifts (the first such row's)
            recs = by_day[min(spare, key=lambda u: abs(u.day - d)).day]
        units = [r for r in recs for _ in range(int(r.advisers))]
        parts = {id(r): _row(None, d, r)[1:] for r in recs}  # (a row's fields, made once)
        rows += [(a, *parts[id(u)]) if id(u) in parts else _row(a, d, u)
                 for a, u in _deal(units, workers, spare)]
    return rows


_Unit = collections.namedtuple("_Unit", ["day", "start_min", "end_min", "break_start_min",
                                         "plateau", "paid_hours", "advisers"])


def _units(x: pd.DataFrame) -> list:
    """The week's plan rows (with their day) as records of plain values, in x's order."""
    return [_Unit(*r) for r in zip(*(x[c].tolist() for c in _Unit._fields))]


def _roll(st: AdviserState, t: TourType | None, band_hi_end: dict) -> AdviserState:
    """The state at the next week's start after working tour t (None: no work)."""
    days = t.days if t else ()
    trail = _trail_run(days)
    run = st.run + 7 if trail == 7 else trail
    if days:
        last_end = days[-1] * DAY + band_hi_end[t.bands[-1]] - 7 * DAY
    else:
        last_end = max(st.last_end - 7 * DAY, NO_PAST)
    return AdviserState(run, last_end, st.sundays[1:] + (6 in days,))


def night_ok(x: pd.DataFrame, rules: WorkingRules, break_minutes: int) -> pd.Series:
    """Whether each plan shift row is a night shift (>= 3 h of night work)."""
    return pd.Series([night_minutes(int(s), int(e), None if pd.isna(b) else int(b), break_minutes,
                                    rules) >= NIGHT_SHIFT_MIN_HOURS * 60
                      for s, e, b in zip(x["start_min"], x["end_min"], x["break_start_min"])],
                     index=x.index)
