"""The advisers table (`inputs.advisers`): named advisers of the Montigny expert cell with a
part-time contract, skill subsets and leave, over 2 weeks. Rosters are checked by
tests/roster_rules.py (an independent reading of the rules and of each contract), the leave
days off computed here from the dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest

from staffing import scenario
from staffing.cli import main
from staffing.rosters.rules import WorkingRules

from roster_rules import contract_violations, violations, rows_of

RULES = dataclasses.asdict(WorkingRules())
START = dt.date(2009, 3, 2)  # a Monday; the default opens every day 08:00-22:00
PT = {"paid_hours": [7.0], "days_per_week": 4, "weekly_hours": 28}
FT = {"paid_hours": [7.0], "days_per_week": 5, "weekly_hours": 35}
LEAVE = {1: "2009-03-03..2009-03-05",  # Tue-Thu of week 1: 3 days off, 14 h left
         12: "2009-03-09",  # Monday of week 2
         30: "2009-03-02..2009-03-08",  # the whole of week 1: no shift, paid
         51: "2009-03-07; 2009-03-08",  # a part-timer's weekend: 2 of 4 days
         52: "2009-02-20..2009-02-27"}  # before the horizon: nothing changes


def _table() -> str:
    rows = ["id,team,contract,skills,unavailable"]
    for i in range(1, 61):  # fr-montigny: 60 advisers, plateaux expert;pro
        contract = "full-time" if i <= 50 else "pt"
        skills = "expert" if i <= 10 else ("pro" if i <= 20 else "")
        rows.append(f"m-{i:03d},fr-montigny,{contract},{skills},\"{LEAVE.get(i, '')}\"")
    return "\n".join(rows) + "\n"


def _variant(folder, table: str, extra: str = "") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "advisers.csv").write_text(table)
    base = scenario.packaged_models_dir() / "orange-2009.toml"
    path = folder / "variant.toml"
    path.write_text(f'extends = "{base.as_posix()}"\nname = "variant"\n[inputs]\n'
                    f'advisers = "advisers.csv"\n[contracts.pt]\npaid_hours = [7.0]\n'
                    f'days_per_week = 4\nweekly_hours = 28\n' + extra)
    return str(path)



def _leave_dates(i: int) -> set:
    out = set()
    for part in LEAVE.get(i, "").split(";"):
        ends = [dt.date.fromisoformat(x.strip()) for x in part.split("..") if x.strip()]
        if ends:
            out |= {ends[0] + dt.timedelta(days=k) for k in range((ends[-1] - ends[0]).days + 1)}
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("advisers")
    model = _variant(base / "model", _table())
    out = base / "run"
    assert main(["optimise", model, "--weeks", "2", "--out", str(out)]) == 0
    r = pd.read_csv(out / "rosters.csv")
    for c in ("shift_start", "shift_end", "break_start", "break_end", "date"):
        r[c] = pd.to_datetime(r[c])
    return out, r


def test_named_advisers_keep_every_rule_their_contract_and_their_leave(run):
    _, r = run
    m = r[r["team"] == "fr-montigny"]
    members = {f"m-{i:03d}": ("full-time" if i <= 50 else "pt") for i in range(1, 61)}
    assert set(m["adviser"]) == set(members)  # every named adviser works in week 2
    assert not r["adviser"].str.startswith("fr-montigny-").any()  # no generated ids left
    assert (m.groupby("adviser")["contract"].first() == pd.Series(members)).all()
    rows = rows_of(r)
    assert violations(rows, START, 2, RULES) == []
    # leave: days off = the leave dates in the week (all open, all on the contract's
    # weekdays here), at most the week's days
    days_off = {}
    for i in LEAVE:
        for w in range(2):
            week = {START + dt.timedelta(days=7 * w + k) for k in range(7)}
            days = 5 if i <= 50 else 4
            days_off[(f"m-{i:03d}", w)] = min(len(_leave_dates(i) & week), days)
    assert days_off[("m-001", 0)] == 3 and days_off[("m-030", 0)] == 5
    mine = [x for x in rows if x["adviser"] in members]
    assert contract_violations(mine, START, 2, {"full-time": FT, "pt": PT}, members,
                               days_off) == []
    for i in LEAVE:
        worked = set(m.loc[m["adviser"] == f"m-{i:03d}", "date"].dt.date)
        assert not worked & _leave_dates(i)
    per = m.assign(week=(m["date"] - pd.Timestamp(START)).dt.days // 7).groupby(
        ["adviser", "week"])["paid_hours"].sum()
    assert per[("m-001", 0)] == 14.0 and per[("m-051", 0)] == 14.0 and per[("m-012", 1)] == 28.0
    assert ("m-030", 0) not in per.index and per[("m-030", 1)] == 35.0
    assert per[("m-052", 0)] == 28.0  # leave before the horizon changes nothing


def test_skills_restrict_the_plateaux(run):
    _, r = run
    num = r["adviser"].str.extract(r"^m-(\d+)$")[0].astype(float)
    assert (r.loc[num <= 10, "plateau"] == "expert").all() and (num <= 10).sum() > 0
    assert (r.loc[(num > 10) & (num <= 20), "plateau"] == "pro").all()
    assert set(r.loc[num > 20, "plateau"]) <= {"expert", "pro"}


def test_the_plan_counts_the_advisers_away(run):
    out, r = run
    prov = pd.read_csv(out / "providers.csv").set_index("provider")
    # paid: 50 x 35 + 10 x 28 a week; logged: that less the leave days actually taken
    assert prov.at["fr-montigny", "paid_hours"] == pytest.approx(2 * (50 * 35 + 10 * 28))
    away_h = 7.0 * (3 + 1 + 5 + 2)
    assert prov.at["fr-montigny", "logged_hours"] == pytest.approx(2 * (50 * 35 + 10 * 28)
                                                                   - away_h)
    cov = pd.read_csv(out / "coverage.csv")
    assert cov["shortfall_agents"].eq(0).all()
    alloc = pd.read_csv(out / "allocation.csv", parse_dates=["slot_start"])
    # in-house agents of Montigny at 10:00 on 4 March recounted from the roster lines
    t = pd.Timestamp("2009-03-04 10:00")
    mine = r[(r["team"] == "fr-montigny") & (r["shift_start"] <= t) & (r["shift_end"] > t)
             & ~((r["break_start"] <= t) & (r["break_end"] > t))]
    got = alloc[(alloc["slot_start"] == t) & (alloc["provider"] == "fr-montigny")]
    assert got.groupby("plateau")["logged_agents"].sum().to_dict() == \
        mine.groupby("plateau").size().astype(float).to_dict()


def test_checker_reads_the_leave_and_finds_a_shift_on_it(run, capsys, tmp_path):
    out, r = run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rosters"]["leave"]["m-001"] == {
        "dates": ["2009-03-03", "2009-03-04", "2009-03-05"], "days_off": [3, 0]}
    assert "m-052" not in manifest["rosters"]["leave"]
    capsys.readouterr()
    assert main(["check", str(out)]) == 0
    edited = tmp_path / "run"
    edited.mkdir()
    (edited / "manifest.json").write_bytes((out / "manifest.json").read_bytes())
    raw = pd.read_csv(out / "rosters.csv")
    # m-001's Friday shift moved onto Thursday, a leave day
    i = raw.index[(raw["adviser"] == "m-001") & (raw["date"] == "2009-03-06")][0]
    for c in ("shift_start", "shift_end", "break_start", "break_end"):
        if pd.notna(raw.at[i, c]):
            raw.at[i, c] = (pd.Timestamp(raw.at[i, c]) - pd.Timedelta(days=1)).isoformat()
    raw.at[i, "date"] = "2009-03-05"
    raw.to_csv(edited / "rosters.csv", index=False)
    capsys.readouterr()
    assert main(["check", str(edited)]) == 3
    text = capsys.readouterr().out
    assert "m-001" in text and "leave" in text


HEAD = "id,team,contract,skills,unavailable\n"


def _sixty(first: str) -> str:
    return HEAD + first + "".join(f"m-{i:03d},fr-montigny,,,\n" for i in range(2, 61))


@pytest.mark.parametrize("table, extra, where", [
    (_sixty("m-001,fr-montigny,,,2009-03-32\n"), "", ("row 2", "'unavailable'")),
    (_sixty("m-001,fr-montigny,,,2009-03-05..2009-03-02\n"), "", ("row 2", "'unavailable'")),
    (_sixty("m-001,fr-montigny,,internet,\n"), "", ("row 2", "'skills'")),
    (_sixty("m-001,fr-montigny,nope,,\n"), "", ("row 2", "'contract'")),
    (_sixty("m-001,webhelp,,,\n"), "", ("row 2", "'team'")),
    (_sixty("m-002,fr-montigny,,,\n"), "", ("row 3", "'id'")),  # m-002 twice
    (_sixty(",fr-montigny,,,\n"), "", ("row 2", "'id'")),
    (HEAD + "".join(f"m-{i:03d},fr-montigny,,,\n" for i in range(1, 60)), "", ("'team'",)),
    (_sixty("m-001,fr-montigny,,,\n").replace("unavailable", "holidays"), "",
     ("row 1", "'holidays'")),
    (_sixty("m-001,fr-montigny,pt,,\n"),
     "[teams.fr-montigny]\ncontracts = {full-time = 50, pt = 10}\n",
     ("variant.toml", "teams.fr-montigny.contracts")),
])
def test_bad_advisers_table_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, table,
                                                                   extra, where):
    model = _variant(tmp_path / "model", table, extra)
    out = tmp_path / "out"
    assert main(["optimise", model, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in where), err
    assert "advisers.csv" in err[0] or "variant.toml" in err[0]
    assert not out.exists()


def test_validate_summarises_the_named_advisers(tmp_path, capsys):
    model = _variant(tmp_path / "model", _table())
    assert main(["validate", model, "--set", "horizon.weeks=2"]) == 0
    out = capsys.readouterr().out
    assert "contracts   fr-montigny: 50 full-time, 10 pt" in out
    # m-001, m-012, m-030, m-051 are away in the 2 weeks (m-052 only before them)
    assert "advisers    60 named (fr-montigny), 4 unavailable on some date of the horizon, " \
           "2 skill subset(s)" in out


def test_roster_state_takes_the_named_ids(tmp_path, capsys):
    folder = tmp_path / "model"
    state = folder / "state.csv"
    model = _variant(folder, _table())
    text = open(model).read().replace('advisers = "advisers.csv"\n',
                                      'advisers = "advisers.csv"\nroster_state = "state.csv"\n')
    open(model, "w").write(text)
    state.write_text("adviser,last_shift_end,days_in_a_row\nm-001,2009-03-01T20:00,3\n"
                     "fr-lyon-0001,2009-03-01T18:00,1\n")
    assert main(["validate", model]) == 0
    state.write_text("adviser,last_shift_end,days_in_a_row\nfr-montigny-0001,2009-03-01T20:00,3\n")
    capsys.readouterr()
    assert main(["validate", model]) == 2
    err = capsys.readouterr().err
    assert "state.csv" in err and "row 2" in err and "fr-montigny-0001" in err
