"""Discrete-event check of a staffing plan: random arrivals, long handle times, abandonment.

The plan's `coverage` table (per plateau x slot: calls, live_aht_s (the handle time of a live
call after the callback cut; aht_s, the full one, when a table has no live_aht_s), callback_calls, answering_agents,
sl_target, and the Erlang prediction service_level / p_abandon) is replayed call by call,
independently per plateau, over `replications` random replications.

Model
- Arrivals: per slot a Poisson number of calls with mean `calls` (multiplied, when
  forecast_error > 0, by one gamma factor per plateau-day with mean 1 and CV forecast_error),
  spread uniformly over the slot: a piecewise-constant-rate Poisson process.
- Callbacks: `callback_calls` of a slot are appointments served in that slot: a Poisson number
  (same day factor) of extra calls arriving uniformly in the slot, queued FCFS with the same
  priority as live calls and the same handle-time law. They never abandon and are left out
  of the service level, ASA and abandonment figures; their work counts in occupancy.
- Handle times: lognormal with CV `aht_cv`, capped at `cap_s` (2,700 s, the 45-minute limit).
  The location is corrected so that the mean of the *capped* law equals the slot's aht_s
  (aht_s is an observed mean, and observed calls are capped), so the capped CV is a little
  below aht_cv. `handle="exponential"` gives uncapped exponential times (the Erlang model).
- Patience: exponential with mean `patience_s` (scalar or per coverage row); None or NaN
  means callers never hang up.
- Agents: answering_agents rounded to the nearest integer (halves up) per slot. Agent j is on
  duty in slot t iff j < n_t; an agent finishes the call in hand past the slot end but takes
  no new call while off duty. A queue is FCFS: each call takes the agent free soonest among
  those on duty (the longest idle on ties). Each run of contiguous slots of a plateau (an
  opening day) starts empty; after its last slot the last slot's agents stay until the
  queue is cleared; calls left with no agent on duty for the rest of the day are lost and
  count as abandoned.

Because abandoning callers never hold up later ones under FCFS, calls are processed in
arrival order with a heap of agent free times, without a general event list: a call whose
earliest start exceeds arrival + patience abandons and takes no agent.

Statistics per slot (by arrival slot), over live calls: SL = share of offered calls answered
within answer_s (abandoned calls are offered and not answered); ASA = mean wait of answered
calls; abandonment = abandoned / offered; occupancy = agent-seconds busy inside the slot over
n_t x slot seconds (it may pass 1 a little when off-duty agents finish calls).

Tables
- simulation (per plateau x slot): scenario, slot_start, slot_minutes, plateau,
  calls_offered (mean live calls per replication), answering_agents (rounded, agents),
  sl_sim_mean (mean over replications of the slot's SL), sl_sim_lo95, sl_sim_hi95 (95 %
  t-interval of that mean; NaN with fewer than two replications with calls), asa_sim_s,
  abandon_sim, occupancy_sim (pooled over replications), sl_erlang, p_abandon_erlang (the
  coverage's service_level and p_abandon), sl_target, within_2pp (|sl_sim_mean - sl_target|
  <= 0.02), meets_target_2pp (sl_sim_mean >= sl_target - 0.02).
- simulation_summary (per plateau, then plateau "all"): scenario, plateau, calls (mean live
  calls per replication), sl_sim (call-weighted), sl_sim_lo95, sl_sim_hi95 (over
  replications), sl_erlang (call-weighted coverage service_level), abandon_sim, asa_sim_s,
  share_slots_within_2pp, share_slots_meeting_target_2pp (over slots with forecast calls > 0).
"""

from __future__ import annotations

import heapq
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .errors import InputError
from .parallel import run_jobs

CAP_S = 2700.0  # 45-minute limit on a call
_EPS = 1e-9  # slack (in slots) when locating a time on slot boundaries

REQUIRED = ("slot_start", "slot_minutes", "plateau", "calls", "aht_s", "answering_agents",
            "sl_target")


# ---------------------------------------------------------------------------- the queue

