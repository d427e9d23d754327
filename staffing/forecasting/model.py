"""Forecast calls per slot: daily volumes by a seasonal model x intraday profiles by weekday.

For each plateau (docs/forecast.md gives the math):

1. Daily volumes V_d on the open days (weekdays the history has calls on). Public holidays come
   from the `holidays` package: a holiday missing from the history (or with no calls) is a
   closed day, forecast closed; one with calls is open at its mean ratio to the model. A day
   missing from the history that is not a holiday is a gap: filled for the fit with the mean of
   the same weekday a week before and after. So are holidays and the first open day after a
   closed holiday: a holiday's ratio to the model, and the share of a closed day's calls that
   come back the next open day (its backlog), are learnt and applied to such days ahead.
2. log V_d follows a seasonal ARIMA, SARIMAX(1,0,0)(0,1,1)_m with m the open days in a week
   (statsmodels, maximum likelihood): this week's level is last week's, corrected by an
   exponentially weighted mean of past weekly changes and an AR(1) on the day-to-day deviation.
   Its forecast mean and variance give the median and spread of the day's log volume.
3. The share of a day's calls in each slot is the mean share of that weekday and slot over the
   last `profile_weeks` weeks of history. aht_s is the calls-weighted mean handle time of the
   slot of the day over the history (the overall mean where a slot saw under 30 calls).
4. calls_p10 / calls_p90: quantiles of V_d x share x e^eps x Poisson noise, with V_d log-normal
   from step 2 and eps ~ N(0, s^2) the slot share's own extra-Poisson noise, estimated from the
   history's weeks against the profile of the weeks before them; simulated (fixed seed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import pandas as pd

from ..errors import InputError

FORECAST_COLUMNS = ["plateau", "slot_start", "calls", "aht_s", "calls_p10", "calls_p90"]
Z90 = 1.2815515655446004  # standard normal 90 % quantile


@dataclasses.dataclass
class Settings:
    """Method settings: weeks of history in the intraday profile, simulation draws and seed."""

    profile_weeks: int = 8
    draws: int = 2000
    seed: int = 14
    holidays: str = ""  # country code for the holidays package ("" = none)


def _holiday_set(country: str, years) -> set:
    if not country:
        return set()
    import holidays as holidays_lib

    try:
        return set(holidays_lib.country_holidays(country, years=list(years)).keys())
    except NotImplementedError:
        raise InputError(f"unknown country code '{country}' for public holidays",
                         field="holidays") from None


@dataclasses.dataclass
class DailyHistory:
    """Open-day calendar of one plateau: observed volume, the fit series and the day kinds."""

    days: pd.DataFrame  # index date; columns calls (NaN = missing), kind, fit
    open_weekdays: list


def daily_history(slots: pd.DataFrame, settings: Settings) -> DailyHistory:
    """Daily volumes of one plateau's slots on its open-day calendar, with the fit series."""
    day_calls = slots.groupby(slots["slot_start"].dt.normalize())["calls"].sum()
    open_wd = sorted(set(day_calls.index[day_calls > 0].day_of_week))
    dates = pd.date_range(day_calls.index.min(), day_calls.index.max(), freq="D")
    dates = dates[dates.day_of_week.isin(open_wd)]
    hol = _holiday_set(settings.holidays, range(dates[0].year, dates[-1].year + 2))
    calls = day_calls.reindex(dates)
    calls[calls <= 0] = np.nan
    kind = pd.Series("normal", index=dates)
    is_hol = np.array([d.date() in hol for d in dates])
    kind[is_hol & calls.isna().to_numpy()] = "closed"
    kind[is_hol & calls.notna().to_numpy()] = "holiday"
    kind[~is_hol & calls.isna().to_numpy()] = "gap"
    after = kind.shift(1).eq("closed") & kind.eq("normal")
    kind[after] = "after_closed"
    fit = np.log(calls.where(kind == "normal"))
    fit = _fill_weekly(fit, len(open_wd))
    return DailyHistory(pd.DataFrame({"calls": calls, "kind": kind, "fit": fit}), open_wd)


