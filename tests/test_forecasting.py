"""History -> forecast: aggregation, the method on exact cases, holidays, backtests, the command."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffing.cli import main
from staffing.errors import InputError
from staffing.forecasting import backtest as bt
from staffing.forecasting import history as hi
from staffing.forecasting import model

DATA = Path(__file__).parent / "data"
BANK = DATA / "us-bank-2003-05-05-to-06-13-5min.csv"


@pytest.fixture(scope="module")
def bank30():
    return hi.aggregate(hi.load_history(BANK), 30)


def test_five_minute_history_sums_into_half_hours(bank30):
    raw = pd.read_csv(BANK, parse_dates=["slot_start"])
    assert hi.interval_minutes(hi.load_history(BANK)) == 5
    assert bank30["calls"].sum() == raw["calls"].sum()
    one = raw[(raw["slot_start"] >= "2003-05-05 09:00") & (raw["slot_start"] < "2003-05-05 09:30")]
    row = bank30[bank30["slot_start"] == pd.Timestamp("2003-05-05 09:00")]
    assert len(one) == 6 and float(row["calls"].iloc[0]) == one["calls"].sum()
    # 07:00 .. 20:30 and the 5-minute tail 21:00-21:05: 29 slots a day
    assert bank30.groupby(bank30["slot_start"].dt.date).size().eq(29).all()


def test_aht_is_calls_weighted_and_interval_must_divide_the_slot(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("plateau,slot_start,calls,aht_s\na,2024-01-08 08:00,10,100\na,2024-01-08 08:20,30,200\n"
                 "a,2024-01-08 08:40,0,\n")
    h = hi.load_history(p)
    assert hi.interval_minutes(h) == 20
    with pytest.raises(InputError, match="20-minute interval does not divide the 30-minute slot"):
        hi.aggregate(h, 30)
    agg = hi.aggregate(h, 60)
    assert agg["calls"].tolist() == [40.0]
    assert agg["aht_s"].iloc[0] == pytest.approx((10 * 100 + 30 * 200) / 40)


def test_bad_history_is_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "h.csv"
    p.write_text("slot_start,calls\n2024-01-08 08:00,10\n2024-01-08 08:30,-3\n")
    assert main(["forecast", str(p), "--start", "2024-02-05", "--weeks", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {p}, row 3, field 'calls': '-3' is not a number >= 0"]


def periodic_history(weeks=8, noise=0.0, seed=0):
    """Mon-Fri 08:00-12:00 in 30-min slots; weekday and slot shapes repeat exactly each week."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", periods=5 * weeks)
    rows = []
    for d in days:
        level = 1000.0 * (1.3, 1.1, 1.0, 0.95, 1.05)[d.day_of_week]
        shape = np.array([1, 2, 3, 3, 2, 2, 1, 1], float)
        calls = level * shape / shape.sum() * (1 + noise * rng.standard_normal())
        rows += [{"plateau": "p", "slot_start": d + pd.Timedelta(minutes=480 + 30 * k),
                  "calls": c, "aht_s": 200.0 + k} for k, c in enumerate(calls)]
    return pd.DataFrame(rows)


def test_an_exactly_weekly_series_is_forecast_exactly():
    h = periodic_history()
    fc = model.forecast(h, dt.date(2024, 2, 26), 1, 30)
    assert list(fc.columns) == model.FORECAST_COLUMNS
    assert len(fc) == 5 * 8 and set(fc["slot_start"].dt.day_of_week) == set(range(5))
    last = h[h["slot_start"] >= "2024-02-19"].reset_index(drop=True)
    assert fc["calls"].to_numpy() == pytest.approx(last["calls"].to_numpy(), rel=1e-3)
    assert fc["aht_s"].to_numpy() == pytest.approx(last["aht_s"].to_numpy())
    assert (fc["calls_p10"] <= fc["calls"]).all() and (fc["calls"] <= fc["calls_p90"]).all()


def test_closed_public_holiday_is_forecast_closed_and_its_backlog_comes_next(bank30):
    # Memorial Day (26 May 2003) is missing from the history: US holidays are closed days;
    # the day after carried the backlog (38,235 calls on Tue 27 May against ~30,000)
    fc = model.forecast(bank30, dt.date(2003, 6, 30), 2, 30, model.Settings(holidays="US"))
    days = set(fc["slot_start"].dt.date)
    assert dt.date(2003, 7, 4) not in days  # Independence Day, a Friday
    assert dt.date(2003, 7, 3) in days and dt.date(2003, 7, 7) in days
    daily = fc.groupby(fc["slot_start"].dt.date)["calls"].sum()
    assert daily[dt.date(2003, 7, 7)] > 1.1 * daily[dt.date(2003, 6, 30)]  # Monday after closure
    assert (fc["calls_p10"] <= fc["calls_p90"]).all()


def test_seasonal_naive_takes_the_same_slot_a_week_earlier_or_the_week_before():
    h = periodic_history(weeks=3)
    h.loc[h["slot_start"].dt.date == dt.date(2024, 1, 10), "calls"] = 7.0
    h = h[h["slot_start"].dt.date != dt.date(2024, 1, 17)]  # a missing Wednesday
    target = pd.DataFrame({"plateau": ["p", "p"], "slot_start": pd.to_datetime(
        ["2024-01-24 08:00", "2024-01-25 09:30"])})
    got = bt.seasonal_naive(h, target)
    thu = h.loc[h["slot_start"] == pd.Timestamp("2024-01-18 09:30"), "calls"].iloc[0]
    assert got.tolist() == [7.0, thu]


