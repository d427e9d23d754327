"""Reading a run back: `load()` gives the same frames whichever format it reads (Parquet, CSV or
the workbook's data sheets), all through `normalise_table`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..safe_text import csv_unescape, unescape_series
from .files import have_pyarrow, require_pyarrow
from .tables import (_DT, _S, _XLSX_ERRORS, MANIFEST_NAME, SCHEMA, WORKBOOK_NAME, _name_kind,
                     column_kinds, normalise_table, ordered)
from .workbook import MANIFEST_SHEET, RESERVED_SHEETS, SHEET_TABLE, TABLE_SHEET

# manifest keys that readers use, and the JSON types they must have
_MANIFEST_TYPES = {"tables": list, "columns": dict, "formats": list, "options": dict,
                   "inputs": dict, "settings": list, "rows": dict, "scenario": str,
                   "command": str}
# a run's own workbook can be large (a year of allocation rows): bounds above an input table's
RUN_XLSX_MAX_BYTES = 4 * 2**30
RUN_XLSX_MAX_SHARED = 256 * 2**20


def check_manifest(manifest, file) -> dict:
    """The manifest if it is a JSON object whose known keys have the right types; else
    InputError naming the file and the key."""
    if not isinstance(manifest, dict):
        raise InputError(f"not a JSON object (got {type(manifest).__name__})", file=str(file))
    words = {dict: "object", list: "array", str: "string"}
    for key, kind in _MANIFEST_TYPES.items():
        value = manifest.get(key)
        if value is not None and not isinstance(value, kind):
            raise InputError(f"must be a JSON {words[kind]}, got {type(value).__name__}",
                             file=str(file), field=key)
    for key in ("tables", "formats", "settings"):
        if any(not isinstance(v, str) for v in manifest.get(key) or ()):
            raise InputError("must be a list of strings", file=str(file), field=key)
    for table, cols in (manifest.get("columns") or {}).items():
        if not isinstance(cols, dict) or any(not isinstance(k, str) for k in cols.values()):
            raise InputError("must map each column to a kind", file=str(file),
                             field=f"columns.{table}")
    for table, n in (manifest.get("rows") or {}).items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise InputError("must be a row count", file=str(file), field=f"rows.{table}")
    return manifest


def _read_json(m: Path) -> dict:
    try:
        text = m.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(m)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(m)) from None
    try:
        return check_manifest(json.loads(text), m)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (truncated?): {exc.msg} at line {exc.lineno}",
                         file=str(m)) from None


def open_run_workbook(path: Path):
    """openpyxl's read-only workbook of a run, bounded (staffing.tables.check_workbook_size)."""
    from openpyxl import load_workbook

    from ..tables import check_workbook_size
    check_workbook_size(path, RUN_XLSX_MAX_BYTES, RUN_XLSX_MAX_SHARED)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is bad input
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from None


def load_manifest(path) -> dict:
    """The manifest of a run folder, of a plan.xlsx (its hidden sheet), or {} when there is none.

    InputError for a manifest that is not valid JSON, not an object, or whose known keys have
    the wrong types.
    """
    path = Path(path)
    if path.is_dir():
        m = path / MANIFEST_NAME
        return _read_json(m) if m.exists() else {}
    if path.suffix.lower() == ".xlsx":
        wb = open_run_workbook(path)
        try:
            if MANIFEST_SHEET not in wb.sheetnames:
                return {}
            chunks: dict[str, str] = {}
            for i, (k, v) in enumerate(wb[MANIFEST_SHEET].iter_rows(values_only=True)):
                if i and k is not None:
                    chunks[str(k)] = chunks.get(str(k), "") + (str(v) if v is not None else "")
            try:
                return check_manifest({k: json.loads(v) for k, v in chunks.items()}, path)
            except json.JSONDecodeError as exc:
                raise InputError(f"manifest sheet: not valid JSON: {exc.msg}",
                                 file=str(path)) from None
        finally:
            wb.close()
    m = path.parent / MANIFEST_NAME
    return _read_json(m) if m.exists() else {}


def _read_csv(path: Path, table: str, declared: dict) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    text = [c for c in header if (SCHEMA.get(table, {}).get(c) or declared.get(c) or _name_kind(c)) in (_S, "time")]
    df = pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                     na_values=[""], encoding="utf-8")
    df.columns = [csv_unescape(c) for c in df.columns]
    for c in text:
        df[csv_unescape(c)] = unescape_series(df[csv_unescape(c)])
    return df


def _read_xlsx(path: Path, declared_all: dict, tables: list[str] | None) -> dict[str, pd.DataFrame]:
    wb = open_run_workbook(path)
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
            require_pyarrow()
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
                require_pyarrow()
            files = sorted(path.glob(f"*.{fmt}"))
            if not files:
                raise InputError(f"no *.{fmt} tables", file=str(path))
            raw = {f.stem: (_read_csv(f, f.stem, declared_all.get(f.stem, {})) if fmt == "csv"
                            else pd.read_parquet(f)) for f in files}
        else:
            raise InputError(f"unknown format {fmt!r}", field="format")
    order = [t for t in (listed or []) if t in raw] + [t for t in ordered(raw) if t not in (listed or [])]
    return {t: normalise_table(t, _renamed(t, raw[t]), declared_all.get(t)) for t in order}


# Columns of runs written before the logged / answering names (schema 1 too): read under today's.
RENAMED = {"allocation": {"agents": "logged_agents"},
           "coverage": {"staffed_agents": "answering_agents"},
           "diagnostics": {"staffed_agents": "answering_agents"},
           "simulation": {"staffed_agents": "answering_agents"},
           "providers": {"staffed_hours": "logged_hours", "share": "answering_share"},
           "plateau_economics": {"staffed_hours": "logged_hours"},
           "regimes": {f"staffed_hours_{k}": f"logged_hours_{k}" for k in ("inhouse", "subcontractor", "offshore")}}


def _renamed(table: str, df: pd.DataFrame) -> pd.DataFrame:
    old = {a: b for a, b in RENAMED.get(table, {}).items() if a in df.columns and b not in df.columns}
    return df.rename(columns=old) if old else df


