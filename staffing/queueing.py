"""Queueing: Erlang C (M/M/n) and Erlang A (M/M/n+M) metrics and required agents.

Every function broadcasts numpy arrays (all plateaux x slots in one call). Nothing uses
factorials or powers a**n: Erlang B comes from the regularised upper incomplete gamma
function, Q(n + 1, a) = P(Poisson(a) <= n), with the Poisson probability of n computed in a
Stirling form that keeps full precision for 20,000 agents and Erlangs.

Erlang A follows Mandelbaum & Zeltyn's exact formulas, written with
x = n*patience/aht and y = load*patience/aht (rates measured in abandonment units) and the
Kummer series K(x, y) = sum_{j>=0} y^j / ((x+1)...(x+j)):
  P(wait)    = E K / (1 + (K - 1) E)             E = Erlang B(n, load)
  SL(t)      = [1 - E + E (x/y)((K(x,y) - 1) - e^{y(1-p)} p^x (K(x,yp) - 1))] / (1 - E + E K),
               p = exp(-t/patience), counting abandoned calls as not answered
  P(abandon) = 1 - SL(inf);  mean wait of all calls = P(abandon) * patience (Little)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .errors import InputError

_P_FULL_PRECISION = 1e-290  # a gammainc value below this is (nearly) subnormal: too few digits
MAX_LOAD_ERLANGS = 1e7  # ten million agents busy at once: beyond any call centre
_ABS_TOL_AGENTS = 1e-6  # agents: rounding slack of scheduled_staff
_TOL = 1e-9  # relative slack on targets so exact ratios (4.8/6 = 0.8) are not lost to rounding


# ---------------------------------------------------------------------------- helpers

def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _check(name: str, value, *, low=None, high=None, low_open=False, high_open=False,
           allow_nan=False) -> np.ndarray:
    """Validate an argument array; raise InputError naming it."""
    arr = _f(value)
    bad = ~np.isfinite(arr)
    if allow_nan:
        bad &= ~np.isnan(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if allow_nan:
        bad &= ~np.isnan(arr)
    if bad.any():
        first = arr.ravel()[np.flatnonzero(bad.ravel())[0]]
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        rng = f" must be in {lo}, {hi}" if lo and hi else (f" must be {'>' if low_open else '>='} {low}"
                                                          if lo else f" must be <= {high}")
        raise InputError(f"{name}{rng} (got {float(first):g})", field=name)
    return arr


def offered_load(calls, aht_s, slot_minutes) -> np.ndarray:
    """Offered load in Erlangs: calls x aht_s / (slot_minutes x 60) (inf beyond float range)."""
    with np.errstate(over="ignore"):
        return _f(calls) * _f(aht_s) / (_f(slot_minutes) * 60.0)


def _stirling_corr(x: np.ndarray) -> np.ndarray:
    """log Gamma(x+1) - (x log x - x + 0.5 log(2 pi x)) for x >= 10, by its series."""
    x2 = x * x
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2) / x


def _log_poisson(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """log(lam^k e^-lam / Gamma(k+1)) for real k >= 0, lam > 0, without cancellation."""
    k, lam = np.broadcast_arrays(_f(k), _f(lam))
    out = np.empty(k.shape)
    small = k < 10
    with np.errstate(divide="ignore", invalid="ignore"):
        ks, ls = k[small], lam[small]
        out[small] = special.xlogy(ks, ls) - ls - special.gammaln(ks + 1)
        kb, lb = k[~small], lam[~small]
        d = (lb - kb) / kb  # r - 1 with r = lam / k
        # k (r - 1 - log r): the large terms of k log(lam) - lam - k log k + k cancel exactly
        dev = kb * (d - np.log1p(d))
        out[~small] = -dev - 0.5 * np.log(2 * np.pi * kb) - _stirling_corr(kb)
    return out


def erlang_b(load, agents) -> np.ndarray:
    """Blocking probability of M/M/n/n, B(n, a) = P(X = n) / P(X <= n), X ~ Poisson(a)."""
    a, n = np.broadcast_arrays(_f(load), _f(agents))
    out = np.ones(a.shape)
    pos = (a > 0) & (n > 0)
    out[(a <= 0) & (n > 0)] = 0.0
    ap, npos = a[pos], n[pos]
    with np.errstate(divide="ignore", under="ignore"):
        q = special.gammaincc(npos + 1, ap)
        res = np.exp(_log_poisson(npos, ap) - np.log(q))
    # far above capacity P(X <= n) underflows: 1/B = sum_j n (n-1)...(n-j+1) / a^j converges
    # geometrically there (ratio below n/a)
    deep = ~(q > 1e-200)
    if deep.any():
        nd, ad = npos[deep], ap[deep]
        term, total, j = np.ones(nd.shape), np.ones(nd.shape), 0
        active = np.ones(nd.shape, dtype=bool)
        while active.any():
            term = np.where(active, term * np.maximum(nd - j, 0.0) / ad, 0.0)
            total += term
            j += 1
            active &= term > 1e-17 * total
        res[deep] = 1.0 / total
    out[pos] = res
    return np.minimum(out, 1.0)


def _log_kummer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log K(x, y), K = sum_{j>=0} y^j / ((x+1)...(x+j)) = P(x, y) / (y^x e^-y / Gamma(x+1))."""
    x, y = np.broadcast_arrays(_f(x), _f(y))
    out = np.zeros(x.shape)
    pos = y > 0
    xs, ys = x[pos], y[pos]
    with np.errstate(divide="ignore", under="ignore"):
        p = special.gammainc(xs, ys)
        logk = np.log(p) - _log_poisson(xs, ys)
    # P(x, y) underflows far in its lower tail (y << x), where the series converges fast, and
    # below ~1e-290 it is subnormal and carries only a few digits; near K = 1 the closed form
    # loses digits to the subtraction, the series does not
    redo = ~np.isfinite(logk) | (p < _P_FULL_PRECISION) | (ys < 0.25 * (xs + 1))
    if redo.any():
        logk[redo] = _kummer_series(xs[redo], ys[redo], want_h=False)[0]
    out[pos] = logk
    return out


