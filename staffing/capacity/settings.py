"""The capacity plan's settings: `[capacity]` of the model file merged with the providers table.

Every in-house provider becomes a `Team` (`[capacity.inhouse]` defaults, `[capacity.teams.ID]`
overrides), every subcontractor a `Contract` (`[capacity.contracts]` defaults,
`[capacity.providers.ID]` overrides), every offshore provider an `Offshore` site. A bad value is
an InputError naming the model file and the dotted key. docs/scenario.md lists the keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from ..errors import InputError

TEAM_DEFAULTS = {"attrition_per_year": 0.0, "training_weeks": 1, "training_cost_eur_per_hire": 0.0,
                 "hiring_cost_eur_per_hire": 0.0, "class_min": 1, "class_max": 1000,
                 "max_classes_per_week": 1, "ramp_up": [], "headcount_min": 0,
                 "headcount_max": None}
MAX_WEEKS = 156


@dataclasses.dataclass(frozen=True)
class Team:
    """An in-house team: headcount at the start, pay, hiring classes, training, attrition."""

    id: str
    plateaux: tuple[str, ...]
    headcount: int  # trained advisers on the first day
    cost_eur_per_hour: float  # loaded cost per paid hour (trainees are paid too)
    answer_per_hour: float  # answering hours per paid hour at work: (1 - shrinkage) / aht_factor
    attrition_per_year: float
    training_weeks: int
    training_cost_eur_per_hire: float
    hiring_cost_eur_per_hire: float
    class_min: int
    class_max: int
    max_classes_per_week: int
    ramp_up: tuple[float, ...]  # productivity in the 1st, 2nd ... week after training
    headcount_min: int
    headcount_max: int | None

    @property
    def weekly_attrition(self) -> float:
        """Share leaving each week: 1 - (1 - yearly rate)^(1/52)."""
        return 1.0 - (1.0 - self.attrition_per_year) ** (1.0 / 52.0)


@dataclasses.dataclass(frozen=True)
class Contract:
    """A subcontractor's contracted weekly hours, set per calendar month (take-or-pay)."""

    id: str
    plateaux: tuple[str, ...]
    cost_eur_per_hour: float
    answer_per_hour: float
    initial_weekly_hours: float
    min_weekly_hours: float
    max_weekly_hours: float
    notice_weeks: int
    step_hours: float  # largest change from one month to the next (inf = any)


@dataclasses.dataclass(frozen=True)
class Offshore:
    """An offshore site: hours bought week by week, within the policy's offshore cap."""

    id: str
    plateaux: tuple[str, ...]
    cost_eur_per_hour: float
    answer_per_hour: float
    min_weekly_hours: float
    max_weekly_hours: float


@dataclasses.dataclass(frozen=True)
class Settings:
    start: dt.date
    weeks: int
    representative_week: dt.date
    gap: float
    time_limit_s: float
    weekly_hours: float
    offshore_cap: float
    penalty_eur_per_hour: float  # per answering agent-hour short
    teams: tuple[Team, ...]
    contracts: tuple[Contract, ...]
    offshore: tuple[Offshore, ...]
    freezes: tuple[tuple[dt.date, dt.date, tuple[str, ...]], ...]  # (from, until, teams; () = all)
    transfers: bool
    transfer_cost_eur: float
    transfers_per_week: int

    @property
    def week_starts(self) -> list[dt.date]:
        return [self.start + dt.timedelta(weeks=w) for w in range(self.weeks)]

    def frozen(self, team: str, week_start: dt.date) -> bool:
        """Whether the team may not start a class in the week starting week_start."""
        return any(lo <= week_start <= hi and (not teams or team in teams)
                   for lo, hi, teams in self.freezes)


def _err(scenario, message, field):
    """An InputError naming the model file and key, or only the option (`--start`) it came from."""
    if str(field).startswith("--"):
        return InputError(message, field=field)
    return InputError(message, file=str(scenario.path), field=field)


def _check(scenario, value, field, *, low=None, high=None, low_open=False, integer=False):
    if value is None:
        return value
    bad = (low is not None and (value < low or (low_open and value == low))) or \
        (high is not None and value > high) or (isinstance(value, float) and math.isnan(value))
    if bad:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else f"<= {high:g}"
        raise _err(scenario, f"{value:g} is out of range: must be {' and '.join(x for x in (lo, hi) if x)}",
                   field)
    return int(value) if integer else value


