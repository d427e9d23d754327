"""Tables and their formats: the dtype schema every reader and writer shares, Excel number formats
by column name, and the calendar columns (weekday, horizon week) of the tidy tables.

Words: `logged` agents or hours are at work (paid time on the phone system, before shrinkage);
`answering` agents are those left after shrinkage and the provider's AHT factor (what the
queueing model sees). Every column that counts people or hours says which.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

from ..errors import InputError

SCHEMA_VERSION = 1
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
WORKBOOK_NAME = "plan.xlsx"
MANIFEST_NAME = "manifest.json"

TABLE_ORDER = ("demand", "requirements", "allocation", "coverage", "shifts", "tours", "rosters", "providers",
               "regimes", "sweep", "summary", "diagnostics")

# Column kinds: datetime (datetime64[ns]), date (datetime64[ns] at midnight), time
# (datetime.time objects), int (int64), float (float64), str (text, or categories of text in
# memory), bool.
_S, _DT, _I, _F = "str", "datetime", "int", "float"
_SLOT = {"scenario": _S, "slot_start": _DT, "fold": _I, "weekday": _S, "week": _I, "slot_minutes": _I,
         "plateau": _S}
SCHEMA: dict[str, dict[str, str]] = {
    "requirements": {**_SLOT, "calls": _F, "aht_s": _F, "live_aht_s": _F, "load_erlangs": _F, "agents": _I,
                     "scheduled": _I, "service_level": _F, "asa_s": _F, "occupancy": _F,
                     "p_wait": _F, "p_abandon": _F},
    "allocation": {**_SLOT, "provider": _S, "kind": _S, "logged_agents": _F},
    "demand": {"scenario": _S, "plateau": _S, "slot_start": _DT, "calls": _F, "aht_s": _F},
    "coverage": {**_SLOT, "calls": _F, "aht_s": _F, "live_aht_s": _F, "callback_calls": _F, "required_agents": _I,
                 "answering_agents": _F, "shortfall_agents": _F, "sl_target": _F,
                 "service_level": _F, "asa_s": _F, "occupancy": _F, "p_abandon": _F},
    "shifts": {"scenario": _S, "date": "date", "weekday": _S, "week": _I, "provider": _S, "plateau": _S, "shift": _S,
               "start": "time", "end": "time", "break_start": "time", "paid_hours": _F,
               "advisers": _F},
    "tours": {"scenario": _S, "week": _I, "provider": _S, "plateau": _S, "tour": _S,
              "advisers": _F, "mon": _S, "tue": _S, "wed": _S, "thu": _S, "fri": _S, "sat": _S,
              "sun": _S, "paid_hours": _F},
    "rosters": {"scenario": _S, "adviser": _S, "team": _S, "contract": _S, "date": "date",
                "weekday": _S, "week": _I,
                "shift_start": _DT, "shift_end": _DT, "break_start": _DT, "break_end": _DT,
                "plateau": _S, "paid_hours": _F},
    "providers": {"scenario": _S, "provider": _S, "kind": _S, "site": _S, "logged_hours": _F,
                  "paid_hours": _F, "cost_eur": _F, "answering_share": _F},
    "summary": {"scenario": _S, "metric": _S, "value": _F, "unit": _S},
    "diagnostics": {"scenario": _S, "date": "date", "plateau": _S, "slot_start": _DT,
                    "required_agents": _F, "answering_agents": _F, "missing_agents": _F,
                    "short_slots": _I, "missing_agent_hours": _F, "binding": _S,
                    "extra_advisers": _F, "extra_seats": _F, "problem": _S},
    "simulation": {"scenario": _S, "slot_start": _DT, "weekday": _S, "week": _I, "slot_minutes": _I,
                   "plateau": _S, "calls_offered": _F, "answering_agents": _I, "sl_sim_mean": _F,
                   "sl_sim_lo95": _F, "sl_sim_hi95": _F, "asa_sim_s": _F, "abandon_sim": _F,
                   "occupancy_sim": _F, "sl_erlang": _F, "p_abandon_erlang": _F, "sl_target": _F,
                   "within_2pp": "bool", "meets_target_2pp": "bool"},
}
_NAME_KINDS = {"scenario": _S, "plateau": _S, "provider": _S, "kind": _S, "site": _S,
               "regime": _S, "metric": _S, "unit": _S, "shift": _S, "tour": _S, "status": _S,
               "slot_start": _DT, "date": "date", "start": "time", "end": "time",
               "slot_minutes": _I, "fold": _I, "weekday": _S, "week": _I}
_FLOAT_SUFFIXES = ("_eur", "_s", "_hours", "_agents", "_erlangs", "_share", "_calls", "_fte",
                   "_eur_per_min")
_FLOAT_NAMES = {"calls", "service_level", "occupancy", "share", "sl_target", "gap", "value"}

_STR_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(
    pd.get_option("mode.copy_on_write"))  # pandas 3: always on
_ISO_DT = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_XLSX_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,27}$")


# ---------------------------------------------------------------------------------------------
# dtype schema

def _name_kind(column: str) -> str | None:
    if column in _NAME_KINDS:
        return _NAME_KINDS[column]
    if column in _FLOAT_NAMES or column.startswith("p_") or column.endswith(_FLOAT_SUFFIXES):
        return _F
    return None


def _infer_kind(s: pd.Series) -> str:
    """Kind of a column nothing declares, from its values (deterministic for all readers)."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return _I
    if pd.api.types.is_float_dtype(s):
        return _F
    if pd.api.types.is_datetime64_any_dtype(s):
        return _DT
    values = [v for v in s.tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return _F
    if all(isinstance(v, dt.time) for v in values):
        return "time"
    if all(isinstance(v, (dt.datetime, dt.date, pd.Timestamp)) for v in values):
        return _DT
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return "bool"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
           for v in values):
        return _I if all(float(v).is_integer() for v in values) else _F
    if all(isinstance(v, str) for v in values):
        if all(_ISO_DT.match(v) for v in values):
            return _DT
        if all(_ISO_TIME.match(v) for v in values):
            return "time"
    return _S


