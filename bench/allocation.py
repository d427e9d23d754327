"""Benchmark: the optimiser's speed on the default scenario and the cases that used to be slow,
every ratio measured side by side in the same run (interleaved repeats, medians).

Run:  python bench/allocation.py [--repeats 3] [--time-limit 120] [--cbc] [--year | --year-only]

1. Ratios (median wall and CPU seconds of --repeats runs, interleaved so a busy machine hurts
   both sides alike):
   - the default week x20 (the active regime's call_uplift at 21: 22 x the base calls, 20 x the
     default's) against the default week; target: within 2x;
   - `--headcount optimise` against fixed headcounts on the default week, with headcount bounds
     at 50-120 % of each team (the default's blank bounds leave nothing to decide: that run is
     shown too); target: within 2x;
   - a two-plateau, one-team (120 advisers, bounds 40-120), one-subcontractor (60 seats, 500 h
     take-or-pay) scenario, 15-minute slots, two weeks, `--headcount optimise`; target: under
     20 s of wall time.
2. --cbc: the default week with CBC (pulp.PULP_CBC_CMD, the fallback solver) against HiGHS.
3. --year: the 52-week default as `staffing optimise --weeks 52` runs it (two processes, plan
   written to a temporary folder), with identical weeks solved once and, as the baseline in the
   same run, every week solved; wall and CPU seconds by phase: requirements and headcount,
   the weeks (their CPU by phase summed over the solved weeks: model build in PuLP, inside
   HiGHS, rounding and the rest of the solve, tables and tours), the plan's tables, economics
   and the written run (CSV, Parquet, plan.xlsx); target under 25 s of wall time.

CPU seconds are this process's plus its finished children's (the week processes). Each line
also gives the solve status, the gap to the best bound, the staffing cost, the expected late
calls and the shortfall share.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path


from staffing import allocation, scenario

# the active regime R2 has +10 % calls over the base R1: 20 x the default's calls is +2100 %
UPLIFT_X20 = ["pricing.regimes.R2.call_uplift=21"]
RATIO_TARGET = 2.0
TWO_PLATEAU_TARGET_S = 20.0
YEAR_TARGET_S = 25.0


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(sc, **options) -> dict:
    """Optimise once; the manifest with wall and CPU seconds."""
    t0, c0 = time.perf_counter(), cpu()
    plan = allocation.optimise(sc, allocation.Options(**options))
    m = dict(plan.manifest)
    m.update(wall=time.perf_counter() - t0, cpu=cpu() - c0, short=plan.shortfall_share)
    return m


def line(label: str, ms: list) -> str:
    m = ms[-1]
    wall = statistics.median(x["wall"] for x in ms)
    cpu_s = statistics.median(x["cpu"] for x in ms)
    return (f"{label:<34}{wall:>8.2f}{cpu_s:>8.2f}  {m['status']:<11}{100 * m['gap']:>8.3f}%"
            f"{m['staffing_cost_eur']:>14,.0f}{m['late_calls']:>12,.0f}{100 * m['short']:>8.3f}%")


def bounded(sc, lo: float, hi: float):
    """The scenario with every in-house team's headcount bounds at lo..hi x its headcount."""
    pr = sc.providers.copy()
    inh = pr["kind"] == "inhouse"
    pr.loc[inh, "headcount_min"] = (pr.loc[inh, "headcount"] * lo).round()
    pr.loc[inh, "headcount_max"] = (pr.loc[inh, "headcount"] * hi).round()
    return sc.replace(providers=pr)


