"""The allocation model (PuLP): build, solve with HiGHS (CBC as fallback), extract the plan.

docs/model.md writes the model as math, symbol for symbol as built here. Weeks are independent
given the headcount, so a horizon is solved week by week (in parallel for several weeks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import pulp

from . import demand as demand_mod
from . import queueing, shifts
from .errors import InfeasiblePlan, InputError, SolverError
from .parallel import run_jobs

SHORTFALL_TOL = 1e-4  # agents: below this a slot counts as covered (solver tolerances)
DAY_SCOPE_FLOOR = 0.5  # day scope: no slot below this share of the SL target
DAY_SCOPE_POINTS = 10  # sampled staffing levels per slot for the concave SL(n) curve
REPAIR_MAX_SHIFT_VARS = 4000  # re-place shifts by MIP only for teams this small...
REPAIR_SECONDS = 20.0  # ...and for at most this long


@dataclasses.dataclass(frozen=True)
class Options:
    """What `staffing optimise` may change for one run."""

    regime: str | None = None
    start: dt.date | None = None
    weeks: int | None = None
    sl_scope: str | None = None
    queueing: str | None = None
    headcount: str = "fixed"  # or "optimise"
    offshore_cap: float | None = None
    relax: bool = False
    solver: str = "highs"
    time_limit: float | None = 60.0
    gap: float = 0.005
    workers: int | None = None

    def resolved(self, scenario) -> "Options":
        """Fill scenario defaults in and check values."""
        scope = self.sl_scope or scenario.sl_scope
        model = self.queueing or scenario.queueing
        cap = scenario.offshore_cap if self.offshore_cap is None else float(self.offshore_cap)
        if scope not in ("slot", "day"):
            raise InputError(f"must be slot or day, got {scope!r}", field="--sl-scope")
        if model not in ("erlang_c", "erlang_a"):
            raise InputError(f"must be erlang_c or erlang_a, got {model!r}", field="--queueing")
        if self.headcount not in ("fixed", "optimise"):
            raise InputError(f"must be fixed or optimise, got {self.headcount!r}", field="--headcount")
        if not 0.0 <= cap <= 1.0:
            raise InputError(f"must be in [0, 1], got {cap}", field="--offshore-cap")
        if self.solver not in ("highs", "cbc"):
            raise InputError(f"must be highs or cbc, got {self.solver!r}", field="--solver")
        if self.gap < 0:
            raise InputError(f"must be >= 0, got {self.gap}", field="--gap")
        if self.time_limit is not None and self.time_limit <= 0:
            raise InputError(f"must be > 0, got {self.time_limit}", field="--time-limit")
        regime = self.regime or scenario.active_regime
        if regime not in scenario.regimes.index:
            raise InputError(f"unknown regime {regime!r} (have {', '.join(scenario.regimes.index)})",
                             field="--regime")
        return dataclasses.replace(self, regime=regime, start=self.start or scenario.start,
                                   weeks=self.weeks or scenario.weeks, sl_scope=scope,
                                   queueing=model, offshore_cap=cap)


# ----------------------------------------------------------------------------- requirements

def requirements(scenario, demand: pd.DataFrame, model: str) -> pd.DataFrame:
    """Erlang requirements per plateau x slot at the live AHT, with the callback work."""
    req = demand_mod.requirements(scenario.replace(queueing=model), demand)
    if "fold" not in req.columns:
        req.insert(req.columns.get_loc("slot_start") + 1, "fold", 0)
    extra = demand[["slot_start", "fold", "plateau", "date", "callback_agents", "callback_cut_s"]]
    return req.merge(extra, on=["slot_start", "fold", "plateau"], how="left",
                     validate="one_to_one")


# ----------------------------------------------------------------------------- one week

@dataclasses.dataclass
class WeekResult:
    week: int
    status: str
    objective: float
    lp_bound: float | None
    solve_s: float
    build_s: float
    x: pd.DataFrame  # in-house shifts: date, provider, plateau, shift, ..., advisers
    z: pd.DataFrame  # outsourced agents: slot, provider, plateau, agents
    headcount: dict  # in-house provider -> advisers employed this week
    paid_hours: dict  # outsourced provider -> paid hours this week (take-or-pay included)
    u: np.ndarray  # shortfall per requirement row (agents)
    cb: np.ndarray  # callback agents served per requirement row
    day_short: float  # day scope: SL-calls below target, summed
    inhouse: pd.DataFrame = None  # in-house advisers at work: row, provider, agents
    shifts: pd.DataFrame = None  # the shifts table's rows of this week
    tours: pd.DataFrame = None  # the tours table's rows of this week


def _target_args(targets: pd.DataFrame, p: str, model: str):
    t = targets.loc[p]
    patience = float(t["patience_s"]) if model == "erlang_a" and pd.notna(t["patience_s"]) else None
    occ = None if pd.isna(t["max_occupancy"]) else float(t["max_occupancy"])
    return float(t["sl_target"]), float(t["answer_s"]), occ, patience


def day_floor(req: pd.DataFrame, targets: pd.DataFrame, model: str) -> np.ndarray:
    """Day scope: the fewest agents a slot may have, those for DAY_SCOPE_FLOOR x the SL target
    (and the occupancy cap); from there on SL(n) is concave in n."""
    out = np.zeros(len(req))
    for p, rows in req.groupby("plateau", sort=False):
        sl, answer, occ, patience = _target_args(targets, p, model)
        out[req.index.get_indexer(rows.index)] = queueing.required_agents(
            rows["calls"].to_numpy(float), rows["live_aht_s"].to_numpy(float),
            rows["slot_minutes"].to_numpy(float), DAY_SCOPE_FLOOR * sl, answer,
            max_occupancy=occ, patience_s=patience)
    return out


def _sl_curve(req: pd.DataFrame, targets: pd.DataFrame, model: str) -> dict:
    """Day scope: per row, staffing levels n_0 < ... < n_K from the floor up to SL 0.999, and
    SL(n_i). Secants between them lie below the concave SL(n), so the model is conservative."""
    out = {}
    for p, rows in req.groupby("plateau", sort=False):
        sl_t, answer, occ, patience = _target_args(targets, p, model)
        calls, aht = rows["calls"].to_numpy(float), rows["live_aht_s"].to_numpy(float)
        slot = rows["slot_minutes"].to_numpy(float)
        lo = rows["floor_agents"].to_numpy(float)
        hi = queueing.required_agents(calls, aht, slot, min(0.9999, max(sl_t, 0.999)), answer,
                                      max_occupancy=occ, patience_s=patience)
        hi = np.maximum(hi, lo)
        frac = np.linspace(0.0, 1.0, DAY_SCOPE_POINTS) ** 1.5  # denser near the floor
        grid = np.round(lo[:, None] + (hi - lo)[:, None] * frac[None, :])
        k = DAY_SCOPE_POINTS
        m = queueing.evaluate(np.repeat(calls, k), np.repeat(aht, k), np.repeat(slot, k),
                              grid.ravel(), answer, patience_s=patience, with_asa=False)
        sl = m["service_level"].reshape(grid.shape)
        for i, idx in enumerate(rows.index):
            g, first = np.unique(grid[i], return_index=True)
            out[idx] = (g, sl[i][first])
    return out


@dataclasses.dataclass
class _Model:
    """A built week model: the PuLP problem and its variable groups."""

    prob: pulp.LpProblem
    x: list  # (provider, plateau, date, Pattern, var)
    z: list  # (provider, plateau, row, var)
    headcount: dict  # in-house provider -> var or int
    paid: dict  # outsourced provider -> var
    u: list
    cb: list
    day_short: list
    team_days: dict  # in-house provider -> {date: [x vars]}
    slot_of_row: np.ndarray  # slot number of each requirement row
    plateau_of_row: np.ndarray
    date_of_row: np.ndarray
    x_matrix: object  # sparse rows x shifts: answering agents each shift gives each row
    need: np.ndarray  # per row: agents required (slot scope) or the floor (day scope)
    z_eff: np.ndarray  # answering agents per outsourced agent, by z entry
    build_s: float


def _build(scenario, opts: Options, req: pd.DataFrame, week: int) -> _Model:
    """The week's model, as written in docs/model.md."""
    t0 = time.perf_counter()
    prov = scenario.providers
    rules = scenario.shifts
    step = scenario.slot_minutes
    slot_h = step / 60.0
    eff = ((1.0 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    shrink = prov["shrinkage"].to_dict()
    cat = pulp.LpContinuous if opts.relax else pulp.LpInteger
    prob = pulp.LpProblem(f"week{week + 1}", pulp.LpMinimize)
    # PuLP 3.3 wants variables created through their problem (LpVariable() warns each time)
    newvar = getattr(prob, "add_variable", pulp.LpVariable)
    n = len(req)
    plateau = req["plateau"].to_numpy()
    minute = (req["slot_start"].dt.hour * 60 + req["slot_start"].dt.minute).to_numpy()
    dates = req["date"].to_numpy()
    slot_id = req.groupby(["slot_start", "fold"], sort=True).ngroup().to_numpy()
    cover: list[list] = [[] for _ in range(n)]
    objective: list = []
    const = 0.0

    # rows of each (date, plateau) by wall-clock minute, and of each plateau
    day_rows: dict = {}
    for i in range(n):
        day_rows.setdefault((dates[i], plateau[i]), {}).setdefault(int(minute[i]), []).append(i)
    plateau_rows = {p: np.flatnonzero(plateau == p) for p in scenario.plateaux.index}
    unique_dates = sorted(set(dates))
    patterns = {}
    for d in unique_dates:
        hours = scenario.opening_minutes(pd.Timestamp(d).weekday())
        patterns[d] = ([] if hours is None
                       else shifts.day_patterns(hours[0], hours[1], step, rules), hours)

    # in-house teams: shifts x[k,p,d,s], headcount H_k
    x_vars, headcount, team_days, x_cover = [], {}, {}, []
    answer_in = []
    for k, team in prov[prov["kind"] == "inhouse"].iterrows():
        weekly_cost = rules.weekly_hours * float(team["cost_eur_per_hour"])
        if opts.headcount == "optimise":
            lo = int(team["headcount_min"]) if pd.notna(team["headcount_min"]) else 0
            hi = (int(team["headcount_max"]) if pd.notna(team["headcount_max"])
                  else int(team["headcount"]))
            h = newvar(f"H_{k}", lo, hi, cat)
            objective.append((h, weekly_cost))
        else:
            h = int(team["headcount"])
            const += weekly_cost * h
        headcount[k] = h
        hours_terms, days = [], {}
        for d in unique_dates:
            pats, hours = patterns[d]
            tag = pd.Timestamp(d).strftime("%m%d")
            for p in team["plateaux"]:
                by_minute = day_rows.get((d, p))
                if by_minute is None:
                    continue
                for pat in pats:
                    v = newvar(f"x_{k}_{p}_{tag}_{pat.start_min}_{pat.break_start_min}_"
                                        f"{int(pat.paid_hours * 60)}", 0, None, cat)
                    xi = len(x_vars)
                    x_vars.append((k, p, d, pat, v))
                    for si in pat.slots:
                        for i in by_minute.get(hours[0] + si * step, ()):
                            cover[i].append((v, eff[k]))
                            x_cover.append((i, xi, eff[k]))
                    hours_terms.append((v, pat.paid_hours))
                    days.setdefault(d, []).append(v)
                    answer_in.append((v, (1 - shrink[k]) * pat.paid_hours))
        team_days[k] = days
        prob += (pulp.LpAffineExpression(hours_terms) == rules.weekly_hours * h, f"hours_{k}")
        for d, vs in days.items():
            prob += (pulp.lpSum(vs) <= h, f"oneshift_{k}_{pd.Timestamp(d):%m%d}")
        prob += (pulp.lpSum(v for vs in days.values() for v in vs) <= rules.days_per_week * h,
                 f"days_{k}")

    # outsourced providers: agents z[k,p,t], paid hours P_k with a take-or-pay minimum
    z_vars, paid = [], {}
    answer_out, answer_off = [], []
    for k, sub in prov[prov["kind"] != "inhouse"].iterrows():
        seats = float(sub["seats"]) if pd.notna(sub["seats"]) else None
        offshore = sub["kind"] == "offshore"
        upper = 0 if offshore and opts.offshore_cap <= 0 else seats
        per_slot: dict = {}
        hour_terms = []
        share_terms = answer_off if offshore else answer_out
        for p in sub["plateaux"]:
            for i in plateau_rows.get(p, ()):
                v = newvar(f"z_{k}_{p}_{i}", 0, upper, cat)
                z_vars.append((k, p, int(i), v))
                cover[i].append((v, eff[k]))
                per_slot.setdefault(slot_id[i], []).append(v)
                hour_terms.append((v, slot_h))
                share_terms.append((v, (1 - shrink[k]) * slot_h))
        if seats is not None:
            for j, vs in per_slot.items():
                if len(vs) > 1:
                    prob += (pulp.lpSum(vs) <= seats, f"seats_{k}_{j}")
        worked = pulp.LpAffineExpression(hour_terms)
        if pd.notna(sub["max_weekly_hours"]):
            prob += (worked <= float(sub["max_weekly_hours"]), f"maxhours_{k}")
        min_h = float(sub["min_weekly_hours"]) if pd.notna(sub["min_weekly_hours"]) else 0.0
        pk = newvar(f"P_{k}", min_h, None)
        prob += (pk - worked >= 0, f"paid_{k}")
        paid[k] = pk
        objective.append((pk, float(sub["cost_eur_per_hour"])))

    # offshore share of answering hours
    if answer_off and opts.offshore_cap < 1:
        cap = opts.offshore_cap
        terms = [(v, c * (1 - cap)) for v, c in answer_off]
        terms += [(v, -c * cap) for v, c in answer_out + answer_in]
        prob += (pulp.LpAffineExpression(terms) <= 0, "offshore_cap")

    # callbacks: served later the same day, never before the calls that need them
    cb = [newvar(f"cb_{i}", 0) for i in range(n)]
    gen = req["callback_agents"].to_numpy(float)
    order = np.lexsort((req["fold"].to_numpy(), req["slot_start"].to_numpy()))
    groups: dict = {}
    for i in order:
        groups.setdefault((plateau[i], dates[i]), []).append(int(i))
    for (p, d), rows in groups.items():
        tag = f"{p}_{pd.Timestamp(d):%m%d}"
        total = float(gen[rows].sum())
        if total <= 0:
            for i in rows:
                cb[i].upBound = 0
            continue
        cum = np.cumsum(gen[rows])
        for j in range(len(rows) - 1):
            prob += (pulp.lpSum(cb[i] for i in rows[: j + 1]) <= float(cum[j]), f"cbcum_{tag}_{j}")
        prob += (pulp.lpSum(cb[i] for i in rows) == total, f"cbday_{tag}")

    # service level: every slot (slot scope) or the day's call-weighted SL (day scope)
    # whole agents short: a fraction of an agent must not be cheaper than hiring a whole one
    u = [newvar(f"u_{i}", 0, None, cat) for i in range(n)]
    penalty = scenario.shortfall_penalty_eur_per_agent_hour * slot_h
    objective += [(v, penalty) for v in u]
    need = req["agents"].to_numpy(float)
    day_short = []
    if opts.sl_scope == "slot":
        for i in range(n):
            prob += (pulp.LpAffineExpression(cover[i] + [(cb[i], -1.0), (u[i], 1.0)]) >= need[i],
                     f"cover_{i}")
    else:
        curve = _sl_curve(req, scenario.targets, opts.queueing)
        calls = req["calls"].to_numpy(float)
        sl_vars = {}
        for i in range(n):
            if calls[i] <= 0:
                continue
            g, s = curve[i]
            staffed = cover[i] + [(cb[i], -1.0)]
            prob += (pulp.LpAffineExpression(staffed + [(u[i], 1.0)]) >= float(g[0]), f"floor_{i}")
            sv = newvar(f"sl_{i}", 0, 1)
            sl_vars[i] = sv
            for j in range(len(g) - 1):
                slope = (s[j + 1] - s[j]) / (g[j + 1] - g[j])
                prob += (pulp.LpAffineExpression([(sv, 1.0)] + [(v, -slope * c) for v, c in staffed])
                         <= float(s[j] - slope * g[j]), f"slcut_{i}_{j}")
        for (p, d), rows in groups.items():
            idx = [i for i in rows if i in sl_vars]
            if not idx:
                continue
            target = float(scenario.targets.at[p, "sl_target"])
            short = newvar(f"dayshort_{p}_{pd.Timestamp(d):%m%d}", 0)
            day_short.append(short)
            objective.append((short, penalty))  # a late call costs an agent missing for a slot
            prob += (pulp.LpAffineExpression([(sl_vars[i], calls[i]) for i in idx] + [(short, 1.0)])
                     >= target * float(calls[idx].sum()), f"daysl_{p}_{pd.Timestamp(d):%m%d}")

    prob += pulp.LpAffineExpression(objective, constant=const)
    from scipy import sparse

    trip = np.array(x_cover, dtype=float).reshape(-1, 3)
    x_matrix = sparse.csr_matrix((trip[:, 2], (trip[:, 0].astype(int), trip[:, 1].astype(int))),
                                 shape=(n, len(x_vars)))
    return _Model(prob, x_vars, z_vars, headcount, paid, u, cb, day_short, team_days, slot_id,
                  plateau, dates, x_matrix,
                  need if opts.sl_scope == "slot" else req["floor_agents"].to_numpy(float),
                  np.array([eff[k] for k, *_ in z_vars]),
                  time.perf_counter() - t0)


_BANNER_SHOWN = False


def _silence_highs_banner() -> None:
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


class _HiGHSWithStart(pulp.HiGHS):
    """PuLP's HiGHS interface, handing the variables' current values to HiGHS as a start."""

    def callSolver(self, lp):
        import highspy

        sol = highspy.HighsSolution()
        sol.col_value = [0.0 if v.varValue is None else float(v.varValue) for v in lp.variables()]
        sol.value_valid = True
        lp.solverModel.setSolution(sol)
        lp.solverModel.run()


def _solver(opts: Options, mip: bool, start: bool = False, gap_abs: float | None = None):
    kwargs = dict(msg=False, mip=mip)
    if mip:
        kwargs["gapRel"] = opts.gap if gap_abs is None else 0.0
        if gap_abs is not None:
            kwargs["gapAbs"] = gap_abs
    if opts.time_limit is not None:
        kwargs["timeLimit"] = opts.time_limit
    if opts.solver == "highs" and pulp.HiGHS().available():
        _silence_highs_banner()
        return (_HiGHSWithStart if start else pulp.HiGHS)(threads=1, **kwargs)
    return pulp.PULP_CBC_CMD(warmStart=start, **kwargs)  # also the fallback without highspy


def _round_shifts(m: _Model, rules) -> bool:
    """Round the LP's shift counts to integers, team by team.

    The shifts of each plateau-day are first rounded as a whole (largest remainders, so the
    team works exactly its contract hours and never has more shifts on a day than advisers);
    then spread over that day's patterns by rounding their cumulative count in order of start
    time, which keeps every slot's coverage within one adviser of the LP's. Leaves the values
    in the variables; False when the rules allow several shift lengths (the hours equation
    then needs the solver).
    """
    if len(set(rules.paid_hours)) != 1:
        return False
    # in-house coverage each row needs for the LP's outsourced agents to stay enough
    z_lp = np.array([_value(v) for *_, v in m.z])
    in_need = m.need + np.array([_value(v) for v in m.cb]) - np.array([_value(v) for v in m.u])
    in_need -= _staffed(m, z_lp) - m.x_matrix @ np.array([_value(v) for *_, v in m.x]) + \
        np.array([_value(v) for v in m.cb])  # outsourced part only
    groups: dict = {}
    for j, (k, p, d, pat, v) in enumerate(m.x):
        groups.setdefault(k, {}).setdefault((p, d), []).append(j)
    for k, by_group in groups.items():
        h = m.headcount[k]
        hv = float(round(_value(h)))
        if isinstance(h, pulp.LpVariable):
            h.varValue = hv
        total = rules.weekly_hours * hv / rules.paid_hours[0]
        if abs(total - round(total)) > 1e-9:
            return False
        keys = list(by_group)
        lp = np.array([sum(_value(m.x[j][4]) for j in by_group[g]) for g in keys])
        day = pd.factorize(np.array([d for _, d in keys], dtype="datetime64[ns]"))[0]
        whole = np.floor(lp + 1e-7)
        rest = int(round(total)) - int(whole.sum())
        used = np.bincount(day, weights=whole, minlength=day.max() + 1 if len(day) else 0)
        for g in np.argsort(-(lp - whole), kind="stable"):
            if rest <= 0:
                break
            if used[day[g]] + 1 <= hv:
                whole[g] += 1
                used[day[g]] += 1
                rest -= 1
        if rest != 0:
            return False
        for g, key in enumerate(keys):
            idx = sorted(by_group[key], key=lambda j: (m.x[j][3].start_min,
                                                         m.x[j][3].break_start_min or 0))
            vals = np.array([_value(m.x[j][4]) for j in idx])
            cum = np.cumsum(vals)
            scale = whole[g] / cum[-1] if cum[-1] > 1e-9 else 0.0
            target = np.round(cum * scale) if scale else np.zeros(len(idx))
            if not scale and whole[g] > 0:  # the LP had none here: start them all together
                target[:] = whole[g]
            target[-1] = whole[g]
            counts = np.diff(np.concatenate([[0.0], np.maximum.accumulate(target)]))
            for j, c in zip(idx, counts):
                m.x[j][4].varValue = float(c)
    _polish_shifts(m, in_need - 1e-6)
    return True


def _polish_shifts(m: _Model, need_in: np.ndarray, max_moves: int = 200) -> None:
    """Move advisers between patterns of the same team, plateau and day while some slot of that
    plateau-day has less in-house coverage than `need_in` (what the LP's outsourced agents
    leave to the in-house teams), taking the move that removes most of the shortfall and
    leaves no other slot short."""
    if not m.x:
        return
    x = np.array([_value(v) for *_, v in m.x])
    a = m.x_matrix.tocsc()
    by_day: dict = {}
    for j, (k, p, d, _, _) in enumerate(m.x):
        by_day.setdefault((p, d), {}).setdefault(k, []).append(j)
    for (p, d), teams in by_day.items():
        rows = np.flatnonzero((m.plateau_of_row == p) & (m.date_of_row == d))
        cols = [j for js in teams.values() for j in js]
        sub = a[:, cols][rows, :].toarray()  # slots x patterns of this plateau-day
        pos = {j: c for c, j in enumerate(cols)}
        target = need_in[rows]
        cur = sub @ x[cols]
        for _ in range(max_moves):
            short = np.maximum(target - cur, 0.0)
            if short.sum() <= 0:
                break
            best, best_gain = None, 1e-9
            for js in teams.values():
                c = np.array([pos[j] for j in js])
                donors = c[x[np.array(js)] >= 1]
                if not len(donors):
                    continue
                # delta[t, to, from]: coverage change of moving one adviser from -> to
                delta = sub[:, c][:, :, None] - sub[:, donors][:, None, :]
                after = cur[:, None, None] + delta
                safe = ((delta >= 0) | (after >= target[:, None, None])).all(axis=0)
                gain = short.sum() - np.maximum(target[:, None, None] - after, 0.0).sum(axis=0)
                gain = np.where(safe, gain, 0.0)
                to, frm = np.unravel_index(int(np.argmax(gain)), gain.shape)
                if gain[to, frm] > best_gain:
                    best, best_gain = (c[to], donors[frm]), gain[to, frm]
            if best is None:
                break
            to, frm = best
            x[cols[to]] += 1
            x[cols[frm]] -= 1
            cur += sub[:, to] - sub[:, frm]
    _polish_across_days(m, a, x, need_in, by_day, max_moves)
    for (*_, v), value in zip(m.x, x):
        v.varValue = float(value)


def _polish_across_days(m: _Model, a, x, need_in, by_day: dict, max_moves: int) -> None:
    """A plateau-day still short takes a shift from another day of the same team, one whose
    slots all keep their in-house need without it, while the team has an adviser free that day."""
    cur = a @ x
    target = need_in
    team = np.array([k for k, *_ in m.x])
    day = np.array([d for _, _, d, _, _ in m.x])
    heads = {k: _value(h) for k, h in m.headcount.items()}
    per_day: dict = {}
    for j in np.flatnonzero(x > 0):
        per_day[(team[j], day[j])] = per_day.get((team[j], day[j]), 0.0) + x[j]
    for (p, d), teams in by_day.items():
        rows = np.flatnonzero((m.plateau_of_row == p) & (m.date_of_row == d))
        for _ in range(max_moves):
            short = np.maximum(target[rows] - cur[rows], 0.0)
            if short.sum() <= 0:
                break
            slack = cur - target
            best, best_gain = None, 1e-9
            for k, js in teams.items():
                if per_day.get((k, d), 0.0) + 1 > heads[k] + 1e-9:
                    continue
                js = np.array(js)
                sub = a[:, js][rows, :].toarray()
                gain = np.minimum(sub, short[:, None]).sum(axis=0)
                recv = js[int(np.argmax(gain))]
                if gain.max() <= best_gain:
                    continue
                for j in np.flatnonzero((team == k) & (day != d) & (x >= 1)):
                    lo, hi = a.indptr[j], a.indptr[j + 1]
                    if (slack[a.indices[lo:hi]] - a.data[lo:hi] >= 0).all():
                        best, best_gain = (recv, j), gain.max()
                        break
            if best is None:
                break
            recv, donor = best
            x[recv] += 1
            x[donor] -= 1
            cur += (a[:, recv] - a[:, donor]).toarray().ravel()
            per_day[(team[recv], d)] = per_day.get((team[recv], d), 0.0) + 1
            per_day[(team[donor], day[donor])] -= 1


def _round_agents(m: _Model, scenario, opts: Options) -> None:
    """Round outsourced agents from the LP: up to the next integer, then back down (smallest
    fractions first) wherever a seat cap, a weekly-hours cap or the offshore cap would break.
    Rounding down alone is always feasible, so the result is too."""
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    if not m.z:
        return
    k_of = np.array([k for k, *_ in m.z])
    rows = np.array([i for _, _, i, _ in m.z])
    lp = np.array([0.0 if v.varValue is None else float(v.varValue) for *_, v in m.z])
    z = np.ceil(lp - 1e-7)
    frac = lp - np.floor(lp + 1e-7)  # how much the LP wanted the unit that rounding added
    up = z > np.floor(lp + 1e-7)

    def cut(mask, excess, worth=None):
        """Take units back, smallest LP fraction first, until `excess` is gone; each unit
        removes worth[j] of it (1 by default)."""
        idx = np.flatnonzero(mask & up)
        for j in idx[np.argsort(frac[idx], kind="stable")]:
            if excess <= 1e-9:
                break
            z[j] -= 1
            up[j] = False
            excess -= 1.0 if worth is None else worth[j]

    slot_of_row = m.slot_of_row
    for k in np.unique(k_of):
        mine = k_of == k
        seats = prov.at[k, "seats"]
        if pd.notna(seats):
            slots = slot_of_row[rows]
            per_slot = np.bincount(slots[mine], weights=z[mine], minlength=slots.max() + 1)
            for sl in np.flatnonzero(per_slot > float(seats) + 1e-9):  # only slots over the cap
                cut(mine & (slots == sl), per_slot[sl] - float(seats))
        cap_h = prov.at[k, "max_weekly_hours"]
        if pd.notna(cap_h):
            over = (z[mine].sum() * slot_h - float(cap_h)) / slot_h
            if over > 1e-9:
                cut(mine, math.ceil(over - 1e-9))
    offshore = np.array([prov.at[k, "kind"] == "offshore" for k in k_of])
    keep = (1 - prov["shrinkage"]).to_dict()
    ans = np.array([keep[k] for k in k_of]) * slot_h  # answering hours per agent-slot
    cap = opts.offshore_cap
    inhouse_h = sum(keep[k] * scenario.shifts.weekly_hours * _value(h)
                    for k, h in m.headcount.items())  # fixed by the contract hours

    def offshore_excess() -> float:
        others = inhouse_h + float((z * ans)[~offshore].sum())
        return float((z * ans)[offshore].sum()) * (1 - cap) - cap * others

    if offshore.any() and cap < 1:
        over_h = offshore_excess()
        if over_h > 1e-9:
            cut(offshore, over_h, ans * (1 - cap))
    _fill_gaps(m, scenario, opts, z, k_of, rows, offshore, ans, offshore_excess)
    for (_, _, _, v), value in zip(m.z, z):
        v.varValue = float(value)


def _staffed(m: _Model, z: np.ndarray) -> np.ndarray:
    """Answering agents per row from the shifts' current values and outsourced agents z."""
    x = np.array([_value(v) for *_, v in m.x])
    rows = np.array([i for _, _, i, _ in m.z], dtype=int)
    e = np.array([m.z_eff[j] for j in range(len(m.z))])
    out = m.x_matrix @ x if len(x) else np.zeros(len(m.need))
    out = out + np.bincount(rows, weights=e * z, minlength=len(m.need))
    return out - np.array([_value(v) for v in m.cb])


def _fill_gaps(m: _Model, scenario, opts, z, k_of, rows, offshore, ans, offshore_excess) -> None:
    """Slots left short after rounding get whole outsourced agents, cheapest per answering
    agent first, where seats, weekly hours and the offshore cap leave room."""
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    eff = ((1 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    deficit = m.need - _staffed(m, z)
    if not (deficit > 1e-6).any():
        return
    price = np.array([prov.at[k, "cost_eur_per_hour"] / eff[k] for k in k_of])
    seats = prov["seats"].to_dict()
    max_h = prov["max_weekly_hours"].to_dict()
    slot_load: dict = {}
    for j, (k, i) in enumerate(zip(k_of, rows)):
        key = (k, m.slot_of_row[i])
        slot_load[key] = slot_load.get(key, 0.0) + z[j]
    hours = {k: float(z[k_of == k].sum()) * slot_h for k in np.unique(k_of)}
    by_row: dict = {}
    for j, i in enumerate(rows):
        by_row.setdefault(i, []).append(j)
    for i in np.flatnonzero(deficit > 1e-6):
        for j in sorted(by_row.get(i, ()), key=lambda j: price[j]):
            k = k_of[j]
            while deficit[i] > 1e-6:
                key = (k, m.slot_of_row[i])
                if pd.notna(seats[k]) and slot_load[key] + 1 > seats[k] + 1e-9:
                    break
                if pd.notna(max_h[k]) and hours[k] + slot_h > max_h[k] + 1e-9:
                    break
                z[j] += 1
                if offshore[j] and opts.offshore_cap < 1 and offshore_excess() > 1e-9:
                    z[j] -= 1
                    break
                slot_load[key] += 1
                hours[k] += slot_h
                deficit[i] -= eff[k]
            if deficit[i] <= 1e-6:
                break


def _value(v) -> float:
    """A variable's value (0 when unset) or a constant as is."""
    if isinstance(v, pulp.LpVariable):
        return 0.0 if v.varValue is None else float(v.varValue)
    return float(v)


def _fixed(variables):
    """Fix variables at their current values; returns what restores their bounds."""
    saved = [(v, v.lowBound, v.upBound) for v in variables]
    for v in variables:
        v.lowBound = v.upBound = v.varValue

    def restore():  # idempotent: always back to the bounds saved here
        for v, lo, hi in saved:
            v.lowBound, v.upBound = lo, hi
    return restore


def _rounded_plan(m: _Model, scenario, opts: Options, week: int) -> float | None:
    """An integer plan from the LP optimum in the variables; its cost, or None if none found.

    Shift counts are rounded and fixed, the LP is solved again for the outsourced agents,
    those are rounded and fixed, and a last LP settles the continuous rest. Where rounding
    left a plateau short that the LP covered, a small MIP re-places the shifts of the teams
    serving it (everything else fixed), stopping within 0.05 agent-slot of its optimum.
    """
    prob = m.prob
    lp_short = _short_by_plateau_day(m)
    ints_x = [v for *_, v in m.x] + [h for h in m.headcount.values()
                                     if isinstance(h, pulp.LpVariable)]
    if not _round_shifts(m, scenario.shifts):
        return None
    restore_x = _fixed(ints_x)
    try:
        if not _resolve_lp(prob, opts, week, ints_x):
            return None
        _round_agents(m, scenario, opts)
        zs = [v for *_, v in m.z]
        restore_z = _fixed(zs)
        ok = _resolve_lp(prob, opts, week, zs)
        restore_z()
        _sync_bounds(prob, zs)
        if not ok:
            return None
        # rounding left plateau-days short that the LP covered: re-place those days' shifts,
        # then, if still short, the whole week's shifts of those plateaux
        for whole_week in (False, True):
            now = _short_by_plateau_day(m)
            worse = {key for key, v in now.items() if v > lp_short.get(key, 0.0) + 1e-6}
            if not worse:
                break
            plats = {p for p, _ in worse}
            free = [v for k, p, d, _, v in m.x
                    if (p in plats if whole_week else (p, d) in worse)]
            if len(free) > REPAIR_MAX_SHIFT_VARS:
                break
            free += [h for k, h in m.headcount.items() if isinstance(h, pulp.LpVariable)
                     and set(scenario.providers.at[k, "plateaux"]) & plats]
            free_z = [v for k, p, i, v in m.z
                      if (p in plats if whole_week else (p, m.date_of_row[i]) in worse)]
            free_u = [v for p, d, v in zip(m.plateau_of_row, m.date_of_row, m.u)
                      if (p in plats if whole_week else (p, d) in worse)]
            if not _repair(m, scenario, opts, week, ints_x, zs, free, free_z, free_u, restore_x):
                return None
        for v in m.u:  # shortfall counts in whole agents (its LP re-solves were fractional)
            v.varValue = float(math.ceil(_value(v) - 1e-6))
        return float(pulp.value(prob.objective))
    finally:
        restore_x()


def _repair(m: _Model, scenario, opts, week, ints_x, zs, free, free_z, free_u, restore_x) -> bool:
    """MIP over the shifts `free` and agents `free_z`, everything else fixed at its value,
    stopping within half an agent-slot of its optimum (or after REPAIR_SECONDS): with shortfall
    in whole agents no better plan then has less of it."""
    free_ids = {id(v) for v in free}
    free_z_ids = {id(v) for v in free_z}
    restore_x()  # free everything, then fix again all but the shifts to re-place
    refix = _fixed([v for v in ints_x if id(v) not in free_ids])
    fixed_z = _fixed([v for v in zs if id(v) not in free_z_ids])
    penalty = scenario.shortfall_penalty_eur_per_agent_hour * scenario.slot_minutes / 60
    repair = dataclasses.replace(opts, time_limit=min(opts.time_limit or REPAIR_SECONDS,
                                                      REPAIR_SECONDS))
    ok = _resolve_mip(m.prob, repair, week, ints_x + zs, free + free_z + free_u,
                      gap_abs=0.5 * penalty)
    refix()
    fixed_z()
    # back to all shifts fixed at their (new) values, as the caller expects
    _fixed(ints_x)
    return ok


def _sync_bounds(prob, variables) -> None:
    """Copy PuLP bounds of some variables into the HiGHS model kept from the last solve."""
    h = getattr(prob, "solverModel", None)
    if h is None or not hasattr(h, "changeColsBounds") or not variables:
        return
    import highspy

    inf = highspy.kHighsInf
    idx = np.array([v.index for v in variables], dtype=np.int32)
    lo = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    hi = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    h.changeColsBounds(len(idx), idx, lo, hi)


def _resolve_lp(prob, opts: Options, week: int, changed) -> bool:
    """Solve the LP again after bound changes on `changed`. With HiGHS the model of the last
    solve is kept and re-solved warm (much faster than PuLP rebuilding it)."""
    h = getattr(prob, "solverModel", None)
    if opts.solver != "highs" or h is None or not hasattr(h, "changeColsBounds"):
        prob.solve(_solver(opts, mip=False))
        return _check_status(prob, opts, week, need_optimal=True, raise_=False)
    import highspy

    _sync_bounds(prob, changed)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    values = h.getSolution().col_value
    cached = getattr(prob, "_staffing_vars", None)
    if cached is None:  # PuLP's variables() walks every constraint: do it once
        cached = prob._staffing_vars = prob.variables()
    for v in cached:
        v.varValue = values[v.index]
    return True


def _resolve_mip(prob, opts: Options, week: int, changed, integer, gap_abs: float) -> bool:
    """Solve with `integer` variables integral, from the current values, after bound changes
    on `changed`; in the kept HiGHS model when there is one, else by PuLP."""
    h = getattr(prob, "solverModel", None)
    if opts.solver != "highs" or h is None or not hasattr(h, "changeColsIntegrality"):
        prob.solve(_solver(opts, mip=True, start=True, gap_abs=gap_abs))
        return _check_status(prob, opts, week, need_optimal=False, raise_=False)
    import highspy

    _sync_bounds(prob, changed)
    idx = np.array([v.index for v in integer], dtype=np.int32)
    kinds = highspy.HighsVarType
    h.changeColsIntegrality(len(idx), idx, np.array([kinds.kInteger] * len(idx)))
    h.setOptionValue("mip_abs_gap", float(gap_abs))
    h.setOptionValue("mip_rel_gap", 0.0)
    if opts.time_limit is not None:
        h.setOptionValue("time_limit", float(opts.time_limit))
    cached = getattr(prob, "_staffing_vars", None) or prob.variables()
    start = highspy.HighsSolution()
    values = [0.0] * h.getNumCol()
    for v in cached:
        values[v.index] = 0.0 if v.varValue is None else float(v.varValue)
    start.col_value = values
    start.value_valid = True
    h.setSolution(start)
    try:
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        ok = info.primal_solution_status == 2 and status in (
            highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit)
        if ok:
            values = h.getSolution().col_value
            for v in cached:
                v.varValue = values[v.index]
        return ok
    finally:  # back to the LP for any later re-solve
        h.changeColsIntegrality(len(idx), idx, np.array([kinds.kContinuous] * len(idx)))
        h.setOptionValue("time_limit", float("inf"))


def _short_by_plateau_day(m: _Model) -> dict:
    out: dict = {}
    for p, d, v in zip(m.plateau_of_row, m.date_of_row, m.u):
        out[(p, d)] = out.get((p, d), 0.0) + _value(v)
    return out


def solve_week(scenario, opts: Options, req: pd.DataFrame, week: int) -> WeekResult:
    """Build and solve one week: the LP relaxation (the bound), then the integer plan.

    The integer plan starts from the LP: shift counts rounded (`_round_shifts`) and fixed, the
    LP solved again for the outsourced agents, those rounded (`_round_agents`) and fixed, and a
    last LP for the continuous rest. When that plan's cost is within the gap tolerance of the
    LP bound it is kept; otherwise the MIP runs, started from it.
    """
    req = req.reset_index(drop=True)
    m = _build(scenario, opts, req, week)
    prob = m.prob
    t1 = time.perf_counter()
    prob.solve(_solver(opts, mip=False))
    _check_status(prob, opts, week, need_optimal=True)
    lp_bound = float(pulp.value(prob.objective))
    prob._staffing_vars = prob.variables()  # PuLP walks every constraint for this: once
    status = "optimal"
    if not opts.relax:
        rounded = _rounded_plan(m, scenario, opts, week)
        if rounded is None or (rounded - lp_bound) > opts.gap * abs(rounded):
            prob.solve(_solver(opts, mip=True, start=rounded is not None))
            _check_status(prob, opts, week, need_optimal=False)
            if prob.sol_status != pulp.LpSolutionOptimal:
                status = "time_limit"
    solve_s = time.perf_counter() - t1
    r = _extract(m, week, status, lp_bound, solve_s, integer=not opts.relax)
    _week_parts(scenario, opts, m, r)
    return r


def _week_parts(scenario, opts: Options, m: _Model, r: WeekResult) -> None:
    """The week's in-house allocation, shifts and tours (built in the week's own process)."""
    eff = ((1.0 - scenario.providers["shrinkage"]) / scenario.providers["aht_factor"]).to_dict()
    x_vals = np.array([float(round(_value(v))) if not opts.relax else _value(v)
                       for *_, v in m.x])
    team = np.array([k for k, *_ in m.x])
    parts = []
    for k in dict.fromkeys(team):
        cols = np.flatnonzero(team == k)
        at_work = (m.x_matrix[:, cols] @ x_vals[cols]) / eff[k]  # the matrix holds eff per head
        at_work = np.round(at_work, 9) if opts.relax else np.round(at_work)
        rows = np.flatnonzero(at_work > 1e-9)
        parts.append(pd.DataFrame({"row": rows, "provider": k, "agents": at_work[rows]}))
    r.inhouse = (pd.concat(parts, ignore_index=True) if parts
                 else pd.DataFrame(columns=["row", "provider", "agents"]))
    x = r.x
    sh = x.copy()
    sh["start"] = sh["start_min"].map(shifts.hhmm)
    sh["end"] = sh["end_min"].map(shifts.hhmm)
    sh["break_start"] = sh["break_start_min"].map(shifts.hhmm)
    r.shifts = sh
    tours = []
    # fractional advisers (--relax) make no roster lines: tours come with integer plans
    for k, grp in (x.groupby("provider") if not opts.relax and len(x) else ()):
        daily = grp.assign(day=((grp["date"] - pd.Timestamp(opts.start)).dt.days % 7))
        daily = daily[["day", "plateau", "shift", "paid_hours", "advisers"]]
        try:
            lines = shifts.build_tours(daily, int(round(r.headcount[k])),
                                       scenario.shifts.days_per_week)
        except ValueError as exc:
            raise SolverError(f"week {r.week + 1}, {k}: {exc}") from None
        lines.insert(0, "provider", k)
        lines.insert(0, "week", r.week + 1)
        tours.append(lines)
    r.tours = pd.concat(tours, ignore_index=True) if tours else pd.DataFrame()


def _check_status(prob, opts, week, need_optimal: bool, raise_: bool = True) -> bool:
    status = pulp.LpStatus[prob.status]
    feasible = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status == "Infeasible":
        if not raise_:
            return False
        raise InfeasiblePlan(f"week {week + 1}: no plan satisfies the hard constraints (in-house "
                             "contract hours, days per week, seat caps, weekly hours); check "
                             "opening hours against shift lengths, headcounts and seat caps")
    if not feasible or (need_optimal and status != "Optimal"):
        if not raise_:
            return False
        raise SolverError(f"week {week + 1}: solver {opts.solver} ended with status {status} "
                          "and no feasible plan (raise --time-limit?)")
    return True


def _extract(m: _Model, week: int, status: str, lp_bound: float, solve_s: float,
             integer: bool) -> WeekResult:
    val = lambda v: 0.0 if v.varValue is None else float(v.varValue)  # noqa: E731
    rnd = (lambda v: float(round(val(v)))) if integer else val
    x_rows = [(k, p, pd.Timestamp(d), pat.id, pat.start_min, pat.end_min, pat.break_start_min,
               pat.paid_hours, rnd(v)) for k, p, d, pat, v in m.x if rnd(v) > 1e-9]
    x = pd.DataFrame(x_rows, columns=["provider", "plateau", "date", "shift", "start_min",
                                      "end_min", "break_start_min", "paid_hours", "advisers"])
    z_rows = [(k, p, i, rnd(v)) for k, p, i, v in m.z if rnd(v) > 1e-9]
    z = pd.DataFrame(z_rows, columns=["provider", "plateau", "row", "agents"])
    hc = {k: (rnd(h) if isinstance(h, pulp.LpVariable) else float(h))
          for k, h in m.headcount.items()}
    return WeekResult(
        week=week, status=status, objective=float(pulp.value(m.prob.objective)),
        lp_bound=lp_bound, solve_s=solve_s, build_s=m.build_s, x=x, z=z, headcount=hc,
        paid_hours={k: val(v) for k, v in m.paid.items()},
        u=np.array([val(v) for v in m.u]), cb=np.array([val(v) for v in m.cb]),
        day_short=float(sum(val(v) for v in m.day_short)))


def _solve_week_job(args):
    return solve_week(*args)


# ----------------------------------------------------------------------------- the plan

@dataclasses.dataclass
class Plan:
    tables: dict
    manifest: dict
    shortfall_share: float
    diagnostics: pd.DataFrame


def optimise(scenario, opts: Options, progress=None) -> Plan:
    """Requirements, one model per week, and the plan's tables."""
    opts = opts.resolved(scenario)
    t0 = time.perf_counter()
    dem = demand_mod.build_demand(scenario, start=opts.start, weeks=opts.weeks, regime=opts.regime)
    if "fold" not in dem.columns:
        dem["fold"] = 0
    live = demand_mod.live_demand(scenario, dem)
    req = requirements(scenario, live, opts.queueing)
    if opts.sl_scope == "day":
        req["floor_agents"] = day_floor(req, scenario.targets, opts.queueing)
    start = pd.Timestamp(opts.start)
    req["week"] = ((req["date"] - start).dt.days // 7).astype(int)
    jobs = [(scenario, opts, req[req["week"] == w], w) for w in range(opts.weeks)]
    results: list[WeekResult] = run_jobs(_solve_week_job, jobs, opts.workers or 2, progress)
    tables, shortfall_share, diag = _tables(scenario, opts, req, results)
    tables["demand"] = demand_mod.forecast_table(scenario, dem)
    objective = sum(r.objective for r in results)
    lp_bound = (sum(r.lp_bound for r in results)
                if all(r.lp_bound is not None for r in results) else None)
    gap = (objective - lp_bound) / abs(objective) if lp_bound is not None and objective else 0.0
    status = "optimal" if all(r.status == "optimal" for r in results) else "time_limit"
    manifest = {
        "command": "optimise",
        "options": {k: (str(v) if isinstance(v, dt.date) else v)
                    for k, v in dataclasses.asdict(opts).items()},
        "solver": opts.solver, "status": status, "objective_eur": objective,
        "lp_bound_eur": lp_bound, "gap": max(gap, 0.0),
        "build_s": sum(r.build_s for r in results), "solve_s": sum(r.solve_s for r in results),
        "wall_time_s": time.perf_counter() - t0, "shortfall_share": shortfall_share,
        "integer": not opts.relax,
    }
    return Plan(tables=tables, manifest=manifest, shortfall_share=shortfall_share, diagnostics=diag)


# Output column names: `logged` agents / hours are at work (before shrinkage), `answering` agents
# are what the queue sees (after shrinkage and the AHT factor).
OUTPUT_NAMES = {"allocation": {"agents": "logged_agents"},
                "coverage": {"staffed_agents": "answering_agents"},
                "diagnostics": {"staffed_agents": "answering_agents"},
                "providers": {"staffed_hours": "logged_hours", "share": "answering_share"}}


def _tables(scenario, opts, req, results):
    """Tidy output tables from the week results."""
    name = scenario.name
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    eff = (1.0 - prov["shrinkage"]) / prov["aht_factor"]
    req = req.reset_index(drop=True)
    week_rows = {w: req.index[req["week"] == w] for w in range(opts.weeks)}
    u = np.zeros(len(req))
    cbv = np.zeros(len(req))
    for r in results:
        idx = week_rows[r.week]
        u[idx] = r.u
        cbv[idx] = r.cb

    # allocation: logged agents per slot, plateau, provider (in-house parts built per week)
    alloc_parts, shifts_parts, tours_parts = [], [], []
    for r in results:
        wk_index = week_rows[r.week]
        for part in (r.z, r.inhouse):
            if len(part):
                rows = wk_index[part["row"].to_numpy()]
                alloc_parts.append(pd.DataFrame({
                    "slot_start": req.loc[rows, "slot_start"].to_numpy(),
                    "fold": req.loc[rows, "fold"].to_numpy(),
                    "plateau": req.loc[rows, "plateau"].to_numpy(),
                    "provider": part["provider"].to_numpy(), "agents": part["agents"].to_numpy()}))
        if len(r.shifts):
            shifts_parts.append(r.shifts)
        if len(r.tours):
            tours_parts.append(r.tours)

    alloc = (pd.concat(alloc_parts, ignore_index=True) if alloc_parts else
             pd.DataFrame(columns=["slot_start", "fold", "plateau", "provider", "agents"]))
    alloc = alloc[alloc["agents"] > 1e-9]
    alloc["kind"] = alloc["provider"].map(prov["kind"])
    alloc["slot_minutes"] = scenario.slot_minutes
    alloc = alloc.sort_values(["slot_start", "fold", "plateau", "provider"]).reset_index(drop=True)

    # coverage at the staffed level
    eff_agents = alloc["agents"] * alloc["provider"].map(eff)
    staffed = (alloc.assign(e=eff_agents).groupby(["slot_start", "fold", "plateau"])["e"].sum())
    key = pd.MultiIndex.from_frame(req[["slot_start", "fold", "plateau"]])
    staffed = staffed.reindex(key, fill_value=0.0).to_numpy() - cbv
    staffed = np.maximum(staffed, 0.0)
    cov = req[["slot_start", "fold", "slot_minutes", "plateau", "calls", "aht_s",
               "live_aht_s"]].copy()
    cut = req["callback_cut_s"].to_numpy()
    cov["callback_calls"] = np.divide(np.maximum(cbv, 0.0) * req["slot_minutes"].to_numpy() * 60.0,
                                      cut, out=np.zeros(len(req)), where=cut > 0)
    cov["required_agents"] = req["agents"].to_numpy(float)
    # the hard per-slot level: the requirement, or in day scope the floor under the daily SL
    day_scope = opts.sl_scope == "day"
    hard = req["floor_agents"].to_numpy(float) if day_scope else cov["required_agents"].to_numpy()
    if day_scope:
        cov["floor_agents"] = hard
    cov["staffed_agents"] = staffed
    cov["shortfall_agents"] = np.maximum(hard - staffed, 0.0)
    cov.loc[cov["shortfall_agents"] < SHORTFALL_TOL, "shortfall_agents"] = 0.0
    tg = scenario.targets
    cov["sl_target"] = cov["plateau"].map(tg["sl_target"]).astype(float)
    answer = cov["plateau"].map(tg["answer_s"]).astype(float).to_numpy()
    patience = (cov["plateau"].map(tg["patience_s"]).astype(float).to_numpy()
                if opts.queueing == "erlang_a" else None)
    m = queueing.evaluate(cov["calls"].to_numpy(float), cov["live_aht_s"].to_numpy(float),
                          cov["slot_minutes"].to_numpy(float), staffed, answer, patience_s=patience)
    cov["service_level"] = m["service_level"]
    cov["asa_s"] = m["asa_s"]
    cov["occupancy"] = m["occupancy"]
    cov["p_abandon"] = m["p_abandon"]

    req_hours = float((hard * slot_h).sum())
    short_hours = float((cov["shortfall_agents"] * slot_h).sum())
    shortfall_share = short_hours / req_hours if req_hours > 0 else 0.0
    diag = cov[cov["shortfall_agents"] > 0].sort_values("shortfall_agents", ascending=False).head(50)
    diag = diag[["slot_start", "plateau", "required_agents", "staffed_agents", "shortfall_agents"]]
    diag = diag.rename(columns={"shortfall_agents": "missing_agents"}).reset_index(drop=True)
    diag["problem"] = "answering agents below " + ("the day-scope floor" if day_scope else "the requirement")
    if day_scope:  # the daily call-weighted SL per plateau is the target there
        w = cov.assign(date=req["date"].to_numpy(), late=cov["calls"] * cov["service_level"])
        day = w.groupby(["plateau", "date"]).agg(calls=("calls", "sum"), ok=("late", "sum"),
                                                 first=("slot_start", "min"))
        day["sl"] = day["ok"] / day["calls"].where(day["calls"] > 0)
        day["target"] = day.index.get_level_values("plateau").map(tg["sl_target"]).to_numpy(float)
        miss = day[day["sl"] < day["target"] - 1e-6]
        if len(miss):
            shortfall_share += float(((miss["target"] - miss["sl"]) * miss["calls"]).sum()
                                     / max(float(cov["calls"].sum()), 1e-9))
            extra = pd.DataFrame({
                "slot_start": miss["first"].to_numpy(), "plateau":
                miss.index.get_level_values("plateau"), "required_agents": np.nan,
                "staffed_agents": np.nan, "missing_agents": np.nan,
                "problem": [f"daily SL {a:.3f} below target {b:.3f}"
                            for a, b in zip(miss["sl"], miss["target"])]})
            diag = pd.concat([extra, diag], ignore_index=True)

    # providers
    rows = []
    answer_total = 0.0
    for k, pv in prov.iterrows():
        staffed_h = float(alloc.loc[alloc["provider"] == k, "agents"].sum() * slot_h)
        if pv["kind"] == "inhouse":
            paid_h = sum(r.headcount.get(k, 0.0) for r in results) * scenario.shifts.weekly_hours
        else:
            paid_h = sum(r.paid_hours.get(k, 0.0) for r in results)
        rows.append({"provider": k, "kind": pv["kind"], "site": pv["site"],
                     "staffed_hours": staffed_h, "paid_hours": paid_h,
                     "cost_eur": paid_h * float(pv["cost_eur_per_hour"]),
                     "answer_hours": staffed_h * (1 - float(pv["shrinkage"]))})
        answer_total += rows[-1]["answer_hours"]
    providers = pd.DataFrame(rows)
    providers["share"] = providers["answer_hours"] / answer_total if answer_total > 0 else 0.0
    providers = providers.drop(columns="answer_hours")

    shifts_t = (pd.concat(shifts_parts, ignore_index=True) if shifts_parts else
                pd.DataFrame(columns=["date", "provider", "plateau", "shift", "start", "end",
                                      "break_start", "paid_hours", "advisers"]))
    shifts_t = shifts_t[["date", "provider", "plateau", "shift", "start", "end", "break_start",
                         "paid_hours", "advisers"]].sort_values(["date", "provider", "plateau",
                                                                 "start"]).reset_index(drop=True)
    tours_t = (pd.concat(tours_parts, ignore_index=True) if tours_parts else pd.DataFrame(
        columns=["week", "provider", "tour", "advisers"] + list(shifts.WEEKDAYS)
        + ["plateau", "paid_hours"]))
    tours_t = tours_t[["week", "provider", "plateau", "tour", "advisers"] + list(shifts.WEEKDAYS)
                      + ["paid_hours"]]

    requirements_t = req[["slot_start", "fold", "slot_minutes", "plateau", "calls", "aht_s",
                          "live_aht_s", "load_erlangs", "agents", "scheduled", "service_level", "asa_s",
                          "occupancy", "p_wait", "p_abandon"]].copy()
    staffing_cost = float(providers["cost_eur"].sum())
    calls_total = float(req["calls"].sum())
    w = cov["calls"].to_numpy(float)
    sl_all = float((cov["service_level"] * w).sum() / w.sum()) if w.sum() > 0 else 1.0
    summary_rows = [
        ("staffing_cost", staffing_cost, "eur"),
        ("objective", sum(r.objective for r in results), "eur"),
        ("calls", calls_total, "calls"),
        ("cost_per_call", staffing_cost / calls_total if calls_total else float("nan"), "eur"),
        ("service_level", sl_all, "share"),
        ("required_agent_hours", req_hours, "hours"),
        ("shortfall_agent_hours", short_hours, "hours"),
        ("shortfall_share", shortfall_share, "share"),
        ("offshore_share", float(providers.loc[providers["kind"] == "offshore", "share"].sum()),
         "share"),
        ("inhouse_headcount", float(sum(sum(r.headcount.values()) for r in results) / len(results)),
         "advisers"),
    ]
    for p in scenario.plateaux.index:
        sel = cov["plateau"] == p
        cw = cov.loc[sel, "calls"].to_numpy(float)
        if cw.sum() > 0:
            summary_rows.append((f"service_level[{p}]",
                                 float((cov.loc[sel, "service_level"] * cw).sum() / cw.sum()), "share"))
            asa = cov.loc[sel, "asa_s"].to_numpy(float)
            fin = np.isfinite(asa)  # slots staffed at or below the load have no finite ASA
            summary_rows.append((f"asa_s[{p}]", float((asa[fin] * cw[fin]).sum() / cw[fin].sum())
                                 if cw[fin].sum() > 0 else float("nan"), "s"))
    summary = pd.DataFrame(summary_rows, columns=["metric", "value", "unit"])

    tables = {"requirements": requirements_t, "allocation": alloc[
        ["slot_start", "fold", "slot_minutes", "plateau", "provider", "kind", "agents"]],
        "coverage": cov, "shifts": shifts_t, "tours": tours_t, "providers": providers,
        "summary": summary, "diagnostics": diag}
    for key, t in tables.items():
        t = t.rename(columns=OUTPUT_NAMES.get(key, {}))
        if "fold" in t.columns and not (t["fold"] == 1).any():
            t = t.drop(columns="fold")  # only a clock-change day needs it
        tables[key] = t.reset_index(drop=True)
        tables[key].insert(0, "scenario", name)
    return tables, shortfall_share, tables["diagnostics"]
