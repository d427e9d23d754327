"""Freed memory handed back to the system between the stages of a large run, and the
garbage collector paused while a week's model is built and solved (`paused_gc`).

pandas and Arrow free a stage's temporary tables into their allocators (glibc malloc's heap,
Arrow's memory pool), which keep the pages for later use: the resident size stays where the
stage left it, and the next stage's temporaries come on top. After a year's rostered plan
(832,000 roster lines) is written, about 200 MB are held so. `release()` asks both allocators
to return what they hold unused (Arrow's `MemoryPool.release_unused`, glibc's `malloc_trim`):
milliseconds, and nothing where neither is there.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys

_LIBC: list = []  # [the C library, or None where it has no malloc_trim]


def release() -> None:
    """Return the allocators' free memory to the system (no effect on any value)."""
    pa = sys.modules.get("pyarrow")  # (not imported for this: only if a stage used it)
    if pa is not None:
        try:
            pa.default_memory_pool().release_unused()
        except AttributeError:  # an Arrow without it
            pass
    if not _LIBC:
        _LIBC.append(_libc())
    if _LIBC[0] is not None:
        _LIBC[0].malloc_trim(0)


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


@contextlib.contextmanager
def paused_gc():
    """Python's cyclic garbage collector off while a week's model is built and solved (on
    again after, as it was). A week's model is some 130,000 variable objects and their rows:
    the collections their allocations set off walk every object alive. They were half of a
    build's CPU time and a fifth of a re-plan's (bench/allocation.py). What the week leaves
    is collected later, as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
