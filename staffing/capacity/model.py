"""The capacity plan's integer program (PuLP, solved by HiGHS), as docs/capacity.md writes it.

Weeks w = 0..W-1, in-house teams k, subcontractors j (contracted weekly hours per month m),
offshore sites o, plateaux p. Integer decisions: classes n[k,w], hires y[k,w], transfers
X[k,k',w] (optional). Continuous: expected headcount H[k,w] (leavers are the expected r_k x H),
paid hours at work A[provider,p,w], contracts C[j,m], offshore hours bought Q[o,w], shortfall
S[p,w]. Trainees and productive FTE are expressions of those.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pulp

from ..allocation.highs import silence_banner
from ..allocation.solve import OPTIMAL_GAP
from ..errors import SolverError
from .settings import Settings, month_index

ASSIGN_EUR_PER_HOUR = 1e-6  # assign no more hours than cover needs (paid hours are paid anyway)


@dataclasses.dataclass
class Model:
    prob: pulp.LpProblem
    y: dict  # (k, w) -> hires var
    n: dict  # (k, w) -> classes var
    X: dict  # (k, k2, w) -> transfers var
    H: dict  # (k, w) -> headcount expression (w = 0..W)
    A: dict  # (provider, p, w) -> paid hours at work on plateau p
    C: dict  # (j, m) -> contracted weekly hours
    Q: dict  # (o, w) -> offshore hours bought
    S: dict  # (p, w) -> answering hours short
    months: np.ndarray
    build_s: float


def graduates(y: dict, k: str, w: int, T: int):
    """Hires of team k finishing training at the end of week w (the class that began w-T+1)."""
    return y.get((k, w + 1 - T), 0)


def _team(prob, st: Settings, t, W, newvar, plateaux, obj, m: Model):
    """Variables, constraints and costs of one in-house team (hiring, headcount flow, work)."""
    k, T, r = t.id, t.training_weeks, t.weekly_attrition
    cap = t.class_max * t.max_classes_per_week
    for w in range(W):
        frozen = st.frozen(k, st.week_starts[w]) or cap == 0
        m.n[k, w] = newvar(f"n_{k}_{w}", 0, 0 if frozen else t.max_classes_per_week, pulp.LpInteger)
        m.y[k, w] = newvar(f"y_{k}_{w}", 0, 0 if frozen else cap, pulp.LpInteger)
        prob += (m.y[k, w] - t.class_min * m.n[k, w] >= 0, f"classmin_{k}_{w}")
        prob += (m.y[k, w] - t.class_max * m.n[k, w] <= 0, f"classmax_{k}_{w}")
    m.H[k, 0] = float(t.headcount)
    lo = float(t.headcount_min)
    hi = None if t.headcount_max is None else float(t.headcount_max)
    moves_in: dict = {}
    moves_out: dict = {}
    for (a, b, ww), v in m.X.items():
        if b == k:
            moves_in.setdefault(ww, []).append(v)
        if a == k:
            moves_out.setdefault(ww, []).append(v)
    for w in range(W):
        h = m.H[k, w]
        out = moves_out.get(w, [])
        moves = [(v, 1.0) for v in moves_in.get(w, [])] + [(v, -1.0) for v in out]
        m.H[k, w + 1] = newvar(f"H_{k}_{w + 1}", lo, hi)
        # expected leavers r x H: who leaves is random, the plan carries the expectation
        prob += (m.H[k, w + 1] - (1.0 - r) * h - graduates(m.y, k, w, T)
                 - pulp.LpAffineExpression(moves) == 0, f"flow_{k}_{w}")
        if out:
            prob += (pulp.lpSum(out) <= (1.0 - r) * h, f"out_{k}_{w}")
        trainees = pulp.lpSum(m.y[k, v] for v in range(max(0, w - T + 1), w + 1))
        salary = st.weekly_hours * t.cost_eur_per_hour
        obj.append(salary * (h + trainees))
        obj.append((t.training_cost_eur_per_hire + t.hiring_cost_eur_per_hire) * m.y[k, w])
        ramp_gap = pulp.lpSum((1.0 - f) * graduates(m.y, k, w - j, T)
                              for j, f in enumerate(t.ramp_up, start=1))
        work = []
        for p in t.plateaux:
            if p in plateaux:
                m.A[k, p, w] = newvar(f"A_{k}_{p}_{w}", 0)
                work.append(m.A[k, p, w])
        prob += (pulp.lpSum(work) - st.weekly_hours * (h - ramp_gap) <= 0, f"work_{k}_{w}")


def _transfers(st: Settings, W, newvar, m: Model, obj):
    if not st.transfers:
        return
    teams = st.teams
    for a in teams:
        for b in teams:
            if a.id != b.id and set(a.plateaux) & set(b.plateaux):
                for w in range(W):
                    v = newvar(f"X_{a.id}_{b.id}_{w}", 0, st.transfers_per_week, pulp.LpInteger)
                    m.X[a.id, b.id, w] = v
                    obj.append(st.transfer_cost_eur * v)


def _contract(prob, st: Settings, c, W, newvar, plateaux, obj, m: Model):
    months = m.months
    first_week = {mm: int(np.flatnonzero(months == mm)[0]) for mm in np.unique(months)}
    prev = c.initial_weekly_hours
    for mm in sorted(first_week):
        if first_week[mm] < c.notice_weeks:  # months in order: the fixed ones come first
            v = newvar(f"C_{c.id}_{mm}", c.initial_weekly_hours, c.initial_weekly_hours)
        else:
            v = newvar(f"C_{c.id}_{mm}", c.min_weekly_hours, c.max_weekly_hours)
        if np.isfinite(c.step_hours):
            prob += (v - prev <= c.step_hours, f"stepup_{c.id}_{mm}")
            prob += (v - prev >= -c.step_hours, f"stepdown_{c.id}_{mm}")
        m.C[c.id, mm] = v
        prev = v
    for w in range(W):
        work = []
        for p in c.plateaux:
            if p in plateaux:
                m.A[c.id, p, w] = newvar(f"A_{c.id}_{p}_{w}", 0)
                work.append(m.A[c.id, p, w])
        prob += (pulp.lpSum(work) - m.C[c.id, months[w]] <= 0, f"contract_{c.id}_{w}")
        obj.append(c.cost_eur_per_hour * m.C[c.id, months[w]])


def _offshore(prob, st: Settings, o, W, newvar, plateaux, obj, m: Model):
    for w in range(W):
        work = []
        for p in o.plateaux:
            if p in plateaux:
                ub = 0 if st.offshore_cap <= 0 else None
                m.A[o.id, p, w] = newvar(f"A_{o.id}_{p}_{w}", 0, ub)
                work.append(m.A[o.id, p, w])
        q = newvar(f"Q_{o.id}_{w}", o.min_weekly_hours, o.max_weekly_hours)
        m.Q[o.id, w] = q
        prob += (pulp.lpSum(work) - q <= 0, f"bought_{o.id}_{w}")
        obj.append(o.cost_eur_per_hour * q)


def service_first_penalty(st: Settings) -> float:
    """EUR per answering hour short: the scenario's penalty, or more when meeting one hour of
    requirement can cost more than that (a whole class trained for one week of work at the
    first ramp-up rate), so that the plan is short only where no decision could cover."""
    dearest = 0.0
    for t in st.teams:
        week = st.weekly_hours * t.cost_eur_per_hour
        first = t.ramp_up[0] if t.ramp_up else 1.0
        per_hire = (t.training_weeks + 1) * week + t.training_cost_eur_per_hire + t.hiring_cost_eur_per_hire
        if first > 0:
            dearest = max(dearest, t.class_min * per_hire / (st.weekly_hours * t.answer_per_hour * first))
    return max(st.penalty_eur_per_hour, 1.5 * dearest)


def build(st: Settings, need, eta, W: int) -> Model:
    """The model; need: DataFrame (plateau x week) of required answering agent-hours R;
    eta: Series plateau -> the in-house scheduling efficiency."""
    t0 = time.perf_counter()
    prob = pulp.LpProblem("capacity", pulp.LpMinimize)
    newvar = getattr(prob, "add_variable", pulp.LpVariable)
    plateaux = list(need.index)
    m = Model(prob, {}, {}, {}, {}, {}, {}, {}, {}, month_index(st.week_starts), 0.0)
    obj: list = []
    _transfers(st, W, newvar, m, obj)
    for t in st.teams:
        _team(prob, st, t, W, newvar, plateaux, obj, m)
    for c in st.contracts:
        _contract(prob, st, c, W, newvar, plateaux, obj, m)
    for o in st.offshore:
        _offshore(prob, st, o, W, newvar, plateaux, obj, m)
    per_hour = {x.id: x.answer_per_hour for x in st.teams + st.contracts + st.offshore}
    team_ids = {t.id for t in st.teams}
    offshore_ids = {o.id for o in st.offshore}
    by_pw: dict = {}
    for (k, p, w), v in m.A.items():
        by_pw.setdefault((p, w), []).append((k, v))
    cap = st.offshore_cap
    penalty = service_first_penalty(st)
    for w in range(W):
        share_terms, any_off = [], False
        for p in plateaux:
            work = by_pw.get((p, w), [])
            m.S[p, w] = newvar(f"S_{p}_{w}", 0)
            obj.append(penalty * m.S[p, w])
            useful = {k: per_hour[k] * (float(eta[p]) if k in team_ids else 1.0) for k, _ in work}
            terms = [(v, useful[k]) for k, v in work] + [(m.S[p, w], 1.0)]
            obj += [ASSIGN_EUR_PER_HOUR * v for _, v in work]
            prob += (pulp.LpAffineExpression(terms) >= float(need.at[p, w]), f"cover_{p}_{w}")
            for k, v in work:
                off = k in offshore_ids
                any_off |= off
                share_terms.append((v, per_hour[k] * ((1 - cap) if off else -cap)))
        if any_off and 0 < cap < 1:
            prob += (pulp.LpAffineExpression(share_terms) <= 0, f"offcap_{w}")
    prob += pulp.lpSum(obj)
    m.build_s = time.perf_counter() - t0
    return m


def _polish(m: Model, time_limit: float) -> None:
    """The integer decisions fixed, the continuous rest (contracts, offshore hours, assignment,
    shortfall) solved to optimality: what the MIP's gap tolerance left on the table there."""
    ints = list(m.y.values()) + list(m.n.values()) + list(m.X.values())
    saved = [(v, v.lowBound, v.upBound) for v in ints]
    for v in ints:
        v.lowBound = v.upBound = float(round(v.varValue or 0.0))
    try:
        m.prob.solve(pulp.HiGHS(msg=False, mip=False, timeLimit=time_limit, threads=1))
    finally:
        for v, lo, hi in saved:
            v.lowBound, v.upBound = lo, hi
    if pulp.LpStatus[m.prob.status] != "Optimal":
        raise SolverError(f"capacity plan: the LP with the hires fixed ended with status "
                          f"{pulp.LpStatus[m.prob.status]}")


