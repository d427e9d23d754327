"""Several contracts per scenario (`[contracts]`, `[teams.ID] contracts`): the bundled
orange-2009-contracts variant over 4 weeks (one whole 4-week cycle). Every adviser's roster
is checked against every working-time rule and against their own contract by
tests/roster_rules.py (an independent reading of the model file's raw tables); coverage and
conservation are recounted from the roster lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from staffing import scenario
from staffing.cli import main
from staffing.rosters.rules import WorkingRules

from roster_rules import contract_violations, violations, rows_of

RULES = dataclasses.asdict(WorkingRules())
START = dt.date(2009, 3, 2)
WEEKS = 4
MODEL = scenario.packaged_models_dir() / "orange-2009-contracts.toml"


def _raw_contracts() -> tuple[dict, dict]:
    """(contract id -> raw table, team -> mix) from the variant and its parent file."""
    child = tomllib.loads(MODEL.read_text())
    parent = tomllib.loads((MODEL.parent / child["extends"]).read_text())
    sh = parent["shifts"]
    contracts = {"full-time": {"paid_hours": sh["paid_hours"], "days_per_week": sh["days_per_week"],
                               "weekly_hours": sh["weekly_hours"]}}
    contracts.update(child["contracts"])
    return contracts, {k: t["contracts"] for k, t in child["teams"].items()}


def _members() -> dict:
    """adviser -> contract: ids numbered across each team in the mix's order; a team
    without a mix is all full-time (headcounts from providers.csv)."""
    _, mixes = _raw_contracts()
    prov = pd.read_csv(scenario.packaged_models_dir().parent / "inputs" / "orange-2009" /
                       "providers.csv").set_index("id")
    out = {}
    for k, pv in prov[prov["kind"] == "inhouse"].iterrows():
        n = 1
        for cid, count in mixes.get(k, {"full-time": int(pv["headcount"])}).items():
            for _ in range(count):
                out[f"{k}-{n:04d}"] = cid
                n += 1
    return out



@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("contracts") / "run"
    assert main(["optimise", "orange-2009-contracts", "--weeks", str(WEEKS), "--out",
                 str(out)]) == 0
    r = pd.read_csv(out / "rosters.csv")
    for c in ("shift_start", "shift_end", "break_start", "break_end", "date"):
        r[c] = pd.to_datetime(r[c])
    return out, r


def test_every_adviser_keeps_every_rule_and_their_own_contract(run):
    _, r = run
    members = _members()
    assert len(members) == 3200
    got = r.groupby("adviser")["contract"].agg(lambda s: set(s))
    assert set(got.index) == set(members)  # every adviser works (no contract has 0 days)
    assert all(got[a] == {c} for a, c in members.items())
    rows = rows_of(r)
    assert violations(rows, START, WEEKS, RULES) == []
    contracts, _ = _raw_contracts()
    assert contract_violations(rows, START, WEEKS, contracts, members) == []
    # the figures the contracts imply, counted directly
    week = (r["date"] - pd.Timestamp(START)).dt.days // 7
    per = r.assign(week=week).groupby(["contract", "adviser", "week"])["paid_hours"].sum()
    assert per.loc["part-time-28"].eq(28.0).all() and per.loc["mornings"].eq(17.5).all()
    assert per.loc["weekends"].eq(14.0).all() and per.loc["full-time"].eq(35.0).all()
    cycle = per.loc["cycle-35"].unstack("week")
    assert len(cycle) == 60 and (cycle.to_numpy() == [28.0, 35.0, 35.0, 42.0]).all()


def test_weekend_and_morning_advisers_stay_in_their_days_and_window(run):
    _, r = run
    wk = r[r["contract"] == "weekends"]
    assert len(wk) == 60 * 2 * WEEKS
    assert wk["date"].dt.day_of_week.isin([5, 6]).all()
    mo = r[r["contract"] == "mornings"]
    start_min = mo["shift_start"].dt.hour * 60 + mo["shift_start"].dt.minute
    end_min = mo["shift_end"].dt.hour * 60 + mo["shift_end"].dt.minute
    assert start_min.between(8 * 60, 9 * 60).all() and (end_min <= 12 * 60 + 30).all()
    assert mo["date"].dt.day_of_week.lt(5).all() and mo["paid_hours"].eq(3.5).all()
    assert mo["break_start"].isna().all()  # 3.5 h: no break (break after 6 h)


def test_coverage_and_conservation_from_the_roster_lines(run):
    out, r = run
    alloc = pd.read_csv(out / "allocation.csv", parse_dates=["slot_start"])
    step = pd.Timedelta(minutes=30)
    n = ((r["shift_end"] - r["shift_start"]) // step).to_numpy(int)
    idx = np.repeat(np.arange(len(r)), n)
    t = r["shift_start"].to_numpy()[idx] + (np.arange(len(idx)) - np.repeat(
        np.cumsum(n) - n, n)) * step.to_timedelta64()
    on_break = (t >= r["break_start"].to_numpy()[idx]) & (t < r["break_end"].to_numpy()[idx])
    cells = pd.DataFrame({"slot_start": t[~on_break], "plateau": r["plateau"].to_numpy()[idx][~on_break],
                          "provider": r["team"].to_numpy()[idx][~on_break]})
    recount = cells.groupby(["slot_start", "plateau", "provider"]).size()
    inhouse = alloc[alloc["kind"] == "inhouse"].set_index(
        ["slot_start", "plateau", "provider"])["logged_agents"]
    both = pd.concat([recount.rename("roster"), inhouse.rename("alloc")], axis=1).fillna(0)
    assert (both["roster"] == both["alloc"]).all()
    cov = pd.read_csv(out / "coverage.csv")
    assert (cov["answering_agents"] >= cov["required_agents"] - 1e-6).all()
    assert cov["shortfall_agents"].eq(0).all()


def test_providers_pay_each_contract(run):
    out, r = run
    prov = pd.read_csv(out / "providers.csv").set_index("provider")
    # Lyon: 600 x 35 + 60 x 28 + 40 x 17.5 + 60 x 14 h a week; Lille's cycle pays 35 h a week
    assert prov.at["fr-lyon", "paid_hours"] == pytest.approx(WEEKS * 24220.0)
    assert prov.at["fr-lille", "paid_hours"] == pytest.approx(WEEKS * 760 * 35.0)
    logged = r.groupby("team")["paid_hours"].sum()
    assert prov.at["fr-lyon", "logged_hours"] == pytest.approx(logged["fr-lyon"])
    # over a whole cycle Lille works what it is paid: 700 x 35 x 4 + 60 x (28+35+35+42)
    assert logged["fr-lille"] == pytest.approx(700 * 35 * 4 + 60 * 140)
    assert prov.at["fr-lyon", "cost_eur"] == pytest.approx(WEEKS * 24220.0 * 55)


def test_manifest_records_the_contracts_and_the_checker_reads_them(run, capsys, tmp_path):
    out, r = run
    manifest = json.loads((out / "manifest.json").read_text())
    got = {c["id"]: c for c in manifest["rosters"]["contracts"]}
    assert set(got) == {"full-time", "part-time-28", "mornings", "weekends", "cycle-35"}
    assert got["weekends"]["weekdays"] == ["sat", "sun"]
    assert (got["mornings"]["earliest_start"], got["mornings"]["latest_end"]) == ("08:00", "12:30")
    assert got["cycle-35"]["cycle_weekly_hours"] == [28.0, 35.0, 35.0, 42.0]
    assert got["cycle-35"]["cycle_week"] == [0, 1, 2, 3]
    capsys.readouterr()
    assert main(["check", str(out)]) == 0


@pytest.mark.parametrize("contract, move, rule", [
    ("weekends", pd.Timedelta(days=-1), "contract_weekday"),  # a Saturday shift on Friday
    ("mornings", pd.Timedelta(hours=2), "contract_window"),  # ends 13:30 at the earliest
    ("part-time-28", None, "contract_days"),  # one shift dropped: 3 days, 21 h
])
def test_checker_finds_a_broken_contract(run, capsys, tmp_path, contract, move, rule):
    out, r = run
    edited = tmp_path / "run"
    edited.mkdir()
    for f in ("manifest.json", "rosters.csv"):
        (edited / f).write_bytes((out / f).read_bytes())
    raw = pd.read_csv(edited / "rosters.csv")
    i = raw.index[raw["contract"] == contract][0]
    if move is None:
        raw = raw.drop(index=i)
    else:
        for c in ("date", "shift_start", "shift_end", "break_start", "break_end"):
            v = pd.to_datetime(raw.loc[i, c])
            if pd.notna(v):
                raw.loc[i, c] = (v + move).isoformat() if c != "date" else (v + move).date().isoformat()
    raw.to_csv(edited / "rosters.csv", index=False)
    capsys.readouterr()
    assert main(["check", str(edited)]) == 3
    assert rule in capsys.readouterr().out


def test_rule_free_plan_builds_tours_per_contract(tmp_path):
    out = tmp_path / "run"
    assert main(["optimise", "orange-2009-contracts", "--no-rosters", "--out", str(out)]) == 0
    tours = pd.read_csv(out / "tours.csv")
    heads = tours.groupby("provider")["advisers"].sum()
    assert heads["fr-lyon"] == 760 and heads["fr-lille"] == 760
    # Lyon's lines: 3.5 h shifts for the 40 morning advisers, 2-day lines for the weekend team
    lyon = tours[tours["provider"] == "fr-lyon"]
    assert lyon.loc[lyon["paid_hours"] == 17.5, "advisers"].sum() == 40
    assert lyon.loc[lyon["paid_hours"] == 14.0, "advisers"].sum() == 60


def _variant(tmp_path, text: str) -> str:
    path = tmp_path / "variant.toml"
    base = scenario.packaged_models_dir() / "orange-2009.toml"
    path.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n' + text)
    return str(path)


PT = '[contracts.pt]\npaid_hours = [7.0]\ndays_per_week = 4\nweekly_hours = 28\n'


@pytest.mark.parametrize("text, field", [
    (PT + '[teams.fr-lyon]\ncontracts = {full-time = 700, pt = 50}\n', "teams.fr-lyon.contracts"),
    (PT + '[teams.fr-lyon]\ncontracts = {full-time = 700, nope = 60}\n',
     "teams.fr-lyon.contracts.nope"),
    (PT + '[teams.webhelp]\ncontracts = {pt = 10}\n', "teams.webhelp.contracts"),
    (PT + '[teams.fr-lyon]\ncontracts = {full-time = 800, pt = -40}\n',
     "teams.fr-lyon.contracts.pt"),
    ('[contracts.pt]\npaid_hours = [7.0]\ndays_per_week = 4\nweekly_hours = 30\n',
     "contracts.pt.weekly_hours"),
    ('[contracts.pt]\npaid_hours = [7.0]\nweekly_hours = 28\n', "contracts.pt"),
    ('[contracts.pt]\npaid_hours = [7.0, 3.5]\ndays_per_week = 4\nweekly_hours = 28\n',
     "contracts.pt.paid_hours"),
    ('[contracts.pt]\npaid_hours = [7.0]\ndays_per_week = 2\nweekly_hours = 14\n'
     'weekdays = ["sat", "dim"]\n', "contracts.pt.weekdays"),
    ('[contracts.pt]\npaid_hours = [7.0]\ndays_per_week = 3\nweekly_hours = 21\n'
     'weekdays = ["sat", "sun"]\n', "contracts.pt.weekdays"),
    ('[contracts.am]\npaid_hours = [7.0]\ndays_per_week = 5\nweekly_hours = 35\n'
     'earliest_start = "08:00"\nlatest_end = "14:00"\n', "contracts.am.latest_end"),
    ('[contracts.am]\npaid_hours = [3.5]\ndays_per_week = 5\nweekly_hours = 17.5\n'
     'earliest_start = "08:15"\n', "contracts.am.earliest_start"),
    ('[contracts.cy]\npaid_hours = [7.0]\ncycle_weekly_hours = [28, 42]\n'
     'cycle_days_per_week = [4]\n', "contracts.cy.cycle_days_per_week"),
    ('[contracts.cy]\npaid_hours = [7.0]\ncycle_weekly_hours = [28, 42]\n'
     'cycle_days_per_week = [4, 6]\nweekly_hours = 36\n', "contracts.cy.weekly_hours"),
    ('[contracts.cy]\npaid_hours = [7.0]\ncycle_weekly_hours = [28, 49]\n'
     'cycle_days_per_week = [4, 7]\n', "contracts.cy.paid_hours"),
    ('[contracts.full-time]\npaid_hours = [7.0]\ndays_per_week = 4\nweekly_hours = 28\n',
     "contracts.full-time"),
    ('[contracts.pt]\npaid_hours = [7.0]\ndays_per_week = 4\nweekly_hours = 28\nshift = 3\n',
     "contracts.pt.shift"),
    ('[teams.fr-lyon]\ncontracts = {full-time = "all"}\n', "teams.fr-lyon.contracts.full-time"),
    # opening 08:00-22:00: no 3.5 h shift ends by 07:30 (the contract could never work)
    ('[contracts.early]\npaid_hours = [3.5]\ndays_per_week = 5\nweekly_hours = 17.5\n'
     'latest_end = "07:30"\n[teams.fr-lyon]\ncontracts = {full-time = 700, early = 60}\n',
     "contracts.early"),
    ('[opening]\nsat = "closed"\n[contracts.we]\npaid_hours = [7.0]\ndays_per_week = 2\n'
     'weekly_hours = 14\nweekdays = ["sat", "sun"]\n[teams.fr-lyon]\n'
     'contracts = {full-time = 700, we = 60}\n', "contracts.we"),
])
def test_bad_contracts_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, text, field):
    model = _variant(tmp_path, text)
    out = tmp_path / "out"
    assert main(["optimise", model, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "variant.toml" in err[0] and field in err[0], err
    assert not out.exists() or not any(out.iterdir())


def test_the_independent_reader_finds_hand_made_contract_breaks():
    contracts, _ = _raw_contracts()
    d0 = dt.datetime(2009, 3, 2)
    h = dt.timedelta(hours=1)

    def shift(a, day, start_h, paid):
        s = d0 + dt.timedelta(days=day) + start_h * h
        return {"adviser": a, "shift_start": s, "shift_end": s + paid * h, "break_start": None,
                "break_end": None, "paid_hours": paid}

    rows = ([shift("we", 4, 9, 7.0), shift("we", 5, 9, 7.0)]  # Friday and Saturday
            + [shift("mo", d, 9.5, 3.5) for d in range(5)]  # 09:30-13:00: past 12:30
            + [shift("cy", d, 9, 7.0) for d in range(5)])  # cycle week 1 asks 4 days, 28 h
    members = {"we": "weekends", "mo": "mornings", "cy": "cycle-35", "pt": "part-time-28"}
    got = set(contract_violations(rows, START, 1, contracts, members))
    assert got == {("we", "weekday"), ("mo", "window"), ("cy", "hours"), ("cy", "days"),
                   ("pt", "hours"), ("pt", "days")}


def test_identical_weeks_are_reused_only_when_the_contracts_ask_the_same():
    from staffing.rosters.contracts import week_signature

    default = scenario.load()
    assert week_signature(default, START, 0) == week_signature(default, START, 1) == ""
    mixed = scenario.load("orange-2009-contracts")
    sig = [week_signature(mixed, START, w) for w in range(5)]
    # the 4-week cycle: weeks 1-4 differ (28, 35, 35, 42 h; weeks 2 and 3 alike), week 5 = week 1
    assert sig[0] != sig[1] and sig[1] == sig[2] and sig[2] != sig[3] and sig[4] == sig[0]


def test_validate_counts_every_contract_when_it_warns_of_uncovered_hours(tmp_path, capsys):
    sat = '[opening]\nsat = ["09:00", "13:00"]\n'
    model = _variant(tmp_path, sat)
    assert main(["validate", model]) == 0
    out = capsys.readouterr()
    assert "sat" in (out.out + out.err).lower() and "no allowed shift" in out.out + out.err
    # 3.5 h weekend shifts can cover the short Saturday: no warning any more
    model = _variant(tmp_path, sat + '[contracts.we]\npaid_hours = [3.5]\ndays_per_week = 2\n'
                     'weekly_hours = 7\nweekdays = ["sat", "sun"]\n[teams.fr-lyon]\n'
                     'contracts = {full-time = 700, we = 60}\n')
    assert main(["validate", model]) == 0
    out = capsys.readouterr()
    assert "no allowed shift" not in out.out + out.err


def test_validate_lists_the_teams_contracts(capsys):
    assert main(["validate", "orange-2009-contracts"]) == 0
    out = capsys.readouterr().out
    assert "contracts   fr-lyon: 600 full-time, 60 part-time-28, 40 mornings, 60 weekends" in out
    assert "contracts   fr-lille: 700 full-time, 60 cycle-35" in out
    assert main(["validate"]) == 0
    assert "\ncontracts " not in capsys.readouterr().out


def test_checker_finds_a_week_without_any_shift(run, capsys, tmp_path):
    out, r = run
    edited = tmp_path / "run"
    edited.mkdir()
    (edited / "manifest.json").write_bytes((out / "manifest.json").read_bytes())
    raw = pd.read_csv(out / "rosters.csv")
    gone = (raw["adviser"] == "fr-lyon-0601") & (raw["week"] == 2)  # a part-timer's week 2
    assert gone.sum() == 4
    raw[~gone].to_csv(edited / "rosters.csv", index=False)
    capsys.readouterr()
    assert main(["check", str(edited)]) == 3
    text = capsys.readouterr().out
    assert "fr-lyon-0601" in text and "contract_hours" in text and "contract_days" in text


def test_checker_finds_an_adviser_without_any_shift(run, capsys, tmp_path):
    out, r = run
    edited = tmp_path / "run"
    edited.mkdir()
    (edited / "manifest.json").write_bytes((out / "manifest.json").read_bytes())
    raw = pd.read_csv(out / "rosters.csv")
    raw[raw["adviser"] != "fr-lille-0760"].to_csv(edited / "rosters.csv", index=False)
    capsys.readouterr()
    assert main(["check", str(edited)]) == 3  # a cycle-35 adviser's 4 weeks, all missing
    text = capsys.readouterr().out
    assert "fr-lille-0760" in text and "contract_hours" in text
