"""Load and check a scenario: a TOML model file, its `extends` chain and its input tables.

`load(path_or_name)` returns one immutable `Scenario`; every problem in the files is reported as
an `InputError` naming file, row (the line number, the header being line 1) and field.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import tables
from .errors import InputError
from .limits import (MAX_AGENTS, MAX_ANNUAL_CALLS, MAX_CALL_S, MAX_EUR_PER_HOUR, MAX_NUMBER,
                     MAX_WEEKS)

DEFAULT_MODEL = "orange-2009"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
PROVIDER_KINDS = ("inhouse", "subcontractor", "offshore")
TARGET_COLUMNS = ("sl_target", "answer_s", "asa_s", "max_occupancy", "patience_s", "max_abandon")
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
ID_RULE = "may hold only letters, digits, '_', '-', '.'"


# --------------------------------------------------------------------------- errors

class _Errors:
    """Collects problems so that all errors of a file are reported at once."""

    def __init__(self, overridden=()):
        self.items: list[InputError] = []
        self.overridden = set(overridden)  # keys given with --set: their problems name --set

    def add(self, message, *, file=None, row=None, field=None):
        if field in self.overridden:
            file = "--set"
        err = InputError(message, file=str(file) if file else None, row=row, field=field)
        if all(str(e) != str(err) for e in self.items):  # one line per distinct problem
            self.items.append(err)

    def raise_if_any(self):
        if not self.items:
            return
        first = self.items[0]
        exc = InputError(first.problem, file=first.file, row=first.row, field=first.field)
        exc.args = ("\n".join(str(e) for e in self.items),)
        exc.errors = list(self.items)
        raise exc


# --------------------------------------------------------------------------- data classes

@dataclasses.dataclass(frozen=True)
class ShiftRules:
    """Shift patterns allowed for in-house advisers."""

    paid_hours: tuple[float, ...] = (7.0,)
    unpaid_break_minutes: int = 60
    break_after_hours: float = 6.0
    start_step_minutes: int = 30
    weekly_hours: float = 35.0
    days_per_week: int = 5


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Demand shapes per plateau.

    weekday: DataFrame plateau x 0..6 (Mon..Sun) of relative daily volume;
    month: DataFrame plateau x 1..12 of relative daily volume in that month;
    intraday: long DataFrame (plateau, start_minute, weight): a step function of relative call
    intensity from start_minute to the next key (0 before the first key, last key to 24:00);
    holidays: country code for the `holidays` package ("" = none); holiday_weight: a public
    holiday's volume relative to the same day otherwise.
    """

    weekday: pd.DataFrame
    month: pd.DataFrame
    intraday: pd.DataFrame
    holidays: str = ""
    holiday_weight: float = 0.6

    def intraday_steps(self, plateau: str) -> tuple[np.ndarray, np.ndarray]:
        """(start minutes, weights) of a plateau's intraday step function, sorted."""
        rows = self.intraday[self.intraday["plateau"] == plateau]
        return rows["start_minute"].to_numpy(dtype=float), rows["weight"].to_numpy(dtype=float)


@dataclasses.dataclass(frozen=True, eq=False)
class Scenario:
    """A checked planning problem: model settings plus its input tables."""

    name: str
    description: str
    path: Path
    start: dt.date
    weeks: int
    slot_minutes: int
    timezone: str
    opening: dict  # weekday 0..6 -> (time open, time close) or None; close may be time.max for 24:00
    sl_scope: str
    queueing: str
    targets: pd.DataFrame
    shifts: ShiftRules
    regimes: pd.DataFrame
    active_regime: str
    base_regime: str
    offshore_cap: float
    shortfall_penalty_eur_per_agent_hour: float
    max_shortfall_share: float
    plateaux: pd.DataFrame
    providers: pd.DataFrame
    profiles: Profiles
    forecast: pd.DataFrame | None
    input_files: dict
    config: dict  # the merged, overridden model settings as read
    forecast_regime: str | None = None  # regime the imported forecast was observed under
    rules: object = None  # rosters.rules.WorkingRules: working-time rules (`[rules]`)
    roster_state: pd.DataFrame | None = None  # advisers' state before the horizon (rosters.state)
    calendar: object = None  # calendar.Calendar: closed holidays, date exceptions (`[calendar]`)
    contracts: dict = None  # contract id -> rosters.contracts.Contract (`full-time` = [shifts])
    team_contracts: dict = None  # team -> {contract id: advisers} (`[teams.ID] contracts`)
    advisers: pd.DataFrame | None = None  # named advisers (rosters.advisers, `inputs.advisers`)
    plateau_opening: dict = dataclasses.field(default_factory=dict)  # plateau -> weekday 0..6 ->
    # (time open, time close) or None: `[opening.plateaux.<id>]`, within the centre's hours

    def replace(self, **changes) -> "Scenario":
        """A copy with some attributes changed."""
        return dataclasses.replace(self, **changes)

    @property
    def end(self) -> dt.date:
        """First day after the horizon."""
        return self.start + dt.timedelta(weeks=self.weeks)

    def opening_minutes(self, weekday: int, plateau: str | None = None) -> tuple[int, int] | None:
        """(open, close) in minutes after midnight for a weekday, or None when closed: the
        centre's (`[opening]`), or a plateau's own (`[opening.plateaux.<id>]`) when it has them."""
        hours = (self.plateau_opening.get(plateau) or self.opening).get(weekday)
        if hours is None:
            return None
        return _minutes(hours[0]), _minutes(hours[1])

    def opening_on(self, date: dt.date, plateau: str | None = None) -> tuple[int, int] | None:
        """(open, close) minutes after midnight on a date, or None when closed: its weekday's
        hours unless `[calendar]` closes the day (a closed holiday) or changes it (an exception).
        With `plateau`: that plateau's own weekday hours within the centre's hours that date
        (an exception's hours bound every plateau's; a closed date closes them all)."""
        weekly = self.opening_minutes(date.weekday())
        centre = weekly if self.calendar is None else self.calendar.hours_on(date, weekly)
        if plateau is None or plateau not in self.plateau_opening:
            return centre
        return _within(self.opening_minutes(date.weekday(), plateau), centre)


def _within(own, centre):
    """A plateau's hours (open, close) within the centre's, or None when either is closed or
    they do not meet."""
    if own is None or centre is None:
        return None
    lo, hi = max(own[0], centre[0]), min(own[1], centre[1])
    return (lo, hi) if lo < hi else None


def _minutes(t: dt.time) -> int:
    """Minutes after midnight; time.max stands for 24:00."""
    if t == dt.time.max:
        return 1440
    return t.hour * 60 + t.minute


# --------------------------------------------------------------------------- TOML schema

_TARGETS = {"sl_target": "float", "answer_s": "float", "asa_s": "float", "max_occupancy": "float",
            "patience_s": "float", "max_abandon": "float"}
_REGIME = {"name": "str", "setup_eur_per_call": "float", "eur_per_min": "float",
           "eur_per_min_offpeak": "float", "peak_start": "time", "peak_end": "time",
           "bill_waiting": "bool", "operator_share": "float", "call_uplift": "float"}
