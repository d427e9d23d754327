"""Run outputs: atomic writers, plan.xlsx, load() round trips, export, the documented example."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from staffing import results
from staffing.cli import main
from staffing.errors import InputError
from synthetic_run import make_manifest, make_tables

ROOT = Path(__file__).resolve().parents[1]
HAVE_PARQUET = results.have_pyarrow()


@pytest.fixture(scope="module")
def tables():
    return make_tables(weeks=1, n_plateaux=2, n_providers=3)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tables):
    return results.write_run(tmp_path_factory.mktemp("outputs") / "orange-2009" / "run", tables, make_manifest())


@pytest.fixture(scope="module")
def book(run_dir):
    return load_workbook(run_dir / "plan.xlsx")


def _expected(tables):
    return {t: results.normalise_table(t, tables[t]) for t in results._ordered(tables)}


# ------------------------------------------------------------------ round trips and dtypes

def test_round_trip_same_tables_whichever_format(run_dir, tables):
    expected = _expected(tables)
    formats = ["csv", "xlsx"] + (["parquet"] if HAVE_PARQUET else [])
    for fmt in formats:
        got = results.load(run_dir, format=fmt)
        assert list(got) == list(expected), fmt
        for name in expected:
            pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True, obj=f"{fmt}:{name}")


def test_parquet_in_test_extra_so_round_trip_runs_in_ci():
    if os.environ.get("CI") == "true":
        assert HAVE_PARQUET, "pyarrow is in the test extra; the Parquet round trip must run in CI"


def test_dtypes_are_the_documented_ones(run_dir, tables):
    got = results.load(run_dir, format="csv")
    cov, shifts, summ = got["coverage"], got["shifts"], got["summary"]
    assert cov["slot_start"].dtype == "datetime64[ns]"
    assert cov["slot_minutes"].dtype == "int64" and cov["required_agents"].dtype == "int64"
    assert cov["answering_agents"].dtype == "float64"
    assert pd.api.types.is_string_dtype(cov["plateau"]) and cov["plateau"].dtype == results._STR_DTYPE
    assert shifts["date"].dtype == "datetime64[ns]" and (shifts["date"] == shifts["date"].dt.normalize()).all()
    assert shifts["start"].dtype == object and isinstance(shifts["start"].iloc[0], dt.time)
    assert shifts["end"].map(lambda t: t.strftime("%H:%M")).isin(["16:00", "22:00", "13:00", "21:30"]).all()
    assert summ["value"].dtype == "float64"
    # NaN stays NaN and inf stays inf (an unstable queue), in every format
    for fmt in ("csv", "xlsx") + (("parquet",) if HAVE_PARQUET else ()):
        c = results.load(run_dir, format=fmt)["coverage"]
        assert c["p_abandon"].isna().sum() == tables["coverage"]["p_abandon"].isna().sum() > 0
        assert np.isinf(c["asa_s"]).sum() == np.isinf(tables["coverage"]["asa_s"]).sum() > 0


def test_csv_is_iso_utf8_with_dot_decimal(run_dir):
    text = (run_dir / "coverage.csv").read_text(encoding="utf-8")
    header, first = text.splitlines()[:2]
    assert header.startswith("scenario,slot_start,slot_minutes,plateau,calls")
    assert first.split(",")[1] == "2009-01-05T08:00:00"
    shifts = (run_dir / "shifts.csv").read_text(encoding="utf-8").splitlines()
    assert shifts[1].split(",")[1] == "2009-01-05" and ",08:00,16:00," in shifts[1]
    assert re.search(r",\d+\.\d+,", first) and ";" not in text


def test_unknown_table_and_manifest(run_dir):
    m = results.load_manifest(run_dir)
    assert m["schema_version"] == 1 and m["tables"][:3] == ["requirements", "allocation", "coverage"]
    assert m["columns"]["sweep"] == {"scenario": "str", "sl_target": "float", "answer_s": "float",
                                     "cost_eur": "float", "label": "str"}
    assert m["status"] == "Optimal" and m["package_version"]
    assert results.load_manifest(run_dir / "plan.xlsx") == m
    sweep = results.load(run_dir, format="xlsx")["sweep"]
    assert sweep["label"].tolist() == ["low", "default", "high"] and sweep["cost_eur"].dtype == "float64"


def test_standalone_workbook_and_csv_folder_without_manifest(run_dir, tables, tmp_path):
    shutil.copy(run_dir / "plan.xlsx", tmp_path / "copy.xlsx")
    csvs = tmp_path / "csv"
    csvs.mkdir()
    for f in run_dir.glob("*.csv"):
        shutil.copy(f, csvs / f.name)
    from_xlsx, from_csv = results.load(tmp_path / "copy.xlsx"), results.load(csvs)
    for name, df in _expected(tables).items():
        pd.testing.assert_frame_equal(from_xlsx[name], df, obj=f"xlsx:{name}")
        if name != "sweep":  # without a manifest, an unknown table's integral floats read as int
            pd.testing.assert_frame_equal(from_csv[name], df, obj=f"csv:{name}")


# ------------------------------------------------------------------ safety

def test_existing_run_folder_refused_then_forced(tables, tmp_path):
    d = tmp_path / "run"
    small = {"providers": tables["providers"], "summary": tables["summary"]}
    results.write_run(d, small, make_manifest(), formats=("csv",))
    before = (d / "providers.csv").read_bytes()
    with pytest.raises(InputError) as e:
        results.write_run(d, small, make_manifest(), formats=("csv",))
    assert e.value.exit_code == 2 and "--force" in str(e.value)
    assert (d / "providers.csv").read_bytes() == before
    (d / "stale.csv").write_text("x\n1\n")
    results.write_run(d, {"summary": tables["summary"]}, make_manifest(), formats=("csv",), force=True)
    assert sorted(p.name for p in d.iterdir()) == ["manifest.json", "summary.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_never_inside_inputs_or_over_an_input_file(tables, tmp_path):
    inputs = tmp_path / "inputs" / "orange-2009"
    inputs.mkdir(parents=True)
    (inputs / "plateaux.csv").write_text("plateau\ninternet\n")
    small = {"summary": tables["summary"]}
    with pytest.raises(InputError, match="inputs folder"):
        results.write_run(inputs / "run", small, make_manifest(), forbidden_dirs=[inputs])
    with pytest.raises(InputError, match="inputs folder"):  # --force over a folder holding the inputs
        results.write_run(tmp_path / "inputs", small, make_manifest(), force=True, forbidden_dirs=[inputs])
    m = dict(make_manifest(), inputs={str(inputs / "plateaux.csv"): "0" * 64})
    with pytest.raises(InputError, match="input file"):
        results.write_run(tmp_path / "inputs", small, m, force=True)
    assert (inputs / "plateaux.csv").read_text() == "plateau\ninternet\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs"]


@pytest.mark.parametrize("beside", [False, True])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError, InputError])
def test_interrupted_run_leaves_nothing(tables, tmp_path, monkeypatch, exc, beside):
    """An error while the workbook is written (in turn, or in its own process beside the
    files) is the run's error, and leaves no folder."""
    from staffing.results import rundir

    def boom(*a, **k):
        raise exc("interrupted")

    monkeypatch.setattr(results.workbook, "write_workbook", boom)
    monkeypatch.setattr(rundir, "BESIDE_ROWS", 0 if beside else 10 ** 9)
    with pytest.raises(exc, match="interrupted"):
        results.write_run(tmp_path / "run", tables, make_manifest())
    assert list(tmp_path.iterdir()) == []


