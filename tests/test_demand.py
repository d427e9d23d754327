"""Demand per plateau x slot: conservation, shapes, holidays, regimes, DST days, forecast overlay."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scenario_helpers import append, copy_default, edit
from staffing import demand as dm
from staffing import queueing as q
from staffing import scenario as sc

# French public holidays of 2009 (Legifrance, code du travail L3133-1; Easter 12 April 2009)
FR_2009 = [dt.date(2009, 1, 1), dt.date(2009, 4, 13), dt.date(2009, 5, 1), dt.date(2009, 5, 8),
           dt.date(2009, 5, 21), dt.date(2009, 6, 1), dt.date(2009, 7, 14), dt.date(2009, 8, 15),
           dt.date(2009, 11, 1), dt.date(2009, 11, 11), dt.date(2009, 12, 25)]


@pytest.fixture(scope="module")
def default():
    return sc.load()


@pytest.fixture(scope="module")
def week(default):
    return dm.build_demand(default)


@pytest.fixture
def model(tmp_path):
    return copy_default(tmp_path)


def test_week_frame_shape(default, week):
    assert list(week.columns) == dm.DEMAND_COLUMNS
    assert len(week) == 7 * 28 * 5  # 8:00-22:00 in 30-min slots, five plateaux
    assert week["slot_start"].dtype == "datetime64[ns]"
    assert week["slot_start"].min() == pd.Timestamp("2009-03-02 08:00")
    assert week["slot_start"].max() == pd.Timestamp("2009-03-08 21:30")
    assert (week["fold"] == 0).all() and (week["slot_minutes"] == 30).all()
    assert week["slot_start"].is_monotonic_increasing
    assert not week.duplicated(["slot_start", "plateau"]).any()
    first = week[week["slot_start"] == week["slot_start"].min()]
    assert list(first["plateau"]) == sorted(default.plateaux.index)
    assert (week["weekday"] == week["slot_start"].dt.day_of_week).all()
    assert (week["date"] == week["slot_start"].dt.normalize()).all()
    assert (week["calls"] > 0).all()
    aht = week.groupby("plateau")["aht_s"].unique()
    assert all(len(v) == 1 and v[0] == default.plateaux.loc[p, "aht_s"] for p, v in aht.items())


def expected_day_calls(annual, weekday_w, day, holidays=(), holiday_w=0.6, closed=()):
    """Independent computation of one day's calls: annual x w(day) / sum of w over the year."""
    days = [dt.date(day.year, 1, 1) + dt.timedelta(n) for n in range(365 + (day.year % 4 == 0))]

    def w(d):
        if d.weekday() in closed:
            return 0.0
        return weekday_w[d.weekday()] * (holiday_w if d in holidays else 1.0)

    return annual * w(day) / sum(w(d) for d in days)


def test_days_get_their_share_of_the_year(default, week):
    weights = [1.30, 1.10, 1.00, 1.00, 1.00, 0.85, 0.65]
    daily = week.groupby(["plateau", "date"])["calls"].sum()
    for plateau in ("internet", "fixed"):
        annual = default.plateaux.loc[plateau, "annual_calls"] * 1.10  # R2 against base R1
        for n in range(7):
            day = dt.date(2009, 3, 2) + dt.timedelta(n)
            want = expected_day_calls(annual, weights, day, FR_2009)
            assert daily[(plateau, pd.Timestamp(day))] == pytest.approx(want, rel=1e-12)
    # Monday vs Wednesday follows the weekday weights exactly
    assert daily[("internet", pd.Timestamp("2009-03-02"))] / daily[("internet", pd.Timestamp(
        "2009-03-04"))] == pytest.approx(1.30)


def test_public_holiday_weight(default):
    d = dm.demand_between(default, dt.date(2009, 7, 14), dt.date(2009, 7, 21))
    daily = d[d["plateau"] == "internet"].groupby("date")["calls"].sum()
    # 14 July 2009 (a Tuesday, National Day) against the next Tuesday
    assert daily[pd.Timestamp("2009-07-14")] / daily[pd.Timestamp("2009-07-21")] == pytest.approx(0.6)


