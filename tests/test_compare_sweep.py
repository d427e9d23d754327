"""`staffing compare` on the default scenario and `staffing sweep` on a tiny one."""

import csv

import pandas as pd
import pytest

from economics_helpers import write_tiny
from scenario_helpers import copy_default
from staffing import allocation, economics
from staffing import scenario as scenario_mod
from staffing.cli import main

GAP = 0.005  # the optimiser's default relative MIP gap: integer plans are this close to optimal


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "run"
    assert main(["compare", "--regimes", "R0,R1,R2", "--offshore-caps", "0,1",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "regimes.csv")
    heads = pd.read_csv(out / "summary.csv").set_index("metric")["value"]
    return table, heads


def _at(table, regime, cap):
    return table[(table["regime"] == regime) & (table["offshore_cap"] == cap)].iloc[0]


def test_compare_revenue_calls_and_cost(compared):
    table, heads = compared
    assert len(table) == 6
    for cap in (0.0, 1.0):
        r0, r1, r2 = (_at(table, r, cap) for r in ("R0", "R1", "R2"))
        # calls follow the uplifts of the model against the base regime R1: 0, 0, +10 %
        assert r2["calls"] / r1["calls"] == pytest.approx(1.10, rel=1e-9)
        assert r0["calls"] / r1["calls"] == pytest.approx(1.0, rel=1e-9)
        assert r1["calls_year"] == pytest.approx(30e6, rel=1e-9)  # the article's 30 M calls
        # the premium rate with billed waiting earns most, waiting free less, the local rate nothing
        assert r0["revenue_eur"] > r1["revenue_eur"] > r2["revenue_eur"] == 0.0
        assert r0["revenue_eur"] / r0["calls"] > r1["revenue_eur"] / r1["calls"] > 0
        # more calls need more staff (R0 and R1 plan the same calls, within the solver's gap)
        assert r0["cost_eur"] == pytest.approx(r1["cost_eur"], rel=0.005)
        assert r1["cost_eur"] < r2["cost_eur"]
        assert r0["net_cost_eur"] == pytest.approx(r0["cost_eur"] - r0["revenue_eur"])
    # headlines: base regime R1 -> active R2, at the first cap (the model's 0.2 is not compared)
    a, b = _at(table, "R1", 0.0), _at(table, "R2", 0.0)
    assert heads["revenue_lost_year[R1->R2]"] == pytest.approx(a["revenue_eur_year"])
    assert heads["extra_calls_year[R1->R2]"] == pytest.approx(3e6, rel=1e-9)
    assert heads["extra_staffing_cost_year[R1->R2]"] == pytest.approx(
        b["cost_eur_year"] - a["cost_eur_year"])
    assert heads["extra_staffing_cost_year[R1->R2]"] > 0
    for r in ("R0", "R1", "R2"):
        v = heads[f"cost_of_staying_local_year[{r}]"]
        assert v == pytest.approx(_at(table, r, 0.0)["net_cost_eur_year"]
                                  - _at(table, r, 1.0)["net_cost_eur_year"])
        assert v >= -GAP * _at(table, r, 0.0)["net_cost_eur_year"]
    # where demand outgrows the subcontractors' take-or-pay hours, offshore saves real money
    assert heads["cost_of_staying_local_year[R2]"] > 1e6
    assert _at(table, "R2", 1.0)["offshore_share"] > 0.05


def test_billed_waiting_earns_more_on_the_same_plan(tmp_path):
    sc = scenario_mod.load(write_tiny(tmp_path, "erlang_c"))
    plan = allocation.optimise(sc, allocation.Options(regime="R1"))
    cov = plan.tables["coverage"]
    r0 = economics.slot_revenue(sc, cov, "R0", "erlang_c")
    r1 = economics.slot_revenue(sc, cov, "R1", "erlang_c")
    # waiting at the staffed level: calls x ASA of each slot
    assert r0["wait_min"].sum() == pytest.approx(float((cov["calls"] * cov["asa_s"]).sum()) / 60)
    assert r0["wait_min"].sum() > 0
    assert r0["revenue_eur"].sum() - r1["revenue_eur"].sum() == pytest.approx(
        0.58 * 0.34 * r0["wait_min"].sum())


def test_staying_local_costs_nothing_when_offshore_is_no_cheaper(tmp_path):
    model = copy_default(tmp_path)
    path = tmp_path / "inputs" / "orange-2009" / "providers.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for r in rows:
        if r["kind"] == "offshore":  # as dear and as quick as the in-house sites
            r["cost_eur_per_hour"], r["aht_factor"] = "55", "1.0"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    sc = scenario_mod.load(model)
    table = economics.compare(sc, allocation.Options().resolved(sc), ["R2"], [0.0, 1.0])
    assert table["offshore_share"].max() == 0.0
    heads = {h.metric: h.value for h in economics.headlines(sc, table)}
    assert abs(heads["cost_of_staying_local_year[R2]"]) <= GAP * table["net_cost_eur_year"].max()


def _sweep(tmp_path, model, *args):
    out = tmp_path / "sweep"
    assert main(["sweep", str(model), *args, "--out", str(out)]) == 0
    return pd.read_csv(out / "sweep.csv"), pd.read_csv(out / "summary.csv").set_index("metric")["value"]


def test_sweep_sl_target_erlang_c(tmp_path):
    model = write_tiny(tmp_path / "m", "erlang_c")
    table, summary = _sweep(tmp_path, model, "--param", "service_level.target=0.5:0.95:0.05",
                            "--regimes", "R0,R1,R2")
    assert len(table) == 30
    for r, g in table.groupby("regime"):
        g = g.sort_values("service_sl_target")
        assert g["service_sl_target"].round(2).tolist() == [round(0.5 + 0.05 * i, 2) for i in range(10)]
        assert g["cost_eur"].is_monotonic_increasing, r  # non-decreasing in the SL target
        assert g["service_level"].iloc[-1] > g["service_level"].iloc[0]
        if r == "R0":  # billed waiting: better service earns less
            assert g["revenue_eur"].is_monotonic_decreasing
            assert g["revenue_eur"].iloc[0] > g["revenue_eur"].iloc[-1]
        else:  # talk (and set-up) only: revenue does not depend on staffing without abandonment
            assert g["revenue_eur"].max() == pytest.approx(g["revenue_eur"].min())
    best = {r: summary[f"profit_optimal[{r}].service_sl_target"] for r in ("R0", "R1", "R2")}
    assert best["R0"] <= best["R2"]
    assert best["R2"] == 0.5  # net cost = staffing cost: the cheapest target


def test_sweep_billed_waiting_lowers_the_profit_optimal_target(tmp_path):
    # Erlang A with cheap staff: answering more calls pays for itself under R1 (talk billed),
    # while under R0 the waiting of abandoned callers is billed too.
    model = write_tiny(tmp_path / "m", "erlang_a", cost_eur_per_hour=4)
    table, summary = _sweep(tmp_path, model, "--param", "service.sl_target=0.5,0.6,0.7,0.8,0.9",
                            "--regimes", "R0,R1,R2")
    best = {r: summary[f"profit_optimal[{r}].service_sl_target"] for r in ("R0", "R1", "R2")}
    assert best["R0"] < best["R1"]
    assert best["R0"] <= best["R2"]
    for r, g in table.groupby("regime"):
        assert g.sort_values("service_sl_target")["cost_eur"].is_monotonic_increasing, r


def test_sweep_resumes_where_it_stopped(tmp_path, monkeypatch):
    model = write_tiny(tmp_path / "m", "erlang_c")
    out = tmp_path / "sweep"
    args = ["sweep", str(model), "--param", "service.sl_target=0.5,0.6,0.7,0.8",
            "--regimes", "R0", "--workers", "1", "--out", str(out)]
    real = allocation.optimise
    calls = []

    def interrupted(scenario, opts, progress=None):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(opts.regime)
        return real(scenario, opts, progress)

    monkeypatch.setattr(allocation, "optimise", interrupted)
    assert main(args) == 130  # aborted after two points
    assert not out.exists()
    assert len(list((tmp_path / "sweep.points").glob("*.json"))) == 2

    def counted(scenario, opts, progress=None):
        calls.append(opts.regime)
        return real(scenario, opts, progress)

    calls.clear()
    monkeypatch.setattr(allocation, "optimise", counted)
    assert main(args) == 0
    assert len(calls) == 2  # only the two missing points
    assert len(pd.read_csv(out / "sweep.csv")) == 4
    assert not (tmp_path / "sweep.points").exists()
    first = pd.read_csv(out / "sweep.csv")
    calls.clear()
    assert main(args) == 0  # finished: nothing to optimise again
    assert calls == []
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), first)
    # another grid may not silently replace it
    assert main(args[:3] + ["service.sl_target=0.9"] + args[4:]) == 2


