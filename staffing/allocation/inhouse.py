"""The in-house component: shift counts per group, plateau, day and pattern, and headcount.

A *group* is one team's advisers on one contract (rosters.contracts.groups; a team without a
contract mix is one group keyed by the team id). The interface other stages use (tours, the
rosters): `Model.x` lists (team, plateau, date, Pattern, variable), the number of advisers of
`team` working shift pattern `Pattern` (shifts.Pattern: start, break, paid hours, slots at
work) on `plateau` that `date`, and `Model.x_group` the group key of each entry;
`Model.headcount` maps each team to its advisers (a number, or the variable of `--headcount
optimise`), `Model.groups` each group key to (Group, headcount, (hours, days) this week).
Each adviser works exactly their contract's hours (W), at most one shift a day and at most L
days a week, only the contract's shift lengths, weekdays and daily window (docs/model.md,
"In-house"); a day the calendar closes though its weekday is open is paid, not worked: W and
L drop by one day (rosters.contracts.week_terms).
"""

from __future__ import annotations

import dataclasses
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
    from ..rosters.contracts import fixed_pay_hours

    prov = ctx.scenario.providers
    out = {}
    for k, team in prov[prov["kind"] == "inhouse"].iterrows():
        weekly = ctx.scenario.shifts.weekly_hours * float(team["cost_eur_per_hour"])
        pay = fixed_pay_hours(ctx.scenario, k)
        if pay is not None:  # a contract mix or named advisers: fixed counts, each contract paid
            out[k] = int(team["headcount"])
            ctx.const += float(team["cost_eur_per_hour"]) * pay
            continue
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


def _patterns(ctx, plateaux, contract=None) -> dict:
    """date -> (shift patterns of the day for a group serving `plateaux`, its (start, end)
    minutes or None). The day's hours are the span of its plateaux' hours that date (the
    centre's unless a plateau has its own, `[opening.plateaux]`), and a shift starts while
    one of them is open. A day that closes at 24:00 before a date opening at 00:00 has
    shifts crossing midnight too (patterns.day_patterns). With a contract, only its lengths,
    within its daily window, on its weekdays."""
    rules = ctx.scenario.shifts
    if contract is not None:
        rules = dataclasses.replace(rules, paid_hours=tuple(contract.paid_hours))
    out = {}
    for d in ctx.unique_dates:
        day = pd.Timestamp(d).date()
        hours, spans = _span(ctx.scenario, day, plateaux)
        if hours is None or (contract is not None and day.weekday() not in contract.weekdays):
            out[d] = ([], hours)
            continue
        after = _span(ctx.scenario, day + dt.timedelta(days=1), plateaux)[0]
        pats = shifts.day_patterns(hours[0], hours[1], ctx.scenario.slot_minutes, rules,
                                   patterns.next_close(hours, after))
        if len(spans) > 1:  # plateaux with their own hours: start while one is open
            pats = [q for q in pats if any(a <= q.start_min < b for a, b in spans)]
        if contract is not None:
            pats = [q for q in pats if contract.in_window(q.start_min, q.end_min)]
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


def group_heads(ctx, heads: dict) -> dict:
    """Group key -> (Group, headcount, (hours, days) an adviser works this week, leave): a
    team without a mix shares its team's headcount (number or variable); a mix's groups and
    the advisers table's have their fixed counts; leave: contracts.member_weeks (None when
    no member of the group is on leave this week)."""
    from ..rosters.contracts import groups, member_weeks, week_terms

    start = ctx.opts.start or ctx.scenario.start
    out = {}
    for g in groups(ctx.scenario):
        plain = g.count is None and g.contract.id == "full-time" and len(g.contract.hours) == 1
        out[g.key] = (g, heads[g.team] if g.count is None else g.count,
                      ctx.contract if plain else week_terms(g.contract, ctx.scenario, start,
                                                            ctx.week),
                      member_weeks(g, ctx.scenario, start, ctx.week) if g.members else None)
    return out


def add(ctx, heads: dict) -> tuple[list, object, list, dict]:
    """x[g,p,d,s] per group, plateau its team serves, day and pattern, covering the rows the
    pattern is at work in; the contract-hours, one-shift-a-day and days-per-week rows per
    group. Returns (x list as in the module docstring, sparse rows x shifts matrix of
    answering agents per adviser, group key per x entry, groups as `group_heads`)."""
    prov = ctx.scenario.providers
    grp = group_heads(ctx, heads)
    cache: dict = {}
    x_vars, x_cover, x_group = [], [], []
    for key, (g, h, terms, leave) in grp.items():
        serves = tuple(g.skills or prov.at[g.team, "plateaux"])
        plain = g.count is None and g.contract.id == "full-time"
        ck = (serves if ctx.scenario.plateau_opening else (), None if plain else g.contract.id)
        if ck not in cache:
            cache[ck] = _patterns(ctx, ck[0], None if plain else g.contract)
        hours_terms, days = [], {}
        for d in ctx.unique_dates:
            for p in serves:
                _team_day(ctx, g.team, p, d, cache[ck][d], x_vars, x_cover, hours_terms, days,
                          key)
        x_group += [key] * (len(x_vars) - len(x_group))
        _team_rows(ctx, key, h, hours_terms, days, terms, leave)
    trip = np.array(x_cover, dtype=float).reshape(-1, 3)
    x_matrix = sparse.csr_matrix((trip[:, 2], (trip[:, 0].astype(int), trip[:, 1].astype(int))),
                                 shape=(ctx.n, len(x_vars)))
    return x_vars, x_matrix, x_group, grp


def _team_day(ctx, k, p, d, day, x_vars, x_cover, hours_terms, days, key=None) -> None:
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
        v = ctx.newvar(f"{ctx.pre}x_{key or k}_{p}_{tag}_{pat.start_min}_{pat.break_start_min}_"
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


def _team_rows(ctx, k, h, hours_terms, days, terms, leave=None) -> None:
    hours, n_days = terms  # the week's, less the calendar's paid days off
    total_h, total_d = (hours * h, n_days * h) if leave is None else (leave["hours"],
                                                                       leave["days"])
    off = {} if leave is None else leave["per_date"]
    ctx.prob += (pulp.LpAffineExpression(hours_terms) == total_h, f"{ctx.pre}hours_{k}")
    for d, vs in days.items():
        cap = h - off.get(pd.Timestamp(d).date(), 0)  # advisers on leave that day: no shift
        ctx.prob += (pulp.lpSum(vs) <= cap, f"{ctx.pre}oneshift_{k}_{pd.Timestamp(d):%m%d}")
    ctx.prob += (pulp.lpSum(v for vs in days.values() for v in vs) <= total_d,
                 f"{ctx.pre}days_{k}")
