"""plan.xlsx: the planners' workbook, written with XlsxWriter.

Sheets, in order: Summary (the dashboard), charts, staffing (one row per slot, wide), daily and
weekly (aggregates the charts read), one data sheet per table (an Excel Table each), run (run
metadata, options, notes), and a hidden `manifest` sheet that `load_manifest` reads.

XlsxWriter writes every sheet's structure: header rows, Excel Tables, column formats, frozen
panes, print setup, conditional formats, charts and the Summary. The data rows of the big sheets
(hundreds of thousands of rows for a year) are serialised here as SpreadsheetML, a column at a
time, and streamed into the saved file: XlsxWriter's per-cell calls cost ~3 us a cell, three
times the whole writer's budget (bench/results_write.py). Text is always written as an inline
string, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
import zipfile
from contextlib import suppress
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__, memory, tempfiles
from ..errors import InputError
from .files import atomic, json_default
from .tables import (_DT, _EXCEL_EPOCH, _I, _S, _TABLE_NAME, EXCEL_MAX_ROWS, SCHEMA_VERSION, add_calendar,
                     column_kinds, normalise_table, number_format, ordered, width)

SUMMARY_SHEET, CHARTS_SHEET, STAFFING_SHEET = "Summary", "charts", "staffing"
DAILY_SHEET, WEEKLY_SHEET, RUN_SHEET, MANIFEST_SHEET = "daily", "weekly", "run", "manifest"
# Excel sheet names are case-insensitive: the `summary` table cannot share "Summary".
TABLE_SHEET = {"summary": "summary_table"}
ROSTER_SHEET = "roster"  # advisers down, dates across (from the rosters table)
RESERVED_SHEETS = {SUMMARY_SHEET.lower(), CHARTS_SHEET, STAFFING_SHEET, DAILY_SHEET, WEEKLY_SHEET,
                   RUN_SHEET, MANIFEST_SHEET, ROSTER_SHEET}
SHEET_TABLE = {sheet: table for table, sheet in TABLE_SHEET.items()}
CHART_LEVELS = ("slot", "day", "week")
_CELL_REF = re.compile(r"^(?:[a-z]{1,3}\d+|r\d*c\d*|r|c)$")


def check_table_names(tables: dict):
    """InputError unless every table is a DataFrame with a name that can be a sheet of its own."""
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"table {name!r} is not a DataFrame", field=name)
        if not _TABLE_NAME.match(name) or TABLE_SHEET.get(name, name) in RESERVED_SHEETS or name in SHEET_TABLE \
                or re.search(r"_\d+$", name):
            raise InputError(f"bad table name {name!r}: lower-case letters, digits, '_', at most 28 "
                             f"characters, not ending in _<digits>, not one of {sorted(RESERVED_SHEETS - {'summary'})}",
                             field=name)


def complete_manifest(manifest: dict, tables: dict, kinds: dict) -> dict:
    """The manifest with schema and package versions, creation time, scenario, tables, columns."""
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
    m["rows"] = {t: int(len(df)) for t, df in tables.items()}
    return m


def sheet_parts(sheet: str, n_rows: int) -> list[tuple[str, int, int]]:
    """(sheet name, first row, stop row) of each part that fits Excel's row limit."""
    per = EXCEL_MAX_ROWS - 1
    if n_rows <= per:
        return [(sheet, 0, n_rows)]
    return [(sheet if i == 0 else f"{sheet}_{i + 1}", a, min(a + per, n_rows))
            for i, a in enumerate(range(0, n_rows, per))]


def chart_level(level: str | None, days: int) -> str:
    """The charts' time step: as asked, else slots up to a week, days up to 8 weeks, then weeks."""
    if level:
        if level not in CHART_LEVELS:
            raise InputError(f"charts must be one of {', '.join(CHART_LEVELS)}, not {level!r}", field="charts")
        return level
    return "slot" if days <= 7 else "day" if days <= 56 else "week"


# ---------------------------------------------------------------------------------------------
# formats

