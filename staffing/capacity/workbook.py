"""The capacity plan's run folder: tables through staffing.results.write_run, then the plan's
own charts on plan.xlsx's `charts` sheet (headcount per team, hires per month, the
in-house / outsourced / offshore mix), all before the folder is renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .. import results
from ..errors import InputError

DATA_COLUMN = 30  # chart data start in column AD of the charts sheet, beside the charts
CHARTS_SHEET = getattr(results, "CHARTS_SHEET", "charts")
WORKBOOK_NAME = getattr(results, "WORKBOOK_NAME", "plan.xlsx")


def chart_data(tables: dict) -> dict[str, pd.DataFrame]:
    """Wide frames the charts draw: headcount by week x team, hires by month x team, answering
    hours by week x kind."""
    cap = tables["capacity"]
    teams = cap[cap["kind"] == "inhouse"]
    head = teams.pivot(index="week_start", columns="provider", values="headcount")
    month = teams.assign(month=teams["week_start"].dt.to_period("M").dt.start_time)
    hires = month.pivot_table(index="month", columns="provider", values="hires", aggfunc="sum")
    mix = cap.pivot_table(index="week_start", columns="kind", values="answering_hours", aggfunc="sum")
    mix = mix.reindex(columns=["inhouse", "subcontractor", "offshore"], fill_value=0.0).fillna(0.0)
    order = list(dict.fromkeys(teams["provider"]))
    return {"headcount": head[order], "hires": hires[order], "mix": mix}


def _block(ws, frame: pd.DataFrame, col: int, label: str, date_format: str):
    """Write a frame at (row 1, col): header row, then one row per index value."""
    ws.cell(row=1, column=col, value=label)
    for j, name in enumerate(frame.columns, start=1):
        ws.cell(row=1, column=col + j, value=str(name))
    for i, (idx, row) in enumerate(frame.iterrows(), start=2):
        c = ws.cell(row=i, column=col, value=pd.Timestamp(idx).to_pydatetime())
        c.number_format = date_format
        for j, v in enumerate(row.to_numpy(), start=1):
            ws.cell(row=i, column=col + j, value=float(v))
    return col + len(frame.columns) + 2


def _chart(kind, ws, frame, col, title, y_title, anchor, grouping=None):
    from openpyxl.chart import AreaChart, BarChart, LineChart, Reference

    chart = {"line": LineChart, "bar": BarChart, "area": AreaChart}[kind]()
    if kind == "bar":
        chart.type = "col"
    if grouping:
        chart.grouping = grouping
        if kind == "bar":
            chart.overlap = 100
    chart.title, chart.y_axis.title = title, y_title
    n = len(frame)
    chart.add_data(Reference(ws, min_col=col + 1, max_col=col + len(frame.columns), min_row=1,
                             max_row=n + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=col, min_row=2, max_row=n + 1))
    chart.height, chart.width = 8, 24
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    ws.add_chart(chart, anchor)


def add_charts(path: Path, tables: dict) -> None:
    """Put the plan's chart data and three native charts on plan.xlsx's `charts` sheet."""
    from openpyxl import load_workbook

    data = chart_data(tables)
    wb = load_workbook(path)
    ws = wb[CHARTS_SHEET]
    col = DATA_COLUMN
    cols = {}
    for name, fmt in (("headcount", "yyyy-mm-dd"), ("hires", "mmm yyyy"), ("mix", "yyyy-mm-dd")):
        cols[name] = col
        col = _block(ws, data[name], col, "week_start" if name != "hires" else "month", fmt)
    _chart("line", ws, data["headcount"], cols["headcount"],
           "In-house headcount per team (expected advisers, after training)", "advisers", "A1")
    _chart("bar", ws, data["hires"], cols["hires"], "Hires per month per team (advisers)",
           "advisers", "A18", grouping="stacked")
    _chart("area", ws, data["mix"], cols["mix"],
           "Answering hours per week: in-house, subcontracted, offshore (stacked)", "hours", "A35",
           grouping="stacked")
    tmp = path.with_name(f".{path.name}.charts")
    wb.save(tmp)
    os.replace(tmp, path)


def write(run_dir: Path, tables: dict, manifest: dict, *, force: bool, forbidden_dirs) -> Path:
    """The whole run folder, built beside run_dir and renamed into place in one step."""
    run_dir = Path(run_dir).absolute()
    for d in forbidden_dirs or ():
        d = Path(d).resolve()
        if d == run_dir.resolve() or d in run_dir.resolve().parents:
            raise InputError(f"refusing to write outputs inside the inputs folder {d}",
                             file=str(run_dir))
    if run_dir.exists() and not force:
        raise InputError("run folder exists; use --force to replace it", file=str(run_dir))
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    box = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.stage-", dir=run_dir.parent))
    try:
        stage = results.write_run(box / "run", tables, manifest, forbidden_dirs=forbidden_dirs)
        if (stage / WORKBOOK_NAME).exists():
            add_charts(stage / WORKBOOK_NAME, tables)
        if run_dir.exists():
            os.rename(run_dir, box / "old")
        os.rename(stage, run_dir)
    finally:
        shutil.rmtree(box, ignore_errors=True)
    return run_dir
