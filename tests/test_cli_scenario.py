"""`staffing validate` and `staffing requirements`: summaries, tables, one-line errors."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from scenario_helpers import copy_default, edit
from staffing.cli import main


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_validate_default_summary(capsys):
    code, out, err = run(capsys, "validate")
    assert code == 0 and err == ""
    assert "orange-2009" in out and "3,200 advisers" in out and "6 subcontractors" in out
    assert "33,000,000 under R2 (30,000,000 observed under R1)" in out
    assert "196 open slots" in out and "mon-sun 08:00-22:00" in out
    assert out.rstrip().endswith("ok")


def test_validate_json(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the packaged default is found from anywhere
    code, out, _ = run(capsys, "validate", "--json")
    assert code == 0
    info = json.loads(out)
    assert {"scenario", "plateaux", "providers", "inhouse_headcount", "subcontractors",
            "offshore_sites", "calls_per_year", "slots"} <= set(info)
    assert info["scenario"] == "orange-2009" and info["plateaux"] == 5 and info["providers"] == 13
    assert info["inhouse_headcount"] == 3200 and info["subcontractors"] == 6
    assert info["offshore_sites"] == 1 and info["slots"] == 7 * 28
    assert info["calls_per_year"] == pytest.approx(33e6)  # 30 M under R1, +10 % under R2
    assert info["calls_per_year_by_plateau"]["fixed"] == pytest.approx(11e6)


def test_validate_with_set(capsys):
    code, out, _ = run(capsys, "validate", "--json", "--set", "pricing.active=R1",
                       "--set", "horizon.weeks=2")
    info = json.loads(out)
    assert code == 0 and info["calls_per_year"] == pytest.approx(30e6) and info["slots"] == 14 * 28


def test_validate_bad_model_one_line_for_all_problems(capsys, tmp_path):
    model = copy_default(tmp_path)
    providers = tmp_path / "inputs" / "orange-2009" / "providers.csv"
    edit(providers, "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,0.30",
         "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,1.30")
    edit(providers, "b2s,subcontractor,B2S,internet;fixed,26,", "b2s,subcontractor,B2S,internet;fax,26,")
    code, out, err = run(capsys, "validate", str(model))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {providers}, row 4, field 'shrinkage': 1.3 is out of range: must be in [0, 1) "
        f"(and 1 more problem in the input)",
    ]
    assert "Traceback" not in err


def test_validate_unknown_key_and_missing_model(capsys, tmp_path):
    model = copy_default(tmp_path)
    edit(model, "weeks = 1 ", "weeks = 1\nweeks_ = 1 ")
    code, _, err = run(capsys, "validate", str(model))
    assert code == 2
    assert err == f"error: {model}, field 'horizon.weeks_': unknown key 'horizon.weeks_'\n"
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.toml"))
    assert code == 2 and err == f"error: {tmp_path / 'nope.toml'}: model file not found\n"
    code, _, err = run(capsys, "validate", "--set", "service.sl_target")
    assert code == 2 and err == "error: --set: expected key=value, got 'service.sl_target'\n"


def test_requirements_csv(capsys, tmp_path):
    out_file = tmp_path / "out" / "req.csv"
    out_file.parent.mkdir()
    code, out, err = run(capsys, "requirements", "--output", str(out_file))
    assert code == 0, err
    assert "980 rows (5 plateaux x 196 slots)" in out
    table = pd.read_csv(out_file, parse_dates=["slot_start"])
    assert list(table.columns) == ["scenario", "slot_start", "slot_minutes", "plateau", "calls",
                                   "aht_s", "live_aht_s", "load_erlangs", "agents", "scheduled", "service_level",
                                   "asa_s", "occupancy", "p_wait", "p_abandon"]
    assert len(table) == 980 and table["slot_start"].iloc[0] == pd.Timestamp("2009-03-02 08:00")
    assert (table["service_level"] >= 0.8).all() and (table["occupancy"] <= 0.88).all()
    assert table["p_abandon"].isna().all()
    assert (table["scheduled"] > table["agents"]).all()
    assert table["calls"].sum() == pytest.approx(33e6 * 7 / 365, rel=0.03)
    assert "2009-03-02T08:00:00" in out_file.read_text().splitlines()[1]
    assert [p.name for p in out_file.parent.iterdir()] == ["req.csv"]  # no temp file left


def test_requirements_xlsx_with_erlang_a(capsys, tmp_path):
    out_file = tmp_path / "req.xlsx"
    code, _, err = run(capsys, "requirements", "--output", str(out_file),
                       "--set", "service.queueing=erlang_a", "--regime", "R1")
    assert code == 0, err
    table = pd.read_excel(out_file)
    assert len(table) == 980 and table["p_abandon"].between(0, 1).all()
    assert table["calls"].sum() == pytest.approx(30e6 * 7 / 365, rel=0.03)


def test_requirements_bad_output_and_bad_model_write_nothing(capsys, tmp_path):
    code, _, err = run(capsys, "requirements", "--output", str(tmp_path / "req.txt"))
    assert code == 2 and "unknown output format '.txt': use .csv or .xlsx" in err
    model = copy_default(tmp_path / "m")
    edit(model, "slot_minutes = 30 ", "slot_minutes = 45 ")
    code, _, err = run(capsys, "requirements", str(model), "--output", str(tmp_path / "r.csv"))
    assert code == 2 and "field 'horizon.slot_minutes'" in err
    code, _, err = run(capsys, "requirements", "--output", str(tmp_path / "r.csv"), "--regime", "R9")
    assert code == 2 and "unknown regime 'R9'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    code, _, err = run(capsys, "requirements")
    assert code == 2 and "--output" in err


def test_console_script_from_another_directory(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", "from staffing.cli import run; run()", "validate",
                           "--json"], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inhouse_headcount"] == 3200
    bad = subprocess.run([sys.executable, "-c", "from staffing.cli import run; run()", "validate",
                          "missing-model"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: missing-model: no model named 'missing-model'")
