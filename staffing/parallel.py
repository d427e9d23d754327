"""The one place that runs tasks in worker processes (weeks, compare cases, sweep points, replications).

Workers die with their parent: each worker asks Linux to send it SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG) and, on any system, watches the parent process from a daemon thread and
exits when it is gone. A `kill -9` of the command therefore leaves no solver running. On an
exception or an interrupt (Ctrl-C, SIGTERM) in the parent, pending tasks are cancelled and the
workers are terminated before the exception goes on.

Two engines behind the same `run_jobs`:

- on one machine (the default), a process pool from the standard library. A Dask LocalCluster
  would do the same work but costs ~2.4 s to import, start and close on a 2-core machine (the
  pool: 0.16 s; `python bench/parallel.py`), and its nanny processes would outlive a `kill -9`;
- on a Dask cluster when a scheduler address is given (`--scheduler tcp://HOST:8786` or the
  environment variable DASK_SCHEDULER_ADDRESS; `set_scheduler`). Each job is shipped to the
  workers whole (the loaded scenario and its tables, pickled: no shared file system is assumed)
  and its result comes back to this process, which alone writes files. The scheduler reruns the
  task of a worker that is lost; Ctrl-C, SIGTERM or a failing job cancels the remaining tasks.
  Workers need the same version of `staffing` installed (`pip install 'staffing[dask]'`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from contextlib import closing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator

_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.5
CONNECT_TIMEOUT_S = 20  # to reach a Dask scheduler
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"

_scheduler: str | None = None
_kept: list = []  # [(pool, workers)] while a `kept_pool` block runs


def set_scheduler(address: str | None) -> None:
    """Run the jobs of this process on the Dask scheduler at `address` (None: on this machine).

    Only the process that sets it distributes: code running inside a task (on a worker) has no
    address set and runs its own inner jobs in turn.
    """
    global _scheduler
    _scheduler = address.strip() if address and address.strip() else None


def scheduler() -> str | None:
    """The Dask scheduler address jobs go to, or None for this machine's process pool."""
    return _scheduler


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process as soon as `parent_pid` is gone."""
    # the command's Ctrl-C / SIGTERM handling belongs to the parent; workers are ended by it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watch thread below still works
            pass
    if not _alive(parent_pid):  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="parent-watch").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (pid reused): treat as gone
        return False
    return True


def _watch_parent(parent_pid: int) -> None:
    start_ppid = os.getppid()
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if os.getppid() != start_ppid or not _alive(parent_pid):
            os._exit(1)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent,
                               initargs=(os.getpid(),))


def _shutdown(pool: ProcessPoolExecutor, abort: bool) -> None:
    if not abort:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:  # a running solve is not interruptible: end the worker itself
        if p.is_alive():
            p.kill()
    for p in processes:
        p.join(timeout=5)


@contextlib.contextmanager
def kept_pool(workers: int):
    """Within the block, `run_jobs` calls of up to `workers` processes share one pool instead
    of starting and ending their own each time (many small rounds of jobs, such as a horizon
    rostered week by week). A failing job or an interrupt ends the pool's workers as without
    it; the block's later calls then start their own pools."""
    workers = max(1, int(workers or 1))
    if _scheduler is not None or workers == 1 or _kept:
        yield
        return
    pool = _pool(workers)
    _kept.append((pool, workers))
    abort = True
    try:
        yield
        abort = False
    finally:
        if _kept and _kept[-1][0] is pool:
            _kept.pop()
        _shutdown(pool, abort)


def pool_open() -> bool:
    """Whether a `kept_pool` is open here (so `submit` starts jobs in it)."""
    return bool(_kept)


def submit(func: Callable, job):
    """func(job) started now in the open `kept_pool` (a concurrent.futures.Future, whose
    result() raises what the job raised), or None when no pool is kept (outside a block, one
    worker, a Dask cluster): the caller then runs the job with `run_jobs`. Inside the block,
    the pool's workers take jobs in the order they were given, these and `run_jobs`' alike; a
    job still running when the block ends is waited for (or, on an exception, ended)."""
    return _kept[-1][0].submit(func, job) if _kept else None


def imap_unordered(func: Callable, jobs: Iterable, workers: int) -> Iterator[tuple[int, object]]:
    """(index, func(job)) for every job, as each finishes; in processes when workers > 1 (the
    `kept_pool` when one is open and large enough).

    `func` and the jobs must pickle. An exception raised by a job, or an interrupt in the
    parent, cancels the rest and ends the workers before it propagates.
    """
    jobs = list(jobs)
    if _scheduler is not None and jobs:
        yield from _dask_imap(func, jobs, _scheduler)
        return
    workers = max(1, min(int(workers or 1), len(jobs)))
    if workers == 1:
        for i, job in enumerate(jobs):
            yield i, func(job)
        return
    kept = _kept[-1][0] if _kept and _kept[-1][1] >= workers else None
    pool = kept or _pool(workers)
    abort = True
    try:
        pending = {pool.submit(func, job): i for i, job in enumerate(jobs)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                yield i, fut.result()
        abort = False
    finally:
        if pool is not kept:
            _shutdown(pool, abort)
        elif abort:  # its workers may still run a job of this call: end them, and the pool
            _kept.pop()
            _shutdown(pool, True)


def _connect(address: str):
    """A Dask client on `address`; InputError (exit 2) when dask is missing or unreachable."""
    from .errors import InputError

    try:
        from distributed import Client
    except ImportError:
        raise InputError("running on a Dask cluster needs dask[distributed]: "
                         "pip install 'staffing[dask]'", field="--scheduler") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot reach the Dask scheduler at {address}: {reason}",
                         field="--scheduler") from None


def _dask_imap(func: Callable, jobs: list, address: str) -> Iterator[tuple[int, object]]:
    """(index, func(job)) as each task finishes on the cluster; cancels what is left on exit."""
    import uuid

    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from .errors import StaffingError

    client = _connect(address)
    tag = f"{getattr(func, '__name__', 'job')}-{uuid.uuid4().hex[:12]}"
    futures: list = []
    finished = False
    try:
        futures = client.map(func, jobs, key=[f"{tag}-{i}" for i in range(len(jobs))], pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures, loop=client.loop):
            try:
                result = fut.result()
            except KilledWorker as exc:  # its workers died more often than the scheduler allows
                raise StaffingError(f"a task killed its Dask workers repeatedly: {exc}") from None
            except FutureCancelledError:
                raise StaffingError(f"the Dask scheduler at {address} cancelled a task "
                                    "(scheduler restarted or lost?)") from None
            yield index[fut.key], result
        finished = True
    finally:
        if not finished and futures:
            try:
                client.cancel(futures, force=True)
            except Exception:  # the scheduler may be gone already; nothing left to cancel
                pass
        client.close(timeout=5)


def run_jobs(func: Callable, jobs: list, workers: int, progress: Callable | None = None,
             on_result: Callable | None = None) -> list:
    """[func(job) for job in jobs] in job order, in up to `workers` processes.

    As each job finishes, on_result(index, result) and progress(1) are called (in the parent);
    an exception from either also cancels the remaining jobs and ends the workers.
    """
    jobs = list(jobs)
    out: list = [None] * len(jobs)
    with closing(imap_unordered(func, jobs, workers)) as results:
        for i, result in results:
            out[i] = result
            if on_result:
                on_result(i, result)
            if progress:
                progress(1)
    return out