SCHEMA: dict = {
    "name": "str",
    "description": "str",
    "extends": "str",
    "horizon": {"start": "date", "weeks": "int", "slot_minutes": "int", "timezone": "str"},
    "opening": {**{k: "hours" for k in ("default",) + WEEKDAYS},
                "plateaux": {"*": {k: "hours" for k in ("default",) + WEEKDAYS}}},
    "demand": {"holidays": "str", "holiday_weight": "float", "forecast_regime": "str"},
    "calendar": {"holidays": "str",
                 "exceptions": [{"from": "date", "until": "date", "open": "time", "close": "time",
                                 "closed": "bool"}]},
    "service": {"sl_scope": "str", "queueing": "str", **_TARGETS, "plateaux": {"*": _TARGETS}},
    "shifts": {"paid_hours": "floats", "unpaid_break_minutes": "int", "break_after_hours": "float",
               "start_step_minutes": "int", "weekly_hours": "float", "days_per_week": "int"},
    "pricing": {"active": "str", "base": "str", "regimes": {"*": _REGIME},
                "timeline": [{"regime": "str", "from": "date", "until": "date", "source": "str"}]},
    "policy": {"offshore_cap": "float", "shortfall_penalty_eur_per_agent_hour": "float",
               "max_shortfall_share": "float"},
    "inputs": {"plateaux": "str", "providers": "str", "profiles": "str", "forecast": "str",
               "roster_state": "str", "advisers": "str"},
    "rules": {"daily_rest_hours": "float", "weekly_rest_hours": "float",
              "max_days_in_a_row": "int", "max_daily_hours": "float",
              "max_weekly_hours": "float", "break_after_hours": "float",
              "min_break_minutes": "int", "two_days_off_in_a_row": "bool",
              "max_sundays_per_4_weeks": "int", "max_start_spread_hours": "float",
              "night_start": "time", "night_end": "time", "max_night_shifts_per_week": "int",
              "max_night_shift_hours": "float"},
    # employment contracts of in-house advisers and each team's mix (rosters/contracts.py)
    "contracts": {"*": {"paid_hours": "floats", "days_per_week": "int", "weekly_hours": "float",
                        "weekdays": "strs", "earliest_start": "time", "latest_end": "time",
                        "cycle_weekly_hours": "floats", "cycle_days_per_week": "floats",
                        "cycle_start": "date", "description": "str"}},
    "teams": {"*": {"contracts": {"*": "int"}}},
}
# the long-range capacity plan (`staffing capacity`, staffing/capacity/): read by that command
_TEAM = {"attrition_per_year": "float", "training_weeks": "int", "training_cost_eur_per_hire": "float",
         "hiring_cost_eur_per_hire": "float", "class_min": "int", "class_max": "int",
         "max_classes_per_week": "int", "ramp_up": "floats", "headcount_min": "int",
         "headcount_max": "int"}
_CONTRACT = {"initial_weekly_hours": "float", "min_weekly_hours": "float",
             "max_weekly_hours": "float", "notice_weeks": "int", "step_hours": "float"}
SCHEMA["capacity"] = {
    "start": "date", "weeks": "int", "representative_week": "date", "gap": "float",
    "time_limit_s": "float",
    "hiring_freeze": [{"from": "date", "until": "date", "teams": "strs"}],
    "transfers": {"enabled": "bool", "cost_eur_per_transfer": "float", "max_per_week": "int"},
    "inhouse": _TEAM, "teams": {"*": _TEAM}, "contracts": _CONTRACT, "providers": {"*": _CONTRACT},
}
_TYPE_WORDS = {"str": "a string", "int": "an integer",
               "float": "a finite number (at most 1e12 in size)", "bool": "true or false",
               "date": "a date (YYYY-MM-DD)", "time": "a time \"HH:MM\"",
               "floats": "a list of finite numbers", "hours": "[\"HH:MM\", \"HH:MM\"] or \"closed\"",
               "strs": "a list of strings"}


def _check_type(kind: str, value) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":  # nan and inf are TOML floats, but no setting means them
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value) and abs(value) <= MAX_NUMBER
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
            isinstance(value, str) and _parse_date(value) is not None)
    if kind == "time":
        return _parse_time(value) is not None
    if kind == "floats":
        return isinstance(value, list) and len(value) > 0 and all(_check_type("float", v) for v in value)
    if kind == "strs":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "hours":
        if isinstance(value, str):
            return value.strip().lower() == "closed"
        return isinstance(value, list) and len(value) == 2 and all(_parse_time(v) is not None for v in value)
    raise AssertionError(kind)


def _check_against_schema(data: dict, schema: dict, file, errors: _Errors, prefix: str = ""):
    """Report unknown keys and values of the wrong type, naming the dotted key."""
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        spec = schema.get(key, schema.get("*"))
        if spec is None:
            errors.add(f"unknown key '{dotted}'", file=file, field=dotted)
        elif isinstance(spec, list):  # an array of tables ([[dotted]]), each checked against spec[0]
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                errors.add(f"'{dotted}' must be an array of tables ([[{dotted}]])", file=file,
                           field=dotted)
            else:
                for i, item in enumerate(value):
                    _check_against_schema(item, spec[0], file, errors, f"{dotted}[{i + 1}].")
        elif isinstance(spec, dict):
            if not isinstance(value, dict):
                errors.add(f"'{dotted}' must be a table ([{dotted}])", file=file, field=dotted)
            else:
                _check_against_schema(value, spec, file, errors, dotted + ".")
        elif not _check_type(spec, value):
            errors.add(f"must be {_TYPE_WORDS[spec]}, got {value!r}", file=file, field=dotted)


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _parse_time(value) -> dt.time | None:
    """"HH:MM" (or a TOML time); "24:00" gives time.max."""
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if (h, mi) == (24, 0):
        return dt.time.max
    if h > 23 or mi > 59:
        return None
    return dt.time(h, mi)


# --------------------------------------------------------------------------- model files

def packaged_models_dir() -> Path:
    """Folder of the model files shipped inside the package."""
    return Path(str(resources.files("staffing") / "data" / "models"))


def resolve_model(path_or_name: str | Path | None = None) -> Path:
    """A path to a .toml, or a bare name looked up in ./models/ then in the packaged models."""
    if path_or_name is None or str(path_or_name) == "":
        path_or_name = DEFAULT_MODEL
    text = str(path_or_name)
    candidate = Path(text).expanduser()
    if text.endswith(".toml") or "/" in text or "\\" in text or candidate.is_file():
        if not candidate.is_file():
            raise InputError("model file not found", file=text)
        return candidate
    looked = [Path("models") / f"{text}.toml", packaged_models_dir() / f"{text}.toml"]
    for path in looked:
        if path.is_file():
            return path
    raise InputError(f"no model named '{text}' (looked for {', '.join(str(p) for p in looked)})",
                     file=text)


def _read_toml(path: Path) -> dict:
    """A model file's TOML: UTF-8, a byte-order mark allowed; InputError for anything else."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except OSError as exc:  # permission denied, a folder, a symlink loop...
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}): "
                         f"save the model file as UTF-8", file=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from None


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_chain(path: Path, seen: tuple = ()) -> tuple[dict, list[Path]]:
    """Read a model and its `extends` ancestors; input paths made absolute per declaring file."""
    real = path.resolve()
    if real in seen:
        raise InputError("'extends' makes a cycle", file=str(path), field="extends")
    data = _read_toml(path)
    errors = _Errors()
    _check_against_schema(data, SCHEMA, path, errors)
    errors.raise_if_any()
    # input paths are relative to the file that names them
    for key, value in data.get("inputs", {}).items():
        data["inputs"][key] = os.path.normpath(path.parent / value)
    files = [path]
    parent = data.pop("extends", None)
    if parent is None:
        return data, files
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise InputError(f"extended model '{parent}' not found", file=str(path), field="extends")
    base, base_files = _read_chain(parent_path, seen + (real,))
    base.pop("name", None)  # a variant's name is its own (its file stem unless given)
    return _deep_merge(base, data), files + base_files


def parse_set(items) -> dict:
    """["a.b=1", "c=R0"] -> {"a.b": 1, "c": "R0"}; values are TOML scalars, else bare strings."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise InputError(f"expected key=value, got '{item}'", file="--set")
        key, text = item.split("=", 1)
        key, text = key.strip(), text.strip()
        if not key:
            raise InputError(f"empty key in '{item}'", file="--set")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        out[key] = value
    return out


