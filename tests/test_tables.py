"""The shared input-table reader: French CSV (';', decimal commas, Windows-1252, BOM, CRLF),
workbooks with uncomputed formulas, and the bounds that refuse oversized or zip-bomb files."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from scenario_helpers import copy_default
from staffing import scenario, tables
from staffing.cli import main
from staffing.errors import InputError

INPUTS = Path("inputs") / "orange-2009"
_NUMBER = re.compile(r"^-?\d+\.\d+$")


def french(text: str, *, encoding="cp1252", bom=False, newline="\r\n") -> bytes:
    """A CSV as French Excel saves it: ';' separators, decimal commas, CRLF, Windows-1252."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator=newline)
    for r in rows:
        writer.writerow([c.replace(".", ",") if _NUMBER.match(c) else c for c in r])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _frames(sc: scenario.Scenario) -> dict:
    return {"plateaux": sc.plateaux, "providers": sc.providers, "weekday": sc.profiles.weekday,
            "month": sc.profiles.month, "intraday": sc.profiles.intraday}


@pytest.mark.parametrize("encoding,bom,newline", [("cp1252", False, "\r\n"),
                                                  ("utf-8", True, "\r\n"),
                                                  ("utf-8", False, "\n"),
                                                  ("cp1252", False, "\r")])
def test_french_csv_reads_as_the_standard_tables(tmp_path, encoding, bom, newline):
    model = copy_default(tmp_path)
    standard = scenario.load(model)
    for name in ("plateaux.csv", "providers.csv", "profiles.csv"):
        p = tmp_path / INPUTS / name
        text = p.read_text(encoding="utf-8")
        if name == "providers.csv":  # a non-ASCII site name, as Windows-1252 writes it
            text = text.replace("Villeneuve-d'Ascq", "Villeneuve-d'Ascq Hélène")
        p.write_bytes(french(text, encoding=encoding, bom=bom, newline=newline))
    fr = scenario.load(model)
    for key, frame in _frames(standard).items():
        other = _frames(fr)[key]
        if key == "providers":
            assert other.loc["fr-lille", "site"] == "Villeneuve-d'Ascq Hélène"
            other = other.assign(site=frame["site"])
        pd.testing.assert_frame_equal(other, frame, obj=key)
    # the decimal commas were read as numbers, e.g. shrinkage 0,30 and weekday weight 1,30
    assert fr.providers.loc["fr-lille", "shrinkage"] == 0.30
    assert fr.profiles.weekday.loc["internet", 0] == 1.30


def test_thousands_spaces_and_decimal_comma_in_a_french_batch(tmp_path):
    (tmp_path / "std.csv").write_text("calls,aht_s,sl_target,label\n1234.5,180.5,0.9,a\n"
                                      "80,200,0.8,b\n", encoding="utf-8")
    (tmp_path / "fr.csv").write_bytes("calls;aht_s;sl_target;label\r\n1 234,5;180,5;0,9;a\r\n"
                                      "80;200;0,8;b\r\n".encode("cp1252"))
    assert main(["erlang", "--input", str(tmp_path / "std.csv"), "--output",
                 str(tmp_path / "std_out.csv")]) == 0
    assert main(["erlang", "--input", str(tmp_path / "fr.csv"), "--output",
                 str(tmp_path / "fr_out.csv")]) == 0
    std = pd.read_csv(tmp_path / "std_out.csv")
    fr = pd.read_csv(tmp_path / "fr_out.csv")
    pd.testing.assert_frame_equal(fr, std)
    assert std["agents"].tolist()[0] > 0


