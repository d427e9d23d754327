"""Loading scenarios: the bundled default's facts, model resolution, extends, overrides, bad input."""

import datetime as dt
import math
import shutil

import pandas as pd
import pytest

from scenario_helpers import append, copy_default, edit
from staffing import scenario as sc
from staffing.errors import InputError


@pytest.fixture(scope="module")
def default():
    return sc.load()


@pytest.fixture
def model(tmp_path):
    return copy_default(tmp_path)


def inputs_dir(model):
    return model.parent.parent / "inputs" / "orange-2009"


def load_error(model, overrides=None) -> InputError:
    with pytest.raises(InputError) as info:
        sc.load(model, overrides)
    return info.value


# ----------------------------------------------------------------- the bundled default

def test_default_horizon_and_opening(default):
    assert default.name == "orange-2009"
    assert default.start == dt.date(2009, 3, 2) and default.start.weekday() == 0
    assert default.weeks == 1 and default.slot_minutes == 30
    assert default.end == dt.date(2009, 3, 9)
    assert default.opening == {d: (dt.time(8), dt.time(22)) for d in range(7)}
    assert default.opening_minutes(6) == (480, 1320)
    assert default.sl_scope == "slot" and default.queueing == "erlang_c"
    assert default.timezone == "Europe/Paris"


def test_default_volumes_match_the_article(default):
    p = default.plateaux
    assert list(p.index) == ["internet", "iptv", "pro", "expert", "fixed"]
    # 30 M calls a year: 20 M internet-side, 10 M fixed line
    assert p["annual_calls"].sum() == pytest.approx(30e6)
    assert p.loc[["internet", "iptv", "pro", "expert"], "annual_calls"].sum() == pytest.approx(20e6)
    assert p.loc["fixed", "annual_calls"] == 10e6
    # IPTV given as 1 M customers x contact rate x 3.1 calls per problem (UFC 2005)
    assert p.loc["iptv", "annual_calls"] == pytest.approx(1e6 * 0.54 * 3.1)
    assert p.loc["internet", "aht_s"] == 510 and p.loc["fixed", "aht_s"] == 360
    assert (p["callback_threshold_s"] == 1800).all()
    assert (p["long_call_aht_s"] <= 2700).all() and (p["callback_share"] > 0).all()


def test_default_providers(default):
    pr = default.providers
    inhouse = pr[pr["kind"] == "inhouse"]
    assert inhouse["headcount"].sum() == 3200
    assert ((inhouse["cost_eur_per_hour"] >= 50) & (inhouse["cost_eur_per_hour"] <= 60)).all()
    mont = inhouse[inhouse["site"] == "Montigny-le-Bretonneux"]
    assert len(mont) == 1 and mont["headcount"].iloc[0] == 60 and "expert" in mont["plateaux"].iloc[0]
    subs = pr[pr["kind"] == "subcontractor"]
    assert len(subs) == 6 and {"webhelp", "teleperformance"} <= set(subs.index)
    assert ((subs["cost_eur_per_hour"] >= 25) & (subs["cost_eur_per_hour"] <= 28)).all()
    assert (subs["seats"] > 0).all() and (subs["min_weekly_hours"] > 0).all()
    assert subs["headcount"].isna().all() and inhouse["seats"].isna().all()
    off = pr[pr["kind"] == "offshore"]
    assert len(off) == 1 and off["site"].iloc[0] == "Morocco"
    assert off["cost_eur_per_hour"].iloc[0] == 14 and off["aht_factor"].iloc[0] == 1.15
    assert default.offshore_cap == 0.2
    # headcount bounds default to the headcount
    assert (inhouse["headcount_min"] == inhouse["headcount"]).all()
    assert (inhouse["headcount_max"] == inhouse["headcount"]).all()
    assert all(isinstance(t, tuple) for t in pr["plateaux"])
    assert default.shortfall_penalty_eur_per_agent_hour > pr["cost_eur_per_hour"].max()
    assert default.max_shortfall_share == 0.0


