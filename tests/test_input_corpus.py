"""A corpus of malformed inputs: model files, input tables, forecasts, batch files, options and
run folders. Each one must give exit code 2 and exactly one line on stderr that names the file
and the row or field, with no traceback, and leave nothing behind (no output, no hidden file).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import small_scenario as ss
from scenario_helpers import append, copy_default, edit
from staffing.cli import main

INPUTS = Path("inputs") / "orange-2009"


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _check(capsys, root: Path, args: list[str], fragments: list[str], watch: Path | None = None):
    watch = watch or root
    before = _snapshot(watch)
    cwd = os.getcwd()
    os.chdir(root)  # outputs/ would land here
    try:
        code = main(args)
    finally:
        os.chdir(cwd)
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert code == 2, (code, out.err, out.out)
    assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    assert "Traceback" not in out.err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert _snapshot(watch) == before, sorted(_snapshot(watch) ^ before)


# --------------------------------------------------------------------------- model file

def _toml(old: str, new: str):
    def mutate(root: Path):
        edit(root / "models" / "orange-2009.toml", old, new)
    return mutate


def _toml_append(text: str):
    def mutate(root: Path):
        append(root / "models" / "orange-2009.toml", text)
    return mutate


def _toml_bytes(transform):
    def mutate(root: Path):
        p = root / "models" / "orange-2009.toml"
        p.write_bytes(transform(p.read_bytes()))
    return mutate


MODEL_CASES = {
    "max_occupancy nan": (_toml("max_occupancy = 0.88", "max_occupancy = nan"),
                          ["field 'service.max_occupancy'", "finite"]),
    "penalty inf": (_toml("shortfall_penalty_eur_per_agent_hour = 500.0",
                          "shortfall_penalty_eur_per_agent_hour = inf"),
                    ["field 'policy.shortfall_penalty_eur_per_agent_hour'"]),
    "offshore cap -nan": (_toml("offshore_cap = 0.20", "offshore_cap = -nan"),
                          ["field 'policy.offshore_cap'"]),
    "holiday weight inf": (_toml("holiday_weight = 0.6", "holiday_weight = +inf"),
                           ["field 'demand.holiday_weight'"]),
    "patience -inf": (_toml("patience_s = 180", "patience_s = -inf"), ["field 'service.patience_s'"]),
    "regime price nan": (_toml("eur_per_min = 0.028", "eur_per_min = nan"),
                         ["field 'pricing.regimes.R2.eur_per_min'"]),
    "paid hours nan": (_toml("paid_hours = [7.0]", "paid_hours = [7.0, nan]"),
                       ["field 'shifts.paid_hours'"]),
    "sl target 1": (_toml("sl_target = 0.80", "sl_target = 1.0"), ["field 'service.sl_target'"]),
    "penalty 1e308": (_toml("shortfall_penalty_eur_per_agent_hour = 500.0",
                            "shortfall_penalty_eur_per_agent_hour = 1e308"),
                      ["field 'policy.shortfall_penalty_eur_per_agent_hour'"]),
    "weeks huge": (_toml("weeks = 1 ", "weeks = 100000000 "), ["field 'horizon.weeks'", "520"]),
    "weeks 521": (_toml("weeks = 1 ", "weeks = 521 "), ["field 'horizon.weeks'"]),
    "start at the end of time": (_toml("start = 2009-03-02", "start = 9999-12-27"),
                                 ["field 'horizon.start'", "9999"]),
    "shift longer than the day": (_toml("paid_hours = [7.0]", "paid_hours = [7.0, 16.0]"),
                                  ["field 'shifts.paid_hours'", "16 h"]),
    "shift of 14 h plus break": (_toml("paid_hours = [7.0]", "paid_hours = [7.0, 14.0]"),
                                 ["field 'shifts.paid_hours'", "14 h"]),
    "regime id formula": (_toml_append('\n[pricing.regimes."=1+2"]\neur_per_min = 0.1\n'),
                          ["field 'pricing.regimes.=1+2'"]),
    "regime id with space": (_toml_append('\n[pricing.regimes."R 9"]\neur_per_min = 0.1\n'),
                             ["field 'pricing.regimes.R 9'"]),
    "latin-1 model": (_toml_bytes(lambda b: b.replace(b"Orange France technical",
                                                      "Orange France téléphonie".encode("latin-1"))),
                      ["orange-2009.toml", "UTF-8"]),
    "truncated toml": (_toml_bytes(lambda b: b[:b.index(b"[pricing]") + 5]),
                       ["orange-2009.toml", "not valid TOML"]),
    "nul bytes": (_toml_bytes(lambda b: b"\x00" * 10 + b), ["orange-2009.toml"]),
    "utf-16 model": (_toml_bytes(lambda b: b.decode("utf-8").encode("utf-16")),
                     ["orange-2009.toml", "UTF-8"]),
    "weeks a string": (_toml("weeks = 1 ", 'weeks = "one" '), ["field 'horizon.weeks'"]),
    "unknown key": (_toml("[policy]", "[policy]\noffshore_cpa = 0.1"),
                    ["field 'policy.offshore_cpa'"]),
}


# --------------------------------------------------------------------------- input tables

def _table(name: str, old: str, new: str):
    def mutate(root: Path):
        edit(root / INPUTS / name, old, new)
    return mutate


def _table_bytes(name: str, transform):
    def mutate(root: Path):
        p = root / INPUTS / name
        p.write_bytes(transform(p.read_bytes()))
    return mutate


def _replace_with(name: str, make):
    def mutate(root: Path):
        p = root / INPUTS / name
        p.unlink()
        make(p)
    return mutate


def _symlink_loop(p: Path):
    other = p.with_name("other.csv")
    os.symlink(other, p)
    os.symlink(p, other)


def _formula_xlsx(root: Path):
    """plateaux as a workbook whose aht_s is a formula never computed (written by a script)."""
    import csv

    import openpyxl

    src = root / INPUTS / "plateaux.csv"
    rows = list(csv.reader(src.read_text(encoding="utf-8").splitlines()))
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in r])
    ws.cell(row=3, column=rows[0].index("aht_s") + 1).value = "=500+40"
    wb.save(root / INPUTS / "plateaux.xlsx")
    edit(root / "models" / "orange-2009.toml", "orange-2009/plateaux.csv",
         "orange-2009/plateaux.xlsx")


def _forecast_outside(root: Path):
    (root / INPUTS / "forecast.csv").write_text(
        "plateau,slot_start,calls,aht_s\ninternet,2010-03-01 10:00,100,500\n"
        "internet,2010-03-01 10:30,120,500\n", encoding="utf-8")
    edit(root / "models" / "orange-2009.toml", 'profiles = "../inputs/orange-2009/profiles.csv"',
         'profiles = "../inputs/orange-2009/profiles.csv"\n'
         'forecast = "../inputs/orange-2009/forecast.csv"')


TAKE_OR_PAY_ROW = "webhelp,subcontractor,Webhelp France,internet;iptv;fixed,27,,,,450,6000,,0.25,1.0"
TABLE_CASES = {
    "cost 1e308": (_table("providers.csv", "fr-lyon,inhouse,Lyon,internet;iptv,55,",
                          "fr-lyon,inhouse,Lyon,internet;iptv,1e308,"),
                   ["providers.csv", "row 3", "field 'cost_eur_per_hour'"]),
    "headcount 1e308": (_table("providers.csv", "fr-lyon,inhouse,Lyon,internet;iptv,55,760",
                               "fr-lyon,inhouse,Lyon,internet;iptv,55,1e308"),
                        ["providers.csv", "row 3", "field 'headcount'"]),
    "shrinkage nan": (_table("providers.csv", "fr-lyon,inhouse,Lyon,internet;iptv,55,760,,,,,,0.30",
                             "fr-lyon,inhouse,Lyon,internet;iptv,55,760,,,,,,nan"),
                      ["providers.csv", "row 3", "field 'shrinkage'"]),
    "seats 0 with take-or-pay": (_table("providers.csv", TAKE_OR_PAY_ROW,
                                        TAKE_OR_PAY_ROW.replace(",450,6000,", ",0,6000,")),
                                 ["providers.csv", "field 'min_weekly_hours'", "webhelp"]),
    "aht inf": (_table("plateaux.csv", "17326000,,,,510,", "17326000,,,,inf,"),
                ["plateaux.csv", "row 2", "field 'aht_s'"]),
    "annual calls 1e308": (_table("plateaux.csv", "17326000,", "1e308,"),
                           ["plateaux.csv", "row 2", "field 'annual_calls'"]),
    "calls from customers beyond bounds": (_table("plateaux.csv", ",1000000,0.54,3.1,",
                                                  ",1e9,54,3.1,"),
                                           ["plateaux.csv", "row 3", "field 'customers'"]),
    "weight nan": (_table("profiles.csv", "*,weekday,mon,1.30", "*,weekday,mon,NaN"),
                   ["profiles.csv", "row 2", "field 'weight'"]),
    "decimal comma in a comma file": (_table("profiles.csv", "*,weekday,mon,1.30",
                                             '*,weekday,mon,"1,30"'),
                                      ["profiles.csv", "row 2", "field 'weight'", "';'"]),
    "both separators in the header": (_table("profiles.csv", "plateau,profile,key,weight,source",
                                             "plateau;profile;key;weight,source"),
                                      ["profiles.csv", "row 1", "re-save"]),
    "tab-separated": (_table_bytes("profiles.csv", lambda b: b.replace(b",", b"\t")),
                      ["profiles.csv", "row 1", "tab"]),
    "duplicated column": (_table("profiles.csv", "plateau,profile,key,weight,source",
                                 "plateau,profile,key,weight,weight"),
                          ["profiles.csv", "row 1", "field 'weight'", "duplicate"]),
    "unknown column": (_table("profiles.csv", "plateau,profile,key,weight,source",
                              "plateau,profile,key,wieght,source"),
                       ["profiles.csv", "row 1", "field 'weight'", "missing column"]),
    "too many values": (_table("profiles.csv", "*,weekday,tue,1.10", "*,weekday,tue,1.10,x,y"),
                        ["profiles.csv", "row 3"]),
    "bytes neither utf-8 nor cp1252": (_table_bytes("profiles.csv",
                                                    lambda b: b.replace(b"Monday", b"Mon\x81day")),
                                       ["profiles.csv", "Windows-1252"]),
    "utf-16 table": (_table_bytes("profiles.csv", lambda b: b.decode("utf-8").encode("utf-16")),
                     ["profiles.csv", "UTF-16"]),
    "binary table": (_table_bytes("profiles.csv", lambda b: b"PK\x03\x04\x00\x00" + b),
                     ["profiles.csv"]),
    "empty table": (_table_bytes("profiles.csv", lambda b: b""), ["profiles.csv", "no header"]),
    "unterminated quote": (_table("profiles.csv", "*,weekday,tue,1.10", '*,weekday,"tue,1.10'),
                           ["profiles.csv"]),
    "symlink loop": (_replace_with("providers.csv", _symlink_loop), ["providers.csv"]),
    "a folder as table": (_replace_with("providers.csv", lambda p: p.mkdir()), ["providers.csv"]),
    "formula without cached value": (_formula_xlsx, ["plateaux.xlsx", "row 3", "field 'aht_s'",
                                                     "formula"]),
    "forecast outside the horizon": (_forecast_outside, ["forecast.csv", "field 'slot_start'",
                                                         "horizon"]),
}


@pytest.mark.parametrize("case", list(MODEL_CASES) + list(TABLE_CASES))
def test_bad_scenario_input(capsys, tmp_path, case):
    mutate, fragments = {**MODEL_CASES, **TABLE_CASES}[case]
    model = copy_default(tmp_path)
    mutate(tmp_path)
    _check(capsys, tmp_path, ["optimise", str(model), "--out", str(tmp_path / "out")], fragments)
    _check(capsys, tmp_path, ["validate", str(model)], fragments)


# --------------------------------------------------------------------------- options

OPTION_CASES = {
    "erlang calls nan": (["erlang", "--calls", "nan", "--aht", "180"], ["'--calls'"]),
    "erlang aht inf": (["erlang", "--calls", "10", "--aht", "inf"], ["'--aht'"]),
    "erlang occupancy nan": (["erlang", "--calls", "10", "--aht", "180", "--max-occupancy", "nan"],
                             ["'--max-occupancy'"]),
    "erlang max-abandon without patience": (
        ["erlang", "--calls", "100", "--aht", "180", "--max-abandon", "0.05"], ["'--max-abandon'"]),
    "erlang sl 1 erlang c": (["erlang", "--calls", "100", "--aht", "180", "--sl", "1"], ["'--sl'"]),
    "erlang sl 1 answer 0": (["erlang", "--calls", "100", "--aht", "180", "--sl", "1",
                              "--answer-time", "0"], ["'--sl'"]),
    "erlang calls 1e308": (["erlang", "--calls", "1e308", "--aht", "180"], ["'--calls'"]),
    "optimise weeks huge": (["optimise", "--weeks", "100000000"], ["'--weeks'"]),
    "optimise start overflow": (["optimise", "--start", "9999-12-27"], ["'--start'"]),
    "optimise time limit nan": (["optimise", "--time-limit", "nan"], ["'--time-limit'"]),
    "optimise gap inf": (["optimise", "--gap", "inf"], ["'--gap'"]),
    "set nan": (["validate", "--set", "service.sl_target=nan"], ["--set", "'service.sl_target'"]),
    "sweep range to inf": (["sweep", "--param", "policy.offshore_cap=0:inf:0.1"], ["'--param'"]),
    "sweep range of a billion": (["sweep", "--param", "policy.offshore_cap=0:1:1e-9"],
                                 ["'--param'"]),
    "sweep value nan": (["sweep", "--param", "service.sl_target=nan,0.8"],
                        ["'service.sl_target'"]),
    "calibrate answer time nan": (["calibrate", "calls.csv", "--answer-s", "nan"],
                                  ["'--answer-s'"]),
    "capacity cap nan": (["capacity", "--offshore-cap", "nan"], ["'--offshore-cap'"]),
    "compare cap nan": (["compare", "--offshore-caps", "nan"], ["'--offshore-caps'"]),
    "simulate patience inf": (["simulate", "nowhere", "--patience", "inf"], ["'--patience'"]),
}


def test_start_moves_the_horizon_off_the_forecast(capsys, tmp_path):
    model = ss.write(tmp_path / "m", providers=[
        {"id": "a", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 20,
         "seats": 100, "shrinkage": 0}], forecast=ss.monday_slots([20, 30]))
    _check(capsys, tmp_path, ["optimise", str(model), "--start", "2009-03-09", "--out",
                              str(tmp_path / "out")],
           ["forecast.csv", "field 'slot_start'", "horizon 2009-03-09..2009-03-15"])


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_option(capsys, tmp_path, case):
    args, fragments = OPTION_CASES[case]
    _check(capsys, tmp_path, args, fragments)


# --------------------------------------------------------------------------- erlang batch files

BATCH_CASES = {
    "misspelt override": (b"calls,aht_s,sl_targt\n100,180,0.9\n", ["row 1", "field 'sl_targt'"]),
    "duplicated calls": (b"calls,aht_s,calls\n100,180,120\n", ["row 1", "field 'calls'"]),
    "missing aht": (b"calls,sl_target\n100,0.9\n", ["field 'aht_s'"]),
    "calls nan": (b"calls,aht_s\n100,180\nnan,180\n", ["row 3", "field 'calls'"]),
    "aht inf": (b"calls,aht_s\n100,inf\n", ["row 2", "field 'aht_s'"]),
    "sl 1": (b"calls,aht_s,sl_target\n100,180,1\n", ["field 'sl_target'"]),
    "max_abandon without patience": (b"calls,aht_s,max_abandon\n100,180,0.1\n",
                                     ["field 'max_abandon'"]),
    "decimal comma in a comma file": (b'calls,aht_s\n100,"180,5"\n', ["row 2", "field 'aht_s'"]),
    "french header with a comma": (b"calls;aht_s,x\n100;180\n", ["row 1"]),
    "utf-16": ("calls,aht_s\n100,180\n".encode("utf-16"), ["UTF-16"]),
    "header only blank value": (b"calls,aht_s\n100,\n", ["row 2", "field 'aht_s'"]),
}


@pytest.mark.parametrize("case", list(BATCH_CASES))
def test_bad_batch_file(capsys, tmp_path, case):
    content, fragments = BATCH_CASES[case]
    (tmp_path / "in.csv").write_bytes(content)
    _check(capsys, tmp_path, ["erlang", "--input", "in.csv", "--output", "out.csv"],
           ["in.csv", *fragments])


def test_batch_symlink_loop(capsys, tmp_path):
    os.symlink(tmp_path / "loop.csv", tmp_path / "loop.csv")
    _check(capsys, tmp_path, ["erlang", "--input", "loop.csv", "--output", "out.csv"],
           ["loop.csv", "symbolic links"])


# --------------------------------------------------------------------------- run folders

@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    providers = [{"id": "a", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 20,
                  "seats": 100, "shrinkage": 0}]
    model = ss.write(root / "m", providers=providers, forecast=ss.monday_slots([20, 30, 40, 30]))
    run = root / "run"
    assert main(["optimise", str(model), "--out", str(run)]) == 0
    return run


def _manifest(mutate):
    def apply(run: Path):
        p = run / "manifest.json"
        m = json.loads(p.read_text())
        p.write_text(json.dumps(mutate(m)))
    return apply


def _bytes(name: str, transform):
    def apply(run: Path):
        p = run / name
        p.write_bytes(transform(p.read_bytes()))
    return apply


RUN_CASES = {
    "truncated manifest": (_bytes("manifest.json", lambda b: b[: len(b) // 2]),
                           ["manifest.json", "JSON"], ("simulate", "export")),
    "manifest a list": (_bytes("manifest.json", lambda b: b"[1, 2]\n"),
                        ["manifest.json", "object"], ("simulate", "export")),
    "manifest empty": (_bytes("manifest.json", lambda b: b""), ["manifest.json"],
                       ("simulate", "export")),
    "options a string": (_manifest(lambda m: {**m, "options": "fast"}),
                         ["manifest.json", "field 'options'"], ("simulate", "export")),
    "answer time text": (_manifest(lambda m: {**m, "options": {**m["options"], "answer_s": "x"}}),
                         ["manifest.json", "field 'options.answer_s'"], ("simulate",)),
    "tables not a list": (_manifest(lambda m: {**m, "tables": "coverage"}),
                          ["manifest.json", "field 'tables'"], ("simulate", "export")),
    "columns wrong": (_manifest(lambda m: {**m, "columns": {"coverage": 3}}),
                      ["manifest.json", "field 'columns.coverage'"], ("simulate", "export")),
    "coverage cut mid-line": (_bytes("coverage.csv", lambda b: b[: len(b) - 7]),
                              ["coverage.csv", "truncated"], ("simulate",)),
    "coverage cut at a line": (_bytes("coverage.csv", lambda b: b"".join(
        b.splitlines(keepends=True)[:3])), ["coverage.csv", "rows"], ("simulate",)),
    "coverage header only": (_bytes("coverage.csv", lambda b: b.splitlines(keepends=True)[0]),
                             ["coverage.csv", "no rows"], ("simulate",)),
    "coverage a billion callbacks": (_bytes("coverage.csv", lambda b: _cell(b, "callback_calls",
                                                                           b"999999792")),
                                     ["coverage", "field 'callback_calls'"], ("simulate",)),
    "coverage service level text": (_bytes("coverage.csv", lambda b: _cell(b, "service_level",
                                                                           b"0.9true1")),
                                    ["coverage", "field 'service_level'"], ("simulate",)),
    "coverage calls text": (_bytes("coverage.csv", lambda b: _cell(b, "calls", b"many")),
                            ["coverage", "field 'calls'"], ("simulate",)),
}


def _cell(raw: bytes, column: str, value: bytes) -> bytes:
    """coverage.csv with one cell of the first data row replaced."""
    lines = raw.splitlines(keepends=True)
    j = lines[0].rstrip(b"\n").split(b",").index(column.encode())
    cells = lines[1].rstrip(b"\n").split(b",")
    cells[j] = value
    lines[1] = b",".join(cells) + b"\n"
    return b"".join(lines)




@pytest.mark.parametrize("command", ["simulate", "export"])
@pytest.mark.parametrize("case", list(RUN_CASES))
def test_bad_run_folder(capsys, tmp_path, small_run, case, command):
    mutate, fragments, commands = RUN_CASES[case]
    if command not in commands:
        pytest.skip(f"{command} does not read what this case breaks")
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    mutate(run)
    args = (["simulate", str(run), "--replications", "2", "--workers", "1"] if command == "simulate"
            else ["export", str(run), "--format", "csv", "--out", str(tmp_path / "exp")])
    _check(capsys, tmp_path, args, fragments)
