"""Benchmark: 10 replications of one week of the default scenario, simulated on all cores.

Run:  python bench/simulate.py [--replications 10] [--workers N] [--seed 1]

The week is the default scenario's first week (staffing.demand.build_demand, agents from
staffing.demand.requirements: the Erlang requirement per plateau x slot); when those modules
cannot be imported it falls back to a synthetic week of 5 plateaux x 7 days x 28 half-hour
slots (~580,000 calls) staffed by a square-root rule. Options as `staffing simulate` by
default: lognormal handle times (CV 1, capped at 45 min), forecast error 0.1, patience 180 s.

Baselines measured in the same run: one replication in this process (the parallel speed-up
is 10 x that time / the parallel wall time) and, when ciw is installed, ciw on a slice of the
same calls (one plateau-day of the smallest plateau at constant staffing), compared per call.
Prints whether the 10 replications finish in under 60 s.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import pandas as pd

from staffing.simulate import serve_fcfs, simulate_plan

LIMIT_S = 60.0
PATIENCE_S = 180.0


def default_week():
    """Coverage-like frame of one week: (frame, answer_s, where it came from)."""
    try:
        from staffing import demand, scenario
        sc = scenario.load("orange-2009")
        req = demand.requirements(sc, demand.build_demand(sc, weeks=1))
        targets = sc.targets
        cov = req.assign(staffed_agents=req["agents"].astype(float),
                         sl_target=req["plateau"].map(targets["sl_target"]).astype(float),
                         callback_calls=0.0)
        answer = req["plateau"].map(targets["answer_s"]).to_numpy(float)
        return cov, answer, "default scenario orange-2009, week 1 (Erlang requirement)"
    except ImportError:
        return synthetic_week(), 60.0, "synthetic week (staffing.demand not importable)"


def synthetic_week(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2009-01-05", periods=7, freq="D")
    starts = pd.DatetimeIndex([d + pd.Timedelta(minutes=m) for d in days
                               for m in range(8 * 60, 22 * 60, 30)])
    hour = starts.hour + starts.minute / 60
    shape = 0.6 + np.exp(-((hour - 10.5) / 1.2) ** 2) + 0.8 * np.exp(-((hour - 19) / 1.5) ** 2)
    dayw = np.array([1.30, 1.10, 1.00, 1.00, 1.00, 0.85, 0.65])[starts.dayofweek]
    parts = []
    for plateau, aht, weekly in (("internet", 510, 340_000), ("fixed", 360, 190_000),
                                 ("iptv", 540, 30_000), ("pro", 900, 15_000),
                                 ("expert", 720, 5_000)):
        w = shape * dayw * rng.uniform(0.95, 1.05, len(starts))
        calls = weekly * w / w.sum()
        load = calls * aht / 1800
        parts.append(pd.DataFrame({
            "slot_start": starts, "slot_minutes": 30, "plateau": plateau, "calls": calls,
            "aht_s": float(aht), "staffed_agents": np.ceil(load + 1.2 * np.sqrt(load) + 1),
            "sl_target": 0.8}))
    return pd.concat(parts, ignore_index=True)


def ciw_slice(cov: pd.DataFrame, seed: int):
    """ciw and serve_fcfs on the same calls of one plateau-day; (calls, ciw s, ours s) or None."""
    try:
        import ciw
    except ImportError:
        return None
    smallest = cov.groupby("plateau")["calls"].sum().idxmin()
    day = cov[cov["plateau"] == smallest].sort_values("slot_start").head(28)
    rng = np.random.default_rng(seed)
    agents = int(day["staffed_agents"].max())
    rate = day["calls"].sum() / (len(day) * 1800)
    n = int(day["calls"].sum())
    gaps = rng.exponential(1 / rate, n)
    hold = np.minimum(rng.lognormal(math.log(day["aht_s"].mean()) - 0.35, math.sqrt(math.log(2)),
                                    n), 2700)
    t0 = time.perf_counter()
    ours = serve_fcfs(np.cumsum(gaps), hold, np.inf, [agents], 1800.0)
    t_ours = time.perf_counter() - t0
    net = ciw.create_network(arrival_distributions=[ciw.dists.Sequential(list(gaps) + [1e12])],
                             service_distributions=[ciw.dists.Sequential(list(hold))],
                             number_of_servers=[agents])
    ciw.seed(seed)
    t0 = time.perf_counter()
    q = ciw.Simulation(net)
    q.simulate_until_max_time(float(np.sum(gaps)) + 10_000)
    t_ciw = time.perf_counter() - t0
    recs = sorted((r for r in q.get_all_records() if r.record_type == "service"),
                  key=lambda r: r.arrival_date)[:n]
    same = np.allclose([r.service_start_date for r in recs], ours, rtol=1e-9)
    return n, t_ciw, t_ours, same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    cov, answer, source = default_week()
    kw = dict(forecast_error=0.1, aht_cv=1.0, patience_s=PATIENCE_S, answer_s=answer)
    print(f"plan: {source}: {len(cov)} plateau x slots, {cov['calls'].sum():,.0f} expected "
          f"calls, up to {int(cov['staffed_agents'].max())} agents in a slot")

    t0 = time.perf_counter()
    one = simulate_plan(cov, replications=1, seed=args.seed, workers=1, **kw)
    t_one = time.perf_counter() - t0
    calls_one = one.counters["offered"].sum()
    print(f"baseline, 1 replication in-process: {calls_one:,.0f} live calls in {t_one:.2f} s "
          f"({calls_one / t_one:,.0f} calls/s)")

    t0 = time.perf_counter()
    res = simulate_plan(cov, replications=args.replications, seed=args.seed,
                        workers=args.workers, **kw)
    wall = time.perf_counter() - t0
    calls = res.counters["offered"].sum()
    print(f"{args.replications} replications on {args.workers} workers: {calls:,.0f} live calls "
          f"({calls / args.replications:,.0f} per replication) in {wall:.2f} s "
          f"({calls / wall:,.0f} calls/s); speed-up vs in-process serial "
          f"{args.replications * t_one / wall:.2f}x")
    overall = res.summary.set_index("plateau").loc["all"]
    print(f"  SL sim {overall['sl_sim']:.3f} (Erlang {overall['sl_erlang']:.3f}), abandonment "
          f"{overall['abandon_sim']:.3f}, ASA {overall['asa_sim_s']:.1f} s")

    sliced = ciw_slice(cov, args.seed)
    if sliced is None:
        print("ciw not installed: ciw ratio n/a")
    else:
        n, t_ciw, t_ours, same = sliced
        print(f"ciw on {n:,} calls of one plateau-day: {t_ciw:.2f} s ({n / t_ciw:,.0f} calls/s); "
              f"serve_fcfs on the same calls {t_ours:.3f} s: {t_ciw / t_ours:.0f}x faster, "
              f"same start times: {same}")
    ok = wall < LIMIT_S
    print(f"{'PASS' if ok else 'FAIL'}: {wall:.1f} s {'<' if ok else '>='} {LIMIT_S:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
