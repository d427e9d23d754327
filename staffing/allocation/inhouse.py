"""The in-house component: shift counts per team, plateau, day and pattern, and headcount.

The interface other stages use (tours, the rosters): `Model.x` lists
(team, plateau, date, Pattern, variable), the number of advisers of `team` working shift
pattern `Pattern` (shifts.Pattern: start, break, paid hours, slots at work) on `plateau` that
`date`; `Model.headcount` maps each team to its advisers (a number, or the variable of
`--headcount optimise`). Each adviser works exactly the contract hours (W), at most one shift
a day and at most L days a week (docs/model.md, "In-house"); a day the calendar closes though
its weekday is open is paid, not worked: W and L drop by one day (calendar.week_contract).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pulp
from scipy import sparse

from .. import shifts
from ..rosters import patterns


CROSSING_EUR = 1.0  # per shift crossing midnight: a tie-break for shifts within a day when
# they serve as well (night work is compensated, L3122-8, and such rosters are easier to build)


def bounds(team) -> tuple[int, int]:
    """(min, max) headcount a team may have under --headcount optimise (its own when blank)."""
    lo = int(team["headcount_min"]) if pd.notna(team["headcount_min"]) else int(team["headcount"])
    hi = int(team["headcount_max"]) if pd.notna(team["headcount_max"]) else int(team["headcount"])
    return lo, hi


def headcounts(ctx, heads: dict | None) -> dict:
    """Each team's headcount in this week's model: `heads` when given (a number, a (min, max)
    pair for a variable, or a variable shared by several weeks), a variable within the bounds
    with --headcount optimise, else the scenario's. Prices them at W x cost_eur_per_hour a
    week."""
    prov = ctx.scenario.providers
    out = {}
    for k, team in prov[prov["kind"] == "inhouse"].iterrows():
        weekly = ctx.scenario.shifts.weekly_hours * float(team["cost_eur_per_hour"])
        if heads is not None and isinstance(heads[k], tuple):  # (min, max): a variable
            h = ctx.newvar(f"H_{k}", *heads[k], ctx.cat)
        elif heads is not None:
            h = heads[k]
        elif ctx.opts.headcount == "optimise" and bounds(team)[0] < bounds(team)[1]:
            h = ctx.newvar(f"H_{k}", *bounds(team), ctx.cat)
        else:
            h = int(team["headcount"])
        if isinstance(h, pulp.LpVariable):
            ctx.objective.append((h, weekly))
        else:
            ctx.const += weekly * float(h)
        out[k] = h
    return out


def _patterns(ctx, plateaux) -> dict:
    """date -> (shift patterns of the day for a team serving `plateaux`, its (start, end)
    minutes or None). The day's hours are the span of its plateaux' hours that date (the
    centre's unless a plateau has its own, `[opening.plateaux]`), and a shift starts while
    one of them is open. A day that closes at 24:00 before a date opening at 00:00 has
    shifts crossing midnight too (patterns.day_patterns)."""
    out = {}
    for d in ctx.unique_dates:
        day = pd.Timestamp(d).date()
        hours, spans = _span(ctx.scenario, day, plateaux)
        after = _span(ctx.scenario, day + dt.timedelta(days=1), plateaux)[0] if hours else None
        pats = [] if hours is None else shifts.day_patterns(
            hours[0], hours[1], ctx.scenario.slot_minutes, ctx.scenario.shifts,
            patterns.next_close(hours, after))
        if len(spans) > 1:  # plateaux with their own hours: start while one is open
            pats = [q for q in pats if any(a <= q.start_min < b for a, b in spans)]
        out[d] = (pats, hours)
    return out


def _span(scenario, day, plateaux) -> tuple:
    """((open, close) spanning the plateaux' hours on `day`, or None; their distinct spans)."""
    if not scenario.plateau_opening:  # one opening for all: the centre's
        hours = scenario.opening_on(day)
        return hours, [hours] if hours else []
    spans = {h for p in plateaux if (h := scenario.opening_on(day, p)) is not None}
    if not spans:
        return None, []
    return (min(a for a, _ in spans), max(b for _, b in spans)), sorted(spans)


def add(ctx, heads: dict) -> tuple[list, object]:
    """x[k,p,d,s] per team, plateau it serves, day and pattern, covering the rows the pattern
    is at work in; the contract-hours, one-shift-a-day and days-per-week rows per team.
    Returns (x list as in the module docstring, sparse rows x shifts matrix of answering
    agents per adviser)."""
    prov = ctx.scenario.providers
    cache: dict = {}
    x_vars, x_cover = [], []
    for k, team in prov[prov["kind"] == "inhouse"].iterrows():
        hours_terms, days = [], {}
        key = tuple(team["plateaux"]) if ctx.scenario.plateau_opening else ()
        if key not in cache:
            cache[key] = _patterns(ctx, key)
        for d in ctx.unique_dates:
            for p in team["plateaux"]:
                _team_day(ctx, k, p, d, cache[key][d], x_vars, x_cover, hours_terms, days)
        _team_rows(ctx, k, heads[k], hours_terms, days)
    trip = np.array(x_cover, dtype=float).reshape(-1, 3)
    x_matrix = sparse.csr_matrix((trip[:, 2], (trip[:, 0].astype(int), trip[:, 1].astype(int))),
                                 shape=(ctx.n, len(x_vars)))
    return x_vars, x_matrix


def _team_day(ctx, k, p, d, day, x_vars, x_cover, hours_terms, days) -> None:
    by_minute = ctx.day_rows.get((d, p))
    pats, hours = day
    if by_minute is None:
        return
    # a shift crossing midnight covers the next date's rows after it (none past the week: the
    # roster step counts that tail on the next week, docs/model.md "Shift patterns")
    next_rows = ctx.day_rows.get((d + np.timedelta64(1, "D"), p), {})
    tag = pd.Timestamp(d).strftime("%m%d")
    step, e = ctx.scenario.slot_minutes, ctx.eff[k]
    if p in ctx.scenario.plateau_opening:  # a shift on p starts while p is open
        own = ctx.scenario.opening_on(pd.Timestamp(d).date(), p)
        pats = [q for q in pats if own is not None and own[0] <= q.start_min < own[1]]
    for pat in pats:
        v = ctx.newvar(f"{ctx.pre}x_{k}_{p}_{tag}_{pat.start_min}_{pat.break_start_min}_"
                       f"{int(pat.paid_hours * 60)}", 0, None, ctx.cat)
        xi = len(x_vars)
        x_vars.append((k, p, d, pat, v))
        rows = [i for si in pat.slots for i in by_minute.get(hours[0] + si * step, ())]
        rows += [i for si in pat.next_slots for i in next_rows.get(si * step, ())]
        for i in rows:
            ctx.cover[i].append((v, e))
            x_cover.append((i, xi, e))
        if pat.next_slots:
            ctx.objective.append((v, CROSSING_EUR))
        hours_terms.append((v, pat.paid_hours))
        days.setdefault(d, []).append(v)
        ctx.answer_in.append((v, (1 - ctx.shrink[k]) * pat.paid_hours))


def _team_rows(ctx, k, h, hours_terms, days) -> None:
    hours, n_days = ctx.contract  # the week's, less the calendar's paid days off
    ctx.prob += (pulp.LpAffineExpression(hours_terms) == hours * h, f"{ctx.pre}hours_{k}")
    for d, vs in days.items():
        ctx.prob += (pulp.lpSum(vs) <= h, f"{ctx.pre}oneshift_{k}_{pd.Timestamp(d):%m%d}")
    ctx.prob += (pulp.lpSum(v for vs in days.values() for v in vs) <= n_days * h,
                 f"{ctx.pre}days_{k}")
