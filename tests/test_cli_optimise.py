"""`staffing optimise`: run folder, manifest, exit codes 0 / 2 / 3, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import small_scenario as ss
from scenario_helpers import append, copy_default, edit
from staffing.cli import main

TABLES = ["requirements", "allocation", "coverage", "shifts", "tours", "providers", "summary",
          "diagnostics"]


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def small_model(root, seats_a=3):
    # n = 6, 8, 10, 8 agents; a (20 EUR/h) has `seats_a` seats, b (30 EUR/h) 1000
    providers = [
        {"id": "a", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 20,
         "seats": seats_a, "shrinkage": 0},
        {"id": "b", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 30,
         "seats": 1000, "shrinkage": 0},
    ]
    return ss.write(root, providers=providers, forecast=ss.monday_slots([20, 30, 40, 30]))


def test_run_folder_tables_and_manifest(capsys, tmp_path):
    model = small_model(tmp_path / "m")
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "optimise", str(model), "--out", str(out_dir), "--gap", "0")
    assert code == 0, err
    files = {p.name for p in out_dir.iterdir()}
    assert {f"{t}.csv" for t in TABLES} | {"manifest.json", "plan.xlsx"} <= files
    m = json.loads((out_dir / "manifest.json").read_text())
    assert {"schema_version", "scenario", "package_version", "created", "command", "options",
            "inputs", "solver", "status", "objective_eur", "gap", "wall_time_s",
            "tables"} <= set(m)
    assert m["scenario"] == "small" and m["command"] == "optimise" and m["solver"] == "highs"
    assert m["status"] == "optimal" and m["staffing_cost_eur"] == pytest.approx(420.0)
    assert m["options"]["start"] == "2009-03-02" and m["options"]["gap"] == 0.0
    assert set(TABLES) <= set(m["tables"])
    inputs = {p.split("/")[-1] for p in m["inputs"]}
    assert {"small.toml", "plateaux.csv", "providers.csv", "profiles.csv", "forecast.csv"} <= inputs
    alloc = pd.read_csv(out_dir / "allocation.csv", parse_dates=["slot_start"])
    assert list(alloc.columns) == ["scenario", "slot_start", "weekday", "week", "slot_minutes", "plateau",
                                   "provider", "kind", "logged_agents"]
    assert alloc.groupby("provider")["logged_agents"].sum().to_dict() == {"a": 12, "b": 20}
    providers = pd.read_csv(out_dir / "providers.csv")
    assert providers["cost_eur"].sum() == pytest.approx(420.0)
    assert "total staffing cost 420 EUR" in out and f"results in {out_dir}" in out
    assert "solver highs optimal" in out


def test_existing_out_is_refused_without_force(capsys, tmp_path):
    model = small_model(tmp_path / "m")
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("mine")
    code, out, err = run(capsys, "optimise", str(model), "--out", str(out_dir))
    assert code == 2
    assert err == f"error: {out_dir}: run folder exists; use --force to replace it\n"
    assert [p.name for p in out_dir.iterdir()] == ["keep.txt"]
    code, _, err = run(capsys, "optimise", str(model), "--out", str(out_dir), "--force")
    assert code == 0, err
    assert not (out_dir / "keep.txt").exists() and (out_dir / "manifest.json").exists()


@pytest.mark.parametrize("args, field", [
    (["--set", "policy.offshore_cap=2"], "policy.offshore_cap"),
    (["--set", "service.sl_scope=week"], "service.sl_scope"),
    (["--set", "policy.nope=1"], "policy.nope"),
])
def test_bad_set_value_exits_2_with_one_line(capsys, tmp_path, args, field):
    model = small_model(tmp_path / "m")
    code, out, err = run(capsys, "optimise", str(model), "--out", str(tmp_path / "run"), *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and f"field '{field}'" in err
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def test_bad_options_exit_2(capsys, tmp_path):
    model = small_model(tmp_path / "m")
    for args in (["--solver", "gurobi"], ["--offshore-cap", "1.5"], ["--weeks", "0"],
                 ["--regime", "R9"]):
        code, out, err = run(capsys, "optimise", str(model), "--out", str(tmp_path / "r"), *args)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, args
        assert err.startswith("error: ")
    assert not (tmp_path / "r").exists()


def test_capacity_far_below_demand_exits_3_naming_the_slots(capsys, tmp_path):
    model = small_model(tmp_path / "m", seats_a=3)
    # only a, with 3 seats, may answer: drop b
    edit(model.parent.parent / "inputs" / "small" / "providers.csv",
         "b,subcontractor,,p,30,,,,1000,,,0,\n", "")
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "optimise", str(model), "--out", str(out_dir))
    assert code == 3
    lines = [x for x in err.splitlines() if not x.startswith("warning: ")]
    assert [x for x in lines if x.startswith("error: ")] == [lines[0]]  # one error line
    assert lines[0].startswith("error: shortfall 10.0 agent-hours = 62.50 % of required "
                               "agent-hours exceeds the allowed 0.00 %") and len(lines[0]) < 200
    assert lines[1].split() == ["plateau", "date", "missing", "h", "worst", "required",
                                "answering", "binding"]
    assert lines[2].split() == ["p", "2009-03-02", "10.0", "09:00", "10", "3.0", "seats", "a"]
    assert len(lines) == 3
    diag = pd.read_csv(out_dir / "diagnostics.csv")
    assert diag["missing_agents"].tolist() == [7]
    assert diag["missing_agent_hours"].tolist() == [10.0] and diag["extra_seats"].tolist() == [7]
    assert "short plateau-days (1; all in diagnostics):" in out


def test_default_with_an_expert_surge_exits_3_naming_the_surge_slots(capsys, tmp_path):
    """The expert cell has only in-house teams (480 advisers): a forecast surge of 3,000 calls
    in two Wednesday slots cannot be met; the other 978 slots can."""
    model = copy_default(tmp_path / "m")
    forecast = model.parent.parent / "inputs" / "orange-2009" / "forecast.csv"
    forecast.write_text("plateau,slot_start,calls\nexpert,2009-03-04 10:00,3000\n"
                        "expert,2009-03-04 10:30,2500\n", encoding="utf-8")
    append(model, '\n')
    edit(model, 'profiles = "../inputs/orange-2009/profiles.csv"',
         'profiles = "../inputs/orange-2009/profiles.csv"\n'
         'forecast = "../inputs/orange-2009/forecast.csv"')
    code, out, err = run(capsys, "optimise", str(model), "--out", str(tmp_path / "rostered"))
    assert code == 3, err  # with rosters too (their days-off patterns spread the gaps wider)
    code, out, err = run(capsys, "optimise", str(model), "--no-rosters", "--out",
                         str(tmp_path / "run"))
    assert code == 3, err
    table = err.split("worst plateau-days below (all in diagnostics.csv)\n")[1].splitlines()
    assert table[0].split()[:2] == ["plateau", "date"]
    assert table[1].split()[:2] == ["expert", "2009-03-04"] and 2 <= len(table) <= 6
    diag = pd.read_csv(tmp_path / "run" / "diagnostics.csv", parse_dates=["slot_start"])
    first = diag.iloc[0]
    assert first["plateau"] == "expert" and first["slot_start"] == pd.Timestamp("2009-03-04 10:00")
    assert first["missing_agents"] > 500
    # only in-house teams serve expert: their headcount binds, more advisers would close it
    assert "headcount fr-montigny" in first["binding"] and first["extra_advisers"] > 500
    # advisers moved to the surge leave gaps only where the same teams (nancy, montigny) serve
    assert set(diag["plateau"]) <= {"expert", "pro"}
    assert (diag["slot_start"].dt.date == pd.Timestamp("2009-03-04").date()).all()


def test_headcount_optimise_states_the_headcount_and_warns_without_bounds(capsys, tmp_path):
    team = {"id": "t", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 20,
            "headcount": 4, "shrinkage": 0}
    sub = {"id": "b", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 30,
           "seats": 1000, "shrinkage": 0}
    blank = ss.write(tmp_path / "m1", providers=[team, sub], forecast=ss.monday_slots([20, 30, 40, 30]))
    code, out, err = run(capsys, "optimise", str(blank), "--headcount", "optimise",
                         "--out", str(tmp_path / "r1"))
    assert code == 0, err
    assert "warning: --headcount optimise: the bounds leave nothing to decide" in err
    assert "headcount as given (--headcount optimise had nothing to decide): t 4" in out
    assert "chosen" not in out
    bounded = ss.write(tmp_path / "m2", providers=[{**team, "headcount_min": 1, "headcount_max": 20},
                                                   sub], forecast=ss.monday_slots([20, 30, 40, 30]))
    code, out, err = run(capsys, "optimise", str(bounded), "--headcount", "optimise",
                         "--node-limit", "50", "--out", str(tmp_path / "r2"))
    assert code == 0, err and "warning" not in err
    m = json.loads((tmp_path / "r2" / "manifest.json").read_text())
    # an adviser works the whole 2-hour opening (4 slots of 6, 8, 10, 8 needed) for 40 EUR; a
    # subcontracted agent-slot costs 15 EUR: H advisers cost 40 H + 15 sum max(0, n - H):
    # 360 EUR at H = 6, 350 at H = 8 (the least), 400 at H = 10
    assert m["headcount"] == {"t": 8.0} and m["options"]["node_limit"] == 50
    assert m["staffing_cost_eur"] == pytest.approx(350.0)
    assert "headcount chosen for the whole horizon: t 8" in out
    summary = pd.read_csv(tmp_path / "r2" / "summary.csv").set_index("metric")["value"]
    assert summary["headcount[t]"] == 8.0


def test_absurd_volume_is_refused_as_bad_input(capsys, tmp_path):
    providers = [{"id": "b", "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": 30,
                  "seats": 1000, "shrinkage": 0}]
    model = ss.write(tmp_path / "m", providers=providers, forecast=ss.monday_slots([1.2e6, 30]))  # 200,000 erlangs
    code, out, err = run(capsys, "optimise", str(model), "--out", str(tmp_path / "r"))
    errors = [x for x in err.splitlines() if not x.startswith("warning: ")]
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith("error: field 'demand': ") and "more than 100,000 in one slot" in err
    assert not (tmp_path / "r").exists()


def test_multi_week_progress_only_on_a_terminal(capsys, tmp_path):
    model = small_model(tmp_path / "m")
    code, out, err = run(capsys, "optimise", str(model), "--weeks", "2", "--out",
                         str(tmp_path / "r"))
    assert code == 0, err
    bar = [x for x in err.splitlines() if not x.startswith("warning: ")]
    assert bar == []  # no progress bar (its `weeks` label) when stderr is not a terminal


def test_a_tiny_failing_shortfall_never_reads_as_zero():
    from staffing.report import _pct
    assert _pct(0.0) == "0.00 %" and _pct(0.625) == "62.50 %" and _pct(0.0001) == "0.01 %"
    assert _pct(1.4e-5) == "0.0014 %"  # 28.8 of ~2 million agent-hours: not "0.00 %"


def test_default_time_limit_is_per_planned_week():
    """A year of rostered weeks re-plans one week after the other: the default budget grows
    with the horizon (120 s a week); an explicit --time-limit is taken as given."""
    from staffing import scenario
    from staffing.allocation import options
    from staffing.cli.common import plan_opts_to_options

    sc = scenario.load("orange-2009")
    default = dict(start=None, sl_scope=None, queueing=None, headcount="fixed", relax=False,
                   solver="highs", gap=0.005)
    year = plan_opts_to_options(weeks=52, time_limit=None, **default).resolved(sc)
    assert year.time_limit == 52 * options.SECONDS_PER_WEEK == 6240.0
    one = plan_opts_to_options(weeks=None, time_limit=None, **default).resolved(sc)
    assert one.weeks == sc.weeks and one.time_limit == sc.weeks * 120.0
    given = plan_opts_to_options(weeks=52, time_limit=30.0, **default).resolved(sc)
    assert given.time_limit == 30.0
