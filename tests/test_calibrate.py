"""Call log -> parameters: hand-computed patience, Kaplan-Meier, busy agents, Erlang A fit."""

from pathlib import Path

import pandas as pd
import pytest

from staffing import queueing
from staffing.cli import main
from staffing.forecasting import calibrate as cal
from staffing.forecasting import calllog

DATA = Path(__file__).parent / "data"
LOG = DATA / "anonymous-bank-1999-02-01-02-calls.csv"


def tiny_log(tmp_path) -> Path:
    p = tmp_path / "calls.csv"
    p.write_text(
        "arrival,plateau,wait_s,outcome,handle_s,agent\n"
        "2024-01-08 08:05:00,a,0,answered,100,X\n"
        "2024-01-08 08:10:00,a,30,abandoned,,\n"
        "2024-01-08 08:20:00,a,60,answered,1200,Y\n"  # served 08:21 - 08:41, two slots
        "2024-01-08 08:40:00,a,90,abandoned,,\n"
        "2024-01-08 08:50:00,b,20,answered,200,X\n"
        "2024-01-08 08:55:00,b,0,abandoned,,\n")  # lost before queueing: not a patience datum
    return p


def test_patience_is_total_wait_over_abandonments_and_km_matches_hand(tmp_path):
    calls, dropped = calllog.read_log(tiny_log(tmp_path), calllog.DEFAULT_MAP)
    assert dropped == 0 and len(calls) == 6
    pat, curve = cal.patience(calls)
    a = pat.set_index("plateau").loc["a"]
    assert a["queued_calls"] == 3 and a["abandoned_queued"] == 2
    assert a["patience_s"] == pytest.approx((30 + 60 + 90) / 2)
    # Kaplan-Meier of plateau a: waits 30 (event), 60 (censored), 90 (event)
    km = curve[curve["plateau"] == "a"]
    assert km["wait_s"].tolist() == [30.0, 90.0]
    assert km["survival"].tolist() == pytest.approx([2 / 3, 0.0])
    all_ = pat.set_index("plateau").loc["all"]
    assert all_["abandoned_unqueued"] == 1 and all_["patience_s"] == pytest.approx(200 / 2)


def test_history_service_and_busy_agents_by_hand(tmp_path):
    calls, _ = calllog.read_log(tiny_log(tmp_path), calllog.DEFAULT_MAP)
    h = cal.history(calls, 30).set_index(["plateau", "slot_start"])
    assert h["calls"].sum() == 6
    assert h.loc[("a", pd.Timestamp("2024-01-08 08:00")), "calls"] == 3
    assert h.loc[("a", pd.Timestamp("2024-01-08 08:00")), "aht_s"] == pytest.approx(650.0)
    svc = cal.service(calls, 30, answer_s=20).set_index(["plateau", "slot_start"])
    row = svc.loc[("a", pd.Timestamp("2024-01-08 08:00"))]
    assert row["service_level"] == pytest.approx(1 / 3) and row["abandon_share"] == pytest.approx(1 / 3)
    assert row["asa_s"] == pytest.approx(30.0)
    busy = cal.busy_agents(calls, 30).set_index(["plateau", "slot_start"])["busy_agents"]
    # Y serves 08:21-08:41: 540 s in the 08:00 slot, 660 s in the 08:30 one; X 08:05-08:06:40
    assert busy[("a", pd.Timestamp("2024-01-08 08:00"))] == pytest.approx((100 + 540) / 1800)
    assert busy[("a", pd.Timestamp("2024-01-08 08:30"))] == pytest.approx(660 / 1800)


def test_profiles_are_in_the_scenario_format(tmp_path):
    calls, _ = calllog.read_log(tiny_log(tmp_path), calllog.DEFAULT_MAP)
    prof = cal.profiles(calls, 30)
    a = prof[prof["plateau"] == "a"]
    wk = a[a["profile"] == "weekday"].set_index("key")["weight"]
    assert list(wk.index) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert wk["mon"] == 1.0 and wk.drop("mon").eq(0).all()
    intra = a[a["profile"] == "intraday"].set_index("key")["weight"]
    assert intra.to_dict() == {"08:00": pytest.approx(0.75), "08:30": pytest.approx(0.25),
                               "09:00": 0.0}


def test_anonymous_bank_excerpt_end_to_end(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", str(LOG), "--map", "anonymous-bank", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    raw = pd.read_csv(LOG)
    ht = pd.read_csv(out / "handle_times.csv").set_index("plateau")
    assert ht.loc["all", "calls"] == (raw["outcome"] != "PHANTOM").sum()
    served = raw[raw["outcome"] == "AGENT"]
    assert ht.loc["PS", "aht_s"] == pytest.approx(served.loc[served["type"] == "PS", "ser_time"].mean())
    pat = pd.read_csv(out / "patience.csv").set_index("plateau")
    q = raw[(raw["outcome"] != "PHANTOM") & (raw["q_time"] > 0)]
    assert pat.loc["all", "patience_s"] == pytest.approx(q["q_time"].sum() / (q["outcome"] == "HANG").sum())
    fit = pd.read_csv(out / "erlang_a.csv")
    r = fit.iloc[len(fit) // 2]
    theta = pat.loc[r["plateau"], "patience_s"]
    m = queueing.erlang_a(r["calls"], r["aht_s"], 30, max(round(r["agents"]), 1), 20.0, theta)
    assert r["erlang_a_p_abandon"] == pytest.approx(float(m["p_abandon"]))
    assert (fit["busy_agents"] <= fit["agents"] + 1e-9).all()
    hist = pd.read_csv(out / "history.csv")
    assert hist["calls"].sum() == ht.loc["all", "calls"]
    assert "PHANTOM" not in text and "rows with another outcome code dropped" in text
    assert (out / "profiles.csv").is_file() and (out / "patience_curve.csv").is_file()


def test_bad_log_and_map_are_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "m.toml"
    bad.write_text('[columns]\nwhen = "x"\n')
    assert main(["calibrate", str(LOG), "--map", str(bad), "--output", str(tmp_path / "o")]) == 2
    assert "unknown name 'when'" in capsys.readouterr().err
    log = tiny_log(tmp_path)
    log.write_text(log.read_text().replace("2024-01-08 08:40:00", "yesterday"))
    assert main(["calibrate", str(log), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {log}, row 5, field 'arrival': 'yesterday' cannot be read"]
    assert not (tmp_path / "o").exists()