def test_intraday_shape(week):
    mon = week[(week["plateau"] == "internet") & (week["date"] == pd.Timestamp("2009-03-02"))]
    calls = mon.set_index(mon["slot_start"].dt.strftime("%H:%M"))["calls"]
    assert calls["10:00"] / calls["08:00"] == pytest.approx(1.50 / 0.60)
    assert calls["18:00"] / calls["12:30"] == pytest.approx(1.50 / 0.90)
    assert calls.idxmax() in {"09:30", "10:00", "10:30", "11:00", "17:30", "18:00", "18:30",
                              "19:00", "19:30", "20:00"}
    # 'pro' has office hours: its busiest slot is before 18:00
    pro = week[(week["plateau"] == "pro") & (week["date"] == pd.Timestamp("2009-03-02"))]
    assert pro.loc[pro["calls"].idxmax(), "slot_start"].hour < 18


@pytest.mark.parametrize("regime", ["R0", "R1", "R2"])
def test_calls_conserved_over_a_year(default, regime):
    year = dm.annual_demand(default, 2009, regime=regime)
    totals = year.groupby("plateau")["calls"].sum()
    factor = {"R0": 1.0, "R1": 1.0, "R2": 1.10}[regime]
    for p, annual in default.plateaux["annual_calls"].items():
        assert totals[p] == pytest.approx(annual * factor, rel=1e-12)
    assert len(year) == 365 * 28 * 5
    assert dm.uplift_factor(default, regime) == pytest.approx(factor)


def test_conserved_with_dst_months_closed_days_and_15_min_slots(model):
    edit(model, 'default = ["08:00", "22:00"]', 'default = ["00:00", "24:00"]\nsat = ["09:00", "18:00"]'
                                                 '\nsun = "closed"')
    edit(model, "slot_minutes = 30 ", "slot_minutes = 15 ")
    edit(model, "start_step_minutes = 30", "start_step_minutes = 15")
    path = model.parent.parent / "inputs" / "orange-2009" / "profiles.csv"
    append(path, "".join(f"*,month,{m},{1 + 0.05 * m},seasonality\n" for m in range(1, 13)))
    s = sc.load(model)
    assert s.opening[6] is None and (s.profiles.month.loc["internet", 12] == pytest.approx(1.6))
    year = dm.annual_demand(s, 2009, regime="R1")
    totals = year.groupby("plateau")["calls"].sum()
    pd.testing.assert_series_equal(totals.sort_index(), s.plateaux["annual_calls"].sort_index(),
                                   check_names=False, rtol=1e-12)
    assert (year.loc[year["weekday"] == 6, "calls"].sum()) == 0 and not (year["weekday"] == 6).any()
    # the leap year too
    leap = dm.annual_demand(s, 2008, regime="R1").groupby("plateau")["calls"].sum()
    assert leap["fixed"] == pytest.approx(10e6, rel=1e-12)
    # December days carry 1.6/1.05 the volume of the same weekday in January
    daily = year[year["plateau"] == "fixed"].groupby("date")["calls"].sum()
    assert daily[pd.Timestamp("2009-12-02")] / daily[pd.Timestamp("2009-01-07")] == pytest.approx(1.6 / 1.05)


