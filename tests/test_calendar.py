"""The opening calendar (`[calendar]`): closed public holidays, date exceptions, and the
contract days a closed day pays without work. Rosters are checked with tests/roster_rules.py
(an independent reading of the rules), demand against day weights computed here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import holidays as holidays_lib
import numpy as np
import pandas as pd
import pytest

from staffing import allocation, demand, scenario
from staffing.cli import main
from staffing.rosters.rules import WorkingRules

from roster_rules import violations, rows_of

RULES = dataclasses.asdict(WorkingRules())
EASTER_MONDAY = dt.date(2009, 4, 13)  # a French public holiday (holidays package, FR)


def _variant(tmp_path, text: str) -> str:
    path = tmp_path / "variant.toml"
    base = scenario.packaged_models_dir() / "orange-2009.toml"
    path.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n' + text)
    return str(path)



def _worked_and_paid(run, start: dt.date, weeks: int, closed_days: int):
    """Each adviser works 35 h less 7 h per closed day, in 5 - closed_days shifts, every rule
    holds, and every team is still paid 35 h per adviser."""
    r = pd.read_csv(run / "rosters.csv")
    assert violations(rows_of(r), start, weeks, RULES) == []
    per = r.groupby("adviser")["paid_hours"].agg(["sum", "size"])
    assert per["sum"].eq(35.0 - 7.0 * closed_days).all()
    assert per["size"].eq(5 - closed_days).all() and len(per) == 3200
    prov = pd.read_csv(run / "providers.csv")
    inhouse = prov[prov["kind"] == "inhouse"].set_index("provider")
    heads = r.groupby("team")["adviser"].nunique()
    assert np.allclose(inhouse["paid_hours"], heads[inhouse.index] * 35.0)
    assert np.allclose(inhouse["logged_hours"], heads[inhouse.index] * (35.0 - 7.0 * closed_days))
    return r


def test_closed_holiday_no_calls_no_shifts_paid_not_worked(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["optimise", "--start", EASTER_MONDAY.isoformat(), "--weeks", "1",
                 "--set", 'calendar.holidays="closed"', "--out", str(run)]) == 0
    r = _worked_and_paid(run, EASTER_MONDAY, 1, closed_days=1)
    assert not (pd.to_datetime(r["date"]).dt.date == EASTER_MONDAY).any()
    for table in ("demand", "requirements"):
        t = pd.read_csv(run / f"{table}.csv")
        assert not (pd.to_datetime(t["slot_start"]).dt.date == EASTER_MONDAY).any()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["rosters"]["paid_days_off"] == [1]
    capsys.readouterr()
    assert main(["check", str(run)]) == 0
    # without the paid day off, the checker sees every adviser 7 h short of the contract
    manifest["rosters"]["paid_days_off"] = [0]
    (run / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["check", str(run)]) == 3
    assert "contract_hours" in capsys.readouterr().out


def test_closed_holidays_weigh_zero_and_the_year_keeps_its_calls():
    open_ = scenario.load()
    closed = scenario.load(None, scenario.parse_set(['calendar.holidays="closed"']))
    w_open, w_closed = demand.day_weights(open_, 2009), demand.day_weights(closed, 2009)
    hol = np.array([d in holidays_lib.FR(years=2009) for d in w_open.index.date])
    assert hol.sum() == 11 and (w_closed[hol] == 0).all().all()
    plain = demand.day_weights(scenario.load(None, scenario.parse_set(['demand.holidays=""'])), 2009)
    assert np.allclose(w_open[hol], 0.6 * plain[hol]) and (plain[hol] > 0).all().all()
    assert np.allclose(w_closed[~hol], plain[~hol]) and np.allclose(w_open[~hol], plain[~hol])
    # an open day's calls scale by the year's open weight over its closed weight, per plateau
    day = dt.date(2009, 4, 14)
    a = demand.demand_between(open_, day, day).groupby("plateau")["calls"].sum()
    b = demand.demand_between(closed, day, day).groupby("plateau")["calls"].sum()
    ratio = w_open.sum() / w_closed.sum()
    assert np.allclose(b / a, ratio[a.index], rtol=1e-9)
    # and the calendar year still adds up to the annual volume (times the regime's uplift)
    year = demand.demand_between(closed, dt.date(2009, 1, 1), dt.date(2009, 12, 31))
    total = year.groupby("plateau")["calls"].sum()
    want = closed.plateaux["annual_calls"][total.index] * demand.uplift_factor(closed)
    assert np.allclose(total, want, rtol=1e-9)


def test_exception_closes_a_saturday_and_changes_hours(tmp_path):
    model = _variant(tmp_path, '[calendar]\n'
                               '[[calendar.exceptions]]\nfrom = 2009-03-07\nclosed = true\n'
                               '[[calendar.exceptions]]\nfrom = 2009-03-03\nuntil = 2009-03-04\n'
                               'open = "10:00"\nclose = "18:00"\n')
    sc = scenario.load(model)
    base = scenario.load()
    assert sc.opening_on(dt.date(2009, 3, 7)) is None
    assert sc.opening_on(dt.date(2009, 3, 3)) == (600, 1080) == sc.opening_on(dt.date(2009, 3, 4))
    assert sc.opening_on(dt.date(2009, 3, 5)) == (480, 1320)
    d0, d1 = dt.date(2009, 3, 2), dt.date(2009, 3, 8)
    new, old = demand.demand_between(sc, d0, d1), demand.demand_between(base, d0, d1)
    day = lambda t: pd.to_datetime(t["slot_start"]).dt.date  # noqa: E731
    assert not (day(new) == dt.date(2009, 3, 7)).any()
    short = new[day(new) == dt.date(2009, 3, 3)]
    minutes = pd.to_datetime(short["slot_start"]).dt.hour * 60 + pd.to_datetime(
        short["slot_start"]).dt.minute
    assert minutes.min() == 600 and minutes.max() == 1050
    # a day with other hours keeps its calls; the closed Saturday's go to the rest of the year
    daily_new = new.groupby([day(new), "plateau"])["calls"].sum()
    daily_old = old.groupby([day(old), "plateau"])["calls"].sum()
    w_old = demand.day_weights(base, 2009)
    share = w_old.sum() / (w_old.sum() - w_old.loc[pd.Timestamp("2009-03-07")])
    for d in (dt.date(2009, 3, 3), dt.date(2009, 3, 5)):
        ratio = daily_new[d] / daily_old[d]
        assert np.allclose(ratio, share[ratio.index], rtol=1e-9)
    plan = allocation.optimise(sc, allocation.Options(weeks=1, rosters=True))
    r = plan.tables["rosters"]
    assert not (pd.to_datetime(r["date"]).dt.date == dt.date(2009, 3, 7)).any()
    starts = pd.to_datetime(r["shift_start"])
    ends = pd.to_datetime(r["shift_end"])
    on = starts.dt.date.isin([dt.date(2009, 3, 3), dt.date(2009, 3, 4)])
    assert (starts[on].dt.hour >= 10).all() and (ends[on] <= starts[on].dt.normalize()
                                                  + pd.Timedelta(hours=18)).all()
    assert violations(rows_of(r), sc.start, 1, RULES) == []
    per = r.groupby("adviser")["paid_hours"].agg(["sum", "size"])
    assert per["sum"].eq(28.0).all() and per["size"].eq(4).all()


@pytest.mark.parametrize("text, field", [
    ('[calendar]\nholidays = "sometimes"\n', "calendar.holidays"),
    ('[demand]\nholidays = ""\n[calendar]\nholidays = "closed"\n', "calendar.holidays"),
    ('[[calendar.exceptions]]\nfrom = 2009-03-07\nuntil = 2009-03-01\nclosed = true\n',
     "calendar.exceptions[1].until"),
    ('[[calendar.exceptions]]\nfrom = 2009-03-07\nclosed = true\nopen = "10:00"\n',
     "calendar.exceptions[1].closed"),
    ('[[calendar.exceptions]]\nfrom = 2009-03-07\nopen = "10:00"\n', "calendar.exceptions[1]"),
    ('[[calendar.exceptions]]\nfrom = 2009-03-07\nopen = "18:00"\nclose = "10:00"\n',
     "calendar.exceptions[1].close"),
    ('[[calendar.exceptions]]\nuntil = 2009-03-07\nclosed = true\n', "calendar.exceptions[1].from"),
    ('[[calendar.exceptions]]\nfrom = 2009-03-07\nopen = "10:15"\nclose = "18:00"\n',
     "calendar.exceptions[1].open"),
])
def test_bad_calendar_is_one_line_exit_2(tmp_path, capsys, text, field):
    model = _variant(tmp_path, text)
    assert main(["validate", model]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "variant.toml" in err[0] and field in err[0], err


def test_validate_warns_of_exception_hours_no_shift_can_cover(tmp_path, capsys):
    model = _variant(tmp_path, '[[calendar.exceptions]]\nfrom = 2009-03-07\n'
                               'open = "09:00"\nclose = "13:00"\n')
    assert main(["validate", model]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "calendar.exceptions[1] 2009-03-07 09:00-13:00 is open but no allowed shift" in text


def test_forecast_row_on_a_closed_date_is_named(tmp_path, capsys):
    fc = tmp_path / "forecast.csv"
    fc.write_text("plateau,slot_start,calls\nfixed,2009-04-14 10:00,100\nfixed,2009-04-13 10:00,50\n")
    head = f'[horizon]\nstart = 2009-04-13\n[inputs]\nforecast = "{fc.as_posix()}"\n'
    model = _variant(tmp_path, head + '[calendar]\nholidays = "closed"\n')
    assert main(["validate", model]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "forecast.csv" in err[0] and "row 3" in err[0] \
        and "2009-04-13 10:00 (mon) is outside opening hours" in err[0], err
    open_model = _variant(tmp_path, head)
    assert main(["validate", open_model]) == 0


def test_validate_summary_states_the_calendar(tmp_path, capsys):
    model = _variant(tmp_path, '[calendar]\nholidays = "closed"\n'
                               '[[calendar.exceptions]]\nfrom = 2009-03-07\nclosed = true\n')
    assert main(["validate", model]) == 0
    out = capsys.readouterr().out
    assert "calendar    public holidays (FR) closed; 2009-03-07 closed" in out
    # 1 week from Monday 2 March 2009, 08:00-22:00: 28 slots a day, Saturday closed: 6 x 28
    assert "168 open slots" in out
    assert main(["validate"]) == 0
    assert "calendar " not in capsys.readouterr().out  # the default changes nothing


def test_rule_free_tours_leave_the_closed_holiday_off(tmp_path):
    run = tmp_path / "run"
    assert main(["optimise", "--no-rosters", "--start", EASTER_MONDAY.isoformat(), "--weeks", "1",
                 "--set", 'calendar.holidays="closed"', "--out", str(run)]) == 0
    tours = pd.read_csv(run / "tours.csv")
    assert (tours["mon"] == "off").all() and (tours["paid_hours"] == 28.0).all()
    worked = tours[["tue", "wed", "thu", "fri", "sat", "sun"]].ne("off").sum(axis=1)
    assert (worked == 4).all()
    prov = pd.read_csv(run / "providers.csv")
    inhouse = prov[prov["kind"] == "inhouse"]
    assert np.allclose(inhouse["paid_hours"] / inhouse["logged_hours"], 35.0 / 28.0)


def test_a_week_closed_whole_is_paid_and_the_next_one_worked(tmp_path):
    model = _variant(tmp_path, '[[calendar.exceptions]]\nfrom = 2009-03-02\nuntil = 2009-03-08\n'
                               'closed = true\n')
    run = tmp_path / "run"
    assert main(["optimise", model, "--weeks", "2", "--out", str(run)]) == 0
    r = pd.read_csv(run / "rosters.csv")
    assert pd.to_datetime(r["date"]).min() == pd.Timestamp("2009-03-09")
    assert violations(rows_of(r), dt.date(2009, 3, 2), 2, RULES) == []
    per = r.groupby("adviser")["paid_hours"].agg(["sum", "size"])
    assert per["sum"].eq(35.0).all() and per["size"].eq(5).all() and len(per) == 3200
    # 7 days closed, at most the contract's 5 are paid days off
    assert json.loads((run / "manifest.json").read_text())["rosters"]["paid_days_off"] == [5, 0]
    prov = pd.read_csv(run / "providers.csv")
    inhouse = prov[prov["kind"] == "inhouse"]
    assert np.allclose(inhouse["paid_hours"], 2 * inhouse["logged_hours"])
