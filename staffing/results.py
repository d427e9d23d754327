"""Run outputs: tidy tables as CSV / Parquet, the planners' workbook plan.xlsx, manifest.json.

Every file is written to a temporary name and renamed into place; `write_run` builds a whole
run folder beside its destination and renames it in one step, so a run folder exists complete
or not at all. `load()` reads any of the formats back into the same pandas frames: all three
readers go through `normalise_table`, one dtype schema keyed by table and column name.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import InputError

SCHEMA_VERSION = 1
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
WORKBOOK_NAME = "plan.xlsx"
MANIFEST_NAME = "manifest.json"

# Sheets of plan.xlsx that are not tables; a table may not take these names.
SUMMARY_SHEET, STAFFING_SHEET, CHARTS_SHEET, MANIFEST_SHEET = "Summary", "staffing", "charts", "manifest"
# Excel sheet names are case-insensitive: the `summary` table cannot share "Summary".
TABLE_SHEET = {"summary": "summary_table"}
RESERVED_SHEETS = {SUMMARY_SHEET.lower(), STAFFING_SHEET, CHARTS_SHEET, MANIFEST_SHEET}
SHEET_TABLE = {sheet: table for table, sheet in TABLE_SHEET.items()}
TABLE_ORDER = ("demand", "requirements", "allocation", "coverage", "shifts", "tours", "providers",
               "regimes", "sweep", "summary", "diagnostics")

# Column kinds: datetime (datetime64[ns]), date (datetime64[ns] at midnight), time
# (datetime.time objects), int (int64), float (float64), str, bool.
_S, _DT, _I, _F = "str", "datetime", "int", "float"
_SLOT = {"scenario": _S, "slot_start": _DT, "slot_minutes": _I, "plateau": _S}
SCHEMA: dict[str, dict[str, str]] = {
    "requirements": {**_SLOT, "calls": _F, "aht_s": _F, "live_aht_s": _F, "load_erlangs": _F, "agents": _I,
                     "scheduled": _I, "service_level": _F, "asa_s": _F, "occupancy": _F,
                     "p_wait": _F, "p_abandon": _F},
    "allocation": {**_SLOT, "provider": _S, "kind": _S, "agents": _F},
    "demand": {"scenario": _S, "plateau": _S, "slot_start": _DT, "calls": _F, "aht_s": _F},
    "coverage": {**_SLOT, "calls": _F, "aht_s": _F, "live_aht_s": _F, "callback_calls": _F, "required_agents": _I,
                 "staffed_agents": _F, "shortfall_agents": _F, "sl_target": _F,
                 "service_level": _F, "asa_s": _F, "occupancy": _F, "p_abandon": _F},
    "shifts": {"scenario": _S, "date": "date", "provider": _S, "plateau": _S, "shift": _S,
               "start": "time", "end": "time", "break_start": "time", "paid_hours": _F,
               "advisers": _F},
    "tours": {"scenario": _S, "week": _I, "provider": _S, "plateau": _S, "tour": _S,
              "advisers": _F, "mon": _S, "tue": _S, "wed": _S, "thu": _S, "fri": _S, "sat": _S,
              "sun": _S, "paid_hours": _F},
    "providers": {"scenario": _S, "provider": _S, "kind": _S, "site": _S, "staffed_hours": _F,
                  "paid_hours": _F, "cost_eur": _F, "share": _F},
    "summary": {"scenario": _S, "metric": _S, "value": _F, "unit": _S},
    "diagnostics": {"scenario": _S, "slot_start": _DT, "plateau": _S, "required_agents": _F,
                    "staffed_agents": _F, "missing_agents": _F, "problem": _S},
}
_NAME_KINDS = {"scenario": _S, "plateau": _S, "provider": _S, "kind": _S, "site": _S,
               "regime": _S, "metric": _S, "unit": _S, "shift": _S, "tour": _S, "status": _S,
               "slot_start": _DT, "date": "date", "start": "time", "end": "time",
               "slot_minutes": _I}
_FLOAT_SUFFIXES = ("_eur", "_s", "_hours", "_agents", "_erlangs", "_share", "_calls", "_fte",
                   "_eur_per_min")
_FLOAT_NAMES = {"calls", "service_level", "occupancy", "share", "sl_target", "gap", "value"}

_STR_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
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
        return s.dt.normalize() if kind == "date" else s
    if kind == "time":
        return pd.Series([_to_time(v) for v in s.tolist()], index=s.index, dtype=object)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s):
            return s.astype(bool)
        return s.map(lambda v: v if isinstance(v, (bool, np.bool_)) else
                     str(v).strip().lower() in ("true", "1")).astype(bool)
    # str: numbers that are ids come back from CSV as int; keep their text form
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
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


# ---------------------------------------------------------------------------------------------
# atomic single-file writes

def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


@contextmanager
def _atomic(path: Path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _csv_frame(df: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    out = {}
    for col, kind in kinds.items():
        s = df[col]
        if kind == _DT:
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif kind == "date":
            s = s.dt.strftime("%Y-%m-%d")
        elif kind == "time":
            s = s.map(lambda t: None if t is None else t.isoformat(timespec="minutes" if not
                                                                    (t.second or t.microsecond) else "auto"))
        out[col] = s
    return pd.DataFrame(out)


def write_table_csv(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as CSV (UTF-8, ISO-8601 datetimes, '.' decimal, empty = missing)."""
    path = Path(path)
    table = table or path.stem
    df = normalise_table(table, df)
    frame = _csv_frame(df, column_kinds(table, df))
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return path