def column_kinds(table: str, df: pd.DataFrame, declared: dict[str, str] | None = None) -> dict[str, str]:
    """Kind of every column: the schema, then `declared` (manifest), then name, then values."""
    schema, declared = SCHEMA.get(table, {}), declared or {}
    return {c: schema.get(c) or declared.get(c) or _name_kind(c) or _infer_kind(df[c])
            for c in df.columns}


def _to_time(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, dt.datetime):
        return v.time()
    if isinstance(v, dt.time):
        return v
    if isinstance(v, (dt.timedelta, pd.Timedelta, np.timedelta64)):
        secs = pd.Timedelta(v).total_seconds() % 86400
        return (dt.datetime(2000, 1, 1) + dt.timedelta(seconds=secs)).time()
    if isinstance(v, str):
        v = v.strip()
        if _ISO_TIME.match(v):
            h, rest = v.split(":", 1)
            return dt.time.fromisoformat(f"{int(h):02d}:{rest}")
        return pd.Timestamp(v).time()
    if isinstance(v, (int, float, np.floating, np.integer)):  # Excel fraction of a day
        return (dt.datetime(2000, 1, 1) + dt.timedelta(seconds=round(float(v) % 1 * 86400))).time()
    raise ValueError(f"not a time: {v!r}")


def _to_float(s: pd.Series) -> pd.Series:
    if s.dtype == object or not pd.api.types.is_numeric_dtype(s):
        s = s.map(lambda v: math.inf if v == "#NUM!" else (None if v in _XLSX_ERRORS or v == "" else v))
    return pd.to_numeric(s, errors="raise").astype("float64")


