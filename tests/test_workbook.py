"""plan.xlsx as a planner opens it: the Summary dashboard, Excel Tables, formats, charts, print set-up,
and the same workbook through LibreOffice (no repair, the Summary one page wide, values kept)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from staffing import results
from staffing.errors import InputError
from staffing.results import dashboard
from synthetic_run import make_manifest, make_tables

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
DATA = ["requirements", "allocation", "coverage", "shifts", "tours", "providers", "regimes", "sweep",
        "summary_table", "diagnostics"]


def _manifest():
    m = make_manifest()
    m["options"]["offshore_cap"] = 0.2
    m["timezone"] = "Europe/Paris"
    m["targets"] = {"internet": {"sl_target": 0.8, "answer_s": 60.0, "max_occupancy": 0.88},
                    "fixed_line": {"sl_target": 0.8, "answer_s": 60.0, "max_occupancy": 0.88},
                    "iptv": {"sl_target": 0.8, "answer_s": 60.0, "max_occupancy": 0.88}}
    return m


def _write(tmp, weeks, **kw):
    tables = results.add_calendar(make_tables(weeks=weeks, n_plateaux=3, n_providers=9))
    path = results.write_workbook(Path(tmp) / f"plan{weeks}.xlsx", tables, _manifest(), **kw)
    return tables, path


@pytest.fixture(scope="module")
def week1(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("w1"), 1)


@pytest.fixture(scope="module")
def week4(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("w4"), 4)


@pytest.fixture(scope="module")
def book1(week1):
    return load_workbook(week1[1])


def _norm(tables):
    return {t: results.normalise_table(t, df) for t, df in tables.items()}


# ------------------------------------------------------------------ sheets and Excel Tables

def test_sheet_order(book1, week4):
    assert book1.sheetnames == ["Summary", "charts", "staffing", "daily"] + DATA + ["run", "manifest"]
    assert book1["manifest"].sheet_state == "hidden"
    wb = load_workbook(week4[1], read_only=True)
    assert wb.sheetnames[:5] == ["Summary", "charts", "staffing", "daily", "weekly"]  # past a week: weekly
    wb.close()


def test_every_data_sheet_is_an_excel_table(book1, week1):
    tables = _norm(week1[0])
    names = set()
    for sheet in DATA + ["staffing", "daily"]:
        ws = book1[sheet]
        assert len(ws.tables) == 1, sheet
        tbl = list(ws.tables.values())[0]
        name = tbl.name
        names.add(name)
        header = [c.value for c in ws[1]]
        assert [c.name for c in tbl.tableColumns] == header, sheet
        assert tbl.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}", sheet
        assert ws.freeze_panes == "A2", sheet
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight in (0, "0")
        assert ws.print_title_rows == "$1:$1", sheet
        assert ws.print_area, sheet
        table = results.SHEET_TABLE.get(sheet, sheet)
        if table in tables:
            assert header == list(tables[table].columns)
            assert ws.max_row == len(tables[table]) + 1
            assert name == sheet
    assert len(names) == len(DATA) + 2
    # the very wide staffing sheet prints over a few pages wide with its slot column repeated
    st = book1["staffing"]
    assert int(st.page_setup.fitToWidth) >= 2 and st.print_title_cols == "$A:$C"


def test_number_formats(book1):
    def fmt(sheet, column):
        ws = book1[sheet]
        j = [c.value for c in ws[1]].index(column) + 1
        return ws.cell(2, j).number_format

    assert fmt("coverage", "slot_start") == "yyyy-mm-dd hh:mm"
    assert fmt("coverage", "service_level") == "0.0%" and fmt("coverage", "sl_target") == "0.0%"
    assert fmt("coverage", "answering_agents") == "#,##0.0" and fmt("coverage", "required_agents") == "#,##0"
    assert "€" in fmt("providers", "cost_eur") and fmt("providers", "answering_share") == "0.0%"
    assert fmt("shifts", "start") == "hh:mm" and fmt("shifts", "date") == "yyyy-mm-dd"
    assert "€" in fmt("regimes", "net_cost_eur")
    assert fmt("daily", "internet service level") == "0.0%"
    assert book1["shifts"]["H2"].value == dt.time(8, 0)  # date, weekday, week come first


def test_calendar_columns(week1):
    tables = week1[0]
    cov = tables["coverage"]
    assert list(cov.columns[:5]) == ["scenario", "slot_start", "weekday", "week", "slot_minutes"]
    assert (cov["weekday"] == cov["slot_start"].dt.strftime("%a")).all()
    assert set(cov["week"]) == {1}
    t4 = results.add_calendar({"c": pd.DataFrame({"slot_start": pd.to_datetime(
        ["2009-03-02 08:00", "2009-03-08 21:30", "2009-03-09 08:00", "2009-03-29 12:00"])})}, "2009-03-02")["c"]
    assert t4["week"].tolist() == [1, 1, 2, 4] and t4["weekday"].tolist() == ["Mon", "Sun", "Mon", "Sun"]


def test_staffing_sheet_answering_and_logged(book1, week1):
    tables = week1[0]
    rows = list(book1["staffing"].values)
    wide = pd.DataFrame(rows[1:], columns=rows[0])
    cov, alloc = tables["coverage"], tables["allocation"]
    assert len(wide) == cov["slot_start"].nunique() == 7 * 28
    assert wide.columns[:6].tolist() == ["slot_start", "weekday", "week", "fixed_line required agents",
                                         "fixed_line answering agents", "fixed_line shortfall agents"]
    slot = pd.Timestamp("2009-01-07 18:30")
    row = wide[wide["slot_start"] == slot].iloc[0]
    c = cov[(cov["slot_start"] == slot) & (cov["plateau"] == "internet")].iloc[0]
    assert row["internet required agents"] == c["required_agents"]
    assert row["internet answering agents"] == pytest.approx(c["answering_agents"])
    a = alloc[alloc["slot_start"] == slot]
    assert row["internet webhelp logged agents"] == pytest.approx(
        a[(a["plateau"] == "internet") & (a["provider"] == "webhelp")]["logged_agents"].sum())
    assert row["rabat logged agents (all plateaux)"] == pytest.approx(
        a[a["provider"] == "rabat"]["logged_agents"].sum())
    # 0, not blank: every value cell is a number
    assert wide.drop(columns=["slot_start", "weekday"]).map(lambda v: isinstance(v, (int, float))).all().all()


def test_fall_back_hour_passes_kept_apart(tmp_path):
    """On the fall-back day the repeated hour's two passes stay two rows (fold 0 and 1), not a sum."""
    t = pd.to_datetime(["2009-10-25 01:30", "2009-10-25 02:00", "2009-10-25 02:00", "2009-10-25 02:30",
                        "2009-10-25 02:30", "2009-10-25 03:00"])
    fold = [0, 0, 1, 0, 1, 0]
    cov = pd.DataFrame({"scenario": "s", "slot_start": t, "fold": fold, "slot_minutes": 30, "plateau": "p",
                        "calls": 10.0, "aht_s": 300.0, "callback_calls": 0.0, "required_agents": 3,
                        "answering_agents": [3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "shortfall_agents": 0.0,
                        "sl_target": 0.8, "service_level": 0.9, "asa_s": 5.0, "occupancy": 0.5,
                        "p_abandon": np.nan})
    alloc = cov[["scenario", "slot_start", "fold", "slot_minutes", "plateau"]].assign(
        provider="a", kind="inhouse", logged_agents=[4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    wide = results.staffing_wide({"coverage": cov, "allocation": alloc})
    assert wide["fold"].tolist() == fold
    assert wide["p answering agents"].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert wide["p a logged agents"].tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    path = results.write_workbook(tmp_path / "plan.xlsx", {"coverage": cov, "allocation": alloc}, {})
    got = results.load(path)
    assert got["coverage"]["fold"].tolist() == fold


# ------------------------------------------------------------------ the Summary

def _cells(ws):
    return {(c.row, c.column): c for row in ws.iter_rows() for c in row if c.value is not None}


def _find(ws, text):
    for row in ws.iter_rows():
        for c in row:
            if c.value == text:
                return c
    raise AssertionError(f"{text!r} not on {ws.title}")


def _right(ws, cell, k=1):
    return ws.cell(cell.row, cell.column + k)


def test_summary_headline_figures(book1, week1):
    tables, ws = week1[0], book1["Summary"]
    assert ws["A1"].value == "Staffing plan: orange-2009"
    assert ws["A2"].value.startswith("Mon 05 Jan 2009 to Sun 11 Jan 2009 (1 week)")
    assert "Europe/Paris" in ws["A2"].value and "offshore cap 20%" in ws["A2"].value
    label = _find(ws, "Total cost")
    value = ws.cell(label.row + 1, label.column)
    assert value.value == pytest.approx(tables["providers"]["cost_eur"].sum()) and "€" in value.number_format
    net = _find(ws, "Net cost (R2_local_rate)")
    summ = tables["summary"].set_index("metric")["value"]
    assert ws.cell(net.row + 1, net.column).value == pytest.approx(summ["net_cost"])
    cov = tables["coverage"]
    short = _find(ws, "Shortfall (agent-hours)")
    assert ws.cell(short.row + 1, short.column).value == pytest.approx((cov["shortfall_agents"] * 0.5).sum())
    surplus = _find(ws, "Surplus (agent-hours)")
    expect = (np.maximum(cov["answering_agents"] - cov["required_agents"], 0) * 0.5).sum()
    assert ws.cell(surplus.row + 1, surplus.column).value == pytest.approx(expect)


def test_summary_service_by_plateau_against_targets(book1, week1):
    tables, ws = week1[0], book1["Summary"]
    cov = tables["coverage"]
    head = _find(ws, "Plateau")
    cols = {ws.cell(head.row, j).value.replace("\n", " "): j for j in range(1, 20) if ws.cell(head.row, j).value}
    rows = {ws.cell(r, 1).value: r for r in range(head.row + 1, head.row + 5)}
    assert list(rows) == ["fixed_line", "internet", "iptv", "All plateaux"]
    for p, g in list(cov.groupby("plateau")) + [("All plateaux", cov)]:
        r = rows[p]
        sl = (g["service_level"] * g["calls"]).sum() / g["calls"].sum()
        assert ws.cell(r, cols["Service level"]).value == pytest.approx(sl)
        fin = np.isfinite(g["asa_s"])
        asa = (g["asa_s"][fin] * g["calls"][fin]).sum() / g["calls"][fin].sum()
        assert ws.cell(r, cols["ASA (s)"]).value == pytest.approx(asa)
        occ = (g["occupancy"] * g["answering_agents"]).sum() / g["answering_agents"].sum()
        assert ws.cell(r, cols["Occupancy"]).value == pytest.approx(occ)
        assert ws.cell(r, cols["Shortfall agent-hours"]).value == pytest.approx((g["shortfall_agents"] / 2).sum())
        if p != "All plateaux":
            target = ws.cell(r, cols["SL target"])
            assert target.value == 0.8 and target.number_format == '0%" in 60 s"'
            colour = ws.cell(r, cols["Service level"]).fill.fgColor.rgb[-6:]
            want = dashboard.status(sl, 0.8, higher_is_better=True)
            assert colour == {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE"}[want], p
            # occupancy rated from below too: the same workload on the required agents
            at_req = min(1.0, (g["occupancy"] * g["answering_agents"]).sum() / g["required_agents"].sum())
            want = dashboard.occupancy_status(occ, 0.88, at_req)
            colour = ws.cell(r, cols["Occupancy"]).fill.fgColor.rgb[-6:]
            assert colour == {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE"}[want], p


def test_occupancy_is_rated_against_its_cap_and_against_idle_time():
    o = dashboard.occupancy_status
    assert o(0.86, 0.88, 0.90) == "green"  # within 10 points of the occupancy at the requirement
    assert o(0.95, 0.88, 0.95) == "amber" and o(0.99, 0.88, 0.99) == "red"  # over the cap
    assert o(0.70, 0.88, 0.89) == "amber"  # 19 points under: advisers waiting
    assert o(0.32, 0.88, 0.76) == "red"  # 44 points under (an oversized fixed team)
    assert o(0.50, None, 0.52) == "green" and o(0.50, None, None) is None


def test_status_rules():
    s = dashboard.status
    assert s(0.80, 0.80, higher_is_better=True) == "green"
    assert s(0.79, 0.80, higher_is_better=True) == "amber"
    assert s(0.77, 0.80, higher_is_better=True) == "red"
    assert s(0.88, 0.88, higher_is_better=False) == "green"
    assert s(0.95, 0.88, higher_is_better=False) == "amber"
    assert s(0.99, 0.88, higher_is_better=False) == "red"
    assert s(0.5, None, higher_is_better=True) is None and s(float("nan"), 0.8, higher_is_better=True) is None


def test_summary_hours_by_kind_and_offshore_cap(book1, week1):
    tables, ws = week1[0], book1["Summary"]
    prov = tables["providers"]
    head = _find(ws, "Provider kind")
    cols = {ws.cell(head.row, j).value: j for j in range(1, 10) if ws.cell(head.row, j).value}
    rows = {ws.cell(r, 1).value: r for r in range(head.row + 1, head.row + 5)}
    assert list(rows) == ["In-house", "Subcontractors", "Offshore", "Total"]
    for label, kind in (("In-house", "in_house"), ("Subcontractors", "subcontractor"), ("Offshore", "offshore")):
        g = prov[prov["kind"] == kind]
        assert ws.cell(rows[label], cols["Providers"]).value == len(g) == 3
        assert ws.cell(rows[label], cols["Logged hours"]).value == pytest.approx(g["logged_hours"].sum())
        assert ws.cell(rows[label], cols["Paid hours"]).value == pytest.approx(g["paid_hours"].sum())
        assert ws.cell(rows[label], cols["Cost"]).value == pytest.approx(g["cost_eur"].sum())
    off = prov.loc[prov["kind"] == "offshore", "answering_share"].sum()
    share = ws.cell(rows["Offshore"], cols["Share of answering hours"])
    assert share.value == pytest.approx(off) and ws.cell(rows["Offshore"], cols["Cap"]).value == 0.2
    assert share.fill.fgColor.rgb[-6:] == ("C6EFCE" if off <= 0.2 else "FFC7CE")


def test_summary_daily_and_weekly_tables(week4):
    tables, path = week4
    ws = load_workbook(path)["Summary"]
    cov = tables["coverage"]
    day = cov["slot_start"].dt.normalize()
    daily = _find(ws, "By day (all plateaux)")
    assert ws.cell(daily.row + 1, 1).value == "Date"
    dates = [ws.cell(daily.row + 2 + i, 1).value for i in range(28)]
    assert dates == list(pd.date_range("2009-01-05", periods=28))
    calls = cov.groupby(day)["calls"].sum()
    got = [ws.cell(daily.row + 2 + i, 2).value for i in range(28)]
    assert np.allclose(got, calls.to_numpy())
    weekly = _find(ws, "By week (all plateaux)")
    wk = [ws.cell(weekly.row + 2 + i, 1).value for i in range(4)]
    assert wk == [1, 2, 3, 4] and ws.cell(weekly.row + 6, 1).value is None
    short = cov.groupby((day - day.min()).dt.days // 7)["shortfall_agents"].sum() / 2
    j = [ws.cell(weekly.row + 1, k).value for k in range(1, 15)].index("Shortfall\nagent-hours") + 1
    assert np.allclose([ws.cell(weekly.row + 2 + i, j).value for i in range(4)], short.to_numpy())


def test_summary_fits_one_page_wide_and_run_sheet_at_the_end(book1):
    ws = book1["Summary"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1, "1")
    assert ws.page_setup.fitToHeight in (0, "0") and ws.print_area
    run = book1["run"]
    labels = {r[0]: r[1] for r in run.iter_rows(values_only=True) if r and r[0]}
    assert labels["Scenario"] == "orange-2009" and labels["Solver status"] == "Optimal"
    assert labels["MIP gap (%)"] == pytest.approx(0.0001)
    assert labels["Time zone (slot times are local wall-clock)"] == "Europe/Paris"
    assert labels["sl_target"] == 0.8 and labels["integer"] is False
    assert any(isinstance(k, str) and k.startswith("Data sheets hold one Excel Table") for k in labels)


def test_run_sheet_lists_the_runs_warnings_before_its_notes(week1, tmp_path):
    said = ["rosters: CP-SAT found no rosters for fr-lyon within its limit in 1 week",
            "--headcount optimise: fr-lille has no room between its bounds"]
    path = results.write_workbook(tmp_path / "plan.xlsx", week1[0],
                                  {**make_manifest(), "warnings": said})
    wb = load_workbook(path, read_only=True)
    col = [r[0] for r in wb["run"].iter_rows(values_only=True) if r and isinstance(r[0], str)]
    wb.close()
    at = col.index("Warnings")
    assert col[at + 1:at + 3] == said and col[at + 3] == "Notes"
    # a long one spans both columns, wrapped, its row tall enough to print it whole
    long = "scheduling efficiency (week of 2009-03-02): " + "the efficiency may be understated " * 8
    path = results.write_workbook(tmp_path / "long.xlsx", week1[0],
                                  {**make_manifest(), "warnings": said + [long]})
    ws = load_workbook(path)["run"]
    row = next(c.row for c in ws["A"] if c.value == long)
    assert f"A{row}:B{row}" in {str(m) for m in ws.merged_cells.ranges}
    assert ws.cell(row, 1).alignment.wrap_text
    assert ws.row_dimensions[row].height >= 15 * math.ceil(len(long) / 120)
    assert not any(str(m) == f"A{row - 1}:B{row - 1}" for m in ws.merged_cells.ranges)
    path = results.write_workbook(tmp_path / "quiet.xlsx", week1[0],
                                  {**make_manifest(), "warnings": []})
    wb = load_workbook(path, read_only=True)
    assert "Warnings" not in [r[0] for r in wb["run"].iter_rows(values_only=True) if r]
    wb.close()


def test_row_limit_splits_sheets_and_says_so(week1, tmp_path, monkeypatch):
    tables = week1[0]
    monkeypatch.setattr(results.workbook, "EXCEL_MAX_ROWS", 2001)
    path = results.write_workbook(tmp_path / "plan.xlsx", tables, make_manifest())
    wb = load_workbook(path, read_only=True)
    n = len(tables["allocation"])  # 3 plateaux x 9 providers x 196 slots
    assert n == 5292
    assert {"allocation", "allocation_2", "allocation_3"} <= set(wb.sheetnames)
    assert "allocation_4" not in wb.sheetnames
    notes = [r[0] for r in wb["run"].iter_rows(values_only=True) if r and isinstance(r[0], str)]
    assert any("allocation" in s and "split" in s and "allocation_3" in s for s in notes)
    wb.close()
    got = results.load(path)
    pd.testing.assert_frame_equal(got["allocation"], results.normalise_table("allocation", tables["allocation"]))


# ------------------------------------------------------------------ charts

def _charts(path):
    z = zipfile.ZipFile(path)
    names = sorted((n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)),
                   key=lambda n: int(re.search(r"\d+", n).group()))
    return [z.read(n).decode() for n in names]


def _categories(xml: str) -> int:
    """Largest number of category points any series of the chart refers to."""
    most = 0
    for f in re.findall(r"<c:(?:cat|xVal)>.*?<c:f>([^<]+)</c:f>", xml, re.S):
        m = re.search(r"\$(\d+):\$[A-Z]+\$(\d+)$", f)
        most = max(most, int(m.group(2)) - int(m.group(1)) + 1 if m else 1)
    return most


def _check_chart(xml: str):
    assert re.search(r"<c:title>.*?<a:t>[^<]+</a:t>", xml, re.S), "chart title"
    axes = re.findall(r"<c:(valAx|catAx|dateAx)>(.*?)</c:\1>", xml, re.S)
    assert len(axes) >= 2
    for _, body in axes:
        if "<c:delete val=\"1\"/>" in body:
            continue
        assert re.search(r"<c:title>.*?<a:t>[^<]+</a:t>", body, re.S), "axis title"
    scatter = "<c:scatterChart>" in xml
    if scatter:  # a time axis: at most a week of day gridlines per chart
        lo, hi = (float(x) for x in re.findall(r'<c:(?:min|max) val="([\d.]+)"/>', xml)[:2])
        assert hi - lo <= 7
    else:
        assert _categories(xml) <= 60


def test_charts_one_week_slots_on_a_time_axis(week1):
    xml = _charts(week1[1])
    kinds = [re.findall(r"<c:(lineChart|areaChart|barChart|scatterChart)>", x) for x in xml]
    assert sum(k == ["scatterChart"] for k in kinds) == 3  # one per plateau
    for x in xml:
        _check_chart(x)
    scatter = [x for x in xml if "<c:scatterChart>" in x]
    # a series per day and measure: closed hours are a gap, not a line across the night
    assert all(len(re.findall(r"<c:ser>", x)) == 14 for x in scatter)
    assert all('<c:majorUnit val="1"/>' in x and "ddd dd/mm" in x for x in scatter)
    assert "staffing!$A$2:$A$29" in scatter[0]
    # provider hours grouped by kind: three stacked series
    kind = [x for x in xml if "logged hours by provider kind" in x.lower()]
    assert len(kind) == 1 and 'grouping val="stacked"' in kind[0] and len(re.findall(r"<c:ser>", kind[0])) == 3
    names = re.findall(r"<c:tx><c:strRef><c:f>daily!\$([A-Z]+)\$1</c:f>", kind[0])
    daily = [c.value for c in load_workbook(week1[1], read_only=True)["daily"][1]]
    from openpyxl.utils import column_index_from_string
    assert [daily[column_index_from_string(c) - 1] for c in names] == [
        "In-house logged hours", "Subcontractors logged hours", "Offshore logged hours"]


def test_charts_four_weeks_daily(week4):
    xml = _charts(week4[1])
    for x in xml:
        _check_chart(x)
    daily = [x for x in xml if "per day" in x and "<c:barChart>" in x and "<c:lineChart>" in x]
    assert len(daily) == 3 and all("daily!$A$2:$A$29" in x for x in daily)
    assert all("SL target" in x for x in daily)


def test_chart_level_default_and_override(week1, tmp_path):
    assert [results.workbook.chart_level(None, d) for d in (1, 7, 8, 56, 57, 364)] == \
        ["slot", "slot", "day", "day", "week", "week"]
    with pytest.raises(InputError):
        results.workbook.chart_level("hour", 7)
    tables = results.add_calendar(make_tables(weeks=12, n_plateaux=2, n_providers=3))
    path = results.write_workbook(tmp_path / "p12.xlsx", tables, {})
    xml = _charts(path)
    for x in xml:
        _check_chart(x)
    assert sum("per week" in x and "weekly!" in x for x in xml) == 2 + 1  # 2 plateaux + kinds
    path = results.write_workbook(tmp_path / "p12d.xlsx", tables, {}, charts="day")
    day = [x for x in _charts(path) if "agent-hours and service level per day" in x]
    assert len(day) == 2 * 2  # 84 days: two blocks of at most 56 days per plateau
    for x in day:
        _check_chart(x)


# ------------------------------------------------------------------ simulation and compare workbooks

def _simulation(tables):
    cov = tables["coverage"]
    rng = np.random.default_rng(3)
    sim = cov[["scenario", "slot_start", "slot_minutes", "plateau"]].copy()
    sim["calls_offered"] = cov["calls"].to_numpy()
    sim["answering_agents"] = np.round(cov["answering_agents"]).astype(int)
    sim["sl_sim_mean"] = np.clip(cov["service_level"] + rng.normal(0, 0.02, len(cov)), 0, 1)
    sim["sl_sim_lo95"], sim["sl_sim_hi95"] = sim["sl_sim_mean"] - 0.01, sim["sl_sim_mean"] + 0.01
    sim["asa_sim_s"], sim["abandon_sim"], sim["occupancy_sim"] = 10.0, 0.02, 0.8
    sim["sl_erlang"], sim["p_abandon_erlang"], sim["sl_target"] = cov["service_level"], np.nan, 0.8
    sim["within_2pp"] = (sim["sl_sim_mean"] - 0.8).abs() <= 0.02
    sim["meets_target_2pp"] = sim["sl_sim_mean"] >= 0.78
    rows = []
    for p, g in list(sim.groupby("plateau")) + [("all", sim)]:
        sl = (g["sl_sim_mean"] * g["calls_offered"]).sum() / g["calls_offered"].sum()
        rows.append({"scenario": "orange-2009", "plateau": p, "calls": g["calls_offered"].sum(), "sl_sim": sl,
                     "sl_sim_lo95": sl - 0.004, "sl_sim_hi95": sl + 0.005, "sl_erlang": 0.9, "abandon_sim": 0.02,
                     "asa_sim_s": 9.0, "share_slots_within_2pp": 0.5, "share_slots_meeting_target_2pp": 0.7})
    return sim, pd.DataFrame(rows)


def test_simulation_workbook(week1, tmp_path):
    tables = dict(week1[0])
    tables["simulation"], tables["simulation_summary"] = _simulation(tables)
    path = results.write_workbook(tmp_path / "plan.xlsx", tables, _manifest())
    wb = load_workbook(path)
    ws = wb["Summary"]
    head = _find(ws, "Plateau")
    cols = [ws.cell(head.row, j).value for j in range(1, 16)]
    assert cols[2:6] == ["Service level (Erlang)", "Service level simulated", "95 % CI low", "95 % CI high"]
    ss = tables["simulation_summary"].set_index("plateau")
    r = _find(ws, "internet").row
    assert ws.cell(r, 4).value == pytest.approx(ss.loc["internet", "sl_sim"])
    assert ws.cell(r, 5).value == pytest.approx(ss.loc["internet", "sl_sim_lo95"])
    assert ws.cell(r, 4).number_format == "0.0%"
    kpi = _find(ws, "Service level (simulated)")
    assert ws.cell(kpi.row + 1, kpi.column).value == pytest.approx(ss.loc["all", "sl_sim"])
    sheet = wb["simulation"]
    header = [c.value for c in sheet[1]]
    j = header.index("within_2pp") + 1
    assert {sheet.cell(i, j).data_type for i in range(2, 50)} == {"b"}
    assert sheet.cell(2, header.index("sl_sim_mean") + 1).number_format == "0.0%"
    summary = wb["simulation_summary"]
    h2 = [c.value for c in summary[1]]
    assert summary.cell(2, h2.index("share_slots_within_2pp") + 1).number_format == "0.0%"
    xml = _charts(path)
    sim_chart = [x for x in xml if "Erlang vs simulated" in x]
    assert len(sim_chart) == 1 and sim_chart[0].count("<c:ser>") == 5
    r0 = _find(ws, "fixed_line").row
    assert f"Summary!$E${r0}:$E${r0 + 2}" in sim_chart[0] and f"Summary!$G${r0}:$G${r0 + 2}" in sim_chart[0]
    daily = [x for x in _charts(results.write_workbook(tmp_path / "d.xlsx", tables, _manifest(), charts="day"))
             if "simulated service level" in x]
    assert len(daily) == 3
    got = results.load(path)
    assert got["simulation"]["within_2pp"].dtype == bool


def test_compare_workbook(tmp_path):
    reg = pd.DataFrame({"scenario": "orange-2009", "regime": ["R0", "R0", "R1", "R1"],
                        "offshore_cap": [0.0, 0.2, 0.0, 0.2], "calls": 1e6,
                        "cost_eur": [3.5e8, 3.4e8, 3.5e8, 3.4e8], "revenue_eur": [2.0e8, 2.0e8, 1.0e8, 1.0e8],
                        "net_cost_eur": [1.5e8, 1.4e8, 2.5e8, 2.4e8], "cost_eur_year": [3.54e8] * 4,
                        "revenue_eur_year": [2.0e8] * 4, "net_cost_eur_year": [1.54e8] * 4,
                        "cost_per_call_eur": 10.9, "net_cost_per_call_eur": 4.2, "service_level": 0.95,
                        "asa_s": 5.0, "offshore_share": [0.0, 0.19, 0.0, 0.2]})
    summ = pd.DataFrame({"scenario": "orange-2009", "metric": ["best_regime"], "value": [1.0], "unit": ["eur"]})
    path = results.write_workbook(tmp_path / "plan.xlsx", {"regimes": reg, "summary": summ},
                                  {"command": "compare", "scenario": "orange-2009"})
    wb = load_workbook(path)
    ws = wb["Summary"]
    head = _find(ws, "Regime x cap")
    labels = [ws.cell(head.row + 1 + i, 1).value for i in range(4)]
    assert labels == ["R0 · cap 0%", "R0 · cap 20%", "R1 · cap 0%", "R1 · cap 20%"]
    cost = ws.cell(head.row + 1, 3)
    assert cost.value == pytest.approx(3.54e8) and "€" in cost.number_format
    # wide enough for "354,000,000 €" (no ###)
    assert ws.column_dimensions[cost.column_letter].width >= len("354,000,000 €")
    xml = [x for x in _charts(path) if "by regime and offshore cap" in x]
    assert len(xml) == 1 and len(re.findall(r"<c:ser>", xml[0])) == 3
    assert f"Summary!$A${head.row + 1}:$A${head.row + 4}" in xml[0]
    _check_chart(xml[0])
    sheet = wb["regimes"]
    j = [c.value for c in sheet[1]].index("offshore_share") + 1
    assert sheet.cell(2, j).number_format == "0.0%"


# ------------------------------------------------------------------ text stays text

def test_user_text_is_never_a_formula(tmp_path):
    tables = make_tables(weeks=1, n_plateaux=2, n_providers=3, scenario="=HYPERLINK(\"x\")")
    for name in ("coverage", "requirements", "allocation"):
        tables[name]["plateau"] = tables[name]["plateau"].map({"internet": "=1+1", "fixed_line": "@cmd"})
    tables["providers"]["provider"] = ["+sum", "-2", "=A1"]
    path = results.write_workbook(tmp_path / "plan.xlsx", tables, {"scenario": "=HYPERLINK(\"x\")"})
    z = zipfile.ZipFile(path)
    for n in z.namelist():
        if n.startswith("xl/worksheets/"):
            assert "<f>" not in z.read(n).decode(), n
    wb = load_workbook(path)
    assert wb["Summary"]["A1"].value == 'Staffing plan: =HYPERLINK("x")'
    assert _find(wb["Summary"], "=1+1").data_type == "s"
    got = results.load(path)
    assert set(got["coverage"]["plateau"]) == {"=1+1", "@cmd"}
    assert got["providers"]["provider"].tolist() == ["+sum", "-2", "=A1"]


# ------------------------------------------------------------------ LibreOffice

def _soffice(args, tmp_path):
    if SOFFICE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is missing in CI; .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice not installed")
    profile = (tmp_path / "profile").as_uri()
    return subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("weeks", [1, 4])
def test_libreoffice_opens_without_repair_and_keeps_values(weeks, week1, week4, tmp_path):
    tables, path = week1 if weeks == 1 else week4
    out = tmp_path / "lo"
    res = _soffice(["--convert-to", "xlsx", "--outdir", str(out), str(path)], tmp_path)
    converted = out / path.name
    assert res.returncode == 0 and converted.exists(), res.stdout + res.stderr
    got = results.load(converted)
    for name, df in _norm(tables).items():
        pd.testing.assert_frame_equal(got[name], df, obj=f"libreoffice:{name}", check_exact=False, rtol=1e-14, atol=0)
    wb = load_workbook(converted, read_only=True)
    assert [s for s in wb.sheetnames if s != "manifest"][:4] == ["Summary", "charts", "staffing", "daily"]
    wb.close()
    xml = _charts(converted)
    assert len(xml) == len(_charts(path)) and all(re.search(r"<c:title>", x) for x in xml)


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


@pytest.mark.parametrize("weeks", [1, 4])
def test_libreoffice_pdf_summary_one_page_wide(weeks, week1, week4, tmp_path):
    if shutil.which("pdftotext") is None and SOFFICE is not None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing in CI; .ci/run installs poppler-utils")
        pytest.skip("pdftotext (poppler-utils) not installed")
    tables, path = week1 if weeks == 1 else week4
    res = _soffice(["--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], tmp_path)
    pdf = tmp_path / (path.stem + ".pdf")
    assert res.returncode == 0 and pdf.exists(), res.stdout + res.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    w, h = (float(x) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert w > h  # landscape
    pages = _pdf_pages(pdf)
    summary = [p for p in pages if p.rstrip().splitlines()[-1].split()[0] == "Summary"]
    # one page wide: the leftmost and rightmost columns of each table print on the same page
    first = summary[0]
    for left, right in (("Plateau", "Surplus"), ("Provider kind", "Cap"), ("Date", "Surplus")):
        line = next(x for x in first.splitlines() if x.strip().startswith(left))
        assert right in line, (left, right, line)
    assert len(summary) == (1 if weeks == 1 else 2)
    charts = [p for p in pages if p.rstrip().splitlines()[-1].split()[0] == "charts"]
    assert 1 <= len(charts) <= 4
    # the whole 1-week workbook prints in a couple of hundred pages, not thousands
    assert len(pages) < 250 * weeks


# ------------------------------------------------------------------ a real plan, and older runs

def test_default_scenario_week_summary_agrees_with_the_optimiser(tmp_path):
    """The dashboard's aggregates, computed from the tidy tables, equal the optimiser's own summary."""
    from staffing.cli import main

    out = tmp_path / "run"
    assert main(["optimise", "--weeks", "1", "--out", str(out)]) == 0
    metric = results.load(out)["summary"].set_index("metric")["value"]
    ws = load_workbook(out / "plan.xlsx")["Summary"]
    head = _find(ws, "Plateau")
    cols = {ws.cell(head.row, j).value.replace("\n", " "): j for j in range(1, 16) if ws.cell(head.row, j).value}
    plateaux = ["expert", "fixed", "internet", "iptv", "pro"]
    for i, p in enumerate(plateaux + ["All plateaux"]):
        r = head.row + 1 + i
        assert ws.cell(r, 1).value == p
        sl = metric[f"service_level[{p}]"] if p in plateaux else metric["service_level"]
        assert ws.cell(r, cols["Service level"]).value == pytest.approx(sl, rel=1e-12)
        if p in plateaux:
            assert ws.cell(r, cols["ASA (s)"]).value == pytest.approx(metric[f"asa_s[{p}]"], rel=1e-12)
            assert ws.cell(r, cols["Occupancy cap"]).value == 0.88
    assert ws.cell(head.row + 6, cols["Required agent-hours"]).value == pytest.approx(metric["required_agent_hours"])
    for label, key in (("Total cost", "staffing_cost"), ("Cost per call", "cost_per_call"),
                       ("In-house headcount (advisers)", "inhouse_headcount"),
                       ("Offshore share (cap 20%)", "offshore_share")):
        c = _find(ws, label)
        assert ws.cell(c.row + 1, c.column).value == pytest.approx(metric[key]), label
    m = results.load_manifest(out)
    assert m["timezone"] == "Europe/Paris" and m["charts"] == "slot"
    assert m["targets"]["expert"] == {"sl_target": 0.8, "answer_s": 120.0, "max_occupancy": 0.88,
                                         "patience_s": 180.0}
    xml = _charts(out / "plan.xlsx")
    assert sum("<c:scatterChart>" in x for x in xml) == 5
    for x in xml:
        _check_chart(x)


def test_runs_written_before_the_logged_and_answering_names_read_under_them(tmp_path):
    tables = make_tables(weeks=1, n_plateaux=1, n_providers=2)
    old = {"allocation": tables["allocation"].rename(columns={"logged_agents": "agents"}),
           "coverage": tables["coverage"].rename(columns={"answering_agents": "staffed_agents"}),
           "providers": tables["providers"].rename(columns={"logged_hours": "staffed_hours",
                                                            "answering_share": "share"})}
    for name, df in old.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    got = results.load(tmp_path)
    assert "logged_agents" in got["allocation"] and "agents" not in got["allocation"]
    assert got["coverage"]["answering_agents"].tolist() == pytest.approx(tables["coverage"]["answering_agents"].tolist())
    assert {"logged_hours", "answering_share"} <= set(got["providers"].columns)


def test_columns_wide_enough_for_their_largest_value(tmp_path):
    """No ### in a data sheet: each column is wider than its largest value as formatted."""
    df = pd.DataFrame({"scenario": "s", "regime": ["R0", "R1"], "cost_eur_year": [3.54036617e8, 1.2e10],
                       "cost_per_call_eur": [10.9, 123456.78], "calls": [3.3e7, 1.0]})
    path = results.write_workbook(tmp_path / "plan.xlsx", {"regimes": df}, {})
    ws = load_workbook(path)["regimes"]
    for col, shown in (("C", "12,000,000,000 €"), ("D", "123,456.78 €"), ("E", "33,000,000")):
        assert ws.column_dimensions[col].width >= len(shown) + 1, col


def test_export_charts_option(tmp_path):
    from staffing.cli import main

    run = results.write_run(tmp_path / "run", make_tables(weeks=1, n_plateaux=2, n_providers=3), _manifest(),
                            formats=("csv",))
    assert main(["export", str(run), "--format", "xlsx", "--out", str(tmp_path / "day"), "--charts", "day"]) == 0
    xml = _charts(tmp_path / "day" / "plan.xlsx")
    assert sum("agent-hours and service level per day" in x for x in xml) == 2
    assert not any("<c:scatterChart>" in x for x in xml)
    assert main(["export", str(run), "--format", "xlsx", "--out", str(tmp_path / "slot")]) == 0
    assert sum("<c:scatterChart>" in x for x in _charts(tmp_path / "slot" / "plan.xlsx")) == 2
    assert main(["export", str(run), "--format", "xlsx", "--out", str(tmp_path / "bad"), "--charts", "hour"]) == 2


def test_data_rows_serialised_in_blocks_of_cells_are_the_same_sheets(week1, tmp_path, monkeypatch):
    """Data rows go into the file a block of cells at a time (a wide sheet: fewer rows per
    block); every worksheet's XML is the same whatever the block's size."""
    tables = week1[0]
    sheets = {}
    for cells in (7, 10 ** 9):
        monkeypatch.setattr(results.workbook.Rows, "CHUNK_CELLS", cells)
        path = results.write_workbook(tmp_path / f"p{cells}.xlsx", tables, _manifest())
        with zipfile.ZipFile(path) as z:
            sheets[cells] = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}
    assert sheets[7] == sheets[10 ** 9] and len(sheets[7]) >= 10


def test_missing_and_infinite_values_are_empty_and_num_error_cells(tmp_path):
    """Numbers, dates and times as numbers; a missing value is no cell, an infinite one
    #NUM! (an unstable queue's ASA), in every kind of numeric column and at any row."""
    df = pd.DataFrame({
        "asa_s": [1.5, np.inf, np.nan, -np.inf, 2.0],
        "calls": pd.array([3, None, 5, 6, 7], dtype="Int64"),
        "slot_start": pd.to_datetime(["2009-03-02 08:00", None, "2009-03-02 09:00",
                                      "2009-03-02 09:30", "2009-03-02 10:00"]),
        "agents": [1.0, 2.0, 3.0, 4.0, np.nan]})
    path = results.write_workbook(tmp_path / "plan.xlsx", {"odd": df}, {})
    ws = load_workbook(path)["odd"]
    head = [c.value for c in ws[1]]
    got = {h: [ws.cell(r, j + 1).value for r in range(2, 7)] for j, h in enumerate(head)}
    assert got["asa_s"] == [1.5, "#NUM!", None, "#NUM!", 2.0]
    assert got["calls"] == [3, None, 5, 6, 7]
    assert got["slot_start"][1] is None and got["slot_start"][0] == dt.datetime(2009, 3, 2, 8)
    assert got["slot_start"][4] == dt.datetime(2009, 3, 2, 10)
    assert got["agents"] == [1.0, 2.0, 3.0, 4.0, None]
    with zipfile.ZipFile(path) as z:
        xml = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")
                   and b"#NUM!" in z.read(n))
    assert xml.count('t="e"><v>#NUM!</v>') == 2 and '<c r="A4"' not in xml


def test_data_rows_xml_of_every_kind_of_cell():
    """The rows' SpreadsheetML, written out: every cell named by its reference, a missing value
    no cell at all (text, integers with a gap, numbers, dates), infinity #NUM!, text escaped,
    a mixed column each value as what it is, the style on every cell of its column."""
    from staffing.results import workbook as wb
    from staffing.results.tables import column_kinds

    df = pd.DataFrame({"t": ["a", None, "x<y"], "b": [True, False, True],
                       "n": pd.array([1, None, 3], dtype="Int64"), "f": [0.5, np.inf, np.nan],
                       "d": pd.to_datetime(["2009-03-02 08:00", None, "2009-03-02 09:30"]),
                       "m": [1, "z", None], "i": [4, 5, 6]})
    kinds = column_kinds("odd", df)
    numbers = ["2", "3", "4"]
    cols = [wb._cell_pieces(df[c], kinds[c], letter, 7 if c == "f" else None, numbers, {})
            for c, letter in zip(df.columns, "ABCDEFG")]
    assert wb._rows_xml(numbers, cols) == (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2" t="b"><v>1</v></c>'
        '<c r="C2"><v>1.0</v></c><c r="D2" s="7"><v>0.5</v></c>'
        '<c r="E2"><v>39874.333333333336</v></c><c r="F2" t="inlineStr"><is><t>1</t></is></c>'
        '<c r="G2"><v>4</v></c></row>'
        '<row r="3"><c r="B3" t="b"><v>0</v></c><c r="D3" s="7" t="e"><v>#NUM!</v></c>'
        '<c r="F3" t="inlineStr"><is><t>z</t></is></c><c r="G3"><v>5</v></c></row>'
        '<row r="4"><c r="A4" t="inlineStr"><is><t>x&lt;y</t></is></c><c r="B4" t="b"><v>1</v></c>'
        '<c r="C4"><v>3.0</v></c><c r="E4"><v>39874.395833333336</v></c><c r="G4"><v>6</v></c>'
        '</row>')


@pytest.mark.parametrize("values", [[0.25] * 10 + [-0.0, 0.0], [0.1 * k for k in range(12)],
                                    [1 / 3] * 6 + [2 / 3] * 5 + [np.nan]])
def test_repeated_numbers_are_each_values_own_text(values, tmp_path):
    """A column of repeated values writes each distinct one's text once; every cell is still
    its own value's shortest exact text (-0.0 stays -0.0 beside 0.0)."""
    df = pd.DataFrame({"agents": values})
    path = results.write_workbook(tmp_path / "plan.xlsx", {"odd": df}, {})
    with zipfile.ZipFile(path) as z:
        xml = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")
                   and b'<c r="A12"' in z.read(n))  # the data sheet: 12 rows below its header
    got = dict(re.findall(r'<c r="A(\d+)"[^>]*><v>([^<]*)</v></c>', xml))
    del got["1"]  # (the header: a shared string)
    want = {str(i + 2): repr(float(v)) for i, v in enumerate(values) if v == v}
    assert got == want
