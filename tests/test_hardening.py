"""Faults and hostile text: signals, unwritable outputs, concurrent runs, formula injection,
and the queueing rules that used to accept impossible or ignored targets."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import small_scenario as ss
from scenario_helpers import copy_default, edit
from staffing import queueing, results, safe_text, tempfiles
from staffing.cli import main

ROOT = Path(__file__).resolve().parents[1]


def small_model(root: Path, **kw) -> Path:
    providers = [{"id": "a", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 20,
                  "seats": 100, "shrinkage": 0}]
    return ss.write(root, providers=providers, forecast=ss.monday_slots([20, 30, 40, 30]), **kw)


def _run_cli(args, cwd, patch: str = "", timeout=120):
    """The command in a fresh interpreter, after `patch` (Python run first)."""
    code = "\n".join(["import os, signal, sys", "from staffing.cli import main",
                      textwrap.dedent(patch), f"sys.exit(main({args!r}))"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _lines(err: str) -> list[str]:
    """stderr lines other than warnings (a scenario may warn, e.g. about annual figures)."""
    return [x for x in err.strip().splitlines() if not x.startswith("warning: ")]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- signals

# the signal arrives while the workbook is being written (after the CSV files)
_DURING_XLSX = """
import staffing.results.workbook as r
real = r.inject_rows
def _inject(path, pending):
    os.kill(os.getpid(), signal.{sig})
    real(path, pending)
