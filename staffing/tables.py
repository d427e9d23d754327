"""The one reader of input tables (scenario tables, forecasts, `erlang` batches): CSV or xlsx.

CSV files are read as French and other spreadsheet programs save them:

- encoding: UTF-8 with or without a byte-order mark; bytes that are not UTF-8 are read as
  Windows-1252 (Excel's "CSV" on a French Windows); anything else is refused;
- separator: `,`; or `;` when the header line holds a `;` and no `,` (Excel in a locale whose
  decimal mark is a comma). Only in such `;` files are decimal commas read (`12,5`, `1 234,5`);
- line ends: LF, CRLF or CR.

A header that holds both `,` and `;` (or tabs) is refused with how to re-save the file.
Workbooks are read from their first sheet, from the values Excel cached for formulas; a formula
with no cached value (a file written by a script and never opened) is refused, as are
workbooks and CSV files beyond the size bounds below (a zip bomb is refused before parsing).
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path

from .errors import InputError

MAX_CSV_BYTES = 512 * 2**20
MAX_XLSX_UNCOMPRESSED_BYTES = 256 * 2**20  # all parts of the workbook, uncompressed
MAX_SHARED_STRINGS_BYTES = 64 * 2**20
MAX_ROWS = 2_000_000
MAX_CELLS = 20_000_000
RESAVE = ("re-save it as \"CSV UTF-8 (comma delimited)\" or \"CSV (semicolon delimited)\" "
          "from the spreadsheet program")

_FRENCH_NUMBER = re.compile(r"^\s*[+-]?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?"
                            r"(?:[eE][+-]?\d+)?\s*$")
_FRENCH_MARKS = re.compile(r"[, \u00a0\u202f]")  # only such cells need reading the French way
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


class DecimalComma(str):
    """A cell of a `;`-separated file that reads as a number with a decimal comma.

    It is the cell's text as written (text columns keep it as is); `to_float` reads it.
    """


def to_float(value) -> float:
    """A number from a cell: numbers as they are, text as Python reads it, `DecimalComma`
    text with its comma and thousands spaces. ValueError when it is not a number."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if isinstance(value, DecimalComma):
        text = re.sub(r"[ \u00a0\u202f]", "", text).replace(",", ".")
    return float(text.replace("_", ""))


def not_a_number(value) -> str:
    """The message for a cell that is not a number, with a hint for decimal commas."""
    text = str(value).strip()
    if "," in text and not isinstance(value, DecimalComma) and \
            re.fullmatch(r"[+-]?\d+,\d+", text):
        return (f"'{value}' is not a number (decimal commas are read only in files separated "
                f"by ';')")
    return f"'{value}' is not a number"


def read_table(path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and (line number, {column: raw value}) rows of a CSV or xlsx table.

    The header is line 1; blank rows are skipped. InputError (naming the file, and the row and
    column when there is one) for an unreadable file, an unknown extension, an ambiguous CSV
    dialect, a missing or duplicated header, a row with more values than columns, a formula
    without a cached value, or a table beyond the size bounds.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise InputError(f"unsupported extension '{suffix or path.name}': input tables must be "
                         f".csv or .xlsx", file=str(path))
    _check_readable(path)
    if suffix == ".csv":
        header, rows = _read_csv(path)
    else:
        header, rows = _read_xlsx(path)
    return _records(path, header, rows)


def read_frame(path) -> "pd.DataFrame":
    """A CSV or xlsx table as a pandas frame, by the same rules as `read_table` (encoding,
    separator, bounds, formulas, duplicate columns): for long tables such as call logs.

    CSV cells are text (blank: missing); in a `;` file, cells that read as decimal-comma numbers
    are `DecimalComma` text. Workbook cells keep their types. Blank rows are skipped.
    """
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise InputError(f"unsupported extension '{suffix or path.name}': use .csv or .xlsx",
                         file=str(path))
    _check_readable(path)
    if suffix != ".csv":
        header, records = _records(path, *_read_xlsx(path))
        return pd.DataFrame([[rec[c] for c in header] for _, rec in records], columns=header,
                            dtype=object)
    file = str(path)
    text = decode_text(_read_bytes(path), file)
    sep = sniff_separator(text, file)
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep), None)
    _records(path, first, [])  # the header's checks: present, named, no duplicate
    try:
        frame = pd.read_csv(io.StringIO(text, newline=""), sep=sep, dtype=str,
                            keep_default_na=False, na_values=[""], skip_blank_lines=True)
    except (ValueError, csv.Error) as exc:  # pandas' ParserError is a ValueError
        raise InputError(f"bad CSV: {str(exc).splitlines()[0]}", file=file) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    _bound(len(frame), frame.size, file)
    if sep == ";":
        frame = frame.apply(lambda col: col.map(
            lambda c: DecimalComma(c) if isinstance(c, str) and _FRENCH_MARKS.search(c)
            and _FRENCH_NUMBER.match(c) else c))
    return frame