def solve(m: Model, gap: float, time_limit: float) -> dict:
    """Solve to the relative gap; returns status, objective, proven bound, gap and times."""
    silence_banner()
    solver = pulp.HiGHS(msg=False, gapRel=gap, timeLimit=time_limit, threads=1)
    t0, c0 = time.perf_counter(), time.process_time()
    m.prob.solve(solver)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    status = pulp.LpStatus[m.prob.status]
    feasible = m.prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if not feasible:
        raise SolverError(f"capacity plan: HiGHS ended with status {status} and no feasible plan "
                          f"(raise capacity.time_limit_s, now {time_limit:g} s?)")
    info = m.prob.solverModel.getInfo()
    bound = float(info.mip_dual_bound) + float(m.prob.objective.constant)  # HiGHS drops constants
    t1 = time.perf_counter()
    _polish(m, time_limit)
    wall += time.perf_counter() - t1
    objective = float(pulp.value(m.prob.objective))
    if not np.isfinite(bound):  # a model without integers: the LP optimum is proven
        bound = objective
    rel = max(objective - bound, 0.0) / abs(objective) if objective else 0.0
    # the same words as optimise: optimal only when proven, feasible within the asked gap
    reached = m.prob.sol_status == pulp.LpSolutionOptimal or rel <= gap + 1e-12
    status = "optimal" if rel <= OPTIMAL_GAP else ("feasible" if reached else "time_limit")
    return {"status": status, "objective_eur": objective,
            "bound_eur": bound, "gap": rel, "build_s": m.build_s, "solve_s": wall,
            "solve_cpu_s": cpu}
