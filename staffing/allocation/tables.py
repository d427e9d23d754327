"""Extraction: a solved week's values, then the plan's tidy tables (docs/outputs.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pulp

from .. import queueing, shifts
from ..calendar import week_contract
from ..errors import SolverError
from .highs import value
from .rounding import u_values

SHORTFALL_TOL = 1e-4  # agents: below this a slot counts as covered (solver tolerances)


@dataclasses.dataclass
class WeekResult:
    week: int
    status: str
    objective: float
    lp_bound: float | None
    solve_s: float
    build_s: float
    x: pd.DataFrame  # in-house shifts: date, provider, plateau, shift, ..., advisers
    z: pd.DataFrame  # outsourced agents: provider, plateau, row, agents
    headcount: dict  # in-house provider -> advisers employed this week
    paid_hours: dict  # outsourced provider -> paid hours this week (take-or-pay included)
    u: np.ndarray  # deficit per requirement row (agents)
    cb: np.ndarray  # callback agents served per requirement row
    day_short: float  # day scope: SL-calls below target, summed
    inhouse: pd.DataFrame = None  # in-house advisers at work: row, provider, agents
    shifts: pd.DataFrame = None  # the shifts table's rows of this week
    tours: pd.DataFrame = None  # the tours table's rows of this week
    cpu_s: dict = dataclasses.field(default_factory=dict)  # phase -> CPU s in the week's process
    groups: dict = None  # group key -> (team, contract id, advisers, (hours, days) this week)
    searched: bool | None = None  # its plan's full MIP ran (solve.Solved; None: a re-solve)


def extract(m, week: int, solved, integer: bool) -> WeekResult:
    """The week's values as frames (integer plans rounded to whole advisers and agents)."""
    rnd = (lambda v: float(round(value(v)))) if integer else value
    grp = getattr(m, "groups", None) or {}
    xg = getattr(m, "x_group", None) or [k for k, *_ in m.x]
    cid = {key: v[0].contract.id for key, v in grp.items()}
    x_rows = [(k, p, pd.Timestamp(d), pat.id, pat.start_min, pat.end_min, pat.break_start_min,
               pat.paid_hours, rnd(v), g, cid.get(g, "full-time"))
              for (k, p, d, pat, v), g in zip(m.x, xg) if rnd(v) > 1e-9]
    x = pd.DataFrame(x_rows, columns=["provider", "plateau", "date", "shift", "start_min",
                                      "end_min", "break_start_min", "paid_hours", "advisers",
                                      "group", "contract"])
    z_rows = [(k, p, i, rnd(v)) for k, p, i, v in m.z if rnd(v) > 1e-9]
    z = pd.DataFrame(z_rows, columns=["provider", "plateau", "row", "agents"])
    hc = {k: (rnd(h) if isinstance(h, pulp.LpVariable) else float(h))
          for k, h in m.headcount.items()}
    return WeekResult(
        week=week, status=solved.status, searched=solved.searched,
        objective=solved.objective, lp_bound=solved.bound,
        solve_s=solved.solve_s, build_s=m.build_s, x=x, z=z, headcount=hc,
        paid_hours={k: value(v) for k, v in m.paid.items()}, u=u_values(m),
        cb=np.array([value(v) for v in m.cb]),
        day_short=float(sum(value(v) for v in m.day_short)),
        groups={key: (g.team, g.contract.id, rnd(h) if isinstance(h, pulp.LpVariable)
                      else float(h), tuple(terms)) for key, (g, h, terms, _) in grp.items()})


def week_parts(scenario, opts, m, r: WeekResult) -> None:
    """The week's in-house advisers at work per row, shifts and tours (built in the week's
    own process)."""
    eff = ((1.0 - scenario.providers["shrinkage"]) / scenario.providers["aht_factor"]).to_dict()
    x_vals = np.array([float(round(value(v))) if not opts.relax else value(v) for *_, v in m.x])
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
    sh = r.x.copy()
    for col in ("start", "end", "break_start"):
        sh[col] = sh[f"{col}_min"].map(shifts.hhmm)
    r.shifts = sh
    r.tours = _tours(scenario, opts, r)


