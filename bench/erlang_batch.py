"""Time and memory of `staffing erlang --input` on a large batch (Erlang C), against the
previous way of doing it measured in the same run: the cell-by-cell reader and pandas' to_csv.

Each run is a fresh interpreter (imports included); CPU time (user + system) of that process,
its peak resident memory, and wall time; medians of `--repeat` runs (default 3).

Usage: python bench/erlang_batch.py [rows] [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
RUN = """
import sys
sys.path.insert(0, {root!r})
from staffing import erlang_report
from staffing.results import files
if {baseline}:
    erlang_report._read_fast = lambda src, defaults: None
    files.write_csv = lambda frame, path: frame.to_csv(
        path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
from staffing.cli import main
sys.exit(main(["erlang", "--input", {src!r}, "--output", {dst!r}]))
"""


def _batch(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    pd.DataFrame({"id": np.arange(rows), "calls": rng.uniform(0, 400, rows).round(1),
                  "aht_s": rng.uniform(60, 600, rows).round(0)}).to_csv(path, index=False)


def _run(code: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) of a child interpreter running code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    _, status, usage = __import__("os").wait4(proc.pid, 0)
    assert status == 0, status
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "batch.csv"
        _batch(src, a.rows)
        out = {}
        for name, baseline in (("cell reader + pandas to_csv", True), ("this version", False)):
            code = RUN.format(root=str(HERE), baseline=baseline, src=str(src),
                              dst=str(Path(tmp) / f"out-{baseline}.csv"))
            out[name] = [_run(code) for _ in range(a.repeat)]
    print(f"staffing erlang --input, {a.rows:,} rows, Erlang C, median of {a.repeat}")
    base_cpu = statistics.median(c for _, c, _ in out["cell reader + pandas to_csv"])
    for name, runs in out.items():
        wall, cpu, mb = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name:28s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {mb:6.0f} MB  "
              f"cpu x{base_cpu / cpu:4.1f}")


if __name__ == "__main__":
    main()