def test_default_regimes_follow_the_facts(default):
    r = default.regimes
    assert list(r.index) == ["R0", "R1", "R2"]
    assert r.loc["R0", "eur_per_min"] == 0.34 and bool(r.loc["R0", "bill_waiting"])
    assert r.loc["R1", "eur_per_min"] == 0.34 and not bool(r.loc["R1", "bill_waiting"])
    assert r.loc["R2", "setup_eur_per_call"] == 0.078
    assert r.loc["R2", "eur_per_min"] == 0.028 and r.loc["R2", "eur_per_min_offpeak"] == 0.014
    assert r.loc["R2", "peak_start"] == dt.time(8) and r.loc["R2", "peak_end"] == dt.time(19)
    assert r.loc["R0", "operator_share"] == 0.58 and r.loc["R2", "operator_share"] == 0.0
    assert r.loc["R2", "call_uplift"] == 0.10 and r.loc["R1", "call_uplift"] == 0.0
    assert default.base_regime == "R1" and default.active_regime == "R2"


def test_default_targets_and_shifts(default):
    t = default.targets
    assert list(t.columns) == list(sc.TARGET_COLUMNS)
    assert (t["sl_target"] == 0.8).all() and (t["max_occupancy"] == 0.88).all()
    assert t.loc["internet", "answer_s"] == 60 and t.loc["expert", "answer_s"] == 120
    assert t["asa_s"].isna().all() and t["max_abandon"].isna().all()
    assert (t["patience_s"] == 180).all()
    s = default.shifts
    assert s == sc.ShiftRules(paid_hours=(7.0,), unpaid_break_minutes=60, break_after_hours=6.0,
                              start_step_minutes=30, weekly_hours=35.0, days_per_week=5)


def test_default_profiles(default):
    w = default.profiles.weekday
    assert list(w.loc["internet"]) == [1.30, 1.10, 1.00, 1.00, 1.00, 0.85, 0.65]
    assert w.loc["pro", 6] < w.loc["internet", 6]  # its own, office-week profile
    assert (default.profiles.month == 1.0).all().all()
    assert default.profiles.holidays == "FR" and default.profiles.holiday_weight == 0.6
    keys, weights = default.profiles.intraday_steps("internet")
    assert keys[0] == 8 * 60 and weights[list(keys).index(9 * 60 + 30)] == 1.5


def test_input_files_recorded(default):
    assert set(default.input_files) == {"model", "plateaux", "providers", "profiles"}
    assert all(p.is_file() for p in default.input_files.values())
    assert default.forecast is None


def test_replace_returns_a_modified_copy(default):
    other = default.replace(weeks=2, active_regime="R0")
    assert other.weeks == 2 and other.active_regime == "R0"
    assert default.weeks == 1 and default.active_regime == "R2"
    with pytest.raises(dataclasses_frozen_error()):
        default.weeks = 3


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


# ----------------------------------------------------------------- finding a model

def test_default_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = sc.load()
    assert s.path == sc.packaged_models_dir() / "orange-2009.toml"
    assert s.plateaux["annual_calls"].sum() == pytest.approx(30e6)


def test_local_models_folder_comes_first(tmp_path, monkeypatch):
    model = copy_default(tmp_path)
    edit(model, 'weeks = 1 ', 'weeks = 3 ')
    monkeypatch.chdir(tmp_path)
    s = sc.load("orange-2009")
    assert s.weeks == 3 and s.path == sc.Path("models/orange-2009.toml")


REPO = sc.Path(__file__).resolve().parent.parent  # the source tree these tests live in
SOURCE_DATA = REPO / "staffing" / "data"


def test_top_level_default_is_the_packaged_file():
    top = REPO / "models" / "orange-2009.toml"
    assert top.resolve() == (SOURCE_DATA / "models" / "orange-2009.toml").resolve()
    assert (REPO / "inputs" / "orange-2009").resolve() == \
        (SOURCE_DATA / "inputs" / "orange-2009").resolve()
    # what pip installed is the same file as the source tree's
    installed = sc.packaged_models_dir() / "orange-2009.toml"
    assert installed.read_bytes() == top.read_bytes()


def test_unknown_model_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = load_error("no-such-model")
    assert "no model named 'no-such-model'" in str(err)
    assert "file not found" in str(load_error(tmp_path / "missing.toml"))


def test_package_data_covers_the_default():
    import tomllib

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = SOURCE_DATA
    files = {p.relative_to(data.parent).as_posix() for p in data.rglob("*") if p.is_file()}
    covered = {f for f in files if any(sc.Path(f).match(g) for g in globs["staffing"])}
    assert files and covered == files


# ----------------------------------------------------------------- extends and overrides