def _apply_overrides(data: dict, overrides: dict) -> dict:
    data = copy.deepcopy(data)
    errors = _Errors()
    for key, value in overrides.items():
        parts = key.split(".")
        nested: Any = value
        for part in reversed(parts):
            nested = {part: nested}
        _check_against_schema(nested, SCHEMA, "--set", errors)
        if parts[0] == "extends":
            errors.add("'extends' cannot be overridden", file="--set", field=key)
            continue
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    errors.raise_if_any()
    return data


# --------------------------------------------------------------------------- tables

def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and (row number, {column: raw value}) of a CSV or xlsx file; blank rows skipped.

    See staffing.tables: French CSV (`;`, decimal commas, Windows-1252), bounded xlsx reading.
    """
    return tables.read_table(path)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _as_float(value) -> float:
    return tables.to_float(value)


class _Column:
    """One column of an input table: how to parse it, its default, its allowed range."""

    def __init__(self, kind="str", required=False, default=None, low=None, high=None,
                 low_open=False, high_open=False, choices=None, integer=False):
        self.kind, self.required, self.default = kind, required, default
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.choices, self.integer = choices, integer

    def parse(self, value):
        """Parsed value, or raise ValueError(message)."""
        if _blank(value):
            if self.required:
                raise ValueError("missing value")
            return self.default
        if self.kind == "str":
            text = str(value).strip()
            if self.choices and text not in self.choices:
                raise ValueError(f"'{text}' is not one of {', '.join(self.choices)}")
            return text
        if self.kind == "float":
            try:
                x = _as_float(value)
            except ValueError:
                raise ValueError(tables.not_a_number(value)) from None
            if not math.isfinite(x):
                raise ValueError(f"'{value}' is not a finite number")
            if abs(x) > MAX_NUMBER:
                raise ValueError(f"{x:g} is out of range: no value here exceeds {MAX_NUMBER:g}")
            if self.integer and x != int(x):
                raise ValueError(f"'{value}' is not a whole number")
            self._check_range(x)
            return x
        raise AssertionError(self.kind)

    def _check_range(self, x):
        low_bad = self.low is not None and (x <= self.low if self.low_open else x < self.low)
        high_bad = self.high is not None and (x >= self.high if self.high_open else x > self.high)
        if low_bad or high_bad:
            lo = "" if self.low is None else ("(" if self.low_open else "[") + f"{self.low:g}"
            hi = "" if self.high is None else f"{self.high:g}" + (")" if self.high_open else "]")
            if self.low is not None and self.high is not None:
                rng = f"in {lo}, {hi}"
            elif self.low is not None:
                rng = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
            else:
                rng = f"< {self.high:g}" if self.high_open else f"<= {self.high:g}"
            raise ValueError(f"{x:g} is out of range: must be {rng}")


def _parse_rows(path, header, rows, columns: dict, errors: _Errors, *, extra_ok=("source",)):
    """Parse rows against column specs; returns [(row number, {col: value})] of rows without errors."""
    missing = [c for c, spec in columns.items() if spec.required and c not in header]
    for c in missing:
        errors.add(tables.missing_column(c, header, [*columns, *extra_ok]), file=path, row=1,
                   field=c)
    for c in header:
        if c not in columns and c not in extra_ok:
            errors.add(f"unknown column '{c}' (expected {', '.join(columns)})", file=path, row=1, field=c)
    if missing:
        return []
    out = []
    for line, record in rows:
        parsed, ok = {}, True
        for name, spec in columns.items():
            try:
                parsed[name] = spec.parse(record.get(name))
            except ValueError as exc:
                errors.add(str(exc), file=path, row=line, field=name)
                ok = False
        if ok:
            out.append((line, parsed))
    return out


def _check_unique(path, parsed, key, errors: _Errors, field, what=None):
    seen = {}
    for line, rec in parsed:
        k = key(rec)
        if k in seen:
            errors.add(f"duplicate {what or field} {k!r} (first on row {seen[k]})", file=path,
                       row=line, field=field)
        else:
            seen[k] = line


_NAN = float("nan")
_PLATEAU_COLUMNS = {
    "id": _Column("str", required=True),
    "name": _Column("str"),
    "annual_calls": _Column("float", default=_NAN, low=0, high=MAX_ANNUAL_CALLS),
    "customers": _Column("float", default=_NAN, low=0),
    "contact_rate": _Column("float", default=_NAN, low=0),
    "calls_per_caller": _Column("float", default=_NAN, low=0, low_open=True),
    "aht_s": _Column("float", required=True, low=0, low_open=True, high=MAX_CALL_S),
    "callback_share": _Column("float", default=0.0, low=0, high=1, high_open=True),
    "callback_threshold_s": _Column("float", default=1800.0, low=0, low_open=True),
    "long_call_aht_s": _Column("float", default=_NAN, low=0, low_open=True, high=MAX_CALL_S),
}


def _load_plateaux(path, errors: _Errors) -> pd.DataFrame | None:
    header, rows = read_table(path)
    parsed = _parse_rows(path, header, rows, _PLATEAU_COLUMNS, errors)
    _check_unique(path, parsed, lambda r: r["id"], errors, "id")
    records = []
    for line, r in parsed:
        bad = False
        if not _ID_RE.match(r["id"]) or r["id"] == "*":
            errors.add(f"id '{r['id']}' may hold only letters, digits, '_', '-', '.'", file=path,
                       row=line, field="id")
            bad = True
        triple = [r["customers"], r["contact_rate"], r["calls_per_caller"]]
        given = [not math.isnan(v) for v in triple]
        if not math.isnan(r["annual_calls"]):
            if any(given):
                errors.add("give annual_calls or customers x contact_rate x calls_per_caller, not both",
                           file=path, row=line, field="annual_calls")
                bad = True
            calls = r["annual_calls"]
        elif all(given):
            calls = triple[0] * triple[1] * triple[2]
            if calls > MAX_ANNUAL_CALLS:
                errors.add(f"customers x contact_rate x calls_per_caller = {calls:.3g} calls a "
                           f"year: at most {MAX_ANNUAL_CALLS:g}", file=path, row=line,
                           field="customers")
                bad = True
        else:
            absent = [n for n, g in zip(("customers", "contact_rate", "calls_per_caller"), given) if not g]
            errors.add("missing value: give annual_calls, or customers, contact_rate and "
                       "calls_per_caller", file=path, row=line,
                       field="annual_calls" if not any(given) else absent[0])
            bad = True
            calls = _NAN
        share, thr, long_aht = r["callback_share"], r["callback_threshold_s"], r["long_call_aht_s"]
        if share > 0 and math.isnan(long_aht):
            errors.add("missing value: needed when callback_share > 0", file=path, row=line,
                       field="long_call_aht_s")
            bad = True
        if not math.isnan(long_aht):
            if long_aht <= thr:
                errors.add(f"{long_aht:g} must exceed callback_threshold_s ({thr:g})", file=path,
                           row=line, field="long_call_aht_s")
                bad = True
            elif share * long_aht > r["aht_s"]:
                errors.add(f"callback_share x long_call_aht_s ({share * long_aht:g} s) exceeds the "
                           f"mean handle time aht_s ({r['aht_s']:g} s)", file=path, row=line,
                           field="callback_share")
                bad = True
        if thr >= MAX_CALL_S:
            errors.add(f"{thr:g} is out of range: must be < {MAX_CALL_S:g} (calls last up to 45 min)",
                       file=path, row=line, field="callback_threshold_s")
            bad = True
        if not bad:
            records.append({"id": r["id"], "name": r["name"] or r["id"], "annual_calls": calls,
                            "aht_s": r["aht_s"], "callback_share": share,
                            "callback_threshold_s": thr, "long_call_aht_s": long_aht,
                            "customers": triple[0], "contact_rate": triple[1],
                            "calls_per_caller": triple[2]})
    if not parsed and not errors.items:
        errors.add("no plateaux", file=path)
    cols = ["id", "name", "annual_calls", "aht_s", "callback_share", "callback_threshold_s",
            "long_call_aht_s", "customers", "contact_rate", "calls_per_caller"]
    frame = pd.DataFrame.from_records(records, columns=cols).set_index("id")
    return frame


_PROVIDER_COLUMNS = {
    "id": _Column("str", required=True),
    "kind": _Column("str", required=True, choices=PROVIDER_KINDS),
    "site": _Column("str", default=""),
    "plateaux": _Column("str", required=True),
    "cost_eur_per_hour": _Column("float", required=True, low=0, high=MAX_EUR_PER_HOUR),
    "headcount": _Column("float", default=_NAN, low=0, high=MAX_AGENTS, integer=True),
    "headcount_min": _Column("float", default=_NAN, low=0, high=MAX_AGENTS, integer=True),
    "headcount_max": _Column("float", default=_NAN, low=0, high=MAX_AGENTS, integer=True),
    "seats": _Column("float", default=_NAN, low=0, high=MAX_AGENTS, integer=True),
    "min_weekly_hours": _Column("float", default=0.0, low=0),
    "max_weekly_hours": _Column("float", default=_NAN, low=0),
    "shrinkage": _Column("float", required=True, low=0, high=1, high_open=True),
    "aht_factor": _Column("float", default=1.0, low=0, low_open=True),
}


def _load_providers(path, plateau_ids, errors: _Errors) -> pd.DataFrame:
    header, rows = read_table(path)
    parsed = _parse_rows(path, header, rows, _PROVIDER_COLUMNS, errors)
    _check_unique(path, parsed, lambda r: r["id"], errors, "id")
    records = []
    for line, r in parsed:
        bad = False

        def err(msg, field):
            nonlocal bad
            errors.add(msg, file=path, row=line, field=field)
            bad = True

        if not _ID_RE.match(r["id"]):
            err(f"id '{r['id']}' may hold only letters, digits, '_', '-', '.'", "id")
        items = [p.strip() for p in re.split(r"[;|]", r["plateaux"]) if p.strip()]
        if items == ["*"]:
            served = tuple(plateau_ids)
        else:
            unknown = [p for p in items if p not in plateau_ids]
            if "*" in items:
                err("'*' (all plateaux) cannot be combined with ids", "plateaux")
            elif unknown:
                err(f"unknown plateau id(s) {', '.join(unknown)}", "plateaux")
            elif len(set(items)) != len(items):
                err("a plateau is listed twice", "plateaux")
            served = tuple(items)
        if not served and not bad:
            err("missing value", "plateaux")
        inhouse = r["kind"] == "inhouse"
        hc, hmin, hmax, seats = r["headcount"], r["headcount_min"], r["headcount_max"], r["seats"]
        if inhouse:
            if math.isnan(hc):
                err("missing value: in-house teams need a headcount", "headcount")
            if not math.isnan(seats):
                err("in-house teams are sized by headcount, leave seats empty", "seats")
            hmin = hc if math.isnan(hmin) else hmin
            hmax = hc if math.isnan(hmax) else hmax
            if not bad and not hmin <= hc <= hmax:
                err(f"need headcount_min <= headcount <= headcount_max ({hmin:g} <= {hc:g} <= {hmax:g})",
                    "headcount")
        else:
            if math.isnan(seats):
                err(f"missing value: {r['kind']} providers need seats", "seats")
            for f in ("headcount", "headcount_min", "headcount_max"):
                if not math.isnan(r[f]):
                    err(f"only in-house teams have a {f}; use seats", f)
        lo, hi = r["min_weekly_hours"], r["max_weekly_hours"]
        if not math.isnan(hi) and lo > hi:
            err(f"min_weekly_hours ({lo:g}) exceeds max_weekly_hours ({hi:g})", "min_weekly_hours")
        if not bad:
            records.append({"id": r["id"], "kind": r["kind"], "site": r["site"], "plateaux": served,
                            "cost_eur_per_hour": r["cost_eur_per_hour"], "headcount": hc,
                            "headcount_min": hmin if inhouse else _NAN,
                            "headcount_max": hmax if inhouse else _NAN, "seats": seats,
                            "min_weekly_hours": lo, "max_weekly_hours": hi,
                            "shrinkage": r["shrinkage"], "aht_factor": r["aht_factor"]})
    if not parsed and not errors.items:
        errors.add("no providers", file=path)
    cols = list(_PROVIDER_COLUMNS)
    return pd.DataFrame.from_records(records, columns=cols).set_index("id")


_PROFILE_COLUMNS = {
    "plateau": _Column("str", required=True),
    "profile": _Column("str", required=True, choices=("weekday", "intraday", "month")),
    "key": _Column("str", required=True),
    "weight": _Column("float", required=True, low=0),
}


def _profile_key(kind: str, key: str):
    """Normalised key or None: weekday -> 0..6, month -> 1..12, intraday -> minute of day."""
    k = key.strip().lower()
    if kind == "weekday":
        names = [(d, dt.date(2009, 3, 2 + d).strftime("%A").lower()) for d in range(7)]
        return next((d for d, full in names if k in (full, WEEKDAYS[d])), None)
    if kind == "month":
        if k.isdigit() and 1 <= int(k) <= 12:
            return int(k)
        names = [(m, dt.date(2009, m, 1).strftime("%B").lower()) for m in range(1, 13)]
        return next((m for m, full in names if k in (full, MONTHS[m - 1])), None)
    t = _parse_time(key)
    return None if t is None or t == dt.time.max else t.hour * 60 + t.minute


def _load_profiles(path, plateau_ids, holidays: str, holiday_weight: float,
                   errors: _Errors) -> Profiles:
    header, rows = read_table(path)
    parsed = _parse_rows(path, header, rows, _PROFILE_COLUMNS, errors)
    good = []
    for line, r in parsed:
        if r["plateau"] != "*" and r["plateau"] not in plateau_ids:
            errors.add(f"unknown plateau id '{r['plateau']}'", file=path, row=line, field="plateau")
            continue
        key = _profile_key(r["profile"], r["key"])
        if key is None:
            expected = {"weekday": "mon..sun", "month": "1..12 or jan..dec",
                        "intraday": "a time HH:MM before 24:00"}[r["profile"]]
            errors.add(f"'{r['key']}' is not a valid {r['profile']} key ({expected})", file=path, row=line,
                       field="key")
            continue
        good.append((line, {**r, "key": key}))
    _check_unique(path, good, lambda r: (r["plateau"], r["profile"], r["key"]), errors, "key",
                  "(plateau, profile, key)")
    sets: dict = {}
    for line, r in good:
        sets.setdefault((r["plateau"], r["profile"]), []).append((line, r["key"], r["weight"]))
    for (plateau, kind), items in sets.items():
        first = items[0][0]
        keys = {k for _, k, _ in items}
        if kind == "weekday" and keys != set(range(7)):
            missing = [WEEKDAYS[d] for d in range(7) if d not in keys]
            errors.add(f"weekday profile of '{plateau}' lacks {', '.join(missing)}", file=path,
                       row=first, field="key")
        if kind == "month" and keys != set(range(1, 13)):
            missing = [str(m) for m in range(1, 13) if m not in keys]
            errors.add(f"month profile of '{plateau}' lacks month(s) {', '.join(missing)}", file=path,
                       row=first, field="key")
        if sum(w for _, _, w in items) <= 0:
            errors.add(f"{kind} profile of '{plateau}' has only zero weights", file=path, row=first,
                       field="weight")

    def pick(plateau, kind):
        return sets.get((plateau, kind), sets.get(("*", kind)))

    weekday = pd.DataFrame(1.0, index=pd.Index(plateau_ids, name="plateau"), columns=range(7))
    month = pd.DataFrame(1.0, index=pd.Index(plateau_ids, name="plateau"), columns=range(1, 13))
    intraday = []
    for p in plateau_ids:
        for kind, frame in (("weekday", weekday), ("month", month)):
            for _, k, w in pick(p, kind) or ():
                frame.loc[p, k] = w
        steps = pick(p, "intraday") or [(0, 0, 1.0)]
        intraday += [{"plateau": p, "start_minute": k, "weight": w} for _, k, w in sorted(
            steps, key=lambda s: s[1])]
    intraday = pd.DataFrame.from_records(intraday, columns=["plateau", "start_minute", "weight"])
    return Profiles(weekday=weekday, month=month, intraday=intraday, holidays=holidays,
                    holiday_weight=holiday_weight)


_FORECAST_COLUMNS = {
    "plateau": _Column("str", required=True),
    "slot_start": _Column("str", required=True),
    "calls": _Column("float", required=True, low=0),
    "aht_s": _Column("float", default=_NAN, low=0, low_open=True),
    "fold": _Column("float", default=0.0, low=0, high=1, integer=True),
}


def _parse_datetime(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _read_forecast_rows(path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and rows of a forecast table: CSV / xlsx through read_table, or Parquet."""
    if Path(path).suffix.lower() != ".parquet":
        return read_table(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(f"cannot read Parquet: {exc}".splitlines()[0], file=str(path)) from None
    header = [str(c) for c in frame.columns]
    if "slot_start" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame["slot_start"]):
        frame["slot_start"] = frame["slot_start"].astype(object)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return header, [(i + 2, {str(k): v for k, v in r.items()}) for i, r in enumerate(records)]


