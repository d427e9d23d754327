"""Shift patterns of a day and weekly tours built from daily shift counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing.scenario import ShiftRules
from staffing.shifts import WEEKDAYS, build_tours, day_patterns

OPEN, CLOSE = 8 * 60, 22 * 60  # the default's 08:00-22:00


def test_default_rules_give_65_patterns_of_seven_paid_hours():
    # 8 h spans (7 h paid + 1 h unpaid break) starting 08:00..14:00 on the half hour (13 starts),
    # the break at 2:30..4:30 after the start (5 places, within an hour of the middle)
    pats = day_patterns(OPEN, CLOSE, 30, ShiftRules())
    assert len(pats) == 13 * 5 and len({p.id for p in pats}) == len(pats)
    starts = sorted({p.start_min for p in pats})
    assert starts == list(range(OPEN, 14 * 60 + 1, 30))
    for p in pats:
        assert p.end_min - p.start_min == 8 * 60 and p.paid_hours == 7.0 and p.break_minutes == 60
        assert len(p.slots) == 14  # 7 h on the phone
        assert 150 <= p.break_start_min - p.start_min <= 270
        on = [OPEN + 30 * i for i in p.slots]
        assert min(on) == p.start_min and max(on) + 30 == p.end_min
        assert not any(p.break_start_min <= m < p.break_start_min + 60 for m in on)
        assert p.id.startswith(f"{p.start_min // 60:02d}:{p.start_min % 60:02d}-")


def test_break_leaves_at_most_break_after_hours_of_work_on_either_side():
    rules = ShiftRules(paid_hours=(9.0,), break_after_hours=5.0, unpaid_break_minutes=30)
    pats = day_patterns(OPEN, CLOSE, 30, rules)
    offsets = sorted({p.break_start_min - p.start_min for p in pats})
    assert offsets == [240, 270, 300]  # 4:00-5:00 of work before, 5:00-4:00 after
    assert all(len(p.slots) == 18 for p in pats)


def test_short_shifts_have_no_break():
    rules = ShiftRules(paid_hours=(2.0,), weekly_hours=2.0, days_per_week=1)
    (only,) = day_patterns(OPEN, OPEN + 120, 30, rules)
    assert only.break_start_min is None and only.slots == (0, 1, 2, 3) and only.id == "08:00-10:00"
    four = day_patterns(OPEN, CLOSE, 30, ShiftRules(paid_hours=(4.0,)))
    assert [p.start_min for p in four] == list(range(OPEN, CLOSE - 240 + 1, 30))


def test_start_step_rounds_up_to_whole_slots():
    hourly = day_patterns(OPEN, CLOSE, 30, ShiftRules(start_step_minutes=45))
    assert sorted({p.start_min for p in hourly}) == list(range(OPEN, 14 * 60 + 1, 60))
    quarter = day_patterns(OPEN, CLOSE, 15, ShiftRules(start_step_minutes=15))
    assert len({p.start_min for p in quarter}) == 4 * 6 + 1


def test_lengths_off_the_slot_grid_and_too_long_for_the_day_are_left_out():
    pats = day_patterns(OPEN, CLOSE, 30, ShiftRules(paid_hours=(7.25, 7.0)))
    assert {p.paid_hours for p in pats} == {7.0}
    assert day_patterns(OPEN, OPEN + 7 * 60, 30, ShiftRules()) == []  # 8 h span in a 7 h day


def test_several_lengths():
    rules = ShiftRules(paid_hours=(4.0, 7.0))
    pats = day_patterns(OPEN, CLOSE, 30, rules)
    assert len([p for p in pats if p.paid_hours == 4.0]) == 21  # 08:00..18:00
    assert len([p for p in pats if p.paid_hours == 7.0]) == 65


# ----------------------------------------------------------------------------- tours

def _daily(counts: dict, paid=7.0, plateau="p") -> pd.DataFrame:
    """counts: {(day, shift): advisers}."""
    rows = [(d, plateau, s, paid, n) for (d, s), n in counts.items()]
    return pd.DataFrame(rows, columns=["day", "plateau", "shift", "paid_hours", "advisers"])


def check_tours(lines: pd.DataFrame, daily: pd.DataFrame, headcount: int, days_per_week: int):
    """Lines decompose the daily counts exactly, nobody over days_per_week days."""
    days = list(WEEKDAYS)
    assert lines["advisers"].sum() == headcount
    working = (lines[days] != "off").sum(axis=1)
    assert (working <= days_per_week).all()
    assert (lines["advisers"] * working).sum() == daily["advisers"].sum()
    for d in range(7):
        want = daily[(daily["day"] == d) & (daily["advisers"] > 0)]
        want = want.groupby(want["shift"] + " " + want["plateau"])["advisers"].sum()
        got = lines[lines[days[d]] != "off"].groupby(days[d])["advisers"].sum()
        assert got.sort_index().to_dict() == want.sort_index().to_dict()
    hours = (daily["paid_hours"] * daily["advisers"]).sum()
    assert (lines["paid_hours"] * lines["advisers"]).sum() == pytest.approx(hours)
    assert lines["tour"].tolist() == [f"T{i + 1:04d}" for i in range(len(lines))]


def test_tours_of_a_classic_five_day_week():
    # 4 advisers, 5 days each, 20 shifts over 7 days (two on weekend days)
    counts = {(0, "A"): 4, (1, "A"): 3, (2, "B"): 3, (3, "A"): 2, (3, "B"): 1, (4, "A"): 3,
              (5, "B"): 2, (6, "A"): 2}
    daily = _daily(counts)
    lines = build_tours(daily, 4, 5)
    check_tours(lines, daily, 4, 5)
    assert (lines["paid_hours"] == 35.0).all()
    assert (lines["mon"] == "A p").all()  # everybody works Monday


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_tours_decompose_any_feasible_counts(data):
    headcount = data.draw(st.integers(1, 12), label="headcount")
    dpw = data.draw(st.integers(1, 7), label="days_per_week")
    total = data.draw(st.integers(0, dpw * headcount), label="total")
    # spread `total` over 7 days, none above headcount
    counts = np.zeros(7, dtype=int)
    for _ in range(total):
        open_days = np.flatnonzero(counts < headcount)
        counts[data.draw(st.sampled_from(open_days.tolist()))] += 1
    rows = {}
    for d in range(7):
        split = data.draw(st.integers(0, int(counts[d])))
        if split:
            rows[(d, "08:00-16:00")] = split
        if counts[d] - split:
            rows[(d, "14:00-22:00")] = int(counts[d] - split)
    daily = _daily(rows) if rows else _daily({(0, "08:00-16:00"): 0})
    lines = build_tours(daily, headcount, dpw)
    check_tours(lines, daily, headcount, dpw)
    if total == dpw * headcount:
        assert (lines["paid_hours"] == 7.0 * dpw).all()


def test_several_plateaux_in_one_line_are_listed():
    daily = pd.concat([_daily({(0, "A"): 1}, plateau="x"), _daily({(1, "A"): 1}, plateau="y")])
    lines = build_tours(daily, 1, 2)
    assert lines["plateau"].tolist() == ["x;y"] and lines.iloc[0]["mon"] == "A x"
    assert lines.iloc[0]["tue"] == "A y" and lines.iloc[0]["paid_hours"] == 14.0


def test_tours_refuse_counts_that_cannot_be_decomposed():
    with pytest.raises(ValueError, match="3 advisers needed on one day, headcount 2"):
        build_tours(_daily({(0, "A"): 3}), 2, 5)
    with pytest.raises(ValueError, match="11 shifts exceed 5 days x 2 advisers"):
        build_tours(_daily({(d, "A"): 2 for d in range(5)} | {(5, "A"): 1}), 2, 5)
