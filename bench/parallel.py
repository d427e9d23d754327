"""Time the local engines of staffing.parallel: the standard-library process pool it uses, and a
Dask LocalCluster (two single-threaded worker processes) doing the same jobs; CPU time of this
process beside wall time, median of `--repeat` runs (default 3). The jobs are trivial, so the
figures are the fixed cost each engine adds to every command.

Usage: python bench/parallel.py [--jobs N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

POOL = """
from staffing.parallel import run_jobs
assert run_jobs(abs, list(range({jobs})), 2) == list(range({jobs}))
"""
DASK = """
from distributed import Client, LocalCluster
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None) as cluster, Client(cluster) as client:
    assert client.gather(client.map(abs, range({jobs}))) == list(range({jobs}))
"""


def _time(code: str) -> tuple[float, float]:
    """(wall s, CPU s of the process and its children) of a fresh interpreter running code."""
    t0 = time.perf_counter()
    before = _children_cpu()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - before


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    base = [_time("pass") for _ in range(a.repeat)]
    rows = {"python alone": base,
            "process pool": [_time(POOL.format(jobs=a.jobs)) for _ in range(a.repeat)],
            "dask LocalCluster": [_time(DASK.format(jobs=a.jobs)) for _ in range(a.repeat)]}
    pool_wall = statistics.median(w for w, _ in rows["process pool"])
    print(f"{a.jobs} trivial jobs in a fresh interpreter, median of {a.repeat}")
    for name, runs in rows.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:20s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  x{wall / pool_wall:5.1f} of the pool")


if __name__ == "__main__":
    main()
