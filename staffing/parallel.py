"""The one place that runs tasks in worker processes (weeks, compare cases, sweep points, replications).

Workers die with their parent: each worker asks Linux to send it SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG) and, on any system, watches the parent process from a daemon thread and
exits when it is gone. A `kill -9` of the command therefore leaves no solver running. On an
exception or an interrupt (Ctrl-C, SIGTERM) in the parent, pending tasks are cancelled and the
workers are terminated before the exception goes on.

Tasks are CPU-bound solves on one machine, so a process pool from the standard library is
enough: no scheduler process to start or to leave behind. A distributed backend would plug in
here, behind `run_jobs`.
"""

from __future__ import annotations

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


def imap_unordered(func: Callable, jobs: Iterable, workers: int) -> Iterator[tuple[int, object]]:
    """(index, func(job)) for every job, as each finishes; in processes when workers > 1.

    `func` and the jobs must pickle. An exception raised by a job, or an interrupt in the
    parent, cancels the rest and ends the workers before it propagates.
    """
    jobs = list(jobs)
    workers = max(1, min(int(workers or 1), len(jobs)))
    if workers == 1:
        for i, job in enumerate(jobs):
            yield i, func(job)
        return
    pool = _pool(workers)
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
        _shutdown(pool, abort)


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
