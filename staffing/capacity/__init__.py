"""Long-range capacity plan: hiring classes, training, attrition, subcontractor contracts and
offshore hours, week by week over up to three years, at least cost with the requirement met.

`plan(scenario, start=None, weeks=None, offshore_cap=None) -> CapacityPlan` composes the stages:
settings (`[capacity]` of the model file), the weekly requirement under the pricing timeline
and the measured scheduling efficiency (requirement.py), the integer program (model.py) and the
tables (tables.py). docs/capacity.md writes the model as math.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pandas as pd

from .. import demand
from ..errors import collected_warnings
from . import model, requirement, settings, tables


@dataclasses.dataclass
class CapacityPlan:
    tables: dict  # capacity, capacity_requirement, capacity_summary
    manifest: dict
    settings: settings.Settings
    efficiency: requirement.Efficiency
    shortfall_share: float
    warnings: tuple = ()  # the plan's own (reading the demand), collected where it ran


def plan(scenario, start=None, weeks=None, offshore_cap=None, efficiency=None) -> CapacityPlan:
    """Solve the capacity plan; `efficiency` (a requirement.Efficiency) skips its measurement.
    Its StaffingWarnings are collected in .warnings (and the measurement's in
    .efficiency.warnings), not shown: on a Dask worker they would be lost."""
    with collected_warnings() as said:
        out = _plan(scenario, start, weeks, offshore_cap, efficiency)
    return dataclasses.replace(out, warnings=tuple(dict.fromkeys(said)))


def _plan(scenario, start, weeks, offshore_cap, efficiency) -> CapacityPlan:
    t0, c0 = time.perf_counter(), time.process_time()
    st = settings.read(scenario, start, weeks, offshore_cap)
    last = st.start + dt.timedelta(weeks=st.weeks) - dt.timedelta(days=1)
    demand.check_forecast_horizon(scenario, st.start, last)  # as optimise: none inside is an error
    weekly = requirement.weekly_requirement(scenario, st.start, st.weeks)
    eff = efficiency or requirement.measure_efficiency(scenario, st)
    need = weekly.pivot(index="plateau", columns="week", values="required_agent_hours")
    m = model.build(st, need, eff.eta, st.weeks)
    solved = model.solve(m, st.gap, st.time_limit_s)
    cap = tables.capacity_table(scenario, st, m, st.weeks)
    req = tables.requirement_table(scenario, weekly, eff.eta, m, st)
    summary = tables.summary_table(scenario, cap, req)
    needed = float(req["required_agent_hours"].sum())
    short = float(req["shortfall_hours"].sum())
    share = short / needed if needed > 0 else 0.0
    manifest = {
        "command": "capacity",
        "options": {"start": str(st.start), "weeks": st.weeks, "offshore_cap": st.offshore_cap,
                    "gap": st.gap, "time_limit_s": st.time_limit_s},
        "solver": "highs", **solved, "shortfall_share": share,
        "efficiency": eff.manifest(), "integer": True,
        "wall_time_s": time.perf_counter() - t0, "cpu_time_s": time.process_time() - c0,
    }
    return CapacityPlan(tables={"capacity": cap, "capacity_requirement": req,
                                "capacity_summary": summary},
                        manifest=manifest, settings=st, efficiency=eff, shortfall_share=share)


def _plan_task(args) -> CapacityPlan:
    scenario, kwargs = args
    return plan(scenario, **kwargs)


def plan_job(scenario, **kwargs) -> CapacityPlan:
    """`plan` as one job of staffing.parallel: in this process, or on the Dask cluster set by
    `--scheduler` (the loaded scenario is shipped; the plan comes back to be written here)."""
    from ..parallel import run_jobs

    return run_jobs(_plan_task, [(scenario, kwargs)], 1)[0]


def year_figures(p: CapacityPlan) -> pd.DataFrame:
    """The summary's yearly rows, indexed by year."""
    s = p.tables["capacity_summary"]
    s = s[s["period"] == "year"]
    return s.set_index(s["period_start"].dt.year)


def week_scenario(scenario, cp: CapacityPlan, week_start):
    """The scenario as the plan leaves it for one week, for `staffing optimise` on that week:
    each team's headcount = its productive FTE rounded to whole advisers, each subcontractor's
    take-or-pay minimum and maximum = its contracted hours, each offshore site's maximum = the
    hours bought. Returns (scenario, regime in force on the week's Monday)."""
    from ..scenario import regime_on

    cap = cp.tables["capacity"]
    week = cap[cap["week_start"] == pd.Timestamp(week_start)].set_index("provider")
    if not len(week):
        raise ValueError(f"no week starting {week_start} in the plan")
    prov = scenario.providers.copy()
    for k, row in week.iterrows():
        if row["kind"] == "inhouse":
            heads = float(int(row["productive_fte"] + 0.5))
            prov.loc[k, ["headcount", "headcount_min", "headcount_max"]] = heads
        elif row["kind"] == "subcontractor":
            prov.loc[k, ["min_weekly_hours", "max_weekly_hours"]] = float(row["contracted_hours"])
        else:
            prov.loc[k, "min_weekly_hours"] = 0.0
            prov.loc[k, "max_weekly_hours"] = float(row["contracted_hours"])
    return scenario.replace(providers=prov), str(regime_on(scenario, [week_start])[0])