def test_backtest_scores_are_the_weighted_mape_of_the_forecast(bank30):
    table = bt.backtest(bank30, 2, 30, model.Settings(holidays="US"))
    assert list(table.columns) == bt.BACKTEST_COLUMNS
    assert table["origin"].tolist() == ["2003-06-02", "2003-06-09", "all"]
    row = table.iloc[1]
    past = bank30[bank30["slot_start"] < "2003-06-09"]
    fc = model.forecast(past, dt.date(2003, 6, 9), 1, 30, model.Settings(holidays="US"))
    act = bank30[bank30["slot_start"] >= "2003-06-09"].merge(fc, on=["plateau", "slot_start"])
    assert row["wmape"] == pytest.approx((act["calls_x"] - act["calls_y"]).abs().sum()
                                         / act["calls_x"].sum())
    prev = bank30.set_index("slot_start")["calls"]
    naive = prev.reindex(act["slot_start"] - pd.Timedelta(weeks=1)).to_numpy()
    assert row["wmape_naive"] == pytest.approx(np.abs(naive - act["calls_x"]).sum() / act["calls_x"].sum())
    assert 0.0 < row["coverage_p10_p90"] <= 1.0


def test_forecast_command_writes_the_scenario_forecast_format(tmp_path, capsys):
    out = tmp_path / "fc.parquet"
    code = main(["forecast", str(BANK), "--plateau", "bank", "--holidays", "US", "--start",
                 "2003-06-16", "--weeks", "1", "--output", str(out), "--backtest", "2"])
    assert code == 0
    text = capsys.readouterr().out
    assert "bank        all" in text and "wMAPE" in text
    fc = pd.read_parquet(out)
    assert list(fc.columns) == ["plateau", "slot_start", "calls", "aht_s", "calls_p10", "calls_p90"]
    assert (fc["plateau"] == "bank").all() and len(fc) == 5 * 29
    assert main(["forecast", str(BANK), "--start", "2003-06-02", "--weeks", "1"]) == 2
    assert "is not after the history's last day" in capsys.readouterr().err


def test_backlog_of_a_closed_holiday_is_learnt_and_returned_the_next_open_day():
    # US holidays on Mondays 1 Jan, 15 Jan and 19 Feb 2024: closed; the Tuesdays after them
    # get a quarter of a Monday's calls on top of their own
    h = periodic_history(weeks=8)
    day = h["slot_start"].dt.normalize()
    closed = pd.to_datetime(["2024-01-01", "2024-01-15", "2024-02-19"])
    monday = 1000.0 * 1.3
    after = day.isin(closed + pd.Timedelta(days=1))
    h.loc[after, "calls"] *= (1000.0 * 1.1 + 0.25 * monday) / (1000.0 * 1.1)
    h = h[~day.isin(closed)]
    fc = model.forecast(h, dt.date(2024, 5, 20), 2, 30, model.Settings(holidays="US"))
    daily = fc.groupby(fc["slot_start"].dt.normalize())["calls"].sum()
    assert pd.Timestamp("2024-05-27") not in daily.index  # Memorial Day: closed like the others
    assert daily[pd.Timestamp("2024-05-21")] == pytest.approx(1100.0, rel=1e-3)
    assert daily[pd.Timestamp("2024-05-28")] == pytest.approx(1100.0 + 0.25 * monday, rel=5e-3)


def test_history_reads_the_same_from_csv_french_csv_xlsx_and_parquet(tmp_path):
    h = periodic_history(weeks=1)
    h["slot_start"] = h["slot_start"].dt.strftime("%Y-%m-%d %H:%M")
    h.to_csv(tmp_path / "h.csv", index=False)
    h.to_csv(tmp_path / "fr.csv", index=False, sep=";", decimal=",")
    h.to_excel(tmp_path / "h.xlsx", index=False)
    h.assign(slot_start=pd.to_datetime(h["slot_start"])).to_parquet(tmp_path / "h.parquet")
    frames = [hi.load_history(tmp_path / n) for n in ("h.csv", "fr.csv", "h.xlsx", "h.parquet")]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f)
    assert frames[0]["calls"].sum() == pytest.approx(h["calls"].sum())


def test_hours_keep_the_scenarios_opening_hours(tmp_path, capsys):
    p = tmp_path / "h.csv"
    periodic_history(weeks=4).to_csv(p, index=False)
    out = tmp_path / "fc.csv"
    assert main(["forecast", str(p), "--start", "2024-01-29", "--weeks", "1", "--hours",
                 "09:00-11:30", "--output", str(out)]) == 0
    fc = pd.read_csv(out, parse_dates=["slot_start"])
    minutes = fc["slot_start"].dt.hour * 60 + fc["slot_start"].dt.minute
    assert minutes.min() == 540 and minutes.max() == 660 and len(fc) == 5 * 5
    assert "15 slots outside 09:00-11:30 left out" in capsys.readouterr().err
    assert main(["forecast", str(p), "--start", "2024-01-29", "--weeks", "1", "--hours",
                 "11:00-09:00"]) == 2


def test_a_missing_ordinary_day_is_filled_not_taken_for_zero():
    h = periodic_history()
    gap = h["slot_start"].dt.date == dt.date(2024, 2, 21)  # a Wednesday, not a US holiday
    fc = model.forecast(h[~gap], dt.date(2024, 2, 26), 1, 30, model.Settings(holidays="US"))
    daily = fc.groupby(fc["slot_start"].dt.day_of_week)["calls"].sum()
    assert daily.to_numpy() == pytest.approx([1300.0, 1100.0, 1000.0, 950.0, 1050.0], rel=2e-3)
