"""What `staffing validate` and `staffing requirements` print and write."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from . import safe_text, tempfiles
from .errors import InputError
from .scenario import WEEKDAYS, Scenario


def summary(scenario: Scenario) -> dict:
    """Headline figures of a checked scenario (the keys of `validate --json`)."""
    from .demand import slot_grid, uplift_factor

    prov = scenario.providers
    inhouse = prov[prov["kind"] == "inhouse"]
    factor = uplift_factor(scenario)
    per_plateau = scenario.plateaux["annual_calls"] * factor
    grid = slot_grid(scenario, scenario.start, scenario.end - pd.Timedelta(days=1))
    return {
        "scenario": scenario.name,
        "model": str(scenario.path),
        "plateaux": int(len(scenario.plateaux)),
        "providers": int(len(prov)),
        "inhouse_teams": int(len(inhouse)),
        "inhouse_headcount": int(inhouse["headcount"].sum()),
        "subcontractors": int((prov["kind"] == "subcontractor").sum()),
        "subcontractor_seats": int(prov.loc[prov["kind"] == "subcontractor", "seats"].sum()),
        "offshore_sites": int((prov["kind"] == "offshore").sum()),
        "offshore_seats": int(prov.loc[prov["kind"] == "offshore", "seats"].sum()),
        "regime": scenario.active_regime,
        "base_regime": scenario.base_regime,
        "calls_per_year": round(float(per_plateau.sum()), 3),
        "calls_per_year_by_plateau": {k: round(float(v), 3) for k, v in per_plateau.items()},
        "horizon_start": scenario.start.isoformat(),
        "weeks": scenario.weeks,
        "slot_minutes": scenario.slot_minutes,
        "slots": int(len(grid)),
        "forecast_rows": 0 if scenario.forecast is None else int(len(scenario.forecast)),
        "forecast_rows_in_horizon": _forecast_in_horizon(scenario),
        "forecast_regime": scenario.forecast_regime,
        "warnings": _warnings(scenario),
    }


def _forecast_in_horizon(scenario: Scenario) -> int:
    from .demand import forecast_rows_in

    return forecast_rows_in(scenario, scenario.start, scenario.end - pd.Timedelta(days=1))


def _warnings(scenario: Scenario) -> list[str]:
    """What the scenario allows but a planner should know: open periods that no allowed shift
    covers (in-house advisers never work them)."""
    from .rosters.patterns import (hhmm, uncovered_exception_periods, uncovered_periods,
                                   uncovered_plateau_periods)

    tail = (f"is open but no allowed shift covers it: in-house advisers never work it "
            f"(shifts.paid_hours {', '.join(f'{h:g}' for h in scenario.shifts.paid_hours)} h)")
    end = lambda b: hhmm(b) if b < 1440 else "24:00"  # noqa: E731
    out = [f"{WEEKDAYS[d]} {hhmm(a)}-{end(b)} {tail}" for d, a, b in uncovered_periods(scenario)]
    for i, ex, a, b in uncovered_exception_periods(scenario):
        dates = f"{ex.first}" + (f" to {ex.last}" if ex.last != ex.first else "")
        out.append(f"calendar.exceptions[{i}] {dates} {hhmm(a)}-{end(b)} {tail}")
    out += [f"opening.plateaux.{p} {WEEKDAYS[d]} {hhmm(a)}-{end(b)} is open but no shift of a "
            f"team serving {p} covers it: in-house advisers never work it there"
            for p, d, a, b in uncovered_plateau_periods(scenario)]
    return out + _silent_warnings(scenario, end)


def _silent_warnings(scenario: Scenario, end) -> list[str]:
    """Open hours without calls (demand.silent_periods), one line per period and its
    plateaux, weekdays in runs."""
    from .demand import silent_periods
    from .rosters.patterns import hhmm

    days: dict = {}
    for p, d, a, b in silent_periods(scenario):
        days.setdefault((a, b, p), []).append(d)
    plateaux: dict = {}  # (start, end, weekdays) -> plateaux
    for (a, b, p), ds in days.items():
        plateaux.setdefault((a, b, tuple(ds)), []).append(p)
    source = Path(scenario.input_files.get("profiles", "profiles.csv")).name
    out = []
    for (a, b, ds), ps in sorted(plateaux.items(), key=lambda kv: (kv[0][2][0], kv[0][0])):
        who = "any plateau" if len(ps) == len(scenario.plateaux) > 1 else ", ".join(ps)
        out.append(f"{_day_runs(ds)} {hhmm(a)}-{end(b)} is open but the intraday profile "
                   f"({source}) gives no calls then to {who} (zero before its first key, or a "
                   f"weight of 0): nothing is planned for those hours; give the profile a key "
                   f"at {hhmm(a)}, or close them in [opening]")
    return out


def _day_runs(days) -> str:
    """Weekday numbers as runs of names: (0, 1, 2, 4) -> "mon-wed, fri"."""
    runs: list = []
    for d in sorted(days):
        if runs and d == runs[-1][1] + 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return ", ".join(WEEKDAYS[a] if a == b else f"{WEEKDAYS[a]}-{WEEKDAYS[b]}" for a, b in runs)


def _opening_text(scenario: Scenario, plateau: str | None = None) -> str:
    def fmt(hours):
        if hours is None:
            return "closed"
        close = "24:00" if hours[1].hour == 23 and hours[1].minute == 59 else f"{hours[1]:%H:%M}"
        return f"{hours[0]:%H:%M}-{close}"

    opening = scenario.plateau_opening.get(plateau, scenario.opening)
    parts, d = [], 0
    while d < 7:  # group runs of weekdays with the same hours
        e = d
        while e + 1 < 7 and opening.get(e + 1) == opening.get(d):
            e += 1
        days = WEEKDAYS[d] if d == e else f"{WEEKDAYS[d]}-{WEEKDAYS[e]}"
        parts.append(f"{days} {fmt(opening.get(d))}")
        d = e + 1
    return ", ".join(parts)


def _calendar_lines(scenario: Scenario) -> list[str]:
    """`[calendar]` in one line, when it changes anything."""
    cal = scenario.calendar
    if cal is None or (cal.holidays == "open" and not cal.exceptions):
        return []
    parts = [f"public holidays ({cal.country}) closed"] if cal.holidays == "closed" else []
    for ex in cal.exceptions:
        dates = f"{ex.first}" + (f" to {ex.last}" if ex.last != ex.first else "")
        end = "24:00" if ex.hours and ex.hours[1] == 1440 else None
        hours = "closed" if ex.hours is None else (
            f"{ex.hours[0] // 60:02d}:{ex.hours[0] % 60:02d}-"
            f"{end or f'{ex.hours[1] // 60:02d}:{ex.hours[1] % 60:02d}'}")
        parts.append(f"{dates} {hours}")
    return [f"calendar    {'; '.join(parts)} (closed days paid, not worked, in-house)"]


def _contract_lines(scenario: Scenario) -> list[str]:
    """The teams' contracts and named advisers, when a team has more than `[shifts]`."""
    from .rosters.contracts import groups

    gs = [g for g in groups(scenario) if g.count is not None]
    if not gs:
        return []
    per: dict = {}
    for g in gs:
        per.setdefault(g.team, {}).setdefault(g.contract.id, 0)
        per[g.team][g.contract.id] += g.count
    lines = [f"contracts   {k}: " + ", ".join(f"{n} {c}" for c, n in mix.items())
             for k, mix in per.items()]
    named = getattr(scenario, "advisers", None)
    if named is not None:
        away = sum(1 for lv in named["unavailable"]
                   if any(scenario.start <= d < scenario.end for d in lv))
        split = sum(1 for g in gs if g.skills is not None and g.members
                    and g.skills != tuple(scenario.providers.at[g.team, "plateaux"]))
        lines.append(f"advisers    {len(named)} named ({', '.join(dict.fromkeys(named['team']))}),"
                     f" {away} unavailable on some date of the horizon, {split} skill subset(s)")
    return lines


