"""Shift patterns moved to `staffing.rosters.patterns`; this name stays for existing imports."""

from .rosters.patterns import WEEKDAYS, Pattern, build_tours, day_patterns, hhmm  # noqa: F401
