"""Calls and handle time per plateau x slot over a horizon, and the agents they require.

Volume of a day = annual calls x its share of the year's day weights (weekday x month x public
holiday; days closed by their weekday or by `[calendar]` weigh 0), so the days of a calendar year add up to the annual volume. A day's
calls are spread over its open slots by the integral of the intraday intensity over each slot.
A plateau with its own hours (`[opening.plateaux.<id>]`) has its own slots and weighs 0 on the
days it is closed: its year still adds up to its annual volume, each day's over its own hours.
Slots follow wall-clock opening hours in the scenario's time zone: on the spring-forward day the
missing hour has no slots, on the fall-back day the repeated hour appears twice, told apart by the
`fold` column (0, or 1 for the second pass, as in `datetime.fold`). The active pricing regime's
call uplift scales the volume; an imported forecast then replaces the rows it covers: as given
(a warning says so when the regime has an uplift), or, with `demand.forecast_regime` naming the
regime it was observed under, times the planned regime's uplift against that one. Forecast rows
outside the horizon are an error when none is inside, a warning with the count used otherwise.
"""

from __future__ import annotations

import datetime as dt
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .errors import InputError, StaffingWarning
from .scenario import Scenario, wall_time_kind

DEMAND_COLUMNS = ["slot_start", "fold", "slot_minutes", "date", "weekday", "plateau", "calls", "aht_s"]
REQUIREMENT_COLUMNS = ["scenario", "slot_start", "slot_minutes", "plateau", "calls", "aht_s",
                       "live_aht_s", "load_erlangs", "agents", "scheduled", "service_level", "asa_s", "occupancy",
                       "p_wait", "p_abandon"]


def uplift_factor(scenario: Scenario, regime: str | None = None) -> float:
    """Volume multiplier of a regime against the base regime the volumes were observed under."""
    regime = regime or scenario.active_regime
    if regime not in scenario.regimes.index:
        raise InputError(f"unknown regime '{regime}' (have {', '.join(scenario.regimes.index)})",
                         field="regime")
    up = scenario.regimes["call_uplift"]
    return float((1.0 + up[regime]) / (1.0 + up[scenario.base_regime]))


def day_weights(scenario: Scenario, year: int) -> pd.DataFrame:
    """Relative volume of each day of a year per plateau (rows: dates, columns: plateaux)."""
    days = pd.date_range(dt.date(year, 1, 1), dt.date(year, 12, 31), freq="D")
    prof = scenario.profiles
    weekday = days.day_of_week.to_numpy()
    month = days.month.to_numpy()
    ids = list(scenario.plateaux.index)
    open_day = np.array([[scenario.opening_on(d, p) is not None for p in ids]
                         for d in days.date], dtype=float).reshape(len(days), len(ids))
    factor = open_day.T  # plateaux x days
    if prof.holidays:
        import holidays as holidays_lib

        hol = holidays_lib.country_holidays(prof.holidays, years=[year])
        is_hol = np.array([d in hol for d in days.date])
        factor = factor * np.where(is_hol, prof.holiday_weight, 1.0)  # open holidays
    wk = prof.weekday.loc[ids].to_numpy(dtype=float)  # plateaux x 7
    mo = prof.month.loc[ids].to_numpy(dtype=float)  # plateaux x 12
    w = wk[:, weekday] * mo[:, month - 1] * factor
    return pd.DataFrame(w.T, index=days, columns=ids)


def _slot_weights(keys: np.ndarray, weights: np.ndarray, starts: np.ndarray, minutes: int) -> np.ndarray:
    """Integral of the intraday step function over [start, start + minutes) for each start."""
    edges = np.append(keys, 1440.0)
    cum = np.concatenate([[0.0], np.cumsum(weights * np.diff(edges))])
    xs = np.concatenate([[0.0], edges]) if keys[0] > 0 else edges
    fs = np.concatenate([[0.0], cum]) if keys[0] > 0 else cum
    ends = np.minimum(starts + minutes, 1440.0)
    return np.interp(ends, xs, fs) - np.interp(starts, xs, fs)


SILENT_MIN_MINUTES = 60  # open hours without calls reported from this long (a calibrated
# profile has quiet half-hours of its own)


