"""A call-detail log (one row per call) read into one tidy frame, whatever its layout.

The default layout has the columns `arrival` (date-time the call asks for an agent), `plateau`,
`wait_s` (seconds in queue), `outcome` (`answered` or `abandoned`), `handle_s` (full handle time
of an answered call, s) and optionally `agent`. A map file (TOML; `--map NAME` finds a packaged
map in staffing/data/maps) renames them: [columns] gives the log's column for each name, plus an
optional `date` column when arrival holds only a time of day; [formats] the strptime formats of
`date` and `arrival`; [outcomes] the log's codes for answered and abandoned calls. Rows with any
other outcome code are dropped and counted.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .history import read_frame

FIELDS = ("arrival", "plateau", "wait_s", "outcome", "handle_s", "agent", "date")
REQUIRED = ("arrival", "wait_s", "outcome")


@dataclasses.dataclass
class LogMap:
    """Columns, formats and outcome codes of a call-log layout."""

    columns: dict
    formats: dict
    answered: tuple
    abandoned: tuple


DEFAULT_MAP = LogMap(columns={f: f for f in FIELDS if f != "date"}, formats={}, answered=("answered",),
                     abandoned=("abandoned",))


def load_map(path_or_name: str | None) -> LogMap:
    """The map file's layout (a path, or the name of a packaged map); the default layout if None."""
    if path_or_name is None:
        return DEFAULT_MAP
    path = Path(path_or_name)
    if not path.is_file():
        packaged = Path(__file__).resolve().parent.parent / "data" / "maps" / f"{path_or_name}.toml"
        if not packaged.is_file():
            raise InputError("map file not found", file=str(path))
        path = packaged
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a TOML file: {exc}", file=str(path)) from None
    cols = data.get("columns", {})
    for key in cols:
        if key not in FIELDS:
            raise InputError(f"unknown name '{key}' (expected {', '.join(FIELDS)})", file=str(path),
                             field=f"columns.{key}")
    out = data.get("outcomes", {})
    return LogMap(columns={**{f: f for f in FIELDS if f != "date"}, **cols},
                  formats=data.get("formats", {}),
                  answered=tuple(str(x) for x in out.get("answered", ["answered"])),
                  abandoned=tuple(str(x) for x in out.get("abandoned", ["abandoned"])))


def read_log(path: str | Path, layout: LogMap) -> tuple[pd.DataFrame, int]:
    """Calls (arrival, plateau, wait_s, answered, abandoned, handle_s, agent) and rows dropped.

    Raises InputError naming the file, row and column of the first bad value.
    """
    raw = read_frame(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    col = layout.columns
    for f in REQUIRED + (("date",) if "date" in col else ()):
        if col.get(f) not in raw.columns:
            raise InputError(f"missing column '{col.get(f)}' (the {f} column)", file=str(path),
                             row=1, field=col.get(f))
    code = raw[col["outcome"]].astype(str).str.strip()
    answered = code.isin(layout.answered).to_numpy()
    abandoned = code.isin(layout.abandoned).to_numpy()
    keep = answered | abandoned
    df = raw[keep].reset_index(drop=True)
    out = pd.DataFrame({"arrival": _arrival(df, layout, path, np.flatnonzero(keep))})
    out["plateau"] = (df[col["plateau"]].astype(str).str.strip() if col.get("plateau") in df.columns
                      else "all")
    out["wait_s"] = _seconds(df, col["wait_s"], path, np.flatnonzero(keep))
    out["answered"], out["abandoned"] = answered[keep], abandoned[keep]
    out["handle_s"] = (_seconds(df, col["handle_s"], path, np.flatnonzero(keep), blank_ok=True)
                       if col.get("handle_s") in df.columns else np.nan)
    out.loc[~out["answered"], "handle_s"] = np.nan
    agent = df[col["agent"]] if col.get("agent") in df.columns else pd.Series(np.nan, index=df.index)
    out["agent"] = agent.where(agent.notna() & (agent.astype(str).str.strip() != ""))
    return out, int((~keep).sum())


def _arrival(df, layout: LogMap, path, rows) -> pd.Series:
    col, fmt = layout.columns, layout.formats
    text = df[col["arrival"]].astype(str).str.strip()
    if "date" in col:
        day = pd.to_datetime(df[col["date"]].astype(str).str.strip(), format=fmt.get("date"),
                             errors="coerce")
        _first_bad(day.isna(), df[col["date"]], path, rows, col["date"])
        clock = pd.to_timedelta(text, errors="coerce")
        _first_bad(clock.isna(), text, path, rows, col["arrival"])
        return day + clock
    when = pd.to_datetime(text, format=fmt.get("arrival", "ISO8601"), errors="coerce")
    _first_bad(when.isna(), text, path, rows, col["arrival"])
    return when


def _seconds(df, name, path, rows, blank_ok=False) -> np.ndarray:
    """Seconds >= 0; blank cells are NaN where allowed (handle time of unanswered calls)."""
    if name not in df.columns:
        raise InputError(f"missing column '{name}'", file=str(path), row=1, field=name)
    x = pd.to_numeric(df[name], errors="coerce")
    blank = df[name].isna() | (df[name].astype(str).str.strip() == "")
    bad = (x.isna() & ~(blank if blank_ok else False)) | (x < 0)
    _first_bad(bad, df[name], path, rows, name, "is not a number of seconds >= 0")
    return x.to_numpy(float)


def _first_bad(bad: pd.Series, values, path, rows, field, what="cannot be read"):
    if bad.any():
        i = int(np.flatnonzero(np.asarray(bad))[0])
        raise InputError(f"'{values.iloc[i]}' {what}", file=str(path), row=int(rows[i]) + 2,
                         field=field)
