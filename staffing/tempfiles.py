"""Temporary siblings of outputs, tagged with the writer's process id; run-id reservations.

Every output is written under a hidden sibling name `.<name>.tmp-<pid>@<host>-<random>` and
renamed into place. A process killed by SIGKILL (or a power cut) cannot remove its temporary files, so
each writer first removes the tagged siblings of processes of this machine that no longer exist
(`clean_stale`). Automatic run folders are reserved with an exclusive marker file
`.<run id>.run` (holding the pid) so that two commands started in the same second never pick the same
folder; markers are removed when the folder is written or the process ends.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import socket
from contextlib import suppress
from pathlib import Path

_TAGGED = re.compile(r"^\..*\.(?:tmp|old)-(\d+)@([0-9a-f]{8})-.*$")
_NAME_KEEP = 80  # characters of the output's name kept in a temporary name (NAME_MAX is 255)
_reserved: set[Path] = set()


def _host() -> str:
    """8 hex digits naming this machine: a pid means something only on the machine it runs on
    (a folder shared over the network may hold temporaries of live processes elsewhere)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def prefix(name: str) -> str:
    """Prefix for a temporary sibling of the output `name` (mkstemp / mkdtemp `prefix=`)."""
    return f".{name[:_NAME_KEEP]}.tmp-{os.getpid()}@{_host()}-"


def check_name(path) -> None:
    """InputError when an output's file or folder name is longer than the file system allows."""
    from .errors import InputError

    path = Path(path)
    folder = next((p for p in path.parents if p.exists()), Path("."))
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > limit:
            raise InputError(f"a file or folder name is longer than {limit} bytes: "
                             f"'{part[:40]}...'", file=str(path)[:120] + "...")


def old_prefix(name: str) -> str:
    """Prefix for the folder that holds a replaced run folder until the new one is in place."""
    return f".{name[:_NAME_KEEP]}.old-{os.getpid()}@{_host()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale(folder) -> list[Path]:
    """Remove tagged temporary siblings in `folder` left by processes that are gone."""
    removed, host = [], _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TAGGED.match(entry.name)
        if not m or m.group(2) != host or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        with suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def _marker(path: Path) -> Path:
    return path.parent / f".{path.name[:_NAME_KEEP]}.run"


def reserve(path: Path) -> bool:
    """Reserve a run folder name for this process; False if taken (by a folder or a live
    process's reservation). The marker is created exclusively: one process wins."""
    path = Path(path)
    marker = _marker(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent)
    for _ in range(2):
        if path.exists():
            return False
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(marker)
            if holder is None and _age_s(marker) < 60:
                return False  # being written by its creator this instant: taken
            if holder is not None and _alive(holder):
                return False
            with suppress(OSError):  # a dead process's reservation
                marker.unlink()
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        if path.exists():  # written meanwhile by a process that did not reserve it
            release(path)
            return False
        _reserved.add(marker)
        return True
    return False


def release(path: Path) -> None:
    """Drop this process's reservation of a run folder name (after writing it, or on exit)."""
    marker = _marker(Path(path))
    if marker in _reserved or _holder(marker) == os.getpid():
        with suppress(OSError):
            marker.unlink()
    _reserved.discard(marker)


def _age_s(path: Path) -> float:
    import time

    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _holder(marker: Path) -> int | None:
    try:
        return int(marker.read_text().strip())
    except (OSError, ValueError):
        return None


@atexit.register
def _release_all() -> None:
    for marker in list(_reserved):
        with suppress(OSError):
            marker.unlink()
    _reserved.clear()