def test_workbook_written_beside_the_files_is_the_one_written_in_turn(tables, tmp_path,
                                                                     monkeypatch):
    """A large run's workbook is written by a forked process while this one writes the CSV
    and Parquet files: the same workbook, part for part (but its creation time), and the
    same files; a writer that dies without a word fails the run, leaving nothing."""
    from staffing.results import rundir

    started = []
    start = rundir._Beside.start.__func__

    def spy(cls, *a, **k):
        started.append(start(cls, *a, **k))
        return started[-1]

    monkeypatch.setattr(rundir._Beside, "start", classmethod(spy))
    runs = {}
    for beside in (False, True):
        monkeypatch.setattr(rundir, "BESIDE_ROWS", 0 if beside else 10 ** 9)
        manifest = dict(make_manifest(), created="2009-03-02T08:00:00")  # (not the clock)
        runs[beside] = results.write_run(tmp_path / f"run{beside}", tables, manifest)
    assert started[0] is None and started[1] is not None
    assert started[1].process.exitcode == 0
    a, b = (zipfile.ZipFile(runs[x] / "plan.xlsx") for x in (False, True))
    assert a.namelist() == b.namelist() and len(a.namelist()) > 10
    for name in a.namelist():
        if name != "docProps/core.xml":
            assert a.read(name) == b.read(name), name
    for f in sorted(p.name for p in runs[False].iterdir()):
        if f not in ("plan.xlsx", "manifest.json"):
            assert (runs[False] / f).read_bytes() == (runs[True] / f).read_bytes(), f
    monkeypatch.setattr(results.workbook, "write_workbook", lambda *a, **k: os._exit(3))
    with pytest.raises(RuntimeError, match="without a word"):
        results.write_run(tmp_path / "died", tables, make_manifest())
    assert not (tmp_path / "died").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runFalse", "runTrue"]


