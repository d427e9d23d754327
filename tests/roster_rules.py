"""An independent reading of the working-time rules, for tests: minute timelines per adviser
(written apart from staffing/rosters/check.py, which it must agree with)."""

from __future__ import annotations

import datetime as dt
import math


def rows_of(frame) -> list[dict]:
    """The plain rows `violations` reads from a rosters table (a DataFrame as written by
    optimise, its times parsed or as ISO text): adviser, shift and break datetimes (None
    without a break), paid_hours."""
    import pandas as pd

    t = {c: pd.to_datetime(frame[c]) for c in ("shift_start", "shift_end", "break_start",
                                                "break_end")}
    return [{"adviser": a, "shift_start": s.to_pydatetime(), "shift_end": e.to_pydatetime(),
             "break_start": None if pd.isna(bs) else bs.to_pydatetime(),
             "break_end": None if pd.isna(be) else be.to_pydatetime(), "paid_hours": p}
            for a, s, e, bs, be, p in zip(frame["adviser"], t["shift_start"], t["shift_end"],
                                          t["break_start"], t["break_end"], frame["paid_hours"])]


def _m(t: dt.datetime, t0: dt.datetime) -> int:
    return int((t - t0).total_seconds() // 60)


def violations(rows: list[dict], start: dt.date, weeks: int, rules: dict,
               state: dict | None = None) -> list[tuple]:
    """rows: dicts with adviser, shift_start, shift_end, break_start, break_end (datetime or
    None), paid_hours. state: optional adviser -> (last_shift_end, days_in_a_row,
    sundays_worked) before the horizon (the days in a row end the day before it; the Sundays
    worked are the latest of the 3 weeks before it). Returns (adviser, rule) pairs that fail."""
    t0 = dt.datetime.combine(start, dt.time())
    horizon = weeks * 7 * 1440
    by: dict = {}
    for r in rows:
        by.setdefault(r["adviser"], []).append(r)
    state = state or {}
    for a in state:
        by.setdefault(a, [])
    bad = []
    for a, shifts in by.items():
        shifts.sort(key=lambda r: r["shift_start"])
        iv = [(_m(r["shift_start"], t0), _m(r["shift_end"], t0)) for r in shifts]
        before = state.get(a)
        if before is not None:  # the past as whole shifts: the last one ending at last_shift_end
            end = _m(before[0], t0)
            past = [(-1440 * k, -1440 * k) for k in range(int(before[1]), 1, -1)]
            past.append((min(end, -1440) if before[1] else end, end))
            iv_all = past + iv
        else:
            iv_all = iv
        _sunday_windows(a, shifts, start, weeks, rules, before, bad)
        # daily rest: the time off between one shift's end and the next one's start
        for (s1, e1), (s2, e2) in zip(iv_all, iv_all[1:]):
            if s2 - e1 < rules["daily_rest_hours"] * 60:
                bad.append((a, "daily_rest"))
        # weekly rest: off-intervals of the whole timeline, padded far on both sides
        edges = [-10 ** 7] + [x for s, e in iv for x in (s, e)] + [10 ** 7]
        offs = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
        for w in range(weeks):
            lo, hi = w * 10080, (w + 1) * 10080
            if not any(b - a_ >= rules["weekly_rest_hours"] * 60 and min(b, hi) - max(a_, lo) >= 1440
                       for a_, b in offs):
                bad.append((a, "weekly_rest"))
            paid = sum(r["paid_hours"] for r, (s, e) in zip(shifts, iv) if lo <= s < hi)
            if paid > rules["max_weekly_hours"]:
                bad.append((a, "weekly_hours"))
        # days in a row: dates worked as day numbers
        days = sorted({s // 1440 for s, e in iv} | (
            set(range(-int(before[1]), 0)) if before is not None else set()))
        run = 1
        for d1, d2 in zip(days, days[1:]):
            run = run + 1 if d2 == d1 + 1 else 1
            if run > rules["max_days_in_a_row"]:
                bad.append((a, "days_in_a_row"))
        if len({s // 1440 for s, e in iv}) != len(iv):
            bad.append((a, "one_shift_a_day"))
        for r, (s, e) in zip(shifts, iv):
            if r["break_start"] is None:
                stretches = [e - s]
            else:
                b1, b2 = _m(r["break_start"], t0), _m(r["break_end"], t0)
                stretches = [b1 - s, e - b2]
                if b2 - b1 < rules["min_break_minutes"]:
                    bad.append((a, "break"))
            if sum(stretches) > rules["max_daily_hours"] * 60:
                bad.append((a, "daily_hours"))
            if max(stretches) > rules["break_after_hours"] * 60:
                bad.append((a, "break"))
        bad += _night(a, shifts, iv, t0, rules)
        del horizon
        horizon = weeks * 7 * 1440
    return bad


def _sunday_windows(a, shifts, start, weeks, rules, before, bad) -> None:
    """Sundays worked (by the date a shift starts) in every 4 planning weeks in a row that meet
    the horizon, those before it from the state's count (the latest weeks first)."""
    limit = rules.get("max_sundays_per_4_weeks", 4)
    per_week = {}
    for r in shifts:
        d = r["shift_start"].date()
        if d.weekday() == 6:
            w = (d - start).days // 7
            per_week[w] = per_week.get(w, 0) + 1
    k = int(before[2]) if before is not None and len(before) > 2 else 0
    for w in range(1, k + 1):
        per_week[-w] = 1
    for first in range(-3, weeks):  # (a past already over the limit is no roster's doing)
        window = range(first, first + 4)
        if sum(per_week.get(w, 0) for w in window) > limit and any(
                per_week.get(w, 0) for w in window if w >= 0):
            bad.append((a, "sundays"))
            return


def _clock(t) -> int:
    return t.hour * 60 + t.minute


def _night(a, shifts: list, iv: list, t0, rules: dict) -> list[tuple]:
    """Night rules (L3122): walk each shift in pieces of the finest grid its times sit on,
    counting the pieces at work whose wall-clock time falls in the night period; a shift with
    at least 3 h of such work is a night shift: its work <= max_night_shift_hours and at most
    max_night_shifts_per_week of them start in a week."""
    if "night_start" not in rules:
        return []
    ns, ne = _clock(rules["night_start"]), _clock(rules["night_end"])
    out, per_week = [], {}
    for r, (s, e) in zip(shifts, iv):
        brk = (None if r["break_start"] is None
               else (_m(r["break_start"], t0), _m(r["break_end"], t0)))
        step = math.gcd(s, e, ns, ne, *(brk or ()), 1440) or 1
        night = work = 0
        for t in range(s, e, step):
            if brk is not None and brk[0] <= t < brk[1]:
                continue
            work += step
            tod = t % 1440
            if (ns <= tod or tod < ne) if ne <= ns else (ns <= tod < ne):
                night += step
        if night >= 180:
            per_week[s // 10080] = per_week.get(s // 10080, 0) + 1
            if work > rules["max_night_shift_hours"] * 60:
                out.append((a, "night_shift_hours"))
    out += [(a, "night_shifts") for n in per_week.values()
            if n > rules["max_night_shifts_per_week"]]
    return out


def two_days_off_share(rows: list[dict], start: dt.date, weeks: int) -> float:
    """Share of adviser-weeks with two consecutive dates off inside the week."""
    worked: dict = {}
    for r in rows:
        d = (r["shift_start"].date() - start).days
        worked.setdefault(r["adviser"], set()).add(d)
    ok = n = 0
    for days in worked.values():
        for w in range(weeks):
            n += 1
            off = [d for d in range(7 * w, 7 * w + 7) if d not in days]
            ok += any(b == a + 1 for a, b in zip(off, off[1:]))
    return ok / n if n else 1.0


WEEKDAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def contract_violations(rows: list[dict], start: dt.date, weeks: int, contracts: dict,
                        members: dict, days_off: dict | None = None) -> list[tuple]:
    """Each adviser against their own contract, read from the model file's raw tables.

    contracts: contract id -> its TOML table (paid_hours, days_per_week and weekly_hours, or
    cycle_weekly_hours and cycle_days_per_week, weekdays, earliest_start, latest_end);
    members: adviser -> contract id (every adviser, with or without shifts); days_off:
    (adviser, week) -> days paid, not worked. The cycle starts on `start`. Returns
    (adviser, rule) pairs: hours, days, length, weekday, window, cycle_total."""
    by: dict = {a: [] for a in members}
    for r in rows:
        by.setdefault(r["adviser"], []).append(r)
    bad = []
    for a, shifts in by.items():
        c = contracts[members[a]]
        hours = c.get("cycle_weekly_hours", [c.get("weekly_hours")])
        days = c.get("cycle_days_per_week", [c.get("days_per_week")])
        allowed = [WEEKDAY_NAMES.index(n) for n in c.get("weekdays", WEEKDAY_NAMES)]
        lo = _hm(c["earliest_start"]) if "earliest_start" in c else 0
        hi = _hm(c["latest_end"]) if "latest_end" in c else 48 * 60
        for r in shifts:
            day0 = dt.datetime.combine(r["shift_start"].date(), dt.time())
            if r["paid_hours"] not in c["paid_hours"]:
                bad.append((a, "length"))
            if r["shift_start"].weekday() not in allowed:
                bad.append((a, "weekday"))
            if _m(r["shift_start"], day0) < lo or _m(r["shift_end"], day0) > hi:
                bad.append((a, "window"))
        total = 0.0
        for w in range(weeks):
            lo_d, hi_d = start + dt.timedelta(days=7 * w), start + dt.timedelta(days=7 * w + 7)
            mine = [r for r in shifts if lo_d <= r["shift_start"].date() < hi_d]
            i = w % len(hours)
            off = (days_off or {}).get((a, w), 0)
            per_day = hours[i] / days[i]
            if abs(sum(r["paid_hours"] for r in mine) - (hours[i] - off * per_day)) > 1e-6:
                bad.append((a, "hours"))
            if len(mine) != days[i] - off:
                bad.append((a, "days"))
            total += sum(r["paid_hours"] for r in mine) + off * per_day
            if len(hours) > 1 and i == len(hours) - 1 and abs(total - sum(hours)) > 1e-6:
                bad.append((a, "cycle_total"))
            if i == len(hours) - 1:
                total = 0.0
    return bad
