"""The objective's priorities on hand-solved instances: service first (deficit spread by its
convex cost), then cost, then paid-anyway capacity where it lowers late calls most; one
headcount for a horizon; a property test against an independent feasibility MIP; determinism."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import LinearConstraint, milp

import small_scenario as ss
from staffing import allocation, queueing, scenario as scenario_mod
from staffing.allocation import Options

SLOT_H = 0.5


def sub(id_, cost, seats=1000, **more):
    return {"id": id_, "kind": "subcontractor", "plateaux": "p", "cost_eur_per_hour": cost,
            "seats": seats, "shrinkage": 0, **more}


def team(id_, headcount, **more):
    return {"id": id_, "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 20,
            "headcount": headcount, "shrinkage": 0, **more}


ONE_SLOT_SHIFTS = {"paid_hours": [0.5], "unpaid_break_minutes": 0, "weekly_hours": 0.5,
                   "days_per_week": 1, "start_step_minutes": 30}


def load(tmp_path, providers, forecast, **kw):
    return scenario_mod.load(str(ss.write(tmp_path, providers=providers, forecast=forecast, **kw)))


def test_shortage_is_split_between_two_slots_of_equal_need_not_dumped(tmp_path):
    n = ss.required([40, 40])  # 10 agents each
    # the only provider may work one slot's worth of hours: 10 agent-slots for 20 needed
    sc = load(tmp_path, [sub("a", 30, max_weekly_hours=10 * SLOT_H)], ss.monday_slots([40, 40]),
              opening={"default": "closed", "mon": ["08:00", "09:00"]}, shifts=ONE_SLOT_SHIFTS)
    plan = allocation.optimise(sc, Options(gap=0.0))
    cov = plan.tables["coverage"]
    assert n.tolist() == [10, 10]
    assert cov["answering_agents"].tolist() == [5.0, 5.0]
    assert cov["shortfall_agents"].tolist() == [5.0, 5.0]


def test_spare_inhouse_capacity_goes_where_it_lowers_late_calls_most(tmp_path):
    calls = [20, 60]
    n = ss.required(calls)
    heads = int(n.sum()) + 4  # four advisers more than required, paid anyway
    sc = load(tmp_path, [team("t", heads)], ss.monday_slots(calls), shifts=ONE_SLOT_SHIFTS,
              opening={"default": "closed", "mon": ["08:00", "09:00"]})
    plan = allocation.optimise(sc, Options(gap=0.0))
    staffed = plan.tables["coverage"]["answering_agents"].to_numpy()
    assert staffed.sum() == heads and (staffed >= n).all()

    def late(split):
        m = queueing.evaluate(np.array(calls, float), 300.0, 30.0, np.array(split, float), 20.0)
        return float((np.array(calls) * (1 - m["service_level"])).sum())
    best = min(([n[0] + k, n[1] + 4 - k] for k in range(5)), key=late)  # brute force
    assert staffed.tolist() == best
    assert best[1] - n[1] > best[0] - n[0]  # the higher load gets more of the spare advisers


def test_take_or_pay_hours_are_used_before_anything_else(tmp_path):
    calls = [20, 30, 40, 30]
    n = ss.required(calls)  # 32 agent-slots, 16 h
    sc = load(tmp_path, [sub("a", 30, min_weekly_hours=20), sub("b", 10)], ss.monday_slots(calls))
    plan = allocation.optimise(sc, Options(gap=0.0))
    prov = plan.tables["providers"].set_index("provider")
    assert prov.at["b", "logged_hours"] == 0.0  # cheaper, but a's hours are paid anyway
    assert prov.at["a", "logged_hours"] == pytest.approx(20.0)  # all of them put to use
    assert plan.manifest["staffing_cost_eur"] == pytest.approx(600.0)
    cov = plan.tables["coverage"]
    assert (cov["answering_agents"] >= n).all() and cov["late_calls"].sum() < late_at(calls, n)


def late_at(calls, n) -> float:
    m = queueing.evaluate(np.array(calls, float), 300.0, 30.0, np.array(n, float), 20.0)
    return float((np.array(calls) * (1 - m["service_level"])).sum())


def test_headcount_is_chosen_once_for_two_different_weeks(tmp_path):
    week1 = ss.monday_slots([20, 60])
    week2 = ss.monday_slots([40, 100], day="2009-03-09")
    peak = int(ss.required([40, 100]).sum())  # the second week, one slot per adviser
    sc = load(tmp_path, [team("t", 10, headcount_min=1, headcount_max=60), sub("s", 200)],
              week1 + week2, shifts=ONE_SLOT_SHIFTS,
              opening={"default": "closed", "mon": ["08:00", "09:00"]}, weeks=2)
    plan = allocation.optimise(sc, Options(headcount="optimise", workers=1))
    tours = plan.tables["tours"]
    per_week = tours.groupby("week")["advisers"].sum()
    assert per_week.tolist() == [plan.manifest["headcount"]["t"]] * 2
    summary = plan.tables["summary"].set_index("metric")["value"]
    assert summary["headcount[t]"] == plan.manifest["headcount"]["t"]
    # an adviser (10 EUR a week) is cheaper than an agent-slot of the subcontractor (100 EUR):
    # the horizon hires for its peak week, and nobody is short in either week
    assert plan.shortfall_share == 0.0
    assert plan.manifest["headcount"]["t"] == peak
    assert plan.tables["providers"].set_index("provider").at["s", "logged_hours"] == 0.0


def test_headcount_optimise_warns_when_the_bounds_leave_nothing_to_decide(tmp_path):
    sc = load(tmp_path, [team("t", 10), sub("s", 30)], ss.monday_slots([20, 60]),
              shifts=ONE_SLOT_SHIFTS, opening={"default": "closed", "mon": ["08:00", "09:00"]})
    plan = allocation.optimise(sc, Options(headcount="optimise"))
    assert any("nothing to decide" in w for w in plan.warnings)
    assert plan.manifest["headcount"] == {"t": 10.0}


def _feasible(need, seats, hours) -> bool:
    """Independent check: an integer plan z[k,t] with coverage >= need, z <= seats and
    0.5 h x sum_t z[k,t] <= hours[k] (scipy's MILP, not the optimiser's model)."""
    k, t = len(seats), len(need)
    a_cov = np.zeros((t, k * t))
    a_hours = np.zeros((k, k * t))
    for i in range(k):
        for j in range(t):
            a_cov[j, i * t + j] = 1.0
            a_hours[i, i * t + j] = SLOT_H
    ub = np.repeat(np.array(seats, float), t)
    res = milp(np.zeros(k * t), integrality=np.ones(k * t),
               bounds=(np.zeros(k * t), ub),
               constraints=[LinearConstraint(a_cov, np.array(need, float), np.inf),
                            LinearConstraint(a_hours, -np.inf, np.array(hours, float))])
    return res.status == 0


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(calls=st.lists(st.integers(0, 60), min_size=4, max_size=4),
       seats=st.lists(st.integers(1, 12), min_size=2, max_size=2),
       hours=st.lists(st.integers(1, 20), min_size=2, max_size=2),
       costs=st.lists(st.integers(10, 40), min_size=2, max_size=2))
def test_zero_shortfall_whenever_a_feasibility_mip_finds_a_plan(tmp_path_factory, calls, seats,
                                                                hours, costs):
    need = ss.required(calls)
    root = tmp_path_factory.mktemp("prop")
    providers = [sub(f"s{i}", costs[i], seats=seats[i], max_weekly_hours=hours[i]) for i in range(2)]
    sc = load(root, providers, ss.monday_slots(calls))
    plan = allocation.optimise(sc, Options())
    if _feasible(need, seats, hours):
        assert plan.shortfall_share == 0.0
    else:
        assert plan.shortfall_share > 0.0


def test_identical_plans_under_a_node_limit(tmp_path):
    calls = [35, 52, 61, 44]
    sc = load(tmp_path, [team("t", 9, headcount_min=2, headcount_max=30),
                         sub("a", 27, seats=7, max_weekly_hours=9), sub("b", 31, seats=5)],
              ss.monday_slots(calls), shifts={"paid_hours": [1.0], "unpaid_break_minutes": 0,
                                               "weekly_hours": 1.0, "days_per_week": 1,
                                               "start_step_minutes": 30})
    opts = Options(gap=0.0, node_limit=1, headcount="optimise", time_limit=600)
    one, two = allocation.optimise(sc, opts), allocation.optimise(sc, opts)
    for name in ("allocation", "coverage", "shifts", "providers", "diagnostics"):
        pd.testing.assert_frame_equal(one.tables[name], two.tables[name])
    assert one.manifest["status"] == two.manifest["status"]
    assert one.manifest["objective_eur"] == two.manifest["objective_eur"]


