"""Discrete-event simulation: Erlang C / Erlang A agreement, ciw agreement, edge cases, command."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, linalg, stats

from staffing import simulate
from staffing.cli import main
from staffing.simulate import capped_lognormal_mu, serve_fcfs, simulate_plan


# ---------------------------------------------------------------------------- references

def erlang_c_ref(calls, aht_s, slot_minutes, n, answer_s):
    """Erlang C by the Erlang B recursion: (service level, ASA, occupancy)."""
    a = calls * aht_s / (slot_minutes * 60)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    c = n * b / (n - a * (1 - b))
    return 1 - c * math.exp(-(n - a) * answer_s / aht_s), c * aht_s / (n - a), a / n


def erlang_a_ref(calls, aht_s, slot_minutes, n, answer_s, patience_s, depth=400):
    """Exact M/M/n+M by its birth-death chain and the tagged caller's absorbing chain.

    Returns (service level over offered calls, P(abandon)). A caller who finds i callers
    waiting ahead moves up at rate n mu + j theta (j = callers still ahead) and hangs up at
    rate theta; the service level is P(reaching an agent within answer_s).
    """
    lam, mu, theta = calls / (slot_minutes * 60), 1 / aht_s, 1 / patience_s
    p = np.zeros(n + depth)
    p[0] = 1.0
    for k in range(1, n + depth):
        p[k] = p[k - 1] * lam / (min(k, n) * mu + max(k - n, 0) * theta)
    p /= p.sum()
    size = depth + 2  # states: ahead = 0..depth-1, then served, abandoned
    g = np.zeros((size, size))
    for i in range(depth):
        move = n * mu + i * theta
        g[i, i - 1 if i > 0 else depth] = move
        g[i, depth + 1] = theta
        g[i, i] = -(move + theta)
    served_by_t = linalg.expm(g * answer_s)[:depth, depth]
    sl = p[:n].sum() + (p[n:] * served_by_t).sum()
    queue = (np.arange(n + depth) - n).clip(0)
    return sl, theta * (queue * p).sum() / lam


def steady_plan(calls, aht_s, agents, n_slots, slot_minutes=30, plateau="x"):
    """A long day of identical slots (one contiguous run: the queue carries over)."""
    return pd.DataFrame({
        "slot_start": pd.date_range("2009-01-05", periods=n_slots, freq=f"{slot_minutes}min"),
        "slot_minutes": slot_minutes, "plateau": plateau, "calls": float(calls),
        "aht_s": float(aht_s), "answering_agents": float(agents), "sl_target": 0.8,
    })


def pooled(counters, num, den, skip=2):
    """Per-replication ratio over all rows after a warm-up, then mean and 99 % t half-width."""
    values = counters[num][:, skip:].sum(1) / counters[den][:, skip:].sum(1)
    half = stats.t.ppf(0.995, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), half


# ---------------------------------------------------------------------------- Erlang agreement

def test_reference_formulas_match_published_value():
    sl, asa, occ = erlang_c_ref(100, 180, 30, 14, 20)
    assert sl == pytest.approx(0.88835, abs=5e-5)
    # with hardly any impatience Erlang A tends to Erlang C
    sl_a, p_ab = erlang_a_ref(100, 180, 30, 14, 20, 1e9)
    assert sl_a == pytest.approx(sl, abs=1e-6) and p_ab < 1e-6


def test_erlang_c_agreement_exponential_infinite_patience():
    sl_ref, asa_ref, occ_ref = erlang_c_ref(100, 180, 30, 14, 20)
    res = simulate_plan(steady_plan(100, 180, 14, 1000), replications=10, seed=11,
                        handle="exponential", answer_s=20, workers=2)
    c = res.counters
    sl, half = pooled(c, "sl_hits", "offered")
    assert half < 0.01  # the check is tight enough to mean something
    assert abs(sl - sl_ref) <= half
    asa, half_asa = pooled(c, "wait_s", "answered")
    assert abs(asa - asa_ref) <= half_asa
    assert c["abandoned"].sum() == 0
    busy = c["busy_s"][:, 2:].sum() / (c["busy_s"].shape[0] * 998 * 14 * 1800)
    assert busy == pytest.approx(occ_ref, abs=0.005)


def test_erlang_a_agreement_with_patience():
    sl_ref, ab_ref = erlang_a_ref(100, 180, 30, 11, 20, 120)
    res = simulate_plan(steady_plan(100, 180, 11, 600), replications=10, seed=5,
                        handle="exponential", answer_s=20, patience_s=120, workers=2)
    sl, half = pooled(res.counters, "sl_hits", "offered")
    ab, half_ab = pooled(res.counters, "abandoned", "offered")
    assert 0.05 < ab_ref < 0.2 and half < 0.01
    assert abs(sl - sl_ref) <= half
    assert abs(ab - ab_ref) <= half_ab


def test_erlang_a_agreement_with_queueing_engine():
    queueing = pytest.importorskip("staffing.queueing")
    if not hasattr(queueing, "erlang_a"):
        pytest.skip("queueing engine without erlang_a")
    ref = queueing.erlang_a(60, 240, 30, 8, 30, 300)
    sl_exact, ab_exact = erlang_a_ref(60, 240, 30, 8, 30, 300)
    assert float(ref["service_level"]) == pytest.approx(sl_exact, abs=1e-6)
    res = simulate_plan(steady_plan(60, 240, 8, 600), replications=10, seed=9,
                        handle="exponential", answer_s=30, patience_s=300, workers=2)
    sl, half = pooled(res.counters, "sl_hits", "offered")
    ab, half_ab = pooled(res.counters, "abandoned", "offered")
    asa, half_asa = pooled(res.counters, "wait_s", "answered")
    assert abs(sl - float(ref["service_level"])) <= half
    assert abs(ab - float(ref["p_abandon"])) <= half_ab
    assert abs(asa - float(ref["asa_s"])) <= half_asa


# ---------------------------------------------------------------------------- ciw

def test_same_trace_as_ciw_call_by_call():
    ciw = pytest.importorskip("ciw")
    rng = np.random.default_rng(2)
    n_calls = 3000
    gaps = rng.exponential(40.0, n_calls)
    hold = rng.lognormal(math.log(100), 0.9, n_calls)
    arrival = np.cumsum(gaps)
    start = serve_fcfs(arrival, hold, np.inf, [3], 1800.0)
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Sequential(list(gaps) + [1e12])],
        service_distributions=[ciw.dists.Sequential(list(hold))],
        number_of_servers=[3])
    ciw.seed(0)
    q = ciw.Simulation(net)
    q.simulate_until_max_time(arrival[-1] + 1e6)
    recs = sorted((r for r in q.get_all_records() if r.record_type == "service"),
                  key=lambda r: r.arrival_date)[:n_calls]
    assert len(recs) == n_calls
    np.testing.assert_allclose([r.arrival_date for r in recs], arrival, rtol=1e-12)
    np.testing.assert_allclose([r.service_start_date for r in recs], start, rtol=1e-9)
    assert (start > arrival).mean() > 0.2  # a real queue formed


def _ciw_mgc_abandon(seed, hours, servers, rate_s, mu_log, sigma, patience_s, answer_s):
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate_s)],
        service_distributions=[ciw.dists.Lognormal(mu_log, sigma)],
        number_of_servers=[servers],
        reneging_time_distributions=[ciw.dists.Exponential(1 / patience_s)])
    ciw.seed(seed)
    q = ciw.Simulation(net)
    q.simulate_until_max_time(hours * 3600 + 5000)
    recs = [r for r in q.get_all_records() if 3600 <= r.arrival_date < hours * 3600]
    served = [r for r in recs if r.record_type == "service"]
    ok = sum(r.waiting_time <= answer_s for r in served)
    return ok / len(recs), 1 - len(served) / len(recs)


def test_agrees_with_ciw_lognormal_handle_times_and_abandonment():
    ciw = pytest.importorskip("ciw")  # noqa: F841
    cv, mean, patience, answer = 1.2, 150.0, 120.0, 20.0
    sigma = math.sqrt(math.log1p(cv * cv))
    mu_log = math.log(mean) - sigma * sigma / 2
    ciw_runs = np.array([_ciw_mgc_abandon(s, 25, 4, 1 / 45, mu_log, sigma, patience, answer)
                         for s in range(8)])
    res = simulate_plan(steady_plan(40, mean, 4, 50), replications=8, seed=3, aht_cv=cv,
                        cap_s=1e9, patience_s=patience, answer_s=answer, workers=1)
    for k, (num, den) in enumerate((("sl_hits", "offered"), ("abandoned", "offered"))):
        c = res.counters
        ours = c[num][:, 2:].sum(1) / c[den][:, 2:].sum(1)
        theirs = ciw_runs[:, k]
        se = math.sqrt(ours.var(ddof=1) / len(ours) + theirs.var(ddof=1) / len(theirs))
        assert se < 0.015
        assert abs(ours.mean() - theirs.mean()) <= 3 * se
    assert 0.05 < ciw_runs[:, 1].mean() < 0.3  # abandonment really is exercised


# ---------------------------------------------------------------------------- the queue itself

def test_zero_agents_everyone_waits_or_abandons():
    arrival = np.array([10.0, 20.0, 30.0])
    hold = np.array([50.0, 50.0, 50.0])
    start = serve_fcfs(arrival, hold, np.inf, [0, 1], 100.0)
    np.testing.assert_array_equal(start, [100.0, 150.0, 200.0])
    # the second caller hangs up after 50 s; it takes no agent, so the third starts at 150
    start = serve_fcfs(arrival, hold, np.array([95.0, 50.0, np.inf]), [0, 1], 100.0)
    np.testing.assert_array_equal(start, [100.0, np.nan, 150.0])
    # nobody on duty for the rest of the day: lost
    assert np.isnan(serve_fcfs(arrival, hold, np.inf, [0, 0], 100.0)).all()
    start = serve_fcfs(np.array([10.0, 150.0]), np.array([20.0, 5.0]), np.inf, [1, 0], 100.0)
    np.testing.assert_array_equal(start, [10.0, np.nan])


def test_agent_finishes_call_past_slot_end_but_takes_no_new_one():
    arrival = np.array([0.0, 1.0, 120.0, 125.0])
    hold = np.array([150.0, 150.0, 30.0, 30.0])
    start, who = serve_fcfs(arrival, hold, np.inf, [2, 1, 2], 100.0, return_agents=True)
    # agent 1 overruns slot 0 to 151, is off duty in slot 1, back at 200
    np.testing.assert_array_equal(start, [0.0, 1.0, 150.0, 180.0])
    np.testing.assert_array_equal(who, [0, 1, 0, 0])
    # after the last slot its staffing stays until the queue is cleared
    start = serve_fcfs(np.array([90.0, 95.0]), np.array([100.0, 10.0]), np.inf, [1], 100.0)
    np.testing.assert_array_equal(start, [90.0, 190.0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_time_varying_staffing_invariants(seed):
    """FCFS order, agents on duty when they start, no overlap, no idle agent while one waits."""
    rng = np.random.default_rng(seed)
    slot_s, agents = 100.0, rng.integers(0, 5, 12)
    arrival = np.sort(rng.uniform(0, 12 * slot_s, 400))
    hold = rng.exponential(60.0, 400)
    patience = np.where(rng.random(400) < 0.5, np.inf, rng.exponential(80.0, 400))
    start, who = serve_fcfs(arrival, hold, patience, agents, slot_s, return_agents=True)
    served = ~np.isnan(start)
    assert (np.diff(start[served]) >= 0).all()
    assert (start[served] >= arrival[served]).all()
    assert (start[served] - arrival[served] <= patience[served]).all()

    def on_duty(t):
        return agents[min(int(t // slot_s), len(agents) - 1)]

    assert all(who[i] < on_duty(start[i]) for i in np.flatnonzero(served))
    busy = {}
    for i in np.flatnonzero(served):
        busy.setdefault(who[i], []).append((start[i], start[i] + hold[i]))
    for spans in busy.values():
        spans.sort()
        assert all(e1 <= s2 + 1e-9 for (_, e1), (s2, _) in zip(spans, spans[1:]))
    # while a caller waits, every on-duty agent is busy (checked at the waiting midpoint)
    for i in range(len(arrival)):
        end = start[i] if served[i] else min(arrival[i] + patience[i], 12 * slot_s)
        if end - arrival[i] < 1e-6:
            continue
        t = (arrival[i] + end) / 2
        idle = [j for j in range(on_duty(t))
                if not any(s <= t < e for s, e in busy.get(j, []))]
        assert not idle, (i, t, idle)
    assert served.sum() < len(arrival)  # some callers did hang up or were lost


def test_capped_lognormal_keeps_the_mean():
    for mean, cv in ((510.0, 1.0), (360.0, 1.5), (2000.0, 0.8)):
        mu = float(capped_lognormal_mu(mean, cv, 2700.0))
        sigma = math.sqrt(math.log1p(cv * cv))
        dist = stats.lognorm(s=sigma, scale=math.exp(mu))
        capped_mean, _ = integrate.quad(dist.sf, 0, 2700.0, limit=200)
        assert capped_mean == pytest.approx(mean, rel=1e-7)
        assert dist.mean() > mean  # the uncapped law is shifted up to make up for the cap


def test_round_agents_halves_up():
    np.testing.assert_array_equal(simulate.round_agents([0.0, 0.49, 0.5, 13.5, 13.49, 2.51]),
                                  [0, 0, 1, 14, 13, 3])


# ---------------------------------------------------------------------------- the plan

def test_same_seed_same_numbers_any_workers():
    plan = steady_plan(50, 240, 8, 10)
    one = simulate_plan(plan, replications=3, seed=7, forecast_error=0.2, patience_s=200,
                        workers=1)
    two = simulate_plan(plan, replications=3, seed=7, forecast_error=0.2, patience_s=200,
                        workers=2)
    pd.testing.assert_frame_equal(one.simulation, two.simulation)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    other = simulate_plan(plan, replications=3, seed=8, forecast_error=0.2, patience_s=200,
                          workers=1)
    assert not np.array_equal(one.counters["offered"], other.counters["offered"])


def test_forecast_error_overdisperses_daily_volume():
    days = pd.DataFrame({
        "slot_start": pd.date_range("2009-01-05 08:00", periods=400, freq="D"),
        "slot_minutes": 30, "plateau": "x", "calls": 100.0, "aht_s": 100.0,
        "answering_agents": 10.0, "sl_target": 0.8})
    poisson = simulate_plan(days, replications=2, seed=1, workers=1).counters["offered"]
    spread = simulate_plan(days, replications=2, seed=1, forecast_error=0.3,
                           workers=1).counters["offered"]
    assert poisson.mean() == pytest.approx(100, abs=1.5)
    assert spread.mean() == pytest.approx(100, abs=4)
    assert poisson.var() == pytest.approx(100, rel=0.2)
    assert spread.var() == pytest.approx(100 + 0.3 ** 2 * 100 ** 2, rel=0.2)


def test_callbacks_take_agents_but_not_counted_as_live_calls():
    base = steady_plan(30, 180, 5, 20)
    with_cb = base.assign(callback_calls=10.0)
    kw = dict(replications=4, seed=2, handle="exponential", answer_s=20, workers=1)
    a, b = simulate_plan(base, **kw), simulate_plan(with_cb, **kw)
    np.testing.assert_array_equal(a.counters["offered"], b.counters["offered"])
    assert b.summary["sl_sim"].iloc[0] < a.summary["sl_sim"].iloc[0] - 0.02
    assert b.simulation["occupancy_sim"].mean() == pytest.approx(
        (30 + 10) * 180 / 1800 / 5, rel=0.05)
    only_cb = simulate_plan(base.assign(calls=0.0, callback_calls=10.0), **kw)
    assert only_cb.counters["offered"].sum() == 0
    assert only_cb.simulation["sl_sim_mean"].isna().all()
    assert only_cb.simulation["occupancy_sim"].mean() > 0.1


def test_tables_columns_and_within_2pp():
    plan = pd.concat([steady_plan(100, 180, 14, 4, plateau="b"),
                      steady_plan(30, 300, 3, 4, plateau="a")], ignore_index=True)
    plan["service_level"], plan["p_abandon"] = 0.85, np.nan
    res = simulate_plan(plan, scenario="demo", replications=3, seed=1, workers=1)
    assert list(res.simulation.columns) == [
        "scenario", "slot_start", "slot_minutes", "plateau", "calls_offered", "answering_agents",
        "sl_sim_mean", "sl_sim_lo95", "sl_sim_hi95", "asa_sim_s", "abandon_sim",
        "occupancy_sim", "sl_erlang", "p_abandon_erlang", "sl_target", "within_2pp",
        "meets_target_2pp"]
    assert list(res.summary["plateau"]) == ["a", "b", "all"]
    sim = res.simulation
    assert (sim["scenario"] == "demo").all() and list(sim["plateau"][:4]) == ["a"] * 4
    assert (sim["sl_sim_lo95"] <= sim["sl_sim_mean"]).all()
    assert (sim["sl_sim_mean"] <= sim["sl_sim_hi95"]).all()
    np.testing.assert_array_equal(sim["within_2pp"], (sim["sl_sim_mean"] - 0.8).abs() <= 0.02)
    total = res.summary.set_index("plateau")["calls"]
    assert total["all"] == pytest.approx(total["a"] + total["b"])
    # plateau a is overloaded (load 5 on 3 agents): everyone waits long
    assert res.summary.set_index("plateau").loc["a", "sl_sim"] < 0.3


def test_patience_per_row_none_means_never_hangs_up():
    plan = pd.concat([steady_plan(60, 180, 5, 6, plateau="a"),
                      steady_plan(60, 180, 5, 6, plateau="b")], ignore_index=True)
    patience = np.where(plan["plateau"] == "a", 60.0, np.nan)
    res = simulate_plan(plan, replications=2, seed=4, patience_s=patience, workers=1)
    by = res.summary.set_index("plateau")["abandon_sim"]
    assert by["a"] > 0.05 and by["b"] == 0.0


def test_settings_come_from_option_manifest_then_the_runs_targets():
    cov = pd.concat([steady_plan(10, 180, 2, 2, plateau=p) for p in ("a", "b")],
                    ignore_index=True)
    assert simulate.run_settings({"options": {"answer_s": 30}}, cov, None, 90.0) == \
        ((30.0, "manifest"), (90.0, "option"))
    # the scenario is never looked up again by name: a run without targets takes the defaults
    assert simulate.run_settings({"scenario": "orange-2009"}, cov) == \
        ((60.0, "default"), (None, "default"))
    targets = {"a": {"answer_s": 20.0, "patience_s": 213.0}, "b": {"answer_s": 45.0}}
    (answer, src), (patience, src_p) = simulate.run_settings(
        {"scenario": "orange-2009", "targets": targets}, cov)
    assert src == src_p == "run targets"
    np.testing.assert_array_equal(answer, [20.0, 20.0, 45.0, 45.0])
    np.testing.assert_array_equal(np.nan_to_num(patience, nan=-1), [213.0, 213.0, -1, -1])
    assert simulate.describe_text(patience, cov, none="never") == "a 213 s, b never"
    assert simulate.describe_text(answer[:2], cov.iloc[:2], none="-") == "20 s on every plateau"


def test_optimise_records_patience_and_answer_time_per_plateau():
    from pathlib import Path

    from staffing import scenario
    from staffing.report import plateau_targets

    model = Path(__file__).resolve().parents[1] / "examples" / "anonymous-bank-1999" / "model.toml"
    targets = plateau_targets(scenario.load(str(model)))
    assert {p: t["patience_s"] for p, t in targets.items()} == {
        "PS": 449.0, "NW": 213.0, "NE": 799.0, "TT": 389.0, "IN": 468.0, "PE": 450.0}
    assert {t["answer_s"] for t in targets.values()} == {20.0}


def test_bad_coverage_is_an_input_error():
    plan = steady_plan(10, 180, 2, 3)
    with pytest.raises(simulate.InputError, match="field 'answering_agents'"):
        simulate_plan(plan.drop(columns="answering_agents"), workers=1)
    with pytest.raises(simulate.InputError, match="row 2, field 'aht_s'"):
        simulate_plan(plan.assign(aht_s=[180.0, -1.0, 180.0]), workers=1)
    with pytest.raises(simulate.InputError, match="aht_s"):
        simulate_plan(plan.assign(aht_s=3000.0), workers=1)


# ---------------------------------------------------------------------------- the command

def make_run(path, *, xlsx=True):
    cov = pd.concat([steady_plan(100, 180, 14.3, 6, plateau="internet"),
                     steady_plan(40, 360, 10, 6, plateau="fixed")], ignore_index=True)
    cov.insert(0, "scenario", "demo")
    cov["callback_calls"] = 1.0
    cov["required_agents"] = cov["answering_agents"].round()
    cov["shortfall_agents"] = 0.0
    cov["service_level"], cov["asa_s"], cov["occupancy"], cov["p_abandon"] = 0.9, 5.0, 0.7, np.nan
    manifest = {"schema_version": 1, "scenario": "demo", "tables": ["coverage"],
                "options": {"answer_s": 20}}
    if xlsx:  # a run folder as the results writer makes it
        from staffing import results

        results.write_run(path, {"coverage": cov}, manifest, formats=("csv", "xlsx"))
    else:  # a bare folder: the contract's CSV and JSON only
        path.mkdir()
        cov.to_csv(path / "coverage.csv", index=False)
        (path / "manifest.json").write_text(json.dumps(manifest))
    return cov


def test_command_writes_tables_into_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    make_run(run)
    code = main(["simulate", str(run), "--replications", "3", "--workers", "2",
                 "--patience", "180"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "internet" in out and "answer time (manifest): 20 s" in out
    sim = pd.read_csv(run / "simulation.csv")
    assert len(sim) == 12 and set(sim["plateau"]) == {"internet", "fixed"}
    assert (sim["answering_agents"].isin([14, 10])).all()
    summary = pd.read_csv(run / "simulation_summary.csv")
    assert list(summary["plateau"]) == ["fixed", "internet", "all"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["tables"] == ["coverage", "simulation", "simulation_summary"]
    assert manifest["simulation"]["patience_s"] == 180 and manifest["simulation"]["answer_s"] == 20
    from staffing import results

    for source in (run, run / "plan.xlsx"):  # read back from the CSVs and from the workbook
        back = results.load(source)
        assert {"coverage", "simulation", "simulation_summary"} <= set(back)
        assert len(back["simulation"]) == 12 and back["simulation"]["within_2pp"].dtype == bool
        np.testing.assert_allclose(back["simulation"]["sl_sim_mean"], sim["sl_sim_mean"],
                                   rtol=1e-9)
    assert results.load_manifest(run / "plan.xlsx")["simulation"]["seed"] == 1
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temp files left
    # same seed, same numbers
    assert main(["simulate", str(run), "--replications", "3", "--workers", "1",
                 "--patience", "180"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(run / "simulation.csv"), sim)


def test_command_out_dir_leaves_run_untouched(tmp_path, capsys):
    run, out = tmp_path / "run", tmp_path / "elsewhere"
    make_run(run, xlsx=False)
    before = sorted(p.name for p in run.iterdir())
    assert main(["simulate", str(run), "--replications", "2", "--workers", "1",
                 "--exponential", "--forecast-error", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in run.iterdir()) == before
    assert {p.name for p in out.iterdir()} == {"simulation.csv", "simulation_summary.csv"}


def test_command_reads_the_runs_own_targets_and_prints_readable_lines(tmp_path, capsys):
    run = tmp_path / "run"
    make_run(run, xlsx=False)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["options"] = {}
    manifest["targets"] = {"internet": {"answer_s": 20.0, "patience_s": 213.0},
                           "fixed": {"answer_s": 20.0, "patience_s": 799.0}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert main(["simulate", str(run), "--replications", "2", "--workers", "1",
                 "--out", str(tmp_path / "sim")]) == 0
    out = capsys.readouterr().out
    assert "answer time (run targets): 20 s on every plateau" in out
    assert "mean patience (run targets): fixed 799 s, internet 213 s" in out
    assert "{" not in out and "none s" not in out and "(default)" not in out
    del manifest["targets"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert main(["simulate", str(run), "--replications", "2", "--workers", "1",
                 "--out", str(tmp_path / "sim")]) == 0
    assert "mean patience (default): callers never hang up" in capsys.readouterr().out


def test_command_on_a_compare_run_asks_for_an_optimise_run(tmp_path, capsys):
    run = tmp_path / "compare"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"schema_version": 1, "command": "compare",
                                                   "scenario": "demo", "tables": ["compare"]}))
    assert main(["simulate", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs an optimise run" in err and "\n" not in err


def test_command_bad_input_one_line_exit_2(tmp_path, capsys):
    run = tmp_path / "run"
    cov = make_run(run, xlsx=False)
    cov.drop(columns="sl_target").to_csv(run / "coverage.csv", index=False)
    assert main(["simulate", str(run), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "field 'sl_target'" in err and "\n" not in err
    assert not (run / "simulation.csv").exists()
    assert main(["simulate", str(tmp_path / "nowhere")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["simulate", str(run), "--replications", "0"]) == 2


def test_repeated_hour_of_the_fall_back_day_runs_in_real_time():
    """2009-10-25, Europe/Paris: 02:00-03:00 happens twice; the second pass (fold 1) comes an
    hour after the first and the simulation treats the night as one continuous run."""
    walls = ["01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    folds = [0, 0, 0, 0, 1, 1, 0]
    cov = pd.DataFrame({
        "slot_start": pd.to_datetime([f"2009-10-25 {w}" for w in walls]), "fold": folds,
        "slot_minutes": 30, "plateau": "p", "calls": 20.0, "aht_s": 180.0,
        "callback_calls": 0.0, "answering_agents": 4.0, "sl_target": 0.8,
        "service_level": 0.9, "p_abandon": np.nan})
    checked = simulate._validate(cov, "coverage")
    elapsed = simulate._elapsed_s(checked, "Europe/Paris")
    assert elapsed.tolist() == [i * 1800.0 for i in range(7)]
    sim = simulate.simulate_plan(cov, replications=2, seed=3, workers=1)
    out = sim.simulation
    assert sorted(zip(out["slot_start"].dt.strftime("%H:%M"), out["fold"])) == sorted(
        zip(walls, folds))
    assert (sim.simulation["calls_offered"] > 0).all()