def _wall_clock(value, zone) -> tuple[dt.datetime | None, int | None]:
    """Naive wall-clock time in `zone` and its fold (None unless offset-aware), or (None, None)."""
    start = _parse_datetime(value)
    if start is None:
        return None, None
    if isinstance(start, pd.Timestamp):
        start = start.to_pydatetime()
    if start.tzinfo is None:
        return start, None
    local = start.astimezone(zone)
    return local.replace(tzinfo=None, fold=0), local.fold


def _load_forecast(path, plateau_ids, opening, slot_minutes, tz, errors: _Errors,
                   calendar=None, plateau_opening: dict | None = None) -> pd.DataFrame:
    """Forecast rows (plateau, slot_start, fold, calls, aht_s); aht_s is the full handle time.

    Offset-aware slot starts are converted to the scenario's zone (their fold follows from the
    offset); a `scenario` column (as output tables start with) is allowed and ignored.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    header, rows = _read_forecast_rows(path)
    # xlsx / Parquet cells may hold real datetimes: keep them as ISO text for the string column
    rows = [(line, {**r, "slot_start": r["slot_start"].isoformat(sep=" ")
                    if isinstance(r.get("slot_start"), dt.datetime) else r.get("slot_start")})
            for line, r in rows]
    parsed = _parse_rows(path, header, rows, _FORECAST_COLUMNS, errors,
                         extra_ok=("source", "scenario", "calls_p10", "calls_p90"))
    good = []
    for line, r in parsed:
        start, tz_fold = _wall_clock(r["slot_start"], zone)
        if start is None:
            errors.add(f"'{r['slot_start']}' is not a date-time YYYY-MM-DD HH:MM", file=path,
                       row=line, field="slot_start")
            continue
        if tz_fold is not None and "fold" in header and int(r["fold"]) != tz_fold:
            errors.add(f"fold {int(r['fold'])} contradicts the offset of '{r['slot_start']}'",
                       file=path, row=line, field="fold")
            continue
        fold = int(r["fold"]) if tz_fold is None else tz_fold
        problem = _slot_problem(start, fold, r["plateau"], plateau_ids, opening, slot_minutes, zone,
                                calendar, (plateau_opening or {}).get(r["plateau"]))
        if problem:
            errors.add(problem[1], file=path, row=line, field=problem[0])
            continue
        good.append((line, {**r, "slot_start": start, "fold": fold}))
        if len(errors.items) >= 20:  # one bad column repeats on every row: the first ones tell
            break
    _check_unique(path, good, lambda r: (r["plateau"], f"{r['slot_start']:%Y-%m-%d %H:%M}", r["fold"]),
                  errors, "slot_start", "(plateau, slot_start, fold)")
    frame = pd.DataFrame.from_records([r for _, r in good],
                                      columns=["plateau", "slot_start", "fold", "calls", "aht_s"])
    frame["slot_start"] = pd.to_datetime(frame["slot_start"]).astype("datetime64[ns]")
    frame["fold"] = frame["fold"].astype("int64")
    return frame


def _slot_problem(start, fold, plateau, plateau_ids, opening, slot_minutes, zone, calendar=None,
                  own=None):
    """(field, message) of what is wrong with a forecast row's slot, or None; own: the
    plateau's own weekday hours, when it has them."""
    if plateau not in plateau_ids:
        return "plateau", f"unknown plateau id '{plateau}'"
    minute = start.hour * 60 + start.minute
    if start.second or start.microsecond or minute % slot_minutes:
        return "slot_start", f"{start:%Y-%m-%d %H:%M} is not on the {slot_minutes}-minute slot grid"
    weekly = opening.get(start.weekday())
    hours = None if weekly is None else (_minutes(weekly[0]), _minutes(weekly[1]))
    if calendar is not None:  # closed holidays, date exceptions
        hours = calendar.hours_on(start.date(), hours)
    if own is not None:
        mine = own.get(start.weekday())
        hours = _within(None if mine is None else (_minutes(mine[0]), _minutes(mine[1])), hours)
    if hours is None or not hours[0] <= minute < hours[1]:
        return "slot_start", (f"{start:%Y-%m-%d %H:%M} ({WEEKDAYS[start.weekday()]}) is outside "
                              f"{'the plateau' + chr(39) + 's ' if own is not None else ''}"
                              "opening hours")
    kind = wall_time_kind(start, zone)
    if kind == "missing":
        return "slot_start", f"{start:%Y-%m-%d %H:%M} does not exist (clocks go forward)"
    if fold == 1 and kind != "repeated":
        return "fold", "fold 1 is only for the second pass of a repeated hour (clocks go back)"
    return None


