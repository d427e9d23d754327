"""Benchmark: the optimiser on the default scenario, HiGHS against CBC in the same run.

Run:  python bench/allocation.py [--weeks 52] [--workers 2] [--time-limit 120] [--no-year]

1. One week (the default's first), integer plan, HiGHS: model build time, solve time (LP bound,
   rounding, MIP when needed), the gap to the LP bound and the solve status.
2. The same week with CBC (pulp.PULP_CBC_CMD, the fallback solver); the HiGHS / CBC ratio.
3. 52 weeks with HiGHS (weeks are independent given the headcount: one process per core),
   wall time, and the summed build and solve times of the weeks.

Targets on a 2-core machine: one week within 0.5 % of the LP bound in under 30 s; 52 weeks in
under 60 s. Times are the optimiser's own (manifest build_s / solve_s) and the wall clock of
`staffing.allocation.optimise`, which also builds the demand, the Erlang requirements and the
output tables.
"""

from __future__ import annotations

import argparse
import os
import time

from staffing import allocation, scenario

WEEK_LIMIT_S = 30.0
YEAR_LIMIT_S = 60.0
GAP_TARGET = 0.005


def load() -> str:
    """1-minute load average: the figures only mean something on an otherwise idle machine."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def run(sc, **options) -> tuple[dict, float]:
    """Optimise; return (manifest, wall seconds)."""
    t0 = time.perf_counter()
    plan = allocation.optimise(sc, allocation.Options(**options))
    wall = time.perf_counter() - t0
    m = dict(plan.manifest)
    m["shortfall_share"] = plan.shortfall_share
    return m, wall


def line(label: str, m: dict, wall: float) -> str:
    return (f"{label:<26}{m['build_s']:>9.2f}{m['solve_s']:>9.2f}{wall:>9.2f}"
            f"{100 * m['gap']:>9.3f}%  {m['status']:<11}{m['objective_eur']:>15,.0f}"
            f"{100 * m['shortfall_share']:>9.3f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per week's solve")
    ap.add_argument("--no-year", action="store_true", help="skip the multi-week run")
    args = ap.parse_args()

    sc = scenario.load()
    print(f"scenario {sc.name}, {os.cpu_count()} cores, load average {load()}; integer plans, "
          f"gap tolerance {100 * GAP_TARGET:.1f} %, time limit {args.time_limit:g} s per week")
    print(f"{'run':<26}{'build s':>9}{'solve s':>9}{'wall s':>9}{'gap':>10}  {'status':<11}"
          f"{'objective EUR':>15}{'short':>10}")
    week = {}
    for solver in ("highs", "cbc"):
        m, wall = run(sc, weeks=1, solver=solver, time_limit=args.time_limit, gap=GAP_TARGET)
        week[solver] = (m, wall)
        print(line(f"1 week, {solver}", m, wall))
    (mh, wh), (mc, wc) = week["highs"], week["cbc"]
    print()
    print(f"HiGHS / CBC, one week: wall {wh / wc:.3f}  (CBC takes {wc / wh:.1f} x as long), "
          f"solve {mh['solve_s'] / mc['solve_s']:.3f}; objective CBC - HiGHS "
          f"{mc['objective_eur'] - mh['objective_eur']:+,.0f} EUR")
    ok_week = wh < WEEK_LIMIT_S and mh["gap"] <= GAP_TARGET + 1e-12
    print(f"target 1 week (HiGHS) within {100 * GAP_TARGET:.1f} % of the LP bound in < "
          f"{WEEK_LIMIT_S:g} s: {'met' if ok_week else 'NOT met'} ({wh:.1f} s, gap "
          f"{100 * mh['gap']:.3f} %)")
    if args.no_year:
        return
    print()
    m, wall = run(sc, weeks=args.weeks, workers=args.workers, solver="highs",
                  time_limit=args.time_limit, gap=GAP_TARGET)
    print(line(f"{args.weeks} weeks, highs, {args.workers} proc", m, wall))
    per_week = (m["build_s"] + m["solve_s"]) / args.weeks
    print(f"{args.weeks} weeks: wall {wall:.1f} s; build + solve summed over weeks "
          f"{m['build_s'] + m['solve_s']:.1f} s ({per_week:.2f} s a week), parallel efficiency "
          f"{(m['build_s'] + m['solve_s']) / (wall * args.workers):.2f}; wall / (weeks x one "
          f"HiGHS week) {wall / (args.weeks * wh):.3f}")
    ok_year = wall < YEAR_LIMIT_S
    print(f"target {args.weeks} weeks in < {YEAR_LIMIT_S:g} s: {'met' if ok_year else 'NOT met'} "
          f"({wall:.1f} s); load average now {load()} (other processes share the cores)")


if __name__ == "__main__":
    main()
