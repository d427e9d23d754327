"""The solve strategy of a week: the LP relaxation (the bound), an integer plan rounded from
it and repaired where rounding left a plateau short, the full MIP only when that plan is
further from the bound than --gap; the honest status of the result (docs/model.md, "Solving").

The full MIP runs when rounding found no plan, or when the rounded plan is further than --gap
from the bound and either the model is small (IMPROVE_MAX_INTS integer variables) or the plan
has more deficit than the LP (service lost to rounding); a larger rounded plan
that keeps the LP's service and only costs more is returned as `feasible` with its gap:
HiGHS's root cut loop on these models can take minutes without improving it (and without
looking at its time limit), so the MIP would make the solve time unpredictable. Improving a
rounded plan gets a budget (`_improve`).

Status: `optimal` when the plan's objective is within OPTIMAL_GAP of the best bound (the LP
relaxation, or the MIP's own bound); `time_limit` when the deadline or the node limit stopped a
phase before its goal; `feasible` otherwise (a plan within --gap, not proven optimal).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pulp

from ..errors import InfeasiblePlan, SolverError
from . import highs, rounding
from .model import Model, build
from .service import slot_weight

OPTIMAL_GAP = 1e-6
REPAIR_MAX_SHIFT_VARS = 4000  # re-place shifts by MIP only for teams this small...
REPAIR_SECONDS = 20.0  # ...and for at most this long (also within the deadline)
MIP_NODE_BUDGET = 200  # nodes for the full MIP improving a rounded plan (without --node-limit)
IMPROVE_MAX_INTS = 1000  # models this small always get the MIP when outside --gap
IMPROVE_MIN_S, IMPROVE_FACTOR = 5.0, 2.0  # ...and its time: 2 x the time so far, at least 5 s


@dataclasses.dataclass
class Solved:
    """How a week's solve ended."""

    status: str
    objective: float
    bound: float
    solve_s: float
    searched: bool | None = None  # whether the full MIP ran (None: not a week's own solve)


def gap_of(objective: float, bound: float) -> float:
    """(objective - bound) / |objective|, 0 for a zero objective; never negative."""
    return max((objective - bound) / abs(objective), 0.0) if objective else 0.0


def solve_model(m: Model, scenario, opts, deadline, week: int) -> Solved:
    """Solve a built week in place (values left in the variables)."""
    t1 = time.perf_counter()
    prob = m.prob
    highs.first_solve(prob, opts, deadline)
    check_status(prob, opts, week, need_optimal=True)
    bound = float(pulp.value(prob.objective))
    limited = searched = False
    if not opts.relax:
        lp_deficit = float(rounding.u_values(m).sum())
        rounded, limited = rounded_plan(m, scenario, opts, deadline, bound)
        small = len(m.x) + len(m.z) <= IMPROVE_MAX_INTS
        if rounded is None or (gap_of(rounded, bound) > opts.gap and not deadline.passed()
                               and (small or rounding.u_values(m).sum() > lp_deficit + 1e-6)):
            out = _improve(m, opts, deadline, week, start=rounded is not None,
                           elapsed=time.perf_counter() - t1)
            limited, searched = out.limited, True
            if out.bound is not None and out.ok and np.isfinite(out.bound):
                bound = max(bound, out.bound + prob.objective.constant)
    objective = float(pulp.value(prob.objective))
    limited |= not opts.relax and deadline.passed()
    gap = gap_of(objective, bound)
    status = "optimal" if gap <= OPTIMAL_GAP else ("time_limit" if limited else "feasible")
    return Solved(status, objective, bound, time.perf_counter() - t1, searched)


def _improve(m: Model, opts, deadline, week: int, start: bool, elapsed: float):
    """The full MIP, from the rounded plan when there is one (in the kept HiGHS model). Without
    --node-limit, improving a rounded plan gets MIP_NODE_BUDGET nodes and IMPROVE_FACTOR x the
    time spent so far (at least IMPROVE_MIN_S): the run's own budget, not a user limit, so a
    plan it stops is `feasible` with its gap. With --node-limit only that limit and the
    deadline apply."""
    own = start and opts.node_limit is None
    if not start:
        m.prob.solve(highs.solver(opts, deadline, mip=True))
        check_status(m.prob, opts, week, need_optimal=False)
        return highs.highs_outcome(m.prob)
    ints = [v for *_, v in m.x] + [v for *_, v in m.z] + [
        h for h in m.headcount.values() if isinstance(h, pulp.LpVariable)]
    out = highs.resolve_mip(m.prob, opts, deadline, ints, ints, gap_rel=opts.gap,
                            seconds=max(IMPROVE_MIN_S, IMPROVE_FACTOR * elapsed) if own else None,
                            nodes=MIP_NODE_BUDGET if own else None)
    if own and not deadline.passed():
        out.limited = False
    return out


