"""Benchmark: staffing.queueing.required_agents against pyworkforce's ErlangC loop.

Run:  python bench/queueing.py [--intervals 50000] [--seed 7] [--max-pyworkforce-s 300]

Installs nothing. pyworkforce comes from the `bench` extra (pip install -e '.[bench]'); without
it only our engine is timed and the ratio is "n/a". Both sides staff the same random
30-minute intervals (10-5,000 calls, AHT 300 s, 80% answered within 20 s, occupancy <= 0.85)
on one core. pyworkforce runs on the full set when a pilot predicts it finishes within
--max-pyworkforce-s; otherwise on a random subset of 2,000 intervals, its time extrapolated
per interval (the report says which). Every disagreement is settled with the exact Erlang C
metrics: pyworkforce is "provably off by one" when its n - 1 already meets every target
(overstaffing) or its n misses one (understaffing), and our answer is checked minimal (n
meets, n - 1 misses) on every interval. Exit 1 if any other disagreement remains or any of
our answers is not provably minimal. Extra figures: Erlang A (patience 180 s) on the same
intervals and the 1,000,000-interval vectorised batch.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from staffing.queueing import erlang_c, required_agents

AHT_S, SLOT_MIN, SL, ANSWER_S, MAX_OCC, PATIENCE_S = 300, 30, 0.8, 20, 0.85, 180
OCC_NUM, OCC_DEN = 85, 100  # MAX_OCC as an exact ratio
SUBSET = 2_000
PILOT = 300
MARGIN = 1e-9  # a service level this close to the target proves nothing either way


def ours(calls, **extra):
    return required_agents(calls, AHT_S, SLOT_MIN, SL, ANSWER_S, max_occupancy=MAX_OCC, **extra)


def best_of(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def pyworkforce_run(erlang_c_cls, calls):
    """pyworkforce raw_positions per interval (-1 where it fails) and the wall time."""
    out = np.full(len(calls), -1, dtype=np.int64)
    t0 = time.perf_counter()
    for i, c in enumerate(calls.tolist()):
        try:
            res = erlang_c_cls(transactions=c, aht=AHT_S, asa=ANSWER_S,
                               interval=SLOT_MIN * 60, shrinkage=0.0)
            out[i] = res.required_positions(service_level=SL, max_occupancy=MAX_OCC)["raw_positions"]
        except (OverflowError, ZeroDivisionError, ValueError, ArithmeticError):
            pass
    return out, time.perf_counter() - t0


def verdict(calls, agents):
    """+1 where agents provably meet every target, -1 where provably not, 0 undecided."""
    agents = np.asarray(agents, dtype=np.int64)
    m = erlang_c(calls, AHT_S, SLOT_MIN, np.maximum(agents, 0), ANSWER_S)
    # occupancy load/n <= 0.85 in exact integer arithmetic: calls*aht*100 <= 85*slot_s*n
    occ_ok = calls.astype(np.int64) * AHT_S * OCC_DEN <= OCC_NUM * SLOT_MIN * 60 * agents
    sl = m["service_level"]
    out = np.where(sl >= SL + MARGIN, 1, np.where(sl < SL - MARGIN, -1, 0))
    out = np.where(occ_ok, out, -1)
    return np.where(agents < 0, -1, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--intervals", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-pyworkforce-s", type=float, default=300.0)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    calls = rng.integers(10, 5_001, args.intervals)
    n = len(calls)

    t_ours, q = best_of(lambda: ours(calls), 5)
    t_erlang_a, _ = best_of(lambda: ours(calls, patience_s=PATIENCE_S), 1)
    big = rng.integers(10, 5_001, 1_000_000)
    t_big, _ = best_of(lambda: ours(big), 1)

    # our answers are minimal on every interval: n meets, n - 1 misses
    minimal = (verdict(calls, q) == 1) & (verdict(calls, q - 1) == -1)

    print(f"intervals                      {n:,} x 30 min, 10-5,000 calls, AHT {AHT_S} s, "
          f"{SL:.0%}/{ANSWER_S} s, occupancy <= {MAX_OCC}")
    print(f"time ours (Erlang C)           {t_ours:.3f} s  (best of 5)")
    print(f"ours provably minimal          {int(minimal.sum()):,} / {n:,}")

    bad = int((~minimal).sum())
    try:
        from importlib.metadata import version

        from pyworkforce.queuing import ErlangC
        pw_version = version("pyworkforce")
    except ImportError:
        ErlangC = None

    if ErlangC is None:
        print("time pyworkforce               not installed (pip install -e '.[bench]')")
        print("ratio                          n/a")
    else:
        pilot_idx = rng.choice(n, size=min(PILOT, n), replace=False)
        _, t_pilot = pyworkforce_run(ErlangC, calls[pilot_idx])
        predicted = t_pilot / len(pilot_idx) * n
        if predicted <= args.max_pyworkforce_s:
            idx, how = np.arange(n), "measured on all intervals"
        else:
            idx = np.sort(rng.choice(n, size=min(SUBSET, n), replace=False))
            how = (f"EXTRAPOLATED per interval from {len(idx):,} random intervals; "
                   f"pilot predicted {predicted:.0f} s for all")
        p, t_sub = pyworkforce_run(ErlangC, calls[idx])
        t_pw = t_sub / len(idx) * n
        ratio = t_pw / t_ours

        c, qi = calls[idx], q[idx]
        failed = p < 0
        ok = ~failed
        agree = ok & (p == qi)
        diff = ok & (p != qi)
        mini = minimal[idx]
        over = diff & (p == qi + 1) & mini & (verdict(c, p - 1) == 1)
        under = diff & (p == qi - 1) & mini & (verdict(c, p) == -1)
        other = diff & ~over & ~under
        bad += int(other.sum())

        print(f"time pyworkforce {pw_version:<13} {t_pw:.3f} s  ({how})")
        print(f"ratio                          {ratio:.0f}x   target >= 200x met: "
              f"{'yes' if ratio >= 200 else 'no'}")
        print(f"compared intervals             {len(idx):,}")
        print(f"  agree                        {int(agree.sum()):,}")
        print(f"  pyworkforce overstaffs by 1  {int(over.sum()):,}  (provably: its n - 1 meets "
              f"every target)")
        print(f"  pyworkforce understaffs by 1 {int(under.sum()):,}  (provably: its n misses a target)")
        print(f"  other disagreements          {int(other.sum()):,}")
        print(f"  pyworkforce failed (errors)  {int(failed.sum()):,}")
        if other.any():
            for i in np.flatnonzero(other)[:5]:
                print(f"    calls={c[i]} ours={qi[i]} pyworkforce={p[i]}")

    print(f"time ours Erlang A (patience {PATIENCE_S} s, same intervals)  {t_erlang_a:.3f} s")
    print(f"time ours 1,000,000-interval batch (Erlang C)     {t_big:.3f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
