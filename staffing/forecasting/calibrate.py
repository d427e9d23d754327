"""Scenario parameters from a call-detail log: volumes, handle times, profiles, patience, service.

Per plateau (and `all`, the calls pooled), from calls read by `calllog.read_log`:

- history: calls offered per slot (slot of the arrival), aht_s of the answered ones: a table
  `staffing forecast` takes as HISTORY;
- handle_times: calls, answered, abandoned, aht_s (mean handle time of answered calls),
  handle_sd_s, handle_cv, handle_p50_s, handle_p90_s;
- profiles: the scenario's `profiles` table (plateau, profile, key, weight): weekday weights =
  mean calls per day of each weekday over the mean of the open weekdays; intraday weights = the
  mean share of a day's calls arriving in each slot, per slot start (HH:MM);
- patience: with Q the queued calls (wait_s > 0) and A those of them abandoned, exponential
  patience censored by service has the maximum-likelihood mean theta = sum over Q of wait_s / |A|
  (Mandelbaum & Zeltyn 2004; Brown et al. 2005, JASA 100:36-50), with a 95 % interval from
  the chi-square law of 2|A| theta_hat / theta; patience_curve: the Kaplan-Meier estimate of
  P(patience > t) from the same censored waits (statsmodels SurvfuncRight);
- service: per slot, calls, answered, abandoned, abandon_share, service_level (share of offered
  calls answered within answer_s, as Erlang A defines it) and asa_s (mean wait of answered);
- erlang_a (when the log names agents): per slot, busy_agents = agent-seconds of service in the
  slot / slot seconds; agents = agents on duty, the agent-seconds inside duty spells (an agent's
  service intervals joined across idle gaps of at most 15 min) / slot seconds; and beside the
  observed abandon_share and service_level, Erlang A's p_abandon and service_level at that
  slot's calls, aht_s, agents (rounded, at least 1) and the plateau's patience
  (staffing/queueing.py). Agents serving several plateaux count in each: the `all` rows are the
  pooled centre, the fair test of the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import queueing
from ..scenario import WEEKDAYS

ALL = "all"


def _with_all(calls: pd.DataFrame) -> pd.DataFrame:
    """The calls, then all of them again under plateau 'all' (when there are several plateaux)."""
    if calls["plateau"].nunique() < 2:
        return calls
    return pd.concat([calls, calls.assign(plateau=ALL)], ignore_index=True)


def slot_of(times: pd.Series, slot_minutes: int) -> pd.Series:
    return times.dt.floor(f"{slot_minutes}min")


def history(calls: pd.DataFrame, slot_minutes: int) -> pd.DataFrame:
    """Calls offered and aht_s of the answered calls per plateau x slot (no 'all' rows).

    Every plateau gets every slot from the log's first to its last day at the times of day the
    log has calls (0 calls, aht_s empty, where it had none), so a forecast sees its quiet slots.
    """
    c = calls.assign(slot_start=slot_of(calls["arrival"], slot_minutes),
                     work=calls["handle_s"].fillna(0.0), timed=calls["handle_s"].notna())
    g = c.groupby(["plateau", "slot_start"]).agg(calls=("arrival", "size"), work=("work", "sum"),
                                                  timed=("timed", "sum"))
    g["aht_s"] = g["work"] / g["timed"].where(g["timed"] > 0)
    g["calls"] = g["calls"].astype(float)
    slots = c["slot_start"]
    days = pd.date_range(slots.min().normalize(), slots.max().normalize(), freq="D")
    times = np.unique((slots - slots.dt.normalize()).to_numpy())
    grid = pd.MultiIndex.from_product(
        [sorted(c["plateau"].unique()), (days.to_numpy()[:, None] + times[None, :]).ravel()],
        names=["plateau", "slot_start"])
    g = g.reindex(grid)
    g["calls"] = g["calls"].fillna(0.0)
    return g.reset_index()[["plateau", "slot_start", "calls", "aht_s"]]


def handle_times(calls: pd.DataFrame) -> pd.DataFrame:
    """Per plateau: calls, answered, abandoned, aht_s and the spread of handle times."""
    rows = []
    for p, g in _with_all(calls).groupby("plateau", sort=True):
        h = g["handle_s"].dropna().to_numpy(float)
        mean = float(h.mean()) if len(h) else np.nan
        sd = float(h.std(ddof=1)) if len(h) > 1 else np.nan
        rows.append({"plateau": p, "calls": len(g), "answered": int(g["answered"].sum()),
                     "abandoned": int(g["abandoned"].sum()), "aht_s": mean, "handle_sd_s": sd,
                     "handle_cv": sd / mean if mean else np.nan,
                     "handle_p50_s": float(np.median(h)) if len(h) else np.nan,
                     "handle_p90_s": float(np.quantile(h, 0.9)) if len(h) else np.nan})
    return pd.DataFrame(rows)


def profiles(calls: pd.DataFrame, slot_minutes: int) -> pd.DataFrame:
    """Weekday and intraday profiles per plateau in the scenario's profiles format."""
    rows = []
    for p, g in calls.groupby("plateau", sort=True):
        day = g["arrival"].dt.normalize()
        per_day = g.groupby(day).size()
        weekday = per_day.groupby(per_day.index.day_of_week).mean().reindex(range(7), fill_value=0.0)
        open_mean = weekday[weekday > 0].mean()
        rows += [{"plateau": p, "profile": "weekday", "key": WEEKDAYS[d],
                  "weight": round(float(weekday[d] / open_mean), 6)} for d in range(7)]
        rows += _intraday(p, g, slot_minutes)
    return pd.DataFrame(rows, columns=["plateau", "profile", "key", "weight"])