def wall_time_kind(wall: dt.datetime, zone) -> str:
    """"normal", "missing" (in a spring-forward gap) or "repeated" (in a fall-back overlap)."""
    a = wall.replace(tzinfo=zone, fold=0)
    b = wall.replace(tzinfo=zone, fold=1)
    if a.utcoffset() == b.utcoffset():
        return "normal"
    back = a.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "repeated" if back == wall else "missing"


# --------------------------------------------------------------------------- settings

def _contract_feasible(rules: ShiftRules) -> bool:
    """Whether one adviser can work exactly weekly_hours in at most days_per_week shifts."""
    reachable = {0}  # minutes reachable with the shifts taken so far
    target = round(rules.weekly_hours * 60)
    lengths = {round(h * 60) for h in rules.paid_hours if h > 0}
    for _ in range(rules.days_per_week):
        reachable |= {r + h for r in reachable for h in lengths if r + h <= target}
    return target in reachable


def _working_rules(section: dict, shift_rules: ShiftRules, need):
    """`[rules]`, and the `[shifts]` contract checked against them."""
    from .rosters import rules as rules_mod

    wr = rules_mod.parse_rules(section, need)
    if not (1 <= shift_rules.days_per_week <= 7 and all(0 < h <= 24 for h in shift_rules.paid_hours)):
        return wr  # [shifts] itself is reported
    rules_mod.check_contract(rules_mod.default_contract(shift_rules), wr, need, "shifts.paid_hours")
    return wr


