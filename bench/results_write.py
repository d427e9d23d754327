"""Time writing a 52-week run's outputs: plan.xlsx, CSV and Parquet; CPU time beside wall time.

52 weeks x 7 days x 28 half-hour slots x 5 plateaux x 9 providers allocation rows (458,640),
plus coverage / requirements per plateau and slot. Baseline in the same run: writing the same
tables as CSV. With `--baseline DIR` (a checkout of an earlier version, e.g. `git worktree add
/tmp/base main`), that version's plan.xlsx writer is timed too, in a subprocess, on the same
tables, and the ratio printed. Each figure is the median of `--repeat` runs (default 3).

Usage: python bench/results_write.py [weeks] [--repeat N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))

from synthetic_run import make_manifest, make_tables  # noqa: E402

from staffing import results  # noqa: E402

# Columns renamed since the baseline: its writer gets the tables under their old names.
OLD_NAMES = {"allocation": {"logged_agents": "agents"}, "coverage": {"answering_agents": "staffed_agents"},
             "diagnostics": {"answering_agents": "staffed_agents"},
             "providers": {"logged_hours": "staffed_hours", "answering_share": "share"}}

_CHILD = """
import pickle, sys, time, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from staffing import results
tables, manifest = pickle.load(open(sys.argv[2], "rb"))
with tempfile.TemporaryDirectory() as d:
    w, c = time.perf_counter(), time.process_time()
    results.write_workbook(Path(d) / "plan.xlsx", tables, manifest)
    print(time.perf_counter() - w, time.process_time() - c)
"""


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `repeat` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def baseline_xlsx(src: Path, tables, manifest, repeat: int) -> tuple[float, float]:
    import pickle
    old = {t: df.drop(columns=[c for c in ("weekday", "week") if c in df.columns])
           .rename(columns=OLD_NAMES.get(t, {})) for t, df in tables.items()}
    with tempfile.NamedTemporaryFile(suffix=".pkl") as f:
        pickle.dump((old, manifest), f)
        f.flush()
        runs = [subprocess.run([sys.executable, "-c", _CHILD, str(src), f.name], capture_output=True, text=True,
                               check=True).stdout.split() for _ in range(repeat)]
    return statistics.median(float(r[0]) for r in runs), statistics.median(float(r[1]) for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("weeks", nargs="?", type=int, default=52)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None)
    a = ap.parse_args()
    tables = results.add_calendar(make_tables(weeks=a.weeks, n_plateaux=5, n_providers=9))
    manifest = make_manifest()
    rows = {t: len(df) for t, df in tables.items()}
    print(f"weeks={a.weeks} rows: " + ", ".join(f"{t}={n:,}" for t, n in rows.items()))
    print(f"{'':24}{'wall s':>8}{'cpu s':>8}{'cpu / csv':>11}")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        csv = timed(lambda: [results.write_table_csv(df, d / f"{t}.csv", table=t) for t, df in tables.items()],
                    a.repeat)
        print(f"{'csv (baseline)':24}{csv[0]:8.2f}{csv[1]:8.2f}{1:11.2f}")
        if results.have_pyarrow():
            pq = timed(lambda: [results.write_table_parquet(df, d / f"{t}.parquet", table=t)
                                for t, df in tables.items()], a.repeat)
            print(f"{'parquet':24}{pq[0]:8.2f}{pq[1]:8.2f}{pq[1] / csv[1]:11.2f}")
        x = timed(lambda: results.write_workbook(d / "plan.xlsx", tables, manifest), a.repeat)
        size = (d / "plan.xlsx").stat().st_size / 1e6
        print(f"{'plan.xlsx':24}{x[0]:8.2f}{x[1]:8.2f}{x[1] / csv[1]:11.2f}   {size:.1f} MB")
        if a.baseline:
            b = baseline_xlsx(a.baseline, tables, manifest, a.repeat)
            print(f"{'plan.xlsx, baseline':24}{b[0]:8.2f}{b[1]:8.2f}{b[1] / csv[1]:11.2f}   "
                  f"(this version / baseline: cpu {x[1] / b[1]:.2f}, wall {x[0] / b[0]:.2f})")
        ld = timed(lambda: results.load(d, format="csv"), a.repeat)
        print(f"{'load csv folder':24}{ld[0]:8.2f}{ld[1]:8.2f}")


if __name__ == "__main__":
    main()
