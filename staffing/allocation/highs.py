"""Solver plumbing: PuLP solver objects with the run's limits, warm re-solves in the kept
HiGHS model, and the values of variables.

Limits: every solve gets the time left before the run's deadline; integer solves also get
the node limit (HiGHS `mip_max_nodes`, CBC `maxNodes`), a deterministic work limit. HiGHS runs
on one thread with its fixed default random seed, so a solve stopped by the node limit (not
the clock) gives the same plan every time.
"""

from __future__ import annotations

import dataclasses
import operator
import time

import numpy as np
import pulp

_BANNER_SHOWN = False


@dataclasses.dataclass
class Outcome:
    """How an integer solve ended: a plan or none, stopped by a limit, the solver's bound."""

    ok: bool
    limited: bool = False
    bound: float | None = None
    by_nodes: bool = False  # the node limit (not the clock) stopped it


def silence_banner() -> None:
    """HiGHS prints a banner on stdout when the first model of a process is created; create
    that first one with stdout closed so a command's output stays its own."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True


RUN_CPU_S = [0.0]  # this process's CPU seconds inside HiGHS' run, for the phases of a week


def run(h) -> None:
    """h.run(), its CPU time added to RUN_CPU_S."""
    c0 = time.process_time()
    try:
        h.run()
    finally:
        RUN_CPU_S[0] += time.process_time() - c0


class _TimedHiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface, its solver time counted in RUN_CPU_S, the problem passed to
    HiGHS in three calls (columns, integrality, rows) rather than one per column and row."""

    def buildSolverModel(self, lp):
        """The same model as PuLP's HiGHS.buildSolverModel (columns in lp.variables() order,
        then rows in constraint order; var.index and constraint.index set alike), as arrays."""
        import highspy

        inf = highspy.kHighsInf
        h = lp.solverModel
        cols = lp.variables()
        sense = -1.0 if lp.sense == pulp.const.LpMaximize else 1.0
        obj = lp.objective
        n = len(cols)
        lo = np.empty(n)
        hi = np.empty(n)
        cost = np.empty(n)
        ints = []
        for i, v in enumerate(cols):
            v.index = i
            lo[i] = -inf if v.lowBound is None else v.lowBound
            hi[i] = inf if v.upBound is None else v.upBound
            cost[i] = sense * obj.get(v, 0.0)
            if v.cat == pulp.const.LpInteger and self.mip:
                ints.append(i)
        h.addCols(n, cost, lo, hi, 0, np.zeros(n, dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))
        if ints:
            h.changeColsIntegrality(len(ints), np.array(ints, dtype=np.int32),
                                    np.full(len(ints), highspy.HighsVarType.kInteger))
        if getattr(lp, "_names", None):  # rows held as arrays (lp.Problem)
            rlo, rhi, starts, index, value = lp.row_arrays(operator.attrgetter("index"))
            h.addRows(len(rlo), rlo, rhi, len(index), starts, index, value)
            return
        rows = list(lp._constraints.values())
        starts = np.empty(len(rows), dtype=np.int32)
        rlo = np.empty(len(rows))
        rhi = np.empty(len(rows))
        index: list = []
        value: list = []
        for r, c in enumerate(rows):
            c.index = r
            starts[r] = len(index)
            for v, a in c.items():
                if a != 0:
                    index.append(v.index)
                    value.append(a)
            b = c.getLb()
            rlo[r] = -inf if b is None else b
            b = c.getUb()
            rhi[r] = inf if b is None else b
        if rows:
            h.addRows(len(rows), rlo, rhi, len(index), starts,
                      np.array(index, dtype=np.int32), np.array(value, dtype=float))

    def callSolver(self, lp):
        run(lp.solverModel)


class _HiGHSWithStart(_TimedHiGHS):
    """PuLP's HiGHS interface, handing the variables' current values to HiGHS as a start."""

    def callSolver(self, lp):
        import highspy

        sol = highspy.HighsSolution()
        sol.col_value = [0.0 if v.varValue is None else float(v.varValue) for v in lp.variables()]
        sol.value_valid = True
        lp.solverModel.setSolution(sol)
        run(lp.solverModel)


