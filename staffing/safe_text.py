"""User text written as text: no formula injection in CSV files or workbooks.

Spreadsheet programs run a CSV cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return followed by one) as a formula, e.g. `=HYPERLINK(...)` or `=cmd|' /C calc'!A0`. CSV
outputs therefore prefix such text with an apostrophe, the usual neutralisation (OWASP, "CSV
injection"): Excel and LibreOffice then show the text as typed. The escape is reversible:
text that already starts with apostrophes followed by one of those characters gets one more, and
`csv_unescape` removes exactly one, so a run's tables read back unchanged.

In workbooks, user text goes into text cells (`t="s"` / `t="inlineStr"`), never formula cells:
`text_cell` makes one for openpyxl; with XlsxWriter, write user text with
`worksheet.write_string` (never `write`, which turns text starting with `=` into a formula).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"^'*[=+\-@\t\r]")
_UNESCAPE = re.compile(r"^'+[=+\-@\t\r]")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula if typed into a cell."""
    return isinstance(text, str) and text[:1] in FORMULA_LEADS


def csv_escape(value):
    """`value` for a CSV cell: text led by = + - @ (after any apostrophes) gets a leading `'`."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return "'" + value
    return value


def csv_unescape(value):
    """Inverse of `csv_escape` (text read back from a CSV this package wrote)."""
    if isinstance(value, str) and _UNESCAPE.match(value):
        return value[1:]
    return value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (object / string columns, and the header) are `csv_escape`d."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            s = escape_series(s)
        out[csv_escape(str(col))] = s
    return pd.DataFrame(out, index=frame.index)


def escape_series(s: pd.Series) -> pd.Series:
    """`csv_escape` on every cell, tested on the whole column at once (a categorical column's
    categories: the escape is one-to-one, so they stay distinct)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
            escaped = [csv_escape(c) for c in cats]
            return s if escaped == list(cats) else s.cat.rename_categories(escaped)
    try:
        lead = s.str.match(_ESCAPED.pattern)
    except AttributeError:  # not a text column (numbers held as objects): cell by cell
        return s.map(csv_escape, na_action="ignore")
    lead = lead.fillna(False).astype(bool) & s.map(type).eq(str) if lead.any() else lead
    if not lead.any():
        return s
    s = s.copy()
    s[lead] = "'" + s[lead]
    return s


def unescape_series(s: pd.Series) -> pd.Series:
    """`csv_unescape` on every text cell of a column."""
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return s.map(csv_unescape, na_action="ignore")
    return s


def text_cell(ws, value: str):
    """An openpyxl write-only cell that holds `value` as text, even when it starts with `=`."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl marks text led by '=' as a formula ('f')
    return cell


def excel_value(value):
    """A cell value for openpyxl: numpy scalars as Python numbers, NaN as empty."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        value = float(value)
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT:
        return None
    return value