def serve_fcfs(arrival_s, handle_s, patience_s, agents, slot_s: float,
               return_agents: bool = False):
    """Start times of service for calls sorted by arrival; NaN for calls that abandon or are lost.

    agents[k] agents are on duty in [k slot_s, (k+1) slot_s); after the last slot the last
    count stays on duty. patience_s may hold inf (never abandons). With return_agents, also
    the index of the agent serving each call (-1 if none).
    """
    arr = np.asarray(arrival_s, dtype=float).tolist()
    hold = np.asarray(handle_s, dtype=float).tolist()
    pat = np.broadcast_to(np.asarray(patience_s, dtype=float), (len(arr),)).tolist()
    n = [int(x) for x in agents]
    out = [math.nan] * len(arr)
    who = [-1] * len(arr)
    if not arr or not n:
        return (np.array(out), np.array(who)) if return_agents else np.array(out)
    last = len(n) - 1
    inv = 1.0 / slot_s
    heap = [(0.0, j) for j in range(max(n))]  # sorted, hence a heap
    heappop, heapreplace = heapq.heappop, heapq.heapreplace
    t = 0.0
    j = 0
    for i, a in enumerate(arr):
        while heap:
            f, j = heap[0]
            t = f if f > a else a
            k = int(t * inv + _EPS)
            if k > last:
                k = last
            if j < n[k]:
                break
            # agent j is off duty at t: it comes back at the next slot where it is on duty
            k += 1
            while k <= last and n[k] <= j:
                k += 1
            if k > last:
                heappop(heap)  # never on duty again this day
            else:
                heapreplace(heap, (k * slot_s, j))
        else:
            continue  # nobody left on duty: lost
        if t - a > pat[i]:
            continue  # hangs up before an agent is free; takes no agent
        out[i] = t
        who[i] = j
        heapreplace(heap, (t + hold[i], j))
    return (np.array(out), np.array(who)) if return_agents else np.array(out)


def _busy_in_slots(start, end, n_slots: int, slot_s: float) -> np.ndarray:
    """Agent-seconds of the intervals [start, end) falling in each slot [k slot_s, (k+1) slot_s)."""
    busy = np.zeros(n_slots)
    if len(start) == 0:
        return busy
    ks = np.floor(start / slot_s + _EPS).astype(np.int64)
    ke = np.floor(end / slot_s).astype(np.int64)
    for d in range(int((ke - ks).max()) + 1):
        k = ks + d
        m = (k <= ke) & (k < n_slots)
        if not m.any():
            break
        k = k[m]
        overlap = np.minimum(end[m], (k + 1) * slot_s) - np.maximum(start[m], k * slot_s)
        busy += np.bincount(k, weights=np.clip(overlap, 0.0, None), minlength=n_slots)
    return busy


# ---------------------------------------------------------------------------- handle times

def capped_lognormal_mu(mean_s, cv: float, cap_s: float = CAP_S) -> np.ndarray:
    """Location mu of the lognormal (sigma^2 = log(1 + cv^2)) whose mean capped at cap_s is mean_s."""
    sigma = math.sqrt(math.log1p(cv * cv))
    lc = math.log(cap_s)

    def capped_mean(mu: float) -> float:
        z = (lc - mu) / sigma
        return math.exp(mu + sigma * sigma / 2) * special.ndtr(z - sigma) + cap_s * special.ndtr(-z)

    means = np.asarray(mean_s, dtype=float)
    out = np.empty(means.shape)
    for value in np.unique(means):
        lo = math.log(value) - sigma * sigma / 2 - 1.0
        hi = lc + 10.0 * sigma + 10.0
        out[means == value] = optimize.brentq(lambda mu: capped_mean(mu) - value, lo, hi,
                                              xtol=1e-12)
    return out


# ---------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class _Day:
    """A run of contiguous slots of one plateau: rows into the coverage table."""

    rows: np.ndarray       # coverage row numbers, in time order
    t0_s: float            # start of the first slot, seconds from the plan's origin
    slot_s: float


@dataclass(frozen=True)
class _Plan:
    n_rows: int
    calls: np.ndarray
    callbacks: np.ndarray
    aht_s: np.ndarray
    mu: np.ndarray          # lognormal location per row (NaN with exponential handle times)
    agents: np.ndarray      # int64
    plateaux: tuple         # (plateau, [days grouped by date: list of lists of _Day])