def highs_available(opts) -> bool:
    return opts.solver == "highs" and pulp.HiGHS().available()


def solver(opts, deadline, mip: bool, start: bool = False, nodes: int | None = None,
           seconds: float | None = None):
    """The PuLP solver for a full solve: LP, or MIP to --gap, within the time left and (MIP)
    the node limit (--node-limit, else `nodes`) and `seconds`; CBC with --solver cbc or
    without highspy."""
    nodes = opts.node_limit if opts.node_limit is not None else nodes
    kwargs = dict(msg=False, mip=mip)
    if mip:
        kwargs["gapRel"] = opts.gap
    limits = [t for t in (deadline.left(), seconds) if t is not None]
    if limits:
        kwargs["timeLimit"] = min(limits)
    if highs_available(opts):
        silence_banner()
        if mip and nodes is not None:
            kwargs["mip_max_nodes"] = int(nodes)
        return (_HiGHSWithStart if start else _TimedHiGHS)(threads=1, **kwargs)
    if mip and nodes is not None:
        kwargs["options"] = [f"maxNodes {int(nodes)}"]
    return pulp.PULP_CBC_CMD(warmStart=start, **kwargs)


def value(v) -> float:
    """A variable's value (0 when unset) or a constant as is."""
    if isinstance(v, pulp.LpVariable):
        return 0.0 if v.varValue is None else float(v.varValue)
    return float(v)


def values(vs) -> np.ndarray:
    return np.array([value(v) for v in vs], dtype=float)


def fixed(variables):
    """Fix variables at their current values; returns what restores their bounds."""
    saved = [(v, v.lowBound, v.upBound) for v in variables]
    for v in variables:
        v.lowBound = v.upBound = v.varValue

    def restore():  # idempotent: always back to the bounds saved here
        for v, lo, hi in saved:
            v.lowBound, v.upBound = lo, hi
    return restore


def kept(prob):
    """The HiGHS model PuLP kept from the last solve, if it can be re-solved warm."""
    h = getattr(prob, "solverModel", None)
    return h if h is not None and hasattr(h, "changeColsBounds") else None


def sync_bounds(prob, variables) -> None:
    """Copy PuLP bounds of some variables into the HiGHS model kept from the last solve."""
    h = kept(prob)
    if h is None or not variables:
        return
    import highspy

    inf = highspy.kHighsInf
    idx = np.array([v.index for v in variables], dtype=np.int32)
    lo = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    hi = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    h.changeColsBounds(len(idx), idx, lo, hi)


def first_solve(prob, opts, deadline) -> None:
    """The LP of a built problem solved by PuLP, its variable list walked once and kept
    (prob._staffing_vars) for the later re-solves (`_read`, `_start`): PuLP's variables()
    walks every constraint and sorts, and its solve asks for it three times."""
    prob._staffing_vars = cached = prob.variables()
    prob.variables = lambda: cached
    try:
        prob.solve(solver(opts, deadline, mip=False))
    finally:
        del prob.variables


def _read(prob, h) -> None:
    values_ = h.getSolution().col_value
    cached = getattr(prob, "_staffing_vars", None)
    if cached is None:  # PuLP's variables() walks every constraint: do it once
        cached = prob._staffing_vars = prob.variables()
    for v in cached:
        v.varValue = values_[v.index]