def two_plateau(root: Path) -> str:
    """Write the two-plateau scenario under root; return its model path."""
    inputs = root / "inputs" / "two"
    inputs.mkdir(parents=True)
    (root / "models").mkdir()
    (inputs / "plateaux.csv").write_text(
        "id,annual_calls,aht_s,callback_share,callback_threshold_s,long_call_aht_s\n"
        "sales,520000,300,0,1800,2400\nclaims,360000,420,0.02,1800,2400\n", encoding="utf-8")
    (inputs / "providers.csv").write_text(
        "id,kind,site,plateaux,cost_eur_per_hour,headcount,headcount_min,headcount_max,seats,"
        "min_weekly_hours,max_weekly_hours,shrinkage,aht_factor\n"
        "team,inhouse,Lyon,sales;claims,40,120,40,120,,,,0.3,1.0\n"
        "sub,subcontractor,Sub,sales;claims,30,,,,60,500,,0.25,1.0\n", encoding="utf-8")
    hours = [(f"{h:02d}:00", w) for h, w in zip(range(8, 20), [4, 7, 9, 9, 8, 6, 7, 8, 7, 6, 5, 3])]
    (inputs / "profiles.csv").write_text(
        "plateau,profile,key,weight\n" + "".join(f"*,intraday,{k},{w}\n" for k, w in hours)
        + "".join(f"*,weekday,{d},{w}\n" for d, w in
                  zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], [1.3, 1.1, 1, 1, 1, 0.8, 0])),
        encoding="utf-8")
    model = root / "models" / "two.toml"
    model.write_text(
        'name = "two-plateaux"\n[horizon]\nstart = 2009-03-02\nweeks = 2\nslot_minutes = 15\n'
        '[opening]\ndefault = ["08:00", "20:00"]\nsun = "closed"\n[demand]\nholidays = ""\n'
        '[service]\nsl_scope = "slot"\nqueueing = "erlang_c"\nsl_target = 0.8\nanswer_s = 20\n'
        '[shifts]\npaid_hours = [7.0]\nunpaid_break_minutes = 60\nbreak_after_hours = 6\n'
        'start_step_minutes = 30\nweekly_hours = 35\ndays_per_week = 5\n'
        '[pricing]\nactive = "R"\n[pricing.regimes.R]\neur_per_min = 0.0\n'
        '[policy]\noffshore_cap = 1.0\nmax_shortfall_share = 0.0\n'
        '[inputs]\nplateaux = "../inputs/two/plateaux.csv"\n'
        'providers = "../inputs/two/providers.csv"\nprofiles = "../inputs/two/profiles.csv"\n',
        encoding="utf-8")
    return str(model)


def ratios(args) -> None:
    base = scenario.load()
    x20 = scenario.load(None, scenario.parse_set(UPLIFT_X20))
    wide = bounded(base, 0.5, 1.2)
    cases = {"default week": (base, {}), "default week x20": (x20, {}),
             "bounds 50-120 %, fixed": (wide, {}),
             "bounds 50-120 %, optimise": (wide, {"headcount": "optimise"}),
             "default, optimise (blank bounds)": (base, {"headcount": "optimise"})}
    got = {k: [] for k in cases}
    for _ in range(args.repeats):  # interleaved
        for k, (sc, extra) in cases.items():
            got[k].append(run(sc, weeks=1, time_limit=args.time_limit, **extra))
    for k in cases:
        print(line(k, got[k]))
    med = {k: statistics.median(x["wall"] for x in v) for k, v in got.items()}
    cpu_m = {k: statistics.median(x["cpu"] for x in v) for k, v in got.items()}
    for a, b in (("default week x20", "default week"),
                 ("bounds 50-120 %, optimise", "bounds 50-120 %, fixed"),
                 ("default, optimise (blank bounds)", "default week")):
        r, rc = med[a] / med[b], cpu_m[a] / cpu_m[b]
        print(f"ratio {a} / {b}: wall {r:.2f}, CPU {rc:.2f} (target <= {RATIO_TARGET:g}: "
              f"{'met' if rc <= RATIO_TARGET else 'NOT met'} on CPU)")