def silent_periods(scenario: Scenario) -> list[tuple[str, int, int, int]]:
    """Open hours the intraday profile gives no calls, for SILENT_MIN_MINUTES at least:
    (plateau, weekday 0..6, start, end) in minutes after midnight, merged; e.g. a centre open
    at 00:00 whose profile's first key is 08:00 (zero before it), or a key of weight 0 while
    the plateau is open. Left out: a
    weekday whose day weight is 0 (no calls that day, by design), and a weekday's period in
    which a forecast row of the plateau within the horizon brings calls (calls > 0)."""
    fc = scenario.forecast
    brought: dict = {}  # plateau -> (weekdays, minutes after midnight) of its forecast calls
    if fc is not None and len(fc):
        t = pd.to_datetime(fc["slot_start"])
        day = t.dt.normalize()
        on = ((fc["calls"].to_numpy(float) > 0) & (day >= pd.Timestamp(scenario.start)).to_numpy()
              & (day < pd.Timestamp(scenario.end)).to_numpy())
        rows = pd.DataFrame({"p": fc["plateau"].to_numpy(), "d": t.dt.day_of_week.to_numpy(),
                             "m": (t.dt.hour * 60 + t.dt.minute).to_numpy()})[on]
        for p, g in rows.groupby("p"):
            brought[p] = (g["d"].to_numpy(), g["m"].to_numpy())
    weekday = scenario.profiles.weekday
    out = []
    for p in scenario.plateaux.index:
        keys, weights = scenario.profiles.intraday_steps(p)
        if not len(keys):
            continue
        edges = np.append(keys, 1440.0)
        zero = ([(0.0, float(keys[0]))] if keys[0] > 0 else []) + [
            (float(a), float(b)) for a, b, w in zip(edges[:-1], edges[1:], weights) if w <= 0]
        for d in range(7):
            hours = scenario.opening_minutes(d, p)
            if hours is None or float(weekday.loc[p].iloc[d]) <= 0:
                continue
            spans = [(max(a, hours[0]), min(b, hours[1])) for a, b in zero]
            merged: list = []
            for a, b in sorted(x for x in spans if x[0] < x[1]):
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
                else:
                    merged.append((a, b))
            fd, fm = brought.get(p, (np.zeros(0), np.zeros(0)))
            out += [(p, d, int(a), int(b)) for a, b in merged if b - a >= SILENT_MIN_MINUTES
                    and not ((fd == d) & (fm >= a) & (fm < b)).any()]
    return out


def slot_grid(scenario: Scenario, first: dt.date, last: dt.date,
              plateau: str | None = None) -> pd.DataFrame:
    """Open slots from day `first` to day `last` inclusive: date, minute (wall clock), fold;
    of the centre's hours, or of `plateau`'s own (Scenario.opening_on)."""
    zone = ZoneInfo(scenario.timezone)
    step = scenario.slot_minutes
    dates, minutes, folds = [], [], []
    day = first
    one = dt.timedelta(days=1)
    while day <= last:
        hours = scenario.opening_on(day, plateau)
        if hours is not None:
            mins = np.arange(hours[0], hours[1], step)
            midnight = dt.datetime.combine(day, dt.time())
            if _offset(midnight, zone) == _offset(midnight + one, zone):
                m_list, f_list = mins, np.zeros(len(mins), dtype=np.int64)
            else:  # a clock change happens this day
                m_list, f_list = [], []
                for m in mins:
                    kind = wall_time_kind(midnight + dt.timedelta(minutes=int(m)), zone)
                    if kind == "missing":
                        continue
                    m_list.append(m)
                    f_list.append(0)
                    if kind == "repeated":
                        m_list.append(m)
                        f_list.append(1)
                m_list, f_list = np.array(m_list, dtype=np.int64), np.array(f_list, dtype=np.int64)
            dates.append(np.full(len(m_list), np.datetime64(day, "D")))
            minutes.append(m_list)
            folds.append(f_list)
        day += one
    if not dates:
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"),
                             "minute": pd.Series([], dtype="int64"),
                             "fold": pd.Series([], dtype="int64")})
    return pd.DataFrame({"date": np.concatenate(dates).astype("datetime64[ns]"),
                         "minute": np.concatenate(minutes).astype(np.int64),
                         "fold": np.concatenate(folds).astype(np.int64)})


def _offset(naive: dt.datetime, zone) -> dt.timedelta:
    return naive.replace(tzinfo=zone).utcoffset()


