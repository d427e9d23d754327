"""Queueing engine: published values, independent implementations, properties."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import betainc, digamma

from staffing import queueing as q
from staffing.errors import InputError


# --------------------------------------------------------------- independent references

def erlang_b_recursion(a: float, n: int) -> float:
    """B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)): the textbook recursion."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_reference(calls, aht, slot_min, n, t):
    a = calls * aht / (slot_min * 60)
    b = erlang_b_recursion(a, n)
    c = b / (1 - (a / n) * (1 - b))
    return c, 1 - c * math.exp(-(n - a) * t / aht), c * aht / (n - a)


def erlang_a_birth_death(calls, aht, slot_min, n, t, patience, states=3000):
    """M/M/n+M by its truncated birth-death chain; SL and ASA per queue position (FCFS)."""
    lam, mu, th = calls / (slot_min * 60), 1 / aht, 1 / patience
    logp = np.zeros(states)
    for j in range(1, states):
        death = min(j, n) * mu + max(j - n, 0) * th
        logp[j] = logp[j - 1] + math.log(lam / death)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    x = n * mu / th
    k = np.arange(states - n)  # customers ahead in the queue
    served_k = x / (x + k + 1)  # patience outlasts the wait (e^{-theta V}, V ~ Beta in e^-)
    within_k = served_k * (1 - betainc(x + 1, k + 1, math.exp(-th * t)))
    wait_served_k = served_k * (digamma(x + k + 2) - digamma(x + 1)) / th
    served = p[:n].sum() + (p[n:] * served_k).sum()
    return {
        "p_wait": p[n:].sum(),
        "service_level": p[:n].sum() + (p[n:] * within_k).sum(),
        "p_abandon": 1 - served,
        "asa_s": (p[n:] * wait_served_k).sum() / served,
        "mean_wait_check": th * (p[n:] * k).sum() / lam * patience,  # Little: E[Q]/lambda
    }


# --------------------------------------------------------------- published values

def test_published_erlang_c_example():
    m = q.erlang_c(100, 180, 30, 14, 20)
    assert m["service_level"] == pytest.approx(0.8883500, abs=5e-8)
    assert m["p_wait"] == pytest.approx(0.1741319, abs=5e-8)
    assert m["asa_s"] == pytest.approx(7.84, abs=0.005)
    assert m["occupancy"] == pytest.approx(100 * 180 / 1800 / 14)
    assert q.erlang_c(100, 180, 30, 11, 20)["service_level"] == pytest.approx(0.3896138, abs=5e-8)
    assert q.required_agents(100, 180, 30, 0.8, 20) == 14
    assert q.scheduled_staff(14, 0.3) == 20


def test_published_erlang_b():
    assert q.erlang_b(90, 107) == pytest.approx(0.008799105244742682, rel=1e-12)


def test_exact_targets_pyworkforce_gets_wrong():
    # 48 calls x 180 s / 30 min = 4.8 Erlangs: 4.8 / 6 = 0.8 exactly meets the cap
    assert q.required_agents(48, 180, 30, 0.5, 20, max_occupancy=0.8) == 6
    assert q.required_agents(5, 180, 30, 0.5, 20, max_occupancy=0.8) == 1
    assert q.required_agents(0, 180, 30, 0.8, 20) == 0


# --------------------------------------------------------------- independent implementations

@pytest.mark.parametrize("n", [1, 2, 5, 50, 107, 500, 3000, 10_000, 20_000])
@pytest.mark.parametrize("ratio", [0.3, 0.8, 0.95, 1.0, 1.2, 3.0])
def test_erlang_b_gamma_matches_recursion(n, ratio):
    a = n * ratio
    assert q.erlang_b(a, n) == pytest.approx(erlang_b_recursion(a, n), rel=1e-9)


@pytest.mark.parametrize("a", [0.2, 3.7, 48.0, 900.0, 4_999.0, 19_500.0])
def test_erlang_c_matches_recursion_over_a_grid(a):
    ns = sorted({int(a) + d for d in (1, 2, 5, 20, int(3 * math.sqrt(a)) + 1)})
    calls = a * 1800 / 300
    m = q.erlang_c(calls, 300, 30, np.array(ns), 20)
    for i, n in enumerate(ns):
        c, sl, asa = erlang_c_reference(calls, 300, 30, n, 20)
        assert m["p_wait"][i] == pytest.approx(c, rel=1e-9)
        assert m["service_level"][i] == pytest.approx(sl, rel=1e-9, abs=1e-12)
        assert m["asa_s"][i] == pytest.approx(asa, rel=1e-9)