def test_sweep_bad_param_is_an_input_error(tmp_path, capsys):
    model = write_tiny(tmp_path / "m", "erlang_c")
    assert main(["sweep", str(model), "--param", "service.sl_target=0.9:0.5:0.1"]) == 2
    assert "HI >= LO" in capsys.readouterr().err
    assert main(["sweep", str(model), "--param", "service.sl_target=1.5"]) == 2
    assert main(["sweep", str(model), "--param", "service.sl_target=0.8",
                 "--regimes", "R9"]) == 2


def test_profit_optimal_ties_within_the_solver_tolerance():
    import pandas as pd

    from staffing import sweep as sweep_mod

    table = pd.DataFrame({"regime": ["R0"] * 4 + ["R2"] * 2,
                          "x": [1, 2, 3, 4, 1, 2],
                          "net_cost_eur": [1000.0, 1004.0, 1006.0, 999.0, 500.0, 600.0],
                          "shortfall_share": [0, 0, 0, 0.5, 0, 0],
                          "cost_eur": 0.0, "revenue_eur": 0.0, "service_level": 0.8,
                          "asa_s": 10.0})
    best = sweep_mod.best_points(table, ["x"], 0.0)
    assert best.set_index("regime")["x"].to_dict() == {"R0": 1, "R2": 1}  # 999 is too short
    ties = sweep_mod.ties_within_tolerance(table, best, 0.005, 0.0)
    # tolerance 0.5 % of 1006 = 5.03 EUR: 1004 is a tie, 1006 is not; R2's 600 is far off
    assert ties["R0"][0] == 1 and ties["R0"][1] == pytest.approx(5.03)
    assert ties["R2"][0] == 0
    assert sweep_mod.ties_within_tolerance(table, best, 0.0, 0.0)["R0"][0] == 0