def _fill_weekly(log_v: pd.Series, period: int) -> pd.Series:
    """Fill NaNs with the mean of the same weekday one week before and after (then further)."""
    out = log_v.copy()
    for lag in range(1, 9):
        if not out.isna().any():
            break
        near = pd.concat([log_v.shift(lag * period), log_v.shift(-lag * period)], axis=1).mean(axis=1)
        out = out.fillna(near)
    return out.fillna(log_v.mean())


def fit_daily(hist: DailyHistory, horizon: pd.DatetimeIndex, settings: Settings) -> pd.DataFrame:
    """Log-mean and log-sd of each open horizon day's volume (index: dates; closed days dropped).

    Model: SARIMAX(1,0,0)(0,1,1)_m on log daily volumes, m = open days a week (statsmodels,
    maximum likelihood); under three weeks of history, an AR(1) with a constant.
    """
    period = len(hist.open_weekdays)
    days = _days_ahead(hist, horizon.max())
    mean, sd, fitted = daily_model(hist.days["fit"].to_numpy(), period, len(days))
    out = pd.DataFrame({"log_mean": mean, "log_sd": sd}, index=days)
    out["kind"] = _kinds_ahead(hist, days, settings)
    fitted = pd.Series(fitted, index=hist.days.index).iloc[period + 1:]
    holiday, backlog = _special_days(hist, fitted)
    out.loc[out["kind"] == "holiday", "log_mean"] += holiday
    before = np.exp(out["log_mean"].shift(1).fillna(hist.days["fit"].iloc[-1]))
    after = out["kind"] == "after_closed"
    out.loc[after, "log_mean"] = np.log(np.exp(out["log_mean"]) + backlog * before)[after]
    out = out.reindex(horizon)
    return out[out["kind"].notna() & (out["kind"] != "closed")]


def daily_model(y: np.ndarray, period: int, steps: int):
    """SARIMAX(1,0,0)(0,1,1)_period fit of y (log daily calls): the mean and standard deviation
    of the next `steps` values, and the one-step in-sample predictions (arrays)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal = (0, 1, 1, period) if period > 1 and len(y) >= 3 * period else (0, 0, 0, 0)
    model = SARIMAX(pd.Series(y), order=(1, 0, 0), seasonal_order=seasonal,
                    trend="c" if seasonal == (0, 0, 0, 0) else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(disp=False)
        pred = res.get_prediction(start=len(y), end=len(y) + steps - 1).summary_frame(alpha=0.2)
    sd = (pred["mean_ci_upper"] - pred["mean"]).to_numpy() / Z90
    return pred["mean"].to_numpy(), sd, np.asarray(res.fittedvalues)


def _days_ahead(hist: DailyHistory, last: pd.Timestamp) -> pd.DatetimeIndex:
    """Open weekdays from the day after the history to `last` (step 1 = the first of them)."""
    days = pd.date_range(hist.days.index[-1] + pd.Timedelta(days=1), last, freq="D")
    return days[days.day_of_week.isin(hist.open_weekdays)]


def _special_days(hist: DailyHistory, fitted: pd.Series) -> tuple[float, float]:
    """Holidays' mean log ratio to the model's one-step fit, and the backlog share b of days
    after a closed holiday: their calls = fit + b x the closed day's (filled) volume."""
    d = hist.days
    hol = d.index[(d["kind"] == "holiday") & d.index.isin(fitted.index)]
    holiday = float(np.mean(np.log(d.loc[hol, "calls"]) - fitted[hol])) if len(hol) else 0.0
    shares = []
    for day in d.index[(d["kind"] == "after_closed") & d.index.isin(fitted.index)]:
        prev = d.index[d.index.get_loc(day) - 1]
        shares.append((d.loc[day, "calls"] - np.exp(fitted[day])) / np.exp(d.loc[prev, "fit"]))
    return holiday, float(np.mean(shares)) if shares else 0.0