def render_summary(scenario: Scenario, info: dict) -> str:
    """Human-readable summary for `staffing validate`."""
    t = scenario.targets
    base = float(scenario.plateaux["annual_calls"].sum())
    lines = [
        f"scenario    {info['scenario']}: {scenario.description}",
        f"model       {info['model']}",
        f"horizon     {info['horizon_start']}, {info['weeks']} week(s), {info['slot_minutes']}-min "
        f"slots, {info['slots']} open slots ({_opening_text(scenario)})",
        *_calendar_lines(scenario),
        *_contract_lines(scenario),
        f"plateaux    {info['plateaux']}: {', '.join(scenario.plateaux.index)}",
        f"calls/year  {info['calls_per_year']:,.0f} under {info['regime']} "
        f"({base:,.0f} observed under {info['base_regime']})",
    ]
    for pid, calls in info["calls_per_year_by_plateau"].items():
        aht = scenario.plateaux.loc[pid, "aht_s"]
        tgt = t.loc[pid]
        own = (f", open {_opening_text(scenario, pid)}" if pid in scenario.plateau_opening
               else "")
        lines.append(f"  {pid:<10}{calls:>14,.0f} calls, aht {aht:g} s, target "
                     f"{tgt['sl_target']:.0%} in {tgt['answer_s']:g} s{own}")
    lines += [
        f"providers   {info['providers']}: {info['inhouse_teams']} in-house teams "
        f"({info['inhouse_headcount']:,} advisers), {info['subcontractors']} subcontractors "
        f"({info['subcontractor_seats']:,} seats), {info['offshore_sites']} offshore site(s) "
        f"({info['offshore_seats']:,} seats, cap {scenario.offshore_cap:.0%} of answering hours)",
        f"service     {scenario.sl_scope} scope, {scenario.queueing}",
    ]
    if info["forecast_rows"]:
        regime = (f"observed under {info['forecast_regime']}, scaled to {info['regime']}'s uplift"
                  if info["forecast_regime"] else f"taken as observed under {info['regime']}")
        lines.append(f"forecast    {info['forecast_rows_in_horizon']:,} of {info['forecast_rows']:,} "
                     f"rows in the horizon replace the generated demand ({regime})")
    lines += [f"warning     {w}" for w in info["warnings"]]
    lines.append("ok")
    return "\n".join(lines)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def write_table(frame: pd.DataFrame, path) -> Path:
    """Write CSV or xlsx (by extension) atomically: a temp file in the same folder, then rename.

    Text is written as text: CSV cells led by = + - @ are neutralised, workbook cells holding
    text are text cells (staffing.safe_text).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"unknown output format '{suffix or path.name}': use .csv or .xlsx",
                         file=str(path), field="--output")
    folder = path.parent if str(path.parent) else Path(".")
    tempfiles.check_name(path)
    if not folder.is_dir():  # an output FILE's folder is not made up: a typo would go unseen
        raise InputError(f"folder {folder} does not exist", file=str(path), field="--output")
    tempfiles.clean_stale(folder)
    fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(path.name), suffix=suffix, dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private: a normal file's mode instead
        if suffix == ".csv":
            from .results.files import write_csv

            write_csv(safe_text.escape_frame(frame), tmp)
        else:
            _write_xlsx(frame, tmp, sheet_title(path.stem))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sheet_title(stem: str) -> str:
    """An Excel sheet title from a file stem: no []:*?/\\, no leading or trailing ', 31 chars."""
    title = re.sub(r"[\[\]:*?/\\]", "_", stem).strip("'")[:31]
    return title or "table"


def _write_xlsx(frame: pd.DataFrame, path, title: str) -> None:
    """One sheet: a header row, then the rows; text in text cells, datetimes as Excel dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.append([safe_text.text_cell(ws, str(c)) for c in frame.columns])
    date_cols = {j for j, c in enumerate(frame.columns)
                 if pd.api.types.is_datetime64_any_dtype(frame[c])}
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for j, v in enumerate(row):
            v = safe_text.excel_value(v)
            if isinstance(v, str):
                cells.append(safe_text.text_cell(ws, v))
            elif isinstance(v, float) and v in (float("inf"), float("-inf")):
                cells.append("#NUM!")  # an error cell, as in plan.xlsx
            elif j in date_cols and v is not None:
                c = WriteOnlyCell(ws, value=pd.Timestamp(v).to_pydatetime())
                c.number_format = "yyyy-mm-dd hh:mm"
                cells.append(c)
            else:
                cells.append(v)
        ws.append(cells)
    wb.save(path)