def test_extends_overrides_a_few_keys(model):
    variant = model.parent / "orange-2009-erlang-a.toml"
    variant.write_text('extends = "orange-2009.toml"\n'
                       'description = "with abandonment"\n'
                       '[service]\nqueueing = "erlang_a"\nmax_abandon = 0.05\n'
                       '[service.plateaux.internet]\nanswer_s = 20\n'
                       '[pricing]\nactive = "R0"\n')
    s = sc.load(variant)
    assert s.name == "orange-2009-erlang-a" and s.description == "with abandonment"
    assert s.queueing == "erlang_a" and (s.targets["max_abandon"] == 0.05).all()
    assert s.targets.loc["internet", "answer_s"] == 20 and s.targets.loc["fixed", "answer_s"] == 60
    assert s.targets.loc["expert", "answer_s"] == 120  # the parent's plateau override survives
    assert s.active_regime == "R0" and s.base_regime == "R1"
    assert s.providers["headcount"].sum() == 3200  # parent's inputs, relative to the parent
    assert s.input_files["extends1"] == model


def test_extends_from_another_folder_keeps_input_paths(model, tmp_path):
    sub = tmp_path / "variants" / "deep"
    sub.mkdir(parents=True)
    variant = sub / "v.toml"
    variant.write_text(f'extends = "{model.as_posix()}"\nname = "v1"\n[horizon]\nweeks = 2\n')
    s = sc.load(variant)
    assert s.name == "v1" and s.weeks == 2 and s.start == dt.date(2009, 3, 2)


def test_extends_errors(model):
    loop = model.parent / "loop.toml"
    loop.write_text('extends = "loop2.toml"\n')
    (model.parent / "loop2.toml").write_text('extends = "loop.toml"\n')
    assert "'extends' makes a cycle" in str(load_error(loop))
    missing = model.parent / "orphan.toml"
    missing.write_text('extends = "nowhere.toml"\n')
    err = load_error(missing)
    assert err.file.endswith("orphan.toml") and err.field == "extends"
    typo = model.parent / "typo.toml"
    typo.write_text('extends = "orange-2009.toml"\n[service]\nsl_targt = 0.9\n')
    err = load_error(typo)
    assert str(err) == f"{typo}, field 'service.sl_targt': unknown key 'service.sl_targt'"


def test_overrides_apply_after_extends():
    s = sc.load(None, {"service.sl_target": 0.9, "pricing.active": "R0", "horizon.weeks": 2,
                       "service.plateaux.fixed.answer_s": 20})
    assert (s.targets["sl_target"] == 0.9).all() and s.active_regime == "R0" and s.weeks == 2
    assert s.targets.loc["fixed", "answer_s"] == 20 and s.targets.loc["internet", "answer_s"] == 60
    assert s.config["service"]["sl_target"] == 0.9


def test_bad_overrides():
    err = load_error(None, {"service.sl_targt": 0.9})
    assert str(err) == "--set, field 'service.sl_targt': unknown key 'service.sl_targt'"
    err = load_error(None, {"service.sl_target": 1.5})
    assert err.field == "service.sl_target" and "out of range" in str(err)
    err = load_error(None, {"horizon.weeks": "two"})
    assert err.file == "--set" and "must be an integer" in str(err)


def test_parse_set():
    got = sc.parse_set(["a.b=1", "c = 0.5", "d=R0", "e=true", "f=[7.0, 7.5]", 'g="x y"',
                        "h=2009-03-02"])
    assert got == {"a.b": 1, "c": 0.5, "d": "R0", "e": True, "f": [7.0, 7.5], "g": "x y",
                   "h": dt.date(2009, 3, 2)}
    with pytest.raises(InputError, match="expected key=value"):
        sc.parse_set(["novalue"])


# ----------------------------------------------------------------- bad model files