def _kinds_ahead(hist: DailyHistory, days: pd.DatetimeIndex, settings: Settings) -> pd.Series:
    """normal / holiday / closed / after_closed of the open days ahead, as learnt from history:
    holidays are closed when the history has more closed holidays than open ones."""
    hol = _holiday_set(settings.holidays, range(days.min().year, days.max().year + 1))
    seen = hist.days["kind"].value_counts()
    closed_holidays = seen.get("closed", 0) >= seen.get("holiday", 0) and seen.get("closed", 0) > 0
    kinds = []
    prev_closed = hist.days["kind"].iloc[-1] == "closed"
    for d in days:
        if d.date() in hol:
            kinds.append("closed" if closed_holidays else "holiday")
        elif prev_closed:
            kinds.append("after_closed")
        else:
            kinds.append("normal")
        prev_closed = kinds[-1] == "closed"
    return pd.Series(kinds, index=days)


def intraday_profile(slots: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, float]:
    """Mean share of each weekday's calls per slot minute over the last weeks, and the share noise.

    Returns (profile with columns weekday, minute, share), s: the standard deviation of the log
    ratio of a slot's share to the profile of the weeks before it, net of Poisson noise.
    """
    s = slots.assign(date=slots["slot_start"].dt.normalize(),
                     minute=slots["slot_start"].dt.hour * 60 + slots["slot_start"].dt.minute)
    s["day_total"] = s.groupby("date")["calls"].transform("sum")
    s = s[s["day_total"] > 0]
    s["share"] = s["calls"] / s["day_total"]
    s["weekday"] = s["date"].dt.day_of_week
    wide = s.pivot_table(index="date", columns="minute", values="share", fill_value=0.0)
    days = wide.index
    last = days.max()
    recent = wide[days > last - pd.Timedelta(weeks=settings.profile_weeks)]
    prof = recent.groupby(recent.index.day_of_week).mean()
    prof = prof.div(prof.sum(axis=1), axis=0)
    long = prof.stack().rename("share").reset_index()
    long.columns = ["weekday", "minute", "share"]
    return long, _share_noise(wide, s, settings.profile_weeks)


def _share_noise(wide: pd.DataFrame, s: pd.DataFrame, weeks: int) -> float:
    """Extra-Poisson sd of log(share / prior-weeks profile), pooled over slots with calls."""
    totals = s.groupby("date")["day_total"].first()
    errs, inv = [], []
    for d in wide.index:
        prior = wide[(wide.index < d) & (wide.index >= d - pd.Timedelta(weeks=weeks))
                     & (wide.index.day_of_week == d.day_of_week)]
        if len(prior) < 2:
            continue
        p = prior.mean().to_numpy()
        a = wide.loc[d].to_numpy()
        ok = (p > 0) & (a > 0)
        mu = p[ok] * totals[d]
        errs.append(np.log(a[ok] / p[ok]))
        inv.append(1.0 / mu)
    if not errs:
        return 0.1
    e, v = np.concatenate(errs), np.concatenate(inv)
    return float(np.sqrt(max(np.mean(e ** 2 - v), 0.0)))


