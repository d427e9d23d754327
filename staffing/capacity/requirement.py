"""Weekly requirement of the capacity plan and the scheduling efficiency that turns it into hours.

Per plateau p and week w (docs/capacity.md, "Weekly requirement"):

    R[p,w] = sum over the week's open slots t of (n[p,t] + b[p,t]) x slot_minutes / 60

n = the Erlang agents the slot needs at its live handle time (staffing.demand.requirements: SL,
ASA and occupancy targets), b = the callback work its long calls generate
(staffing.demand.live_demand). Demand is built day by day under the pricing regime in force
that day (`[[pricing.timeline]]`, else `pricing.active`): its call uplift scales the volume, an
imported forecast replaces the rows it covers. The hotline revenue of each week is the
operator's share of the callers' charges (staffing.economics.slot_revenue) under that day's
regime, at the service the requirement gives.

The scheduling efficiency eta[p] = (R[p] - shortfall[p]) / (in-house answering hours staffed
on p) is measured by running the weekly optimiser (staffing.allocation) on a representative
week with the in-house teams alone: shift patterns (whole shifts of fixed length, whole
advisers, days per week) make the hours staffed exceed the requirement they cover; eta is the
ratio the optimiser achieves, not a guess. Outsourced agents are placed slot by slot by the
optimiser and count at face value. The week is planned twice: the LP relaxation with each
team's headcount free chooses its size, and the integer plan at those sizes (rounded up) is
the one measured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from .. import demand as demand_mod
from .. import economics
from ..errors import collected_warnings
from ..scenario import regime_on

KEY = ["slot_start", "fold", "plateau"]
MEASURE_GAP = 0.02  # the representative week's integer plan: its rounding heuristic, rarely a MIP


def _segments(scenario, first: dt.date, days: int) -> list[tuple[dt.date, dt.date, str]]:
    """Runs of consecutive days under one regime: (first, last, regime)."""
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    regimes = regime_on(scenario, dates)
    out = []
    for d, r in zip(dates, regimes):
        if out and out[-1][2] == r:
            out[-1] = (out[-1][0], d, r)
        else:
            out.append((d, d, r))
    return out


def slot_requirement(scenario, first: dt.date, weeks: int) -> pd.DataFrame:
    """Per open slot x plateau from `first` over `weeks` weeks: the demand under the regime in
    force that day, the Erlang agents, the callback agents and the revenue at that service.

    Columns: slot_start, fold, slot_minutes, date, plateau, regime, calls, aht_s (full handle
    time), live_aht_s (after the callback cut; the queue and the talk minutes use it), agents,
    callback_agents, asa_s, revenue_eur.
    """
    parts = []
    for lo, hi, regime in _segments(scenario, first, 7 * weeks):
        dem = demand_mod.demand_between(scenario, lo, hi, regime)
        if not len(dem):
            continue
        live = demand_mod.live_demand(scenario, dem)
        req = demand_mod.requirements(scenario, live)
        if "fold" not in req.columns:
            req["fold"] = 0
        if "live_aht_s" not in live.columns:
            live["live_aht_s"] = live["aht_s"]
        part = live[KEY + ["slot_minutes", "date", "calls", "aht_s", "live_aht_s",
                           "callback_agents"]].merge(
            req[KEY + ["agents", "asa_s", "service_level"]], on=KEY, how="left", validate="one_to_one")
        cov = part.assign(staffed_agents=part["agents"].astype(float))
        part["revenue_eur"] = economics.slot_revenue(scenario, cov, regime)["revenue_eur"].to_numpy()
        part["regime"] = regime
        parts.append(part)
    cols = ["slot_start", "fold", "slot_minutes", "date", "plateau", "regime", "calls", "aht_s",
            "live_aht_s", "agents", "callback_agents", "asa_s", "revenue_eur"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def weekly_requirement(scenario, first: dt.date, weeks: int) -> pd.DataFrame:
    """Per week and plateau: week (0, 1, ...), week_start, plateau, regime (in force on the
    week's Monday), calls, required_agent_hours (R above), revenue_eur."""
    slots = slot_requirement(scenario, first, weeks)
    slots["week"] = ((slots["date"] - pd.Timestamp(first)).dt.days // 7).astype(int)
    hours = slots["slot_minutes"].to_numpy(float) / 60.0
    slots["required_agent_hours"] = (slots["agents"].to_numpy(float)
                                     + slots["callback_agents"].to_numpy(float)) * hours
    out = slots.groupby(["week", "plateau"], sort=True).agg(
        calls=("calls", "sum"), required_agent_hours=("required_agent_hours", "sum"),
        revenue_eur=("revenue_eur", "sum")).reset_index()
    grid = pd.MultiIndex.from_product([range(weeks), list(scenario.plateaux.index)],
                                      names=["week", "plateau"])
    out = out.set_index(["week", "plateau"]).reindex(grid, fill_value=0.0).reset_index()
    starts = [first + dt.timedelta(weeks=w) for w in range(weeks)]
    out["week_start"] = pd.to_datetime([starts[w] for w in out["week"]])
    out["regime"] = regime_on(scenario, out["week_start"])
    return out[["week", "week_start", "plateau", "regime", "calls", "required_agent_hours",
                "revenue_eur"]]


@dataclasses.dataclass
class Efficiency:
    """Measured scheduling efficiency: eta per plateau, and how it was measured."""

    eta: pd.Series  # plateau -> required / staffed answering hours, in (0, 1]
    week_start: dt.date
    regime: str
    required_hours: pd.Series
    staffed_hours: pd.Series
    status: str
    gap: float
    wall_s: float
    warnings: tuple = ()  # the measurement's, each once: the week without forecast rows,
    # its reading of the week's demand, its plans' (allocation.Plan.warnings)

    def manifest(self) -> dict:
        return {"week_start": str(self.week_start), "regime": self.regime, "status": self.status,
                "gap": self.gap, "wall_time_s": self.wall_s, "warnings": list(self.warnings),
                "eta": {p: float(v) for p, v in self.eta.items()},
                "required_agent_hours": {p: float(v) for p, v in self.required_hours.items()},
                "staffed_answering_hours": {p: float(v) for p, v in self.staffed_hours.items()}}


def _measurement_scenario(scenario, settings):
    """The scenario as the weekly optimiser sees it for the measurement: the in-house teams
    alone (outsourced agents are placed slot by slot and need no efficiency), their headcount
    free up to three times today's."""
    prov = scenario.providers[scenario.providers["kind"] == "inhouse"].copy()
    for t in settings.teams:
        prov.at[t.id, "headcount_min"] = 0.0
        prov.at[t.id, "headcount_max"] = float(t.headcount_max if t.headcount_max is not None
                                               else max(3 * t.headcount, 10))
    return scenario.replace(providers=prov)


def measure_efficiency(scenario, settings) -> Efficiency:
    """Run `staffing optimise` (headcount chosen) on the representative week; eta per plateau."""
    import time

    from .. import allocation

    t0 = time.perf_counter()
    week = settings.representative_week
    regime = str(regime_on(scenario, [week])[0])
    sc = _measurement_scenario(scenario, settings)
    opts = allocation.Options(regime=regime, start=week, weeks=1, headcount="optimise",
                              offshore_cap=settings.offshore_cap, workers=1, time_limit=60.0,
                              relax=True)
    notes = []
    if not _forecast_covers(sc, week):  # (the generated demand, as the plan has that week)
        sc = sc.replace(forecast=None)
        notes.append("the forecast has no rows in this week: measured on the generated demand, "
                     "which the plan uses for it")
    # the headcount the LP relaxation chooses, rounded up, then the integer plan at that headcount
    with collected_warnings() as said:  # (its reading of the week's demand: named by the caller)
        lp_plan = allocation.optimise(sc, opts)
        lp = lp_plan.tables["providers"].set_index("provider")
        prov = sc.providers.copy()
        for t in settings.teams:
            heads = math.ceil(float(lp.at[t.id, "paid_hours"]) / settings.weekly_hours - 1e-6)
            prov.loc[t.id, ["headcount", "headcount_min", "headcount_max"]] = float(heads)
        sc = sc.replace(providers=prov)
        plan = allocation.optimise(sc, dataclasses.replace(opts, headcount="fixed", relax=False,
                                                           gap=MEASURE_GAP))
    alloc = plan.tables["allocation"]
    per_hour = {t.id: t.answer_per_hour for t in settings.teams}
    slot_h = alloc["slot_minutes"].to_numpy(float) / 60.0
    answering = alloc["logged_agents"].to_numpy(float) * alloc["provider"].map(per_hour).to_numpy(float) * slot_h
    staffed = pd.Series(answering, index=alloc["plateau"].to_numpy()).groupby(level=0).sum()
    req = weekly_requirement(scenario, week, 1).set_index("plateau")["required_agent_hours"]
    staffed = staffed.reindex(req.index, fill_value=0.0)
    cov = plan.tables["coverage"]
    short = (cov["shortfall_agents"] * cov["slot_minutes"] / 60.0).groupby(cov["plateau"]).sum()
    covered = req - short.reindex(req.index, fill_value=0.0)
    eta = (covered / staffed.where(staffed > 0)).fillna(1.0).clip(upper=1.0)
    # its plan's gap warning speaks of optimise's options: said here in the measurement's terms
    said_plan = [w for w in lp_plan.warnings + plan.warnings if allocation.GAP_WARNING not in w]
    gap = float(plan.manifest["gap"])
    if plan.manifest["status"] != "optimal" and gap > MEASURE_GAP:
        notes.append(f"its integer plan ends {gap:.1%} from its bound, above the "
                     f"{MEASURE_GAP:.0%} it asks: the efficiency may be understated, and the "
                     "plan then hires for more hours than needed")
    return Efficiency(eta=eta, week_start=week, regime=regime, required_hours=req,
                      staffed_hours=staffed, status=plan.manifest["status"],
                      gap=gap, wall_s=time.perf_counter() - t0,
                      warnings=tuple(dict.fromkeys(notes + said + said_plan)))


def _forecast_covers(scenario, monday: dt.date) -> bool:
    """Whether the scenario has no forecast, or one with rows in the week of `monday`."""
    return (scenario.forecast is None or not len(scenario.forecast)
            or demand_mod.forecast_rows_in(scenario, monday, monday + dt.timedelta(days=6)) > 0)
