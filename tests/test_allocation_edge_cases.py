"""Optimiser edge cases: optional callback fields, fractional callback work, several shift
lengths in tours, contracts no shift combination can make."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import small_scenario as ss
from staffing import allocation, scenario as scenario_mod
from staffing.allocation import Options
from staffing.cli import main
from staffing.shifts import build_tours

SLOT_H = 0.5


def sub(id_, cost, seats=1000):
    return {"id": id_, "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": cost,
            "seats": seats, "shrinkage": 0}


def test_no_long_call_aht_needed_without_callbacks(tmp_path):
    # docs/scenario.md: long_call_aht_s is required only when callback_share > 0
    plateau = {"id": "p", "annual_calls": 1000000, "aht_s": 300, "callback_share": 0}
    model = ss.write(tmp_path, providers=[sub("a", 20)], plateaux=[plateau],
                     forecast=ss.monday_slots([20, 30, 40, 30]))
    sc = scenario_mod.load(str(model))
    plan = allocation.optimise(sc, Options(gap=0.0))
    assert plan.manifest["staffing_cost_eur"] == pytest.approx(20 * SLOT_H * 32)


def test_fractional_callback_work_is_covered_not_left_short(tmp_path):
    # 4.03 agent-slots of callback work: one more whole agent-slot (15 EUR) covers it; leaving
    # 0.033 agent short is no option: service comes before cost
    calls = [20, 30, 40, 31]
    plateau = {"id": "p", "annual_calls": 1000000, "aht_s": 300, "callback_share": 0.1,
               "callback_threshold_s": 1800, "long_call_aht_s": 2400}
    model = ss.write(tmp_path / "m", providers=[sub("s", 30)], plateaux=[plateau],
                     forecast=ss.monday_slots(calls))
    n = ss.required(calls, aht_s=240.0)
    work = np.asarray(calls) * 0.1 * 600 / 1800
    assert n.sum() == 27 and work.sum() == pytest.approx(4.0333, abs=1e-4)
    sc = scenario_mod.load(str(model))
    plan = allocation.optimise(sc, Options(gap=0.0))
    cov = plan.tables["coverage"]
    assert (cov["shortfall_agents"] == 0).all() and plan.shortfall_share == 0.0
    assert plan.manifest["staffing_cost_eur"] == pytest.approx(SLOT_H * 30 * (27 + 5))
    assert main(["optimise", str(model), "--out", str(tmp_path / "run")]) == 0


def test_tours_give_each_adviser_the_contract_hours_with_two_shift_lengths(tmp_path):
    # 2 advisers, 15 h a week over 2 days from 5 h and 10 h shifts: Monday and Tuesday each need
    # 2 agents 08:00-13:00 and 1 agent 13:00-18:00, met exactly by a 10 h and a 5 h shift a day.
    # Adviser A works Mon 10 h + Tue 5 h, adviser B Mon 5 h + Tue 10 h: both 15 h.
    team = {"id": "team", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 40,
            "headcount": 2, "shrinkage": 0}
    fc = (ss.monday_slots([3] * 10 + [1] * 10) +
          ss.monday_slots([3] * 10 + [1] * 10, day="2009-03-03"))
    model = ss.write(tmp_path, providers=[team, sub("s", 30)], forecast=fc,
                     opening={"default": "closed", "mon": ["08:00", "18:00"],
                              "tue": ["08:00", "18:00"]},
                     shifts={"paid_hours": [5.0, 10.0], "unpaid_break_minutes": 0,
                             "weekly_hours": 15.0, "days_per_week": 2})
    sc = scenario_mod.load(str(model))
    plan = allocation.optimise(sc, Options(gap=0.0))
    assert plan.manifest["staffing_cost_eur"] == pytest.approx(2 * 15 * 40)  # no subcontracting
    tours = plan.tables["tours"]
    assert tours["advisers"].sum() == 2
    assert tours["paid_hours"].tolist() == [15.0] * len(tours)


def test_build_tours_balances_hours_when_it_can():
    daily = pd.DataFrame({"day": [0, 0, 1, 1], "plateau": "p",
                          "shift": ["08:00-13:00", "08:00-18:00"] * 2,
                          "paid_hours": [5.0, 10.0, 5.0, 10.0], "advisers": [1, 1, 1, 1]})
    lines = build_tours(daily, 2, 2)
    # two different rosters (long Monday or long Tuesday), each worth the 15 h contract
    assert lines["paid_hours"].tolist() == [15.0, 15.0]
    assert lines["advisers"].tolist() == [1, 1]


def test_every_adviser_can_work_the_contract(tmp_path, capsys):
    # 6 h shifts and a 15 h week: no adviser can work exactly 15 h, though 2 advisers' 30 h
    # are 5 shifts in all; the model must be refused rather than give tours of 18 h and 12 h
    team = {"id": "team", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 40,
            "headcount": 2, "shrinkage": 0}
    days = ["2009-03-02", "2009-03-03", "2009-03-04"]
    fc = [row for d in days for row in ss.monday_slots([3] * 12, day=d)]
    model = ss.write(tmp_path / "m", providers=[team, sub("s", 30)], forecast=fc,
                     opening={"default": "closed", "mon": ["08:00", "14:00"],
                              "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"]},
                     shifts={"paid_hours": [6.0], "unpaid_break_minutes": 0,
                             "weekly_hours": 15.0, "days_per_week": 5})
    code = main(["optimise", str(model), "--out", str(tmp_path / "run")])
    assert code == 2 and not (tmp_path / "run").exists()
    err = capsys.readouterr().err
    assert "shifts.weekly_hours" in err and "15 h cannot be made" in err


def test_week_plans_stopped_by_their_own_budget_above_the_gap_are_named():
    """A `feasible` week plan whose gap exceeds --gap was either stopped by the run's own
    budget for its MIP, or is a large rounded plan returned without one: the run warns once
    for each kind, naming the worst weeks; optimal weeks, weeks within --gap, weeks a user
    limit stopped (time_limit) and re-solves (searched None) are not named."""
    from types import SimpleNamespace as W

    from staffing.allocation import _gap_warnings

    results = [W(week=0, status="optimal", objective=100.0, lp_bound=100.0, searched=False),
               W(week=1, status="feasible", objective=100.0, lp_bound=99.7, searched=True),
               W(week=2, status="feasible", objective=100.0, lp_bound=18.4, searched=True),
               W(week=3, status="time_limit", objective=100.0, lp_bound=50.0, searched=True),
               W(week=4, status="feasible", objective=200.0, lp_bound=190.0, searched=True),
               W(week=5, status="feasible", objective=100.0, lp_bound=98.0, searched=False),
               W(week=6, status="feasible", objective=100.0, lp_bound=10.0, searched=None)]
    got = _gap_warnings(Options(gap=0.005), results)
    assert len(got) == 2
    assert got[0].startswith("2 week plan(s) end with a gap to the best bound above --gap "
                             "0.5 % (week 3 81.6 %, week 5 5.0 %): the search stopped at its "
                             "own budget")
    assert got[1].startswith("1 week plan(s) end with a gap to the best bound above --gap "
                             "0.5 % (week 6 2.0 %): large plans that keep the LP's service")
    assert _gap_warnings(Options(gap=0.9), results) == []