def _kummer_series(x: np.ndarray, y: np.ndarray, want_h: bool):
    """(log K(x, y), sum_j t_j H_j / K) by direct summation over the window that matters.

    t_j = y^j / ((x+1)...(x+j)), H_j = sum_{m<j} 1/(x+1+m). Terms peak near j* = y - x - 1;
    the sum starts ~12 standard deviations below the peak (where the terms are < e^-70 of it).
    """
    x, y = _f(x), _f(y)
    peak = np.maximum(0.0, np.floor(y - x - 1.0))
    j0 = np.maximum(0.0, np.floor(peak - 12.0 * np.sqrt(y) - 10.0))
    # log t_{j0} and H_{j0}; gammaln/digamma differences are exact enough this far from zero
    log_t = special.xlogy(j0, y) - (special.gammaln(x + 1.0 + j0) - special.gammaln(x + 1.0))
    h = special.digamma(x + 1.0 + j0) - special.digamma(x + 1.0) if want_h else None
    shift = log_t.copy()  # every term is stored as exp(log t_j - shift), the first one as 1
    term = np.ones(x.shape)
    total = term.copy()
    total_h = term * h if want_h else None
    j = j0.copy()
    active = np.ones(x.shape, dtype=bool)
    for _ in range(10_000_000):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        jj = j[idx] + 1.0
        if want_h:
            h[idx] += 1.0 / (x[idx] + jj)
        t = term[idx] * y[idx] / (x[idx] + jj)
        term[idx] = t
        total[idx] += t
        if want_h:
            total_h[idx] += t * h[idx]
        j[idx] = jj
        big = total[idx] > 1e250
        if big.any():
            b = idx[big]
            term[b] *= 1e-250
            total[b] *= 1e-250
            if want_h:
                total_h[b] *= 1e-250
            shift[b] += 250 * math.log(10.0)
        active[idx] = (jj <= peak[idx]) | (t > 1e-17 * total[idx])
    log_k = np.log(total) + shift
    mean_h = total_h / total if want_h else None
    return log_k, mean_h


# ---------------------------------------------------------------------------- Erlang C

def erlang_c(calls, aht_s, slot_minutes, agents, answer_s) -> dict[str, np.ndarray]:
    """Erlang C metrics for given agents: p_wait, service_level, asa_s, occupancy."""
    calls, aht, slot, n, t = np.broadcast_arrays(_f(calls), _f(aht_s), _f(slot_minutes),
                                                 _f(agents), _f(answer_s))
    a = offered_load(calls, aht, slot)
    p_wait = np.ones(a.shape)
    sl = np.zeros(a.shape)
    asa = np.full(a.shape, np.inf)
    occ = np.ones(a.shape)
    idle = a <= 0
    p_wait[idle], sl[idle], asa[idle] = 0.0, 1.0, 0.0
    occ[idle] = 0.0
    stable = (n > a) & ~idle
    ns, as_, ahts, ts = n[stable], a[stable], aht[stable], t[stable]
    b = erlang_b(as_, ns)
    c = ns * b / (ns - as_ * (1.0 - b))
    p_wait[stable] = c
    sl[stable] = 1.0 - c * np.exp(-(ns - as_) * ts / ahts)
    asa[stable] = c * ahts / (ns - as_)
    occ[stable] = as_ / ns
    return {"p_wait": p_wait, "service_level": sl, "asa_s": asa, "occupancy": occ}


