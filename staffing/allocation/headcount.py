"""One headcount per in-house team for the whole horizon (`--headcount optimise`).

A one-week horizon decides the headcount inside the week's model (integer H_k). Over several
weeks each week's LP relaxation, with H_k free within the bounds, gives the headcount that
week needs under the objective's priorities (service, then cost); the horizon hires for the
peak: the largest of them, rounded up. More advisers never lower any week's coverage (they add
shifts), so every week keeps the service its LP found. The weeks are then solved with that
headcount as a floor (rounding shifts to whole advisers may need one more); the largest
headcount any week ends with is the horizon's, and the weeks below it are solved again with
it fixed. (Model.build can also put several weeks into one problem with shared H_k,
the exact relaxation of the horizon's decision; solving it was much slower than the weeks'
LPs in parallel.)
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pulp

from . import highs, inhouse
from .model import build


def free_teams(scenario) -> dict:
    """In-house teams whose bounds leave room: team -> (min, max). A team with a contract mix
    (`[teams.ID] contracts`) keeps its counts."""
    prov = scenario.providers
    from ..rosters.contracts import fixed_pay_hours

    out = {}
    for k, team in prov[prov["kind"] == "inhouse"].iterrows():
        if fixed_pay_hours(scenario, k) is not None:  # a contract mix or named advisers
            continue
        lo, hi = inhouse.bounds(team)
        if lo < hi:
            out[k] = (lo, hi)
    return out


def warnings(scenario, opts) -> list[str]:
    """What --headcount optimise cannot decide: teams whose bounds are blank or equal."""
    if opts.headcount != "optimise":
        return []
    prov = scenario.providers
    teams = list(prov.index[prov["kind"] == "inhouse"])
    fixed = [k for k in teams if k not in free_teams(scenario)]
    if not teams:
        return ["--headcount optimise: no in-house team, nothing to decide"]
    if len(fixed) == len(teams):
        return ["--headcount optimise: the bounds leave nothing to decide (headcount_min = "
                "headcount_max, or blank, for every in-house team); headcounts as given"]
    from ..rosters.contracts import fixed_pay_hours

    return [f"--headcount optimise: {k} has a contract mix or named advisers; kept at "
            f"{int(prov.at[k, 'headcount'])}" if fixed_pay_hours(scenario, k) is not None else
            f"--headcount optimise: {k} has no room between its bounds (blank or equal); "
            f"kept at {int(prov.at[k, 'headcount'])}" for k in fixed]


def decide(scenario, opts, weeks: list, deadline, run_jobs=None) -> dict | None:
    """Headcount per in-house team for the horizon, or None when each week's model decides
    (one week) or nothing is free. weeks: the requirement rows of each week, in order;
    run_jobs(func, jobs, workers): how to run the weeks' LPs (in order, maybe in parallel)."""
    free = free_teams(scenario)
    if opts.headcount != "optimise" or not free or len(weeks) < 2:
        return None
    from . import reuse

    # identical weeks have the same LP: each distinct week once (the maximum is unchanged)
    start = pd.Timestamp(opts.start)
    from ..rosters.contracts import week_signature

    first = reuse.distinct([reuse.week_key(req, start + pd.Timedelta(weeks=w),
                                           week_signature(scenario, start, w))
                            for w, req in enumerate(weeks)])
    jobs = [(scenario, opts, weeks[w], w, deadline) for w in sorted(set(first.values()))]
    per_week = (run_jobs(_week_lp, jobs, opts.workers or 2) if run_jobs
                else [_week_lp(j) for j in jobs])
    prov = scenario.providers
    out = {}
    for k in prov.index[prov["kind"] == "inhouse"]:
        if k in free:
            out[k] = min(max(math.ceil(h[k] - 1e-6) for h in per_week), free[k][1])
        else:
            out[k] = int(prov.at[k, "headcount"])
    return out


def floors(scenario, heads: dict | None) -> dict | None:
    """Each week's headcounts from the horizon's decision: a variable from the decided number
    up to the team's maximum (rounding may need an adviser more), fixed teams as they are."""
    if heads is None:
        return None
    free = free_teams(scenario)
    return {k: ((int(h), free[k][1]) if k in free and h < free[k][1] else h)
            for k, h in heads.items()}


def _week_lp(args) -> dict:
    """One week's LP relaxation with the headcounts free: its headcount per team."""
    scenario, opts, req, week, deadline = args
    relaxed = dataclasses.replace(opts, relax=True)
    m = build(scenario, relaxed, req.reset_index(drop=True), week)
    m.prob.solve(highs.solver(relaxed, deadline, mip=False))
    if pulp.LpStatus[m.prob.status] != "Optimal":
        from ..errors import SolverError

        raise SolverError(f"week {week + 1}: the headcount LP ended with status "
                          f"{pulp.LpStatus[m.prob.status]} (raise --time-limit?)")
    return {k: highs.value(h) for k, h in m.headcount.items()}