def _team(scenario, k, row, cfg) -> Team:
    base, own = cfg.get("inhouse", {}), cfg.get("teams", {}).get(k, {})
    v = {**TEAM_DEFAULTS, **base, **own}

    def key(name):
        return f"capacity.teams.{k}.{name}" if name in own else f"capacity.inhouse.{name}"

    _check(scenario, v["attrition_per_year"], key("attrition_per_year"), low=0, high=0.99)
    _check(scenario, v["training_weeks"], key("training_weeks"), low=1, high=MAX_WEEKS)
    _check(scenario, v["headcount_min"], key("headcount_min"), low=0)
    for name in ("training_cost_eur_per_hire", "hiring_cost_eur_per_hire"):
        _check(scenario, v[name], key(name), low=0)
    _check(scenario, v["class_min"], key("class_min"), low=1)
    _check(scenario, v["class_max"], key("class_max"), low=1)
    _check(scenario, v["max_classes_per_week"], key("max_classes_per_week"), low=0)
    if v["class_min"] > v["class_max"]:
        raise _err(scenario, f"class_min {v['class_min']} is above class_max {v['class_max']}",
                   key("class_min"))
    for r in v["ramp_up"]:
        _check(scenario, float(r), key("ramp_up"), low=0, high=1)
    hc = int(row["headcount"]) if pd.notna(row["headcount"]) else 0
    if v["headcount_max"] is not None:
        _check(scenario, v["headcount_max"], key("headcount_max"), low=v["headcount_min"])
    return Team(id=k, plateaux=tuple(row["plateaux"]), headcount=hc,
                cost_eur_per_hour=float(row["cost_eur_per_hour"]),
                answer_per_hour=float((1 - row["shrinkage"]) / row["aht_factor"]),
                attrition_per_year=float(v["attrition_per_year"]),
                training_weeks=int(v["training_weeks"]),
                training_cost_eur_per_hire=float(v["training_cost_eur_per_hire"]),
                hiring_cost_eur_per_hire=float(v["hiring_cost_eur_per_hire"]),
                class_min=int(v["class_min"]), class_max=int(v["class_max"]),
                max_classes_per_week=int(v["max_classes_per_week"]),
                ramp_up=tuple(float(r) for r in v["ramp_up"]), headcount_min=int(v["headcount_min"]),
                headcount_max=None if v["headcount_max"] is None else int(v["headcount_max"]))


def _open_hours_per_week(scenario) -> float:
    total = 0.0
    for d in range(7):
        hours = scenario.opening_minutes(d)
        if hours is not None:
            total += (hours[1] - hours[0]) / 60.0
    return total


def _outsourced_bounds(scenario, k, row, v, key):
    """(min, max) weekly hours of an outsourced provider: keys, else the providers table, else
    the seats open all week."""
    lo = v.get("min_weekly_hours", row["min_weekly_hours"] if pd.notna(row["min_weekly_hours"]) else 0.0)
    hi = v.get("max_weekly_hours", row["max_weekly_hours"] if pd.notna(row["max_weekly_hours"]) else None)
    if hi is None:
        if pd.isna(row["seats"]):
            raise _err(scenario, f"no max_weekly_hours for '{k}' (and no seats in the providers "
                       "table)", key("max_weekly_hours"))
        hi = float(row["seats"]) * _open_hours_per_week(scenario)
    _check(scenario, float(lo), key("min_weekly_hours"), low=0)
    _check(scenario, float(hi), key("max_weekly_hours"), low=float(lo))
    return float(lo), float(hi)


def _contract(scenario, k, row, cfg) -> Contract:
    base, own = cfg.get("contracts", {}), cfg.get("providers", {}).get(k, {})
    v = {**base, **own}

    def key(name):
        return f"capacity.providers.{k}.{name}" if name in own else f"capacity.contracts.{name}"

    lo, hi = _outsourced_bounds(scenario, k, row, v, key)
    init = float(v.get("initial_weekly_hours", lo))
    _check(scenario, init, key("initial_weekly_hours"), low=lo, high=hi)
    notice = _check(scenario, v.get("notice_weeks", 0), key("notice_weeks"), low=0, integer=True)
    step = float(v.get("step_hours", float("inf")))
    _check(scenario, step, key("step_hours"), low=0, low_open=True)
    return Contract(id=k, plateaux=tuple(row["plateaux"]), cost_eur_per_hour=float(row["cost_eur_per_hour"]),
                    answer_per_hour=float((1 - row["shrinkage"]) / row["aht_factor"]),
                    initial_weekly_hours=init, min_weekly_hours=lo, max_weekly_hours=hi,
                    notice_weeks=notice, step_hours=step)