def demand_between(scenario: Scenario, first: dt.date, last: dt.date, regime: str | None = None,
                   forecast: bool = True) -> pd.DataFrame:
    """Demand rows for the open slots from day `first` to day `last` inclusive."""
    factor = uplift_factor(scenario, regime)
    grid = shared = slot_grid(scenario, first, last)
    ids = list(scenario.plateaux.index)
    step = scenario.slot_minutes
    years = range(first.year, last.year + 1)
    daily = {}  # calls per day per plateau (DataFrame dates x plateaux)
    annual = scenario.plateaux["annual_calls"].to_numpy(dtype=float) * factor
    for year in years:
        w = day_weights(scenario, year)
        total = w.sum(axis=0).to_numpy()
        share = np.divide(w.to_numpy(), total, out=np.zeros_like(w.to_numpy()), where=total > 0)
        daily[year] = pd.DataFrame(share * annual, index=w.index, columns=ids)
    daily = pd.concat(daily.values())

    frames = []
    for j, p in enumerate(ids):
        if p in scenario.plateau_opening:  # its own hours: its own slots
            grid = slot_grid(scenario, first, last, p)
        day_codes, day_index = pd.factorize(grid["date"])
        keys, weights = scenario.profiles.intraday_steps(p)
        sw = _slot_weights(keys, weights, grid["minute"].to_numpy(dtype=float), step)
        per_day = np.bincount(day_codes, weights=sw, minlength=len(day_index))
        day_calls = daily.loc[day_index, p].to_numpy() if len(day_index) else np.zeros(0)
        calls = np.divide(sw * day_calls[day_codes], per_day[day_codes],
                          out=np.zeros(len(sw)), where=per_day[day_codes] > 0)
        frames.append(pd.DataFrame({
            "slot_start": grid["date"] + pd.to_timedelta(grid["minute"], unit="min"),
            "fold": grid["fold"], "slot_minutes": step, "date": grid["date"],
            "weekday": grid["date"].dt.day_of_week.astype("int64"), "plateau": p, "calls": calls,
            "aht_s": float(scenario.plateaux.loc[p, "aht_s"])}))
        grid = shared
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DEMAND_COLUMNS)
    out["slot_start"] = out["slot_start"].astype("datetime64[ns]")
    out["date"] = out["date"].astype("datetime64[ns]")
    out["slot_minutes"] = out["slot_minutes"].astype("int64")
    out["plateau"] = out["plateau"].astype(object)
    if forecast and scenario.forecast is not None and len(scenario.forecast):
        out = _overlay(out, scenario.forecast, forecast_factor(scenario, regime))
    out = out.sort_values(["slot_start", "fold", "plateau"], kind="stable").reset_index(drop=True)
    return out[DEMAND_COLUMNS]


def forecast_factor(scenario: Scenario, regime: str | None = None) -> float:
    """Multiplier of the imported forecast's calls under `regime` (default: the active one).

    (1 + uplift of regime) / (1 + uplift of demand.forecast_regime) when the scenario names the
    regime the forecast was observed under; else 1, with a warning when the regime's uplift
    against the base is not 1 (the forecast is then taken as observed under the planned regime).
    """
    regime = regime or scenario.active_regime
    if scenario.forecast_regime:
        return uplift_factor(scenario, regime) / uplift_factor(scenario, scenario.forecast_regime)
    factor = uplift_factor(scenario, regime)
    if abs(factor - 1.0) > 1e-12:
        warnings.warn(f"forecast: taken as observed under regime {regime}, so its call uplift "
                      f"({factor - 1:+.1%} against {scenario.base_regime}) does not apply; set "
                      "demand.forecast_regime to the regime it was observed under to apply it",
                      StaffingWarning, stacklevel=2)
    return 1.0


def forecast_rows_in(scenario: Scenario, first: dt.date, last: dt.date) -> int:
    """Rows of the scenario's forecast dated first..last (days, both included); 0 without
    one."""
    fc = scenario.forecast
    if fc is None or not len(fc):
        return 0
    day = fc["slot_start"].dt.normalize()
    return int(((day >= pd.Timestamp(first)) & (day <= pd.Timestamp(last))).sum())


