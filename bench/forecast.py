"""Benchmark: the forecast against seasonal naive and other daily models; calibrate's speed.

Run:  python bench/forecast.py [--bank CSV] [--log CSV] [--origins 4 12] [--repeats 3]

Defaults read the public data in ../shared/data (see its README): the us-bank 5-minute series
(March-June 2003) and the Anonymous Bank call log (February 1999). Prints, for 30-minute slots
and each number of rolling weekly origins, the weighted MAPE (sum |F - A| / sum A) of

  - the method (`staffing.forecasting.model`: SARIMAX(1,0,0)(0,1,1)_m on log daily calls x
    the weekday intraday profile of the last 8 weeks, US holidays),
  - seasonal naive (same weekday and slot a week earlier), the baseline,
  - the same profiles under other daily models from statsmodels, measured in the same run:
    ETS(A,Ad,A), STL + ARIMA(1,1,0), the airline model SARIMA(0,1,1)(0,1,1)_m,

with the gain against seasonal naive (1 - wMAPE / naive) and the share of slots inside
p10-p90. Then CPU and wall time (medians of --repeats runs) of a 4-origin backtest, a 4-week
forecast, and `calibrate` on the whole call log (target: under 10 s).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from staffing.forecasting import backtest as bt
from staffing.forecasting import calibrate as cal
from staffing.forecasting import calllog
from staffing.forecasting import history as hi
from staffing.forecasting import model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OURS = model.daily_model


def _alt(kind: str):
    """daily_model with another statsmodels model (same special days, profiles and intervals)."""
    def fit(y, period, steps):
        from statsmodels.tsa.arima.model import ARIMA
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel
        from statsmodels.tsa.forecasting.stl import STLForecast
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        y = pd.Series(y)
        end = len(y) + steps - 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "ets":
                res = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                               seasonal_periods=period).fit(disp=False)
                pred = res.get_prediction(start=len(y), end=end).summary_frame(alpha=0.2)
                upper, fitted = pred["pi_upper"], res.fittedvalues
            elif kind == "stl":
                res = STLForecast(y, ARIMA, model_kwargs={"order": (1, 1, 0)}, period=period,
                                  robust=True).fit()
                pred = res.get_prediction(start=len(y), end=end).summary_frame(alpha=0.2)
                upper = pred["mean_ci_upper"]
                fitted = res.result.seasonal + res.model_result.fittedvalues
            else:
                res = SARIMAX(y, order=(0, 1, 1), seasonal_order=(0, 1, 1, period)).fit(disp=False)
                pred = res.get_prediction(start=len(y), end=end).summary_frame(alpha=0.2)
                upper, fitted = pred["mean_ci_upper"], res.fittedvalues
        mean = pred["mean"].to_numpy()
        return mean, (upper.to_numpy() - mean) / model.Z90, np.asarray(fitted)
    return fit


def timed(fn, repeats):
    cpu, wall, out = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return out, statistics.median(cpu), statistics.median(wall)


def accuracy(hist, origins: int):
    settings = model.Settings(holidays="US")
    print(f"\n{origins} rolling weekly origins, 30-minute slots (one week ahead each)")
    print(f"{'daily model':<34}{'wMAPE':>8}{'naive':>8}{'gain':>8}{'p10-p90':>9}{'cpu s':>8}")
    for name, fit in (("SARIMAX(1,0,0)(0,1,1) [the method]", OURS), ("ETS(A,Ad,A)", _alt("ets")),
                      ("STL + ARIMA(1,1,0)", _alt("stl")),
                      ("airline SARIMA(0,1,1)(0,1,1)", _alt("airline"))):
        model.daily_model = fit
        try:
            table, cpu, _ = timed(lambda: bt.backtest(hist, origins, 30, settings), 1)
        finally:
            model.daily_model = OURS
        a = table[table["origin"] == "all"].iloc[0]
        print(f"{name:<34}{a.wmape:>8.2%}{a.wmape_naive:>8.2%}{1 - a.wmape / a.wmape_naive:>8.1%}"
              f"{a.coverage_p10_p90:>9.1%}{cpu:>8.1f}")
        if fit is OURS:
            weeks = table[table["origin"] != "all"]
            print("  per week: " + ", ".join(f"{r.origin} {r.wmape:.2%} (naive {r.wmape_naive:.2%})"
                                             for r in weeks.itertuples()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", type=Path, default=DATA / "us-bank-2003-calls-5min.csv")
    ap.add_argument("--log", type=Path, default=DATA / "anonymous-bank-1999-02-calls.csv")
    ap.add_argument("--origins", type=int, nargs="+", default=[4, 12])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    hist = hi.aggregate(hi.load_history(args.bank, "bank"), 30)
    print(f"bank series: {len(hist):,} half-hour slots, {hist['calls'].sum():,.0f} calls, "
          f"{hist['slot_start'].min():%Y-%m-%d} .. {hist['slot_start'].max():%Y-%m-%d}")
    for n in args.origins:
        accuracy(hist, n)

    settings = model.Settings(holidays="US")
    start = (hist["slot_start"].max().normalize() + pd.offsets.Week(weekday=0)).date()
    print(f"\ntimings, median of {args.repeats} runs{'':<14}{'cpu s':>8}{'wall s':>8}")
    _, cpu, wall = timed(lambda: bt.backtest(hist, 4, 30, settings), args.repeats)
    print(f"{'backtest, 4 origins':<40}{cpu:>8.2f}{wall:>8.2f}")
    _, cpu, wall = timed(lambda: model.forecast(hist, start, 4, 30, settings), args.repeats)
    print(f"{'forecast, 4 weeks from ' + str(start):<40}{cpu:>8.2f}{wall:>8.2f}")
    layout = calllog.load_map("anonymous-bank")

    def calibrate():
        calls, _ = calllog.read_log(args.log, layout)
        return cal.calibrate(calls, 30, 20.0), len(calls)

    (tables, n), cpu, wall = timed(calibrate, args.repeats)
    print(f"{f'calibrate, whole log ({n:,} calls)':<40}{cpu:>8.2f}{wall:>8.2f}"
          f"   target < 10 s: {'met' if wall < 10 else 'MISSED'} ({wall / 10:.0%} of it)")
    s = tables["erlang_a_summary"].set_index("plateau").loc["all"]
    p = tables["patience"].set_index("plateau").loc["all"]
    print(f"pooled centre: patience {p['patience_s']:.0f} s; abandonment {s['abandon_share']:.1%} "
          f"observed vs {s['erlang_a_p_abandon']:.1%} Erlang A; SL(20 s) {s['service_level']:.1%} "
          f"vs {s['erlang_a_service_level']:.1%}")


if __name__ == "__main__":
    main()
