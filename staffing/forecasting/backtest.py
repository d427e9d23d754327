"""Rolling-origin backtests: the forecast against the seasonal-naive baseline, week by week.

For origin k (k = 1..n, the n last whole weeks of history), the method sees the history before
the week's Monday (or first day) and forecasts that week; the seasonal-naive baseline forecasts
each slot with the same weekday and slot a week earlier (the latest earlier week that has the
day, when that day is missing). Accuracy is the weighted MAPE (WAPE) over the week's slots,

    wmape = sum |forecast - actual| / sum actual,

and the coverage of the p10-p90 interval is the share of slots with p10 <= actual <= p90.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import InputError
from . import model

BACKTEST_COLUMNS = ["plateau", "origin", "slots", "actual_calls", "wmape", "wmape_naive",
                    "coverage_p10_p90"]


def seasonal_naive(history: pd.DataFrame, slots: pd.DataFrame) -> np.ndarray:
    """Calls of the same plateau, weekday and slot in the latest earlier week (NaN if none)."""
    h = history.set_index(["plateau", "slot_start"])["calls"]
    out = np.full(len(slots), np.nan)
    for lag in range(1, 6):
        need = np.isnan(out)
        if not need.any():
            break
        key = pd.MultiIndex.from_arrays([slots["plateau"], slots["slot_start"] - pd.Timedelta(weeks=lag)])
        prev = h.reindex(key).to_numpy()
        out[need] = prev[need]
    return out


def origins(history: pd.DataFrame, n: int) -> list[dt.date]:
    """Mondays (week starts) of the n last whole weeks of history, oldest first."""
    last = history["slot_start"].max().normalize()
    first = history["slot_start"].min().normalize()
    monday = last - pd.Timedelta(days=last.day_of_week)
    if last.day_of_week < 4:  # the last week is incomplete: stop at the one before
        monday -= pd.Timedelta(weeks=1)
    out = [monday - pd.Timedelta(weeks=k) for k in range(n - 1, -1, -1)]
    if out[0] - pd.Timedelta(weeks=3) < first:
        raise InputError(f"{n} backtest weeks need at least 3 weeks of history before the first "
                         f"origin ({out[0]:%Y-%m-%d})", field="backtest")
    return [o.date() for o in out]


def backtest(history: pd.DataFrame, weeks: int, slot_minutes: int,
             settings: model.Settings | None = None) -> pd.DataFrame:
    """One row per plateau x origin (BACKTEST_COLUMNS), then one 'all' row per plateau."""
    settings = settings or model.Settings()
    rows = []
    for origin in origins(history, weeks):
        t0 = pd.Timestamp(origin)
        past = history[history["slot_start"] < t0]
        actual = history[(history["slot_start"] >= t0)
                         & (history["slot_start"] < t0 + pd.Timedelta(weeks=1))]
        fc = model.forecast(past, origin, 1, slot_minutes, settings)
        m = actual.merge(fc, on=["plateau", "slot_start"], how="left", suffixes=("", "_fc"))
        m["calls_fc"] = m["calls_fc"].fillna(0.0)
        m["naive"] = seasonal_naive(past, m)
        for p, g in m.groupby("plateau"):
            rows.append(_scores(p, origin, g))
    out = pd.DataFrame(rows)
    totals = []
    for p, g in out.groupby("plateau", sort=True):
        w = g["actual_calls"]
        totals.append({"plateau": p, "origin": "all", "slots": int(g["slots"].sum()),
                       "actual_calls": float(w.sum()),
                       "wmape": float((g["wmape"] * w).sum() / w.sum()),
                       "wmape_naive": float((g["wmape_naive"] * w).sum() / w.sum()),
                       "coverage_p10_p90": float((g["coverage_p10_p90"] * g["slots"]).sum()
                                                 / g["slots"].sum())})
    out["origin"] = out["origin"].astype(str)
    return pd.concat([out, pd.DataFrame(totals)], ignore_index=True)[BACKTEST_COLUMNS]


def _scores(plateau: str, origin: dt.date, g: pd.DataFrame) -> dict:
    a = g["calls"].to_numpy(float)
    f = g["calls_fc"].to_numpy(float)
    naive = g["naive"].to_numpy(float)
    ok = ~np.isnan(naive)
    total = a.sum()
    inside = (g["calls_p10"] <= g["calls"]) & (g["calls"] <= g["calls_p90"])
    return {"plateau": plateau, "origin": origin, "slots": len(g), "actual_calls": float(total),
            "wmape": float(np.abs(f - a).sum() / total) if total else np.nan,
            "wmape_naive": float(np.abs(naive[ok] - a[ok]).sum() / a[ok].sum()) if a[ok].sum()
            else np.nan,
            "coverage_p10_p90": float(inside.mean())}
