"""Shift patterns within a day's opening hours, and weekly tours built from daily shift counts.

(Moved here from `staffing/shifts.py`, which re-exports these names.)

A pattern is a start time, a paid length and, for shifts longer than the rules' break threshold,
an unpaid break placed on the slot grid within an hour either side of the middle of the shift
(at most `break_after_hours` of work on either side). A pattern covers the slots in which the
adviser is at work; starts are on the slot grid (the rules' step, rounded up to a whole slot).

Shifts crossing midnight: when a day closes at 24:00 and the next date opens at 00:00, a
pattern may start late in the day and end the next morning (22:00-06:00); it belongs to the
date it starts on, and the slots it works after midnight are the next date's (`next_slots`).

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
    next_slots: tuple[int, ...] = ()  # indices into the next date's slots (from its 00:00)


def hhmm(minutes) -> str | None:
    """Minutes after midnight as a wall-clock HH:MM (None stays None: a shift without a break).

    Minutes past 24:00 wrap to the next day's clock (1440 -> "00:00"): a shift's end earlier
    than its start ends the next day."""
    if minutes is None or minutes != minutes:  # None or NaN
        return None
    m = int(minutes) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def day_patterns(open_min: int, close_min: int, slot_minutes: int, rules,
                 next_close: int | None = None) -> list[Pattern]:
    """Every allowed shift pattern inside [open_min, close_min) on a slot grid from open_min.

    next_close: when the day closes at 24:00 (close_min 1440) and the next date opens at 00:00,
    that date's closing minute; shifts then also start late in the day and run on to at most
    next_close the next date (minutes past 1440 in `end_min` and `break_start_min`)."""
    step = max(slot_minutes, math.ceil(rules.start_step_minutes / slot_minutes) * slot_minutes)
    cross = next_close if close_min == 1440 and next_close else 0
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
        last = min(close_min + cross - span, close_min - slot_minutes)
        for start in range(open_min, last + 1, step):
            for off in offsets:
                out.append(_pattern(start, span, off, brk, float(paid), open_min, slot_minutes))
    return out


def _pattern(start: int, span: int, off, brk: int, paid: float, open_min: int,
             slot_minutes: int) -> Pattern:
    """The pattern starting at `start` (minutes), break `off` minutes in (None: no break);
    the slots at work before midnight index the day's grid from open_min, after it the next
    date's grid from 00:00."""
    covered, after = [], []
    for s in range(start, start + span, slot_minutes):
        if off is not None and start + off <= s < start + off + brk:
            continue
        if s < 1440:
            covered.append((s - open_min) // slot_minutes)
        else:
            after.append((s - 1440) // slot_minutes)
    b = None if off is None else start + off
    pid = f"{hhmm(start)}-{hhmm(start + span)}" + (f" b{hhmm(b)}" if b is not None else "")
    return Pattern(pid, start, start + span, b, brk, paid, tuple(covered), tuple(after))


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
    midnight, merged; e.g. a Saturday open 09:00-13:00 cannot hold a 7-hour shift. A weekday
    opening at 00:00 after one closing at 24:00 is also covered by the shifts crossing
    midnight from the day before."""
    out = []
    for d in range(7):
        hours = scenario.opening_minutes(d)
        if hours is not None:
            out += [(d, a, b) for a, b in _gaps(hours, scenario, d,
                                                scenario.opening_minutes((d - 1) % 7),
                                                scenario.opening_minutes((d + 1) % 7))]
    return out


def uncovered_exception_periods(scenario) -> list[tuple[int, object, int, int]]:
    """The same for the `[[calendar.exceptions]]` with other hours: (entry number from 1,
    the entry, start, end), with the dates around the entry's first date as they open."""
    import datetime as dt

    cal = getattr(scenario, "calendar", None)
    out = []
    for i, ex in enumerate(cal.exceptions if cal is not None else ()):
        if ex.hours is not None:
            out += [(i + 1, ex, a, b) for a, b in _gaps(
                ex.hours, scenario, ex.first.weekday() if ex.first == ex.last else None,
                scenario.opening_on(ex.first - dt.timedelta(days=1)),
                scenario.opening_on(ex.first + dt.timedelta(days=1)))]
    return out


def uncovered_plateau_periods(scenario) -> list[tuple[str, int, int, int]]:
    """For plateaux with their own hours (`[opening.plateaux]`): (plateau, weekday, start,
    end) minutes of those hours that no shift of an in-house team serving the plateau can
    cover. A team's shifts span its plateaux' hours and a shift on the plateau starts while
    it is open (as in the allocation model), the day before's crossing midnight included."""
    prov = scenario.providers
    teams = [tuple(t) for t in prov.loc[prov["kind"] == "inhouse", "plateaux"]]
    step = scenario.slot_minutes
    out = []
    for p in scenario.plateau_opening:
        for d in range(7):
            own = scenario.opening_minutes(d, p)
            if own is None or not any(p in t for t in teams):
                continue
            covered = set()
            for t in (t for t in teams if p in t):
                covered |= _team_minutes(scenario, t, p, d, 0)
                covered |= _team_minutes(scenario, t, p, (d - 1) % 7, 1440)
            gap = [m for m in range(own[0], own[1], step) if m not in covered]
            for m in gap:  # merge consecutive slots
                if out and out[-1][:2] == (p, d) and out[-1][3] == m:
                    out[-1] = (p, d, out[-1][2], m + step)
                else:
                    out.append((p, d, m, m + step))
    return out


def _team_minutes(scenario, team: tuple, p: str, d: int, shift: int) -> set:
    """Minutes (of the day after when `shift` is 1440) at which a shift of `team` on plateau p
    starting on weekday d is at work."""
    spans = [h for q in team if (h := scenario.opening_minutes(d, q)) is not None]
    own = scenario.opening_minutes(d, p)
    if not spans or own is None:
        return set()
    hours = (min(a for a, _ in spans), max(b for _, b in spans))
    after = [h for q in team if (h := scenario.opening_minutes((d + 1) % 7, q)) is not None]
    nxt = next_close(hours, (min(a for a, _ in after), max(b for _, b in after)) if after else None)
    step = scenario.slot_minutes
    out = set()
    for pat in day_patterns(hours[0], hours[1], step, scenario.shifts, nxt):
        if own[0] <= pat.start_min < own[1]:
            if shift:
                out.update(si * step for si in pat.next_slots)
            else:
                out.update(hours[0] + si * step for si in pat.slots)
    return out


def next_close(hours, after) -> int | None:
    """The closing minute of the next date when shifts may cross midnight into it: the day
    `hours` closes at 24:00 and the next date (`after`, its hours or None) opens at 00:00."""
    if hours is None or after is None or hours[1] != 1440 or after[0] != 0:
        return None
    return after[1]


def _gaps(hours: tuple[int, int], scenario, weekday: int | None = None, before=None,
          after=None) -> list[tuple[int, int]]:
    """(start, end) minutes of a day open `hours` (on `weekday`, None: any) that no allowed
    shift pattern of any contract the teams use (its lengths, weekdays and window) covers,
    with the day before open `before` and the day after `after` (for shifts crossing
    midnight)."""
    import dataclasses

    from .contracts import groups

    step = scenario.slot_minutes
    n = (hours[1] - hours[0]) // step
    covered = set()
    used = {g.contract.id: g.contract for g in groups(scenario)}.values()
    for c in used:
        rules = dataclasses.replace(scenario.shifts, paid_hours=tuple(c.paid_hours))
        if weekday is None or weekday in c.weekdays:
            for p in day_patterns(hours[0], hours[1], step, rules, next_close(hours, after)):
                if c.in_window(p.start_min, p.end_min):
                    covered.update(p.slots)
        if before is not None and next_close(before, hours) is not None and (
                weekday is None or (weekday - 1) % 7 in c.weekdays):
            for p in day_patterns(before[0], before[1], step, rules, hours[1]):
                if c.in_window(p.start_min, p.end_min):
                    covered.update(p.next_slots)  # the day opens at 00:00: indices match
    out, gap = [], None
    for i in range(n + 1):
        if i < n and i not in covered:
            gap = i if gap is None else gap
        elif gap is not None:
            out.append((hours[0] + gap * step, hours[0] + i * step))
            gap = None
    return out
