"""Files of a run: each written to a temporary name beside it and renamed into place (CSV,
Parquet, manifest.json); `atomic` is the one helper every writer here uses."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd

from .. import tempfiles
from ..errors import InputError
from ..safe_text import csv_escape, escape_series
from .tables import _DT, _STR_DTYPE, column_kinds, normalise_table

def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


@contextmanager
def atomic(path: Path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    tempfiles.check_name(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tempfiles.clean_stale(path.parent)  # what writers killed outright left behind
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=tempfiles.prefix(path.name))
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
            s = _iso_text(s, "s")  # 2009-03-02T08:00:00
        elif kind == "date":
            s = _iso_text(s, "D")  # 2009-03-02
        elif kind == "time":
            s = s.map(lambda t: None if t is None else t.isoformat(timespec="minutes" if not
                                                                    (t.second or t.microsecond) else "auto"))
        elif kind == "str":
            s = escape_series(s)  # no formula injection (safe_text)
        out[csv_escape(col)] = s
    return pd.DataFrame(out)


def _iso_text(s: pd.Series, unit: str) -> pd.Series:
    """Datetimes as ISO 8601 text to the `unit` (s: 2009-03-02T08:00:00, D: 2009-03-02), wall
    clock for a zoned column; missing stays missing. What strftime("%Y-%m-%dT%H:%M:%S") or
    ("%Y-%m-%d") gives, from Arrow's cast to text (5x faster than numpy's formatter, which
    is 10x faster than strftime's value by value), its date-time space made a T."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    v = s.to_numpy().astype(f"datetime64[{unit}]")
    text = pc.cast(pa.array(v, mask=np.isnat(v)), pa.string())
    if unit != "D":
        text = pc.replace_substring(text, " ", "T", max_replacements=1)
    return pd.Series(text, index=s.index, dtype="str")


ROWS_PER_BLOCK = 50_000  # rows converted to text at a time (a year's rosters: 832,000)


def write_csv(frame: pd.DataFrame, path, prepare=None) -> None:
    """`frame` as CSV text: UTF-8, a header, no index, `\n` line ends, datetimes as
    2009-03-02T08:00:00, booleans as True / False, missing values empty, numbers in their
    shortest exact form (356, 0.25, 1e-05), text quoted only in a table where some cell needs
    it (a `,`, a quote or a line end: then every text cell is). pyarrow's writer, 10x faster than
    pandas' on 458,640 allocation rows; pandas' for what Arrow cannot hold (mixed types).
    prepare: frame -> the frame to write (e.g. values as text), applied to ROWS_PER_BLOCK rows
    at a time, so that only one block's text is in memory."""
    import csv
    import io

    import pyarrow as pa
    from pyarrow import csv as pa_csv

    prepare = prepare or (lambda f: f)
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([str(c) for c in prepare(frame.iloc[:0]).columns])
    starts = range(0, len(frame), ROWS_PER_BLOCK)
    with open(path, "wb") as fh:
        for quoting in ("none", "needed"):  # "none" refuses a cell that needs quotes
            fh.seek(0)
            fh.truncate()
            fh.write(head.getvalue().encode("utf-8"))
            try:
                for a in starts:
                    block = prepare(frame.iloc[a:a + ROWS_PER_BLOCK])
                    try:
                        # NaN and None: missing. One chunk per column: pyarrow 26's CSV writer
                        # emits a block of NUL bytes for a chunked column with an empty chunk
                        # (a frame concatenated from an empty slice, Arrow-backed strings).
                        table = pa.table({str(c): _one_chunk(pa.array(_csv_ready(block[c]),
                                                                      from_pandas=True))
                                          for c in block.columns})
                    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                        fh.close()
                        prepare(frame).to_csv(path, index=False, encoding="utf-8",
                                              lineterminator="\n",
                                              date_format="%Y-%m-%dT%H:%M:%S")
                        return
                    pa_csv.write_csv(table, fh, pa_csv.WriteOptions(include_header=False,
                                                                    quoting_style=quoting))
                return
            except pa.ArrowInvalid:
                if quoting == "needed":
                    raise


def _one_chunk(arr):
    """A pyarrow array as one contiguous chunk (a ChunkedArray is combined)."""
    return arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr


def _csv_ready(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(object).map({True: "True", False: "False"})
    return s


def write_table_csv(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as CSV (UTF-8, ISO-8601 datetimes, '.' decimal, empty = missing)."""
    path = Path(path)
    table = table or path.stem
    df = normalise_table(table, df)
    kinds = column_kinds(table, df)
    with atomic(path) as tmp:
        write_csv(df, tmp, prepare=lambda f: _csv_frame(f, kinds))
    return path


def write_table_parquet(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as Parquet (needs the optional pyarrow)."""
    require_pyarrow()
    path = Path(path)
    df = normalise_table(table or path.stem, df)
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    with atomic(path) as tmp:
        if cats:  # text as categories in memory (tables.normalise_table): text in the file
            _write_parquet_text(df, cats, tmp)
        else:
            df.to_parquet(tmp, index=False, engine="pyarrow")
    return path


def _write_parquet_text(df: pd.DataFrame, cats: list, path) -> None:
    """What df.to_parquet(path, index=False) writes once the categorical columns `cats` are
    text: each cast in Arrow, ROWS_PER_BLOCK rows at a time (one row group each), instead of
    being made text in pandas (a copy of every column's text at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not len(df):
        df.astype({c: _STR_DTYPE for c in cats}).to_parquet(path, index=False, engine="pyarrow")
        return
    # the schema and pandas metadata of text columns: from one row with a text in each
    probe = df.head(1).astype({c: _STR_DTYPE for c in cats}).assign(**{c: "x" for c in cats})
    schema = pa.Table.from_pandas(probe, preserve_index=False).schema
    with pq.ParquetWriter(path, schema) as writer:
        for a in range(0, len(df), ROWS_PER_BLOCK):
            table = pa.Table.from_pandas(df.iloc[a:a + ROWS_PER_BLOCK], preserve_index=False)
            for c in cats:
                i = table.schema.get_field_index(c)
                table = table.set_column(i, schema.field(c),
                                         table.column(i).cast(schema.field(c).type))
            writer.write_table(table.replace_schema_metadata(schema.metadata))


def write_manifest(manifest: dict, path) -> Path:
    path = Path(path)
    with atomic(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, default=json_default) + "\n", encoding="utf-8")
    return path


def json_default(v):
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


def require_pyarrow():
    if not have_pyarrow():
        raise InputError("Parquet needs pyarrow: pip install 'staffing[parquet]'", field="format")


