"""The service component: requirement or floor per slot, the deficit's convex service cost,
the concave SL(n) curve (slot scope: the tie-break of spare capacity; day scope: the daily
call-weighted SL), one module for both scopes.

docs/model.md ("Objective", "Service") writes this as math. Priorities of the objective:
  1-2. service: the deficit d = max(0, need - N) of each plateau-slot costs
       w h need * phi(d / need), phi convex piecewise linear (DEFICIT_BREAKS, DEFICIT_SLOPES),
       w = service_weight(scenario) EUR per agent-hour: an agent-hour short outweighs
       SERVICE_WEIGHT_WEEKS adviser-weeks of the dearest team and a hundredth of an agent short
       ten agent-hours of the dearest provider, so the solver pays for any deficit it can close;
  3.   cost, EUR;
  4.   expected late calls calls x (1 - SL(N)), at eps EUR a call, eps small enough that the
       whole term is at most TIEBREAK_SHARE of the least cost of a zero-shortfall week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import queueing
from .lp import EQ, GE, LE

DAY_SCOPE_FLOOR = 0.5  # day scope: no slot below this share of the SL target
DAY_SCOPE_POINTS = 10  # sampled staffing levels per slot for the concave SL(n) curve (day scope)
SLOT_SCOPE_POINTS = 6  # ... and above the requirement in slot scope (the tie-break)
SL_TOP = 0.999  # the curve is sampled up to the agents for this SL (or the target if higher)
# phi, the deficit's cost in the relative deficit r = d / need: pieces between DEFICIT_BREAKS,
# slope 1 / (1 - r) at each piece's start (a piecewise-linear -log(1 - r)): increasing, so phi
# is convex, and steeper towards an empty slot (phi(1) = 3.4, ten slots 10 % short 1.03)
DEFICIT_BREAKS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
DEFICIT_SLOPES = tuple(1.0 / (1.0 - b) for b in DEFICIT_BREAKS[:-1])
SERVICE_WEIGHT_WEEKS = 10.0
SERVICE_WEIGHT_HOURS = 1000.0  # a hundredth of an agent short outweighs ten agent-hours
TIEBREAK_SHARE = 1e-4


def target_args(targets: pd.DataFrame, p: str, model: str):
    """(SL target, answer time s, occupancy cap or None, patience s or None) of plateau p."""
    t = targets.loc[p]
    patience = float(t["patience_s"]) if model == "erlang_a" and pd.notna(t["patience_s"]) else None
    occ = None if pd.isna(t["max_occupancy"]) else float(t["max_occupancy"])
    return float(t["sl_target"]), float(t["answer_s"]), occ, patience


def day_floor(req: pd.DataFrame, targets: pd.DataFrame, model: str) -> np.ndarray:
    """Day scope: the fewest agents a slot may have, those for DAY_SCOPE_FLOOR x the SL target
    (and the occupancy cap); from there on SL(n) is concave in n. Shape (len(req),), agents."""
    out = np.zeros(len(req))
    for p, rows in req.groupby("plateau", sort=False):
        sl, answer, occ, patience = target_args(targets, p, model)
        out[req.index.get_indexer(rows.index)] = queueing.required_agents(
            rows["calls"].to_numpy(float), rows["live_aht_s"].to_numpy(float),
            rows["slot_minutes"].to_numpy(float), DAY_SCOPE_FLOOR * sl, answer,
            max_occupancy=occ, patience_s=patience)
    return out


def sl_curve(req: pd.DataFrame, targets: pd.DataFrame, model: str, lo: np.ndarray,
             points: int) -> list:
    """Per row of req: staffing levels n_0 = lo < ... < n_K (up to the agents for SL_TOP) and
    SL(n_i) from the queueing engine, as two arrays. SL(n) is concave from lo on (lo at least
    the agents for half the target), so secants between the points lie below it."""
    out = [None] * len(req)
    for p, rows in req.groupby("plateau", sort=False):
        sl_t, answer, occ, patience = target_args(targets, p, model)
        calls, aht = rows["calls"].to_numpy(float), rows["live_aht_s"].to_numpy(float)
        slot = rows["slot_minutes"].to_numpy(float)
        low = lo[req.index.get_indexer(rows.index)]
        hi = queueing.required_agents(calls, aht, slot, min(0.9999, max(sl_t, SL_TOP)), answer,
                                      max_occupancy=occ, patience_s=patience)
        hi = np.maximum(hi, low)
        frac = np.linspace(0.0, 1.0, points) ** 1.5  # denser near the bottom
        grid = np.round(low[:, None] + (hi - low)[:, None] * frac[None, :])
        m = queueing.evaluate(np.repeat(calls, points), np.repeat(aht, points),
                              np.repeat(slot, points), grid.ravel(), answer, patience_s=patience,
                              with_asa=False)
        sl = m["service_level"].reshape(grid.shape)
        for i, idx in enumerate(req.index.get_indexer(rows.index)):
            g, first = np.unique(grid[i], return_index=True)
            out[idx] = (g, sl[i][first])
    return out


def service_weight(scenario) -> float:
    """EUR per agent-hour of deficit on phi's first piece: the largest of the scenario's
    shortfall penalty, SERVICE_WEIGHT_WEEKS adviser-weeks of the dearest in-house team and
    SERVICE_WEIGHT_HOURS answering agent-hours of the dearest provider."""
    prov = scenario.providers
    eff = (1.0 - prov["shrinkage"]) / prov["aht_factor"]
    per_answering_hour = prov["cost_eur_per_hour"] / eff
    inhouse = prov["kind"] == "inhouse"
    week = scenario.shifts.weekly_hours * float(per_answering_hour[inhouse].max()) if inhouse.any() else 0.0
    hour = float(per_answering_hour[~inhouse].max()) if (~inhouse).any() else 0.0
    return max(scenario.shortfall_penalty_eur_per_agent_hour, SERVICE_WEIGHT_WEEKS * week,
               SERVICE_WEIGHT_HOURS * max(hour, week / scenario.shifts.weekly_hours))


def slot_weight(scenario) -> float:
    """EUR per agent-slot of deficit on phi's first piece: service_weight over one slot."""
    return service_weight(scenario) * scenario.slot_minutes / 60


