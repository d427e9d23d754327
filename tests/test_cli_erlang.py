"""`staffing erlang`: single slot, reverse calculation, range table, batch files, errors."""

import json

import numpy as np
import pandas as pd
import pytest

from staffing.cli import main
from staffing import queueing as q


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_required_agents_json(capsys):
    code, out, _ = run(capsys, "erlang", "--calls", "100", "--aht", "180", "--slot-minutes", "30",
                       "--sl", "0.8", "--answer-time", "20", "--shrinkage", "0.3", "--json")
    assert code == 0
    rec = json.loads(out)
    assert rec["agents"] == 14 and rec["scheduled"] == 20
    assert rec["service_level"] == pytest.approx(0.88835, abs=1e-5)
    assert rec["asa_s"] == pytest.approx(7.84, abs=0.01)
    assert rec["p_abandon"] is None
    assert set(rec) == {"agents", "scheduled", "service_level", "asa_s", "occupancy", "p_wait",
                        "p_abandon"}


def test_table_output_is_readable(capsys):
    code, out, _ = run(capsys, "erlang", "--calls", "100", "--aht", "180")
    assert code == 0
    assert "88.84 %" in out and out.splitlines()[0].split()[0] == "agents"


def test_reverse_and_range(capsys):
    code, out, _ = run(capsys, "erlang", "--calls", "100", "--aht", "180", "--agents", "11",
                       "--json")
    assert json.loads(out)["service_level"] == pytest.approx(0.3896138, abs=1e-7)
    code, out, _ = run(capsys, "erlang", "--calls", "100", "--aht", "180", "--agents", "10:18",
                       "--patience", "120", "--json")
    rows = json.loads(out)
    assert [r["agents"] for r in rows] == list(range(10, 19))
    sl = [r["service_level"] for r in rows]
    assert sl == sorted(sl)
    assert all(r["p_abandon"] is not None for r in rows)
    assert rows[1]["p_abandon"] == pytest.approx(float(q.erlang_a(100, 180, 30, 11, 20, 120)
                                                       ["p_abandon"]))


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_batch_round_trip(tmp_path, capsys, ext):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"calls": rng.uniform(0, 800, 50).round(1), "aht_s": 300.0})
    df.loc[3, "sl_target"] = 0.5
    src = tmp_path / f"in.{ext}"
    (df.to_csv(src, index=False) if ext == "csv" else df.to_excel(src, index=False))
    dst = tmp_path / f"out.{ext}"
    code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(dst),
                       "--max-occupancy", "0.85")
    assert code == 0, err
    out = pd.read_csv(dst) if ext == "csv" else pd.read_excel(dst)
    sl = np.where(df["sl_target"].isna(), 0.8, df["sl_target"])
    expect = q.required_agents(df["calls"], 300, 30, sl, 20, max_occupancy=0.85)
    assert out["agents"].tolist() == expect.tolist()
    assert list(out.columns[:3]) == ["calls", "aht_s", "sl_target"]