def test_dst_days_have_the_right_slots(model):
    edit(model, 'default = ["08:00", "22:00"]', 'default = ["00:00", "24:00"]')
    append(model.parent.parent / "inputs" / "orange-2009" / "profiles.csv", "*,intraday,00:00,0.1,night\n")
    s = sc.load(model)
    slots = dm.slot_grid(s, dt.date(2009, 3, 28), dt.date(2009, 10, 26))
    per_day = slots.groupby("date").size()
    assert per_day[pd.Timestamp("2009-03-28")] == 48
    assert per_day[pd.Timestamp("2009-03-29")] == 46  # 23-hour day: no 02:00, 02:30
    assert per_day[pd.Timestamp("2009-10-25")] == 50  # 25-hour day: 02:00, 02:30 twice
    assert per_day[pd.Timestamp("2009-10-26")] == 48
    spring = slots[slots["date"] == pd.Timestamp("2009-03-29")]["minute"]
    assert 120 not in set(spring) and 150 not in set(spring) and 180 in set(spring)
    autumn = slots[slots["date"] == pd.Timestamp("2009-10-25")]
    assert sorted(autumn.loc[autumn["fold"] == 1, "minute"]) == [120, 150]
    # demand rows stay unique with the fold column, and each real hour gets calls
    d = dm.demand_between(s, dt.date(2009, 10, 25), dt.date(2009, 10, 25))
    assert not d.duplicated(["slot_start", "fold", "plateau"]).any()
    rep = d[(d["plateau"] == "fixed") & (d["slot_start"] == pd.Timestamp("2009-10-25 02:00"))]
    assert list(rep["fold"]) == [0, 1] and rep["calls"].iloc[0] == rep["calls"].iloc[1] > 0
    # the 25-hour day still carries exactly its share of the year
    weights = [1.30, 1.10, 1.00, 1.00, 1.00, 0.85, 0.65]
    want = expected_day_calls(10e6 * 1.1, weights, dt.date(2009, 10, 25), FR_2009)
    assert d.loc[d["plateau"] == "fixed", "calls"].sum() == pytest.approx(want, rel=1e-12)


def test_customer_base_drives_volume(model):
    path = model.parent.parent / "inputs" / "orange-2009" / "plateaux.csv"
    edit(path, ",1000000,0.54,3.1,", ",2000000,0.54,3.1,")
    s = sc.load(model)
    base = sc.load()
    assert s.plateaux.loc["iptv", "annual_calls"] == pytest.approx(2e6 * 0.54 * 3.1)
    a = dm.build_demand(s).groupby("plateau")["calls"].sum()
    b = dm.build_demand(base).groupby("plateau")["calls"].sum()
    assert a["iptv"] == pytest.approx(2 * b["iptv"]) and a["fixed"] == pytest.approx(b["fixed"])


def test_regime_uplift(default):
    r1 = dm.build_demand(default, regime="R1")
    r2 = dm.build_demand(default, regime="R2")
    assert np.allclose(r2["calls"], 1.10 * r1["calls"])
    # active regime R2 is the default
    assert np.allclose(dm.build_demand(default)["calls"], r2["calls"])
    with pytest.raises(sc.InputError, match="unknown regime 'R7'"):
        dm.build_demand(default, regime="R7")


def test_other_start_and_weeks(default):
    d = dm.build_demand(default, start="2009-03-09", weeks=2)
    assert d["date"].nunique() == 14 and d["slot_start"].min() == pd.Timestamp("2009-03-09 08:00")
    # the same weekday of consecutive non-holiday weeks in the same month carries the same calls
    a = d[d["date"] == pd.Timestamp("2009-03-10")]["calls"].to_numpy()
    b = d[d["date"] == pd.Timestamp("2009-03-17")]["calls"].to_numpy()
    assert np.allclose(a, b)


def test_forecast_overlay(model):
    folder = model.parent.parent / "inputs" / "orange-2009"
    (folder / "forecast.csv").write_text(
        "plateau,slot_start,calls,aht_s\n"
        "internet,2009-03-02 10:00,1234.5,500\n"
        "fixed,2009-03-02 08:30,10,\n"
        "fixed,2010-01-04 08:30,99,\n")  # outside the horizon: ignored
    append(model, 'forecast = "../inputs/orange-2009/forecast.csv"\n')
    s = sc.load(model)
    plain = dm.build_demand(s.replace(forecast=None))
    d = dm.build_demand(s)
    key = ["slot_start", "plateau"]
    merged = plain.merge(d, on=key, suffixes=("_gen", "_fc"))
    assert len(merged) == len(plain) == len(d)
    hit1 = (merged["plateau"] == "internet") & (merged["slot_start"] == pd.Timestamp("2009-03-02 10:00"))
    hit2 = (merged["plateau"] == "fixed") & (merged["slot_start"] == pd.Timestamp("2009-03-02 08:30"))
    # forecast rows are taken as given (no regime uplift); missing aht keeps the plateau's
    assert merged.loc[hit1, "calls_fc"].item() == 1234.5 and merged.loc[hit1, "aht_s_fc"].item() == 500
    assert merged.loc[hit2, "calls_fc"].item() == 10 and merged.loc[hit2, "aht_s_fc"].item() == 360
    rest = ~(hit1 | hit2)
    assert (merged.loc[rest, "calls_fc"] == merged.loc[rest, "calls_gen"]).all()
    assert (merged.loc[rest, "aht_s_fc"] == merged.loc[rest, "aht_s_gen"]).all()