TOML_CASES = [
    # (old text, new text, file is the model, field, words in the problem)
    ("slot_minutes = 30 ", "slot_minute = 30 ", "horizon.slot_minute", "unknown key"),
    ("slot_minutes = 30 ", "slot_minutes = 20 ", "horizon.slot_minutes", "not one of 15, 30, 60"),
    ("weeks = 1 ", 'weeks = "one" ', "horizon.weeks", "must be an integer"),
    ("weeks = 1 ", "weeks = 0 ", "horizon.weeks", "out of range"),
    ("start = 2009-03-02 ", 'start = "2009-02-30" ', "horizon.start", "must be a date"),
    ("sl_target = 0.80         # ASSUMPTION: 80 %", "sl_target = 1.2 #", "service.sl_target",
     "out of range: must be in (0, 1)"),
    ("sl_target = 0.80         # ASSUMPTION: 80 %", "sl_target = 0 #", "service.sl_target",
     "out of range"),
    ("max_occupancy = 0.88", "max_occupancy = 1.5", "service.max_occupancy", "out of range"),
    ('queueing = "erlang_c"', 'queueing = "erlang_x"', "service.queueing", "not one of"),
    ('sl_scope = "slot"', 'sl_scope = "week"', "service.sl_scope", "not one of slot, day"),
    ('active = "R2"', 'active = "R9"', "pricing.active", "unknown regime 'R9'"),
    ("eur_per_min = 0.028 ", "eur_per_min = -0.028 ", "pricing.regimes.R2.eur_per_min",
     "out of range"),
    ("operator_share = 0.58 ", "operator_share = 1.58 ", "pricing.regimes.R0.operator_share",
     "out of range"),
    ("bill_waiting = true", 'bill_waiting = "yes"', "pricing.regimes.R0.bill_waiting",
     "must be true or false"),
    ("offshore_cap = 0.20", "offshore_cap = 1.20", "policy.offshore_cap", "out of range"),
    ("shortfall_penalty_eur_per_agent_hour = 500.0", "shortfall_penalty_eur_per_agent_hour = -1",
     "policy.shortfall_penalty_eur_per_agent_hour", "out of range"),
    ('default = ["08:00", "22:00"]', 'default = ["08:15", "22:00"]', "opening.default",
     "not on the 30-minute slot grid"),
    ('default = ["08:00", "22:00"]', 'default = ["22:00", "08:00"]', "opening.default",
     "close at \"24:00\" and open the next weekday"),
    ('default = ["08:00", "22:00"]', 'default = ["8h", "22:00"]', "opening.default",
     "must be [\"HH:MM\", \"HH:MM\"] or \"closed\""),
    ('holidays = "FR"', 'holidays = "XX"', "demand.holidays", "unknown country code"),
    ("paid_hours = [7.0]", "paid_hours = [7.25]", "shifts.paid_hours", "not a whole number"),
    ("days_per_week = 5", "days_per_week = 8", "shifts.days_per_week", "out of range"),
    ('timezone = "Europe/Paris"', 'timezone = "Europe/Pariss"', "horizon.timezone",
     "unknown time zone"),
    ('plateaux = "../inputs/orange-2009/plateaux.csv"', 'plateaux = "../inputs/nowhere.csv"',
     "inputs.plateaux", "input table not found"),
    ('profiles = "../inputs/orange-2009/profiles.csv"', 'profiles = "../models/orange-2009.toml"',
     "inputs.profiles", "must be .csv or .xlsx"),
    ("[service.plateaux.expert]", "[service.plateaux.expertise]", "service.plateaux.expertise",
     "unknown plateau id 'expertise'"),
]


@pytest.mark.parametrize("old,new,field,problem", TOML_CASES, ids=[c[2] + ":" + c[3][:20] for c in TOML_CASES])
def test_bad_model_values(model, old, new, field, problem):
    edit(model, old, new)
    err = load_error(model)
    assert err.file == str(model) and err.field == field, str(err)
    assert problem in str(err)
    assert str(err).startswith(f"{model}, field '{field}': ")
    assert "\n" not in str(err)


def test_erlang_a_needs_patience(model):
    edit(model, "patience_s = 180 ", "# no patience ")
    edit(model, 'queueing = "erlang_c"', 'queueing = "erlang_a"')
    err = load_error(model)
    # one line per plateau, all reported at once
    lines = str(err).splitlines()
    assert len(lines) == 5 and all("field 'service.patience_s'" in x and "erlang_a" in x for x in lines)


def test_max_abandon_needs_erlang_a(model):
    edit(model, "patience_s = 180 ", "max_abandon = 0.05\npatience_s = 180 ")
    assert "max_abandon needs queueing = 'erlang_a'" in str(load_error(model))


def test_invalid_toml(model):
    append(model, "\n[horizon\n")
    err = load_error(model)
    assert err.file == str(model) and "not valid TOML" in str(err)


def test_all_unknown_keys_reported_at_once(model):
    model.write_text("foo = 1\n" + model.read_text())
    edit(model, "weeks = 1 ", "wekks = 1 ")
    lines = str(load_error(model)).splitlines()
    assert len(lines) == 2
    assert any("'foo'" in x for x in lines) and any("'horizon.wekks'" in x for x in lines)


