"""`staffing export`: rebuild one format of a run's tables from the others."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .files import require_pyarrow, write_manifest, write_table_csv, write_table_parquet
from .load import load, load_manifest
from .rundir import check_destination
from .tables import MANIFEST_NAME, WORKBOOK_NAME, column_kinds
from .workbook import complete_manifest, write_workbook

def export_run(run, fmt: str, *, out=None, force: bool = False, charts: str | None = None) -> list[Path]:
    """Rebuild one format (xlsx, csv, parquet) of a run's tables; returns the files written."""
    run = Path(run)
    if not run.exists():
        raise InputError("no such run folder", file=str(run))
    if fmt == "parquet":
        require_pyarrow()
    tables = load(run)
    manifest = load_manifest(run)
    src_dir = run if run.is_dir() else run.parent
    out = Path(out) if out is not None else src_dir
    check_destination(out, manifest, ())
    if out.exists() and not out.is_dir():
        raise InputError("--out exists and is not a folder", file=str(out))
    if fmt == "xlsx":
        targets = [out / WORKBOOK_NAME]
    else:
        targets = [out / f"{t}.{fmt}" for t in tables]
    if os.path.realpath(out) != os.path.realpath(src_dir):
        targets.append(out / MANIFEST_NAME)
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise InputError("exists; use --force to overwrite it, or --out DIR to write elsewhere",
                         file=str(existing[0]))
    declared = manifest.get("columns") or {}
    kinds = {t: column_kinds(t, df, declared.get(t)) for t, df in tables.items()}
    m = complete_manifest(manifest, tables, kinds)
    written = []
    if fmt == "xlsx":
        written.append(write_workbook(out / WORKBOOK_NAME, tables, m, charts=charts))
    else:
        writer = write_table_csv if fmt == "csv" else write_table_parquet
        written += [writer(df, out / f"{t}.{fmt}", table=t) for t, df in tables.items()]
    if os.path.realpath(out) != os.path.realpath(src_dir):
        written.append(write_manifest(m, out / MANIFEST_NAME))
    return written
