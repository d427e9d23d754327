"""Opening hours per plateau (`[opening.plateaux.<id>]`): the professional line `pro` open
08:00-20:00 Monday to Saturday while the others keep 08:00-22:00 every day. No requirement
row, allocation or shift for a plateau outside its hours, its calls kept per day over its own
hours (and per year), every working-time rule (tests/roster_rules.py), bad input named."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import small_scenario as ss
from roster_rules import violations, rows_of
from staffing import allocation, demand, scenario as scenario_mod
from staffing.cli import main
from staffing.rosters.rules import WorkingRules

RULES = dataclasses.asdict(WorkingRules())
PRO = ['opening.plateaux.pro.default=["08:00","20:00"]', 'opening.plateaux.pro.sun="closed"']
YEAR = (dt.date(2009, 1, 1), dt.date(2009, 12, 31))


def _hm(s: pd.Series) -> pd.Series:
    return s.dt.hour * 60 + s.dt.minute



@pytest.fixture(scope="module")
def pro_week():
    sc = scenario_mod.load(None, scenario_mod.parse_set(PRO))
    return sc, allocation.optimise(sc, allocation.Options(weeks=1, rosters=True))


def test_no_row_allocation_or_shift_for_a_plateau_outside_its_hours(pro_week):
    sc, plan = pro_week
    req, alloc = plan.tables["requirements"], plan.tables["allocation"]
    for t in (req, alloc):
        pro = t[t["plateau"] == "pro"]
        assert len(pro) and (pro["slot_start"].dt.day_of_week < 6).all()
        assert _hm(pro["slot_start"]).between(480, 1170).all()  # 08:00 .. 19:30 slots
    # the others keep the centre's hours: 08:00-21:30 slots, 7 days
    net = req[req["plateau"] == "internet"]
    assert net["slot_start"].dt.day_of_week.nunique() == 7 and _hm(net["slot_start"]).max() == 1290
    assert len(net) == 7 * 28 and len(req[req["plateau"] == "pro"]) == 6 * 24
    cov = plan.tables["coverage"]
    assert len(cov[cov["plateau"] == "pro"]) == 6 * 24 and plan.shortfall_share == 0.0
    # a shift on pro starts while pro is open; nobody is rostered on pro on Sunday
    sh = plan.tables["shifts"]
    pro_sh = sh[sh["plateau"] == "pro"]
    start = pro_sh["start"].str.slice(0, 2).astype(int) * 60 + pro_sh["start"].str.slice(3).astype(int)
    assert len(pro_sh) and start.between(480, 1199).all()
    assert (pd.to_datetime(pro_sh["date"]).dt.day_of_week < 6).all()
    r = plan.tables["rosters"]
    pro_r = r[r["plateau"] == "pro"]
    assert (pro_r["shift_start"].dt.day_of_week < 6).all()
    assert _hm(pro_r["shift_start"]).between(480, 1199).all()
    assert violations(rows_of(r), sc.start, 1, RULES) == []


def test_calls_kept_per_plateau_day_and_year(pro_week):
    sc = pro_week[0]
    base = scenario_mod.load()
    d_new = demand.demand_between(sc, *YEAR, forecast=False)
    d_old = demand.demand_between(base, *YEAR, forecast=False)
    annual = float(base.plateaux.at["pro", "annual_calls"]) * demand.uplift_factor(base)
    for d in (d_new, d_old):  # the year adds up to the annual volume either way
        assert d.loc[d["plateau"] == "pro", "calls"].sum() == pytest.approx(annual, rel=1e-9)
    # other plateaux: slot for slot as before
    net_new = d_new[d_new["plateau"] == "internet"].reset_index(drop=True)
    net_old = d_old[d_old["plateau"] == "internet"].reset_index(drop=True)
    assert net_new["slot_start"].equals(net_old["slot_start"])
    assert np.allclose(net_new["calls"], net_old["calls"], rtol=1e-12)
    # pro: no Sunday, and each other day keeps its own day's volume (times one factor for the
    # whole year: Sunday's share goes to the open days) over 08:00-20:00
    day_new = d_new[d_new["plateau"] == "pro"].groupby("date")["calls"].sum()
    day_old = d_old[d_old["plateau"] == "pro"].groupby("date")["calls"].sum()
    assert (day_new.index.day_of_week < 6).all()
    sundays = day_old[day_old.index.day_of_week == 6].sum()
    ratio = (day_new / day_old.reindex(day_new.index)).to_numpy()
    assert np.allclose(ratio, annual / (annual - sundays), rtol=1e-9)
    pro_new = d_new[d_new["plateau"] == "pro"]
    assert _hm(pro_new["slot_start"]).between(480, 1170).all()


def test_calendar_exception_bounds_a_plateaus_hours(tmp_path):
    base = scenario_mod.packaged_models_dir() / "orange-2009.toml"
    model = tmp_path / "variant.toml"
    model.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n'
                     '[opening.plateaux.pro]\ndefault = ["08:00", "20:00"]\nsun = "closed"\n'
                     '[[calendar.exceptions]]\nfrom = 2009-03-03\nopen = "10:00"\nclose = "21:00"\n'
                     '[[calendar.exceptions]]\nfrom = 2009-03-04\nclosed = true\n')
    sc = scenario_mod.load(str(model))
    d = demand.demand_between(sc, dt.date(2009, 3, 2), dt.date(2009, 3, 8), forecast=False)
    tue = d[d["date"] == pd.Timestamp("2009-03-03")]
    assert _hm(tue.loc[tue["plateau"] == "pro", "slot_start"]).agg(["min", "max"]).tolist() == [600, 1170]
    assert _hm(tue.loc[tue["plateau"] == "internet", "slot_start"]).agg(["min", "max"]).tolist() == [600, 1230]
    assert not len(d[d["date"] == pd.Timestamp("2009-03-04")])
    assert sc.opening_on(dt.date(2009, 3, 3), "pro") == (600, 1200)


@pytest.mark.parametrize("setting, field, words", [
    ('opening.plateaux.nope.default=["08:00","20:00"]', "opening.plateaux.nope", "unknown plateau"),
    ('opening.plateaux.pro.mon=["07:00","20:00"]', "opening.plateaux.pro.mon", "outside the centre"),
    ('opening.plateaux.pro.mon=["08:15","20:00"]', "opening.plateaux.pro.mon", "slot grid"),
    ('opening.plateaux.pro.mon=["20:00","08:00"]', "opening.plateaux.pro.mon", "closes at"),
    ('opening.plateaux.pro.mon="shut"', "opening.plateaux.pro.mon", "closed"),
])
def test_bad_plateau_hours_are_named(setting, field, words, capsys):
    assert main(["validate", "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"'{field}'" in err and words in err, err


def test_open_plateau_on_a_closed_centre_day_is_named(capsys):
    assert main(["validate", "--set", 'opening.sun="closed"', "--set",
                 'opening.plateaux.pro.sun=["08:00","20:00"]']) == 2
    err = capsys.readouterr().err.strip()
    assert "'opening.plateaux.pro.sun'" in err and "centre is closed" in err


def test_forecast_row_outside_a_plateaus_hours_is_named(tmp_path, capsys):
    team = {"id": "team", "kind": "inhouse", "plateaux": "p", "cost_eur_per_hour": 20,
            "headcount": 1, "shrinkage": 0}
    model = ss.write(tmp_path, providers=[team], forecast=ss.monday_slots([5, 5, 5]),
                     opening={"default": "closed", "mon": ["08:00", "10:00"]})
    model.write_text(model.read_text() + '\n[opening.plateaux.p]\nmon = ["08:00", "09:00"]\n')
    assert main(["validate", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "forecast.csv" in err and "row 4" in err and "'slot_start'" in err
    assert "plateau's opening hours" in err


def test_validate_warns_of_plateau_hours_no_team_shift_covers(capsys):
    # expert and pro (the teams serving pro serve only these two) open 09:00-13:00 on
    # Saturday: no 7 h shift fits; with expert open all day a pro shift from 09:00 covers it
    both = ['opening.plateaux.pro.sat=["09:00","13:00"]',
            'opening.plateaux.expert.sat=["09:00","13:00"]']
    assert main(["validate", "--set", both[0], "--set", both[1]]) == 0
    out = capsys.readouterr().out
    assert "opening.plateaux.pro sat 09:00-13:00 is open but no shift" in out
    assert main(["validate", "--set", both[0]]) == 0
    out = capsys.readouterr().out
    assert "opening.plateaux.pro sat" not in out and "open mon-fri 08:00-22:00, sat 09:00-13:00" in out