def _intraday(plateau: str, g: pd.DataFrame, slot_minutes: int) -> list[dict]:
    """Share of the calls arriving in each slot of the day, as steps from the first busy slot
    to the one after the last (zeros included, so the step function ends where calls do)."""
    minute = g["arrival"].dt.hour * 60 + g["arrival"].dt.minute
    slot = (minute // slot_minutes) * slot_minutes
    share = slot.value_counts().sort_index() / len(g)
    grid = np.arange(share.index.min(), min(share.index.max() + slot_minutes, 1440), slot_minutes)
    share = share.reindex(grid, fill_value=0.0)
    if grid[-1] + slot_minutes < 1440:
        share[grid[-1] + slot_minutes] = 0.0
    return [{"plateau": plateau, "profile": "intraday", "key": f"{m // 60:02d}:{m % 60:02d}",
             "weight": round(float(w), 8)} for m, w in share.items()]


def patience(calls: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patience MLE per plateau (with its 95 % interval) and the Kaplan-Meier curve."""
    from scipy.stats import chi2
    from statsmodels.duration.survfunc import SurvfuncRight

    rows, curves = [], []
    for p, g in _with_all(calls).groupby("plateau", sort=True):
        q = g[g["wait_s"] > 0]
        lost = int(q["abandoned"].sum())
        total = float(q["wait_s"].sum())
        theta = total / lost if lost else np.inf
        lo = 2 * total / chi2.ppf(0.975, 2 * lost) if lost else np.nan
        hi = 2 * total / chi2.ppf(0.025, 2 * lost) if lost else np.nan
        rows.append({"plateau": p, "queued_calls": len(q), "abandoned_queued": lost,
                     "abandoned_unqueued": int((g["abandoned"] & (g["wait_s"] <= 0)).sum()),
                     "wait_hours": total / 3600.0, "patience_s": theta, "patience_low_s": lo,
                     "patience_high_s": hi})
        if lost:
            km = SurvfuncRight(q["wait_s"].to_numpy(float), q["abandoned"].to_numpy(int))
            curves.append(pd.DataFrame({"plateau": p, "wait_s": km.surv_times,
                                        "survival": km.surv_prob, "at_risk": km.n_risk,
                                        "abandoned": km.n_events}))
    cols = ["plateau", "wait_s", "survival", "at_risk", "abandoned"]
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=cols)
    return pd.DataFrame(rows), curve[cols]


def service(calls: pd.DataFrame, slot_minutes: int, answer_s: float) -> pd.DataFrame:
    """Observed calls, abandonment, service level and ASA per plateau x slot (and 'all')."""
    c = _with_all(calls)
    c = c.assign(slot_start=slot_of(c["arrival"], slot_minutes),
                 in_time=c["answered"] & (c["wait_s"] <= answer_s),
                 answered_wait=c["wait_s"].where(c["answered"]))
    g = c.groupby(["plateau", "slot_start"]).agg(
        calls=("arrival", "size"), answered=("answered", "sum"), abandoned=("abandoned", "sum"),
        in_time=("in_time", "sum"), asa_s=("answered_wait", "mean"), aht_s=("handle_s", "mean"))
    g["calls"] = g["calls"].astype(float)
    g["abandon_share"] = g["abandoned"] / g["calls"]
    g["service_level"] = g["in_time"] / g["calls"]
    g = g.reset_index()
    return g[["plateau", "slot_start", "calls", "answered", "abandoned", "abandon_share",
              "service_level", "asa_s", "aht_s"]]


DUTY_GAP_S = 900.0  # idle gaps up to 15 min between an agent's calls count as on duty


def _split(begin: np.ndarray, end: np.ndarray, step: np.timedelta64):
    """Pieces of intervals [begin, end) cut at slot boundaries: (row, slot_start, seconds)."""
    first = begin.astype("datetime64[m]").astype("datetime64[ns]")
    first = first - ((first - first.astype("datetime64[D]")) % step)
    spans = np.maximum(np.ceil((end - first) / step).astype(int), 1)
    idx = np.repeat(np.arange(len(begin)), spans)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(spans) - spans, spans)
    slot = first[idx] + k * step
    secs = (np.minimum(end[idx], slot + step) - np.maximum(begin[idx], slot)) / np.timedelta64(1, "s")
    return idx, slot, np.maximum(secs, 0.0)


def _duty(c: pd.DataFrame, begin: pd.Series, end: pd.Series) -> pd.DataFrame:
    """Each agent's on-duty spells: service intervals merged across gaps <= DUTY_GAP_S."""
    d = pd.DataFrame({"agent": c["agent"].to_numpy(), "b": begin.to_numpy(), "e": end.to_numpy()})
    d = d.drop_duplicates().sort_values(["agent", "b"])
    prev_end = d.groupby("agent")["e"].cummax().groupby(d["agent"]).shift()
    new = prev_end.isna() | ((d["b"] - prev_end).dt.total_seconds() > DUTY_GAP_S)
    d["spell"] = new.cumsum()
    return d.groupby("spell").agg(agent=("agent", "first"), b=("b", "min"), e=("e", "max"))


def busy_agents(calls: pd.DataFrame, slot_minutes: int) -> pd.DataFrame:
    """Per plateau (and 'all') x slot: busy_agents (agent-seconds serving / slot seconds) and
    agents on duty (agent-seconds within duty spells / slot seconds; an agent serving several
    plateaux counts in each of them).

    A call is served from arrival + wait_s for handle_s seconds.
    """
    c = _with_all(calls[calls["answered"] & calls["agent"].notna() & calls["handle_s"].notna()])
    c = c.reset_index(drop=True)
    begin = c["arrival"] + pd.to_timedelta(c["wait_s"], unit="s")
    end = begin + pd.to_timedelta(c["handle_s"], unit="s")
    step = np.timedelta64(slot_minutes, "m").astype("timedelta64[ns]")
    idx, slot, secs = _split(begin.to_numpy(), end.to_numpy(), step)
    busy = pd.DataFrame({"plateau": c["plateau"].to_numpy()[idx], "slot_start": slot, "s": secs})
    busy = busy.groupby(["plateau", "slot_start"])["s"].sum() / (slot_minutes * 60.0)
    duty = []
    for p, g in c.groupby("plateau"):
        spells = _duty(g, begin[g.index], end[g.index])
        i2, s2, sec2 = _split(spells["b"].to_numpy(), spells["e"].to_numpy(), step)
        duty.append(pd.DataFrame({"plateau": p, "slot_start": s2, "s": sec2}))
    duty = pd.concat(duty).groupby(["plateau", "slot_start"])["s"].sum() / (slot_minutes * 60.0)
    out = pd.DataFrame({"busy_agents": busy, "agents": duty.reindex(busy.index)})
    return out.reset_index()


def erlang_a_fit(svc: pd.DataFrame, busy: pd.DataFrame, pat: pd.DataFrame, slot_minutes: int,
                 answer_s: float) -> pd.DataFrame:
    """Observed abandonment and SL per slot beside Erlang A's at the slot's load and agents."""
    m = svc.merge(busy, on=["plateau", "slot_start"], how="inner")
    m = m[(m["agents"] > 0) & m["aht_s"].notna()].reset_index(drop=True)
    theta = m["plateau"].map(pat.set_index("plateau")["patience_s"]).astype(float).to_numpy()
    theta = np.where(np.isfinite(theta), theta, 1e9)
    n = np.maximum(np.round(m["agents"].to_numpy(float)), 1.0)
    pred = queueing.erlang_a(m["calls"].to_numpy(float), m["aht_s"].to_numpy(float), slot_minutes,
                             n, answer_s, theta, with_asa=False)
    m["load_erlangs"] = queueing.offered_load(m["calls"], m["aht_s"], slot_minutes)
    m["erlang_a_p_abandon"] = pred["p_abandon"]
    m["erlang_a_service_level"] = pred["service_level"]
    return m[["plateau", "slot_start", "calls", "aht_s", "load_erlangs", "busy_agents", "agents",
              "abandon_share", "erlang_a_p_abandon", "service_level", "erlang_a_service_level"]]


def fit_summary(fit: pd.DataFrame) -> pd.DataFrame:
    """Per plateau: calls-weighted observed vs predicted abandonment and SL, and mean abs errors."""
    rows = []
    for p, g in fit.groupby("plateau", sort=True):
        w = g["calls"].to_numpy(float)

        def avg(col):
            return float((g[col] * w).sum() / w.sum())

        rows.append({"plateau": p, "slots": len(g), "calls": float(w.sum()),
                     "abandon_share": avg("abandon_share"),
                     "erlang_a_p_abandon": avg("erlang_a_p_abandon"),
                     "service_level": avg("service_level"),
                     "erlang_a_service_level": avg("erlang_a_service_level"),
                     "abandon_abs_error": float((np.abs(g["abandon_share"] - g["erlang_a_p_abandon"])
                                                 * w).sum() / w.sum()),
                     "sl_abs_error": float((np.abs(g["service_level"] - g["erlang_a_service_level"])
                                            * w).sum() / w.sum())})
    return pd.DataFrame(rows)


def calibrate(calls: pd.DataFrame, slot_minutes: int = 30, answer_s: float = 20.0) -> dict:
    """All tables of a call log, by name (history, handle_times, profiles, patience,
    patience_curve, service, and erlang_a + erlang_a_summary when the log names agents)."""
    pat, curve = patience(calls)
    svc = service(calls, slot_minutes, answer_s)
    out = {"history": history(calls, slot_minutes), "handle_times": handle_times(calls),
           "profiles": profiles(calls, slot_minutes), "patience": pat, "patience_curve": curve,
           "service": svc}
    if calls["agent"].notna().any():
        fit = erlang_a_fit(svc, busy_agents(calls, slot_minutes), pat, slot_minutes, answer_s)
        out["erlang_a"] = fit
        out["erlang_a_summary"] = fit_summary(fit)
    return out