@pytest.mark.parametrize("calls,aht,n,patience", [
    (100, 180, 9, 120), (100, 180, 11, 30), (100, 180, 14, 600), (100, 180, 20, 120),
    (40, 600, 12, 60), (3, 300, 1, 200), (600, 420, 150, 180), (600, 420, 120, 180),
])
def test_erlang_a_matches_birth_death_chain(calls, aht, n, patience):
    m = q.erlang_a(calls, aht, 30, n, 20, patience)
    ref = erlang_a_birth_death(calls, aht, 30, n, 20, patience)
    for key in ("p_wait", "service_level", "p_abandon", "asa_s"):
        assert m[key] == pytest.approx(ref[key], rel=1e-8, abs=1e-12), key
    assert m["mean_wait_s"] == pytest.approx(ref["mean_wait_check"], rel=1e-8)


def test_erlang_a_large_pool_is_fast_and_finite():
    load = 3000.0
    n = np.arange(2800, 3400, 10)
    m = q.erlang_a(load * 1800 / 300, 300, 30, n, 20, 180)
    for key in ("p_wait", "p_abandon", "service_level", "asa_s", "occupancy"):
        assert np.isfinite(m[key]).all(), key
    assert (np.diff(m["service_level"]) >= -1e-12).all()
    assert (np.diff(m["p_abandon"]) <= 1e-12).all()


@pytest.mark.parametrize("n", [11, 14, 20, 40])
def test_erlang_a_tends_to_erlang_c(n):
    c = q.erlang_c(100, 180, 30, n, 20)
    previous = None
    for patience in (1e5, 1e7, 1e9):
        a = q.erlang_a(100, 180, 30, n, 20, patience)
        err = abs(a["service_level"] - c["service_level"])
        if previous is not None:  # the gap shrinks like 1/patience
            assert err <= previous / 50 + 1e-12
        previous = err
    assert a["service_level"] == pytest.approx(c["service_level"], abs=1e-6)
    assert a["p_wait"] == pytest.approx(c["p_wait"], abs=1e-6)
    assert a["asa_s"] == pytest.approx(c["asa_s"], rel=1e-5)


def test_erlang_a_against_ciw_simulation():
    ciw = pytest.importorskip("ciw")
    calls, aht, n, patience = 100, 180, 11, 120
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=calls / 1800)],
        service_distributions=[ciw.dists.Exponential(rate=1 / aht)],
        number_of_servers=[n],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / patience)],
    )
    ciw.seed(7)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(600_000)
    recs = [r for r in sim.get_all_records() if r.arrival_date > 20_000]
    served = [r for r in recs if r.record_type == "service"]
    offered = len(recs)
    ab_sim = 1 - len(served) / offered
    sl_sim = sum(r.waiting_time <= 20 for r in served) / offered
    m = q.erlang_a(calls, aht, 30, n, 20, patience)
    assert ab_sim == pytest.approx(float(m["p_abandon"]), abs=0.01)
    assert sl_sim == pytest.approx(float(m["service_level"]), abs=0.015)


# --------------------------------------------------------------- properties

loads = st.floats(min_value=0.05, max_value=5000)
ahts = st.floats(min_value=30, max_value=2700)