def resolve_lp(prob, opts, deadline, changed) -> bool:
    """Solve the LP again after bound changes on `changed`: warm in the kept HiGHS model
    (much faster than PuLP rebuilding it), else by PuLP. True when optimal."""
    h = kept(prob) if opts.solver == "highs" else None
    if h is None:
        prob.solve(solver(opts, deadline, mip=False))
        return pulp.LpStatus[prob.status] == "Optimal"
    import highspy

    sync_bounds(prob, changed)
    left = deadline.left()
    h.setOptionValue("time_limit", float("inf") if left is None else float(left))
    run(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    _read(prob, h)
    return True


def resolve_mip(prob, opts, deadline, changed, integer, gap_abs: float = 0.0,
                seconds: float | None = None, gap_rel: float = 0.0,
                nodes: int | None = None) -> Outcome:
    """Solve with `integer` variables integral, from the current values, after bound changes
    on `changed`, to a gap; in the kept HiGHS model when there is one. Stops at the deadline,
    after `seconds` and after --node-limit (else `nodes`) nodes; the clock is also checked
    inside the LPs (HiGHS's own time limit is not, in its root cut loop)."""
    h = kept(prob) if opts.solver == "highs" else None
    if h is None:
        prob.solve(solver(opts, deadline, mip=True, start=True, nodes=nodes, seconds=seconds))
        ok = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        return Outcome(ok, limited=pulp.LpStatus[prob.status] != "Optimal")
    import highspy

    sync_bounds(prob, changed)
    idx = np.array([v.index for v in integer], dtype=np.int32)
    kinds = highspy.HighsVarType
    h.changeColsIntegrality(len(idx), idx, np.array([kinds.kInteger] * len(idx)))
    limit = _mip_options(h, opts, deadline, gap_abs, gap_rel, seconds, nodes)
    _start(prob, h)
    stop = _interrupt_at(h, None if limit is None else time.time() + limit)
    try:
        run(h)
        return _mip_outcome(prob, h)
    finally:  # back to the LP for any later re-solve
        stop()
        h.changeColsIntegrality(len(idx), idx, np.array([kinds.kContinuous] * len(idx)))
        h.setOptionValue("time_limit", float("inf"))
        h.setOptionValue("mip_max_nodes", 2147483647)


def _start(prob, h) -> None:
    import highspy

    cached = getattr(prob, "_staffing_vars", None) or prob.variables()
    start = highspy.HighsSolution()
    col = [0.0] * h.getNumCol()
    for v in cached:
        col[v.index] = 0.0 if v.varValue is None else float(v.varValue)
    start.col_value = col
    start.value_valid = True
    h.setSolution(start)


def _interrupt_at(h, end: float | None):
    """Interrupt the solver's LPs and MIP search once time.time() passes `end`; returns what
    removes the check."""
    if end is None or not hasattr(h, "cbSimplexInterrupt"):
        return lambda: None

    def check(event):
        if time.time() >= end:
            event.interrupt()
    h.cbSimplexInterrupt += check
    h.cbMipInterrupt += check

    def stop():
        h.cbSimplexInterrupt -= check
        h.cbMipInterrupt -= check
    return stop


def _mip_options(h, opts, deadline, gap_abs, gap_rel, seconds, nodes) -> float | None:
    h.setOptionValue("mip_abs_gap", float(gap_abs))
    h.setOptionValue("mip_rel_gap", float(gap_rel))
    limits = [t for t in (deadline.left(), seconds) if t is not None]
    limit = min(limits) if limits else None
    h.setOptionValue("time_limit", float("inf") if limit is None else float(limit))
    nodes = opts.node_limit if opts.node_limit is not None else nodes
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", int(nodes))
    return limit


def _mip_outcome(prob, h) -> Outcome:
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    limits = (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kSolutionLimit,
              highspy.HighsModelStatus.kIterationLimit, highspy.HighsModelStatus.kInterrupt,
              highspy.HighsModelStatus.kHighsInterrupt)
    ok = info.primal_solution_status == 2 and (status == highspy.HighsModelStatus.kOptimal
                                               or status in limits)
    if ok:
        _read(prob, h)
    return Outcome(ok, limited=status in limits, bound=float(info.mip_dual_bound),
                   by_nodes=status == highspy.HighsModelStatus.kSolutionLimit)


def highs_outcome(prob) -> Outcome:
    """After a full PuLP MIP solve: whether a plan exists, a limit stopped it, and its bound."""
    h = getattr(prob, "solverModel", None)
    feasible = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if h is None or not hasattr(h, "getInfo"):  # CBC: PuLP says optimal only within the gap
        return Outcome(feasible, limited=pulp.LpStatus[prob.status] != "Optimal")
    import highspy

    status = h.getModelStatus()
    bound = float(h.getInfo().mip_dual_bound)
    return Outcome(feasible, limited=status != highspy.HighsModelStatus.kOptimal,
                   bound=bound if np.isfinite(bound) else None,
                   by_nodes=status == highspy.HighsModelStatus.kSolutionLimit)