@pytest.mark.parametrize("beside", [False, True])
def test_meanwhile_runs_while_the_workbook_is_written(tables, tmp_path, monkeypatch, beside):
    """`meanwhile` (the rosters' rule check of `staffing optimise`) runs once, after the CSV
    and Parquet files: beside a large run's workbook, while it is still being written (here
    the workbook waits for what `meanwhile` leaves); an error from it leaves nothing."""
    import time as time_mod

    from staffing.results import rundir

    flag = tmp_path / "flag"
    write = results.workbook.write_workbook

    def waiting(path, *a, **k):
        end = time_mod.monotonic() + 60
        while beside and not flag.exists():
            if time_mod.monotonic() > end:
                raise RuntimeError("meanwhile did not run while the workbook was written")
            time_mod.sleep(0.01)
        return write(path, *a, **k)

    monkeypatch.setattr(results.workbook, "write_workbook", waiting)
    monkeypatch.setattr(rundir, "BESIDE_ROWS", 0 if beside else 10 ** 9)
    calls = []

    def meanwhile():
        written = sorted(p.name for p in next(tmp_path.glob(".*run*")).iterdir())
        calls.append(written)
        flag.touch()

    run = results.write_run(tmp_path / "run", tables, make_manifest(), meanwhile=meanwhile)
    assert len(calls) == 1
    assert {f"{t}.csv" for t in tables} <= set(calls[0]) and "manifest.json" not in calls[0]
    assert ("plan.xlsx" in calls[0]) is not beside and (run / "plan.xlsx").exists()

    def boom():
        raise OSError("rule check failed")

    with pytest.raises(OSError, match="rule check failed"):
        results.write_run(tmp_path / "run2", tables, make_manifest(), meanwhile=boom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flag", "run"]


def test_interrupted_forced_run_keeps_the_old_folder(tables, tmp_path, monkeypatch):
    d = results.write_run(tmp_path / "run", {"summary": tables["summary"]}, make_manifest(), formats=("csv",))
    monkeypatch.setattr(results.files, "write_manifest", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        results.write_run(d, tables, make_manifest(), force=True, formats=("csv",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in d.iterdir()) == ["manifest.json", "summary.csv"]


def test_single_file_write_is_atomic(tables, tmp_path, monkeypatch):
    path = results.write_table_csv(tables["providers"], tmp_path / "providers.csv")
    before = path.read_bytes()

    def half_then_crash(self, *a, **k):
        Path(a[0]).write_text("scenario,prov")
        raise KeyboardInterrupt

    def arrow_half_then_crash(table, sink, *a, **k):
        sink.write(b"scenario,prov")
        raise KeyboardInterrupt

    pa_csv = pytest.importorskip("pyarrow.csv")
    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_crash)
    monkeypatch.setattr(pa_csv, "write_csv", arrow_half_then_crash)  # the CSV writer
    with pytest.raises(KeyboardInterrupt):
        results.write_table_csv(tables["providers"], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["providers.csv"]


def test_new_run_dir(tmp_path):
    a = results.new_run_dir(tmp_path, "orange 2009/x", "optimise")
    assert a.parent == tmp_path / "orange_2009_x"
    assert re.fullmatch(r"\d{8}-\d{6}-optimise", a.name) and not a.exists()
    a.mkdir(parents=True)
    b = results.new_run_dir(tmp_path, "orange 2009/x", "optimise")
    assert b.name == a.name + "-2" or b.name > a.name  # same second -> suffix, else a later stamp
    assert not b.exists()


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    notes = pd.DataFrame({"scenario": ["s"] * 4, "note": ["=SUM(A1:A2)", "#N/A", " padded ", "a < b & c"],
                          "value_eur": [1.5, -2.0, np.nan, 1e-7]})
    path = results.write_workbook(tmp_path / "plan.xlsx", {"notes": notes}, {})
    ws = load_workbook(path)["notes"]
    assert [ws.cell(r, 2).data_type for r in range(2, 6)] == ["s"] * 4
    got = results.load(path)["notes"]
    assert got["note"].tolist() == notes["note"].tolist()
    assert got["value_eur"].tolist()[:2] == [1.5, -2.0] and np.isnan(got["value_eur"][2])
    assert got["value_eur"][3] == 1e-7


def test_bad_table_names_refused(tables, tmp_path):
    for name in ("staffing", "Coverage", "manifest", "allocation_2"):
        with pytest.raises(InputError):
            results.write_run(tmp_path / name, {name: tables["summary"]}, make_manifest())


# ------------------------------------------------------------------ export command

@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet"])
def test_export(run_dir, tables, tmp_path, fmt, capsys):
    if fmt == "parquet" and not HAVE_PARQUET:
        pytest.skip("pyarrow not installed")
    out = tmp_path / "out"
    assert main(["export", str(run_dir), "--format", fmt, "--out", str(out)]) == 0
    written = capsys.readouterr().out.split()
    assert written and all(Path(p).exists() for p in written)
    got = results.load(out / "plan.xlsx") if fmt == "xlsx" else results.load(out, format=fmt)
    for name, df in _expected(tables).items():
        pd.testing.assert_frame_equal(got[name], df, obj=f"{fmt}:{name}")
    assert main(["export", str(run_dir), "--format", fmt, "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--format", fmt, "--out", str(out), "--force"]) == 0


def test_export_as_the_readme_writes_it(run_dir, tables, capsys):
    """The README's synopsis, run as written on a run folder: the run already has its CSV."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("| `staffing export RUN"))
    assert "[--force]" in line and "[--out DIR]" in line
    assert main(["export", str(run_dir), "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "--out DIR" in err
    assert main(["export", str(run_dir), "--format", "csv", "--force"]) == 0
    got = results.load(run_dir, format="csv")
    for name, df in _expected(tables).items():
        pd.testing.assert_frame_equal(got[name], df, obj=name)


def test_export_missing_run_is_input_error(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--format", "csv"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "nope" in err and "\n" not in err


# ------------------------------------------------------------------ documentation

def _doc():
    return (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")


def test_docs_list_every_table_and_column():
    doc = _doc()
    for table, cols in results.SCHEMA.items():
        m = re.search(rf"^### {table}\b.*?(?=^### |^## )", doc, re.S | re.M)
        assert m, table
        documented = set()
        for line in m.group(0).splitlines():
            if line.startswith("| ") and not line.startswith("| column") and not line.startswith("| ---"):
                documented |= {c.strip() for c in line.split("|")[1].split(",")}
        assert set(cols) <= documented, (table, set(cols) - documented)
    for key in ("schema_version", "scenario", "package_version", "created", "command", "options", "inputs",
                "solver", "status", "objective_eur", "gap", "wall_time_s", "tables", "columns"):
        assert f"| {key} |" in doc, key


def test_docs_forecasting_example_runs_with_plain_pandas(run_dir, tables, tmp_path):
    code = re.findall(r"```python\n(.*?)```", _doc(), re.S)
    assert len(code) == 1
    assert "staffing" not in code[0]
    script = tmp_path / "read_plan.py"
    script.write_text(code[0])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([sys.executable, "-I", str(script), str(run_dir)], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    body, _, total = res.stdout.rpartition("total cost EUR:")
    assert float(total) == pytest.approx(tables["providers"]["cost_eur"].sum(), abs=0.01)
    daily = pd.read_csv(io.StringIO(body), parse_dates=["day"])
    cov = tables["coverage"]
    assert len(daily) == 2 * 7
    g = cov[(cov["plateau"] == "internet") & (cov["slot_start"].dt.day == 6)]
    row = daily[(daily["plateau"] == "internet") & (daily["day"] == "2009-01-06")].iloc[0]
    assert row["answering_hours"] == pytest.approx((g["answering_agents"] * 0.5).sum(), abs=0.006)
    assert row["shortfall_hours"] == pytest.approx((g["shortfall_agents"] * 0.5).sum(), abs=0.006)
    assert row["calls"] == pytest.approx(g["calls"].sum(), abs=0.006)


@pytest.mark.parametrize("text", [["ab", "c"], ["a,b", "c"]])
def test_csv_of_a_frame_concatenated_from_an_empty_slice(tmp_path, text):
    """Arrow-backed strings concatenated from an empty slice become a chunked column with an
    empty chunk; the file must hold exactly the rows (no NUL bytes), in both quoting styles."""
    from staffing.results.files import write_csv

    empty = pd.DataFrame({"x": pd.Series([], dtype="string[pyarrow]"), "y": pd.Series([], dtype=float)})
    rows = pd.DataFrame({"x": pd.Series(text, dtype="string[pyarrow]"), "y": [1.0, 2.5]})
    write_csv(pd.concat([empty, rows], ignore_index=True), tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert b"\x00" not in raw
    back = pd.read_csv(tmp_path / "t.csv", dtype={"x": str})
    assert back["x"].tolist() == text and back["y"].tolist() == [1.0, 2.5]


def test_csv_written_in_blocks_is_the_table_written_at_once(tmp_path, monkeypatch):
    """A table written ROWS_PER_BLOCK rows at a time gives the bytes of the whole table
    written at once, quoting included: a text cell that needs quotes in the last block quotes
    every text cell of the file. Datetimes, missing values and booleans across blocks."""
    from staffing.results import files

    n = 23
    t = pd.Timestamp("2009-03-02 08:00")
    df = pd.DataFrame({
        "adviser": [f"fr-lyon-{i:04d}" for i in range(n)],
        "shift_start": [t + pd.Timedelta(hours=i) if i % 5 else pd.NaT for i in range(n)],
        "paid_hours": [7.0 if i % 3 else float("nan") for i in range(n)],
        "ok": [bool(i % 2) for i in range(n)],
        "note": ["plain"] * (n - 1) + ['needs "quotes", here']})
    out = {}
    for rows in (4, 10 ** 6):
        monkeypatch.setattr(files, "ROWS_PER_BLOCK", rows)
        files.write_table_csv(df, tmp_path / f"t{rows}.csv", table="t")
        out[rows] = (tmp_path / f"t{rows}.csv").read_bytes()
    assert out[4] == out[10 ** 6]
    text = out[4].decode("utf-8")
    assert '"fr-lyon-0000"' in text and '"needs ""quotes"", here"' in text
    assert text.count("\n") == n + 1 and "2009-03-02T09:00:00" in text
    monkeypatch.setattr(files, "ROWS_PER_BLOCK", 4)
    files.write_table_csv(df.iloc[:-1], tmp_path / "plain.csv", table="t")
    assert '"' not in (tmp_path / "plain.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_csv_datetimes_are_strftimes_text(tz, tmp_path):
    """The CSV's datetimes and dates are what strftime gives (wall clock for a zoned column,
    missing empty), from numpy's formatter: seconds and fractions cut, years before 1970 and
    after 2262 (past nanoseconds) included."""
    from staffing.results.files import _iso_text

    rng = np.random.default_rng(3)
    us = rng.integers(-2 * 10 ** 16, 4 * 10 ** 16, 2000)  # 1336 .. 3237
    s = pd.Series(us.astype("datetime64[us]"))
    s[rng.random(len(s)) < 0.1] = pd.NaT
    if tz:
        s = s[(s > pd.Timestamp("1900-01-01")) & (s < pd.Timestamp("2200-01-01"))
              | s.isna()].dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    for unit, fmt in (("s", "%Y-%m-%dT%H:%M:%S"), ("D", "%Y-%m-%d")):
        want = s.dt.strftime(fmt)
        got = _iso_text(s, unit)
        assert got.isna().equals(want.isna()) and s.isna().any()
        assert (got[want.notna()] == want[want.notna()]).all()
    inside = s[(s > pd.Timestamp("1990-01-01", tz=tz)) & (s < pd.Timestamp("2100-01-01", tz=tz))
               | s.isna()]  # (a table's datetimes are read in nanoseconds)
    df = pd.DataFrame({"slot_start": inside.iloc[:50].reset_index(drop=True), "calls": 1.0})
    results.files.write_table_csv(df, tmp_path / "t.csv", table="t")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()[1:]
    want = df["slot_start"].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
    assert [x.split(",")[0] for x in lines] == want.tolist()


def test_text_held_as_categories_is_written_as_the_same_text(tmp_path, monkeypatch):
    """A table whose text columns are categorical in memory (the rosters table) writes the
    bytes the same table with plain text writes: CSV (formula-like text escaped), Parquet
    (text columns, not dictionaries) and the workbook's cells."""
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    text = pd.DataFrame({
        "scenario": "s", "adviser": ["b-2", "=cmd|' /C calc'!A0", "a-1", None, "b-2"],
        "team": ["t", "t", "u", "u", "t"], "plateau": ["fixed", "-x", "fixed", "iptv", "+y"],
        "paid_hours": [7.0, 7.5, 7.0, 6.0, 7.0]})
    text = text.astype({c: results.tables._STR_DTYPE for c in ("scenario", "adviser", "team",
                                                                "plateau")})
    cats = text.astype({c: pd.CategoricalDtype(sorted(text[c].dropna().unique().tolist()))
                        for c in ("scenario", "adviser", "team", "plateau")})
    assert isinstance(results.normalise_table("rosters", cats)["adviser"].dtype,
                      pd.CategoricalDtype)  # (kept: no text copy of a large table)
    for kind in ("csv", "parquet"):
        a, b = tmp_path / f"a.{kind}", tmp_path / f"b.{kind}"
        write = getattr(results.files, f"write_table_{kind}")
        write(text, a, table="rosters")
        write(cats, b, table="rosters")
        assert a.read_bytes() == b.read_bytes(), kind
    assert "'=cmd" in (tmp_path / "b.csv").read_text()
    assert str(pq.read_schema(tmp_path / "b.parquet").field("adviser").type) in ("string",
                                                                                "large_string")
    back = pd.read_parquet(tmp_path / "b.parquet")
    assert not any(isinstance(back[c].dtype, pd.CategoricalDtype) for c in back.columns)
    monkeypatch.setattr(results.files, "ROWS_PER_BLOCK", 2)  # written 2 rows at a time
    results.files.write_table_parquet(cats, tmp_path / "c.parquet", table="rosters")
    assert pq.ParquetFile(tmp_path / "c.parquet").num_row_groups == 3
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "c.parquet"), back)
