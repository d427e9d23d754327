"""memory.release: freed memory kept by the allocators goes back to the system."""

import sys

import pytest

from staffing import memory


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(memory._libc() is None, reason="needs glibc's malloc_trim (Linux)")
def test_release_gives_back_freed_heap_pages_held_below_a_live_block():
    blobs = [bytes(4096) + str(i).encode() for i in range(40_000)]  # ~160 MB from malloc
    pin = bytes(4096) + b"pin"  # a live block above them: the heap's top cannot shrink
    before = _rss_mb()
    del blobs
    held = _rss_mb()
    memory.release()
    after = _rss_mb()
    assert held > before - 40  # free() kept most of the pages
    assert after < held - 100  # release() gave them back
    assert pin.endswith(b"pin")


def test_release_changes_no_value_and_runs_without_arrow():
    import numpy as np

    a = np.arange(10.0)
    arrow = sys.modules.pop("pyarrow", None)
    try:
        memory.release()
    finally:
        if arrow is not None:
            sys.modules["pyarrow"] = arrow
    memory.release()
    assert (a == np.arange(10.0)).all()
