"""Commands that write a file with --output: never over their own inputs or into the scenario's
input folders, never into a folder that does not exist, and with the umask's file mode."""

import os
import shutil
import stat
from pathlib import Path

import pytest

from staffing.cli import main

ROOT = Path(__file__).resolve().parents[1]


def one_line_exit_2(capsys, args, *fragments):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for f in fragments:
        assert f in err, err


@pytest.fixture
def scenario(tmp_path):
    """A copy of the default model and its inputs folder, so a wrong write harms nothing."""
    shutil.copytree(ROOT / "inputs" / "orange-2009", tmp_path / "inputs" / "orange-2009")
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "models" / "orange-2009.toml", tmp_path / "models")
    return tmp_path / "models" / "orange-2009.toml", tmp_path / "inputs" / "orange-2009"


def test_requirements_refuses_its_inputs_and_their_folder(scenario, capsys, tmp_path):
    model, inputs = scenario
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    one_line_exit_2(capsys, ["requirements", str(model), "--output", str(inputs / "plateaux.csv")],
                    "field '--output'", "input file")
    one_line_exit_2(capsys, ["requirements", str(model), "--output", str(inputs / "new.csv")],
                    "field '--output'", "input folder")
    one_line_exit_2(capsys, ["requirements", str(model), "--output", str(model)],
                    "field '--output'", "input file")
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before


def test_forecast_and_erlang_refuse_their_input(tmp_path, capsys):
    history = tmp_path / "h.csv"
    history.write_text("slot_start,calls\n" + "".join(
        f"1999-02-{d:02d}T{h:02d}:00:00,{10 + h}\n" for d in range(1, 28) for h in range(8, 18)))
    before = history.read_bytes()
    one_line_exit_2(capsys, ["forecast", str(history), "--start", "1999-03-01", "--weeks", "1",
                             "--output", str(history)], "field '--output'", "input file")
    assert history.read_bytes() == before
    src = tmp_path / "in.csv"
    src.write_text("calls,aht_s\n10,180\n")
    one_line_exit_2(capsys, ["erlang", "--input", str(src), "--output",
                             str(tmp_path / "." / "in.csv")], "input file")


@pytest.mark.parametrize("args", [
    ["erlang", "--input", "{in}", "--output", "{missing}/o.csv"],
    ["erlang", "--input", "{in}", "--output", "{missing}/o.xlsx"],
    ["requirements", "--output", "{missing}/r.csv"],
])
def test_missing_output_folder_is_refused_not_created(tmp_path, capsys, args):
    src = tmp_path / "in.csv"
    src.write_text("calls,aht_s\n10,180\n")
    missing = tmp_path / "nope"
    args = [a.format(**{"in": src, "missing": missing}) for a in args]
    one_line_exit_2(capsys, args, "does not exist", "field '--output'")
    assert not missing.exists()


@pytest.mark.parametrize("args,name", [
    (["erlang", "--input", "{in}", "--output", "{dir}/o.csv"], "o.csv"),
    (["erlang", "--input", "{in}", "--output", "{dir}/o.xlsx"], "o.xlsx"),
    (["requirements", "--output", "{dir}/r.csv"], "r.csv"),
])
def test_output_files_get_the_umask_mode(tmp_path, capsys, args, name):
    src = tmp_path / "in.csv"
    src.write_text("calls,aht_s\n10,180\n")
    args = [a.format(**{"in": src, "dir": tmp_path}) for a in args]
    assert main(args) == 0, capsys.readouterr().err
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


def test_calibrate_will_not_replace_the_folder_holding_its_log(tmp_path, capsys):
    folder = tmp_path / "work"
    folder.mkdir()
    log = folder / "calls.csv"
    shutil.copy(ROOT / "tests" / "data" / "anonymous-bank-1999-02-01-02-calls.csv", log)
    one_line_exit_2(capsys, ["calibrate", str(log), "--map", "anonymous-bank", "--output",
                             str(folder), "--force"], "field '--output'", "call log")
    assert log.exists()