@settings(max_examples=60, deadline=None)
@given(load=loads, aht=ahts, t=st.floats(0, 300), extra=st.integers(1, 60))
def test_erlang_c_monotone_in_agents(load, aht, t, extra):
    calls = load * 1800 / aht
    n = np.arange(math.floor(load) + 1, math.floor(load) + 1 + extra)
    m = q.erlang_c(calls, aht, 30, n, t)
    assert (np.diff(m["service_level"]) >= -1e-12).all()
    assert (np.diff(m["asa_s"]) <= 1e-9 * m["asa_s"][:-1] + 1e-12).all()
    assert ((m["service_level"] >= 0) & (m["service_level"] <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(load=st.floats(0.05, 800), aht=ahts, patience=st.floats(10, 3000), t=st.floats(0, 300))
@example(load=80.0, aht=30.0, patience=2135.0, t=4.0)  # K's closed form in subnormal range
def test_erlang_a_monotone_and_bounded(load, aht, patience, t):
    calls = load * 1800 / aht
    n = np.arange(1, int(load * 1.5) + 5)
    m = q.erlang_a(calls, aht, 30, n, t, patience, with_asa=False)
    # SL and abandonment to a few 1e-9 absolute: x = n patience / aht reaches 5e4 here and the
    # log-space Kummer terms then carry ~1e-9 of rounding near SL = 1
    assert (np.diff(m["service_level"]) >= -1e-8).all()
    assert (np.diff(m["p_abandon"]) <= 1e-8).all()
    for key in ("service_level", "p_abandon", "p_wait", "occupancy"):
        assert ((m[key] >= -1e-12) & (m[key] <= 1 + 1e-12)).all(), key
    assert (m["service_level"] <= 1 - m["p_abandon"] + 1e-9).all()


@settings(max_examples=80, deadline=None)
@given(calls=st.floats(0.5, 20_000), aht=ahts, sl=st.floats(0.3, 0.99), t=st.floats(0, 120),
       occ=st.one_of(st.none(), st.floats(0.5, 0.95)),
       patience=st.one_of(st.none(), st.floats(20, 2000)))
def test_required_agents_is_minimal(calls, aht, sl, t, occ, patience):
    n = int(q.required_agents(calls, aht, 30, sl, t, max_occupancy=occ, patience_s=patience))
    met = q.evaluate(calls, aht, 30, [n, n - 1], t, patience_s=patience, with_asa=False)
    load = calls * aht / 1800
    assert met["service_level"][0] >= sl - 1e-9
    if occ is not None:
        assert met["occupancy"][0] <= occ + 1e-9
    if n >= 1:  # n - 1 must miss some target
        misses = met["service_level"][1] < sl - 1e-12
        if occ is not None:
            misses |= met["occupancy"][1] > occ * (1 + 1e-12)
        if patience is None:
            misses |= (n - 1) <= load
        assert misses


@settings(max_examples=40, deadline=None)
@given(calls=st.floats(1, 5000), aht=ahts, asa=st.floats(1, 120), ab=st.floats(0.01, 0.3))
def test_required_agents_asa_and_abandonment_targets(calls, aht, asa, ab):
    n = int(q.required_agents(calls, aht, 30, 0.5, 20, asa_target_s=asa))
    m = q.erlang_c(calls, aht, 30, [n, n - 1], 20)
    assert m["asa_s"][0] <= asa * (1 + 1e-9)
    assert m["asa_s"][1] > asa or m["service_level"][1] < 0.5
    n = int(q.required_agents(calls, aht, 30, 0.5, 20, patience_s=120, max_abandon=ab))
    m = q.erlang_a(calls, aht, 30, [n, max(n - 1, 0)], 20, 120, with_asa=False)
    assert m["p_abandon"][0] <= ab + 1e-9


def test_required_agents_vectorised_equals_scalar():
    rng = np.random.default_rng(3)
    calls = rng.uniform(0, 3000, 200)
    calls[:5] = 0
    vec = q.required_agents(calls, 300, 30, 0.8, 20, max_occupancy=0.85)
    one = [int(q.required_agents(c, 300, 30, 0.8, 20, max_occupancy=0.85)) for c in calls[:40]]
    assert vec[:40].tolist() == one
    assert (vec[:5] == 0).all()


def test_large_pools_stay_finite():
    n = q.required_agents(20_000 * 1800 / 300, 300, 30, 0.8, 20)
    assert 20_000 < n < 20_200
    m = q.erlang_c(20_000 * 1800 / 300, 300, 30, n, 20)
    assert np.isfinite(m["asa_s"]) and 0.8 <= m["service_level"] < 1


# --------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs,field", [
    (dict(calls=-1), "calls"), (dict(aht_s=0), "aht_s"), (dict(sl_target=0), "sl_target"),
    (dict(sl_target=1.2), "sl_target"), (dict(answer_s=-5), "answer_s"),
    (dict(max_occupancy=1.5), "max_occupancy"), (dict(patience_s=0), "patience_s"),
    (dict(calls=float("nan")), "calls"),
])
def test_invalid_arguments_name_the_argument(kwargs, field):
    args = dict(calls=100, aht_s=180, slot_minutes=30, sl_target=0.8, answer_s=20)
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        q.required_agents(**args)
    assert err.value.field == field


def test_impossible_targets_raise():
    with pytest.raises(InputError, match="cannot be met"):
        q.required_agents(10, 180, 30, 1.0, 0)
    with pytest.raises(InputError, match="cannot be met"):
        q.required_agents(10, 180, 30, 0.8, 20, patience_s=60, max_abandon=0)
    assert q.required_agents(0, 180, 30, 1.0, 0) == 0  # no calls, nothing to meet


def test_shrinkage_bounds():
    with pytest.raises(InputError):
        q.scheduled_staff(10, 1.0)
    assert q.scheduled_staff([0, 7, 10], 0.3).tolist() == [0, 10, 15]


def test_log_kummer_closed_form_never_uses_subnormal_gamma():
    """Where P(x, y) is subnormal (x = 8,825, y = 5,693: P ~ 2e-322) only a few digits are left;
    log K must still agree with the direct series to 1e-12 on both sides of that edge."""
    x = np.arange(100, 140) * 2135 / 30.0
    y = np.full(x.shape, 80 * 2135 / 30.0)
    closed = q._log_kummer(x, y)
    series = q._kummer_series(x, y, want_h=False)[0]
    assert np.isfinite(closed).all()
    assert np.abs(closed - series).max() < 1e-12