def _settings(data: dict, path: Path, errors: _Errors) -> dict:
    """Check ranges and cross-key rules of the merged settings; return parsed values."""
    file = path

    def get(section, key, default=None):
        return data.get(section, {}).get(key, default)

    def need(cond, msg, field):
        if not cond:
            errors.add(msg, file=file, field=field)
        return cond

    out: dict = {}
    out["name"] = data.get("name") or path.stem
    out["description"] = data.get("description", "")
    need(_ID_RE.match(out["name"]) is not None,
         f"name '{out['name']}' may hold only letters, digits, '_', '-', '.'", "name")

    start = get("horizon", "start")
    if need(start is not None, "missing value", "horizon.start"):
        out["start"] = _parse_date(start)
    weeks = get("horizon", "weeks", 1)
    need(1 <= weeks <= MAX_WEEKS, f"{weeks} is out of range: must be in [1, {MAX_WEEKS}]",
         "horizon.weeks")
    out["weeks"] = weeks
    if out.get("start") and 1 <= weeks <= MAX_WEEKS:
        try:
            out["start"] + dt.timedelta(weeks=weeks + 1)
        except OverflowError:
            errors.add(f"the horizon from {out['start']} runs past the year 9999", file=file,
                       field="horizon.start")
    slot = get("horizon", "slot_minutes", 30)
    need(slot in (15, 30, 60), f"{slot} is not one of 15, 30, 60", "horizon.slot_minutes")
    out["slot_minutes"] = slot
    tz = get("horizon", "timezone", "Europe/Paris")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError for odd keys
        errors.add(f"unknown time zone '{tz}'", file=file, field="horizon.timezone")
    out["timezone"] = tz

    opening_cfg = data.get("opening", {})
    opening = {}
    for d, day in enumerate(WEEKDAYS):
        value = opening_cfg.get(day, opening_cfg.get("default"))
        field = f"opening.{day}" if day in opening_cfg else "opening.default"
        if value is None:
            errors.add(f"no opening hours for {day} (set opening.{day} or opening.default)",
                       file=file, field=f"opening.{day}")
            continue
        if isinstance(value, str):
            opening[d] = None
            continue
        t_open, t_close = _parse_time(value[0]), _parse_time(value[1])
        m_open, m_close = _minutes(t_open), _minutes(t_close)
        if m_open >= m_close:
            errors.add(f"opens at {value[0]} but closes at {value[1]} (one day's hours: to stay "
                       'open past midnight, close at "24:00" and open the next weekday at '
                       '"00:00"; shifts then cross midnight)', file=file, field=field)
        elif slot in (15, 30, 60) and (m_open % slot or m_close % slot):
            errors.add(f"{value[0]}-{value[1]} is not on the {slot}-minute slot grid", file=file,
                       field=field)
        opening[d] = (t_open, t_close)
    need(not opening or any(v is not None for v in opening.values()), "closed every day", "opening")
    out["opening"] = opening
    out["plateau_opening"] = {pid: _plateau_opening(pid, own, opening, slot, file, errors)
                              for pid, own in opening_cfg.get("plateaux", {}).items()}

    out["holidays"] = get("demand", "holidays", "")
    if out["holidays"]:
        import holidays as holidays_lib

        try:
            holidays_lib.country_holidays(out["holidays"])
        except NotImplementedError:
            errors.add(f"unknown country code '{out['holidays']}' for public holidays", file=file,
                       field="demand.holidays")
    hw = get("demand", "holiday_weight", 0.6)
    need(hw >= 0, f"{hw} is out of range: must be >= 0", "demand.holiday_weight")
    out["holiday_weight"] = float(hw)
    from . import calendar as calendar_mod

    out["calendar"] = calendar_mod.parse(data.get("calendar", {}), out["holidays"], need, slot)

    service = data.get("service", {})
    out["sl_scope"] = service.get("sl_scope", "slot")
    need(out["sl_scope"] in ("slot", "day"), f"'{out['sl_scope']}' is not one of slot, day",
         "service.sl_scope")
    out["queueing"] = service.get("queueing", "erlang_c")
    need(out["queueing"] in ("erlang_c", "erlang_a"),
         f"'{out['queueing']}' is not one of erlang_c, erlang_a", "service.queueing")
    out["service_default"] = {k: service[k] for k in TARGET_COLUMNS if k in service}
    out["service_plateaux"] = service.get("plateaux", {})

    shifts = data.get("shifts", {})
    rules = ShiftRules(
        paid_hours=tuple(float(h) for h in shifts.get("paid_hours", [7.0])),
        unpaid_break_minutes=shifts.get("unpaid_break_minutes", 60),
        break_after_hours=float(shifts.get("break_after_hours", 6.0)),
        start_step_minutes=shifts.get("start_step_minutes", 30),
        weekly_hours=float(shifts.get("weekly_hours", 35.0)),
        days_per_week=shifts.get("days_per_week", 5))
    lengths_ok = True
    for h in rules.paid_hours:
        if need(0 < h <= 24, f"{h:g} is out of range: must be in (0, 24]", "shifts.paid_hours"):
            lengths_ok &= need(slot not in (15, 30, 60) or (h * 60) % slot == 0,
                               f"{h:g} h is not a whole number of {slot}-minute slots",
                               "shifts.paid_hours")
        else:
            lengths_ok = False
    b = rules.unpaid_break_minutes
    if need(0 <= b <= 240, f"{b} is out of range: must be in [0, 240]", "shifts.unpaid_break_minutes"):
        need(slot not in (15, 30, 60) or b % slot == 0,
             f"{b} min is not a whole number of {slot}-minute slots", "shifts.unpaid_break_minutes")
    need(rules.break_after_hours >= 0, "must be >= 0", "shifts.break_after_hours")
    step = rules.start_step_minutes
    if need(step > 0, f"{step} is out of range: must be > 0", "shifts.start_step_minutes"):
        need(slot not in (15, 30, 60) or step % slot == 0,
             f"{step} is not a multiple of the slot length {slot}", "shifts.start_step_minutes")
    need(0 < rules.weekly_hours <= 60, f"{rules.weekly_hours:g} is out of range: must be in (0, 60]",
         "shifts.weekly_hours")
    if need(1 <= rules.days_per_week <= 7,
            f"{rules.days_per_week} is out of range: must be in [1, 7]", "shifts.days_per_week") \
            and lengths_ok and 0 < rules.weekly_hours <= 60:
        need(_contract_feasible(rules),
             f"{rules.weekly_hours:g} h cannot be made of at most {rules.days_per_week} shifts "
             f"of {', '.join(f'{h:g}' for h in rules.paid_hours)} h", "shifts.weekly_hours")
    out["shifts"] = rules
    out["rules"] = _working_rules(data.get("rules", {}), rules, need)
    from .rosters import contracts as contracts_mod

    out["contracts"] = contracts_mod.parse(data.get("contracts", {}), rules, out["rules"], need,
                                           slot if slot in (15, 30, 60) else 30)
    out["team_contracts"] = contracts_mod.parse_mixes(data.get("teams", {}), out["contracts"],
                                                      need)

    pricing = data.get("pricing", {})
    regimes = pricing.get("regimes", {})
    records = []
    for rid, reg in regimes.items():
        key = f"pricing.regimes.{rid}"
        if not _ID_RE.match(rid):
            errors.add(f"regime id '{rid}' {ID_RULE}", file=file, field=key)
            continue
        eur = reg.get("eur_per_min")
        if not need(eur is not None, "missing value", f"{key}.eur_per_min"):
            continue
        rec = {"id": rid, "name": reg.get("name", rid),
               "setup_eur_per_call": float(reg.get("setup_eur_per_call", 0.0)),
               "eur_per_min": float(eur),
               "eur_per_min_offpeak": float(reg.get("eur_per_min_offpeak", eur)),
               "peak_start": _parse_time(reg.get("peak_start", "08:00")),
               "peak_end": _parse_time(reg.get("peak_end", "19:00")),
               "bill_waiting": bool(reg.get("bill_waiting", False)),
               "operator_share": float(reg.get("operator_share", 0.0)),
               "call_uplift": float(reg.get("call_uplift", 0.0))}
        for f in ("setup_eur_per_call", "eur_per_min", "eur_per_min_offpeak"):
            need(rec[f] >= 0, f"{rec[f]:g} is out of range: must be >= 0", f"{key}.{f}")
        need(0 <= rec["operator_share"] <= 1,
             f"{rec['operator_share']:g} is out of range: must be in [0, 1]", f"{key}.operator_share")
        need(rec["call_uplift"] > -1, f"{rec['call_uplift']:g} is out of range: must be > -1",
             f"{key}.call_uplift")
        need(_minutes(rec["peak_start"]) <= _minutes(rec["peak_end"]),
             "peak_start is after peak_end", f"{key}.peak_start")
        records.append(rec)
    need(bool(regimes), "no pricing regimes ([pricing.regimes.ID])", "pricing.regimes")
    cols = ["id", "name", "setup_eur_per_call", "eur_per_min", "eur_per_min_offpeak", "peak_start",
            "peak_end", "bill_waiting", "operator_share", "call_uplift"]
    out["regimes"] = pd.DataFrame.from_records(records, columns=cols).set_index("id")
    active = pricing.get("active")
    if need(active is not None, "missing value", "pricing.active") and regimes:
        need(active in regimes, f"unknown regime '{active}' (have {', '.join(regimes)})",
             "pricing.active")
    base = pricing.get("base", active)
    if regimes and base is not None:
        need(base in regimes, f"unknown regime '{base}' (have {', '.join(regimes)})", "pricing.base")
    out["active_regime"], out["base_regime"] = active, base
    fr = get("demand", "forecast_regime")
    if fr is not None and regimes:
        need(fr in regimes, f"unknown regime '{fr}' (have {', '.join(regimes)})",
             "demand.forecast_regime")
    out["forecast_regime"] = fr

    policy = data.get("policy", {})
    cap = float(policy.get("offshore_cap", 1.0))
    need(0 <= cap <= 1, f"{cap:g} is out of range: must be in [0, 1]", "policy.offshore_cap")
    pen = float(policy.get("shortfall_penalty_eur_per_agent_hour", 500.0))
    need(0 <= pen <= 1e6, f"{pen:g} is out of range: must be in [0, 1e6]",
         "policy.shortfall_penalty_eur_per_agent_hour")
    share = float(policy.get("max_shortfall_share", 0.0))
    need(0 <= share <= 1, f"{share:g} is out of range: must be in [0, 1]", "policy.max_shortfall_share")
    out["offshore_cap"], out["shortfall_penalty_eur_per_agent_hour"] = cap, pen
    out["max_shortfall_share"] = share

    inputs = data.get("inputs", {})
    out["inputs"] = {}
    for key in ("plateaux", "providers", "profiles", "forecast", "roster_state", "advisers"):
        value = inputs.get(key)
        if value is None:
            need(key in ("forecast", "roster_state", "advisers"),
                 "missing value: path of the input table",
                 f"inputs.{key}")
            continue
        p = Path(value)
        if not p.is_file():
            errors.add(f"input table not found: {p}", file=file, field=f"inputs.{key}")
        elif p.suffix.lower() not in ((".csv", ".xlsx", ".parquet") if key == "forecast"
                                      else (".csv", ".xlsx")):
            kinds = ".csv, .xlsx or .parquet" if key == "forecast" else ".csv or .xlsx"
            errors.add(f"{p.name}: input tables must be {kinds}", file=file, field=f"inputs.{key}")
        else:
            out["inputs"][key] = p
    return out