def _tours(scenario, opts, r: WeekResult) -> pd.DataFrame:
    """Roster lines per team (integer plans only: fractional advisers make no lines)."""
    tours = []
    # with rosters, tours summarise them instead (staffing.rosters.plan.tours_from_rosters)
    for g, grp in (r.x.groupby("group") if not opts.relax and not opts.rosters
                   and len(r.x) else ()):
        k = grp["provider"].iloc[0]
        daily = grp.assign(day=grp["date"].dt.day_of_week)  # columns are real weekdays
        daily = daily[["day", "plateau", "shift", "paid_hours", "advisers"]]
        heads, days = ((r.groups[g][2], r.groups[g][3][1]) if r.groups and g in r.groups else
                       (r.headcount[k], week_contract(scenario, opts.start or scenario.start,
                                                      r.week)[1]))
        try:
            lines = shifts.build_tours(daily, int(round(heads)), days)
        except ValueError as exc:
            raise SolverError(f"week {r.week + 1}, {k}: {exc}") from None
        lines.insert(0, "provider", k)
        lines.insert(0, "week", r.week + 1)
        tours.append(lines)
    return pd.concat(tours, ignore_index=True) if tours else pd.DataFrame()


def allocation_table(scenario, req: pd.DataFrame, results, week_rows: dict) -> pd.DataFrame:
    """Logged agents per slot, plateau and provider (in-house: advisers at work)."""
    parts = []
    for r in results:
        wk_index = week_rows[r.week]
        for part in (r.z, r.inhouse):
            if len(part):
                rows = wk_index[part["row"].to_numpy()]
                parts.append(pd.DataFrame({
                    "slot_start": req.loc[rows, "slot_start"].to_numpy(),
                    "fold": req.loc[rows, "fold"].to_numpy(),
                    "plateau": req.loc[rows, "plateau"].to_numpy(),
                    "provider": part["provider"].to_numpy(), "agents": part["agents"].to_numpy()}))
    alloc = (pd.concat(parts, ignore_index=True) if parts else
             pd.DataFrame(columns=["slot_start", "fold", "plateau", "provider", "agents"]))
    alloc = alloc[alloc["agents"] > 1e-9]
    alloc["kind"] = alloc["provider"].map(scenario.providers["kind"])
    alloc["slot_minutes"] = scenario.slot_minutes
    return alloc.sort_values(["slot_start", "fold", "plateau", "provider"]).reset_index(drop=True)


def coverage_table(scenario, opts, req: pd.DataFrame, alloc: pd.DataFrame,
                   cbv: np.ndarray) -> pd.DataFrame:
    """Required, staffed and short agents per plateau-slot, and the queueing engine's service
    at the staffed level."""
    prov = scenario.providers
    eff = (1.0 - prov["shrinkage"]) / prov["aht_factor"]
    staffed = (alloc.assign(e=alloc["agents"] * alloc["provider"].map(eff))
               .groupby(["slot_start", "fold", "plateau"])["e"].sum())
    key = pd.MultiIndex.from_frame(req[["slot_start", "fold", "plateau"]])
    staffed = np.maximum(staffed.reindex(key, fill_value=0.0).to_numpy() - cbv, 0.0)
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
    for col in ("service_level", "asa_s", "occupancy", "p_abandon"):
        cov[col] = m[col]
    cov["late_calls"] = cov["calls"] * (1.0 - cov["service_level"])
    return cov


