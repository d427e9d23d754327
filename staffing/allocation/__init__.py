"""The allocation model: build a week by components, solve it, extract the plan's tables.

docs/model.md writes the model as math, symbol for symbol as built here. Modules:
`model` (the week, from the components `inhouse`, `outsourced`, `offshore`, `callbacks`,
`service`), `headcount` (one hiring decision for a horizon), `solve` (LP bound, rounding,
repair, MIP, status) with `rounding` and `highs` (solver plumbing), `tables` (extraction) and
`diagnose` (what a short plan misses and why). Weeks are independent given the headcount, so
a horizon is solved week by week (in parallel for several weeks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import numpy as np
import pandas as pd

from .. import demand as demand_mod, memory
from ..errors import InputError
from .. import shifts  # noqa: F401  (allocation.shifts: the patterns and tours the plan uses)
from ..parallel import run_jobs  # also allocation.run_jobs for its callers
from . import diagnose, headcount as headcount_mod, highs, reuse, tables as tables_mod
from .options import Deadline, Options
from .service import DAY_SCOPE_FLOOR, day_floor
from .solve import gap_of, solve_week
from .tables import SHORTFALL_TOL, WeekResult

__all__ = ["Options", "Plan", "WeekResult", "combined_status", "optimise", "requirements", "run_jobs",
           "DAY_SCOPE_FLOOR", "SHORTFALL_TOL", "day_floor", "solve_week"]


def requirements(scenario, demand: pd.DataFrame, model: str) -> pd.DataFrame:
    """Erlang requirements per plateau x slot at the live AHT, with the callback work."""
    req = demand_mod.requirements(scenario.replace(queueing=model), demand)
    if "fold" not in req.columns:
        req.insert(req.columns.get_loc("slot_start") + 1, "fold", 0)
    extra = demand[["slot_start", "fold", "plateau", "date", "callback_agents", "callback_cut_s"]]
    return req.merge(extra, on=["slot_start", "fold", "plateau"], how="left",
                     validate="one_to_one")


def _week_job(args) -> WeekResult:
    """One week's plan; its CPU seconds by phase in .cpu_s (bench/allocation.py): build (the
    model in PuLP), highs (inside HiGHS), rounding (the rest of the solve: rounding, repair, the
    PuLP transfers), tables (values read back, advisers at work, shifts and tours)."""
    scenario, opts, req, week, deadline, heads = args
    c0, h0 = time.process_time(), highs.RUN_CPU_S[0]
    with memory.paused_gc():
        m, solved = solve_week(scenario, opts, req, week, deadline, heads)
        c1, h1 = time.process_time(), highs.RUN_CPU_S[0]
        r = tables_mod.extract(m, week, solved, integer=not opts.relax)
    tables_mod.week_parts(scenario, opts, m, r)
    build = min(getattr(m, "build_cpu_s", m.build_s), c1 - c0)
    r.cpu_s = {"build": build, "highs": h1 - h0, "rounding": max(c1 - c0 - build - (h1 - h0), 0.0),
               "tables": time.process_time() - c1}
    return r


@dataclasses.dataclass
class Plan:
    tables: dict
    manifest: dict
    shortfall_share: float
    diagnostics: pd.DataFrame
    warnings: list = dataclasses.field(default_factory=list)


def _weekly_requirements(scenario, opts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(demand, requirement rows with their week) of the horizon."""
    dem = demand_mod.build_demand(scenario, start=opts.start, weeks=opts.weeks, regime=opts.regime)
    if "fold" not in dem.columns:
        dem["fold"] = 0
    req = requirements(scenario, demand_mod.live_demand(scenario, dem), opts.queueing)
    if opts.sl_scope == "day":
        req["floor_agents"] = day_floor(req, scenario.targets, opts.queueing)
    req["week"] = ((req["date"] - pd.Timestamp(opts.start)).dt.days // 7).astype(int)
    _check_scale(req)
    return dem, req


MAX_AGENTS_PER_SLOT = 100_000  # beyond any call centre; the solver's numerics fail far above


def _check_scale(req: pd.DataFrame) -> None:
    """InputError (exit 2) for a requirement no call centre has: a unit or volume mistake."""
    if not len(req) or req["agents"].max() <= MAX_AGENTS_PER_SLOT:
        return
    r = req.loc[req["agents"].idxmax()]
    raise InputError(f"{r['agents']:,.0f} agents required for {r['plateau']} at "
                     f"{pd.Timestamp(r['slot_start']):%Y-%m-%d %H:%M} (more than "
                     f"{MAX_AGENTS_PER_SLOT:,} in one slot): check the plateau's calls "
                     "(annual_calls, forecast, call_uplift) and AHT", field="demand")


def optimise(scenario, opts: Options, progress=None) -> Plan:
    """Requirements, the horizon's headcount, one model per week, and the plan's tables.
    --time-limit bounds all of it from here (the deadline is shared by the week processes)."""
    opts = opts.resolved(scenario)
    t0 = time.perf_counter()
    deadline = Deadline.after(opts.time_limit)
    dem, req = _weekly_requirements(scenario, opts)
    weeks = [req[req["week"] == w] for w in range(opts.weeks)]
    results = _solve_weeks(scenario, opts, weeks, deadline, progress)
    planned = {r.week: r for r in results}  # each week's plan as solved (re-plans below)
    rosters = None
    if opts.rosters and not opts.relax:  # rosters per adviser; weeks re-solved with them
        from ..rosters import plan as roster_plan

        rosters, results, refit, starts = roster_plan.attach(scenario, opts, req, results,
                                                             deadline)
        planned.update({r.week: r for r in results if r.searched is not None})
    tables, share, diag = _tables(scenario, opts, req, results)
    tables["demand"] = demand_mod.forecast_table(scenario, dem)
    if rosters is not None:
        roster_plan.add_tables(tables, rosters, scenario, opts)
    manifest = _manifest(opts, results, share, time.perf_counter() - t0)
    warn = headcount_mod.warnings(scenario, opts) + _gap_warnings(opts, planned.values())
    if rosters is not None:
        manifest["rosters"] = roster_plan.manifest_entry(scenario, refit, opts, starts)
        warn += roster_plan.start_warnings(starts)
    manifest["headcount"] = _chosen(results)
    manifest["staffing_cost_eur"] = float(tables["providers"]["cost_eur"].sum())
    manifest["late_calls"] = float(tables["coverage"]["late_calls"].sum())
    manifest["warnings"] = warn
    return Plan(tables=tables, manifest=manifest, shortfall_share=share, diagnostics=diag,
                warnings=warn)


def _solve_weeks(scenario, opts, weeks: list, deadline, progress) -> list[WeekResult]:
    """Every week's plan under one headcount per team. With --headcount optimise over several
    weeks: the horizon's headcount from the weeks' LPs (headcount.decide) as each week's
    floor; a week whose rounding needed more advisers raises the horizon's headcount, and the
    weeks below it are solved again with it fixed."""
    heads = headcount_mod.decide(scenario, opts, weeks, deadline, run_jobs)
    floors = headcount_mod.floors(scenario, heads)
    results = _run_weeks(scenario, opts, weeks, range(opts.weeks), deadline, floors, progress)
    if heads is None:
        return results
    final = {k: max(r.headcount[k] for r in results) for k in heads}
    redo = [r.week for r in results if r.headcount != final]
    for r in _run_weeks(scenario, opts, weeks, redo, deadline, final, None):
        results[r.week] = r
    return results


def _run_weeks(scenario, opts, weeks: list, todo, deadline, heads, progress) -> list[WeekResult]:
    """The plans of weeks `todo` (in that order): each distinct week solved once, in parallel,
    the others its plan moved in time (reuse.py)."""
    todo = list(todo)
    start = pd.Timestamp(opts.start)
    from ..rosters.contracts import week_signature

    keys = [reuse.week_key(weeks[w], start + pd.Timedelta(weeks=w),
                           week_signature(scenario, start, w)) for w in todo]
    first = {todo[i]: todo[j] for i, j in reuse.distinct(keys).items()}
    solve = [w for w in todo if first[w] == w]
    jobs = [(scenario, opts, weeks[w], w, deadline, heads) for w in solve]
    solved = {r.week: r for r in run_jobs(_week_job, jobs, opts.workers or 2, progress)}
    if progress and len(todo) > len(solve):
        progress(len(todo) - len(solve))
    return [solved[w] if w in solved else
            reuse.moved(solved[first[w]], w, 7 * (w - first[w])) for w in todo]


def combined_status(statuses) -> str:
    """One status for several solves: time_limit if a limit stopped any, optimal if all were
    proven optimal, else feasible."""
    statuses = set(statuses)
    return ("time_limit" if "time_limit" in statuses else
            "optimal" if statuses <= {"optimal"} else "feasible")


def _chosen(results) -> dict:
    """Headcount per in-house team (the same every week)."""
    return {k: float(v) for k, v in results[0].headcount.items()} if results else {}


GAP_WARNING = "week plan(s) end with a gap to the best bound above --gap"  # (`_gap_warnings`)


def _gap_warnings(opts, results) -> list[str]:
    """Warnings for week plans (their own solves: `searched` not None) that end `feasible`
    with a gap above --gap: those whose full MIP the run's own budget stopped (solve._improve),
    and large rounded plans that keep the LP's service, returned without a MIP."""
    from .solve import IMPROVE_MIN_S, MIP_NODE_BUDGET

    def weeks(searched: bool) -> tuple[int, str]:
        wide = sorted(((gap_of(r.objective, r.lp_bound), r.week) for r in results
                       if r.searched is searched and r.status == "feasible"
                       and gap_of(r.objective, r.lp_bound) > opts.gap), reverse=True)
        return len(wide), ", ".join(f"week {w + 1} {100 * g:.1f} %" for g, w in wide[:3])

    why = {True: f"the search stopped at its own budget ({MIP_NODE_BUDGET} nodes, or twice "
                 f"the time spent and at least {IMPROVE_MIN_S:g} s a week); --node-limit N "
                 "searches further within --time-limit (the gap may also be a weak bound: "
                 "small teams, integral shifts)",
           False: "large plans that keep the LP's service, returned as rounded without a "
                  "MIP; their gap is mostly the LP bound's weakness (docs/model.md, rounding)"}
    out = []
    for searched, reason in why.items():
        n, worst = weeks(searched)
        if n:
            out.append(f"{n} {GAP_WARNING} {100 * opts.gap:g} % ({worst}): {reason}")
    return out


def _manifest(opts, results, share: float, wall: float) -> dict:
    objective = sum(r.objective for r in results)
    bound = sum(r.lp_bound for r in results)
    status = combined_status(r.status for r in results)
    return {
        "command": "optimise",
        "options": {k: (str(v) if isinstance(v, dt.date) else v)
                    for k, v in dataclasses.asdict(opts).items()},
        "solver": opts.solver, "status": status, "objective_eur": objective,
        "lp_bound_eur": bound, "gap": gap_of(objective, bound),
        "build_s": sum(r.build_s for r in results), "solve_s": sum(r.solve_s for r in results),
        "wall_time_s": wall, "shortfall_share": share, "integer": not opts.relax,
    }


# Output column names: `logged` agents / hours are at work (before shrinkage), `answering` agents
# are what the queue sees (after shrinkage and the AHT factor).
OUTPUT_NAMES = {"allocation": {"agents": "logged_agents"},
                "coverage": {"staffed_agents": "answering_agents"},
                "diagnostics": {"staffed_agents": "answering_agents"},
                "providers": {"staffed_hours": "logged_hours", "share": "answering_share"}}


def _tables(scenario, opts, req, results):
    """Tidy output tables from the week results: (tables, shortfall share, diagnostics)."""
    req = req.reset_index(drop=True)
    week_rows = {w: req.index[req["week"] == w] for w in range(opts.weeks)}
    cbv = np.zeros(len(req))
    for r in results:
        cbv[week_rows[r.week]] = r.cb
    alloc = tables_mod.allocation_table(scenario, req, results, week_rows)
    cov = tables_mod.coverage_table(scenario, opts, req, alloc, cbv)
    req_h, short_h, share, miss = diagnose.shortfall(scenario, opts, req, cov)
    chosen = _chosen(results)
    diag = diagnose.diagnostics(scenario, opts, req, cov, alloc, chosen, miss)
    providers = tables_mod.providers_table(scenario, alloc, results)
    shifts_t, tours_t = tables_mod.shifts_and_tours(results)
    summary = tables_mod.summary_table(scenario, req, cov, providers, results,
                                       (req_h, short_h, share), chosen)
    requirements_t = req[["slot_start", "fold", "slot_minutes", "plateau", "calls", "aht_s",
                          "live_aht_s", "load_erlangs", "agents", "scheduled", "service_level", "asa_s",
                          "occupancy", "p_wait", "p_abandon"]].copy()
    tables = {"requirements": requirements_t, "allocation": alloc[
        ["slot_start", "fold", "slot_minutes", "plateau", "provider", "kind", "agents"]],
        "coverage": cov, "shifts": shifts_t, "tours": tours_t, "providers": providers,
        "summary": summary, "diagnostics": diag}
    for key, t in tables.items():
        t = t.rename(columns=OUTPUT_NAMES.get(key, {}))
        if "fold" in t.columns and not (t["fold"] == 1).any():
            t = t.drop(columns="fold")  # only a clock-change day needs it
        tables[key] = t.reset_index(drop=True)
        tables[key].insert(0, "scenario", scenario.name)
    return tables, share, tables["diagnostics"]