def _check_readable(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except OSError as exc:  # a symlink loop, a name too long...
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if not path.is_file():
        raise InputError("not a file", file=str(path))
    if not os.access(path, os.R_OK):
        raise InputError("cannot read: permission denied", file=str(path))
    limit = MAX_CSV_BYTES if path.suffix.lower() == ".csv" else MAX_XLSX_UNCOMPRESSED_BYTES
    if st.st_size > limit:
        raise InputError(f"{st.st_size / 2**20:,.0f} MB: too large to read as an input table "
                         f"(at most {limit / 2**20:,.0f} MB)", file=str(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None


def decode_text(raw: bytes, file: str) -> str:
    """Text of a CSV file: UTF-8 (a BOM is dropped), else Windows-1252; InputError otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"UTF-16 text is not read: {RESAVE}", file=file)
    if b"\x00" in raw:
        raise InputError("binary data, not CSV text", file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(f"neither UTF-8 nor Windows-1252 text (byte 0x{raw[exc.start]:02x} at "
                         f"offset {exc.start}): {RESAVE}", file=file) from None


def sniff_separator(text: str, file: str) -> str:
    """`;` when the header line holds `;` and no `,`; `,` otherwise; InputError if ambiguous."""
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if "," in first and ";" in first:
        raise InputError(f"the header holds both ',' and ';': the separator is ambiguous; "
                         f"{RESAVE}", file=file, row=1)
    if "\t" in first and "," not in first and ";" not in first:
        raise InputError(f"tab-separated text is not read: {RESAVE}", file=file, row=1)
    return ";" if ";" in first else ","


def _read_csv(path: Path) -> tuple[list | None, list[tuple[int, list]]]:
    file = str(path)
    text = decode_text(_read_bytes(path), file)
    sep = sniff_separator(text, file)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[tuple[int, list]] = []
    try:
        header = next(reader, None)
        cells = 0
        for raw in reader:
            if all(not c.strip() for c in raw):
                continue
            cells += len(raw)
            _bound(len(rows) + 1, cells, file)
            if sep == ";":
                raw = [DecimalComma(c) if _FRENCH_MARKS.search(c) and _FRENCH_NUMBER.match(c)
                       else c for c in raw]
            rows.append((reader.line_num, raw))
    except csv.Error as exc:
        raise InputError(f"bad CSV: {exc}", file=file, row=reader.line_num) from None
    return header, rows


def _bound(rows: int, cells: int, file: str) -> None:
    if rows > MAX_ROWS or cells > MAX_CELLS:
        raise InputError(f"more than {MAX_ROWS:,} rows or {MAX_CELLS:,} cells: too large to read "
                         f"as an input table", file=file)


def check_workbook_size(path, max_bytes: int | None = None, max_shared: int | None = None,
                        ) -> list[zipfile.ZipInfo]:
    """The parts of an xlsx; InputError when it is not a zip file, or when its parts would
    exceed `max_bytes` uncompressed or its shared strings `max_shared` (a zip bomb is refused
    from the zip directory, before anything is decompressed)."""
    file = str(path)
    max_bytes = MAX_XLSX_UNCOMPRESSED_BYTES if max_bytes is None else max_bytes
    max_shared = MAX_SHARED_STRINGS_BYTES if max_shared is None else max_shared
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InputError(f"not a readable xlsx workbook ({exc})", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise InputError(f"{total / 2**20:,.0f} MB uncompressed: too large to read (at most "
                         f"{max_bytes / 2**20:,.0f} MB)", file=file)
    for i in infos:
        if i.filename.lower().endswith("sharedstrings.xml") and i.file_size > max_shared:
            raise InputError(f"{i.file_size / 2**20:,.0f} MB of shared strings: too large to "
                             f"read (at most {max_shared / 2**20:,.0f} MB)", file=file)
    return infos


def _check_zip(path: Path) -> bool:
    """Refuse workbooks whose parts would be too large uncompressed; True if formulas appear."""
    infos = check_workbook_size(path)
    try:
        with zipfile.ZipFile(path) as z:
            return any(_has_formula(z, i) for i in infos
                       if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InputError(f"not a readable xlsx workbook ({exc})", file=str(path)) from None


def _has_formula(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    tail = b""
    with z.open(info) as fh:
        while chunk := fh.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _sheet_rows(path: Path, data_only: bool):
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is bad input
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from None
    sheet = book.worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # a declared A1:XFD1048576 must not pad every row
    return book, sheet.iter_rows(values_only=True)


def _read_xlsx(path: Path) -> tuple[list | None, list[tuple[int, list]]]:
    file = str(path)
    formulas = _check_zip(path)
    book, it = _sheet_rows(path, data_only=True)
    book_f, it_f = _sheet_rows(path, data_only=False) if formulas else (None, None)
    try:
        first = next(it, None)
        if it_f is not None:
            next(it_f, None)
        header = None if first is None else ["" if v is None else str(v) for v in first]
        rows, cells = [], 0
        for line, raw in enumerate(it, start=2):
            raw_f = next(it_f, ()) if it_f is not None else ()
            cells += len(raw)
            _bound(line - 1, cells, file)
            for j, (v, f) in enumerate(zip(raw, raw_f)):
                if v is None and isinstance(f, str) and f.startswith("="):
                    name = header[j] if header and j < len(header) else None
                    raise InputError(f"formula {f[:40]} has no computed value: open the file in "
                                     f"the spreadsheet program and save it", file=file, row=line,
                                     field=name)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
                continue
            rows.append((line, list(raw)))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML and the like
        raise InputError(f"cannot read workbook: {exc}", file=file) from None
    finally:
        book.close()
        if book_f is not None:
            book_f.close()
    return header, rows


def _records(path: Path, header, rows) -> tuple[list[str], list[tuple[int, dict]]]:
    file = str(path)
    if not header or all(not str(h).strip() for h in header):
        raise InputError("empty table: no header line", file=file)
    header = [str(h).strip() for h in header]
    while header and not header[-1]:  # trailing empty header cells (a ';' at the line end)
        header.pop()
    seen = set()
    for name in header:
        if not name:
            raise InputError("a column has no name in the header", file=file, row=1)
        if name in seen:
            raise InputError(f"duplicate column '{name}'", file=file, row=1, field=name)
        seen.add(name)
    out = []
    for line, raw in rows:
        if len(raw) > len(header) and any(str(v).strip() for v in raw[len(header):]
                                          if v is not None):
            raise InputError(f"{len(raw)} values for {len(header)} columns", file=file, row=line)
        out.append((line, {name: (raw[i] if i < len(raw) else None)
                           for i, name in enumerate(header)}))
    return header, out


def missing_column(col: str, header, known=()) -> str:
    """The problem text for a required column `col` absent from `header`: names the unknown
    header column that is a close match (a misspelt or renamed `aht_sec` for `aht_s`)."""
    import difflib

    unknown = [str(c) for c in header if c not in known and c != col]
    near = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
    return (f"missing column: found unknown column '{near[0]}' instead (misspelt? rename it "
            f"'{col}')" if near else "missing column")
