"""Benchmark: a contract mix against the default's single contract, side by side in one run.

Run:  python bench/contracts.py [--weeks 4] [--repeat 3]

The default scenario (everyone `full-time` from `[shifts]`) and the bundled variant
`orange-2009-contracts` (part time, mornings only, weekends only and a 4-week cycle in Lyon and
Lille), each --repeat times over --weeks weeks with rosters: wall and CPU time (this process
and its workers), medians, and the ratio; for the variant, rule and contract violations
(staffing check's checker), cost, weeks re-solved from rosters.
"""

from __future__ import annotations

import argparse
import statistics

from staffing import scenario
from staffing.rosters import check

from rosters import timed  # bench/rosters.py: wall and CPU of one optimise


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    runs = {}
    for name in ("orange-2009", "orange-2009-contracts"):
        sc = scenario.load(name)
        runs[name] = [timed(sc, weeks=args.weeks, rosters=True) for _ in range(args.repeat)]
    wall = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r[2] for r in v) for k, v in runs.items()}
    for k in runs:
        print(f"{k:24s} wall {wall[k]:7.2f} s   CPU {cpu[k]:7.2f} s")
    base, mix = "orange-2009", "orange-2009-contracts"
    print(f"contracts / default: wall {wall[mix] / wall[base]:.2f}, CPU {cpu[mix] / cpu[base]:.2f}")
    plan = runs[mix][-1][0]
    v = check.check_run(dict(plan.tables), plan.manifest)
    r = plan.tables["rosters"]
    print(f"variant: {r['adviser'].nunique()} advisers, {len(r)} shifts, violations {len(v)}, "
          f"by contract {r.groupby('contract')['adviser'].nunique().to_dict()}")
    cost = {k: float(runs[k][-1][0].tables["providers"]["cost_eur"].sum()) for k in runs}
    print(f"cost default {cost[base]:,.0f} EUR, variant {cost[mix]:,.0f} EUR; weeks re-solved "
          f"from rosters {plan.manifest['rosters']['weeks_resolved_from_rosters']}")


if __name__ == "__main__":
    main()