def tiebreak_eur_per_call(scenario, need: np.ndarray, calls: np.ndarray) -> float:
    """eps: TIEBREAK_SHARE x (a lower bound on the cost of covering `need`, at the cheapest
    answering agent-hour) / calls, so eps x calls x (1 - SL) never exceeds that share."""
    prov = scenario.providers
    eff = (1.0 - prov["shrinkage"]) / prov["aht_factor"]
    cheapest = float((prov["cost_eur_per_hour"] / eff).min())
    total = float(calls.sum())
    hours = float(need.sum()) * scenario.slot_minutes / 60.0
    return TIEBREAK_SHARE * cheapest * hours / total if total > 0 else 0.0


def deficit_cost(short: np.ndarray, need: np.ndarray) -> np.ndarray:
    """need x phi(short / need) per row, in agent-slots at phi's first slope (rows without need
    count their shortfall at the top slope)."""
    short, need = np.asarray(short, float), np.asarray(need, float)
    r = np.divide(short, need, out=np.zeros_like(short), where=need > 0)
    phi = np.zeros_like(r)
    for (a, b), m in zip(zip(DEFICIT_BREAKS[:-1], DEFICIT_BREAKS[1:]), DEFICIT_SLOPES):
        phi += m * np.clip(r - a, 0.0, b - a)
    return np.where(need > 0, need * phi, DEFICIT_SLOPES[-1] * short)


def _deficit_vars(ctx, i: int, need: float, weight: float) -> list:
    """The pieces of row i's deficit: u_ij in [0, (b_j+1 - b_j) need], priced w h phi'_j; with
    nothing required, or with ctx.spill, one more (past the need), unbounded, at the top
    slope."""
    out = []
    pieces = zip(DEFICIT_BREAKS[:-1], DEFICIT_BREAKS[1:]) if need > 0 else ()
    for j, (a, b) in enumerate(pieces):
        v = ctx.newvar(f"{ctx.pre}u_{i}_{j}", 0, (b - a) * need)
        ctx.objective.append((v, weight * DEFICIT_SLOPES[j]))
        out.append(v)
    # unbounded at the top slope: callback work with nothing required (only callbacks to
    # serve), or past the need where no agent is there to serve it (ctx.spill)
    if need <= 0 or ctx.spill:
        v = ctx.newvar(f"{ctx.pre}u_{i}_{len(out)}", 0)
        ctx.objective.append((v, weight * DEFICIT_SLOPES[-1]))
        out.append(v)
    return out