# ---------------------------------------------------------------------------- Erlang A

def erlang_a(calls, aht_s, slot_minutes, agents, answer_s, patience_s,
             with_asa: bool = True) -> dict[str, np.ndarray]:
    """Erlang A (M/M/n+M) metrics: p_wait, p_abandon, service_level, asa_s, mean_wait_s, occupancy.

    service_level is the share of all offered calls answered within answer_s; asa_s is the
    mean wait of answered calls (NaN unless with_asa); mean_wait_s that of all calls,
    abandoned ones included; occupancy is carried load over agents.
    """
    calls, aht, slot, n, t, pat = np.broadcast_arrays(
        _f(calls), _f(aht_s), _f(slot_minutes), _f(agents), _f(answer_s), _f(patience_s))
    a = offered_load(calls, aht, slot)
    shape = a.shape
    p_wait, p_ab, sl = np.ones(shape), np.ones(shape), np.zeros(shape)
    asa, mean_wait, occ = np.full(shape, np.inf), pat.copy(), np.zeros(shape)
    idle = a <= 0
    p_wait[idle], p_ab[idle], sl[idle], asa[idle], mean_wait[idle] = 0.0, 0.0, 1.0, 0.0, 0.0
    live = (n > 0) & ~idle
    ns, as_, ts, ps, ahts = n[live], a[live], t[live], pat[live], aht[live]
    x = ns * ps / ahts  # agents' service rate in units of the abandonment rate
    y = as_ * ps / ahts  # arrival rate in the same units
    e = erlang_b(as_, ns)
    log_k = _log_kummer(x, y)
    inv_k = np.exp(-log_k)  # 1/K in (0, 1]
    w = e / ((1.0 - e) * inv_k + e)  # P(wait) = E K / (1 - E + E K)
    ratio = x / y  # = n / load
    # at most 1 (rounding in K can push it a hair above when nearly nobody abandons)
    served = np.minimum((1.0 - w) + ratio * w * (1.0 - inv_k), 1.0)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        tau = ts / ps
        yp = y * np.exp(-tau)
        # e^{y(1-p)} p^x (K(x, yp) - 1) / K(x, y), all in logs
        log_tail_p = _log_kummer(x, yp) + np.log(-np.expm1(-_log_kummer(x, yp)))
        late = np.exp(y * (-np.expm1(-tau)) - x * tau + log_tail_p - log_k)
        late = np.where(yp > 0, late, 0.0)
    answered_by_t = np.clip((1.0 - inv_k) - late, 0.0, None)
    sl_live = (1.0 - w) + ratio * w * answered_by_t
    pab = np.clip(1.0 - served, 0.0, 1.0)
    p_wait[live] = w
    sl[live] = np.minimum(sl_live, served)
    p_ab[live] = pab
    mean_wait[live] = pab * ps
    occ[live] = as_ * (1.0 - pab) / ns
    if with_asa:
        # E[W; answered] = integral over s of P(answered, W > s) = w (n/a) patience E_t[H_J]
        _, mean_h = _kummer_series(x, y, want_h=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            asa[live] = np.where(served > 0, w * ratio * ps * mean_h / served, np.inf)
    else:
        asa[live] = np.nan
    return {"p_wait": p_wait, "p_abandon": p_ab, "service_level": sl, "asa_s": asa,
            "mean_wait_s": mean_wait, "occupancy": occ}


# ---------------------------------------------------------------------------- staffing

def evaluate(calls, aht_s, slot_minutes, agents, answer_s, patience_s=None,
             with_asa: bool = True) -> dict[str, np.ndarray]:
    """Metrics of a given staffing: service_level, asa_s, occupancy, p_wait, p_abandon.

    Erlang C without patience (p_abandon NaN), Erlang A with it (mean_wait_s added).
    """
    if patience_s is None:
        out = erlang_c(calls, aht_s, slot_minutes, agents, answer_s)
        out["p_abandon"] = np.full(out["p_wait"].shape, np.nan)
        return out
    return erlang_a(calls, aht_s, slot_minutes, agents, answer_s, patience_s, with_asa=with_asa)


def _meets(calls, aht, slot, n, sl_target, answer, asa_target, max_occ, patience, max_ab):
    need_asa = asa_target is not None and np.isfinite(asa_target).any()
    m = evaluate(calls, aht, slot, n, answer, patience, with_asa=need_asa)
    ok = m["service_level"] >= sl_target - _TOL
    if need_asa:
        ok &= np.isnan(asa_target) | (m["asa_s"] <= asa_target * (1 + _TOL))
    if max_occ is not None:
        ok &= np.isnan(max_occ) | (m["occupancy"] <= max_occ * (1 + _TOL))
    if max_ab is not None and patience is not None:
        ok &= np.isnan(max_ab) | (m["p_abandon"] <= max_ab + _TOL)
    return ok


def required_agents(calls, aht_s, slot_minutes, sl_target, answer_s, asa_target_s=None,
                    max_occupancy=None, patience_s=None, max_abandon=None) -> np.ndarray:
    """Least integer number of agents meeting every given target (Erlang A with patience_s).

    Targets: service level sl_target within answer_s, ASA <= asa_target_s, occupancy <=
    max_occupancy, abandonment <= max_abandon; NaN in an optional target array means "not
    set" for that element. Zero calls need zero agents. Raises InputError for invalid
    arguments or targets that no finite staffing meets.
    """
    calls = _check("calls", calls, low=0)
    aht = _check("aht_s", aht_s, low=0, low_open=True)
    slot = _check("slot_minutes", slot_minutes, low=0, low_open=True)
    sl_t = _check("sl_target", sl_target, low=0, high=1, low_open=True)
    answer = _check("answer_s", answer_s, low=0)
    asa_t = None if asa_target_s is None else _check("asa_target_s", asa_target_s, low=0,
                                                      low_open=True, allow_nan=True)
    occ = None if max_occupancy is None else _check("max_occupancy", max_occupancy, low=0,
                                                     high=1, low_open=True, allow_nan=True)
    pat = None if patience_s is None else _check("patience_s", patience_s, low=0, low_open=True)
    ab = None if max_abandon is None else _check("max_abandon", max_abandon, low=0, high=1,
                                                 allow_nan=True)
    arrays = [calls, aht, slot, sl_t, answer] + [v for v in (asa_t, occ, pat, ab) if v is not None]
    shape = np.broadcast_shapes(*(v.shape for v in arrays))
    b = lambda v: None if v is None else np.broadcast_to(v, shape).ravel()  # noqa: E731
    calls, aht, slot, sl_t, answer = b(calls), b(aht), b(slot), b(sl_t), b(answer)
    asa_t, occ, pat, ab = b(asa_t), b(occ), b(pat), b(ab)
    _reject_impossible(sl_t, answer, asa_t, pat, ab, calls)

    a = offered_load(calls, aht, slot)
    if (a > MAX_LOAD_ERLANGS).any():
        raise InputError(f"gives an offered load of {float(a.max()):.3g} erlangs, beyond what "
                         f"can be staffed (at most {MAX_LOAD_ERLANGS:g})", field="calls")
    result = np.zeros(a.shape, dtype=np.int64)
    busy = a > 0
    if not busy.any():
        return result.reshape(shape)
    idx = np.flatnonzero(busy)
    sub = lambda v: None if v is None else v[idx]  # noqa: E731
    args = (calls[idx], aht[idx], slot[idx])
    tgt = (sl_t[idx], answer[idx], sub(asa_t), sub(occ), sub(pat), sub(ab))
    ai = a[idx]
    # lo fails (or is the stability bound), hi meets: widen hi until it meets, then bisect
    lo = np.floor(ai) if pat is None else np.zeros(ai.shape)
    if occ is not None and pat is None:  # Erlang A's occupancy counts carried load only
        occ_i = np.where(np.isnan(occ[idx]), 1.0, occ[idx])
        lo = np.maximum(lo, np.ceil(ai / occ_i * (1 - _TOL)) - 1)
    lo = np.maximum(lo, 0.0)
    if pat is None:  # Erlang C: start next to the Halfin-Whitt estimate, a few agents wide
        guess = np.maximum(lo + 1.0, np.ceil(_halfin_whitt(ai, aht[idx], answer[idx], sl_t[idx])))
        ok = _meets(*args, guess, *_sel(tgt, None))  # where it meets, guess is a valid hi
        below = np.maximum(lo, guess - 2.0)
        probe = np.flatnonzero(ok & (below > lo))
        hi = np.where(ok, guess, guess + 2.0)
        lo = np.where(ok, lo, guess)
        if probe.size:
            good = _meets(*(v[probe] for v in args), below[probe], *_sel(tgt, probe))
            hi[probe[good]] = below[probe[good]]
            lo[probe[~good]] = below[probe[~good]]
        step = np.full(ai.shape, 2.0)
        redo = np.flatnonzero(~ok)
        if redo.size:
            ok[redo] = _meets(*(v[redo] for v in args), hi[redo], *_sel(tgt, redo))
    else:
        step = np.ceil(3.0 * np.sqrt(ai)) + 2.0
        hi = lo + step
        ok = _meets(*args, hi, *_sel(tgt, None))
    for _ in range(200):
        if ok.all():
            break
        bad = np.flatnonzero(~ok)
        lo[bad] = hi[bad]
        step[bad] *= 2.0
        hi[bad] = lo[bad] + step[bad]
        ok[bad] = _meets(*(v[bad] for v in args), hi[bad], *_sel(tgt, bad))
    if not ok.all():  # pragma: no cover - guarded by _reject_impossible
        raise InputError("targets cannot be met by any finite number of agents")
    while True:
        gap = np.flatnonzero(hi - lo > 1)
        if gap.size == 0:
            break
        mid = np.floor((lo[gap] + hi[gap]) / 2.0)
        good = _meets(*(v[gap] for v in args), mid, *_sel(tgt, gap))
        hi[gap[good]] = mid[good]
        lo[gap[~good]] = mid[~good]
    # lo never meets: it is the stability or occupancy bound (which fail by construction) or
    # a level found failing, so hi = lo + 1 is the least that meets
    result[idx] = hi.astype(np.int64)
    return result.reshape(shape)


def _halfin_whitt(load, aht_s, answer_s, sl_target) -> np.ndarray:
    """Agents n = a + beta sqrt(a) with the Halfin-Whitt approximation of Erlang C's SL:
    SL = 1 - e^{-beta sqrt(a) t / aht} / (1 + beta Phi(beta) / phi(beta)). Only a starting
    point for the exact search."""
    root = np.sqrt(load)
    lo, hi = np.zeros(load.shape), np.full(load.shape, 10.0)
    for _ in range(30):
        beta = 0.5 * (lo + hi)
        ratio = special.ndtr(beta) / np.exp(-0.5 * beta * beta) * np.sqrt(2.0 * np.pi)
        sl = 1.0 - np.exp(-beta * root * answer_s / aht_s) / (1.0 + beta * ratio)
        low = sl < sl_target
        lo = np.where(low, beta, lo)
        hi = np.where(low, hi, beta)
    return load + hi * root


def _sel(tgt, where):
    if where is None:
        return tgt
    return tuple(None if v is None else v[where] for v in tgt)


def _reject_impossible(sl_t, answer, asa_t, pat, ab, calls):
    """Targets no finite staffing meets: SL 1 at answer time 0, ASA 0, no abandonment."""
    busy = calls > 0
    # P(wait > t) = C(n, a) exp(-(n - a) t / aht) > 0 for every finite n (Erlang C), and with
    # abandonment SL(t) < 1 too: a service level of 1 is out of reach whatever the answer time
    if (busy & (sl_t >= 1.0)).any():
        why = "callers abandon (patience_s set)" if pat is not None else \
            "some calls always wait longer than the answer time"
        raise InputError(f"sl_target 1.0 cannot be met by any finite staffing: {why}",
                         field="sl_target")
    if pat is not None:
        if ab is not None and (busy & (ab <= 0)).any():
            raise InputError("max_abandon 0 cannot be met when callers abandon", field="max_abandon")


def scheduled_staff(agents, shrinkage) -> np.ndarray:
    """Staff to schedule so that agents remain after shrinkage: ceil(n / (1 - shrinkage)).

    The slack for rounding is absolute (1e-6 agent): a relative one would swallow a real
    fraction of an agent at tens of thousands of agents.
    """
    n = _check("agents", agents, low=0)
    s = _check("shrinkage", shrinkage, low=0, high=1, high_open=True)
    return np.ceil(n / (1.0 - s) - _ABS_TOL_AGENTS).astype(np.int64)