def test_batch_million_rows_is_vectorised(tmp_path, capsys):
    n = 200_000
    df = pd.DataFrame({"calls": np.tile([0.0, 12.5, 150.0, 2400.0], n // 4), "aht_s": 420.0})
    src, dst = tmp_path / "big.csv", tmp_path / "big_out.csv"
    df.to_csv(src, index=False)
    assert run(capsys, "erlang", "--input", str(src), "--output", str(dst))[0] == 0
    out = pd.read_csv(dst)
    assert len(out) == n
    unique = out.groupby("calls")["agents"].unique()
    assert all(len(v) == 1 for v in unique)
    assert unique.loc[2400.0][0] == q.required_agents(2400, 420, 30, 0.8, 20)


def test_batch_searched_by_blocks_of_rows_is_the_whole_batchs(tmp_path, capsys, monkeypatch):
    """A batch longer than BATCH_ROWS is searched a block of rows at a time: the same file as
    searched whole (per-row targets and patience included), and a row no staffing meets in a
    later block fails with the whole batch's own message."""
    from staffing import erlang_report

    rng = np.random.default_rng(5)
    n = 101
    df = pd.DataFrame({"calls": rng.uniform(0, 300, n).round(1),
                       "aht_s": rng.uniform(60, 600, n).round(0),
                       "sl_target": np.where(rng.random(n) < 0.3, np.nan, 0.9),
                       "patience_s": np.where(rng.random(n) < 0.5, np.nan, 90.0)})
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    outs = []
    for block in (10 ** 6, 7):
        monkeypatch.setattr(erlang_report, "BATCH_ROWS", block)
        outs.append(tmp_path / f"out{block}.csv")
        code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(outs[-1]))
        assert code == 0, err
    assert outs[0].read_text() == outs[1].read_text()
    whole = pd.read_csv(outs[0])
    erlang_c = whole["patience_s"].isna()
    assert whole.loc[erlang_c, "agents"].tolist() == q.required_agents(
        df.loc[erlang_c, "calls"], df.loc[erlang_c, "aht_s"], 30,
        df.loc[erlang_c, "sl_target"].fillna(0.8), 20).tolist()
    df.loc[3, "calls"] = 1e9  # beyond any staffing, in the first block
    df.loc[n - 1, "calls"] = 2e9  # the batch's largest load, in the last block
    df.to_csv(src, index=False)
    messages = []
    for block in (10 ** 6, 7):
        monkeypatch.setattr(erlang_report, "BATCH_ROWS", block)
        code, _, err = run(capsys, "erlang", "--input", str(src), "--output",
                           str(tmp_path / "bad.csv"))
        assert code == 2
        messages.append(err)
    assert messages[0] == messages[1] and "offered load" in messages[0]


@pytest.mark.parametrize("args,fragment", [
    (["--calls", "-1", "--aht", "180"], "--calls"),
    (["--calls", "10", "--aht", "0"], "--aht"),
    (["--calls", "10", "--aht", "180", "--sl", "1.5"], "--sl"),
    (["--calls", "10", "--aht", "180", "--shrinkage", "1"], "--shrinkage"),
    (["--calls", "10", "--aht", "180", "--agents", "9:3"], "--agents"),
    (["--calls", "10", "--aht", "180", "--sl", "1", "--answer-time", "0"], "cannot be met"),
    (["--aht", "180"], "--calls"),
    (["--calls", "ten", "--aht", "180"], "--calls"),
])
def test_bad_options_one_line_exit_2(capsys, args, fragment):
    code, out, err = run(capsys, "erlang", *args)
    assert code == 2
    assert fragment in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("content,fragment", [
    ("calls,aht_s\n10,180\n-3,180\n", "row 3, field 'calls'"),
    ("calls,aht_s\n10,abc\n", "row 2, field 'aht_s'"),
    ("calls\n10\n", "field 'aht_s': missing column"),
    ("calls,aht_s,sl_target\n10,180,2\n", "row 2, field 'sl_target'"),
])
def test_bad_batch_file_names_row_and_column(tmp_path, capsys, content, fragment):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(content)
    code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(dst))
    assert code == 2 and fragment in err and str(src) in err
    assert not dst.exists() and list(tmp_path.iterdir()) == [src]


def test_batch_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "erlang", "--input", str(tmp_path / "nope.csv"), "--output",
                       str(tmp_path / "o.csv"))
    assert code == 2 and "file not found" in err