def test_sweep_and_compare_print_and_keep_each_cases_warnings(tmp_path, capsys):
    """A plan's warnings (here --headcount optimise with nothing to decide) are printed and
    kept in the manifest, named by the sweep point or the compare case they come from."""
    import json

    model = write_tiny(tmp_path / "m", "erlang_c")
    said = ": --headcount optimise: no in-house team, nothing to decide"
    out = tmp_path / "sweep"
    assert main(["sweep", str(model), "--param", "service.sl_target=0.6,0.8", "--regimes", "R0",
                 "--headcount", "optimise", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    kept = json.loads((out / "manifest.json").read_text())["warnings"]
    assert [w.split(": ", 1)[0] for w in kept] == ["R0 service.sl_target=0.6",
                                                   "R0 service.sl_target=0.8"]
    assert all(said in w and f"warning: {w}" in err for w in kept)
    out = tmp_path / "compare"
    assert main(["compare", str(model), "--regimes", "R0,R1", "--headcount", "optimise",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    kept = json.loads((out / "manifest.json").read_text())["warnings"]
    cap = scenario_mod.load(model).offshore_cap
    assert [w.split(": ", 1)[0] for w in kept] == [f"R0, offshore cap {cap:g}",
                                                   f"R1, offshore cap {cap:g}"]
    assert all(said in w and f"warning: {w}" in err for w in kept)