def two(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sc = scenario.load(two_plateau(Path(tmp)))
        ms = [run(sc, headcount="optimise", time_limit=args.time_limit)
              for _ in range(args.repeats)]
    print(line("two plateaux, 2 weeks, optimise", ms))
    wall = statistics.median(m["wall"] for m in ms)
    print(f"  headcount {ms[-1]['headcount']}; target < {TWO_PLATEAU_TARGET_S:g} s wall: "
          f"{'met' if wall < TWO_PLATEAU_TARGET_S else 'NOT met'} ({wall:.1f} s)")


def year(args, reuse_weeks: bool) -> None:
    """The 52-week default through optimise, economics and the written run, by phase."""
    from unittest import mock

    from staffing import economics, report
    from staffing.allocation import reuse

    weeks_done = []

    def recorded(func, jobs, workers, progress=None, on_result=None):
        out = run_jobs(func, jobs, workers, progress, on_result)
        weeks_done.extend(r for r in out if getattr(r, "cpu_s", None))
        return out

    run_jobs = allocation.run_jobs
    same = mock.patch.object(reuse, "distinct", lambda keys: {w: w for w in range(len(keys))})
    with mock.patch.object(allocation, "run_jobs", recorded), \
            (mock.patch.object(reuse, "distinct", reuse.distinct) if reuse_weeks else same), \
            tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), cpu()
        sc = scenario.load()
        plan = allocation.optimise(sc, allocation.Options(weeks=52, workers=2,
                                                          time_limit=args.time_limit * 52))
        t1, c1 = time.perf_counter(), cpu()
        plan = economics.add_to_plan(sc, plan)
        report.write_plan(sc, plan, Path(tmp) / "run", force=True, settings=(), charts=None)
        t2, c2 = time.perf_counter(), cpu()
    label = "identical weeks once" if reuse_weeks else "every week solved (baseline)"
    phases = {k: sum(r.cpu_s.get(k, 0.0) for r in weeks_done)
              for k in ("build", "highs", "rounding", "tables")}
    solver_share = phases["highs"] / (c2 - c0)
    print(f"52 weeks, 2 processes, {label}: {len({r.week for r in weeks_done})} weeks solved")
    print(f"  total        wall {t2 - t0:7.2f} s  CPU {c2 - c0:7.2f} s  "
          f"(HiGHS {100 * solver_share:.0f} % of the CPU)")
    print(f"  optimise     wall {t1 - t0:7.2f} s  CPU {c1 - c0:7.2f} s  of which in the weeks: "
          + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(f"  economics + write wall {t2 - t1:7.2f} s  CPU {c2 - c1:7.2f} s")
    print(f"  target < {YEAR_TARGET_S:g} s of wall: {'met' if t2 - t0 < YEAR_TARGET_S else 'NOT met'}"
          f"; status {plan.manifest['status']}, cost {plan.manifest['staffing_cost_eur']:,.0f} EUR")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per run")
    ap.add_argument("--cbc", action="store_true", help="also the default week with CBC")
    ap.add_argument("--year", action="store_true", help="also 52 weeks on two processes")
    ap.add_argument("--year-only", action="store_true", help="only the 52 weeks")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; medians of "
          f"{args.repeats} runs")
    print(f"{'run':<34}{'wall s':>8}{'CPU s':>8}  {'status':<11}{'gap':>9}{'cost EUR':>14}"
          f"{'late calls':>12}{'short':>9}")
    if not args.year_only:
        ratios(args)
        two(args)
    if args.cbc and not args.year_only:
        sc = scenario.load()
        h = [run(sc, weeks=1, time_limit=args.time_limit) for _ in range(args.repeats)]
        c = [run(sc, weeks=1, solver="cbc", time_limit=args.time_limit) for _ in range(args.repeats)]
        print(line("1 week, highs", h))
        print(line("1 week, cbc", c))
    if args.year or args.year_only:
        for reuse_weeks in (False, True):
            year(args, reuse_weeks)
    print(f"load average now {os.getloadavg()[0]:.2f} (other processes share the cores)")


if __name__ == "__main__":
    main()
