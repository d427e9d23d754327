"""Capacity plan of the default scenario: 104 weeks, 6 teams, 6 subcontractors, 1 offshore site.

Prints, for several runs, the wall and CPU time of the integer solve (target: proven gap
<= 0.1 % in under 30 s wall on a 2-core machine) beside the whole command's, and the ratio of
the solve to the LP relaxation of the same model solved in the same run (the baseline).

    python bench/capacity.py [--runs 3] [--weeks 104]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pulp

from staffing import scenario
from staffing.capacity import model, requirement, settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--weeks", type=int, default=104)
    args = ap.parse_args()
    sc = scenario.load()
    st = settings.read(sc, weeks=args.weeks)
    t0, c0 = time.perf_counter(), time.process_time()
    weekly = requirement.weekly_requirement(sc, st.start, st.weeks)
    t1, c1 = time.perf_counter(), time.process_time()
    eff = requirement.measure_efficiency(sc, st)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"weekly requirement ({st.weeks} weeks x {weekly['plateau'].nunique()} plateaux): "
          f"wall {t1 - t0:.2f} s, CPU {c1 - c0:.2f} s")
    print(f"efficiency measured with optimise on {eff.week_start}: wall {t2 - t1:.2f} s, "
          f"CPU {c2 - c1:.2f} s")
    need = weekly.pivot(index="plateau", columns="week", values="required_agent_hours")
    rows = []
    for _ in range(args.runs):
        m = model.build(st, need, eff.eta, st.weeks)
        a, ac = time.perf_counter(), time.process_time()
        m.prob.solve(pulp.HiGHS(msg=False, mip=False, threads=1))
        lp_wall, lp_cpu = time.perf_counter() - a, time.process_time() - ac
        m = model.build(st, need, eff.eta, st.weeks)
        res = model.solve(m, st.gap, st.time_limit_s)
        rows.append((m.build_s, res["solve_s"], res["solve_cpu_s"], lp_wall, lp_cpu, res["gap"],
                     res["status"]))
        print(f"  build {m.build_s:.2f} s  MIP solve wall {res['solve_s']:.2f} s CPU "
              f"{res['solve_cpu_s']:.2f} s  gap {res['gap']:.4%} ({res['status']})  "
              f"LP relaxation wall {lp_wall:.2f} s CPU {lp_cpu:.2f} s")
    med = lambda i: statistics.median(r[i] for r in rows)  # noqa: E731
    ints = sum(1 for v in m.prob.variables() if v.cat == pulp.LpInteger)
    print(f"model: {len(m.prob.variables())} variables ({ints} integer), "
          f"{len(m.prob.constraints)} constraints")
    print(f"median of {args.runs}: MIP solve wall {med(1):.2f} s (CPU {med(2):.2f} s), "
          f"{med(1) / max(med(3), 1e-9):.1f} x the LP relaxation (wall {med(3):.2f} s); "
          f"largest gap {max(r[5] for r in rows):.4%}; target: gap <= 0.1 % in < 30 s wall: "
          f"{'met' if med(1) < 30 and max(r[5] for r in rows) <= 0.001 else 'NOT met'}")


if __name__ == "__main__":
    main()