def check_forecast_horizon(scenario: Scenario, first: dt.date, last: dt.date) -> None:
    """Error when no forecast row falls on days first..last; a warning when some do not, or when
    the forecast leaves part of the horizon to the generated demand."""
    fc = scenario.forecast
    if fc is None or not len(fc):
        return
    n, total = forecast_rows_in(scenario, first, last), len(fc)
    span = f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"
    if n == 0:
        day = fc["slot_start"].dt.normalize()
        raise InputError(f"none of the forecast's {total} rows ({day.min():%Y-%m-%d}.."
                         f"{day.max():%Y-%m-%d}) falls in the horizon {span}",
                         file=str(scenario.input_files.get("forecast", "")) or None,
                         field="slot_start")
    grid = sum(len(slot_grid(scenario, first, last, p if p in scenario.plateau_opening else None))
               for p in scenario.plateaux.index)
    if n < total or n < grid:
        warnings.warn(f"forecast: {n:,} of its {total:,} rows used (in the horizon {span}); they "
                      f"cover {n:,} of the horizon's {grid:,} plateau-slots, the rest is the "
                      "generated demand", StaffingWarning, stacklevel=2)


def forecast_table(scenario: Scenario, demand: pd.DataFrame) -> pd.DataFrame:
    """A demand frame in the forecast input's exact format: scenario, plateau, slot_start,
    (fold when a clock change repeats an hour), calls, aht_s (full handle time, s).
    Fed back as `inputs.forecast`, it reproduces this demand and its requirements exactly."""
    cols = ["plateau", "slot_start", "fold", "calls", "aht_s"]
    out = demand[[c for c in cols if c in demand.columns]].copy()
    if "fold" in out.columns and not (out["fold"] == 1).any():
        out = out.drop(columns="fold")
    out = out.sort_values(["plateau", "slot_start"] + (["fold"] if "fold" in out.columns else []),
                          kind="stable").reset_index(drop=True)
    out.insert(0, "scenario", scenario.name)
    return out


def _overlay(out: pd.DataFrame, forecast: pd.DataFrame, factor: float = 1.0) -> pd.DataFrame:
    """Replace calls (times `factor`) and aht_s where given of the rows the forecast covers."""
    key = ["plateau", "slot_start", "fold"]
    fc = forecast.rename(columns={"calls": "fc_calls", "aht_s": "fc_aht_s"})
    fc["fc_calls"] = fc["fc_calls"] * factor
    fc = fc.assign(plateau=fc["plateau"].astype(object))
    merged = out.merge(fc[key + ["fc_calls", "fc_aht_s"]], on=key, how="left")
    has = merged["fc_calls"].notna()
    merged.loc[has, "calls"] = merged.loc[has, "fc_calls"]
    has_aht = merged["fc_aht_s"].notna()
    merged.loc[has_aht, "aht_s"] = merged.loc[has_aht, "fc_aht_s"]
    return merged.drop(columns=["fc_calls", "fc_aht_s"])


def build_demand(scenario: Scenario, start=None, weeks: int | None = None,
                 regime: str | None = None) -> pd.DataFrame:
    """Demand over the horizon (or `weeks` weeks from `start`): one row per open slot x plateau.

    Columns: slot_start (naive local datetime), fold (1 on the second pass of a repeated hour),
    slot_minutes, date, weekday (0 = Mon), plateau, calls (expected calls), aht_s.
    """
    start = scenario.start if start is None else pd.Timestamp(start).date()
    weeks = scenario.weeks if weeks is None else int(weeks)
    if weeks < 1:
        raise InputError(f"{weeks} is out of range: must be >= 1", field="weeks")
    last = start + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    check_forecast_horizon(scenario, start, last)
    return demand_between(scenario, start, last, regime)


def annual_demand(scenario: Scenario, year: int | None = None, regime: str | None = None,
                  forecast: bool = False) -> pd.DataFrame:
    """Demand for every open slot of a calendar year (default: the horizon's start year)."""
    year = scenario.start.year if year is None else int(year)
    return demand_between(scenario, dt.date(year, 1, 1), dt.date(year, 12, 31), regime, forecast)