def _sl_cuts(ctx, i: int, staffed, g: np.ndarray, s: np.ndarray, eps_calls: float):
    """q_i <= SL(n_j) + slope_j (N_i - n_j) for each secant; the objective rewards q_i by
    eps x calls (day scope: also in the daily SL constraint). Returns q_i."""
    q = ctx.newvar(f"{ctx.pre}sl_{i}", None, float(s[-1]))
    for j in range(len(g) - 1):
        slope = (s[j + 1] - s[j]) / (g[j + 1] - g[j])
        ctx.prob.add_row([(q, 1.0), (staffed, -slope)], LE, float(s[j] - slope * g[j]),
                         f"{ctx.pre}slcut_{i}_{j}")
    if eps_calls > 0:
        ctx.objective.append((q, -eps_calls))
        ctx.const += eps_calls
    return q


def add(ctx, cb: list) -> tuple[list, list]:
    """Deficit, staffing and SL per row, and the day scope's daily SL; returns (u, day_short):
    u[i] the list of row i's deficit pieces, day_short the daily shortfall variables."""
    req, day = ctx.req, ctx.opts.sl_scope == "day"
    need = ctx.need
    weight = service_weight(ctx.scenario) * ctx.slot_h
    calls = req["calls"].to_numpy(float)
    eps = tiebreak_eur_per_call(ctx.scenario, req["agents"].to_numpy(float), calls)
    curve = sl_curve(req, ctx.scenario.targets, ctx.opts.queueing, need,
                     DAY_SCOPE_POINTS if day else SLOT_SCOPE_POINTS)
    u, q = [], {}
    for i in range(ctx.n):
        u.append(_deficit_vars(ctx, i, float(need[i]), weight))
        expr = ctx.cover[i] + [(cb[i], -1.0)]  # answering agents, with ctx.carry[i]
        carry = float(ctx.carry[i])
        g, s = curve[i]
        if calls[i] <= 0 or (len(g) < 2 and not day):
            ctx.prob.add_row(expr + [(v, 1.0) for v in u[i]], GE, float(need[i]),
                             f"{ctx.pre}cover_{i}", carry)
            continue
        staffed = ctx.newvar(f"{ctx.pre}n_{i}", None)
        ctx.prob.add_row(expr + [(staffed, -1.0)], EQ, 0.0, f"{ctx.pre}staffed_{i}", carry)
        ctx.prob.add_row([(staffed, 1.0)] + [(v, 1.0) for v in u[i]], GE, float(need[i]),
                         f"{ctx.pre}cover_{i}")
        q[i] = _sl_cuts(ctx, i, staffed, g, s, eps * calls[i])
    return u, (_daily_sl(ctx, q, calls, weight) if day else [])


def _daily_sl(ctx, q: dict, calls: np.ndarray, weight: float) -> list:
    """Day scope: sum_t calls q + v >= target x calls per plateau-day; v priced like an agent
    missing for a slot per call (service first)."""
    out = []
    for (p, d), rows in ctx.groups.items():
        idx = [i for i in rows if i in q]
        if not idx:
            continue
        target = float(ctx.scenario.targets.at[p, "sl_target"])
        tag = f"{p}_{pd.Timestamp(d):%m%d}"
        short = ctx.newvar(f"{ctx.pre}dayshort_{tag}", 0)
        out.append(short)
        ctx.objective.append((short, weight))
        ctx.prob.add_row([(q[i], calls[i]) for i in idx] + [(short, 1.0)], GE,
                         target * float(calls[idx].sum()), f"{ctx.pre}daysl_{tag}")
    return out
