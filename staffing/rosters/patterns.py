"""Shift patterns within a day's opening hours, and weekly tours built from daily shift counts.

(Moved here from `staffing/shifts.py`, which re-exports these names.)

A pattern is a start time, a paid length and, for shifts longer than the rules' break threshold,
an unpaid break placed on the slot grid within an hour either side of the middle of the shift
(at most `break_after_hours` of work on either side). A pattern covers the slots in which the
adviser is at work; starts are on the slot grid (the rules' step, rounded up to a whole slot).

Tours: a team's daily counts decompose into weekly lines of at most `days_per_week` working days
per adviser whenever each day needs no more than the headcount and the days add up to
days_per_week x headcount; `build_tours` does it greedily (the days go to the advisers with the
most days still to work, which always succeeds under those two conditions) and groups identical
lines into anonymous roster lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Pattern:
    """One shift pattern of a day: minutes after midnight, covered slot indices of the day."""

    id: str
    start_min: int
    end_min: int
    break_start_min: int | None
    break_minutes: int
    paid_hours: float
    slots: tuple[int, ...]  # indices into the day's open slots


def hhmm(minutes) -> str | None:
    """Minutes after midnight as a wall-clock HH:MM (None stays None: a shift without a break).

    Minutes past 24:00 wrap to the next day's clock (1440 -> "00:00"): a shift's end earlier
    than its start ends the next day."""
    if minutes is None or minutes != minutes:  # None or NaN
        return None
    m = int(minutes) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def day_patterns(open_min: int, close_min: int, slot_minutes: int, rules) -> list[Pattern]:
    """Every allowed shift pattern inside [open_min, close_min) on a slot grid from open_min."""
    step = max(slot_minutes, math.ceil(rules.start_step_minutes / slot_minutes) * slot_minutes)
    n_slots = (close_min - open_min) // slot_minutes
    out: list[Pattern] = []
    for paid in rules.paid_hours:
        work = int(round(paid * 60))
        has_break = paid > rules.break_after_hours and rules.unpaid_break_minutes > 0
        brk = int(rules.unpaid_break_minutes) if has_break else 0
        span = work + brk
        if work % slot_minutes or brk % slot_minutes:
            continue  # not on the slot grid: such a length cannot be represented
        if has_break:
            limit = int(round(rules.break_after_hours * 60))
            mid = work / 2
            offsets = [o for o in range(0, work + 1, slot_minutes)
                       if abs(o - mid) <= 60 and o <= limit and work - o <= limit and 0 < o < work]
        else:
            offsets = [None]
        for start in range(open_min, close_min - span + 1, step):
            for off in offsets:
                covered = []
                for i in range(n_slots):
                    s = open_min + i * slot_minutes
                    if s < start or s + slot_minutes > start + span:
                        continue
                    if off is not None and start + off <= s < start + off + brk:
                        continue
                    covered.append(i)
                b = None if off is None else start + off
                pid = f"{hhmm(start)}-{hhmm(start + span)}" + (f" b{hhmm(b)}" if b is not None else "")
                out.append(Pattern(pid, start, start + span, b, brk, float(paid), tuple(covered)))
    return out


def build_tours(daily: pd.DataFrame, headcount: int, days_per_week: int) -> pd.DataFrame:
    """Anonymous weekly roster lines for one team and week.

    daily: rows (day 0..6, plateau, shift, paid_hours, advisers) with integer advisers.
    Returns rows (tour, advisers, mon..sun, plateau, paid_hours): each day cell reads
    "<shift> <plateau>" or "off". Raises ValueError when the counts cannot be decomposed.
    """
    counts = daily.groupby("day")["advisers"].sum().reindex(range(7), fill_value=0).astype(int)
    total = int(counts.sum())
    if counts.max() > headcount:
        raise ValueError(f"{int(counts.max())} advisers needed on one day, headcount {headcount}")
    if total > days_per_week * headcount:
        raise ValueError(f"{total} shifts exceed {days_per_week} days x {headcount} advisers")
    remaining = np.full(headcount, days_per_week, dtype=int)
    # shifts still owed beyond the working days are spread so nobody is asked for more than
    # days_per_week days: give each day's shifts to the advisers with most days left
    slack = days_per_week * headcount - total
    if slack:  # advisers working fewer days: take the slack off the tail evenly
        for j in range(slack):
            remaining[headcount - 1 - (j % headcount)] -= 1
    cells = np.full((headcount, 7), "off", dtype=object)
    hours = np.zeros(headcount)
    target = np.full(headcount, daily["paid_hours"].to_numpy(float) @ daily["advisers"].to_numpy(
        float) / headcount if headcount else 0.0)
    plateaux = [set() for _ in range(headcount)]
    for day in np.argsort(-counts.to_numpy(), kind="stable"):
        need = int(counts[day])
        if need == 0:
            continue
        # most days left first; among equals, most hours still to work
        order = np.lexsort((np.arange(headcount), hours - target, -remaining))
        chosen = order[:need]
        if (remaining[chosen] <= 0).any():
            raise ValueError("daily counts cannot be decomposed into weekly tours")
        remaining[chosen] -= 1
        rows = daily[(daily["day"] == day) & (daily["advisers"] > 0)].sort_values(["shift", "plateau"])
        k = rows["advisers"].to_numpy(dtype=int)
        labels = np.repeat((rows["shift"] + " " + rows["plateau"]).to_numpy(), k)
        paid = np.repeat(rows["paid_hours"].to_numpy(float), k)
        plats = np.repeat(rows["plateau"].to_numpy(), k)
        # with several shift lengths the longest shifts go to those furthest from their hours
        longest = np.argsort(-paid, kind="stable")
        chosen = chosen[np.argsort(hours[chosen] - target[chosen], kind="stable")]
        cells[chosen, day] = labels[longest]
        hours[chosen] += paid[longest]
        for i, p in zip(chosen, plats[longest]):
            plateaux[i].add(p)
    frame = pd.DataFrame(cells, columns=list(WEEKDAYS))
    frame["plateau"] = [";".join(sorted(s)) if s else "" for s in plateaux]
    frame["paid_hours"] = hours
    lines = (frame.groupby(list(WEEKDAYS) + ["plateau", "paid_hours"], sort=True)
             .size().rename("advisers").reset_index())
    lines = lines.sort_values(["advisers"] + list(WEEKDAYS), ascending=[False] + [True] * 7,
                              kind="stable").reset_index(drop=True)
    lines.insert(0, "tour", [f"T{i + 1:04d}" for i in range(len(lines))])
    return lines[["tour", "advisers"] + list(WEEKDAYS) + ["plateau", "paid_hours"]]


def uncovered_periods(scenario) -> list[tuple[int, int, int]]:
    """Open periods no allowed shift can cover: (weekday 0..6, start, end) in minutes after
    midnight, merged; e.g. a Saturday open 09:00-13:00 cannot hold a 7-hour shift."""
    out = []
    for d in range(7):
        hours = scenario.opening_minutes(d)
        if hours is not None:
            out += [(d, a, b) for a, b in _gaps(hours, scenario, d)]
    return out


def uncovered_exception_periods(scenario) -> list[tuple[int, object, int, int]]:
    """The same for the `[[calendar.exceptions]]` with other hours: (entry number from 1,
    the entry, start, end)."""
    cal = getattr(scenario, "calendar", None)
    out = []
    for i, ex in enumerate(cal.exceptions if cal is not None else ()):
        if ex.hours is not None:
            out += [(i + 1, ex, a, b) for a, b in _gaps(ex.hours, scenario, ex.first.weekday()
                                                        if ex.first == ex.last else None)]
    return out


def _gaps(hours: tuple[int, int], scenario, weekday: int | None = None) -> list[tuple[int, int]]:
    """(start, end) minutes of a day open `hours` that no allowed shift pattern of any
    contract the teams use (its lengths, weekdays and window) covers."""
    import dataclasses

    from .contracts import groups

    step = scenario.slot_minutes
    n = (hours[1] - hours[0]) // step
    covered = set()
    used = {g.contract.id: g.contract for g in groups(scenario)}.values()
    for c in used:
        if weekday is not None and weekday not in c.weekdays:
            continue
        rules = dataclasses.replace(scenario.shifts, paid_hours=tuple(c.paid_hours))
        for p in day_patterns(hours[0], hours[1], step, rules):
            if c.in_window(p.start_min, p.end_min):
                covered.update(p.slots)
    out, gap = [], None
    for i in range(n + 1):
        if i < n and i not in covered:
            gap = i if gap is None else gap
        elif gap is not None:
            out.append((hours[0] + gap * step, hours[0] + i * step))
            gap = None
    return out