def write_table_parquet(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as Parquet (needs the optional pyarrow)."""
    _require_pyarrow()
    path = Path(path)
    df = normalise_table(table or path.stem, df)
    with _atomic(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow")
    return path


def write_manifest(manifest: dict, path) -> Path:
    path = Path(path)
    with _atomic(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return path


def _json_default(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (dt.datetime, dt.date, pd.Timestamp)):
        return v.isoformat()
    return str(v)


def have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _require_pyarrow():
    if not have_pyarrow():
        raise InputError("Parquet needs pyarrow: pip install 'staffing[parquet]'", field="format")


# ---------------------------------------------------------------------------------------------
# the workbook

_FMT_EUR = '#,##0.00 "€"'
_FMT_PCT = "0.0%"
_FMT_DT, _FMT_DATE, _FMT_TIME = "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "hh:mm"


def number_format(column: str, kind: str) -> str | None:
    """Excel number format for a column, by naming convention."""
    if kind == _DT:
        return _FMT_DT
    if kind == "date":
        return _FMT_DATE
    if kind == "time":
        return _FMT_TIME
    if kind not in (_I, _F):
        return None
    if column.endswith("_eur") or column.endswith("_eur_per_min"):
        return _FMT_EUR
    if (column in ("service_level", "occupancy", "share", "sl_target") or column.startswith("p_")
            or column.endswith("_share")):
        return _FMT_PCT
    if "agents" in column or column in ("advisers", "scheduled"):
        return "0.0"
    if column.endswith("_hours") or column.endswith("calls"):
        return "#,##0.0"
    if column.endswith("_s") or column == "load_erlangs":
        return "0.0"
    return "0" if kind == _I else None


def _width(header: str, kind: str, s: pd.Series) -> float:
    base = {_DT: 17, "date": 11, "time": 7, _I: 9, _F: 11, "bool": 7}.get(kind)
    if base is None:
        sample = s.head(2000).dropna().astype(str)
        base = int(sample.str.len().max()) if len(sample) else 8
    return float(min(max(base, len(header)) + 2, 50))


def _sheet_parts(sheet: str, n_rows: int) -> list[tuple[str, int, int]]:
    """(sheet name, first row, stop row) of each part that fits Excel's row limit."""
    per = EXCEL_MAX_ROWS - 1
    if n_rows <= per:
        return [(sheet, 0, n_rows)]
    return [(sheet if i == 0 else f"{sheet}_{i + 1}", a, min(a + per, n_rows))
            for i, a in enumerate(range(0, n_rows, per))]


def _write_data_sheet(wb, table: str, sheet: str, df: pd.DataFrame, kinds: dict[str, str], start: int,
                      stop: int) -> "_Rows":
    """A write-only sheet with its header row, widths, frozen header, autofilter and conditional
    formats; its data rows are streamed into the saved file by `_inject_rows`."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet)
    cols = list(df.columns)
    n = stop - start
    for j, col in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(j)].width = _width(col, kinds[col], df[col])
    ws.freeze_panes = "A2"
    last = get_column_letter(max(len(cols), 1))
    ws.auto_filter.ref = f"A1:{last}{n + 1}"
    bold = Font(bold=True)
    header = []
    for col in cols:
        c = WriteOnlyCell(ws, value=col)
        c.font = bold
        header.append(c)
    ws.append(header)
    styles = []
    for col in cols:
        fmt = number_format(col, kinds[col])
        if fmt:
            c = WriteOnlyCell(ws)
            c.number_format = fmt
            styles.append(c.style_id)  # registers the style in the workbook's stylesheet
        else:
            styles.append(None)
    _conditional_formatting(ws, table, cols, n)
    return _Rows(ws, df.iloc[start:stop], [kinds[c] for c in cols], styles, f"A1:{last}{n + 1}")


class _Rows:
    """Data rows of one sheet, serialised straight to SpreadsheetML (openpyxl's per-cell objects
    cost ~20 us a cell: minutes for a 52-week allocation)."""

    CHUNK = 20_000

    def __init__(self, ws, df, kinds, styles, ref):
        self.ws, self.df, self.kinds, self.styles, self.ref = ws, df, kinds, styles, ref

    def chunks(self):
        from openpyxl.utils import get_column_letter
        letters = [get_column_letter(j + 1) for j in range(self.df.shape[1])]
        n = len(self.df)
        for a in range(0, n, self.CHUNK):
            b = min(a + self.CHUNK, n)
            rows = range(a + 2, b + 2)
            cols = [_cells_xml(self.df.iloc[a:b, j], k, letters[j], s, rows)
                    for j, (k, s) in enumerate(zip(self.kinds, self.styles))]
            yield "".join(f'<row r="{r}">{"".join(cells)}</row>' for r, *cells in zip(rows, *cols))


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_xml(v: str) -> str:
    v = _ILLEGAL_XML.sub("", v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if v != v.strip() else ""
    return f"<is><t{space}>{v}</t></is>"


def _cells_xml(s: pd.Series, kind: str, letter: str, style, rows: range) -> list[str]:
    """`<c>` elements of one column: numbers and dates as numbers, text inline, inf as #NUM!."""
    st = f' s="{style}"' if style is not None else ""
    if kind == _S:
        cache: dict = {}
        out = []
        for r, v in zip(rows, s.tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out.append("")
                continue
            x = cache.get(v)
            if x is None:
                x = cache[v] = _text_xml(str(v))
            out.append(f'<c r="{letter}{r}"{st} t="inlineStr">{x}</c>')
        return out
    if kind == "bool":
        return [f'<c r="{letter}{r}"{st} t="b"><v>{int(bool(v))}</v></c>' for r, v in zip(rows, s.tolist())]
    if kind == "time":
        vals = [None if t is None else (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / 86400
                for t in s.tolist()]
    elif kind in (_DT, "date"):
        vals = ((s - _EXCEL_EPOCH) / pd.Timedelta(days=1)).tolist()
    elif kind == _I and pd.api.types.is_integer_dtype(s):
        return [f'<c r="{letter}{r}"{st}><v>{v}</v></c>' for r, v in zip(rows, s.tolist())]
    elif pd.api.types.is_numeric_dtype(s):
        vals = s.astype("float64").tolist()
    else:  # a column that holds mixed values: let each value say what it is
        return [_any_cell_xml(f"{letter}{r}", st, v) for r, v in zip(rows, s.tolist())]
    out = []
    for r, v in zip(rows, vals):
        if v is None or v != v:
            out.append("")
        elif v in (math.inf, -math.inf):
            out.append(f'<c r="{letter}{r}"{st} t="e"><v>#NUM!</v></c>')
        else:
            out.append(f'<c r="{letter}{r}"{st}><v>{v!r}</v></c>')
    return out


def _any_cell_xml(ref: str, st: str, v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}"{st} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float, np.integer, np.floating)):
        v = float(v)
        return f'<c r="{ref}"{st} t="e"><v>#NUM!</v></c>' if math.isinf(v) else f'<c r="{ref}"{st}><v>{v!r}</v></c>'
    return f'<c r="{ref}"{st} t="inlineStr">{_text_xml(str(v))}</c>'


def _inject_rows(path: Path, pending: list["_Rows"]) -> None:
    """Stream each sheet's data rows into the saved workbook (rewrites the zip beside it)."""
    import zipfile
    by_name = {r.ws.path.lstrip("/"): r for r in pending}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                rows = by_name.get(info.filename)
                if rows is None:
                    zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                    continue
                xml = data.decode("utf-8")
                xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{rows.ref}"/>', xml, count=1)
                head, tail = xml.split("</sheetData>", 1)
                with zout.open(info.filename, "w", force_zip64=True) as f:
                    f.write(head.encode("utf-8"))
                    for chunk in rows.chunks():
                        f.write(chunk.encode("utf-8"))
                    f.write(("</sheetData>" + tail).encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_RED = ("FFC7CE", "9C0006")
_AMBER = ("FFEB9C", "9C5700")


def _fill(colours):
    from openpyxl.styles import Font, PatternFill
    bg, fg = colours
    return dict(fill=PatternFill(start_color=bg, end_color=bg, fill_type="solid"), font=Font(color=fg))


def _conditional_formatting(ws, table: str, cols: list[str], n: int):
    """Shortfall > 0 in red; service level below its target in amber."""
    from openpyxl.formatting.rule import CellIsRule, FormulaRule
    from openpyxl.utils import get_column_letter
    if n == 0 or table not in ("coverage", STAFFING_SHEET):
        return
    for col in cols:
        if col == "shortfall_agents" or col.endswith(" shortfall agents"):
            c = get_column_letter(cols.index(col) + 1)
            ws.conditional_formatting.add(f"{c}2:{c}{n + 1}",
                                          CellIsRule(operator="greaterThan", formula=["0"], **_fill(_RED)))
    if "service_level" in cols and "sl_target" in cols:
        c = get_column_letter(cols.index("service_level") + 1)
        t = get_column_letter(cols.index("sl_target") + 1)
        ws.conditional_formatting.add(
            f"{c}2:{c}{n + 1}",
            FormulaRule(formula=[f"AND(ISNUMBER({c}2),ISNUMBER({t}2),{c}2<{t}2)"], **_fill(_AMBER)))


def staffing_wide(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per slot: required / staffed / shortfall agents per plateau, agents per plateau and
    provider, and agents per provider over all plateaux (the human-scanned sheet)."""
    cov, alloc = tables.get("coverage"), tables.get("allocation")
    keys = ["scenario", "slot_start"]
    parts = []
    if cov is not None and len(cov) and set(keys + ["plateau"]) <= set(cov.columns):
        for col, label in (("required_agents", "required"), ("staffed_agents", "staffed"),
                           ("shortfall_agents", "shortfall")):
            if col in cov.columns:
                w = cov.pivot_table(index=keys, columns="plateau", values=col, aggfunc="sum", sort=True)
                w.columns = [f"{p} {label} agents" for p in w.columns]
                parts.append(w)
    if alloc is not None and len(alloc) and set(keys + ["plateau", "provider", "agents"]) <= set(alloc.columns):
        w = alloc.pivot_table(index=keys, columns=["plateau", "provider"], values="agents",
                              aggfunc="sum", sort=True)
        w.columns = [f"{p} {k} agents" for p, k in w.columns]
        parts.append(w)
        t = alloc.pivot_table(index=keys, columns="provider", values="agents", aggfunc="sum", sort=True)
        t.columns = [f"{k} agents (all plateaux)" for k in t.columns]
        parts.append(t)
    if not parts:
        return pd.DataFrame()
    wide = pd.concat(parts, axis=1).sort_index()
    order = []  # per plateau: required, staffed, shortfall side by side, then the providers
    plateaux = sorted(cov["plateau"].dropna().unique()) if cov is not None and "plateau" in cov else []
    for p in plateaux:
        order += [c for c in (f"{p} required agents", f"{p} staffed agents", f"{p} shortfall agents")
                  if c in wide.columns]
    order += [c for c in wide.columns if c not in order]
    return wide[order].reset_index()


def _summary_rows(tables: dict[str, pd.DataFrame], manifest: dict, notes: list[str]):
    """Rows (list of values) of the Summary sheet; section titles are 1-tuples."""
    rows: list = []
    opts = manifest.get("options") or {}
    rows.append(("Run",))
    for label, key in (("Scenario", "scenario"), ("Command", "command"), ("Created", "created"),
                       ("Package version", "package_version"), ("Schema version", "schema_version"),
                       ("Solver", "solver"), ("Solver status", "status")):
        if manifest.get(key) is not None:
            rows.append([label, str(manifest[key]) if key != "schema_version" else manifest[key]])
    for label, key, fmt in (("MIP gap (%)", "gap", "0.00%"), ("Objective (EUR)", "objective_eur", _FMT_EUR),
                            ("Wall time (s)", "wall_time_s", "0.0")):
        v = manifest.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            rows.append([label, (v, fmt)])
    if opts:
        rows.append(())
        rows.append(("Options",))
        for k, v in opts.items():
            rows.append([_label(k), v if isinstance(v, (int, float, str)) and not isinstance(v, bool)
                         else json.dumps(v, default=_json_default)])
    summ = tables.get("summary")
    if summ is not None and len(summ) and {"metric", "value"} <= set(summ.columns):
        rows.append(())
        rows.append(("Key figures",))
        for r in summ.itertuples(index=False):
            unit = getattr(r, "unit", None)
            unit = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
            fmt = _FMT_EUR if unit.upper() in ("EUR", "€") else (_FMT_PCT if unit in ("%", "share") else None)
            rows.append([f"{r.metric} ({unit})" if unit else f"{r.metric} (no unit)", (r.value, fmt)])
    cov = tables.get("coverage")
    if cov is not None and len(cov) and {"plateau", "slot_minutes"} <= set(cov.columns):
        rows.append(())
        rows.append(("Shortfall and service by plateau",))
        rows.append(["Plateau", "Calls (calls)", "Service level (% of calls, call-weighted)",
                     "ASA (s, call-weighted, stable slots)", "Shortfall (agent-hours)",
                     "Worst shortfall (agents)", "Slots below SL target (slots)"])
        for p, g in cov.groupby("plateau", sort=True):
            rows.append([p] + _plateau_stats(g))
        rows.append(["All plateaux"] + _plateau_stats(cov))
    prov = tables.get("providers")
    if prov is not None and len(prov) and {"provider", "cost_eur"} <= set(prov.columns):
        rows.append(())
        rows.append(("Cost by provider",))
        rows.append(["Provider", "Kind", "Staffed (hours)", "Paid (hours)", "Cost (EUR)", "Share (% of staffed hours)"])
        for r in prov.to_dict("records"):
            rows.append([r.get("provider"), r.get("kind"), (r.get("staffed_hours"), "#,##0.0"),
                         (r.get("paid_hours"), "#,##0.0"), (r.get("cost_eur"), _FMT_EUR),
                         (r.get("share"), _FMT_PCT)])
        tot = prov.select_dtypes("number")
        rows.append(["Total", None, (_sum(tot, "staffed_hours"), "#,##0.0"), (_sum(tot, "paid_hours"), "#,##0.0"),
                     (_sum(tot, "cost_eur"), _FMT_EUR), None])
    reg = tables.get("regimes")
    if reg is not None and len(reg):
        rows.append(())
        rows.append(("Pricing regimes (see sheet regimes)",))
        cols = list(reg.columns)
        rows.append([_label(c) for c in cols])
        for r in reg.itertuples(index=False):
            rows.append([(v, number_format(c, "float")) if isinstance(v, (int, float, np.number))
                         and not isinstance(v, bool) else v for c, v in zip(cols, r)])
    if notes:
        rows.append(())
        rows.append(("Notes",))
        for n in notes:
            rows.append([n])
    return rows


def _sum(df, col):
    return float(df[col].sum()) if col in df.columns else None


def _label(col: str) -> str:
    units = [("_eur_per_min", "EUR/min"), ("_eur", "EUR"), ("_hours", "hours"), ("_agents", "agents"),
             ("_s", "s"), ("_share", "share")]
    for suffix, unit in units:
        if col.endswith(suffix):
            return f"{col[: -len(suffix)].replace('_', ' ')} ({unit})"
    return col


def _plateau_stats(g: pd.DataFrame) -> list:
    calls = g["calls"] if "calls" in g else pd.Series(1.0, index=g.index)
    out = [(float(calls.sum()), "#,##0")]
    if "service_level" in g:
        m = g["service_level"].notna() & (calls > 0)
        out.append((float((g.loc[m, "service_level"] * calls[m]).sum() / calls[m].sum()) if calls[m].sum() else None,
                    _FMT_PCT))
    else:
        out.append(None)
    if "asa_s" in g:
        m = np.isfinite(g["asa_s"]) & (calls > 0)
        out.append((float((g.loc[m, "asa_s"] * calls[m]).sum() / calls[m].sum()) if calls[m].sum() else None,
                    "0.0"))
    else:
        out.append(None)
    if "shortfall_agents" in g:
        out.append((float((g["shortfall_agents"] * g["slot_minutes"] / 60).sum()), "#,##0.0"))
        out.append((float(g["shortfall_agents"].max()), "0.0"))
    else:
        out += [None, None]
    if {"service_level", "sl_target"} <= set(g.columns):
        out.append(int((g["service_level"] < g["sl_target"]).sum()))
    else:
        out.append(None)
    return out


def _write_rows_styled(wb, ws, rows, widths):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    for j, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = w
    bold = Font(bold=True)
    title = Font(bold=True, size=13)
    for row in rows:
        if isinstance(row, tuple) and len(row) <= 1:
            if row:
                c = WriteOnlyCell(ws, value=row[0])
                c.font = title
                ws.append([c])
            else:
                ws.append([])
            continue
        out = []
        header = all(isinstance(v, str) for v in row) and len(row) > 2
        for v in row:
            fmt = None
            if isinstance(v, tuple):
                v, fmt = v
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, float) and math.isinf(v):
                v = "#NUM!"
            elif isinstance(v, (np.integer, np.floating)):
                v = v.item()
            c = WriteOnlyCell(ws, value=v)
            if fmt and v is not None:
                c.number_format = fmt
            if header:
                c.font = bold
            out.append(c)
        ws.append(out)


def _add_charts(wb, ws, tables, wide: pd.DataFrame, sheets: dict[str, list[str]]):
    """Native charts on the `charts` sheet; data come from the staffing, providers and regimes sheets."""
    from openpyxl.chart import AreaChart, BarChart, LineChart, Reference

    class _Named:  # Reference needs only a title for sheets that are already written
        def __init__(self, title):
            self.title = title

    anchor_row = 1
    n = len(wide)

    def place(chart, h=7.5, w=24):
        nonlocal anchor_row
        chart.height, chart.width = h, w
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        ws.add_chart(chart, f"A{anchor_row}")
        anchor_row += int(h * 2) + 2

    if n and n <= EXCEL_MAX_ROWS - 1:
        st = _Named(STAFFING_SHEET)
        cols = list(wide.columns)
        cats = Reference(st, min_col=cols.index("slot_start") + 1, min_row=2, max_row=n + 1)
        plateaux = [c[: -len(" required agents")] for c in cols if c.endswith(" required agents")]
        for p in plateaux:
            ch = LineChart()
            ch.title = f"{p}: required vs staffed agents (agents per slot)"
            ch.y_axis.title, ch.x_axis.title = "agents", "slot start"
            for label in ("required", "staffed"):
                name = f"{p} {label} agents"
                if name in cols:
                    j = cols.index(name) + 1
                    ch.add_data(Reference(st, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
            ch.set_categories(cats)
            ch.x_axis.number_format = "dd/mm hh:mm"
            for s in ch.series:
                s.smooth = False
                s.graphicalProperties.line.width = 12700
            place(ch)
        prov_cols = [c for c in cols if c.endswith(" agents (all plateaux)")]
        if prov_cols:
            ch = AreaChart()
            ch.grouping = "stacked"
            ch.title = "Agents by provider, all plateaux (agents per slot, stacked)"
            ch.y_axis.title, ch.x_axis.title = "agents", "slot start"
            for name in prov_cols:
                j = cols.index(name) + 1
                ch.add_data(Reference(st, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
            ch.set_categories(cats)
            ch.x_axis.number_format = "dd/mm hh:mm"
            place(ch)
    prov = tables.get("providers")
    if prov is not None and 0 < len(prov) <= EXCEL_MAX_ROWS - 1 and {"provider", "cost_eur"} <= set(prov.columns):
        ps = _Named(sheets["providers"][0])
        pc = list(prov.columns)
        ch = BarChart()
        ch.type = "col"
        ch.title = "Cost by provider (EUR)"
        ch.y_axis.title = "EUR"
        ch.add_data(Reference(ps, min_col=pc.index("cost_eur") + 1, min_row=1, max_row=len(prov) + 1),
                    titles_from_data=True)
        ch.set_categories(Reference(ps, min_col=pc.index("provider") + 1, min_row=2, max_row=len(prov) + 1))
        ch.y_axis.number_format = "#,##0"
        place(ch, h=7.5, w=16)
    reg = tables.get("regimes")
    if reg is not None and 0 < len(reg) <= EXCEL_MAX_ROWS - 1:
        rc = list(reg.columns)
        series = [c for c in ("cost_eur", "revenue_eur", "net_cost_eur") if c in rc]
        label = "regime" if "regime" in rc else rc[1] if len(rc) > 1 else rc[0]
        if series:
            rs = _Named(sheets["regimes"][0])
            ch = BarChart()
            ch.type = "col"
            ch.title = "Pricing regimes: cost, hotline revenue and net cost (EUR)"
            ch.y_axis.title = "EUR"
            for c in series:
                ch.add_data(Reference(rs, min_col=rc.index(c) + 1, min_row=1, max_row=len(reg) + 1),
                            titles_from_data=True)
            ch.set_categories(Reference(rs, min_col=rc.index(label) + 1, min_row=2, max_row=len(reg) + 1))
            ch.y_axis.number_format = "#,##0"
            place(ch, h=7.5, w=16)


def _ordered(tables: dict) -> list[str]:
    known = [t for t in TABLE_ORDER if t in tables]
    return known + [t for t in tables if t not in known]


def _check_table_names(tables: dict):
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"table {name!r} is not a DataFrame", field=name)
        if not _TABLE_NAME.match(name) or TABLE_SHEET.get(name, name) in RESERVED_SHEETS or name in SHEET_TABLE \
                or re.search(r"_\d+$", name):
            raise InputError(f"bad table name {name!r}: lower-case letters, digits, '_', at most 28 "
                             f"characters, not ending in _<digits>, not one of {sorted(RESERVED_SHEETS - {'summary'})}",
                             field=name)


def write_workbook(path, tables: dict[str, pd.DataFrame], manifest: dict) -> Path:
    """Write plan.xlsx: Summary, charts, staffing (wide), one data sheet per table, hidden manifest.

    Built with openpyxl in write-only mode; a table longer than Excel's row limit is split into
    sheets `name`, `name_2`, ... and the Summary says so.
    """
    from openpyxl import Workbook

    path = Path(path)
    _check_table_names(tables)
    tables = {t: normalise_table(t, tables[t], (manifest.get("columns") or {}).get(t)) for t in _ordered(tables)}
    kinds = {t: column_kinds(t, df) for t, df in tables.items()}
    manifest = _complete_manifest(manifest, tables, kinds)
    sheets = {t: [p[0] for p in _sheet_parts(TABLE_SHEET.get(t, t), len(df))] for t, df in tables.items()}
    notes = [f"Table {t} has {len(tables[t]):,} rows, more than Excel's {EXCEL_MAX_ROWS:,} rows per sheet: "
             f"split into sheets {', '.join(s)}." for t, s in sheets.items() if len(s) > 1]
    notes.append("Data sheets hold one table each with a single header row at A1; "
                 "column names and units: docs/outputs.md. Infinite values (unstable queue) show as #NUM!.")
    wide = staffing_wide(tables)

    wb = Workbook(write_only=True)
    summary = wb.create_sheet(SUMMARY_SHEET)
    _write_rows_styled(wb, summary, _summary_rows(tables, manifest, notes), [44, 22, 22, 22, 22, 22, 22])
    charts = wb.create_sheet(CHARTS_SHEET)
    pending = []
    if len(wide):
        wkinds = column_kinds(STAFFING_SHEET, wide)
        for sheet, a, b in _sheet_parts(STAFFING_SHEET, len(wide)):
            pending.append(_write_data_sheet(wb, STAFFING_SHEET, sheet, wide, wkinds, a, b))
    for t, df in tables.items():
        for sheet, a, b in _sheet_parts(TABLE_SHEET.get(t, t), len(df)):
            pending.append(_write_data_sheet(wb, t, sheet, df, kinds[t], a, b))
    _add_charts(wb, charts, tables, wide, sheets)
    charts.append([])  # a sheet with only charts still needs a sheetData element
    ms = wb.create_sheet(MANIFEST_SHEET)
    ms.sheet_state = "hidden"
    ms.append(["key", "value_json"])
    for k, v in manifest.items():
        text = json.dumps(v, default=_json_default)
        for i in range(0, max(len(text), 1), 32000):  # Excel's cell limit is 32,767 characters
            ms.append([k, text[i:i + 32000]])
    with _atomic(path) as tmp:
        wb.save(tmp)
        _inject_rows(tmp, pending)
    return path


def _complete_manifest(manifest: dict, tables: dict, kinds: dict) -> dict:
    m = dict(manifest)
    m["schema_version"] = SCHEMA_VERSION
    m.setdefault("package_version", __version__)
    m.setdefault("created", dt.datetime.now().isoformat(timespec="seconds"))
    if "scenario" not in m:
        for df in tables.values():
            if "scenario" in df.columns and len(df):
                m["scenario"] = str(df["scenario"].iloc[0])
                break
    m["tables"] = list(tables)
    m["columns"] = {t: kinds[t] for t in tables}
    return m


# ---------------------------------------------------------------------------------------------
# run folders

def new_run_dir(outputs_root, scenario_name: str, command: str) -> Path:
    """A fresh path outputs/<scenario>/<YYYYmmdd-HHMMSS>-<command>[-N] (not created)."""
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "_", str(s)).strip("._") or "run"  # noqa: E731
    base = Path(outputs_root) / safe(scenario_name)
    stem = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{safe(command)}"
    path, n = base / stem, 1
    while path.exists():
        n += 1
        path = base / f"{stem}-{n}"
    return path


def _inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


def _check_destination(run_dir: Path, manifest: dict, forbidden_dirs) -> None:
    for d in forbidden_dirs or ():
        if _inside(run_dir, Path(d)) or _inside(Path(d), run_dir):
            raise InputError(f"refusing to write outputs inside or over the inputs folder {d}",
                             file=str(run_dir))
    for f in (manifest.get("inputs") or {}):
        if _inside(Path(f), run_dir):
            raise InputError(f"refusing to write over input file {f}", file=str(run_dir))


def default_formats() -> tuple[str, ...]:
    return ("csv", "xlsx", "parquet") if have_pyarrow() else ("csv", "xlsx")


def write_run(run_dir, tables: dict[str, pd.DataFrame], manifest: dict, *, force: bool = False,
              formats=None, forbidden_dirs=()) -> Path:
    """Write a complete run folder (tables as CSV / Parquet, plan.xlsx, manifest.json) atomically.

    Everything is built in a hidden sibling folder and renamed into place at the end. An existing
    run_dir is refused (InputError) unless `force`; so is a run_dir inside or over a forbidden dir
    (the scenario's inputs) or over an input file named in the manifest.
    """
    run_dir = Path(run_dir).absolute()
    formats = tuple(default_formats() if formats is None else formats)
    bad = set(formats) - {"csv", "xlsx", "parquet"}
    if bad:
        raise InputError(f"unknown output format(s) {sorted(bad)}", field="formats")
    if "parquet" in formats:
        _require_pyarrow()
    _check_destination(run_dir, manifest, forbidden_dirs)
    if run_dir.exists() and not force:
        raise InputError("run folder exists; use --force to replace it", file=str(run_dir))
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError("exists and is not a folder", file=str(run_dir))
    _check_table_names(tables)
    declared = manifest.get("columns") or {}
    tables = {t: normalise_table(t, tables[t], declared.get(t)) for t in _ordered(tables)}
    kinds = {t: column_kinds(t, df) for t, df in tables.items()}
    manifest = _complete_manifest(manifest, tables, kinds)
    manifest["formats"] = list(formats)

    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.tmp-", dir=run_dir.parent))
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)
        for t, df in tables.items():
            if "csv" in formats:
                write_table_csv(df, tmp / f"{t}.csv", table=t)
            if "parquet" in formats:
                write_table_parquet(df, tmp / f"{t}.parquet", table=t)
        if "xlsx" in formats:
            write_workbook(tmp / WORKBOOK_NAME, tables, manifest)
        write_manifest(manifest, tmp / MANIFEST_NAME)
        _move_into_place(tmp, run_dir, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return run_dir


def _move_into_place(tmp: Path, run_dir: Path, force: bool) -> None:
    if run_dir.exists():
        if not force:
            raise InputError("run folder exists; use --force to replace it", file=str(run_dir))
        old = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.old-", dir=run_dir.parent))
        os.rename(run_dir, old / "run")
        try:
            os.rename(tmp, run_dir)
        except BaseException:
            os.rename(old / "run", run_dir)
            shutil.rmtree(old, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.rename(tmp, run_dir)
    except OSError as exc:  # appeared meanwhile
        raise InputError(f"cannot create run folder: {exc.strerror}", file=str(run_dir)) from exc


# ---------------------------------------------------------------------------------------------
# reading back

def load_manifest(path) -> dict:
    """The manifest of a run folder, of a plan.xlsx (its hidden sheet), or {} when there is none."""
    path = Path(path)
    if path.is_dir():
        m = path / MANIFEST_NAME
        return json.loads(m.read_text(encoding="utf-8")) if m.exists() else {}
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            if MANIFEST_SHEET not in wb.sheetnames:
                return {}
            chunks: dict[str, str] = {}
            for i, (k, v) in enumerate(wb[MANIFEST_SHEET].iter_rows(values_only=True)):
                if i and k is not None:
                    chunks[k] = chunks.get(k, "") + (v or "")
            return {k: json.loads(v) for k, v in chunks.items()}
        finally:
            wb.close()
    m = path.parent / MANIFEST_NAME
    return json.loads(m.read_text(encoding="utf-8")) if m.exists() else {}


def _read_csv(path: Path, table: str, declared: dict) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    text = [c for c in header if (SCHEMA.get(table, {}).get(c) or declared.get(c) or _name_kind(c)) in (_S, "time")]
    return pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                       na_values=[""], encoding="utf-8")


def _read_xlsx(path: Path, declared_all: dict, tables: list[str] | None) -> dict[str, pd.DataFrame]:
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = [s for s in wb.sheetnames if s.lower() not in RESERVED_SHEETS]
        groups: dict[str, list[str]] = {}
        for s in names:
            m = re.match(r"^(.*)_(\d+)$", s)
            base = m.group(1) if m and m.group(1) in names else s
            groups.setdefault(SHEET_TABLE.get(base, base), []).append(s)
        wanted = tables or list(groups)
        out = {}
        for t in wanted:
            frames = []
            for s in sorted(groups.get(t, []), key=lambda s: 0 if s == TABLE_SHEET.get(t, t)
                            else int(s.rsplit("_", 1)[1])):
                rows = wb[s].iter_rows(values_only=True)
                header = next(rows, None)
                if header is None:
                    continue
                k = len(header)
                while k and header[k - 1] is None:
                    k -= 1
                header = list(header[:k])
                data = [r[:k] + (None,) * (k - len(r)) for r in rows if any(v is not None for v in r[:k])]
                frames.append(pd.DataFrame(data, columns=header, dtype=object))
            if frames:
                df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
                out[t] = _xlsx_fix(df, t, declared_all.get(t, {}))
        return out
    finally:
        wb.close()


def _xlsx_fix(df: pd.DataFrame, table: str, declared: dict) -> pd.DataFrame:
    """Excel keeps datetimes to the millisecond at best: round what openpyxl gives back."""
    kinds = column_kinds(table, df, declared)
    for c, k in kinds.items():
        if k in (_DT, "date"):
            s = pd.to_datetime(df[c].map(lambda v: None if isinstance(v, str) and v in _XLSX_ERRORS else v))
            df[c] = s.dt.round("ms")
    return df


def _find_format(path: Path) -> str:
    if have_pyarrow() and any(path.glob("*.parquet")):
        return "parquet"
    if any(path.glob("*.csv")):
        return "csv"
    if (path / WORKBOOK_NAME).exists():
        return "xlsx"
    raise InputError("no tables found (no *.parquet, *.csv or plan.xlsx)", file=str(path))


def load(path, *, format: str | None = None) -> dict[str, pd.DataFrame]:  # noqa: A002
    """Tables of a run folder, a plan.xlsx, or a folder of CSV / Parquet files, as pandas frames.

    The same columns and dtypes whichever format is read (Parquet is preferred, then CSV, then
    the workbook, unless `format` says which).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such run folder or file", file=str(path))
    manifest = load_manifest(path)
    declared_all = manifest.get("columns") or {}
    listed = manifest.get("tables")
    if path.is_file():
        suffix = path.suffix.lower().lstrip(".")
        if suffix == "xlsx":
            raw = _read_xlsx(path, declared_all, None)
        elif suffix == "csv":
            raw = {path.stem: _read_csv(path, path.stem, declared_all.get(path.stem, {}))}
        elif suffix == "parquet":
            _require_pyarrow()
            raw = {path.stem: pd.read_parquet(path)}
        else:
            raise InputError("expected a run folder, .xlsx, .csv or .parquet", file=str(path))
    else:
        fmt = format or _find_format(path)
        if fmt == "xlsx":
            if not (path / WORKBOOK_NAME).exists():
                raise InputError(f"no {WORKBOOK_NAME}", file=str(path))
            raw = _read_xlsx(path / WORKBOOK_NAME, declared_all, None)
        elif fmt in ("csv", "parquet"):
            if fmt == "parquet":
                _require_pyarrow()
            files = sorted(path.glob(f"*.{fmt}"))
            if not files:
                raise InputError(f"no *.{fmt} tables", file=str(path))
            raw = {f.stem: (_read_csv(f, f.stem, declared_all.get(f.stem, {})) if fmt == "csv"
                            else pd.read_parquet(f)) for f in files}
        else:
            raise InputError(f"unknown format {fmt!r}", field="format")
    order = [t for t in (listed or []) if t in raw] + [t for t in _ordered(raw) if t not in (listed or [])]
    return {t: normalise_table(t, raw[t], declared_all.get(t)) for t in order}


# ---------------------------------------------------------------------------------------------
# export

def export_run(run, fmt: str, *, out=None, force: bool = False) -> list[Path]:
    """Rebuild one format (xlsx, csv, parquet) of a run's tables; returns the files written."""
    run = Path(run)
    if not run.exists():
        raise InputError("no such run folder", file=str(run))
    if fmt == "parquet":
        _require_pyarrow()
    tables = load(run)
    manifest = load_manifest(run)
    src_dir = run if run.is_dir() else run.parent
    out = Path(out) if out is not None else src_dir
    _check_destination(out, manifest, ())
    if out.exists() and not out.is_dir():
        raise InputError("--out exists and is not a folder", file=str(out))
    if fmt == "xlsx":
        targets = [out / WORKBOOK_NAME]
    else:
        targets = [out / f"{t}.{fmt}" for t in tables]
    if out.resolve() != src_dir.resolve():
        targets.append(out / MANIFEST_NAME)
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise InputError("exists; use --force to overwrite", file=str(existing[0]))
    declared = manifest.get("columns") or {}
    kinds = {t: column_kinds(t, df, declared.get(t)) for t, df in tables.items()}
    m = _complete_manifest(manifest, tables, kinds)
    written = []
    if fmt == "xlsx":
        written.append(write_workbook(out / WORKBOOK_NAME, tables, m))
    else:
        writer = write_table_csv if fmt == "csv" else write_table_parquet
        written += [writer(df, out / f"{t}.{fmt}", table=t) for t, df in tables.items()]
    if out.resolve() != src_dir.resolve():
        written.append(write_manifest(m, out / MANIFEST_NAME))
    return written