def test_batch_read_by_whole_columns_matches_the_cell_by_cell_reader(tmp_path, monkeypatch):
    """The fast reader (pandas, whole columns) and the checked one give the same output file:
    per-row overrides with blanks, labels with formula-like text and quotes, numbers with
    underscores and spaces."""
    from staffing import erlang_report

    rows = ["id,label,calls,aht_s,sl_target,answer_s",
            'a1,=SUM(A1),100,180,0.8,20', "a2,,250.5,240,,",
            'a3,"x, ""y""",1_000,300, 0.9 ,15', "a4,-3,0,200,0.7,", "a5,@me,12.25,90.5,,10"]
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n")
    args = ["erlang", "--input", str(tmp_path / "in.csv"), "--sl", "0.85"]
    assert main([*args, "--output", str(tmp_path / "fast.csv")]) == 0
    monkeypatch.setattr(erlang_report, "_read_fast", lambda src, defaults: None)
    assert main([*args, "--output", str(tmp_path / "checked.csv")]) == 0
    fast, checked = (pd.read_csv(tmp_path / f"{n}.csv", dtype={"id": str, "label": str})
                     for n in ("fast", "checked"))
    pd.testing.assert_frame_equal(fast, checked, check_exact=True)
    assert fast["label"].iloc[0] == "'=SUM(A1)" and fast["label"].iloc[4] == "'@me"  # neutralised
    assert fast["label"].iloc[2] == 'x, "y"' and fast["label"].iloc[3] == "'-3"
    assert fast["calls"].tolist() == [100, 250.5, 1000, 0, 12.25]
    assert fast["sl_target"].tolist() == [0.8, 0.85, 0.9, 0.7, 0.85]


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_batch_output_fed_back_gives_the_same_file(tmp_path, capsys, monkeypatch, reader):
    """Result columns of an earlier output are ignored and replaced: the achieved asa_s (0 on a
    0-call row) is not read as an ASA target, and neutralised labels get no extra quote."""
    if reader == "checked":
        from staffing import erlang_report

        monkeypatch.setattr(erlang_report, "_read_fast", lambda src, defaults: None)
    src = tmp_path / "in.csv"
    src.write_text("label,calls,aht_s,asa_s\n=SUM(1),100,180,30\n@x,0,180,\n+1,250,240,\n")
    outs = [tmp_path / f"out{i}.csv" for i in range(3)]
    for a, b in zip([src, *outs], outs):
        code, _, err = run(capsys, "erlang", "--input", str(a), "--output", str(b))
        assert code == 0, err
    first = pd.read_csv(outs[0], keep_default_na=False)
    assert first["label"].tolist() == ["'=SUM(1)", "'@x", "'+1"]
    assert [float(v) if v != "" else None for v in first["asa_target_s"]] == [30.0, None, None]
    expect = q.required_agents([100, 0, 250], [180, 180, 240], 30, 0.8, 20,
                               asa_target_s=np.array([30, np.nan, np.nan]))
    assert first["agents"].tolist() == expect.tolist()
    assert outs[1].read_text() == outs[0].read_text() == outs[2].read_text()


@pytest.mark.parametrize("reader", ["fast", "checked"])
def test_batch_blank_patience_is_erlang_c_for_that_row(tmp_path, capsys, monkeypatch, reader):
    if reader == "checked":
        from staffing import erlang_report

        monkeypatch.setattr(erlang_report, "_read_fast", lambda src, defaults: None)
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("calls,aht_s,patience_s\n100,180,\n100,180,120\n400,300,\n")
    code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(dst))
    assert code == 0, err
    out = pd.read_csv(dst)
    erlang_c = q.required_agents(np.array([100.0, 400.0]), np.array([180.0, 300.0]), 30, 0.8, 20)
    erlang_a = q.required_agents(100, 180, 30, 0.8, 20, patience_s=120)
    assert out["agents"].tolist() == [erlang_c[0], int(erlang_a), erlang_c[1]]
    assert out["p_abandon"].isna().tolist() == [True, False, True]
    assert out.loc[0, "service_level"] == pytest.approx(
        float(q.evaluate(100, 180, 30, erlang_c[0], 20)["service_level"]))
    # with --patience the blank cells take the option
    code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(dst),
                       "--patience", "300")
    out = pd.read_csv(dst)
    assert out.loc[0, "agents"] == q.required_agents(100, 180, 30, 0.8, 20, patience_s=300)
    assert out["p_abandon"].notna().all()


def test_batch_misspelt_required_column_names_the_close_match(tmp_path, capsys):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("calls,aht_sec\n10,180\n")
    code, _, err = run(capsys, "erlang", "--input", str(src), "--output", str(dst))
    assert code == 2 and "field 'aht_s'" in err and "'aht_sec'" in err


def test_help_shows_no_empty_range(capsys):
    from staffing.cli import cli

    for name, command in cli.commands.items():
        assert main([name, "--help"]) == 0
        out = capsys.readouterr().out
        assert "None" not in out, name
    assert main(["simulate", "--help"]) == 0
    assert "x>0" in capsys.readouterr().out  # a real bound is still shown