r.inject_rows = _inject
"""


@pytest.mark.parametrize("sig,code,word", [("SIGTERM", 143, "terminated"),
                                           ("SIGINT", 130, "interrupted")])
def test_signal_during_the_write_one_line_and_no_debris(tmp_path, sig, code, word):
    model = small_model(tmp_path / "m")
    out = tmp_path / "runs" / "run"
    out.parent.mkdir()
    res = _run_cli(["optimise", str(model), "--out", str(out)], tmp_path,
                   _DURING_XLSX.format(sig=sig))
    assert res.returncode == code, res.stderr
    lines = _lines(res.stderr)
    assert len(lines) == 1 and word in lines[0], res.stderr
    assert list(out.parent.iterdir()) == []  # neither the run folder nor a hidden temp


def test_sigkill_debris_is_cleaned_by_the_next_run(tmp_path):
    model = small_model(tmp_path / "m")
    runs = tmp_path / "runs"
    runs.mkdir()
    res = _run_cli(["optimise", str(model), "--out", str(runs / "a")], tmp_path,
                   _DURING_XLSX.replace("os.kill(os.getpid(), signal.{sig})",
                                        "os.kill(os.getpid(), signal.SIGKILL)"))
    assert res.returncode == -signal.SIGKILL
    left = _hidden(runs)
    assert left and all(".tmp-" in n for n in left)  # what a killed writer leaves
    assert main(["optimise", str(model), "--out", str(runs / "b")]) == 0
    assert _hidden(runs) == [] and sorted(p.name for p in runs.iterdir()) == ["b"]


def test_live_writers_temporaries_are_kept(tmp_path):
    mine = tmp_path / (tempfiles.prefix("x") + "abc")
    mine.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / (tempfiles.prefix("x").replace(f"-{os.getpid()}@", f"-{dead}@") + "abc")
    stale.write_text("half")
    elsewhere = tmp_path / f".x.tmp-{dead}@00000000-abc"  # another machine's: left alone
    elsewhere.write_text("theirs")
    assert tempfiles.clean_stale(tmp_path) == [stale]
    assert mine.exists() and not stale.exists() and elsewhere.exists()


# --------------------------------------------------------------------------- outputs that fail

@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_write_failure_is_one_line_and_leaves_nothing(capsys, tmp_path, monkeypatch, err):
    model = small_model(tmp_path / "m")
    runs = tmp_path / "runs"
    runs.mkdir()

    def fail(*a, **k):
        raise OSError(err, os.strerror(err), str(runs / "x"))

    monkeypatch.setattr(results.files, "write_manifest", fail)
    code = main(["optimise", str(model), "--out", str(runs / "run")])
    lines = _lines(capsys.readouterr().err)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    assert list(runs.iterdir()) == []


def test_full_disk_for_an_erlang_table(capsys, tmp_path, monkeypatch):
    (tmp_path / "in.csv").write_text("calls,aht_s\n100,180\n")

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    pa_csv = pytest.importorskip("pyarrow.csv")
    monkeypatch.setattr(pa_csv, "write_csv", full)  # the writer of large tables
    code = main(["erlang", "--input", str(tmp_path / "in.csv"), "--output",
                 str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no space left" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_long_scenario_name(capsys, tmp_path):
    model = small_model(tmp_path / "m")
    edit(model, 'name = "small"', f'name = "{"n" * 300}"')
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["optimise", str(model)])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert code == 0, err  # the run folder's name is cut to what the file system allows
    (run,) = list((tmp_path / "outputs").iterdir())[0].iterdir()
    assert len(run.parent.name) <= 100 and (run / "manifest.json").exists()


def test_output_name_too_long(capsys, tmp_path):
    (tmp_path / "in.csv").write_text("calls,aht_s\n100,180\n")
    code = main(["erlang", "--input", str(tmp_path / "in.csv"), "--output",
                 str(tmp_path / ("r" * 300 + ".csv"))])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "longer than" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_invalid_sheet_title_from_the_output_name(tmp_path):
    (tmp_path / "in.csv").write_text("calls,aht_s\n100,180\n")
    out = tmp_path / "out" / "result[1].xlsx"
    out.parent.mkdir()
    assert main(["erlang", "--input", str(tmp_path / "in.csv"), "--output", str(out)]) == 0
    assert openpyxl.load_workbook(out).sheetnames == ["result_1_"]


# --------------------------------------------------------------------------- run ids

def test_run_ids_are_unique_within_a_second(tmp_path):
    paths = [results.new_run_dir(tmp_path, "s", "optimise") for _ in range(5)]
    assert len(set(paths)) == 5
    for p in paths:
        tempfiles.release(p)


def test_a_reservation_being_written_or_held_is_respected(tmp_path):
    path = tmp_path / "20090302-080000-optimise"
    marker = tmp_path / ".20090302-080000-optimise.run"
    marker.write_text("")  # created by another process that has not written its pid yet
    assert not tempfiles.reserve(path)
    marker.write_text(str(os.getppid()))  # held by a live process
    assert not tempfiles.reserve(path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    marker.write_text(dead)  # a dead process's reservation is taken over
    assert tempfiles.reserve(path) and marker.read_text() == str(os.getpid())
    tempfiles.release(path)
    assert not marker.exists()


def test_concurrent_runs_get_their_own_folders(tmp_path):
    model = small_model(tmp_path / "m")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from staffing.cli import main; sys.exit(main(sys.argv[1:]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, "optimise", str(model)], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1].decode() for o in outs]
    runs = list((tmp_path / "outputs" / "small").iterdir())
    assert len(runs) == 3 and all((r / "manifest.json").exists() for r in runs)


# --------------------------------------------------------------------------- formula injection

@pytest.mark.parametrize("text,escaped", [("=1+2", "'=1+2"), ("+33 1", "'+33 1"),
                                          ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
                                          ("'=x", "''=x"), ("plain", "plain"), ("a=b", "a=b"),
                                          ("'quoted", "'quoted")])
def test_csv_escape_round_trip(text, escaped):
    assert safe_text.csv_escape(text) == escaped
    assert safe_text.csv_unescape(escaped) == text


def test_regime_name_and_plateau_text_stay_text(tmp_path):
    """A regime named =1+2 and a provider site =HYPERLINK(...): text cells and neutral CSV."""
    model = copy_default(tmp_path)
    edit(model, 'name = "local rate (loi Chatel)"', 'name = "=1+2"')
    edit(tmp_path / "inputs" / "orange-2009" / "providers.csv", ",Webhelp France,",
         ',"=HYPERLINK(""http://x"",""y"")",')
    out = tmp_path / "run"
    assert main(["optimise", str(model), "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out / "plan.xlsx")  # formulas as written, not values
    formulas = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
                for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}
    assert '=HYPERLINK("http://x","y")' in texts
    providers = (out / "providers.csv").read_text()
    assert "'=HYPERLINK" in providers and "\n=" not in providers and ",=" not in providers
    back = results.load(out, format="csv")["providers"]
    assert '=HYPERLINK("http://x","y")' in set(back["site"])


def test_erlang_xlsx_output_writes_labels_as_text(tmp_path):
    (tmp_path / "in.csv").write_text("calls,aht_s,label\n100,180,\"=cmd|' /C calc'!A0\"\n"
                                     "90,180,@SUM(1)\n")
    for out in ("out.xlsx", "out.csv"):
        assert main(["erlang", "--input", str(tmp_path / "in.csv"), "--output",
                     str(tmp_path / out)]) == 0
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    cells = {c.value: c.data_type for row in ws.iter_rows() for c in row}
    assert cells["=cmd|' /C calc'!A0"] == "s" and cells["@SUM(1)"] == "s"
    text = (tmp_path / "out.csv").read_text()
    assert "'=cmd" in text and "'@SUM(1)" in text


def test_workbook_text_is_stored_as_strings_in_the_xml(tmp_path):
    """No <f> element anywhere in the workbooks written."""
    (tmp_path / "in.csv").write_text("calls,aht_s,label\n100,180,=1+2\n")
    assert main(["erlang", "--input", str(tmp_path / "in.csv"), "--output",
                 str(tmp_path / "o.xlsx")]) == 0
    with zipfile.ZipFile(tmp_path / "o.xlsx") as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml


# --------------------------------------------------------------------------- queueing rules

@pytest.mark.parametrize("agents", [1, 7, 999, 23808, 33331, 123457, 2_000_000])
@pytest.mark.parametrize("shrinkage", [0.0, 0.1, 0.28571, 0.3, 1 / 3, 0.5, 0.7, 0.99])
def test_scheduled_staff_is_the_least_that_covers(agents, shrinkage):
    s = int(queueing.scheduled_staff(agents, shrinkage))
    # exact in rationals: s (1 - shrinkage) >= agents > (s - 1)(1 - shrinkage), up to 1e-6 agent
    keep = 1.0 - shrinkage
    assert s * keep >= agents - 1e-6
    assert (s - 1) * keep < agents - 1e-9


def test_scheduled_staff_example_from_the_field():
    assert int(queueing.scheduled_staff(23808, 0.28571)) == 33332


def test_service_level_one_is_refused_in_every_model():
    for kw in ({}, {"patience_s": 100.0}):
        for answer in (0.0, 20.0, 600.0):
            with pytest.raises(Exception, match="sl_target 1.0 cannot be met"):
                queueing.required_agents(100.0, 180.0, 30.0, 1.0, answer, **kw)
    # zero calls need nobody, whatever the target
    assert int(queueing.required_agents(0.0, 180.0, 30.0, 1.0, 20.0)) == 0


def test_max_abandon_with_patience_still_works():
    n = queueing.required_agents(100.0, 180.0, 30.0, 0.5, 20.0, patience_s=60.0,
                                 max_abandon=0.01)
    m = queueing.evaluate(100.0, 180.0, 30.0, n, 20.0, patience_s=60.0)
    m1 = queueing.evaluate(100.0, 180.0, 30.0, n - 1, 20.0, patience_s=60.0)
    assert m["p_abandon"] <= 0.01 < max(m1["p_abandon"], 0.01 + (m1["service_level"] < 0.5))


def test_parallel_workers_left_after_kill_minus_9(tmp_path):
    """A compare with two worker processes, killed with SIGKILL: no worker survives it."""
    model = copy_default(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from staffing.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "compare", str(model), "--workers", "2",
                             "--out", str(tmp_path / "c")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.time() + 60
    while time.time() < deadline and len(children) < 2:
        time.sleep(0.2)
        try:
            children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                        .read_text().split()]
        except FileNotFoundError:
            break
    assert len(children) >= 2, "the workers never started"
    proc.kill()
    proc.wait()
    deadline = time.time() + 10

    def alive(pid):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (FileNotFoundError, IndexError):
            return False
        return state != "Z"

    while time.time() < deadline and any(alive(p) for p in children):
        time.sleep(0.2)
    assert not any(alive(p) for p in children)
    assert np.all([not alive(p) for p in children])
