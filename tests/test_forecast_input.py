"""The forecast input round-trips: a run's demand fed back reproduces its requirements exactly;
Parquet, a scenario column, offset-aware times, the forecast's regime, the horizon."""

import datetime as dt

import pandas as pd
import pytest

from scenario_helpers import copy_default, edit
from staffing import demand as dm
from staffing import results
from staffing import scenario as sc
from staffing.cli import main
from staffing.errors import InputError, StaffingWarning


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rt") / "run"
    assert main(["optimise", "--relax", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_runs_demand_fed_back_reproduces_its_requirements_exactly(run, tmp_path, fmt, capsys):
    again = tmp_path / "again"
    capsys.readouterr()
    code = main(["optimise", "--relax", "--out", str(again), "--set",
                 f"inputs.forecast={run / f'demand.{fmt}'}"])
    assert code == 0
    err = capsys.readouterr().err
    # the default plans R2 (+10 % calls against R1) and the forecast is taken as given: it says so
    assert "taken as observed under regime R2" in err and "annual figures" in err
    a = results.load(run)["requirements"]
    b = results.load(again)["requirements"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert (a["agents"] * 0.5).sum() == (b["agents"] * 0.5).sum()


def test_aht_s_is_the_full_handle_time_in_every_output(run):
    t = results.load(run)
    base = sc.load()
    full = t["requirements"]["plateau"].map(base.plateaux["aht_s"])
    for name in ("demand", "requirements", "coverage"):
        assert (t[name]["aht_s"].to_numpy() == t[name]["plateau"].map(base.plateaux["aht_s"])).all()
    pl = base.plateaux
    cut = pl["callback_share"] * (pl["long_call_aht_s"] - pl["callback_threshold_s"])
    live = t["requirements"]["plateau"].map(pl["aht_s"] - cut.fillna(0.0))
    assert t["requirements"]["live_aht_s"].to_numpy() == pytest.approx(live.to_numpy())
    assert (t["requirements"]["live_aht_s"] < full).any()
    d = t["demand"]
    assert list(d.columns) == ["scenario", "plateau", "slot_start", "calls", "aht_s"]
    assert d["calls"].sum() == pytest.approx(t["requirements"]["calls"].sum(), rel=1e-12)


def write_forecast(model, text: str, name="forecast.csv"):
    path = model.parent.parent / "inputs" / "orange-2009" / name
    path.write_text(text)
    edit(model, 'profiles = "', f'forecast = "../inputs/orange-2009/{name}"\nprofiles = "')
    return path


def test_clock_change_demand_round_trips_with_its_fold(tmp_path):
    model = copy_default(tmp_path)
    edit(model, "default = [\"08:00\", \"22:00\"]", "default = [\"00:00\", \"24:00\"]")
    base = sc.load(model, {"horizon": {"start": "2009-10-19"}})
    dem = dm.build_demand(base)
    table = dm.forecast_table(base, dem)
    assert "fold" in table.columns and (table["fold"] == 1).sum() == 2 * len(base.plateaux)
    path = tmp_path / "demand.csv"
    results.write_table_csv(table, path, table="demand")
    back = sc.load(model, sc.parse_set(["horizon.start=2009-10-19", f"inputs.forecast={path}"]))
    again = dm.build_demand(back)
    pd.testing.assert_frame_equal(dem, again, check_exact=True)
    pd.testing.assert_frame_equal(dm.requirements(base, dem), dm.requirements(back, again),
                                  check_exact=True)


def test_offset_aware_times_are_read_in_the_scenario_zone(tmp_path):
    model = copy_default(tmp_path)
    edit(model, "default = [\"08:00\", \"22:00\"]", "default = [\"00:00\", \"24:00\"]")
    write_forecast(model, "scenario,plateau,slot_start,calls\n"
                          "x,fixed,2009-03-02T07:00:00Z,11\n"             # 08:00 CET
                          "x,fixed,2009-10-25T00:30:00+00:00,12\n"        # 02:30 CEST, first pass
                          "x,fixed,2009-10-25T01:30:00Z,13\n")            # 02:30 CET, second pass
    f = sc.load(model).forecast
    assert len(f) == 3 and f["calls"].tolist() == [11.0, 12.0, 13.0]
    assert f["slot_start"].iloc[0] == pd.Timestamp("2009-03-02 08:00") and f["fold"].iloc[0] == 0
    assert (f["slot_start"].iloc[1], f["fold"].iloc[1]) == (pd.Timestamp("2009-10-25 02:30"), 0)
    assert (f["slot_start"].iloc[2], f["fold"].iloc[2]) == (pd.Timestamp("2009-10-25 02:30"), 1)


def test_the_same_instant_twice_is_a_duplicate(tmp_path):
    model = copy_default(tmp_path)
    write_forecast(model, "plateau,slot_start,calls\nfixed,2009-03-02T07:00:00Z,11\n"
                          "fixed,2009-03-02T09:00:00+01:00,12\nfixed,2009-03-02T08:00:00+01:00,13\n")
    with pytest.raises(InputError, match=r"row 4, field 'slot_start': duplicate"):
        sc.load(model)


def test_forecast_regime_applies_the_active_regimes_uplift(tmp_path):
    model = copy_default(tmp_path)
    write_forecast(model, "plateau,slot_start,calls,aht_s\nfixed,2009-03-02 10:00,1000,300\n")
    with pytest.warns(StaffingWarning, match=r"taken as observed under regime R2.*\+10\.0%"):
        given = dm.build_demand(sc.load(model))
    row = (given["plateau"] == "fixed") & (given["slot_start"] == pd.Timestamp("2009-03-02 10:00"))
    assert given.loc[row, "calls"].item() == 1000.0 and given.loc[row, "aht_s"].item() == 300.0
    s = sc.load(model, {"demand": {"forecast_regime": "R1"}})
    up = s.regimes["call_uplift"]
    scaled = dm.build_demand(s)
    assert scaled.loc[row, "calls"].item() == pytest.approx(1000 * (1 + up["R2"]) / (1 + up["R1"]))
    assert dm.build_demand(s, regime="R1").loc[row, "calls"].item() == pytest.approx(1000.0)
    with pytest.raises(InputError, match="demand.forecast_regime.*unknown regime 'R9'"):
        sc.load(model, {"demand": {"forecast_regime": "R9"}})


def test_rows_outside_the_horizon(tmp_path):
    model = copy_default(tmp_path)
    write_forecast(model, "plateau,slot_start,calls\nfixed,2009-03-02 10:00,5\n"
                          "fixed,2009-03-20 10:00,6\nfixed,2009-03-21 10:00,7\n")
    s = sc.load(model, {"demand": {"forecast_regime": "R2"}})
    with pytest.warns(StaffingWarning, match=r"1 of its 3 rows used \(in the horizon 2009-03-02"
                                             r"\.\.2009-03-08\); they cover 1 of the horizon's 980"):
        dm.build_demand(s)
    with pytest.raises(InputError, match="none of the forecast's 3 rows .* falls in the horizon "
                                         "2009-04-06..2009-04-12"):
        dm.build_demand(s, start=dt.date(2009, 4, 6))


def test_forecast_file_kinds_and_validate(tmp_path, capsys):
    model = copy_default(tmp_path)
    frame = pd.DataFrame({"scenario": "x", "plateau": ["fixed"], "calls": [5.0],
                          "slot_start": pd.to_datetime(["2009-03-02 10:00"]).tz_localize("Europe/Paris")})
    path = model.parent.parent / "inputs" / "orange-2009" / "fc.parquet"
    frame.to_parquet(path)
    edit(model, 'profiles = "', 'forecast = "../inputs/orange-2009/fc.parquet"\nprofiles = "')
    f = sc.load(model).forecast
    assert f["slot_start"].tolist() == [pd.Timestamp("2009-03-02 10:00")]
    assert main(["validate", str(model)]) == 0
    out = capsys.readouterr()
    assert "1 of 1 rows in the horizon replace the generated demand (taken as observed under R2)" in out.out
    assert "warning: forecast: 1 of its 1 rows used" in out.err
    assert main(["validate", str(model), "--set", "horizon.start=2009-05-04"]) == 2
    assert "none of the forecast's 1 rows" in capsys.readouterr().err


def test_the_anonymous_bank_example_loads_with_its_calibrated_inputs():
    from pathlib import Path

    model = Path(__file__).resolve().parents[1] / "examples" / "anonymous-bank-1999" / "model.toml"
    s = sc.load(model)
    assert set(s.plateaux.index) == {"PS", "NW", "NE", "TT", "IN", "PE"}
    dem = dm.build_demand(s)
    fc = pd.read_csv(model.parent / "forecast.csv")
    assert dem["calls"].sum() == pytest.approx(fc["calls"].sum())
    assert set(fc.columns) == {"plateau", "slot_start", "calls", "aht_s", "calls_p10", "calls_p90"}


def test_the_manifest_keeps_the_warnings_of_reading_the_forecast(tmp_path, capsys):
    """Every `warning:` a run prints is in its manifest, those of loading a forecast that
    covers part of the horizon first, in the order printed."""
    import json

    model = copy_default(tmp_path)
    write_forecast(model, "plateau,slot_start,calls\nfixed,2009-03-02 10:00,5\n")
    out = tmp_path / "run"
    assert main(["optimise", str(model), "--no-rosters", "--headcount", "optimise", "--out",
                 str(out)]) == 0
    printed = [line[len("warning: "):] for line in capsys.readouterr().err.splitlines()
               if line.startswith("warning: ")]
    kept = json.loads((out / "manifest.json").read_text())["warnings"]
    assert len(printed) == 4 and kept == printed
    assert kept[0].startswith("forecast: 1 of its 1 rows used")
    assert kept[1].startswith("forecast: taken as observed under regime R2")
    assert kept[2].startswith("annual figures") and kept[3].startswith("--headcount optimise")