def _offshore(scenario, k, row, cfg) -> Offshore:
    own = cfg.get("providers", {}).get(k, {})
    extra = set(own) - {"min_weekly_hours", "max_weekly_hours"}
    if extra:
        raise _err(scenario, f"an offshore site buys hours week by week: no {sorted(extra)[0]}",
                   f"capacity.providers.{k}.{sorted(extra)[0]}")
    lo, hi = _outsourced_bounds(scenario, k, row, own, lambda n: f"capacity.providers.{k}.{n}")
    return Offshore(id=k, plateaux=tuple(row["plateaux"]), cost_eur_per_hour=float(row["cost_eur_per_hour"]),
                    answer_per_hour=float((1 - row["shrinkage"]) / row["aht_factor"]),
                    min_weekly_hours=lo, max_weekly_hours=hi)


def _date(scenario, value, field):
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _err(scenario, f"not a date: {value!r}", field) from None


def read(scenario, start=None, weeks=None, offshore_cap=None) -> Settings:
    """The capacity settings of a scenario; start/weeks/offshore_cap override the model's."""
    cfg = scenario.config.get("capacity", {})
    start_key = "--start" if start is not None else "capacity.start"
    start = _date(scenario, start if start is not None else cfg.get("start", scenario.start),
                  start_key)
    if start.weekday() != 0:
        raise _err(scenario, f"{start} is a {start:%A}: weeks start on Mondays", start_key)
    weeks_key = "--weeks" if weeks is not None else "capacity.weeks"
    weeks = int(weeks if weeks is not None else cfg.get("weeks", 104))
    _check(scenario, weeks, weeks_key, low=1, high=MAX_WEEKS)
    rep = _date(scenario, cfg.get("representative_week", start), "capacity.representative_week")
    rep = rep - dt.timedelta(days=rep.weekday())
    cap = scenario.offshore_cap if offshore_cap is None else float(offshore_cap)
    _check(scenario, cap, "policy.offshore_cap", low=0, high=1)
    prov = scenario.providers
    ids = set(prov.index)
    for section in ("teams", "providers"):
        for k in cfg.get(section, {}):
            want = "inhouse" if section == "teams" else ("subcontractor", "offshore")
            if k not in ids or (prov.at[k, "kind"] not in want):
                what = "an in-house team" if section == "teams" else "a subcontractor or offshore site"
                raise _err(scenario, f"'{k}' is not {what} of the providers table",
                           f"capacity.{section}.{k}")
    teams, contracts, offshore = [], [], []
    for k, row in prov.iterrows():
        if row["kind"] == "inhouse":
            teams.append(_team(scenario, k, row, cfg))
        elif row["kind"] == "subcontractor":
            contracts.append(_contract(scenario, k, row, cfg))
        else:
            offshore.append(_offshore(scenario, k, row, cfg))
    freezes = []
    for i, f in enumerate(cfg.get("hiring_freeze", []), start=1):
        field = f"capacity.hiring_freeze[{i}]"
        lo = _date(scenario, f.get("from", dt.date.min), field + ".from")
        hi = _date(scenario, f.get("until", dt.date.max), field + ".until")
        unknown = [t for t in f.get("teams", []) if t not in {t.id for t in teams}]
        if unknown:
            raise _err(scenario, f"unknown in-house team '{unknown[0]}'", field + ".teams")
        freezes.append((lo, hi, tuple(f.get("teams", []))))
    tr = cfg.get("transfers", {})
    gap = _check(scenario, float(cfg.get("gap", 0.001)), "capacity.gap", low=0)
    tl = _check(scenario, float(cfg.get("time_limit_s", 120.0)), "capacity.time_limit_s", low=0,
                low_open=True)
    return Settings(start=start, weeks=weeks, representative_week=rep, gap=gap, time_limit_s=tl,
                    weekly_hours=scenario.shifts.weekly_hours, offshore_cap=cap,
                    penalty_eur_per_hour=scenario.shortfall_penalty_eur_per_agent_hour,
                    teams=tuple(teams), contracts=tuple(contracts), offshore=tuple(offshore),
                    freezes=tuple(freezes), transfers=bool(tr.get("enabled", False)),
                    transfer_cost_eur=float(_check(scenario, float(tr.get("cost_eur_per_transfer", 0.0)),
                                                   "capacity.transfers.cost_eur_per_transfer", low=0)),
                    transfers_per_week=int(_check(scenario, tr.get("max_per_week", 10),
                                                  "capacity.transfers.max_per_week", low=0)))


def month_index(week_starts: list[dt.date]) -> np.ndarray:
    """Contract month of each week (0, 1, ...): the calendar month of the week's Monday."""
    keys = [(d.year, d.month) for d in week_starts]
    order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return np.array([order[k] for k in keys], dtype=int)
