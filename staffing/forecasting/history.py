"""Call history: read a table of calls per interval, check it, aggregate it to planning slots.

A history table has one row per (plateau,) interval: `slot_start` (local wall-clock date-time,
or offset-aware, then read as its own wall clock), `calls` (calls offered, >= 0), and optionally
`plateau` and `aht_s` (mean full handle time of the interval's calls, s). CSV (comma, or the
French `;` with decimal commas), xlsx (first sheet) or Parquet. The interval is the smallest
gap between two starts of a day; it must divide the target slot, so that 5-minute history sums
exactly into 30-minute slots (aht_s is averaged weighted by calls).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import tables
from ..errors import InputError

HISTORY_COLUMNS = ["plateau", "slot_start", "calls", "aht_s"]


def read_frame(path: str | Path) -> pd.DataFrame:
    """Raw table of a CSV, xlsx or Parquet file (all cells as read; CSV cells as text).

    CSV and xlsx go through the input-table reader (staffing.tables.read_frame): UTF-8 or
    Windows-1252, `,` or French `;` with decimal commas, bounded size, no uncomputed formulas.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        return tables.read_frame(path)
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(f"cannot read table: {exc}".splitlines()[0], file=str(path)) from None
    raise InputError("tables must be .csv, .xlsx or .parquet", file=str(path))


def _numbers(df: pd.DataFrame, col: str, path, low_open: bool) -> np.ndarray:
    raw = df[col]
    x = pd.to_numeric(raw.map(lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v),
                      errors="coerce")
    bad = x.isna() & raw.notna() | ~np.isfinite(x.fillna(0)) | (x <= 0 if low_open else x < 0)
    if col == "calls":
        bad |= raw.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"'{raw.iloc[i]}' is not a number {'> 0' if low_open else '>= 0'}",
                         file=str(path), row=i + 2, field=col)
    return x.to_numpy(float)


def parse_times(values: pd.Series, path, field: str = "slot_start") -> pd.Series:
    """Naive wall-clock datetime64 of ISO texts or datetimes; offset-aware ones keep their wall clock."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return out.astype("datetime64[ns]")
    text = values.astype(str).str.strip()
    wall = text.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
    out = pd.to_datetime(wall, errors="coerce", format="ISO8601")
    bad = out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"'{values.iloc[i]}' is not a date-time YYYY-MM-DD HH:MM", file=str(path),
                         row=i + 2, field=field)
    return out.astype("datetime64[ns]")


def load_history(path: str | Path, plateau: str | None = None) -> pd.DataFrame:
    """History rows (plateau, slot_start, calls, aht_s) sorted; aht_s NaN where not given.

    Raises InputError (file, row, field) for a missing column, a bad value or a duplicate slot.
    """
    df = read_frame(path)
    df.columns = [str(c).strip() for c in df.columns]
    for col in ("slot_start", "calls"):
        if col not in df.columns:
            known = ("slot_start", "calls", "plateau", "aht_s")
            raise InputError(tables.missing_column(col, df.columns, known), file=str(path),
                             row=1, field=col)
    out = pd.DataFrame({"slot_start": parse_times(df["slot_start"], path)})
    if "plateau" in df.columns:
        out["plateau"] = df["plateau"].astype(str).str.strip()
        if plateau is not None:
            out = out[out["plateau"] == plateau]
            if out.empty:
                raise InputError(f"no rows for plateau '{plateau}'", file=str(path), field="plateau")
    else:
        out["plateau"] = plateau or "all"
    out["calls"] = _numbers(df, "calls", path, False)[out.index]
    out["aht_s"] = (_numbers(df, "aht_s", path, False)[out.index] if "aht_s" in df.columns
                    else np.nan)
    dup = out.duplicated(["plateau", "slot_start"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"duplicate slot {out['slot_start'].iloc[i]:%Y-%m-%d %H:%M}",
                         file=str(path), row=int(out.index[i]) + 2, field="slot_start")
    if out.empty:
        raise InputError("no rows", file=str(path))
    return out.sort_values(["plateau", "slot_start"]).reset_index(drop=True)[HISTORY_COLUMNS]


def interval_minutes(history: pd.DataFrame) -> int:
    """The history's interval: the smallest gap between two starts on the same day (minutes)."""
    gaps = []
    for _, rows in history.groupby("plateau"):
        s = rows["slot_start"]
        d = s.diff()[s.dt.normalize() == s.dt.normalize().shift()]
        if len(d):
            gaps.append(d.min())
    if not gaps:
        minute = history["slot_start"].dt.hour * 60 + history["slot_start"].dt.minute
        return int(np.gcd.reduce(np.append(minute.to_numpy(int), 1440)))
    return int(min(gaps).total_seconds() // 60)


def aggregate(history: pd.DataFrame, slot_minutes: int, path=None) -> pd.DataFrame:
    """Sum calls into slots of `slot_minutes`; aht_s weighted by calls. Interval must divide it."""
    step = interval_minutes(history)
    if step <= 0 or slot_minutes % step:
        raise InputError(f"the history's {step}-minute interval does not divide the "
                         f"{slot_minutes}-minute slot", file=str(path) if path else None,
                         field="slot_start")
    minute = history["slot_start"].dt.hour * 60 + history["slot_start"].dt.minute
    if (minute % step).any():
        raise InputError(f"slot starts are not on a {step}-minute grid",
                         file=str(path) if path else None, field="slot_start")
    h = history.assign(slot_start=history["slot_start"].dt.floor(f"{slot_minutes}min"),
                       work=history["calls"] * history["aht_s"],
                       timed=np.where(history["aht_s"].notna(), history["calls"], 0.0))
    g = h.groupby(["plateau", "slot_start"], sort=True).agg(
        calls=("calls", "sum"), work=("work", "sum"), timed=("timed", "sum"))
    g["aht_s"] = g["work"] / g["timed"].where(g["timed"] > 0)
    return g.reset_index()[HISTORY_COLUMNS]