def test_text_cells_of_a_french_file_keep_their_commas(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("id;name;value\r\na;Dupont, Jean;1,5\r\n".encode("cp1252"))
    header, rows = tables.read_table(p)
    rec = rows[0][1]
    assert header == ["id", "name", "value"]
    assert rec["name"] == "Dupont, Jean" and tables.to_float(rec["value"]) == 1.5
    assert str(rec["value"]) == "1,5"  # as written, for text columns


def test_comma_files_do_not_read_decimal_commas(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('id,value\na,"1,5"\n', encoding="utf-8")
    _, rows = tables.read_table(p)
    with pytest.raises(ValueError):
        tables.to_float(rows[0][1]["value"])
    assert "';'" in tables.not_a_number(rows[0][1]["value"])


def test_windows_1252_fallback_only_when_not_utf8(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("id,name\na,Hélène €\n".encode("utf-8"))
    assert tables.read_table(p)[1][0][1]["name"] == "Hélène €"
    p.write_bytes("id,name\na,Hélène €\n".encode("cp1252"))
    assert tables.read_table(p)[1][0][1]["name"] == "Hélène €"


def _workbook(path: Path, rows) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_formula_without_a_cached_value_is_refused(tmp_path):
    p = _workbook(tmp_path / "t.xlsx", [["calls", "aht_s"], [100, 180], [100, "=90*2"]])
    with pytest.raises(InputError) as err:
        tables.read_table(p)
    assert err.value.row == 3 and err.value.field == "aht_s" and "formula" in str(err.value)


def test_formula_with_a_cached_value_reads_the_value(tmp_path):
    p = _workbook(tmp_path / "t.xlsx", [["calls", "aht_s"], [100, 180]])
    # what Excel writes: the formula and the value it computed
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<c r="B2"([^>]*)><v>180</v></c>', r'<c r="B2"\1><f>90*2</f><v>180</v></c>',
                   sheet)
    assert "<f>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(p, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    header, rows = tables.read_table(p)
    assert rows[0][1]["aht_s"] == 180


def _bomb(path: Path, part: str, payload_bytes: int) -> Path:
    """An xlsx whose `part` is padded with `payload_bytes` of highly compressible XML."""
    _workbook(path, [["calls", "aht_s"], [100, 180]])
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts.get(part, b"").decode()
    pad = "<row/>" * (payload_bytes // 6)
    if part.endswith("sheet1.xml"):
        xml = xml.replace("</sheetData>", pad + "</sheetData>")
    else:
        xml = ('<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
               'spreadsheetml/2006/main">' + "<si><t>x</t></si>" * (payload_bytes // 17) + "</sst>")
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_zip_bomb_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_XLSX_UNCOMPRESSED_BYTES", 2 * 2**20)
    p = _bomb(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", 3 * 2**20)
    assert p.stat().st_size < 100_000  # small on disk, large inside
    with pytest.raises(InputError, match="uncompressed: too large"):
        tables.read_table(p)


def test_shared_strings_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_SHARED_STRINGS_BYTES", 2**20)
    p = _bomb(tmp_path / "sst.xlsx", "xl/sharedStrings.xml", 2 * 2**20)
    with pytest.raises(InputError, match="shared strings"):
        tables.read_table(p)


def test_row_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_ROWS", 50)
    rows = [["calls", "aht_s"]] + [[i, 180] for i in range(60)]
    with pytest.raises(InputError, match="more than 50 rows"):
        tables.read_table(_workbook(tmp_path / "t.xlsx", rows))
    p = tmp_path / "t.csv"
    p.write_text("calls,aht_s\n" + "".join(f"{i},180\n" for i in range(60)))
    with pytest.raises(InputError, match="more than 50 rows"):
        tables.read_table(p)
    assert len(tables.read_table(_workbook(tmp_path / "ok.xlsx", rows[:40]))[1]) == 39


def test_a_declared_huge_dimension_does_not_pad_rows(tmp_path):
    p = _workbook(tmp_path / "t.xlsx", [["calls", "aht_s"], [100, 180]])
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(p, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    header, rows = tables.read_table(p)
    assert header == ["calls", "aht_s"] and len(rows) == 1


def test_every_table_of_the_default_reads_through_the_shared_reader(tmp_path, monkeypatch):
    """One reader: the scenario's tables and the erlang batch go through tables.read_table, or
    its whole-column twin tables.read_frame (a well-formed batch), falling back on a bad cell."""
    seen = []
    real, real_frame = tables.read_table, tables.read_frame
    monkeypatch.setattr(tables, "read_table", lambda p: seen.append(Path(p).name) or real(p))
    monkeypatch.setattr(tables, "read_frame",
                        lambda p: seen.append(("frame", Path(p).name)) or real_frame(p))
    model = copy_default(tmp_path)
    scenario.load(model)
    (tmp_path / "b.csv").write_text("calls,aht_s\n10,180\n")
    assert main(["erlang", "--input", str(tmp_path / "b.csv"), "--output",
                 str(tmp_path / "o.csv")]) == 0
    assert seen == ["plateaux.csv", "providers.csv", "profiles.csv", ("frame", "b.csv")]
    assert np.isfinite(pd.read_csv(tmp_path / "o.csv")["service_level"]).all()
    seen.clear()
    (tmp_path / "b.csv").write_text("calls,aht_s\n10,180\n10,x\n")
    assert main(["erlang", "--input", str(tmp_path / "b.csv"), "--output",
                 str(tmp_path / "o2.csv")]) == 2
    assert seen == [("frame", "b.csv"), "b.csv"]  # the checked reader names the row
    assert not (tmp_path / "o2.csv").exists()


def test_a_run_workbook_read_back_is_bounded_too(tmp_path, monkeypatch):
    import importlib

    from staffing import results
    load_mod = importlib.import_module("staffing.results.load")  # the module, not load()

    monkeypatch.setattr(load_mod, "RUN_XLSX_MAX_BYTES", 2 * 2**20)
    p = _bomb(tmp_path / "plan.xlsx", "xl/worksheets/sheet1.xml", 3 * 2**20)
    with pytest.raises(InputError, match="uncompressed: too large"):
        results.load(p)


def test_call_history_reads_through_the_shared_reader(tmp_path):
    """`forecast`'s history: Windows-1252 ';' CSV with decimal commas and CRLF, as the rest."""
    from staffing.forecasting import history

    std = ("plateau,slot_start,calls,aht_s\nsupport é,2024-01-08 08:00,12,310.5\n"
           "support é,2024-01-08 08:30,20,290.25\n")
    (tmp_path / "h.csv").write_text(std, encoding="utf-8")
    (tmp_path / "fr.csv").write_bytes(french(std))
    a, b = history.load_history(tmp_path / "h.csv"), history.load_history(tmp_path / "fr.csv")
    pd.testing.assert_frame_equal(a, b)
    assert a["aht_s"].tolist() == [310.5, 290.25]
    (tmp_path / "bad.csv").write_text("plateau,slot_start;calls\nx,2024-01-08 08:00;1\n")
    with pytest.raises(InputError, match="ambiguous"):
        history.load_history(tmp_path / "bad.csv")


def test_normalise_keeps_int_and_midnight_date_columns_as_they_are_and_normalises_others():
    from staffing.results import normalise_table
    from staffing.results import tables as results_tables

    d = pd.to_datetime(["1969-12-31", "2009-03-02", None]).astype("datetime64[ns]")
    df = pd.DataFrame({"scenario": "s", "date": d, "week": np.array([0, 1, 2], dtype=np.int64)})
    out = normalise_table("tours", df)
    rosters = normalise_table("rosters", df)
    week = df["week"]
    assert results_tables._coerce(week, "int") is week
    if results_tables._COPY_ON_WRITE:  # (pandas 2 without it: the frame is a copy)
        assert np.shares_memory(rosters["week"].to_numpy(), df["week"].to_numpy())
        assert np.shares_memory(rosters["date"].to_numpy(), df["date"].to_numpy())
    pd.testing.assert_frame_equal(rosters, df, check_dtype=False)
    late = df.assign(date=d + pd.Timedelta(hours=8, minutes=30))
    got = normalise_table("rosters", late)["date"]
    assert got.iloc[:2].tolist() == list(d[:2]) and pd.isna(got.iloc[2])
    assert out["week"].tolist() == [0, 1, 2]