def test_requirements_meet_targets(default, week):
    req = dm.requirements(default, week)
    assert list(req.columns) == dm.REQUIREMENT_COLUMNS
    assert len(req) == len(week) and (req["scenario"] == "orange-2009").all()
    t = default.targets.loc[req["plateau"]]
    assert (req["service_level"].to_numpy() >= t["sl_target"].to_numpy() - 1e-12).all()
    assert (req["occupancy"].to_numpy() <= t["max_occupancy"].to_numpy() + 1e-12).all()
    assert req["p_abandon"].isna().all()
    load = req["calls"] * req["aht_s"] / 1800
    assert np.allclose(req["load_erlangs"], load)
    # one agent fewer misses a target (the requirement is the least such number)
    less = q.evaluate(req["calls"].to_numpy(), req["aht_s"].to_numpy(), 30.0,
                      req["agents"].to_numpy() - 1, t["answer_s"].to_numpy())
    missed = (less["service_level"] < t["sl_target"].to_numpy()) | (
        less["occupancy"] > t["max_occupancy"].to_numpy())
    assert missed.all()
    shrink = dm.planning_shrinkage(default)
    assert 0.25 < shrink["internet"] < 0.30 and shrink["expert"] == pytest.approx(0.30)
    want = np.ceil(req["agents"] / (1 - shrink[req["plateau"]].to_numpy()) - 1e-9)
    assert (req["scheduled"] == want).all()


def test_requirements_with_erlang_a(default, week):
    s = default.replace(queueing="erlang_a")
    req = dm.requirements(s, week)
    assert req["p_abandon"].between(0, 1).all()
    base = dm.requirements(default, week)
    assert (req["agents"] <= base["agents"]).all()  # impatient callers leave: never more agents


def test_default_needs_subcontractors_but_all_providers_suffice(default, week):
    """FACTS.md sanity check: in-house staff alone cannot carry the load; everyone together can."""
    req = dm.requirements(default, week)
    need_hours = float((req["agents"] * 0.5).sum())
    prov = default.providers
    inhouse = prov[prov["kind"] == "inhouse"]
    inhouse_hours = float((inhouse["headcount"] * default.shifts.weekly_hours
                           * (1 - inhouse["shrinkage"])).sum())
    assert inhouse_hours < need_hours  # 3,200 x 35 h x 70 % = 78,400 < ~96,000 agent-hours
    # every plateau and pair of plateaux: the peak slot fits in what their providers can field at
    # once, counting in-house advisers spread evenly over the 98 open hours and external seats net
    # of shrinkage and AHT penalty
    open_hours = 7 * 14
    ids = list(default.plateaux.index)
    groups = [{p} for p in ids] + [{p, r} for i, p in enumerate(ids) for r in ids[i + 1:]]
    for group in groups:
        serve = prov[[bool(group & set(x)) for x in prov["plateaux"]]]
        ext = serve[serve["kind"] != "inhouse"]
        ih = serve[serve["kind"] == "inhouse"]
        at_once = float((ext["seats"] * (1 - ext["shrinkage"]) / ext["aht_factor"]).sum()
                        + (ih["headcount"] * 35 / open_hours * (1 - ih["shrinkage"])).sum())
        peak = req[req["plateau"].isin(group)].groupby("slot_start")["agents"].sum().max()
        assert peak <= at_once, group
    # and the whole: peak total and weekly hours
    ext = prov[prov["kind"] != "inhouse"]
    ext_hours = float((ext["seats"] * (1 - ext["shrinkage"]) / ext["aht_factor"]).sum() * open_hours)
    assert need_hours < inhouse_hours + ext_hours
    peak = req.groupby("slot_start")["agents"].sum().max()
    assert peak <= float((ext["seats"] * (1 - ext["shrinkage"]) / ext["aht_factor"]).sum()
                         + inhouse_hours / open_hours)