def rounded_plan(m: Model, scenario, opts, deadline, bound: float) -> tuple[float | None, bool]:
    """An integer plan from the LP optimum in the variables: (its objective or None, whether
    a limit stopped a repair).

    Shift counts are rounded and fixed, the LP is solved again for the outsourced agents,
    those are rounded and fixed, and a last LP settles the continuous rest. Where rounding
    left a plateau-day shorter than the LP had it, a small MIP re-places the shifts of the
    teams serving it (everything else fixed), then if needed those plateaux' whole week:
    whenever rounding lost service the LP had (even within --gap of the LP bound `bound`:
    a fraction of an agent short costs less than the gap, yet fails a run allowing no
    shortfall), or when the plan is not yet within --gap; a repair is kept only when it
    lowers the objective.
    """
    prob = m.prob
    lp_short = _short_by_plateau_day(m)
    ints_x = [v for *_, v in m.x] + [h for h in m.headcount.values()
                                     if isinstance(h, pulp.LpVariable)]
    if not rounding.round_shifts(m, scenario.shifts, deadline):
        return None, False
    restore_x = highs.fixed(ints_x)
    try:
        if not highs.resolve_lp(prob, opts, deadline, ints_x):
            return None, deadline.passed()
        rounding.round_agents(m, scenario, opts)
        zs = [v for *_, v in m.z]
        restore_z = highs.fixed(zs)
        ok = highs.resolve_lp(prob, opts, deadline, zs)
        restore_z()
        highs.sync_bounds(prob, zs)
        if not ok:
            return None, deadline.passed()
        limited = False
        for whole_week in (False, True):
            before = float(pulp.value(prob.objective))
            if gap_of(before, bound) <= opts.gap and not _lost_service(m, lp_short):
                break
            saved = [(v, v.varValue) for v in prob._staffing_vars]
            done, lim = _repair_short(m, scenario, opts, deadline, lp_short, whole_week,
                                      ints_x, zs, restore_x)
            limited |= lim
            if done is None or float(pulp.value(prob.objective)) > before:
                for v, val in saved:  # the repair found nothing better: keep the plan
                    v.varValue = val
            if done:
                break
        return float(pulp.value(prob.objective)), limited
    finally:
        restore_x()


def _repair_short(m, scenario, opts, deadline, lp_short, whole_week, ints_x, zs, restore_x):
    """Re-place the shifts of plateau-days (or plateaux' weeks) rounding left shorter than the
    LP had them. Returns (True: nothing left to repair / False: repaired / None: failed,
    whether a limit stopped the MIP)."""
    now = _short_by_plateau_day(m)
    worse = {key for key, v in now.items() if v > lp_short.get(key, 0.0) + 1e-6}
    if not worse:
        return True, False
    if deadline.passed():
        return True, True
    plats = {p for p, _ in worse}
    pick = (lambda p, d: p in plats) if whole_week else (lambda p, d: (p, d) in worse)
    free = [v for k, p, d, _, v in m.x if pick(p, d)]
    if len(free) > REPAIR_MAX_SHIFT_VARS:
        return True, False
    free += [h for k, h in m.headcount.items() if isinstance(h, pulp.LpVariable)
             and set(scenario.providers.at[k, "plateaux"]) & plats]
    free_z = [v for k, p, i, v in m.z if pick(p, m.date_of_row[i])]
    free_u = [v for p, d, vs in zip(m.plateau_of_row, m.date_of_row, m.u) if pick(p, d)
              for v in vs]
    out = _repair(m, scenario, opts, deadline, ints_x, zs, free, free_z, free_u, restore_x)
    return (False if out.ok else None), out.limited


def _repair(m, scenario, opts, deadline, ints_x, zs, free, free_z, free_u, restore_x):
    """MIP over the shifts `free` and agents `free_z`, everything else fixed at its value,
    stopping within half an agent-slot of deficit of its optimum (or after REPAIR_SECONDS)."""
    free_ids = {id(v) for v in free}
    free_z_ids = {id(v) for v in free_z}
    restore_x()  # free everything, then fix again all but the shifts to re-place
    refix = highs.fixed([v for v in ints_x if id(v) not in free_ids])
    fixed_z = highs.fixed([v for v in zs if id(v) not in free_z_ids])
    out = highs.resolve_mip(m.prob, opts, deadline, ints_x + zs, free + free_z + free_u,
                            gap_abs=0.5 * slot_weight(scenario), seconds=REPAIR_SECONDS)
    refix()
    fixed_z()
    highs.fixed(ints_x)  # back to all shifts fixed at their (new) values, as the caller expects
    return out


def _lost_service(m: Model, lp_short: dict) -> bool:
    """Whether rounding left a plateau-day shorter than the LP had it: a deficit the plan
    would keep though it is within --gap (its penalty is a fraction of the week's cost)."""
    now = _short_by_plateau_day(m)
    return any(v > lp_short.get(key, 0.0) + 1e-6 for key, v in now.items())


def _short_by_plateau_day(m: Model) -> dict:
    out: dict = {}
    for p, d, u in zip(m.plateau_of_row, m.date_of_row, rounding.u_values(m)):
        out[(p, d)] = out.get((p, d), 0.0) + u
    return out


def check_status(prob, opts, week, need_optimal: bool) -> None:
    """InfeasiblePlan (exit 3) when nothing satisfies the hard constraints; SolverError
    (exit 4) when the solver ended without a plan (or, for an LP, without its optimum)."""
    status = pulp.LpStatus[prob.status]
    feasible = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status == "Infeasible":
        raise InfeasiblePlan(f"week {week + 1}: no plan satisfies the hard constraints (in-house "
                             "contract hours, days per week, seat caps, weekly hours); check "
                             "opening hours against shift lengths, headcounts and seat caps")
    if not feasible or (need_optimal and status != "Optimal"):
        raise SolverError(f"week {week + 1}: solver {opts.solver} ended with status {status} "
                          "and no feasible plan (raise --time-limit?)")


def solve_week(scenario, opts, req, week: int, deadline, heads: dict | None = None):
    """Build and solve one week (req: its requirement rows); heads fixes in-house headcounts
    (the horizon's decision). Returns (Model, Solved)."""
    req = req.reset_index(drop=True)
    c0 = time.process_time()
    m = build(scenario, opts, req, week, heads=heads)
    m.build_cpu_s = time.process_time() - c0  # CPU (build_s is wall time) for the week's phases
    return m, solve_model(m, scenario, opts, deadline, week)