@dataclass(frozen=True)
class _Options:
    forecast_error: float
    aht_cv: float
    handle: str
    patience_s: np.ndarray  # per row; inf = never hangs up
    answer_s: np.ndarray    # per row
    cap_s: float


def round_agents(answering_agents) -> np.ndarray:
    """Integer agents per slot: nearest integer, halves up."""
    return np.floor(np.asarray(answering_agents, dtype=float) + 0.5).astype(np.int64)


MAX_SLOT_CALLS = 1e6  # calls (or agents) in one plateau x slot
MAX_PLAN_CALLS = 2e8  # calls per replication: several years of a national hotline


def _validate(coverage: pd.DataFrame, file: str) -> pd.DataFrame:
    if "answering_agents" not in coverage.columns and "staffed_agents" in coverage.columns:
        coverage = coverage.rename(columns={"staffed_agents": "answering_agents"})  # runs before the rename
    missing = [c for c in REQUIRED if c not in coverage.columns]
    if missing:
        raise InputError(f"missing column (needs {', '.join(REQUIRED)})", file=file,
                         field=missing[0])
    cov = coverage.reset_index(drop=True).copy()
    try:
        cov["slot_start"] = pd.to_datetime(cov["slot_start"])
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a datetime ({exc})", file=file, field="slot_start") from None
    if "callback_calls" not in cov.columns:
        cov["callback_calls"] = 0.0
    for col in ("service_level", "p_abandon"):
        if col not in cov.columns:
            cov[col] = np.nan
    for col in ("service_level", "p_abandon", "answer_s", "patience_s"):  # optional: may be empty
        if col not in cov.columns:
            continue
        values = pd.to_numeric(cov[col], errors="coerce")
        bad = values.isna() & cov[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"not a number: {cov[col].iloc[row]!r}", file=file, row=row + 1,
                             field=col)
        cov[col] = values.astype(float)
    # upper bounds keep a damaged table from asking for billions of simulated calls
    checks = {"slot_minutes": (1, 1440), "calls": (0, MAX_SLOT_CALLS), "aht_s": (0, 86400),
              "callback_calls": (0, MAX_SLOT_CALLS), "answering_agents": (0, MAX_SLOT_CALLS),
              "sl_target": (0, 1)}
    for col, (low, high) in checks.items():
        values = pd.to_numeric(cov[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if low is not None:
            bad |= values < low
        if high is not None:
            bad |= values > high
        if col == "aht_s":
            bad |= values <= 0
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = {"aht_s": "must be a number in (0, 86400]"}.get(
                col, f"must be a number in [{low:g}, {high:g}]")
            raise InputError(f"{what}, got {cov[col].iloc[row]!r}", file=file, row=row + 1,
                             field=col)
        cov[col] = values
    total = float((cov["calls"] + cov["callback_calls"]).sum())
    if total > MAX_PLAN_CALLS:
        raise InputError(f"{total:,.0f} calls to simulate per replication: at most "
                         f"{MAX_PLAN_CALLS:,.0f}", file=file, field="calls")
    cov["plateau"] = cov["plateau"].astype(str)
    if "fold" not in cov.columns:  # only a clock-change day has the repeated hour twice
        cov["fold"] = 0
    cov["fold"] = pd.to_numeric(cov["fold"], errors="coerce").fillna(0).astype(np.int64)
    dup = cov.duplicated(["plateau", "slot_start", "fold"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("duplicate plateau x slot_start", file=file, row=row + 1,
                         field="slot_start")
    return cov


def _elapsed_s(cov: pd.DataFrame, timezone: str) -> np.ndarray:
    """Seconds from the first slot, in real time: the second pass of a repeated hour (fold 1)
    comes an hour after the first."""
    local = cov["slot_start"]
    if (cov["fold"] == 1).any():
        real = local.dt.tz_localize(timezone, ambiguous=(cov["fold"] == 0).to_numpy())
        real = real.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        real = local
    return (real - real.min()).dt.total_seconds().to_numpy(dtype=float)


def _build_plan(cov: pd.DataFrame, handle: str, aht_cv: float, cap_s: float, file: str) -> _Plan:
    start_s = _elapsed_s(cov, cov.attrs.get("timezone", "Europe/Paris"))
    slot_s = cov["slot_minutes"].to_numpy(dtype=float) * 60.0
    # the queue serves live calls: the handle time after the callback cut where the plan gives it
    live = "live_aht_s" if "live_aht_s" in cov.columns else "aht_s"
    aht = cov[live].to_numpy(dtype=float)
    if handle == "lognormal":
        too_long = aht >= cap_s
        if too_long.any():
            row = int(np.flatnonzero(too_long)[0])
            raise InputError(f"must be below the {cap_s:g} s call limit", file=file,
                             row=row + 1, field=live)
        mu = capped_lognormal_mu(aht, aht_cv, cap_s)
    else:
        mu = np.full(len(cov), np.nan)
    plateaux = []
    dates = cov["slot_start"].dt.normalize().to_numpy()
    for plateau, grp in cov.groupby("plateau", sort=True):
        rows = grp.index.to_numpy()[np.argsort(start_s[grp.index.to_numpy()], kind="stable")]
        days, run = [], [rows[0]]
        for prev, row in zip(rows[:-1], rows[1:]):
            end = start_s[prev] + slot_s[prev]
            if start_s[row] < end - 1e-6:
                raise InputError("slots of a plateau overlap", file=file, row=int(row) + 1,
                                 field="slot_start")
            if abs(start_s[row] - end) > 1e-6 or slot_s[row] != slot_s[prev]:
                days.append(run)
                run = []
            run.append(row)
        days.append(run)
        by_date: dict = {}
        for run in days:
            rr = np.array(run)
            by_date.setdefault(dates[rr[0]], []).append(
                _Day(rows=rr, t0_s=float(start_s[rr[0]]), slot_s=float(slot_s[rr[0]])))
        plateaux.append((plateau, [by_date[d] for d in sorted(by_date)]))
    return _Plan(n_rows=len(cov), calls=cov["calls"].to_numpy(dtype=float),
                 callbacks=cov["callback_calls"].to_numpy(dtype=float), aht_s=aht, mu=mu,
                 agents=round_agents(cov["answering_agents"]), plateaux=tuple(plateaux))


# ---------------------------------------------------------------------------- one replication

_COUNTERS = ("offered", "sl_hits", "answered", "abandoned", "wait_s", "busy_s")


def _replicate(plan: _Plan, opt: _Options, seed: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """One replication of the whole plan: per-row counters (see _COUNTERS)."""
    out = {name: np.zeros(plan.n_rows) for name in _COUNTERS}
    sigma = math.sqrt(math.log1p(opt.aht_cv ** 2))
    for (_, dates), ss in zip(plan.plateaux, seed.spawn(len(plan.plateaux))):
        rng = np.random.default_rng(ss)
        for runs in dates:
            factor = 1.0
            if opt.forecast_error > 0:
                shape = 1.0 / opt.forecast_error ** 2
                factor = rng.gamma(shape, 1.0 / shape)
            for day in runs:
                _simulate_day(plan, opt, day, factor, sigma, rng, out)
    return out


def _simulate_day(plan, opt, day: _Day, factor, sigma, rng, out) -> None:
    rows, slot_s = day.rows, day.slot_s
    n_slots = len(rows)
    live = rng.poisson(plan.calls[rows] * factor)
    cb = rng.poisson(plan.callbacks[rows] * factor)
    counts = live + cb
    slot = np.repeat(np.arange(n_slots), counts)
    is_live = np.concatenate([np.repeat([True, False], [a, b]) for a, b in zip(live, cb)]) \
        if counts.sum() else np.zeros(0, dtype=bool)
    arrival = (slot + rng.random(len(slot))) * slot_s
    order = np.argsort(arrival, kind="stable")
    arrival, slot, is_live = arrival[order], slot[order], is_live[order]
    if opt.handle == "exponential":
        hold = rng.exponential(plan.aht_s[rows][slot])
    else:
        hold = np.minimum(rng.lognormal(plan.mu[rows][slot], sigma), opt.cap_s)
    scale = opt.patience_s[rows][slot]
    patience = rng.standard_exponential(len(arrival))
    patience = np.where(np.isfinite(scale) & is_live, patience * np.where(
        np.isfinite(scale), scale, 0.0), np.inf)
    start = serve_fcfs(arrival, hold, patience, plan.agents[rows], slot_s)
    served = ~np.isnan(start)
    busy = _busy_in_slots(start[served], start[served] + hold[served], n_slots, slot_s)
    wait = start - arrival
    ls = slot[is_live]
    answered = served[is_live]
    w = wait[is_live]
    hits = answered & (w <= opt.answer_s[rows][ls] + 1e-9)
    out["offered"][rows] += np.bincount(ls, minlength=n_slots)
    out["sl_hits"][rows] += np.bincount(ls, weights=hits, minlength=n_slots)
    out["answered"][rows] += np.bincount(ls, weights=answered, minlength=n_slots)
    out["abandoned"][rows] += np.bincount(ls, weights=~answered, minlength=n_slots)
    out["wait_s"][rows] += np.bincount(ls[answered], weights=w[answered], minlength=n_slots)
    out["busy_s"][rows] += busy


# ---------------------------------------------------------------------------- the run

@dataclass
class Simulation:
    """Result of simulate_plan: the two tables and the raw per-replication counters."""

    simulation: pd.DataFrame
    summary: pd.DataFrame
    counters: dict[str, np.ndarray]  # name -> array (replications x coverage rows)


def simulate_plan(coverage: pd.DataFrame, *, scenario: str = "", replications: int = 10,
                  seed: int = 1, forecast_error: float = 0.0, aht_cv: float = 1.0,
                  handle: str = "lognormal", patience_s=None,
                  answer_s=60.0, cap_s: float = CAP_S, workers: int | None = None,
                  progress: bool = False, file: str = "coverage") -> Simulation:
    """Simulate a plan's coverage table; the same seed gives the same numbers for any workers.

    answer_s and patience_s are scalars or one value per coverage row (patience None or NaN:
    callers never hang up); workers defaults to all cores.
    Replication r uses numpy SeedSequence(seed).spawn(replications)[r].
    """
    if handle not in ("lognormal", "exponential"):
        raise InputError("handle must be 'lognormal' or 'exponential'", field="handle")
    if replications < 1:
        raise InputError("must be >= 1", field="replications")
    if forecast_error < 0 or aht_cv <= 0:
        raise InputError("forecast_error >= 0 and aht_cv > 0 required", field="options")
    cov = _validate(coverage, file)
    plan = _build_plan(cov, handle, aht_cv, cap_s, file)
    ans = np.broadcast_to(np.asarray(answer_s, dtype=float), (len(cov),)).copy()
    pat = np.broadcast_to(np.asarray(np.nan if patience_s is None else patience_s,
                                     dtype=float), (len(cov),))
    if (pat <= 0).any() or (ans < 0).any() or np.isnan(ans).any():
        raise InputError("answer_s >= 0 and patience_s > 0 required", field="options")
    opt = _Options(forecast_error=forecast_error, aht_cv=aht_cv, handle=handle,
                   patience_s=np.where(np.isnan(pat), np.inf, pat), answer_s=ans, cap_s=cap_s)
    seeds = np.random.SeedSequence(seed).spawn(replications)
    workers = min(workers or os.cpu_count() or 1, replications)
    bar = _progress(replications, progress)
    results = run_jobs(_replicate_job, [(plan, opt, ss) for ss in seeds], workers,
                       progress=lambda k: bar.update(k))
    bar.close()
    counters = {name: np.vstack([res[name] for res in results]) for name in _COUNTERS}
    slots = _slot_table(cov, plan, counters, scenario)  # coverage row order
    summary = _summary_table(cov, slots, counters, scenario)
    slots = slots.sort_values(["plateau", "slot_start"], kind="stable").reset_index(drop=True)
    return Simulation(simulation=slots, summary=summary, counters=counters)


def _replicate_job(args) -> dict[str, np.ndarray]:
    return _replicate(*args)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: shown on a terminal only (stderr), silent in pipes and logs
    return tqdm(total=total, desc="replications", unit="rep", disable=None if enabled else True,
                leave=False)


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _t_interval(values: np.ndarray, axis=0):
    """Mean and 95 % t-interval of the mean over the non-NaN entries along axis."""
    count = np.sum(~np.isnan(values), axis=axis)
    safe = np.where(np.isnan(values), 0.0, values)
    mean = _ratio(safe.sum(axis=axis), count)
    dev = np.where(np.isnan(values), 0.0, values - mean)
    var = _ratio((dev ** 2).sum(axis=axis), count - 1)
    half = stats.t.ppf(0.975, np.maximum(count - 1, 1)) * np.sqrt(var / np.maximum(count, 1))
    half = np.where(count >= 2, half, np.nan)
    return mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


def _slot_table(cov, plan, c, scenario) -> pd.DataFrame:
    sl_rep = _ratio(c["sl_hits"], c["offered"])
    sl_mean, sl_lo, sl_hi = _t_interval(sl_rep)
    slot_s = cov["slot_minutes"].to_numpy(dtype=float) * 60.0
    target = cov["sl_target"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        within = np.abs(sl_mean - target) <= 0.02 + 1e-12
        meets = sl_mean >= target - 0.02 - 1e-12
    table = pd.DataFrame({
        "scenario": scenario,
        "slot_start": cov["slot_start"],
        "slot_minutes": cov["slot_minutes"].astype(np.int64),
        "plateau": cov["plateau"],
        "calls_offered": c["offered"].mean(axis=0),
        "answering_agents": plan.agents,
        "sl_sim_mean": sl_mean,
        "sl_sim_lo95": sl_lo,
        "sl_sim_hi95": sl_hi,
        "asa_sim_s": _ratio(c["wait_s"].sum(0), c["answered"].sum(0)),
        "abandon_sim": _ratio(c["abandoned"].sum(0), c["offered"].sum(0)),
        "occupancy_sim": _ratio(c["busy_s"].sum(0), plan.agents * slot_s * len(c["busy_s"])),
        "sl_erlang": cov["service_level"].to_numpy(dtype=float),
        "p_abandon_erlang": cov["p_abandon"].to_numpy(dtype=float),
        "sl_target": target,
        "within_2pp": within,
        "meets_target_2pp": meets,
    })
    if (cov["fold"] == 1).any():  # a clock-change day: tell the repeated hour's passes apart
        table.insert(2, "fold", cov["fold"].to_numpy())
    return table


def _summary_table(cov, slots, c, scenario) -> pd.DataFrame:
    groups = [(p, (cov["plateau"] == p).to_numpy()) for p in sorted(cov["plateau"].unique())]
    groups.append(("all", np.ones(len(cov), dtype=bool)))
    calls = cov["calls"].to_numpy(dtype=float)
    sl_erlang = cov["service_level"].to_numpy(dtype=float)
    within = slots["within_2pp"].to_numpy(dtype=bool)
    meets = slots["meets_target_2pp"].to_numpy(dtype=bool)
    records = []
    for plateau, m in groups:
        offered = c["offered"][:, m].sum(axis=1)
        sl_rep = _ratio(c["sl_hits"][:, m].sum(axis=1), offered)
        _, lo, hi = _t_interval(sl_rep[:, None])
        busy_slots = m & (calls > 0)
        records.append({
            "scenario": scenario,
            "plateau": plateau,
            "calls": offered.mean(),
            "sl_sim": float(_ratio(c["sl_hits"][:, m].sum(), offered.sum())),
            "sl_sim_lo95": float(lo[0]),
            "sl_sim_hi95": float(hi[0]),
            "sl_erlang": float(_ratio(np.nansum(calls[m] * sl_erlang[m]),
                                      calls[m][~np.isnan(sl_erlang[m])].sum())),
            "abandon_sim": float(_ratio(c["abandoned"][:, m].sum(), offered.sum())),
            "asa_sim_s": float(_ratio(c["wait_s"][:, m].sum(), c["answered"][:, m].sum())),
            "share_slots_within_2pp": float(_ratio(within[busy_slots].sum(), busy_slots.sum())),
            "share_slots_meeting_target_2pp": float(_ratio(meets[busy_slots].sum(),
                                                           busy_slots.sum())),
        })
    return pd.DataFrame.from_records(records)



# ---------------------------------------------------------------------------- run folders

TABLES = ("simulation", "simulation_summary")
DEFAULT_ANSWER_S = 60.0


def load_run(run_dir) -> tuple[pd.DataFrame, dict]:
    """The coverage table and manifest of a run folder (read as the contract's CSV and JSON).

    InputError, before anything is written, for a manifest that is not a valid JSON object or
    whose fields have the wrong types, and for a coverage.csv cut short (mid-line, header only,
    or fewer rows than the manifest records).
    """
    from pathlib import Path

    from . import results
    from .safe_text import unescape_series

    run = Path(run_dir)
    manifest_path, coverage_path = run / "manifest.json", run / "coverage.csv"
    if not manifest_path.is_file():
        raise InputError("no manifest.json: not a run folder", file=str(run))
    manifest = results.load_manifest(run)
    options = manifest.get("options") or {}
    for key in ("answer_s", "patience_s"):
        v = options.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                              or not math.isfinite(v) or v < 0):
            raise InputError(f"must be a number >= 0 or null, got {v!r}", file=str(manifest_path),
                             field=f"options.{key}")
    command = manifest.get("command")
    if not coverage_path.is_file():
        if isinstance(command, str) and command != "optimise":
            raise InputError(f"a {command} run has no plan to simulate: simulate needs an "
                             f"optimise run folder", file=str(run))
        raise InputError("no coverage table in the run folder", file=str(coverage_path))
    try:
        raw = coverage_path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            raise InputError("truncated: the last line is incomplete", file=str(coverage_path))
        coverage = pd.read_csv(coverage_path, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"unreadable CSV ({exc})", file=str(coverage_path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(coverage_path)) from None
    if coverage.empty:
        raise InputError("no rows: the plan is empty", file=str(coverage_path))
    expected = (manifest.get("rows") or {}).get("coverage")
    if expected is not None and expected != len(coverage):
        raise InputError(f"{len(coverage)} rows where the manifest records {expected}: the table "
                         f"is incomplete or was edited", file=str(coverage_path))
    if "plateau" in coverage.columns:
        coverage["plateau"] = unescape_series(coverage["plateau"].astype(str))
    return coverage, manifest


def run_settings(manifest: dict, coverage: pd.DataFrame, answer_s=None, patience_s=None):
    """Answer time and patience for the run, each as (value, source).

    Values are scalars or one per coverage row (NaN patience: callers never hang up). Order:
    the option given, a coverage column (answer_s / patience_s), the manifest's options, the
    run's own targets per plateau (manifest `targets`, written by optimise), then the defaults
    (60 s; callers never hang up). The scenario is never looked up again by name: the run
    folder alone says how it was planned.
    """
    options = manifest.get("options") or {}
    targets = _manifest_targets(manifest)
    plateau = coverage["plateau"].astype(str) if "plateau" in coverage.columns else None
    found = {}
    for key, given, default in (("answer_s", answer_s, DEFAULT_ANSWER_S),
                                ("patience_s", patience_s, None)):
        if given is not None:
            found[key] = (float(given), "option")
        elif key in coverage.columns:
            found[key] = (pd.to_numeric(coverage[key], errors="coerce").to_numpy(float),
                          "coverage")
        elif options.get(key) is not None:
            found[key] = (float(options[key]), "manifest")
        elif plateau is not None and key in targets.columns and targets[key].notna().any():
            values = plateau.map(targets[key]).to_numpy(dtype=float)
            if default is not None:
                values = np.where(np.isnan(values), default, values)
            found[key] = (values, "run targets")
        else:
            found[key] = (default, "default")
    return found["answer_s"], found["patience_s"]


def _manifest_targets(manifest: dict) -> pd.DataFrame:
    """The run's per-plateau targets (manifest `targets`) as a frame indexed by plateau; the
    numeric entries only (anything else is NaN)."""
    raw = manifest.get("targets")
    rows = {}
    if isinstance(raw, dict):
        for plateau, t in raw.items():
            if isinstance(t, dict):
                rows[str(plateau)] = {
                    k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v) and v >= 0 else np.nan for k, v in t.items()}
    return pd.DataFrame.from_dict(rows, orient="index", dtype=float)


def describe_text(value, coverage: pd.DataFrame, *, none: str) -> str:
    """A readable rendering of a setting for the console: '20 s', 'PS 449 s, NW 213 s', or
    `none` when it is unset everywhere."""
    record = describe(value, coverage)
    if record is None:
        return none
    if not isinstance(record, dict):
        return f"{record:g} s"
    values = set(record.values())
    if len(values) == 1:
        only = values.pop()
        return none if only is None else f"{only:g} s on every plateau"
    return ", ".join(f"{p} {none if v is None else f'{v:g} s'}" for p, v in record.items())


def describe(value, coverage: pd.DataFrame):
    """A JSON-able record of a scalar or per-row setting: the scalar, or {plateau: value}."""
    if value is None or np.ndim(value) == 0:
        return None if value is None or np.isnan(value) else float(value)
    per = pd.Series(np.asarray(value, dtype=float), index=coverage["plateau"].astype(str))
    per = per.groupby(level=0).first()
    return {k: (None if np.isnan(v) else float(v)) for k, v in per.items()}


def write_tables(result: Simulation, out_dir, *, run_dir=None, options: dict | None = None):
    """Write the tables as CSV into out_dir, each file atomically (staffing.results writers).

    When out_dir is the run folder, also as Parquet if the run has Parquet tables, as sheets of
    its rebuilt plan.xlsx, and listed (with the simulation options) in its manifest.json,
    written last. Returns the files written.
    """
    from pathlib import Path

    from . import results

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"simulation": result.simulation, "simulation_summary": result.summary}
    in_run = run_dir is not None and os.path.realpath(run_dir) == os.path.realpath(out)
    manifest = results.load_manifest(out) if in_run else {}
    if in_run and manifest:  # the run's horizon: weekday and horizon week as in its tables
        start = (manifest.get("options") or {}).get("start")
        tables = results.add_calendar(tables, start)
    written = [results.write_table_csv(df, out / f"{name}.csv", table=name)
               for name, df in tables.items()]
    if not in_run:
        return written
    formats = manifest.get("formats") or []
    if ("parquet" in formats or any(out.glob("*.parquet"))) and results.have_pyarrow():
        written += [results.write_table_parquet(df, out / f"{name}.parquet", table=name)
                    for name, df in tables.items()]
    listed = list(manifest.get("tables") or [])
    manifest["tables"] = listed + [t for t in TABLES if t not in listed]
    columns = dict(manifest.get("columns") or {})
    columns.update({name: results.column_kinds(name, df) for name, df in tables.items()})
    manifest["columns"] = columns
    manifest["simulation"] = options or {}
    if (out / results.WORKBOOK_NAME).is_file():
        everything = results.load(out, format="csv")
        everything.update(tables)
        written.append(results.write_workbook(out / results.WORKBOOK_NAME, everything, manifest))
    written.append(results.write_manifest(manifest, out / results.MANIFEST_NAME))
    return written


def format_summary(summary: pd.DataFrame) -> str:
    """A short readable table of the per-plateau summary."""
    view = pd.DataFrame({
        "plateau": summary["plateau"],
        "calls": summary["calls"].round(0).astype(np.int64),
        "SL sim": (100 * summary["sl_sim"]).map("{:.1f} %".format),
        "95 % CI": [f"{100 * lo:.1f}-{100 * hi:.1f}" if np.isfinite(lo) else "-"
                    for lo, hi in zip(summary["sl_sim_lo95"], summary["sl_sim_hi95"])],
        "SL Erlang": (100 * summary["sl_erlang"]).map("{:.1f} %".format),
        "abandon": (100 * summary["abandon_sim"]).map("{:.1f} %".format),
        "ASA s": summary["asa_sim_s"].round(1),
        "slots +-2pp": (100 * summary["share_slots_within_2pp"]).map("{:.0f} %".format),
        "slots >= target-2pp": (100 * summary["share_slots_meeting_target_2pp"]).map(
            "{:.0f} %".format),
    })
    return view.to_string(index=False)
