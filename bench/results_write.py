"""Time writing a 52-week run's outputs: plan.xlsx (write-only openpyxl), CSV and Parquet.

52 weeks x 7 days x 28 half-hour slots x 5 plateaux x 9 providers allocation rows (458,640),
plus coverage / requirements per plateau and slot. Baseline in the same run: writing the same
tables as CSV. Usage: python bench/results_write.py [weeks]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from synthetic_run import make_manifest, make_tables  # noqa: E402

from staffing import results  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(weeks: int = 52) -> None:
    tables = make_tables(weeks=weeks, n_plateaux=5, n_providers=9)
    manifest = make_manifest()
    rows = {t: len(df) for t, df in tables.items()}
    print(f"weeks={weeks} rows: " + ", ".join(f"{t}={n:,}" for t, n in rows.items()))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        t_csv = timed(lambda: [results.write_table_csv(df, d / f"{t}.csv", table=t) for t, df in tables.items()])
        print(f"csv (baseline)   {t_csv:7.2f} s")
        if results.have_pyarrow():
            t_pq = timed(lambda: [results.write_table_parquet(df, d / f"{t}.parquet", table=t)
                                  for t, df in tables.items()])
            print(f"parquet          {t_pq:7.2f} s   ratio to csv {t_pq / t_csv:5.2f}")
        t_x = timed(lambda: results.write_workbook(d / "plan.xlsx", tables, manifest))
        size = (d / "plan.xlsx").stat().st_size / 1e6
        print(f"plan.xlsx        {t_x:7.2f} s   ratio to csv {t_x / t_csv:5.2f}   {size:.1f} MB")
        t_l = timed(lambda: results.load(d, format="csv"))
        print(f"load csv folder  {t_l:7.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 52)