_TARGET_RANGES = {  # (low, high, low_open, high_open)
    "sl_target": (0, 1, True, True), "answer_s": (0, None, False, False),  # SL 1: out of reach
    "asa_s": (0, None, True, False), "max_occupancy": (0, 1, True, False),
    "patience_s": (0, None, True, False), "max_abandon": (0, 1, True, True),
}


def _targets(s: dict, plateau_ids, file, errors: _Errors) -> pd.DataFrame:
    rows = {}
    for pid, over in s["service_plateaux"].items():
        if pid not in plateau_ids:
            errors.add(f"unknown plateau id '{pid}'", file=file, field=f"service.plateaux.{pid}")
    for pid in s["plateau_opening"]:
        if pid not in plateau_ids:
            errors.add(f"unknown plateau id '{pid}'", file=file, field=f"opening.plateaux.{pid}")
    for pid in plateau_ids:
        merged = {**s["service_default"], **s["service_plateaux"].get(pid, {})}
        row = {}
        for col in TARGET_COLUMNS:
            value = merged.get(col)
            field = f"service.plateaux.{pid}.{col}" if col in s["service_plateaux"].get(pid, {}) \
                else f"service.{col}"
            if value is None:
                if col in ("sl_target", "answer_s") or (col == "patience_s" and s["queueing"] == "erlang_a"):
                    why = " (needed by queueing = 'erlang_a')" if col == "patience_s" else ""
                    errors.add(f"missing value for plateau '{pid}'{why}", file=file, field=field)
                row[col] = _NAN
                continue
            lo, hi, lo_open, hi_open = _TARGET_RANGES[col]
            try:
                _Column("float", low=lo, high=hi, low_open=lo_open, high_open=hi_open)._check_range(value)
            except ValueError as exc:
                errors.add(str(exc), file=file, field=field)
            row[col] = float(value)
        if not math.isnan(row["max_abandon"]) and s["queueing"] != "erlang_a":
            errors.add("max_abandon needs queueing = 'erlang_a'", file=file, field="service.max_abandon")
        rows[pid] = row
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(TARGET_COLUMNS), dtype=float)
    frame.index.name = "plateau"
    return frame


def _plateau_opening(pid: str, own: dict, centre: dict, slot: int, file, errors: _Errors) -> dict:
    """`[opening.plateaux.<pid>]`: weekday 0..6 -> (time, time) or None; a weekday without its
    own key or `default` takes the centre's hours. Each span is on the slot grid and within
    the centre's hours of that weekday (they bound the shifts and the calendar)."""
    out = {}
    for d, day in enumerate(WEEKDAYS):
        field = f"opening.plateaux.{pid}.{day}" if day in own else f"opening.plateaux.{pid}.default"
        value = own.get(day, own.get("default"))
        if value is None:
            out[d] = centre.get(d)
            continue
        if isinstance(value, str):
            out[d] = None
            continue
        t_open, t_close = _parse_time(value[0]), _parse_time(value[1])
        m_open, m_close = _minutes(t_open), _minutes(t_close)
        hours = centre.get(d)
        if m_open >= m_close:
            errors.add(f"opens at {value[0]} but closes at {value[1]} (one day's hours)",
                       file=file, field=field)
        elif slot in (15, 30, 60) and (m_open % slot or m_close % slot):
            errors.add(f"{value[0]}-{value[1]} is not on the {slot}-minute slot grid", file=file,
                       field=field)
        elif hours is None:
            errors.add(f"open on {day} while the centre is closed (opening.{day})", file=file,
                       field=field)
        elif m_open < _minutes(hours[0]) or m_close > _minutes(hours[1]):
            errors.add(f"{value[0]}-{value[1]} on {day} is outside the centre's hours "
                       f"{hours[0]:%H:%M}-{_hhmm(hours[1])} (opening.{day})", file=file,
                       field=field)
        out[d] = (t_open, t_close)
    return out


def _hhmm(t: dt.time) -> str:
    return "24:00" if t == dt.time.max else f"{t:%H:%M}"


def _check_intraday(profiles: Profiles, opening: dict, file, errors: _Errors,
                    plateau_opening: dict | None = None):
    """Each plateau must receive calls on each open weekday (of its own hours when it has
    them: `plateau_opening`)."""
    for p in profiles.weekday.index:
        keys, weights = profiles.intraday_steps(p)
        for d, hours in (plateau_opening or {}).get(p, opening).items():
            if hours is None or profiles.weekday.loc[p, d] == 0:
                continue
            lo, hi = _minutes(hours[0]), _minutes(hours[1])
            edges = np.append(keys, 1440.0)
            overlap = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None)
            if float((overlap * weights).sum()) <= 0:
                errors.add(f"intraday profile of '{p}' is zero throughout the opening hours of "
                           f"{WEEKDAYS[d]}", file=file, field="weight")