# ----------------------------------------------------------------- bad tables

CSV_CASES = [
    # (file, old, new, row, field, problem)
    ("providers.csv", "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,0.30",
     "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,1.0", 4, "shrinkage", "out of range: must be in [0, 1)"),
    ("providers.csv", "fr-bordeaux,inhouse,Bordeaux,fixed,55,", "fr-bordeaux,inhouse,Bordeaux,fixed,-55,",
     4, "cost_eur_per_hour", "out of range: must be in [0, 10000]"),
    ("providers.csv", "fr-bordeaux,inhouse,Bordeaux,fixed,55,", "fr-bordeaux,inhouse,Bordeaux,fixd,55,",
     4, "plateaux", "unknown plateau id(s) fixd"),
    ("providers.csv", "fr-bordeaux,inhouse,", "fr-lyon,inhouse,", 4, "id", "duplicate id 'fr-lyon' (first on row 3)"),
    ("providers.csv", "fr-bordeaux,inhouse,", "fr-bordeaux,in-house,", 4, "kind",
     "'in-house' is not one of inhouse, subcontractor, offshore"),
    ("providers.csv", "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,", "fr-bordeaux,inhouse,Bordeaux,fixed,55,,",
     4, "headcount", "in-house teams need a headcount"),
    ("providers.csv", "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,", "fr-bordeaux,inhouse,Bordeaux,fixed,55,700.5,",
     4, "headcount", "not a whole number"),
    ("providers.csv", "b2s,subcontractor,B2S,internet;fixed,26,,", "b2s,subcontractor,B2S,internet;fixed,26,40,",
     10, "headcount", "only in-house teams have a headcount"),
    ("providers.csv", "b2s,subcontractor,B2S,internet;fixed,26,,,,250,", "b2s,subcontractor,B2S,internet;fixed,26,,,,,",
     10, "seats", "subcontractor providers need seats"),
    ("providers.csv", "b2s,subcontractor,B2S,internet;fixed,26,,,,250,3000,,", "b2s,subcontractor,B2S,internet;fixed,26,,,,250,3000,100,",
     10, "min_weekly_hours", "exceeds max_weekly_hours"),
    ("providers.csv", "b2s,subcontractor,B2S,internet;fixed,26,", "b2s,subcontractor,B2S,internet;fixed,cheap,",
     10, "cost_eur_per_hour", "'cheap' is not a number"),
    ("providers.csv", "shrinkage,aht_factor", "shrinkage,aht_factr", 1, "aht_factr", "unknown column 'aht_factr'"),
    ("providers.csv", "cost_eur_per_hour,", "cost_per_hour,", 1, "cost_eur_per_hour", "missing column"),
    ("plateaux.csv", "fixed,Fixed-line telephony,10000000,", "fixed,Fixed-line telephony,-5,", 6,
     "annual_calls", "out of range: must be in [0, 1e+10]"),
    ("plateaux.csv", "fixed,Fixed-line telephony,10000000,", "fixed,Fixed-line telephony,,", 6,
     "annual_calls", "give annual_calls, or customers, contact_rate and calls_per_caller"),
    ("plateaux.csv", "fixed,Fixed-line telephony,10000000,,", "fixed,Fixed-line telephony,10000000,5,", 6,
     "annual_calls", "not both"),
    ("plateaux.csv", ",1000000,0.54,3.1,", ",1000000,,3.1,", 3, "contact_rate",
     "give annual_calls, or customers, contact_rate and calls_per_caller"),
    ("plateaux.csv", "fixed,Fixed-line telephony,10000000,,,,360,", "fixed,Fixed-line telephony,10000000,,,,0,",
     6, "aht_s", "out of range: must be in (0, 2700]"),
    ("plateaux.csv", "360,0.01,1800,2400", "360,0.01,1800,3000", 6, "long_call_aht_s", "out of range"),
    ("plateaux.csv", "360,0.01,1800,2400", "360,0.01,1800,1700", 6, "long_call_aht_s",
     "must exceed callback_threshold_s"),
    ("plateaux.csv", "360,0.01,1800,2400", "360,0.5,1800,2400", 6, "callback_share",
     "exceeds the mean handle time"),
    ("plateaux.csv", "fixed,Fixed-line", "expert,Fixed-line", 6, "id", "duplicate id 'expert' (first on row 5)"),
    ("plateaux.csv", "aht_s,", "aht,", 1, "aht_s", "missing column"),
    ("profiles.csv", "*,weekday,sun,0.65", "*,weekday,sun,-0.65", 8, "weight", "out of range: must be >= 0"),
    ("profiles.csv", "*,weekday,sun,0.65", "*,weekday,sunday-ish,0.65", 8, "key", "not a valid weekday key"),
    ("profiles.csv", "*,weekday,sun,0.65", "*,weekday,saturday,0.65", 8, "key",
     "duplicate (plateau, profile, key) ('*', 'weekday', 5) (first on row 7)"),
    ("profiles.csv", "pro,weekday,sun,0.15", "prof,weekday,sun,0.15", 27, "plateau", "unknown plateau id 'prof'"),
    ("profiles.csv", "*,intraday,21:30,0.45", "*,intraday,25:30,0.45", 20, "key", "not a valid intraday key"),
    ("profiles.csv", "*,intraday,21:30,0.45", "*,hourly,21:30,0.45", 20, "profile", "not one of weekday"),
]


