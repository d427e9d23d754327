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
from ..safe_text import csv_escape
from .tables import _DT, column_kinds, normalise_table

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
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif kind == "date":
            s = s.dt.strftime("%Y-%m-%d")
        elif kind == "time":
            s = s.map(lambda t: None if t is None else t.isoformat(timespec="minutes" if not
                                                                    (t.second or t.microsecond) else "auto"))
        elif kind == "str":
            s = s.map(csv_escape, na_action="ignore")  # no formula injection (safe_text)
        out[csv_escape(col)] = s
    return pd.DataFrame(out)


def write_table_csv(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as CSV (UTF-8, ISO-8601 datetimes, '.' decimal, empty = missing)."""
    path = Path(path)
    table = table or path.stem
    df = normalise_table(table, df)
    frame = _csv_frame(df, column_kinds(table, df))
    with atomic(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return path


def write_table_parquet(df: pd.DataFrame, path, *, table: str | None = None) -> Path:
    """Write one table as Parquet (needs the optional pyarrow)."""
    require_pyarrow()
    path = Path(path)
    df = normalise_table(table or path.stem, df)
    with atomic(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow")
    return path


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