def _coerce(s: pd.Series, kind: str) -> pd.Series:
    if kind == _F:
        return _to_float(s)
    if kind == _I:
        if s.dtype == np.int64:
            return s  # (a large table's int column: not copied twice through float)
        f = _to_float(s)
        ok = f.notna().all() and np.isfinite(f).all() and (f == np.round(f)).all()
        return f.astype("int64") if ok else f
    if kind in (_DT, "date"):
        if not pd.api.types.is_datetime64_any_dtype(s):
            s = s.map(lambda v: None if isinstance(v, str) and not v else v)
            s = pd.to_datetime(s, format="ISO8601") if s.map(type).eq(str).any() else pd.to_datetime(s)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        s = s.astype("datetime64[ns]")
        if kind == "date":
            v = s.to_numpy()  # (dates at midnight already: kept, not copied)
            at_midnight = (v.view(np.int64) % (86_400 * 10**9) == 0) | np.isnat(v)
            return s if at_midnight.all() else s.dt.normalize()
        return s
    if kind == "time":
        return pd.Series([_to_time(v) for v in s.tolist()], index=s.index, dtype=object)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s):
            return s.astype(bool)
        return s.map(lambda v: v if isinstance(v, (bool, np.bool_)) else
                     str(v).strip().lower() in ("true", "1")).astype(bool)
    # str: numbers that are ids come back from CSV as int; keep their text form
    if (isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.categories.inferred_type == "string"
            and not (s.dtype.categories == "").any()):
        return s  # text as categories (a large table's ids, teams, plateaux): kept so
    if s.dtype != object and pd.api.types.is_string_dtype(s.dtype):  # text or missing already
        s = s.astype(_STR_DTYPE)
        empty = s == ""
        return s.mask(empty) if empty.any() else s  # (no copy of a column without "")
    def text(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or v == "":
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)
    return pd.Series([text(v) for v in s.tolist()], index=s.index, dtype=_STR_DTYPE)


def normalise_table(table: str, df: pd.DataFrame, declared: dict[str, str] | None = None) -> pd.DataFrame:
    """The table with the documented dtype of every column (whatever format it was read from)."""
    kinds = column_kinds(table, df, declared)
    out = {}
    for col, kind in kinds.items():
        try:
            out[col] = _coerce(df[col], kind)
        except (ValueError, TypeError) as exc:
            fallback = _infer_kind(df[col])
            if fallback == kind:
                raise InputError(f"cannot read as {kind}: {exc}", file=table, field=col) from exc
            out[col] = _coerce(df[col], fallback)
    # with copy-on-write, columns already of their dtype are shared with `df`, not copied (a
    # year's rosters table is ~100 MB): either frame's later changes stay its own
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), copy=not _COPY_ON_WRITE)


# ---------------------------------------------------------------------------------------------
# calendar columns

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_CALENDAR = {"demand"}  # in the forecast input's own format, read back by `forecast` and optimise
_CAL_AFTER = ("fold", "slot_start", "date")