@pytest.mark.parametrize("name,old,new,row,field,problem", CSV_CASES,
                         ids=[f"{c[0]}:{c[4]}:{c[5][:18]}" for c in CSV_CASES])
def test_bad_table_values(model, name, old, new, row, field, problem):
    path = inputs_dir(model) / name
    edit(path, old, new)
    err = load_error(model)
    msg = str(err)
    field_text = field if field.startswith("field") else f"field '{field}'"
    assert msg.startswith(f"{path}, row {row}, {field_text}: "), msg
    assert problem in msg, msg


def test_weekday_profile_must_be_complete(model):
    path = inputs_dir(model) / "profiles.csv"
    edit(path, "pro,weekday,sun,0.15,ASSUMPTION\n", "")
    err = load_error(model)
    assert str(err) == f"{path}, row 21, field 'key': weekday profile of 'pro' lacks sun"


def test_intraday_must_cover_opening_hours(model):
    path = inputs_dir(model) / "profiles.csv"
    text = path.read_text()
    lines = [x for x in text.splitlines() if not x.startswith("pro,intraday")]
    path.write_text("\n".join(lines + ["pro,intraday,00:00,1.0", "pro,intraday,06:00,0"]) + "\n")
    err = load_error(model)
    assert "intraday profile of 'pro' is zero throughout the opening hours of mon" in str(err)


def test_all_errors_of_a_table_at_once(model):
    path = inputs_dir(model) / "providers.csv"
    edit(path, "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,0.30",
         "fr-bordeaux,inhouse,Bordeaux,fixed,55,700,,,,,,1.30")
    edit(path, "sitel,subcontractor,Sitel France,internet;iptv,28,", "sitel,subcontractor,Sitel France,web,-28,")
    lines = str(load_error(model)).splitlines()
    assert lines == [
        f"{path}, row 4, field 'shrinkage': 1.3 is out of range: must be in [0, 1)",
        f"{path}, row 12, field 'cost_eur_per_hour': -28 is out of range: must be in [0, 10000]",
    ]


def test_row_numbers_count_lines_with_blank_lines_and_quoted_text(model):
    path = inputs_dir(model) / "plateaux.csv"
    text = path.read_text().replace("\nfixed,", "\n\nfixed,")  # fixed moves to line 7
    path.write_text(text)
    edit(path, "fixed,Fixed-line telephony,10000000,", "fixed,Fixed-line telephony,lots,")
    assert str(load_error(model)).startswith(f"{path}, row 7, field 'annual_calls': 'lots'")


def test_too_many_values_and_empty_table(model):
    path = inputs_dir(model) / "plateaux.csv"
    edit(path, "~6 min\"", "~6 min\",extra")
    assert str(load_error(model)) == f"{path}, row 6: 12 values for 11 columns"
    path.write_text("")
    assert str(load_error(model)) == f"{path}: empty table: no header line"


