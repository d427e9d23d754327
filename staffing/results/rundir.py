"""Run folders: a fresh path per run, refusal to write over the inputs, and the whole folder
built beside its destination and renamed into place in one step (it exists complete or not at
all)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .. import memory, tempfiles
from ..errors import InputError
from . import files, workbook
from .files import _UMASK, require_pyarrow, have_pyarrow
from .tables import MANIFEST_NAME, WORKBOOK_NAME, column_kinds, normalise_table, ordered
from .workbook import check_table_names, complete_manifest

def new_run_dir(outputs_root, scenario_name: str, command: str) -> Path:
    """A fresh path outputs/<scenario>/<YYYYmmdd-HHMMSS>-<command>[-N] (not created).

    The name is reserved for this process (staffing.tempfiles.reserve) until write_run writes it
    or the process ends: commands started in the same second get different folders.
    """
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "_", str(s)).strip("._") or "run"  # noqa: E731
    base = Path(outputs_root) / safe(scenario_name)[:100]
    stem = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{safe(command)}"
    path, n = base / stem, 1
    while not tempfiles.reserve(path):
        n += 1
        path = base / f"{stem}-{n}"
    return path


def _inside(child: Path, parent: Path) -> bool:
    child, parent = Path(os.path.realpath(child)), Path(os.path.realpath(parent))
    return child == parent or parent in child.parents


def check_destination(run_dir: Path, manifest: dict, forbidden_dirs) -> None:
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
              formats=None, forbidden_dirs=(), meanwhile=None) -> Path:
    """Write a complete run folder (tables as CSV / Parquet, plan.xlsx, manifest.json) atomically.

    meanwhile: a callable run once the CSV and Parquet files are written, while the workbook
    of a large run is still being written beside them (else after the workbook); an
    exception from it ends the writing, with nothing left in the run folder.

    Everything is built in a hidden sibling folder and renamed into place at the end. An existing
    run_dir is refused (InputError) unless `force`; so is a run_dir inside or over a forbidden dir
    (the scenario's inputs) or over an input file named in the manifest.
    """
    run_dir = Path(run_dir).absolute()
    tempfiles.check_name(run_dir)
    formats = tuple(default_formats() if formats is None else formats)
    bad = set(formats) - {"csv", "xlsx", "parquet"}
    if bad:
        raise InputError(f"unknown output format(s) {sorted(bad)}", field="formats")
    if "parquet" in formats:
        require_pyarrow()
    check_destination(run_dir, manifest, forbidden_dirs)
    if run_dir.exists() and not force:
        raise InputError("run folder exists; use --force to replace it", file=str(run_dir))
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError("exists and is not a folder", file=str(run_dir))
    check_table_names(tables)
    memory.release()  # (what the plan's last stages freed: not under the files' text)
    declared = manifest.get("columns") or {}
    tables = {t: normalise_table(t, tables[t], declared.get(t)) for t in ordered(tables)}
    kinds = {t: column_kinds(t, df) for t, df in tables.items()}
    manifest = complete_manifest(manifest, tables, kinds)
    manifest["formats"] = list(formats)

    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tempfiles.clean_stale(run_dir.parent)
    tmp = Path(tempfile.mkdtemp(prefix=tempfiles.prefix(run_dir.name), dir=run_dir.parent))
    book = None
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)
        if "xlsx" in formats:  # the workbook beside the files when it is large
            book = _Beside.start(workbook.write_workbook, tmp / WORKBOOK_NAME, tables, manifest,
                                 rows=sum(len(df) for df in tables.values()))
        for t, df in tables.items():
            if "csv" in formats:
                files.write_table_csv(df, tmp / f"{t}.csv", table=t)
            if "parquet" in formats:
                files.write_table_parquet(df, tmp / f"{t}.parquet", table=t)
            memory.release()  # (each file's text and Arrow buffers: not under the next one)
        if book is not None:
            if meanwhile is not None:
                meanwhile()
            _wait(book)
        else:
            if "xlsx" in formats:
                workbook.write_workbook(tmp / WORKBOOK_NAME, tables, manifest)
                memory.release()
            if meanwhile is not None:
                meanwhile()
        files.write_manifest(manifest, tmp / MANIFEST_NAME)
        _move_into_place(tmp, run_dir, force)
    except BaseException:
        if book is not None:
            book.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        tempfiles.release(run_dir)
    return run_dir


BESIDE_ROWS = 200_000  # tables' rows from which the workbook is written in a process of its own


class _Beside:
    """A writer run in a forked copy of this process while this one writes the other files:
    the workbook of a large run takes longer than its CSV and Parquet files together, on a
    core of its own (bench/allocation.py). The copy shares the tables' memory with this
    process. Only where fork is the system's own (Linux) and the tables have at least
    BESIDE_ROWS rows; elsewhere `start` returns None and the caller writes in turn. The
    copy's error, if any, is raised again here by `wait`."""

    def __init__(self, process, receive):
        self.process, self.receive = process, receive

    @classmethod
    def start(cls, write, path, tables, manifest, rows: int):
        import multiprocessing as mp
        import sys

        if rows < BESIDE_ROWS or not sys.platform.startswith("linux"):
            return None
        ctx = mp.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_write_beside, args=(send, os.getpid(), write, path, tables,
                                                     manifest), daemon=True)
        p.start()
        send.close()
        return cls(p, receive)

    def wait(self) -> None:
        """Until the copy ends; its error raised here (RuntimeError if it died without one)."""
        try:
            error = self.receive.recv()
        except EOFError:
            error = RuntimeError("the workbook's writer ended without a word")
        self.process.join()
        if error is not None:
            raise error
        if self.process.exitcode != 0:
            raise RuntimeError(f"the workbook's writer exited with code {self.process.exitcode}")

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()


def _wait(book: _Beside) -> None:
    """book.wait() (a stage of its own for bench/phases.py: the workbook's writer's time)."""
    book.wait()


def _write_beside(send, parent: int, write, path, tables, manifest) -> None:
    """In the forked copy: write(path, tables, manifest), then send None or the error."""
    from .. import parallel

    parallel._die_with_parent(parent)  # (and Ctrl-C is the parent's to handle)
    try:
        write(path, tables, manifest)
        error = None
    except BaseException as exc:  # noqa: BLE001  (sent whole to the parent, which raises it)
        error = exc
    try:
        send.send(error)
    except Exception:  # noqa: BLE001  (an error that does not pickle: its text)
        send.send(RuntimeError(f"{type(error).__name__}: {error}"))
    send.close()


def _move_into_place(tmp: Path, run_dir: Path, force: bool) -> None:
    if run_dir.exists():
        if not force:
            raise InputError("run folder exists; use --force to replace it", file=str(run_dir))
        old = Path(tempfile.mkdtemp(prefix=tempfiles.old_prefix(run_dir.name), dir=run_dir.parent))
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