class Formats:
    """XlsxWriter formats by (number format, style) so each is registered once."""

    STYLES = {
        "header": {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE6F1",
                   "bottom": 1},
        "title": {"bold": True, "font_size": 16, "font_color": "#1F3864"},
        "subtitle": {"italic": True, "font_color": "#595959"},
        "section": {"bold": True, "font_size": 12, "font_color": "#1F3864", "bottom": 2,
                    "bottom_color": "#1F3864"},
        "kpi_label": {"font_size": 9, "font_color": "#595959", "text_wrap": True, "valign": "top",
                      "bg_color": "#F2F2F2", "align": "center"},
        "kpi": {"bold": True, "font_size": 14, "bg_color": "#F2F2F2", "align": "center"},
        "bold": {"bold": True},
        "right": {"align": "right"},
        "total": {"bold": True, "top": 1},
        "note": {"font_color": "#595959", "italic": True},
        "wrap": {"text_wrap": True, "valign": "top"},
        "green": {"bg_color": "#C6EFCE", "font_color": "#006100"},
        "amber": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
        "red": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
        "kpi_red": {"bold": True, "font_size": 14, "align": "center", "bg_color": "#FFC7CE",
                    "font_color": "#9C0006"},
        "": {},
    }

    def __init__(self, wb):
        self.wb, self.cache = wb, {}

    def get(self, num: str | None = None, *styles: str):
        key = (num, styles)
        f = self.cache.get(key)
        if f is None:
            props = {}
            for s in styles:
                props.update(self.STYLES[s])
            if num:
                props["num_format"] = num
            f = self.cache[key] = self.wb.add_format(props) if props else None
        return f


def put(ws, r: int, c: int, v, fmt=None):
    """One cell by its Python type; text always as text (never a formula or a number)."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return ws.write_blank(r, c, None, fmt)
    if isinstance(v, (bool, np.bool_)):
        return ws.write_boolean(r, c, bool(v), fmt)
    if isinstance(v, (int, float, np.integer, np.floating)):
        v = float(v)
        if math.isinf(v):
            return ws.write_string(r, c, "#NUM!", fmt)
        return ws.write_number(r, c, v, fmt)
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return ws.write_datetime(r, c, pd.Timestamp(v).to_pydatetime(), fmt)
    return ws.write_string(r, c, str(v), fmt)


PAGE_CHARS = 190  # column widths (characters) that still print legibly across a landscape A4 page


def print_setup(ws, *, last_row: int, last_col: int, repeat_header: bool = True, pages_wide: int = 1,
                repeat_cols: int = 0):
    """Landscape A4, `pages_wide` pages wide (1 but for very wide sheets), header row and the first
    `repeat_cols` columns repeated on every page, print area over the written cells."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(pages_wide, 0)
    if repeat_header:
        ws.repeat_rows(0)
    if repeat_cols:
        ws.repeat_columns(0, repeat_cols - 1)
    ws.print_area(0, 0, max(last_row, 0), max(last_col, 0))
    ws.set_footer("&L&A&R&P / &N")


# ---------------------------------------------------------------------------------------------
# data sheets

