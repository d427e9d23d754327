"""Reuse of identical weeks: a week whose requirement rows equal an earlier week's, slot for
slot, has the same model (the week number only names its variables), hence the same plan moved
by whole weeks. The bundled scenario's 52 weeks hold 10 distinct ones.

Two weeks are the same when every column of their requirement rows is equal, with datetimes
taken relative to each week's first day (so the weekdays and the slot times match too), and
the in-house contracts ask the same of them (a cycle's week, advisers on leave).
"""

from __future__ import annotations

import dataclasses
import hashlib

import pandas as pd

from .tables import WeekResult


def week_key(req: pd.DataFrame, week_start, extra: str = "") -> str:
    """A digest of one week's requirement rows, datetimes relative to `week_start`, and of
    `extra` (what the in-house contracts ask of the week: rosters.contracts.week_signature)."""
    r = req.drop(columns=["week"], errors="ignore").reset_index(drop=True)
    start = pd.Timestamp(week_start)
    for c in r.columns:
        if pd.api.types.is_datetime64_any_dtype(r[c].dtype):
            r[c] = (r[c] - start).dt.total_seconds()
    h = hashlib.sha1(repr([(c, str(r[c].dtype)) for c in r.columns]).encode())
    h.update(pd.util.hash_pandas_object(r, index=True).to_numpy().tobytes())
    if extra:
        h.update(extra.encode())
    return h.hexdigest()


def distinct(keys: list[str]) -> dict[int, int]:
    """week -> the first week with the same key (itself when it is the first)."""
    first: dict[str, int] = {}
    return {w: first.setdefault(k, w) for w, k in enumerate(keys)}


def moved(r: WeekResult, week: int, days: int) -> WeekResult:
    """Week r's plan as week `week`, `days` later: dates shifted, the tours' week renumbered;
    no build or solve time of its own."""
    off = pd.Timedelta(days=days)

    def shift(df):
        if df is None or "date" not in df.columns:
            return df
        return df.assign(date=df["date"] + off)

    tours = r.tours
    if tours is not None and "week" in tours.columns:
        tours = tours.assign(week=week + 1)
    return dataclasses.replace(r, week=week, x=shift(r.x), shifts=shift(r.shifts), tours=tours,
                               build_s=0.0, solve_s=0.0, u=r.u.copy(), cb=r.cb.copy(),
                               cpu_s={})
