"""Runs on a Dask cluster: a scheduler and two workers started as separate processes on the
loopback interface. Same results as on this machine; a worker killed mid-sweep costs nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from economics_helpers import write_tiny  # noqa: E402
from staffing import parallel  # noqa: E402
from staffing.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90  # scheduler file written and both workers registered
TASK_TIMEOUT_S = 300  # a whole command on the cluster


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    with open(log, "wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _end(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill is not ignored
            pass


@contextmanager
def dask_cluster(tmp: Path, workers: int = 2):
    """(address, worker processes) of a scheduler and `workers` single-threaded workers (no
    nanny: killing a worker's process loses it) on 127.0.0.1; all ended on the way out."""
    tmp.mkdir(parents=True, exist_ok=True)
    file = tmp / "scheduler.json"
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                             "--idle-timeout", "600s", "--scheduler-file", str(file)],
                            tmp / "scheduler.log"))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not file.is_file() or not file.read_text().strip():
            assert procs[0].poll() is None, (tmp / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(workers):
            procs.append(_spawn(["worker", address, "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}",
                                 "--death-timeout", "60s"], tmp / f"worker{i}.log"))
        with distributed.Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield address, procs[1:]
    finally:
        _end(procs)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask")) as (address, workers):
        yield address, workers


def _tables(run: Path) -> dict[str, pd.DataFrame]:
    return {f.stem: pd.read_csv(f) for f in sorted(run.glob("*.csv"))}


def _assert_same_run(local: Path, remote: Path) -> None:
    a, b = _tables(local), _tables(remote)
    assert sorted(a) == sorted(b) and a
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


SWEEP = ["--param", "service.sl_target=0.5,0.6,0.7,0.8,0.9", "--regimes", "R0,R2"]


def test_sweep_on_the_cluster_matches_the_local_run(tmp_path, cluster):
    address, _ = cluster
    model = write_tiny(tmp_path / "m", "erlang_c")
    assert main(["sweep", str(model), *SWEEP, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    assert main(["sweep", str(model), *SWEEP, "--scheduler", address,
                 "--out", str(tmp_path / "remote")]) == 0
    _assert_same_run(tmp_path / "local", tmp_path / "remote")
    assert len(pd.read_csv(tmp_path / "remote" / "sweep.csv")) == 10
    assert parallel.scheduler() is None  # the address does not outlive the command


def test_two_week_optimise_on_the_cluster_matches_the_local_run(tmp_path, cluster, monkeypatch):
    address, _ = cluster
    two = ["optimise", "--start", "2009-04-06", "--weeks", "2"]  # two different weeks
    assert main([*two, "--out", str(tmp_path / "local")]) == 0
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)  # the address from the environment
    seen = []
    real = parallel._dask_imap
    monkeypatch.setattr(parallel, "_dask_imap",
                        lambda f, jobs, a: (seen.append((a, len(jobs))), real(f, jobs, a))[1])
    assert main([*two, "--out", str(tmp_path / "remote")]) == 0
    assert seen[0] == (address, 2)  # both weeks went to the cluster, as two tasks
    assert {a for a, _ in seen} == {address}  # so did the rosters' team and refit jobs
    _assert_same_run(tmp_path / "local", tmp_path / "remote")
    for run in ("local", "remote"):  # the client wrote every file: nothing left elsewhere
        assert (tmp_path / run / "plan.xlsx").is_file()


def test_a_worker_killed_mid_sweep_still_completes_it(tmp_path):
    model = write_tiny(tmp_path / "m", "erlang_c")
    args = ["sweep", str(model), *SWEEP]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    with dask_cluster(tmp_path / "dask") as (address, workers):
        outcome = {}
        run = threading.Thread(target=lambda: outcome.setdefault(
            "code", main([*args, "--scheduler", address, "--out", str(tmp_path / "remote")])))
        run.start()
        killed = None
        with distributed.Client(address, timeout=START_TIMEOUT_S) as client:
            deadline = time.monotonic() + TASK_TIMEOUT_S
            while killed is None and run.is_alive() and time.monotonic() < deadline:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                info = client.scheduler_info()["workers"]
                for w, keys in busy.items():
                    if info.get(w, {}).get("name") == "w0":
                        os.kill(workers[0].pid, signal.SIGKILL)
                        killed = keys
                        break
                time.sleep(0.02)
        run.join(TASK_TIMEOUT_S)
        assert not run.is_alive(), "the sweep did not finish"
        assert killed, "worker w0 never ran a task"
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
    assert outcome["code"] == 0
    _assert_same_run(tmp_path / "local", tmp_path / "remote")


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_S", 1)
    model = write_tiny(tmp_path / "m", "erlang_c")
    out = tmp_path / "run"
    code = main(["sweep", str(model), "--param", "service.sl_target=0.6,0.7",
                 "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err[0]
    assert not out.exists()


def test_an_interrupt_cancels_the_tasks_left(cluster):
    address, _ = cluster
    parallel.set_scheduler(address)

    def stop(i, result):
        raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            parallel.run_jobs(time.sleep, [0.05, 60, 60, 60, 60], 2, on_result=stop)
    finally:
        parallel.set_scheduler(None)
    with distributed.Client(address, timeout=START_TIMEOUT_S) as client:
        deadline = time.monotonic() + 20
        while any(client.processing().values()) or client.who_has():
            assert time.monotonic() < deadline, client.processing()
            time.sleep(0.1)
