"""Benchmark: rosters per adviser against the rule-free plan, side by side in one run.

Run:  python bench/rosters.py [--weeks 4] [--repeat 3] [--no-night]

1. The default scenario over --weeks weeks, without rosters (the rule-free plan, today's
   `optimise --no-rosters`) and with them (`optimise`), each --repeat times: wall and CPU time
   (this process and its workers), medians.
2. The rostered plan: working-time rule violations over all advisers (staffing check's
   checker), cost against the LP bound of the rule-free model (the price of legality, EUR and
   share), share of adviser-weeks with two days off in a row, weeks re-solved from rosters.
3. A 24/7 variant with 15-minute slots and night shifts (opening 00:00-24:00), shifts
   crossing midnight among them: violations, cost, weeks re-solved.

Targets: 0 violations for all 3,200 advisers; cost within 0.5 % of the rule-free LP bound;
>= 90 % two days off in a row; the 24/7 variant 0 violations; the rostered run in at most
3 x the rule-free run's time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import pandas as pd

from staffing import allocation, scenario
from staffing.rosters import check

COST_TARGET = 0.005
PAIR_TARGET = 0.90
TIME_TARGET = 3.0


def cpu() -> float:
    """CPU seconds of this process and its finished workers."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(sc, **options):
    # a deadline far off: the bench measures the method's time, not where a deadline cuts it
    # (re-solves of rostered weeks keep to --time-limit like every phase)
    options.setdefault("time_limit", 3600.0)
    t0, c0 = time.perf_counter(), cpu()
    plan = allocation.optimise(sc, allocation.Options(**options))
    return plan, time.perf_counter() - t0, cpu() - c0


def pairs_share(r: pd.DataFrame, start, weeks: int) -> float:
    """Share of adviser-weeks with two consecutive dates off inside the week."""
    day = (pd.to_datetime(r["date"]) - pd.Timestamp(start)).dt.days
    worked = r.assign(day=day).groupby("adviser")["day"].apply(set)
    ok = n = 0
    for days in worked:
        for w in range(weeks):
            off = [d for d in range(7 * w, 7 * w + 7) if d not in days]
            ok += any(b == a + 1 for a, b in zip(off, off[1:]))
            n += 1
    return ok / n if n else 1.0


def cost(plan) -> float:
    return float(plan.tables["providers"]["cost_eur"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-night", action="store_true", help="skip the 24/7 variant")
    args = ap.parse_args()
    sc = scenario.load()
    print(f"scenario {sc.name}, {args.weeks} weeks, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}; medians of {args.repeat} runs")
    runs = {False: [], True: []}
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        for rosters in (False, True):
            runs[rosters].append(timed(sc, weeks=args.weeks, rosters=rosters))
    med = {k: (statistics.median(w for _, w, _ in v), statistics.median(c for _, _, c in v))
           for k, v in runs.items()}
    free, legal = runs[False][0][0], runs[True][0][0]
    for k, label in ((False, "rule-free (--no-rosters)"), (True, "rostered")):
        print(f"{label:<26} wall {med[k][0]:7.2f} s   CPU {med[k][1]:7.2f} s")
    ratio = med[True][0] / med[False][0]
    print(f"rostered / rule-free wall {ratio:.2f} (target <= {TIME_TARGET:g}: "
          f"{'met' if ratio <= TIME_TARGET else 'NOT met'}), CPU "
          f"{med[True][1] / med[False][1]:.2f}")

    r = legal.tables["rosters"]
    v = check.check_run(dict(legal.tables), legal.manifest)
    bound = free.manifest["lp_bound_eur"]
    price = cost(legal) - bound
    share = pairs_share(r, sc.start, args.weeks)
    print(f"advisers {r['adviser'].nunique()}, shifts {len(r)}, violations {len(v)} "
          f"({'met' if not len(v) else 'NOT met'})")
    print(f"cost rule-free {cost(free):,.0f} EUR, rostered {cost(legal):,.0f} EUR, rule-free LP "
          f"bound {bound:,.0f} EUR; price of legality {price:,.0f} EUR = {100 * price / bound:.3f} % "
          f"(target <= {100 * COST_TARGET:.1f} %: {'met' if price <= COST_TARGET * bound else 'NOT met'})")
    print(f"two days off in a row: {100 * share:.1f} % of adviser-weeks (target >= "
          f"{100 * PAIR_TARGET:.0f} %: {'met' if share >= PAIR_TARGET else 'NOT met'}); shortfall "
          f"{100 * legal.shortfall_share:.4f} %; weeks re-solved from rosters "
          f"{legal.manifest['rosters']['weeks_resolved_from_rosters']}")
    if args.no_night:
        return
    night = scenario.load(None, scenario.parse_set(['opening.default=["00:00","24:00"]',
                                                    "horizon.slot_minutes=15"]))
    plan, wall, c = timed(night, weeks=args.weeks, rosters=True)
    v = check.check_run(dict(plan.tables), plan.manifest)
    r = plan.tables["rosters"]
    n_night = int((r["shift_end"].dt.normalize() > r["date"]).sum())
    n_cross = int((r["shift_end"] > r["date"] + pd.Timedelta(days=1)).sum())
    print(f"24/7, 15-min slots: {r['adviser'].nunique()} advisers, {len(r)} shifts "
          f"({n_night} ending at or after midnight, {n_cross} crossing it), violations {len(v)} "
          f"({'met' if not len(v) else 'NOT met'}), shortfall {100 * plan.shortfall_share:.4f} %, "
          f"cost {cost(plan):,.0f} EUR (gap {100 * plan.manifest['gap']:.3f} %), weeks re-solved "
          f"{plan.manifest['rosters']['weeks_resolved_from_rosters']}, wall {wall:.1f} s, "
          f"CPU {c:.1f} s")


if __name__ == "__main__":
    main()
