"""Errors name where the bad value came from: the --set key or the option, not the model file;
a misspelt required column names the unknown column that is a close match."""

import shutil
from pathlib import Path

import pytest

from staffing.cli import main

ROOT = Path(__file__).resolve().parents[1]


def error_line(capsys, args) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("key,value", [
    ("service.sl_target", "1"),
    ("service.plateaux.internet.answer_s", "-1"),
    ("horizon.weeks", "0"),
    ("horizon.slot_minutes", "7"),
    ("policy.offshore_cap", "2"),
])
def test_set_values_are_reported_as_set(capsys, tmp_path, key, value):
    err = error_line(capsys, ["requirements", "--set", f"{key}={value}",
                              "--output", str(tmp_path / "r.csv")])
    assert err.startswith(f"error: --set, field '{key}'"), err
    assert "orange-2009.toml" not in err


def test_model_values_still_name_the_model(capsys, tmp_path):
    model = tmp_path / "m.toml"
    model.write_text(f'extends = "{ROOT / "models" / "orange-2009.toml"}"\nname = "m"\n'
                     '[service]\nsl_target = 1\n')
    err = error_line(capsys, ["requirements", str(model), "--output", str(tmp_path / "r.csv")])
    assert "m.toml" in err and "field 'service.sl_target'" in err and "--set" not in err


def test_capacity_start_option_is_named_alone(capsys):
    err = error_line(capsys, ["capacity", "--start", "2009-03-04"])
    assert err.startswith("error: field '--start': ") and ".toml" not in err


def test_misspelt_scenario_column_names_the_close_match(capsys, tmp_path):
    inputs = tmp_path / "inputs" / "orange-2009"
    shutil.copytree(ROOT / "inputs" / "orange-2009", inputs)
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "models" / "orange-2009.toml", tmp_path / "models")
    table = inputs / "plateaux.csv"
    head, rest = table.read_text().split("\n", 1)
    table.write_text(head.replace(",aht_s,", ",aht_sec,") + "\n" + rest)
    err = error_line(capsys, ["validate", str(tmp_path / "models" / "orange-2009.toml")])
    assert "field 'aht_s'" in err and "'aht_sec'" in err


def test_misspelt_history_column_names_the_close_match(capsys, tmp_path):
    history = tmp_path / "h.csv"
    history.write_text("slot_start,calsl\n1999-01-01T08:00:00,3\n")
    err = error_line(capsys, ["forecast", str(history), "--start", "1999-01-04", "--weeks", "1"])
    assert "field 'calls'" in err and "'calsl'" in err
