"""Working-time rules (`[rules]` in the model file) and the advisers' contract.

Defaults are the French Code du travail (articles in docs/rosters.md and the model file):
11 h daily rest (L3131-1), a 35 h weekly rest (24 h + 11 h, L3132-2), at most 6 working days
in a row (L3132-1), 10 h of work a day (L3121-18), 48 h in a week (L3121-20), a break of at
least 20 min once work reaches 6 h (L3121-16). Planner options: two days off in a row, at
most N Sundays worked per 4 weeks, a start-time spread within a week, night-work limits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

RULE_KEYS = {
    "daily_rest_hours": "float", "weekly_rest_hours": "float", "max_days_in_a_row": "int",
    "max_daily_hours": "float", "max_weekly_hours": "float", "break_after_hours": "float",
    "min_break_minutes": "int", "two_days_off_in_a_row": "bool",
    "max_sundays_per_4_weeks": "int", "max_start_spread_hours": "float",
    "night_start": "time", "night_end": "time", "max_night_shifts_per_week": "int",
    "max_night_shift_hours": "float",
}


@dataclasses.dataclass(frozen=True)
class WorkingRules:
    """Working-time rules every roster must keep (hours, minutes, counts as named).

    max_start_spread_hours None: no limit. A night shift is one with at least
    NIGHT_SHIFT_MIN_HOURS of work between night_start and night_end (L3122-5: a night worker
    works at least 3 h of night time)."""

    daily_rest_hours: float = 11.0
    weekly_rest_hours: float = 35.0
    max_days_in_a_row: int = 6
    max_daily_hours: float = 10.0
    max_weekly_hours: float = 48.0
    break_after_hours: float = 6.0
    min_break_minutes: int = 20
    two_days_off_in_a_row: bool = True
    max_sundays_per_4_weeks: int = 4
    max_start_spread_hours: float | None = None
    night_start: dt.time = dt.time(21, 0)
    night_end: dt.time = dt.time(6, 0)
    max_night_shifts_per_week: int = 5
    max_night_shift_hours: float = 8.0

    def as_dict(self) -> dict:
        """JSON-ready values (times as HH:MM), as recorded in a run's manifest."""
        out = dataclasses.asdict(self)
        out["night_start"] = self.night_start.strftime("%H:%M")
        out["night_end"] = self.night_end.strftime("%H:%M")
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "WorkingRules":
        """Inverse of as_dict (a manifest's `rosters.rules`)."""
        d = dict(d)
        for k in ("night_start", "night_end"):
            if isinstance(d.get(k), str):
                d[k] = dt.time.fromisoformat(d[k])
        return cls(**{k: v for k, v in d.items() if k in RULE_KEYS})


NIGHT_SHIFT_MIN_HOURS = 3.0


from .contracts import Contract, default_contract  # noqa: E402,F401 (the contract lives there)


def parse_rules(section: dict, need) -> WorkingRules:
    """WorkingRules from the `[rules]` table (types already checked against the schema);
    need(cond, message, field) reports a range error."""
    base = WorkingRules()
    kw = {}
    for key, kind in RULE_KEYS.items():
        if key not in section:
            continue
        v = section[key]
        if kind == "time":
            v = dt.time.fromisoformat(v) if isinstance(v, str) else v
        elif kind == "float":
            v = float(v)
        kw[key] = v
    r = dataclasses.replace(base, **kw)
    field = "rules."
    need(0 <= r.daily_rest_hours < 24, f"{r.daily_rest_hours:g} is out of range: must be in [0, 24)",
         field + "daily_rest_hours")
    need(0 <= r.weekly_rest_hours <= 24 + r.daily_rest_hours,
         f"{r.weekly_rest_hours:g} is out of range: must be in [0, 24 + daily_rest_hours]",
         field + "weekly_rest_hours")
    need(1 <= r.max_days_in_a_row <= 13, f"{r.max_days_in_a_row} is out of range: must be in [1, 13]",
         field + "max_days_in_a_row")
    need(0 < r.max_daily_hours <= 24, f"{r.max_daily_hours:g} is out of range: must be in (0, 24]",
         field + "max_daily_hours")
    need(0 < r.max_weekly_hours <= 168, f"{r.max_weekly_hours:g} is out of range: must be in (0, 168]",
         field + "max_weekly_hours")
    need(r.break_after_hours > 0, "must be > 0", field + "break_after_hours")
    need(r.min_break_minutes >= 0, "must be >= 0", field + "min_break_minutes")
    need(0 <= r.max_sundays_per_4_weeks <= 4,
         f"{r.max_sundays_per_4_weeks} is out of range: must be in [0, 4]",
         field + "max_sundays_per_4_weeks")
    if r.max_start_spread_hours is not None:
        need(0 <= r.max_start_spread_hours < 24, "must be in [0, 24)", field + "max_start_spread_hours")
    need(0 <= r.max_night_shifts_per_week <= 7, "must be in [0, 7]", field + "max_night_shifts_per_week")
    need(r.max_night_shift_hours > 0, "must be > 0", field + "max_night_shift_hours")
    return r


def check_contract(contract: Contract, rules: WorkingRules, need, field: str) -> None:
    """A contract the rules allow: its shift and week within the daily and weekly maxima,
    and at least one day off a week."""
    need(contract.shift_hours <= rules.max_daily_hours,
         f"{contract.shift_hours:g} h shifts exceed rules.max_daily_hours "
         f"({rules.max_daily_hours:g} h, L3121-18)", field)
    need(max(contract.hours) <= rules.max_weekly_hours,
         f"{max(contract.hours):g} h a week exceeds rules.max_weekly_hours "
         f"({rules.max_weekly_hours:g} h, L3121-20)", field)
    need(max(contract.days) <= min(6, rules.max_days_in_a_row),
         f"{max(contract.days)} days a week leaves no weekly rest", field)