# --------------------------------------------------------------------------- pricing timeline

def regime_timeline(config: dict, regimes, file=None) -> list[tuple[dt.date | None, dt.date | None, str]]:
    """`[[pricing.timeline]]` as (from, until, regime) spans, sorted; None = open-ended.

    Days no span covers keep `pricing.active`. InputError (file, `pricing.timeline[i].key`) for an
    unknown regime, from after until, or spans that overlap.
    """
    errors = _Errors()
    spans = []
    for i, item in enumerate(config.get("pricing", {}).get("timeline", []), start=1):
        key = f"pricing.timeline[{i}]"
        rid = item.get("regime")
        lo, hi = _parse_date(item.get("from")), _parse_date(item.get("until"))
        if rid is None:
            errors.add("missing value", file=file, field=f"{key}.regime")
        elif rid not in regimes:
            errors.add(f"unknown regime '{rid}' (have {', '.join(regimes)})", file=file,
                       field=f"{key}.regime")
        if lo is not None and hi is not None and lo > hi:
            errors.add(f"from {lo} is after until {hi}", file=file, field=f"{key}.from")
        spans.append((lo, hi, rid, key))
    spans.sort(key=lambda t: t[0] or dt.date.min)
    for (lo1, hi1, _, _), (lo2, _, _, key2) in zip(spans, spans[1:]):
        if hi1 is None or lo2 is None or lo2 <= hi1:
            errors.add(f"overlaps the span before it (until {hi1 or 'open'})", file=file,
                       field=f"{key2}.from")
    errors.raise_if_any()
    return [(lo, hi, rid) for lo, hi, rid, _ in spans]


def regime_on(scenario: Scenario, dates) -> np.ndarray:
    """The pricing regime in force on each date (array of ids): the timeline's, else the active."""
    days = pd.to_datetime(pd.Series(dates)).dt.date.to_numpy()
    out = np.full(len(days), scenario.active_regime, dtype=object)
    for lo, hi, rid in regime_timeline(scenario.config, scenario.regimes.index, scenario.path):
        inside = np.array([(lo is None or d >= lo) and (hi is None or d <= hi) for d in days],
                          dtype=bool)
        out[inside] = rid
    return out


# --------------------------------------------------------------------------- cross checks

def _open_days(s: dict) -> list[tuple[int, int]]:
    return [(_minutes(h[0]), _minutes(h[1])) for h in s["opening"].values() if h is not None]


def _check_shift_lengths(s: dict, file, errors: _Errors) -> None:
    """Every shift length must fit the opening hours of at least one day (with its break)."""
    from . import shifts as shifts_mod

    rules, days = s["shifts"], _open_days(s)
    longest = max((b - a for a, b in days), default=0)
    for h in rules.paid_hours:
        one = dataclasses.replace(rules, paid_hours=(h,))
        if not any(shifts_mod.day_patterns(a, b, s["slot_minutes"], one) for a, b in days):
            brk = (f" plus a {rules.unpaid_break_minutes} min unpaid break"
                   if h > rules.break_after_hours and rules.unpaid_break_minutes else "")
            errors.add(f"a {h:g} h shift{brk} fits no day's opening hours (longest day "
                       f"{longest / 60:g} h)", file=file, field="shifts.paid_hours")


def _check_take_or_pay(providers: pd.DataFrame, s: dict, file, errors: _Errors) -> None:
    """A take-or-pay minimum needs seats: with none, its hours are paid for no agent at all.

    (A minimum above seats x opening hours is a contract's price, paid in part for nothing;
    the optimiser prices it as such.)"""
    for pid, r in providers.iterrows():
        if r["kind"] == "inhouse" or not r["min_weekly_hours"] > 0 or not r["seats"] == 0:
            continue
        errors.add(f"provider '{pid}' has a take-or-pay minimum of {r['min_weekly_hours']:g} h a "
                   f"week but 0 seats: hours paid that no agent can work", file=file,
                   field="min_weekly_hours")


# --------------------------------------------------------------------------- load

def load(path_or_name: str | Path | None = None, overrides: dict | None = None) -> Scenario:
    """Read a model (path or name; default orange-2009), merge `extends`, apply overrides, check all."""
    path = resolve_model(path_or_name)
    data, model_files = _read_chain(path)
    if overrides:
        data = _apply_overrides(data, overrides)
    errors = _Errors(overrides or ())
    s = _settings(data, path, errors)
    errors.raise_if_any()

    inputs = s["inputs"]
    plateaux = _load_plateaux(inputs["plateaux"], errors)
    errors.raise_if_any()
    ids = list(plateaux.index)
    providers = _load_providers(inputs["providers"], ids, errors)
    profiles = _load_profiles(inputs["profiles"], ids, s["holidays"], s["holiday_weight"], errors)
    if not errors.items:
        _check_intraday(profiles, s["opening"], inputs["profiles"], errors, s["plateau_opening"])
    forecast = None
    if "forecast" in inputs:
        forecast = _load_forecast(inputs["forecast"], ids, s["opening"], s["slot_minutes"],
                                  s["timezone"], errors, s.get("calendar"), s["plateau_opening"])
    targets = _targets(s, ids, path, errors)
    errors.raise_if_any()
    regime_timeline(data, s["regimes"].index, path)
    _check_shift_lengths(s, path, errors)
    _check_take_or_pay(providers, s, inputs["providers"], errors)
    from .rosters.contracts import check_mixes, check_workable

    check_mixes(s["team_contracts"], providers, path, errors)
    errors.raise_if_any()
    advisers = None
    if "advisers" in inputs:
        from .rosters import advisers as advisers_mod

        advisers = advisers_mod.load_advisers(inputs["advisers"], providers, s["contracts"])
        advisers_mod.check_mixes(advisers, s["team_contracts"], path)
    used = {c for mix in s["team_contracts"].values() for c in mix}
    used |= set() if advisers is None else set(advisers["contract"])
    check_workable(s["contracts"], used - {"full-time"},
                   {d: (_minutes(h[0]), _minutes(h[1])) for d, h in s["opening"].items()
                    if h is not None}, s["slot_minutes"], s["shifts"], path, errors)
    errors.raise_if_any()
    roster_state = None
    if "roster_state" in inputs:
        from .rosters.state import load_state

        named = set() if advisers is None else set(advisers["team"])
        generated = {f"{k}-{i:04d}" for k, h in providers.loc[providers["kind"] == "inhouse",
                                                              "headcount"].items()
                     if k not in named for i in range(1, int(h) + 1)}
        generated |= set() if advisers is None else set(advisers["id"])
        roster_state = load_state(inputs["roster_state"], s["start"], generated)

    input_files = {"model": path}
    for i, parent in enumerate(model_files[1:], start=1):
        input_files[f"extends{i}"] = parent
    input_files.update(inputs)
    return Scenario(
        name=s["name"], description=s["description"], path=path, start=s["start"],
        weeks=s["weeks"], slot_minutes=s["slot_minutes"], timezone=s["timezone"],
        opening=s["opening"], sl_scope=s["sl_scope"], queueing=s["queueing"], targets=targets,
        shifts=s["shifts"], regimes=s["regimes"], active_regime=s["active_regime"],
        base_regime=s["base_regime"], offshore_cap=s["offshore_cap"],
        shortfall_penalty_eur_per_agent_hour=s["shortfall_penalty_eur_per_agent_hour"],
        max_shortfall_share=s["max_shortfall_share"], plateaux=plateaux, providers=providers,
        profiles=profiles, forecast=forecast, input_files=input_files, config=data,
        forecast_regime=s["forecast_regime"], rules=s["rules"], roster_state=roster_state,
        calendar=s["calendar"], contracts=s["contracts"], team_contracts=s["team_contracts"],
        advisers=advisers, plateau_opening=s["plateau_opening"])
