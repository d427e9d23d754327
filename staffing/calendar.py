"""The opening calendar: public holidays closed or open, and date-specific exceptions.

`[calendar]` in the model file (docs/scenario.md): `holidays = "open"` (the default: a public
holiday is open at its weekday's hours, its volume weighted by `demand.holiday_weight`) or
`"closed"`; `[[calendar.exceptions]]` give a date or a date range (`from`, `until` inclusive)
either other hours (`open`, `close`) or `closed = true`. An exception wins over the holiday
rule. A closed day has no calls (its day weight is 0, so a calendar year still adds up to the
annual volume) and no shifts; each closed day that its weekday would have opened is a day off
paid to the in-house advisers: their week's contract drops by one day (`paid_days_off`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools


@dataclasses.dataclass(frozen=True)
class OpeningException:
    """One `[[calendar.exceptions]]` entry: dates first..last inclusive, hours (open, close)
    in minutes after midnight, or None when closed."""

    first: dt.date
    last: dt.date
    hours: tuple[int, int] | None


@dataclasses.dataclass(frozen=True)
class Calendar:
    """holidays: "open" or "closed"; country: the `holidays` package code ("" = none);
    exceptions: in file order (a later one wins where they overlap)."""

    holidays: str = "open"
    country: str = ""
    exceptions: tuple = ()

    def is_holiday(self, date: dt.date) -> bool:
        return bool(self.country) and date in _holiday_dates(self.country, date.year)

    def hours_on(self, date: dt.date, weekly: tuple[int, int] | None) -> tuple[int, int] | None:
        """(open, close) minutes of `date`, or None when closed; `weekly`: its weekday's."""
        for ex in reversed(self.exceptions):
            if ex.first <= date <= ex.last:
                return ex.hours
        if self.holidays == "closed" and self.is_holiday(date):
            return None
        return weekly


@functools.lru_cache(maxsize=64)
def _holiday_dates(country: str, year: int) -> frozenset:
    import holidays as holidays_lib

    return frozenset(holidays_lib.country_holidays(country, years=[year]).keys())


def paid_days_off(scenario, dates) -> int:
    """Days among `dates` (one planning week) closed by the calendar though their weekday is
    open: the in-house contract's days off paid, not worked (at most its days a week)."""
    n = sum(1 for d in dates if scenario.opening_minutes(d.weekday()) is not None
            and scenario.opening_on(d) is None)
    return min(n, scenario.shifts.days_per_week)


def week_dates(start: dt.date, week: int) -> list[dt.date]:
    """The 7 dates of planning week `week` (0-based) of a horizon starting `start`."""
    first = start + dt.timedelta(days=7 * week)
    return [first + dt.timedelta(days=i) for i in range(7)]


def week_contract(scenario, start: dt.date, week: int) -> tuple[float, int]:
    """(hours worked, days worked) the in-house contract asks in planning week `week`: the
    weekly hours and days a week less one day's paid hours (weekly_hours / days_per_week)
    per paid day off."""
    rules = scenario.shifts
    off = paid_days_off(scenario, week_dates(start, week))
    return (rules.weekly_hours - off * rules.weekly_hours / rules.days_per_week,
            rules.days_per_week - off)


def parse(section: dict, country: str, need, slot: int | None = None) -> Calendar:
    """`[calendar]` checked: need(cond, message, field) records one-line errors; slot: the
    slot length in minutes the exception hours must fall on."""
    holidays = section.get("holidays", "open")
    need(holidays in ("open", "closed"), f"'{holidays}' is not one of open, closed",
         "calendar.holidays")
    if holidays == "closed":
        need(bool(country), "closed holidays need demand.holidays (a country code)",
             "calendar.holidays")
    out = []
    for i, ex in enumerate(section.get("exceptions", [])):
        e = _exception(ex, f"calendar.exceptions[{i + 1}]", need, slot)
        if e is not None:
            out.append(e)
    return Calendar(holidays if holidays in ("open", "closed") else "open", country, tuple(out))


def _exception(ex: dict, field: str, need, slot: int | None) -> OpeningException | None:
    from .scenario import _minutes as minutes, _parse_date, _parse_time as parse_time

    first = _parse_date(ex.get("from"))
    if not need(first is not None, "needs 'from' (a date YYYY-MM-DD)", field + ".from"):
        return None
    last = _parse_date(ex.get("until", first))
    if last is None:
        return None  # the schema check reports it
    if not need(last >= first, f"until {last} is before from {first}", field + ".until"):
        return None
    closed = bool(ex.get("closed", False))
    has_hours = "open" in ex or "close" in ex
    if closed:
        need(not has_hours, "closed = true takes no open/close hours", field + ".closed")
        return OpeningException(first, last, None)
    if not need("open" in ex and "close" in ex, "needs open and close, or closed = true", field):
        return None
    t_open, t_close = parse_time(ex["open"]), parse_time(ex["close"])
    if not need(t_open is not None, f"cannot read '{ex['open']}' as a time", field + ".open") or \
            not need(t_close is not None, f"cannot read '{ex['close']}' as a time",
                     field + ".close"):
        return None
    m_open, m_close = minutes(t_open), minutes(t_close)
    if not need(m_open < m_close, f"opens at {ex['open']} but closes at {ex['close']} (hours past midnight: close at "
                                        '"24:00" and open the next date at "00:00"; shifts then '
                                        "cross midnight)",
                field + ".close"):
        return None
    if slot in (15, 30, 60) and not need(m_open % slot == 0 and m_close % slot == 0,
                                         f"{ex['open']}-{ex['close']} is not on the {slot}-minute "
                                         "slot grid", field + ".open"):
        return None
    return OpeningException(first, last, (m_open, m_close))
