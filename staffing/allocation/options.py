"""What `staffing optimise` may change for one run, and the run's deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

from ..errors import InputError

SECONDS_PER_WEEK = 120.0  # the command line's default time limit, per week of the horizon


@dataclasses.dataclass(frozen=True)
class Options:
    """Options of one optimiser run; `resolved` fills the scenario's defaults in.

    time_limit: seconds for the whole solve, every phase and week included (None: no limit).
    time_limit_per_week: when set, `resolved` makes time_limit this many seconds per week of
    the horizon (the command line's default: 120 s a week, so a year of rostered weeks, whose
    re-plans run one week after the other, is not cut at a one-week budget).
    node_limit: HiGHS branch-and-bound nodes per integer solve (a deterministic work limit:
    identical inputs give identical plans when it, not the clock, stops a search).
    gap: relative gap to the LP bound at which an integer plan is accepted.
    """

    regime: str | None = None
    start: dt.date | None = None
    weeks: int | None = None
    sl_scope: str | None = None
    queueing: str | None = None
    headcount: str = "fixed"  # or "optimise"
    offshore_cap: float | None = None
    relax: bool = False
    solver: str = "highs"
    time_limit: float | None = 60.0
    gap: float = 0.005
    workers: int | None = None
    node_limit: int | None = None
    rosters: bool = False  # rosters per adviser, weeks re-solved with them (staffing.rosters)
    time_limit_per_week: float | None = None

    def resolved(self, scenario) -> "Options":
        """Fill scenario defaults in and check values (InputError naming the option)."""
        scope = self.sl_scope or scenario.sl_scope
        model = self.queueing or scenario.queueing
        cap = scenario.offshore_cap if self.offshore_cap is None else float(self.offshore_cap)
        _one_of(scope, ("slot", "day"), "--sl-scope")
        _one_of(model, ("erlang_c", "erlang_a"), "--queueing")
        _one_of(self.headcount, ("fixed", "optimise"), "--headcount")
        _one_of(self.solver, ("highs", "cbc"), "--solver")
        if not 0.0 <= cap <= 1.0:
            raise InputError(f"must be in [0, 1], got {cap}", field="--offshore-cap")
        if self.gap < 0:
            raise InputError(f"must be >= 0, got {self.gap}", field="--gap")
        if self.time_limit is not None and self.time_limit <= 0:
            raise InputError(f"must be > 0, got {self.time_limit}", field="--time-limit")
        if self.node_limit is not None and self.node_limit < 1:
            raise InputError(f"must be >= 1, got {self.node_limit}", field="--node-limit")
        if self.time_limit_per_week is not None and self.time_limit_per_week <= 0:
            raise InputError(f"must be > 0, got {self.time_limit_per_week}", field="--time-limit")
        regime = self.regime or scenario.active_regime
        if regime not in scenario.regimes.index:
            raise InputError(f"unknown regime {regime!r} (have {', '.join(scenario.regimes.index)})",
                             field="--regime")
        weeks = self.weeks or scenario.weeks
        limit = (self.time_limit if self.time_limit_per_week is None
                 else self.time_limit_per_week * weeks)
        return dataclasses.replace(self, regime=regime, start=self.start or scenario.start,
                                   weeks=weeks, sl_scope=scope, queueing=model,
                                   offshore_cap=cap, time_limit=limit, time_limit_per_week=None)


def _one_of(value, allowed: tuple, field: str) -> None:
    if value not in allowed:
        raise InputError(f"must be {' or '.join(allowed)}, got {value!r}", field=field)


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The wall-clock end of a run's solve (epoch seconds, shared by the week processes)."""

    end: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> "Deadline":
        return cls(None if seconds is None else time.time() + float(seconds))

    def left(self, floor: float = 0.05) -> float | None:
        """Seconds left (at least `floor`, so a solver still returns its best plan), or None."""
        return None if self.end is None else max(self.end - time.time(), floor)

    def passed(self) -> bool:
        return self.end is not None and time.time() >= self.end
