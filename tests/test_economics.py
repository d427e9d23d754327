"""Hotline revenue by hand for each pricing regime; annualisation; economics added to a plan."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from economics_helpers import write_tiny
from staffing import allocation, demand, economics, queueing
from staffing import scenario as scenario_mod
from staffing.cli import main


@pytest.fixture(scope="module")
def default():
    return scenario_mod.load()


def _coverage():
    """Three slots of the default's plateaux (patience 180 s in the default)."""
    return pd.DataFrame({
        "slot_start": pd.to_datetime(["2009-03-02 10:00", "2009-03-02 20:00", "2009-03-02 18:30"]),
        "slot_minutes": [30, 30, 30],
        "plateau": ["internet", "fixed", "pro"],
        "calls": [100.0, 60.0, 10.0],
        "aht_s": [600.0, 360.0, 900.0],
        "answering_agents": [40.0, 12.0, 6.0],
        "asa_s": [30.0, np.inf, 500.0],  # the last two are capped at the patience, 180 s
    })


def test_revenue_by_hand_for_each_regime(default):
    cov = _coverage()
    # talk minutes 1000, 360, 150; waiting minutes 100x30/60 = 50, 60x180/60 = 180, 10x180/60 = 30
    r0 = economics.slot_revenue(default, cov, "R0", "erlang_c")
    assert r0["talk_min"].tolist() == pytest.approx([1000.0, 360.0, 150.0])
    assert r0["wait_min"].tolist() == pytest.approx([50.0, 180.0, 30.0])
    assert r0["wait_capped"].tolist() == [False, True, True]
    # R0: 0.58 x 0.34 EUR/min x (talk + wait)
    assert r0["revenue_eur"].tolist() == pytest.approx([207.06, 106.488, 35.496])
    # R1: waiting free
    r1 = economics.slot_revenue(default, cov, "R1", "erlang_c")
    assert r1["revenue_eur"].tolist() == pytest.approx([197.2, 70.992, 29.58])
    # R2: 0.078 per call + 0.028 EUR/min at peak (10:00, 18:30) or 0.014 off-peak (20:00);
    # the operator keeps none of it
    r2 = economics.slot_revenue(default, cov, "R2", "erlang_c")
    assert r2["charge_eur"].tolist() == pytest.approx([7.8 + 28.0, 4.68 + 5.04, 0.78 + 4.2])
    assert r2["revenue_eur"].sum() == 0.0
    kept = default.regimes.copy()
    kept.loc["R2", "operator_share"] = 0.5
    r2b = economics.slot_revenue(default.replace(regimes=kept), cov, "R2", "erlang_c")
    assert r2b["revenue_eur"].sum() == pytest.approx(0.5 * (35.8 + 9.72 + 4.98))


def test_peak_share_splits_a_straddling_slot():
    starts = pd.Series(pd.to_datetime(["2009-03-02 07:30", "2009-03-02 18:30", "2009-03-02 19:00"]))
    share = economics.peak_share(starts, 60, dt.time(8, 0), dt.time(19, 0))
    assert share.tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_erlang_a_bills_the_waiting_of_abandoned_callers_too(default):
    cov = _coverage().iloc[:1].copy()
    calls, aht, n = 100.0, 600.0, 36.0  # load 33.3 Erlangs: a real queue
    cov["answering_agents"] = n
    m = queueing.erlang_a(calls, aht, 30.0, n, 60.0, 180.0)
    r0 = economics.slot_revenue(default, cov, "R0", "erlang_a")
    answered = calls * (1 - float(m["p_abandon"]))
    assert 0 < answered < calls
    assert r0["answered_calls"].iloc[0] == pytest.approx(answered)
    assert r0["talk_min"].iloc[0] == pytest.approx(answered * aht / 60)
    assert r0["wait_min"].iloc[0] == pytest.approx(calls * float(m["mean_wait_s"]) / 60)
    # abandoned callers wait at most their patience: the mean wait of all calls is below it
    assert 0 < float(m["mean_wait_s"]) < 180.0
    # R2 waiting is free: the per-call charge applies to answered calls only
    r2 = economics.slot_revenue(default, cov, "R2", "erlang_a")
    assert r2["charge_eur"].iloc[0] == pytest.approx(0.078 * answered + 0.028 * answered * aht / 60)


def test_erlang_a_with_endless_patience_is_erlang_c(default):
    cov = _coverage().iloc[:1].copy()
    cov["answering_agents"] = 36.0
    targets = default.targets.copy()
    targets["patience_s"] = 1e9
    sc = default.replace(targets=targets)
    c = queueing.erlang_c(100.0, 600.0, 30.0, 36.0, 60.0)
    cov["asa_s"] = float(c["asa_s"])
    a = economics.slot_revenue(sc, cov, "R0", "erlang_a")
    b = economics.slot_revenue(sc, cov, "R0", "erlang_c")
    assert a["wait_min"].iloc[0] == pytest.approx(b["wait_min"].iloc[0], rel=1e-4)
    assert a["revenue_eur"].iloc[0] == pytest.approx(b["revenue_eur"].iloc[0], rel=1e-4)


def test_annual_factor_is_the_year_over_the_horizon_calls(default):
    horizon = demand.build_demand(default)  # the active regime's uplift scales both
    year = default.plateaux["annual_calls"].sum() * demand.uplift_factor(default)
    f = economics.annual_factor(default, default.start, default.weeks)
    assert f == pytest.approx(year / horizon["calls"].sum(), rel=1e-9)
    # a week in the whole 2009 calendar: about 52 weeks
    assert 45 < f < 60


def test_add_to_plan_puts_revenue_and_net_cost_in_the_summary(tmp_path):
    sc = scenario_mod.load(write_tiny(tmp_path, "erlang_c"))
    plan = allocation.optimise(sc, allocation.Options(regime="R1"))
    out = economics.add_to_plan(sc, plan)
    s = out.tables["summary"].set_index("metric")["value"]
    cov = plan.tables["coverage"]
    # R1 revenue = 0.58 x 0.34 x calls x AHT (no callbacks in the tiny scenario)
    revenue = 0.58 * 0.34 * float((cov["calls"] * cov["aht_s"]).sum()) / 60
    assert revenue > 0
    assert s["hotline_revenue"] == pytest.approx(revenue)
    assert s["net_cost"] == pytest.approx(s["staffing_cost"] - revenue)
    # the tiny scenario's 1,000 calls a Monday are 1/52 of the 2009 volume (52 Mondays)
    assert s["annual_factor"] == pytest.approx(52.0)
    assert s["calls_year"] == pytest.approx(52000.0)
    pe = out.tables["plateau_economics"]
    assert pe["cost_eur"].sum() == pytest.approx(plan.tables["providers"]["cost_eur"].sum())
    assert "hotline_revenue" not in plan.tables["summary"]["metric"].tolist()  # a copy


def test_optimise_command_writes_the_economics(tmp_path):
    model = write_tiny(tmp_path / "m", "erlang_c")
    out = tmp_path / "run"
    assert main(["optimise", str(model), "--regime", "R0", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv").set_index("metric")["value"]
    assert summary["hotline_revenue"] > 0
    assert summary["net_cost"] == pytest.approx(summary["staffing_cost"] - summary["hotline_revenue"])
    pe = pd.read_csv(out / "plateau_economics.csv")
    assert pe["revenue_eur"].sum() == pytest.approx(summary["hotline_revenue"])