def excel_table_name(sheet: str) -> str:
    """A valid, unique Excel Table name for a sheet (never a cell reference)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", sheet)
    return f"t_{name}" if _CELL_REF.match(name.lower()) or not name[0].isalpha() else name


def data_sheet(wb, fm: Formats, sheet: str, df: pd.DataFrame, kinds: dict[str, str], start: int = 0,
               stop: int | None = None, *, table: str | None = None) -> "Rows":
    """A sheet holding one Excel Table (header at A1, frozen, filterable, formatted columns) whose
    data rows are streamed into the saved file by `inject_rows`."""
    stop = len(df) if stop is None else stop
    ws = wb.add_worksheet(sheet)
    cols = list(df.columns)
    n, last = stop - start, max(len(cols) - 1, 0)
    fmts = [fm.get(number_format(c, kinds[c], df[c].iloc[start:stop])) for c in cols]
    widths = [width(c, kinds[c], df[c]) for c in cols]
    for j, c in enumerate(cols):
        ws.set_column(j, j, widths[j], fmts[j])
    ws.set_row(0, 30 if max((len(c) for c in cols), default=0) > 14 else None)
    ws.freeze_panes(1, 0)
    if cols:  # declared over one data row: XlsxWriter checks overlaps cell by cell; inject_rows sets the ref
        ws.add_table(0, 0, 1, last, {
            "name": excel_table_name(sheet), "style": "Table Style Light 9",
            "columns": [{"header": c, "format": f, "header_format": fm.get(None, "header")}
                        for c, f in zip(cols, fmts)]})
    conditional_formats(ws, fm, table or sheet, cols, n)
    keys = sum(1 for c in cols[:4] if c in ("scenario", "slot_start", "fold", "weekday", "week", "date"))
    pages = max(1, math.ceil(sum(widths) / PAGE_CHARS))
    print_setup(ws, last_row=max(n, 1), last_col=last, pages_wide=pages, repeat_cols=keys if pages > 1 else 0)
    return Rows(ws, df.iloc[start:stop], [kinds[c] for c in cols], fmts, excel_table_name(sheet) if cols else None)


def conditional_formats(ws, fm: Formats, table: str, cols: list[str], n: int):
    """Shortfall > 0 in red; service level below its target in amber; booleans false in amber."""
    if n == 0:
        return
    for j, c in enumerate(cols):
        if c == "shortfall_agents" or c.endswith(" shortfall agents") or c.endswith("shortfall agent-hours"):
            ws.conditional_format(1, j, n, j, {"type": "cell", "criteria": ">", "value": 0,
                                               "format": fm.get(None, "red")})
    for sl, tg in (("service_level", "sl_target"), ("sl_sim_mean", "sl_target")):
        if sl in cols and tg in cols:
            from xlsxwriter.utility import xl_rowcol_to_cell
            a = xl_rowcol_to_cell(1, cols.index(sl), col_abs=True)
            b = xl_rowcol_to_cell(1, cols.index(tg), col_abs=True)
            j = cols.index(sl)
            ws.conditional_format(1, j, n, j, {"type": "formula", "format": fm.get(None, "amber"),
                                               "criteria": f"=AND(ISNUMBER({a}),ISNUMBER({b}),{a}<{b})"})


class Rows:
    """Data rows of one sheet, serialised straight to SpreadsheetML a column at a time."""

    CHUNK_CELLS = 100_000  # cells serialised at a time (~30 MB of text; roster sheet: 365 a row)

    def __init__(self, ws, df, kinds, fmts, table: str | None = None):
        self.ws, self.df, self.kinds, self.table = ws, df, kinds, table
        self.styles = [None if f is None else f._get_xf_index() for f in fmts]
        ncol = df.shape[1]
        from xlsxwriter.utility import xl_col_to_name
        self.letters = [xl_col_to_name(j) for j in range(ncol)]
        self.ref = f"A1:{self.letters[-1] if ncol else 'A'}{len(df) + 1}"
        self.texts: dict = {}  # categorical columns' texts serialised once (`_cell_pieces`)
        self.table_ref = f"A1:{self.letters[-1] if ncol else 'A'}{max(len(df), 1) + 1}"

    def chunks(self):
        n = len(self.df)
        step = max(1, self.CHUNK_CELLS // max(self.df.shape[1], 1))
        for a in range(0, n, step):
            b = min(a + step, n)
            numbers = list(map(str, range(a + 2, b + 2)))
            cols = [_cell_pieces(self.df.iloc[a:b, j], k, self.letters[j], s, numbers, self.texts)
                    for j, (k, s) in enumerate(zip(self.kinds, self.styles))]
            yield _rows_xml(numbers, cols)


def _rows_xml(numbers: list, cols: list) -> str:
    """`<row>` elements: numbers, the rows' numbers as text; cols, each column's cells as
    parallel piece lists (`_cell_pieces`), laid out row by row (a slice assignment per piece
    list) and joined once."""
    n = len(numbers)
    width = 4 + sum(len(pieces) for pieces in cols)
    parts = [""] * (n * width)
    parts[0::width] = ['<row r="'] * n
    parts[1::width] = numbers
    parts[2::width] = ['">'] * n
    k = 3
    for pieces in cols:
        for p in pieces:
            parts[k::width] = p if isinstance(p, list) else [p] * n
            k += 1
    parts[k::width] = ["</row>"] * n
    return "".join(parts)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_xml(v: str) -> str:
    v = _ILLEGAL_XML.sub("", v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if v != v.strip() else ""
    return f"<is><t{space}>{v}</t></is>"


def _cell_pieces(s: pd.Series, kind: str, letter: str, style, numbers: list,
                 texts: dict | None = None) -> list:
    """`<c>` elements of one column as pieces: a list of (a text shared by every row, or one
    text per row), joined row by row they make each row's cell; numbers: the rows' numbers as
    text. Numbers and dates as numbers, text inline, inf as #NUM!, no cell (every piece "")
    for a missing value. texts: a cache of the serialised categories of categorical columns,
    by dtype and style (columns sharing one dtype, such as the roster sheet's days, serialise
    them once)."""
    st = f' s="{style}"' if style is not None else ""
    head = f'<c r="{letter}'
    if kind == _S:  # each distinct text serialised once; missing (code -1) is no cell
        cat = pd.Categorical(s)
        key = (s.dtype, st) if isinstance(s.dtype, pd.CategoricalDtype) else None
        tail = (texts or {}).get(key) if key is not None else None
        if tail is None:
            tail = np.asarray([f'"{st} t="inlineStr">{_text_xml(str(v))}</c>'
                               for v in cat.categories] + [""], dtype=object)
            if key is not None and texts is not None:
                texts[key] = tail
        return _without(np.flatnonzero(cat.codes < 0), [head, numbers, tail[cat.codes].tolist()])
    if kind == "bool":
        tail = np.asarray([f'"{st} t="b"><v>0</v></c>', f'"{st} t="b"><v>1</v></c>'], dtype=object)
        return [head, numbers, tail[np.array([bool(v) for v in s.tolist()], dtype=np.int64)].tolist()]
    if kind == "time":
        f = np.array([np.nan if t is None else
                      (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / 86400
                      for t in s.tolist()], dtype="float64")
    elif kind in (_DT, "date"):
        f = ((s - _EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype="float64", na_value=np.nan)
    elif kind == _I and pd.api.types.is_integer_dtype(s) and not s.hasnans:
        return [head, numbers, f'"{st}><v>', list(map(str, s.tolist())), "</v></c>"]
    elif pd.api.types.is_numeric_dtype(s):
        f = s.to_numpy(dtype="float64", na_value=np.nan)
    else:  # a column that holds mixed values: let each value say what it is
        return [[_any_cell_xml(f"{letter}{r}", st, v) for r, v in zip(numbers, s.tolist())]]
    # every value as a number, then the few missing (no cell) and infinite (#NUM!) ones; a
    # column of repeated values (times of day, hours) writes each distinct one once (-0.0
    # apart from 0.0: each value its own text then)
    u, which = np.unique(f, return_inverse=True)
    if 2 * len(u) < len(f) and not np.signbit(u[u == 0]).any():
        tail = np.asarray([f'"{st}><v>{v!r}</v></c>' for v in u.tolist()], dtype=object)
        pieces = [head, numbers, tail[which.ravel()].tolist()]
    else:
        pieces = [head, numbers, f'"{st}><v>', list(map(repr, f.tolist())), "</v></c>"]
    odd = np.flatnonzero(~np.isfinite(f))
    pieces = _without(odd, pieces)
    for i in odd[~np.isnan(f[odd])].tolist():
        pieces[0][i] = f'<c r="{letter}{numbers[i]}"{st} t="e"><v>#NUM!</v></c>'
    return pieces


def _without(rows: np.ndarray, pieces: list) -> list:
    """pieces (`_cell_pieces`) with every piece "" in the given rows (no cell there); the
    pieces shared by rows become lists of their own first."""
    if not len(rows):
        return pieces
    n = len(next(p for p in pieces if isinstance(p, list)))
    out = [list(p) if isinstance(p, list) else [p] * n for p in pieces]
    for i in rows.tolist():
        for p in out:
            p[i] = ""
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


def inject_rows(path: Path, pending: dict[str, Rows]) -> None:
    """Stream each sheet's data rows into the saved workbook (rewrites the zip beside it).

    `pending` maps a worksheet part (xl/worksheets/sheetN.xml) to its rows; each sheet's Excel
    Table (xl/tables/*.xml, found by name) gets the range of those rows."""
    tables = {r.table: r.table_ref for r in pending.values() if r.table}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=tempfiles.prefix(path.name))
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                rows = pending.get(info.filename)
                if rows is None:
                    if info.filename.startswith("xl/tables/"):
                        data = _table_ref(data.decode("utf-8"), tables).encode("utf-8")
                    zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                    continue
                xml = data.decode("utf-8").replace("<sheetData/>", "<sheetData></sheetData>")
                xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{rows.ref}"/>', xml, count=1)
                head, tail = xml.split("</sheetData>", 1)
                with zout.open(info.filename, "w", force_zip64=True) as f:
                    f.write(head.encode("utf-8"))
                    _write_behind(f, (chunk.encode("utf-8") for chunk in rows.chunks()))
                    f.write(("</sheetData>" + tail).encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_behind(f, chunks) -> None:
    """f.write(chunk) for each chunk, in a thread while the next chunk is made: zlib's deflate
    and crc32 release the GIL, so compressing a sheet overlaps serialising its next rows."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        writing = None
        for chunk in chunks:
            if writing is not None:
                writing.result()  # (at most one chunk waits: memory stays one chunk)
            writing = pool.submit(f.write, chunk)
        if writing is not None:
            writing.result()


def _table_ref(xml: str, refs: dict[str, str]) -> str:
    """A table part with the ref of its table and of its autofilter set to `refs[name]`."""
    m = re.search(r'<table [^>]*\bname="([^"]+)"', xml)
    if not m or m.group(1) not in refs:
        return xml
    ref = refs[m.group(1)]
    xml = re.sub(r'(<table [^>]*\bref=")[^"]*(")', rf"\g<1>{ref}\g<2>", xml, count=1)
    return re.sub(r'(<autoFilter ref=")[^"]*(")', rf"\g<1>{ref}\g<2>", xml, count=1)


# ---------------------------------------------------------------------------------------------
# the wide staffing sheet

def staffing_wide(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per slot (and per pass of a repeated fall-back hour: `fold`): required, answering
    and shortfall agents per plateau, logged agents per plateau and provider, and logged agents
    per provider over all plateaux. A provider with no agents in a slot shows 0; a plateau
    closed in a slot (its own hours, `[opening.plateaux]`) shows blank cells."""
    cov, alloc = tables.get("coverage"), tables.get("allocation")
    keys = ["slot_start"] + (["fold"] if cov is not None and "fold" in cov.columns else [])
    parts = []
    if cov is not None and len(cov) and set(keys + ["plateau"]) <= set(cov.columns):
        for col, label in (("required_agents", "required"), ("answering_agents", "answering"),
                           ("shortfall_agents", "shortfall")):
            if col in cov.columns:
                w = cov.pivot_table(index=keys, columns="plateau", values=col, aggfunc="sum", sort=True)
                w.columns = [f"{p} {label} agents" for p in w.columns]
                parts.append(w)
    if (alloc is not None and len(alloc) and set(keys + ["plateau", "provider", "logged_agents"]) <= set(alloc.columns)):
        w = alloc.pivot_table(index=keys, columns=["plateau", "provider"], values="logged_agents",
                              aggfunc="sum", sort=True)
        w.columns = [f"{p} {k} logged agents" for p, k in w.columns]
        parts.append(w)
        t = alloc.pivot_table(index=keys, columns="provider", values="logged_agents", aggfunc="sum", sort=True)
        t.columns = [f"{k} logged agents (all plateaux)" for k in t.columns]
        parts.append(t)
    if not parts:
        return pd.DataFrame()
    wide = _blank_closed(pd.concat(parts, axis=1).sort_index().fillna(0.0), cov, keys)
    order = []  # per plateau: required, answering, shortfall side by side, then the providers
    plateaux = sorted(cov["plateau"].dropna().unique()) if cov is not None and "plateau" in cov else []
    for p in plateaux:
        order += [c for c in (f"{p} required agents", f"{p} answering agents", f"{p} shortfall agents")
                  if c in wide.columns]
    order += [c for c in wide.columns if c not in order]
    wide = wide[order].reset_index()
    return add_calendar({"w": wide})["w"]


def _blank_closed(wide: pd.DataFrame, cov, keys: list) -> pd.DataFrame:
    """Blank (NaN) the columns of a plateau in the slots where it has no coverage row (closed
    by its own hours)."""
    if cov is None or "plateau" not in cov.columns:
        return wide
    for p, rows in cov.groupby("plateau"):
        shut = ~wide.index.isin(rows.set_index(keys).index)
        if shut.any():
            cols = [c for c in wide.columns if c.startswith(f"{p} ")]
            wide.loc[shut, cols] = np.nan
    return wide


# ---------------------------------------------------------------------------------------------
# the workbook

def _manifest_sheet(wb, manifest: dict) -> None:
    """The hidden `manifest` sheet: key, value as JSON (split over rows past Excel's cell limit)."""
    ms = wb.add_worksheet(MANIFEST_SHEET)
    ms.hide()
    ms.write_string(0, 0, "key")
    ms.write_string(0, 1, "value_json")
    r = 1
    for k, v in manifest.items():
        text = json.dumps(v, default=json_default)
        for i in range(0, max(len(text), 1), 32000):  # Excel's cell limit is 32,767 characters
            ms.write_string(r, 0, k)
            ms.write_string(r, 1, text[i:i + 32000])
            r += 1


def write_workbook(path, tables: dict[str, pd.DataFrame], manifest: dict, *, charts: str | None = None) -> Path:
    """Write plan.xlsx (see the module docstring); returns its path.

    `charts` is the charts' time step (slot, day or week; default: the manifest's `charts`, else by
    the horizon's length). A table longer than Excel's row limit is split into sheets `name`,
    `name_2`, ... and the run sheet says so. Raises InputError for a bad table name or charts.
    """
    import xlsxwriter

    from . import charts as charts_mod, dashboard

    path = Path(path)
    check_table_names(tables)
    tables = {t: normalise_table(t, tables[t], (manifest.get("columns") or {}).get(t)) for t in ordered(tables)}
    kinds = {t: column_kinds(t, df) for t, df in tables.items()}
    manifest = complete_manifest(manifest, tables, kinds)
    sheets = {t: [p[0] for p in sheet_parts(TABLE_SHEET.get(t, t), len(df))] for t, df in tables.items()}
    notes = [f"Table {t} has {len(tables[t]):,} rows, more than Excel's {EXCEL_MAX_ROWS:,} rows per sheet: "
             f"split into sheets {', '.join(s)}." for t, s in sheets.items() if len(s) > 1]
    notes.append("Data sheets hold one Excel Table each (header at A1, named as the sheet); column names and "
                 "units: docs/outputs.md. Infinite values (unstable queue) show as #NUM!.")
    view = dashboard.View.build(tables, manifest)
    level = chart_level(charts or manifest.get("charts"), view.days)
    wide = staffing_wide(tables)

    pending: dict[str, Rows] = {}
    with atomic(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False, "nan_inf_to_errors": True})
        fm = Formats(wb)
        summary = wb.add_worksheet(SUMMARY_SHEET)
        chart_ws = wb.add_worksheet(CHARTS_SHEET)
        order = [SUMMARY_SHEET, CHARTS_SHEET]

        def add(sheet, df, k, a=0, b=None, table=None):
            pending[f"xl/worksheets/sheet{len(order) + 1}.xml"] = data_sheet(wb, fm, sheet, df, k, a, b, table=table)
            order.append(sheet)

        if len(wide):
            wk = column_kinds(STAFFING_SHEET, wide)
            for sheet, a, b in sheet_parts(STAFFING_SHEET, len(wide)):
                add(sheet, wide, wk, a, b)
        for sheet, df in ((DAILY_SHEET, view.daily_wide), (WEEKLY_SHEET, view.weekly_wide)):
            if df is not None and len(df):
                add(sheet, df, column_kinds(sheet, df))
        if "rosters" in tables and len(tables["rosters"]):
            from ..rosters.plan import roster_sheet

            memory.release()  # (the sheets before: not under the roster grid's temporaries)
            grid = roster_sheet(tables["rosters"])
            for sheet, a, b in sheet_parts(ROSTER_SHEET, len(grid)):
                add(sheet, grid, {c: "str" for c in grid.columns}, a, b)
        for t, df in tables.items():
            for sheet, a, b in sheet_parts(TABLE_SHEET.get(t, t), len(df)):
                add(sheet, df, kinds[t], a, b, table=t)
        dashboard.write_summary(summary, fm, view, level)
        charts_mod.add_charts(wb, chart_ws, fm, view, level, wide=wide, sheets=sheets, tables=tables)
        run = wb.add_worksheet(RUN_SHEET)
        dashboard.write_run_sheet(run, fm, manifest, notes)
        _manifest_sheet(wb, manifest)
        summary.activate()
        wb.close()
        inject_rows(tmp, pending)
    return path