def providers_table(scenario, alloc: pd.DataFrame, results) -> pd.DataFrame:
    """Staffed and paid hours, cost and share of answering hours per provider."""
    slot_h = scenario.slot_minutes / 60.0
    rows = []
    for k, pv in scenario.providers.iterrows():
        staffed_h = float(alloc.loc[alloc["provider"] == k, "agents"].sum() * slot_h)
        if pv["kind"] == "inhouse":
            paid_h = sum(_paid_inhouse(scenario, r, k) for r in results)
        else:
            paid_h = sum(r.paid_hours.get(k, 0.0) for r in results)
        rows.append({"provider": k, "kind": pv["kind"], "site": pv["site"],
                     "staffed_hours": staffed_h, "paid_hours": paid_h,
                     "cost_eur": paid_h * float(pv["cost_eur_per_hour"]),
                     "answer_hours": staffed_h * (1 - float(pv["shrinkage"]))})
    providers = pd.DataFrame(rows)
    total = providers["answer_hours"].sum()
    providers["share"] = providers["answer_hours"] / total if total > 0 else 0.0
    return providers.drop(columns="answer_hours")


def _paid_inhouse(scenario, r: WeekResult, team: str) -> float:
    """A team's paid hours in a week: each group's advisers x its contract's weekly hours
    (the cycle's average; days the calendar closes are paid)."""
    from ..rosters.contracts import fixed_pay_hours

    pay = fixed_pay_hours(scenario, team) if r.groups else None
    if pay is None:
        return r.headcount.get(team, 0.0) * scenario.shifts.weekly_hours
    return pay


def shifts_and_tours(results) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = ["date", "provider", "plateau", "shift", "start", "end", "break_start", "paid_hours",
            "advisers"]
    parts = [r.shifts for r in results if len(r.shifts)]
    sh = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    sh = sh[cols].sort_values(["date", "provider", "plateau", "start"]).reset_index(drop=True)
    tcols = ["week", "provider", "plateau", "tour", "advisers"] + list(shifts.WEEKDAYS)
    parts = [r.tours for r in results if len(r.tours)]
    tours = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=tcols + ["paid_hours"])
    return sh, tours[tcols + ["paid_hours"]]


def summary_table(scenario, req, cov, providers, results, shortfall: tuple,
                  headcount: dict) -> pd.DataFrame:
    """Plan-level figures (metric, value, unit); headcount[team] per in-house team."""
    req_hours, short_hours, share = shortfall
    cost = float(providers["cost_eur"].sum())
    calls = float(req["calls"].sum())
    w = cov["calls"].to_numpy(float)
    sl_all = float((cov["service_level"] * w).sum() / w.sum()) if w.sum() > 0 else 1.0
    rows = [
        ("staffing_cost", cost, "eur"),
        ("objective", sum(r.objective for r in results), "eur"),
        ("calls", calls, "calls"),
        ("cost_per_call", cost / calls if calls else float("nan"), "eur"),
        ("service_level", sl_all, "share"),
        ("late_calls", float(cov["late_calls"].sum()), "calls"),
        ("required_agent_hours", req_hours, "hours"),
        ("shortfall_agent_hours", short_hours, "hours"),
        ("shortfall_share", share, "share"),
        ("offshore_share", float(providers.loc[providers["kind"] == "offshore", "share"].sum()),
         "share"),
        ("inhouse_headcount", float(sum(sum(r.headcount.values()) for r in results) / len(results)),
         "advisers"),
    ]
    rows += [(f"headcount[{k}]", float(v), "advisers") for k, v in headcount.items()]
    for p in scenario.plateaux.index:
        sel = cov["plateau"] == p
        cw = cov.loc[sel, "calls"].to_numpy(float)
        if cw.sum() > 0:
            rows.append((f"service_level[{p}]",
                         float((cov.loc[sel, "service_level"] * cw).sum() / cw.sum()), "share"))
            asa = cov.loc[sel, "asa_s"].to_numpy(float)
            fin = np.isfinite(asa)  # slots staffed at or below the load have no finite ASA
            rows.append((f"asa_s[{p}]", float((asa[fin] * cw[fin]).sum() / cw[fin].sum())
                         if cw[fin].sum() > 0 else float("nan"), "s"))
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])