def test_open_hours_without_calls_are_found_and_validate_warns(model, capsys):
    """A centre open 06:00-24:00 whose profile starts at 08:00 gets no calls 06:00-08:00
    (zero before the first key), and none 12:00-14:00 on a plateau given a weight of 0 then;
    a forecast row in such hours brings calls there, so those hours are not reported."""
    from staffing.cli import main

    edit(model, 'default = ["08:00", "22:00"]', 'default = ["06:00", "24:00"]\nsun = ["09:00", "20:00"]')
    prof = model.parent.parent / "inputs" / "orange-2009" / "profiles.csv"
    edit(prof, "pro,intraday,12:00,0.90", "pro,intraday,12:00,0")
    # and a quiet half-hour, 19:00-19:30: shorter than SILENT_MIN_MINUTES, not reported
    edit(prof, "pro,intraday,19:30,", "pro,intraday,19:00,0,\npro,intraday,19:30,")
    s = sc.load(model)
    got = dm.silent_periods(s)
    others = [p for p in s.plateaux.index if p != "pro"]
    assert sorted(got) == sorted([(p, d, 360, 480) for p in s.plateaux.index for d in range(6)]
                                 + [("pro", d, 720, 840) for d in range(7)])
    # the generated demand agrees: no calls in exactly those hours
    dem = dm.build_demand(s)
    minute = dem["slot_start"].dt.hour * 60 + dem["slot_start"].dt.minute
    none = dem["calls"] == 0
    silent = pd.Series(False, index=dem.index)
    for p, d, a, b in got:
        silent |= (dem["plateau"] == p) & (dem["weekday"] == d) & (minute >= a) & (minute < b)
    quiet = (dem["plateau"] == "pro") & (minute >= 1140) & (minute < 1170)
    assert (none == (silent | quiet)).all() and not (silent & quiet).any()
    assert main(["validate", str(model)]) == 0
    out = capsys.readouterr().out
    assert ("warning     mon-sat 06:00-08:00 is open but the intraday profile (profiles.csv) "
            "gives no calls then to any plateau") in out
    assert ("warning     mon-sun 12:00-14:00 is open but the intraday profile (profiles.csv) "
            "gives no calls then to pro") in out
    assert "give the profile a key at 06:00, or close them in [opening]" in out
    # a forecast row with calls for pro on Tuesday 12:30: its Tuesday lunch is no longer
    # silent; a row of 0 calls (Wednesday), or one outside the horizon (Thursday), changes
    # nothing
    (prof.parent / "forecast.csv").write_text(
        "plateau,slot_start,calls,aht_s\npro,2009-03-03 12:30,5,\npro,2009-03-04 12:30,0,\n"
        "pro,2010-03-04 12:30,5,\n")
    append(model, 'forecast = "../inputs/orange-2009/forecast.csv"\n')
    got = dm.silent_periods(sc.load(model))
    assert ("pro", 1, 720, 840) not in got
    assert ("pro", 2, 720, 840) in got and ("pro", 3, 720, 840) in got
    assert all((p, 1, 360, 480) in got for p in others)
    # a weekday weighing 0 has no calls by design: none of its hours is reported
    edit(prof, "pro,weekday,sun,0.15", "pro,weekday,sun,0")
    got = dm.silent_periods(sc.load(model))
    assert ("pro", 6, 720, 840) not in got and ("pro", 5, 720, 840) in got