def add_calendar(tables: dict[str, pd.DataFrame], start=None) -> dict[str, pd.DataFrame]:
    """Tables with `weekday` (Mon..Sun) and `week` (horizon week: 1 for the 7 days from `start`,
    as in the tours table) after their slot_start / fold or date column; not `demand`, which keeps
    the forecast input's format.

    `start` defaults to the earliest day in the tables. Tables without such a column, or that
    already have both, are returned unchanged. Raises nothing.
    """
    def when(df):
        col = "slot_start" if "slot_start" in df.columns else "date" if "date" in df.columns else None
        return None if col is None else pd.to_datetime(df[col])

    stamps = [w for w in (when(df) for df in tables.values()) if w is not None and len(w)]
    if start is None:
        if not stamps:
            return dict(tables)
        start = min(w.min() for w in stamps)
    start = pd.Timestamp(start).normalize()
    out = {}
    for name, df in tables.items():
        w = when(df)
        if w is None or name in NO_CALENDAR or {"weekday", "week"} <= set(df.columns):
            out[name] = df
            continue
        df = df.copy(deep=False)  # copy-on-write: the new columns are this frame's alone
        at = 1 + max(df.columns.get_loc(c) for c in _CAL_AFTER if c in df.columns)
        day = w.dt.normalize()
        names = np.asarray(WEEKDAYS, dtype=object)[w.dt.day_of_week.to_numpy(dtype="int64")]
        df.insert(at, "weekday", pd.Series(names, index=df.index, dtype=object))
        df.insert(at + 1, "week", (((day - start).dt.days // 7) + 1).astype("int64"))
        out[name] = df
    return out


# ---------------------------------------------------------------------------------------------
# number formats

FMT_EUR = '#,##0 "€"'
FMT_EUR_CENTS = '#,##0.00 "€"'
FMT_PCT = "0.0%"
FMT_DT, FMT_DATE, FMT_TIME = "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "hh:mm"
FMT_INT, FMT_1 = "#,##0", "#,##0.0"
_SHARE_NAMES = {"service_level", "occupancy", "share", "sl_target", "gap", "offshore_cap"}


def is_share(column: str) -> bool:
    """A fraction shown as a percentage (service levels, occupancy, shares, probabilities)."""
    c = column.lower()
    return (c in _SHARE_NAMES or c.startswith("p_") or c.endswith("_share") or c.endswith(" share")
            or c.startswith("sl_") or c.endswith("sl_target") or c.startswith("share_") or c.startswith("abandon")
            or c.startswith("occupancy") or c.endswith("service level") or c.endswith("sl target")
            or c.endswith(" occupancy") or c.endswith(" abandonment"))


def number_format(column: str, kind: str, values: pd.Series | None = None) -> str | None:
    """Excel number format for a column, by naming convention (None: General).

    Agents are whole (#,##0) when every value in `values` is a whole number, else to a tenth;
    answering agents (after shrinkage) always to a tenth."""
    if kind == _DT:
        return FMT_DT
    if kind == "date":
        return FMT_DATE
    if kind == "time":
        return FMT_TIME
    if kind not in (_I, _F):
        return None
    c = column.lower()
    if c.endswith("_per_call_eur") or c.endswith("_eur_per_min") or c.endswith("per_customer_eur_year"):
        return FMT_EUR_CENTS
    if c.endswith("_eur") or c.endswith("_eur_year") or c.endswith(" eur"):
        return FMT_EUR
    if is_share(c):
        return FMT_PCT
    if kind == _I:
        return FMT_INT
    if c.endswith("_s") or c.endswith("_erlangs"):
        return "0.0"
    if "agents" in c or c in ("advisers", "scheduled"):
        if "answering" in c or values is None:
            return FMT_1
        v = values.to_numpy(dtype=float, na_value=np.nan)
        v = v[np.isfinite(v)]
        return FMT_INT if np.array_equal(v, np.round(v)) else FMT_1
    if c.endswith("hours") or "calls" in c:
        return FMT_1 if "hours" in c else FMT_INT
    if c == "customers":
        return FMT_INT
    return None


def width(header: str, kind: str, s: pd.Series) -> float:
    """Column width in characters: wide enough for the header (it wraps at two lines) and values."""
    base = {_DT: 16, "date": 11, "time": 7, _I: 9, _F: 11, "bool": 7}.get(kind)
    if kind in (_I, _F) and len(s):  # the largest value as its format shows it: 354,036,617 €
        v = pd.to_numeric(s, errors="coerce").abs()
        v = v[np.isfinite(v)]
        if len(v):
            fmt = number_format(header, kind) or ""
            digits = len(f"{float(v.max()):,.0f}")
            base = max(base, digits + (2 if "€" in fmt else 0) + (3 if ".00" in fmt else 2 if ".0" in fmt else 0))
    if base is None:
        sample = s.head(2000).dropna().astype(str)
        base = int(sample.str.len().max()) if len(sample) else 8
    return float(min(max(base, len(header) * 0.6, 6) + 2, 50))


def ordered(tables: dict) -> list[str]:
    known = [t for t in TABLE_ORDER if t in tables]
    return known + [t for t in tables if t not in known]
