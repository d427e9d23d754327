"""The process-pool helper: order, errors, and workers that die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from staffing import parallel
from staffing.parallel import kept_pool, pool_open, run_jobs, submit


def _square(x):
    return x * x


def _boom(x):
    if x == 3:
        raise ValueError("job 3 failed")
    return x


def _slow(x):
    time.sleep(0.05 * (5 - x))
    return x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_job_order(workers):
    seen = []
    out = run_jobs(_slow, list(range(5)), workers, progress=seen.append,
                   on_result=lambda i, r: seen.append(("r", i, r)))
    assert out == [0, 1, 2, 3, 4]
    assert seen.count(1) == 5
    assert sorted(x for x in seen if isinstance(x, tuple)) == [("r", i, i) for i in range(5)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_job_propagates(workers):
    with pytest.raises(ValueError, match="job 3 failed"):
        run_jobs(_boom, list(range(6)), workers)


def _pid(x):
    time.sleep(0.02)
    return os.getpid()


def test_a_kept_pool_serves_every_call_of_its_block_with_the_same_workers():
    with kept_pool(2):
        first = set(run_jobs(_pid, range(6), 2))
        second = set(run_jobs(_pid, range(6), 2))
        assert run_jobs(_square, list(range(5)), 2) == [0, 1, 4, 9, 16]
    assert os.getpid() not in first and len(first) <= 2 and second <= first
    third = set(run_jobs(_pid, range(6), 2))  # after the block: a pool of its own
    assert not third & first
    pids = list(first)
    time.sleep(0.2)
    assert not any(_alive(p) for p in pids)  # the kept pool's workers ended with its block


def test_a_failing_job_in_a_kept_pool_ends_its_workers_and_later_calls_still_run():
    with kept_pool(2):
        before = set(run_jobs(_pid, range(4), 2))
        with pytest.raises(ValueError, match="job 3 failed"):
            run_jobs(_boom, list(range(6)), 2)
        assert not parallel._kept  # the broken pool is no longer offered
        after = set(run_jobs(_pid, range(4), 2))
        assert run_jobs(_square, [2, 3], 2) == [4, 9]
    assert not before & after
    time.sleep(0.2)
    assert not any(_alive(p) for p in before | after)


def test_submit_starts_a_job_in_the_kept_pool_beside_run_jobs_and_none_without_one():
    assert submit(_square, 3) is None  # no kept pool: the caller runs the job itself
    assert not pool_open()
    with kept_pool(1):  # one worker keeps no pool
        assert not pool_open() and submit(_square, 3) is None
    with kept_pool(2):
        assert pool_open()
        f = submit(_pid, 0)
        pids = set(run_jobs(_pid, range(4), 2)) | {f.result()}
        assert os.getpid() not in pids and len(pids) <= 2  # the kept pool's two workers
        assert submit(_square, 7).result() == 49
        g = submit(_boom, 3)
        with pytest.raises(ValueError, match="job 3 failed"):
            g.result()
    assert not pool_open()
    time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped) counts as dead
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_die_when_the_parent_is_killed(tmp_path):
    """kill -9 of the parent: no worker outlives it by more than a few seconds."""
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import os, time
        from staffing.parallel import run_jobs

        def job(x):
            with open({str(pids)!r}, "a") as fh:
                fh.write(f"{{os.getpid()}}\\n")
            time.sleep(120)

        if __name__ == "__main__":
            run_jobs(job, [1, 2], 2)
    """)
    (tmp_path / "parent.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], env=env,
                            start_new_session=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
            time.sleep(0.1)
        workers = [int(p) for p in pids.read_text().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers)
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
