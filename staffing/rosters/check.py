"""Every working-time rule on every adviser's roster: the violations, by how much.

Definitions (docs/rosters.md): rest periods are the gaps between an adviser's consecutive
shifts (before the first shift and after the last, unbounded). Weeks are the horizon's
7-day weeks from its first day.

- daily_rest: every gap >= daily_rest_hours (L3131-1);
- weekly_rest: each week overlaps by at least 24 h a gap >= weekly_rest_hours (L3132-2);
- days_in_a_row: no more than max_days_in_a_row consecutive dates worked (L3132-1);
- one_shift_a_day: at most one shift starting on a date;
- daily_hours: paid hours and work time of a shift <= max_daily_hours (L3121-18);
- weekly_hours: paid hours in a week <= max_weekly_hours (L3121-20);
- break: a shift with more than break_after_hours of work has a break of at least
  min_break_minutes, with no more than break_after_hours of work on either side (L3121-16);
- contract_hours: paid hours in a week equal the contract's weekly hours;
- sundays: Sundays worked in any 4 consecutive weeks <= max_sundays_per_4_weeks;
- start_spread: latest minus earliest start (time of day) in a week <= max_start_spread_hours;
- night_shifts / night_shift_hours: night shifts a week <= max_night_shifts_per_week, a night
  shift's work <= max_night_shift_hours (L3122-6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .builder import night_minutes
from .rules import NIGHT_SHIFT_MIN_HOURS, WorkingRules

VIOLATION_COLUMNS = ["file", "adviser", "date", "rule", "excess", "unit"]
_H = pd.Timedelta(hours=1)


def check_rosters(rosters: pd.DataFrame, rules: WorkingRules, start, weeks: int,
                  contracts: dict | None = None, file: str = "rosters") -> pd.DataFrame:
    """Violations of `rules` in a rosters table (columns as written by optimise).

    contracts: contract id -> weekly hours (the contract_hours rule is skipped without it).
    Returns rows (file, adviser, date, rule, excess, unit): `excess` is how far past the
    limit (hours, days, minutes or shifts as `unit` says); empty when every rule holds."""
    out = []
    start = pd.Timestamp(start)
    for adviser, r in rosters.sort_values("shift_start").groupby("adviser", sort=True):
        out += _one(adviser, r.reset_index(drop=True), rules, start, weeks, contracts or {})
    v = pd.DataFrame(out, columns=VIOLATION_COLUMNS[1:])
    v.insert(0, "file", file)
    return v.sort_values(["adviser", "date", "rule"]).reset_index(drop=True)


def _one(adviser, r, rules: WorkingRules, start, weeks, contracts) -> list:
    out = []

    def bad(date, rule, excess, unit):
        out.append((adviser, pd.Timestamp(date).normalize(), rule, float(excess), unit))

    s, e = r["shift_start"], r["shift_end"]
    gaps = (s.iloc[1:].to_numpy() - e.iloc[:-1].to_numpy()) / np.timedelta64(1, "h")
    for i, g in enumerate(gaps):
        if g < rules.daily_rest_hours - 1e-9:
            bad(s.iloc[i + 1], "daily_rest", rules.daily_rest_hours - g, "hours")
    dates = pd.to_datetime(r["date"]).dt.normalize()
    for d, n in dates.value_counts().items():
        if n > 1:
            bad(d, "one_shift_a_day", n - 1, "shifts")
    _days_in_a_row(sorted(set(dates)), rules, bad)
    _shift_rules(r, rules, bad)
    _weekly(r, rules, start, weeks, contracts, bad)
    return out


def _days_in_a_row(days, rules, bad) -> None:
    run, prev = 0, None
    for d in days:
        run = run + 1 if prev is not None and (d - prev).days == 1 else 1
        if run == rules.max_days_in_a_row + 1:
            bad(d, "days_in_a_row", 1, "days")
        elif run > rules.max_days_in_a_row + 1:
            bad(d, "days_in_a_row", run - rules.max_days_in_a_row, "days")
        prev = d


def _shift_rules(r, rules, bad) -> None:
    for row in r.itertuples(index=False):
        span = (row.shift_end - row.shift_start) / _H
        has_break = pd.notna(row.break_start)
        brk = (row.break_end - row.break_start) / _H if has_break else 0.0
        work = span - brk
        if max(work, row.paid_hours) > rules.max_daily_hours + 1e-9:
            bad(row.date, "daily_hours", max(work, row.paid_hours) - rules.max_daily_hours, "hours")
        if work > rules.break_after_hours + 1e-9:
            if not has_break or brk * 60 < rules.min_break_minutes - 1e-9:
                bad(row.date, "break", rules.min_break_minutes - brk * 60, "minutes")
            else:
                before = (row.break_start - row.shift_start) / _H
                after = (row.shift_end - row.break_end) / _H
                longest = max(before, after)
                if longest > rules.break_after_hours + 1e-9:
                    bad(row.date, "break", (longest - rules.break_after_hours) * 60, "minutes")
        day0 = pd.Timestamp(row.date).normalize()
        sm = int((row.shift_start - day0) / pd.Timedelta(minutes=1))
        em = int((row.shift_end - day0) / pd.Timedelta(minutes=1))
        bm = int((row.break_start - day0) / pd.Timedelta(minutes=1)) if has_break else None
        night = night_minutes(sm, em, bm, int(round(brk * 60)), rules) / 60
        if night >= NIGHT_SHIFT_MIN_HOURS and work > rules.max_night_shift_hours + 1e-9:
            bad(row.date, "night_shift_hours", work - rules.max_night_shift_hours, "hours")


def _weekly(r, rules, start, weeks, contracts, bad) -> None:
    s, e = r["shift_start"], r["shift_end"]
    far = pd.Timedelta(days=10000)
    rest_from = [start - far] + list(e)
    rest_to = list(s) + [start + pd.Timedelta(days=7 * weeks) + far]
    sundays = []
    for w in range(weeks):
        w0, w1 = start + pd.Timedelta(days=7 * w), start + pd.Timedelta(days=7 * w + 7)
        best = 0.0
        for a, b in zip(rest_from, rest_to):
            inside = (min(b, w1) - max(a, w0)) / _H
            if inside >= 24 - 1e-9:
                best = max(best, (b - a) / _H)
        if best < rules.weekly_rest_hours - 1e-9:
            bad(w0, "weekly_rest", rules.weekly_rest_hours - best, "hours")
        wk = r[(r["shift_start"] >= w0) & (r["shift_start"] < w1)]
        paid = float(wk["paid_hours"].sum())
        if paid > rules.max_weekly_hours + 1e-9:
            bad(w0, "weekly_hours", paid - rules.max_weekly_hours, "hours")
        c = contracts.get(r["contract"].iloc[0]) if len(r) else None
        if c is not None and abs(paid - c) > 1e-6:
            bad(w0, "contract_hours", paid - c, "hours")
        sun = pd.to_datetime(wk["date"]).dt.weekday == 6
        sundays.append(int(sun.sum()))
        if rules.max_start_spread_hours is not None and len(wk):
            tod = (wk["shift_start"] - pd.to_datetime(wk["date"]).dt.normalize()) / _H
            spread = float(tod.max() - tod.min())
            if spread > rules.max_start_spread_hours + 1e-9:
                bad(w0, "start_spread", spread - rules.max_start_spread_hours, "hours")
        n_night = sum(_is_night(row, rules) for row in wk.itertuples(index=False))
        if n_night > rules.max_night_shifts_per_week:
            bad(w0, "night_shifts", n_night - rules.max_night_shifts_per_week, "shifts")
    for w in range(max(0, weeks - 3)):
        n = sum(sundays[w:w + 4])
        if n > rules.max_sundays_per_4_weeks:
            bad(start + pd.Timedelta(days=7 * w), "sundays", n - rules.max_sundays_per_4_weeks,
                "sundays")


def _is_night(row, rules) -> bool:
    day0 = pd.Timestamp(row.date).normalize()
    m = lambda t: int((t - day0) / pd.Timedelta(minutes=1))  # noqa: E731
    has_break = pd.notna(row.break_start)
    bm = m(row.break_start) if has_break else None
    bl = m(row.break_end) - bm if has_break else 0
    return night_minutes(m(row.shift_start), m(row.shift_end), bm, bl, rules) >= \
        NIGHT_SHIFT_MIN_HOURS * 60


def check_run(tables: dict, manifest: dict) -> pd.DataFrame:
    """Violations in a run folder's rosters, with the rules its manifest recorded."""
    entry = manifest.get("rosters") or {}
    rules = WorkingRules.from_dict(entry.get("rules", {}))
    contracts = {c["id"]: float(c["weekly_hours"]) for c in entry.get("contracts", [])}
    opts = manifest.get("options", {})
    r = tables["rosters"]
    for c in ("shift_start", "shift_end", "break_start", "break_end", "date"):
        r[c] = pd.to_datetime(r[c])
    return check_rosters(r, rules, opts.get("start"), int(opts.get("weeks", 1)), contracts,
                         file="rosters")