def forecast_plateau(slots: pd.DataFrame, start: dt.date, weeks: int,
                     settings: Settings) -> pd.DataFrame:
    """Forecast rows of one plateau from its slot history (plateau, slot_start, calls, aht_s)."""
    hist = daily_history(slots, settings)
    if pd.Timestamp(start) <= hist.days.index[-1]:
        raise InputError(f"--start {start} is not after the history's last day "
                         f"{hist.days.index[-1]:%Y-%m-%d}", field="start")
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    days = days[days.day_of_week.isin(hist.open_weekdays)]
    daily = fit_daily(hist, days, settings)
    prof, noise = intraday_profile(slots, settings)
    rows = prof.merge(pd.DataFrame({"date": daily.index, "weekday": daily.index.day_of_week,
                                    "log_mean": daily["log_mean"].to_numpy(),
                                    "log_sd": daily["log_sd"].to_numpy()}), on="weekday")
    rows = rows.sort_values(["date", "minute"]).reset_index(drop=True)
    rows["slot_start"] = rows["date"] + pd.to_timedelta(rows["minute"], unit="min")
    mean_day = np.exp(rows["log_mean"] + rows["log_sd"] ** 2 / 2)
    rows["calls"] = mean_day * rows["share"]
    lo, hi = _quantiles(rows, noise, settings)
    rows["calls_p10"], rows["calls_p90"] = lo, hi
    rows["aht_s"] = _aht(slots, rows)
    rows["plateau"] = slots["plateau"].iloc[0]
    return rows[FORECAST_COLUMNS]


def _quantiles(rows: pd.DataFrame, noise: float, settings: Settings):
    """p10 and p90 of V x share x e^eps, Poisson-sampled, by simulation (common day draw)."""
    rng = np.random.default_rng(settings.seed)
    n = settings.draws
    day_codes, days = pd.factorize(rows["date"])
    z_day = rng.standard_normal((n, len(days)))
    lm = rows.groupby("date", sort=False)[["log_mean", "log_sd"]].first().reindex(days)
    log_v = lm["log_mean"].to_numpy() + z_day * lm["log_sd"].to_numpy()
    lam = (np.exp(log_v[:, day_codes]) * rows["share"].to_numpy()
           * np.exp(noise * rng.standard_normal((n, len(rows))) - noise ** 2 / 2))
    x = rng.poisson(lam)
    return np.quantile(x, 0.1, axis=0), np.quantile(x, 0.9, axis=0)


AHT_MIN_CALLS = 30  # calls a slot of the day needs in history for its own mean handle time


def _aht(slots: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Mean full handle time per slot of the day over the history (calls-weighted), where that
    slot saw at least AHT_MIN_CALLS calls with a positive mean, else the overall mean."""
    if slots["aht_s"].isna().all():
        return np.full(len(rows), np.nan)
    s = slots.dropna(subset=["aht_s"])
    s = s.assign(minute=s["slot_start"].dt.hour * 60 + s["slot_start"].dt.minute,
                 work=s["calls"] * s["aht_s"])
    g = s.groupby("minute")[["work", "calls"]].sum()
    per = (g["work"] / g["calls"]).where((g["calls"] >= AHT_MIN_CALLS) & (g["work"] > 0))
    overall = float(s["work"].sum() / s["calls"].sum()) if s["work"].sum() > 0 else np.nan
    minute = rows["slot_start"].dt.hour * 60 + rows["slot_start"].dt.minute
    return minute.map(per).fillna(overall).to_numpy(float)


def forecast(history: pd.DataFrame, start: dt.date, weeks: int, slot_minutes: int,
             settings: Settings | None = None) -> pd.DataFrame:
    """Forecast of every plateau of a history aggregated to `slot_minutes` (history.aggregate)
    over `weeks` weeks from `start`. Raises InputError for a start inside the history or a
    history on another grid.

    Returns rows (plateau, slot_start, calls, aht_s, calls_p10, calls_p90): the scenario's
    forecast input format plus the 10 % and 90 % quantiles of calls.
    """
    from .history import interval_minutes

    settings = settings or Settings()
    if interval_minutes(history) != slot_minutes:
        raise InputError(f"the history's {interval_minutes(history)}-minute interval is not the "
                         f"{slot_minutes}-minute slot: aggregate it first", field="slot_start")
    parts = [forecast_plateau(rows.reset_index(drop=True), start, weeks, settings)
             for _, rows in history.groupby("plateau", sort=True)]
    return pd.concat(parts, ignore_index=True)