def live_demand(scenario: Scenario, demand: pd.DataFrame) -> pd.DataFrame:
    """Split long calls: live_aht_s, the handle time the queue sees once calls past the callback
    threshold are cut there, beside aht_s (the full handle time, unchanged), and callback_agents,
    the callback work (agent-slots of appointments) each slot's long calls generate."""
    pl = scenario.plateaux
    share = pl["callback_share"].fillna(0.0)
    # long_call_aht_s and the threshold only matter (and are only required) with a share > 0
    cut = (pl["long_call_aht_s"] - pl["callback_threshold_s"]).clip(lower=0.0)
    cut = cut.where(share > 0, 0.0).fillna(0.0)
    deferred_s = share * cut  # seconds per offered call, done by appointment
    out = demand.copy()
    d = out["plateau"].map(deferred_s).astype(float)
    live = out["aht_s"] - d
    bad = live <= 0
    if bad.any():
        p = out.loc[bad, "plateau"].iloc[0]
        raise InputError("callback_share x (long_call_aht_s - callback_threshold_s) leaves no live "
                         f"handle time for plateau {p!r}", field="callback_share",
                         file=str(scenario.input_files.get("plateaux", "")) or None)
    out["live_aht_s"] = live
    out["callback_agents"] = out["calls"] * d / (out["slot_minutes"] * 60.0)
    out["callback_cut_s"] = out["plateau"].map(cut).astype(float)
    return out


def planning_shrinkage(scenario: Scenario) -> pd.Series:
    """Per plateau, the capacity-weighted mean shrinkage of the providers able to serve it."""
    prov = scenario.providers
    cap = prov["headcount"].where(prov["kind"] == "inhouse", prov["seats"]).fillna(0.0)
    out = {}
    for p in scenario.plateaux.index:
        serve = prov[[p in served for served in prov["plateaux"]]]
        w = cap.loc[serve.index]
        if len(serve) == 0:
            out[p] = 0.0
        elif w.sum() > 0:
            out[p] = float((serve["shrinkage"] * w).sum() / w.sum())
        else:
            out[p] = float(serve["shrinkage"].mean())
    return pd.Series(out, name="shrinkage")


def requirements(scenario: Scenario, demand: pd.DataFrame | None = None) -> pd.DataFrame:
    """Agents required per plateau x slot to meet the service targets, with the resulting metrics.

    `scheduled` = agents / (1 - s), s from `planning_shrinkage`. With queueing = erlang_a the
    patience and abandonment targets enter; p_abandon is NaN under erlang_c. The queue sees
    `live_aht_s` where the demand has it (after the callback cut, `live_demand`), else aht_s;
    the output carries both.
    """
    from . import queueing

    demand = build_demand(scenario) if demand is None else demand
    erlang_a = scenario.queueing == "erlang_a"
    shrink = planning_shrinkage(scenario)
    parts = []
    for p, rows in demand.groupby("plateau", sort=False):
        t = scenario.targets.loc[p]

        def opt(name):
            v = t[name]
            return None if pd.isna(v) else float(v)

        calls = rows["calls"].to_numpy(dtype=float)
        live_col = "live_aht_s" if "live_aht_s" in rows.columns else "aht_s"
        aht = rows[live_col].to_numpy(dtype=float)
        minutes = rows["slot_minutes"].to_numpy(dtype=float)
        patience = opt("patience_s") if erlang_a else None
        agents = queueing.required_agents(
            calls, aht, minutes, float(t["sl_target"]), float(t["answer_s"]),
            asa_target_s=opt("asa_s"), max_occupancy=opt("max_occupancy"), patience_s=patience,
            max_abandon=opt("max_abandon") if erlang_a else None)
        agents = np.asarray(agents, dtype=np.int64)
        m = queueing.evaluate(calls, aht, minutes, agents, float(t["answer_s"]), patience_s=patience)
        part = rows[["slot_start", "fold", "slot_minutes", "plateau", "calls", "aht_s"]].copy()
        part["live_aht_s"] = aht
        part["load_erlangs"] = queueing.offered_load(calls, aht, minutes)
        part["agents"] = agents
        part["scheduled"] = np.asarray(queueing.scheduled_staff(agents, shrink[p]), dtype=np.int64)
        for col in ("service_level", "asa_s", "occupancy", "p_wait", "p_abandon"):
            part[col] = np.broadcast_to(np.asarray(m[col], dtype=float), len(part))
        parts.append(part)
    cols = REQUIREMENT_COLUMNS[1:]
    out = pd.concat(parts) if parts else pd.DataFrame(columns=cols + ["fold"])
    out = out.sort_values(["slot_start", "fold", "plateau"], kind="stable").reset_index(drop=True)
    out.insert(0, "scenario", scenario.name)
    if not (out["fold"] == 1).any():
        out = out.drop(columns="fold")
    else:
        out = out[["scenario", "slot_start", "fold"] + REQUIREMENT_COLUMNS[2:]]
    return out