def test_xlsx_tables_load_like_csv(model):
    folder = inputs_dir(model)
    for name in ("plateaux", "providers"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        frame.to_excel(folder / f"{name}.xlsx", index=False)
    edit(model, "plateaux.csv", "plateaux.xlsx")
    edit(model, "providers.csv", "providers.xlsx")
    s = sc.load(model)
    ref = sc.load()
    pd.testing.assert_frame_equal(s.plateaux, ref.plateaux)
    pd.testing.assert_frame_equal(s.providers, ref.providers)
    # errors in a workbook name the sheet row like a CSV line
    frame = pd.read_csv(folder / "providers.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "shrinkage"] = "1.5"
    frame.to_excel(folder / "providers.xlsx", index=False)
    assert str(load_error(model)).startswith(f"{folder / 'providers.xlsx'}, row 4, field 'shrinkage'")


# ----------------------------------------------------------------- forecast tables

def add_forecast(model, rows: str):
    path = inputs_dir(model) / "forecast.csv"
    path.write_text("plateau,slot_start,calls,aht_s\n" + rows)
    append(model, 'forecast = "../inputs/orange-2009/forecast.csv"\n')
    return path


def test_forecast_loads(model):
    add_forecast(model, "internet,2009-03-02 10:00,1234.5,500\nfixed,2009-03-02T08:30,10,\n")
    s = sc.load(model)
    f = s.forecast
    assert list(f.columns) == ["plateau", "slot_start", "fold", "calls", "aht_s"]
    assert f["slot_start"].tolist() == [pd.Timestamp("2009-03-02 10:00"), pd.Timestamp("2009-03-02 08:30")]
    assert f["calls"].tolist() == [1234.5, 10.0] and math.isnan(f["aht_s"].iloc[1])
    assert s.input_files["forecast"].name == "forecast.csv"


FORECAST_CASES = [
    ("internet,2009-03-02 07:30,10,\n", 2, "slot_start", "2009-03-02 07:30 (mon) is outside opening hours"),
    ("internet,2009-03-02 22:00,10,\n", 2, "slot_start", "outside opening hours"),
    ("internet,2009-03-02 10:15,10,\n", 2, "slot_start", "not on the 30-minute slot grid"),
    ("internet,2009-03-02 10:00,-1,\n", 2, "calls", "out of range: must be >= 0"),
    ("web,2009-03-02 10:00,1,\n", 2, "plateau", "unknown plateau id 'web'"),
    ("internet,2009-03-02 10:00,1,\ninternet,2009-03-02T10:00,2,\n", 3, "slot_start",
     "duplicate (plateau, slot_start, fold) ('internet', '2009-03-02 10:00', 0) (first on row 2)"),
    ("internet,March 2,1,\n", 2, "slot_start", "is not a date-time YYYY-MM-DD HH:MM"),
    ("internet,2009-03-02 10:00,1,0\n", 2, "aht_s", "out of range: must be > 0"),
]


@pytest.mark.parametrize("rows,row,field,problem", FORECAST_CASES, ids=[c[3][:25] for c in FORECAST_CASES])
def test_bad_forecast(model, rows, row, field, problem):
    path = add_forecast(model, rows)
    msg = str(load_error(model))
    assert msg.startswith(f"{path}, row {row}, field '{field}': "), msg
    assert problem in msg


def test_forecast_closed_day_and_dst_gap(model):
    edit(model, 'default = ["08:00", "22:00"]', 'default = ["00:00", "24:00"]\nsun = "closed"')
    path = add_forecast(model, "fixed,2009-03-08 10:00,1,\nfixed,2009-03-28 02:00,1,\n")
    lines = str(load_error(model)).splitlines()
    assert lines[0] == f"{path}, row 2, field 'slot_start': 2009-03-08 10:00 (sun) is outside opening hours"
    assert len(lines) == 1  # 28 March 2009 is a Saturday: 02:00 exists
    edit(model, 'sun = "closed"', 'sun = ["00:00", "24:00"]')
    path.write_text("plateau,slot_start,calls,fold\nfixed,2009-03-29 02:30,1,0\n"
                    "fixed,2009-10-25 02:30,1,1\nfixed,2009-10-25 03:30,1,1\n")
    lines = str(load_error(model)).splitlines()
    assert lines == [
        f"{path}, row 2, field 'slot_start': 2009-03-29 02:30 does not exist (clocks go forward)",
        f"{path}, row 4, field 'fold': fold 1 is only for the second pass of a repeated hour "
        "(clocks go back)",
    ]


def test_missing_input_file_named(model):
    shutil.rmtree(inputs_dir(model))
    lines = str(load_error(model)).splitlines()
    assert len(lines) == 3 and all("input table not found" in x for x in lines)
