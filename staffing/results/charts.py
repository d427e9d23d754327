"""The workbook's native charts, each with a title, axis titles and at most ~60 categories.

Time step (`--charts`): `slot` plots required and answering agents per slot on a time axis with
a gridline at each day boundary, a chart per plateau and week; `day` and `week` plot required
and answering agent-hours per day or week as columns, with the call-weighted service level
(Erlang, and simulated after `simulate`) against its target on a second axis, a chart per
plateau and block of at most 56 days or 52 weeks. Then logged hours by provider kind
(stacked), cost by provider, Erlang against simulated service level per plateau, and for
`compare` cost, revenue and net cost per regime x offshore cap side by side. A capacity plan
(`staffing capacity`: a `capacity` table) gets its own three: expected in-house headcount per
team and week, hires per team and month (stacked), answering hours by provider kind per week
(stacked); their data are written as wide blocks from column AD of the charts sheet.
"""

from __future__ import annotations

import math

import pandas as pd

from .tables import _EXCEL_EPOCH
from .workbook import (DAILY_SHEET, EXCEL_MAX_ROWS, STAFFING_SHEET, SUMMARY_SHEET, WEEKLY_SHEET, Formats,
                       print_setup)

WIDTH, HEIGHT, ROWS_PER_CHART = 1000, 330, 18
MAX_DAYS, MAX_WEEKS = 56, 52
_COLOURS = {"required": "#C00000", "answering": "#2E75B6", "target": "#7F7F7F", "simulated": "#ED7D31",
            "inhouse": "#2E75B6", "subcontractor": "#70AD47", "offshore": "#ED7D31"}


class _Place:
    """Charts one under the other, two to a printed page."""

    def __init__(self, ws):
        self.ws, self.n = ws, 0

    def __call__(self, chart, title: str, legend: dict | None = None):
        chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
        chart.set_size({"width": WIDTH, "height": HEIGHT})
        chart.set_legend(legend or {"position": "bottom"})
        self.ws.insert_chart(self.n * ROWS_PER_CHART, 0, chart, {"x_offset": 4, "y_offset": 4})
        self.n += 1


def add_charts(wb, ws, fm: Formats, view, level: str, *, wide: pd.DataFrame, sheets: dict, tables: dict):
    """Every chart of the workbook on the charts sheet (see the module docstring)."""
    place = _Place(ws)
    if level == "slot" and len(wide) and len(wide) <= EXCEL_MAX_ROWS - 1:
        _slot_charts(wb, place, view, wide)
    elif view.daily_wide is not None and len(view.daily_wide):
        if level == "week" and view.weekly_wide is not None:
            _period_charts(wb, place, view, WEEKLY_SHEET, view.weekly_wide, "week", MAX_WEEKS)
        else:
            _period_charts(wb, place, view, DAILY_SHEET, view.daily_wide, "day", MAX_DAYS)
    _kind_chart(wb, place, view, level)
    _cost_chart(wb, place, tables, sheets)
    _sim_chart(wb, place, view)
    _regime_chart(wb, place, view)
    _capacity_charts(wb, ws, place, fm, tables)
    if place.n == 0:
        ws.write_string(0, 0, "No charts: the run has no per-slot or per-provider tables.")
    ws.set_h_pagebreaks([k * ROWS_PER_CHART for k in range(2, place.n, 2)])
    print_setup(ws, last_row=max(place.n * ROWS_PER_CHART, 1), last_col=WIDTH // 64, repeat_header=False)


def _serial(t) -> float:
    return (pd.Timestamp(t) - _EXCEL_EPOCH) / pd.Timedelta(days=1)


def _line(colour: str, dash: str | None = None, width: float = 1.5) -> dict:
    out = {"color": colour, "width": width}
    if dash:
        out["dash_type"] = dash
    return out


def _slot_charts(wb, place, view, wide: pd.DataFrame):
    """Per plateau and week: a series per day and measure, so closed hours leave a gap."""
    cols = list(wide.columns)
    x = cols.index("slot_start")
    t = pd.to_datetime(wide["slot_start"])
    first = t.min().normalize()
    day = (t.dt.normalize() - first).dt.days.to_numpy()
    for p in view.plateau_ids:
        for k in range(0, int(day.max()) + 1, 7):
            ch = wb.add_chart({"type": "scatter", "subtype": "straight"})
            n = 0
            for d in range(k, min(k + 7, int(day.max()) + 1)):
                rows = (day == d).nonzero()[0]
                if not len(rows):
                    continue
                r0, r1 = int(rows[0]) + 1, int(rows[-1]) + 1
                for label, colour in (("required", _COLOURS["required"]), ("answering", _COLOURS["answering"])):
                    c = cols.index(f"{p} {label} agents")
                    ch.add_series({"name": [STAFFING_SHEET, 0, c], "categories": [STAFFING_SHEET, r0, x, r1, x],
                                   "values": [STAFFING_SHEET, r0, c, r1, c], "marker": {"type": "none"},
                                   "line": _line(colour, "dash" if label == "required" else None)})
                    n += 1
            lo = first + pd.Timedelta(days=k)
            days = min(7, int(day.max()) + 1 - k)
            ch.set_x_axis({"name": "day (gridline at midnight)", "min": _serial(lo),
                           "max": _serial(lo + pd.Timedelta(days=days)), "major_unit": 1,
                           "num_format": "ddd dd/mm", "major_gridlines": {"visible": True,
                                                                          "line": {"color": "#BFBFBF"}}})
            ch.set_y_axis({"name": "agents per slot", "num_format": "#,##0", "min": 0})
            suffix = f", week {k // 7 + 1}" if view.days > 7 else ""
            place(ch, f"{p}: required vs answering agents per slot{suffix}",
                  {"position": "bottom", "delete_series": list(range(2, n))})


def _period_charts(wb, place, view, sheet: str, df: pd.DataFrame, unit: str, block: int):
    cols = list(df.columns)
    cat = cols.index("date" if unit == "day" else "from")
    n = len(df)
    for p in view.plateau_ids:
        for a in range(0, n, block):
            r0, r1 = a + 1, min(a + block, n)
            ch = wb.add_chart({"type": "column"})
            for label, colour in (("required", _COLOURS["required"]), ("answering", _COLOURS["answering"])):
                c = cols.index(f"{p} {label} agent-hours")
                ch.add_series({"name": [sheet, 0, c], "categories": [sheet, r0, cat, r1, cat],
                               "values": [sheet, r0, c, r1, c], "fill": {"color": colour}, "gap": 60})
            line = wb.add_chart({"type": "line"})
            for label, colour, dash in (("service level", _COLOURS["answering"], None),
                                        ("simulated service level", _COLOURS["simulated"], None),
                                        ("SL target", _COLOURS["target"], "dash")):
                name = f"{p} {label}"
                if name in cols:
                    c = cols.index(name)
                    line.add_series({"name": [sheet, 0, c], "categories": [sheet, r0, cat, r1, cat],
                                     "values": [sheet, r0, c, r1, c], "y2_axis": True,
                                     "line": _line(colour, dash, 2.0), "marker": {"type": "none"}})
            ch.combine(line)
            ch.set_x_axis({"name": unit + (" (first day)" if unit == "week" else ""), "text_axis": True,
                           "num_format": "ddd dd/mm" if unit == "day" else "dd/mm",
                           "num_font": {"rotation": -45, "size": 8}})
            ch.set_y_axis({"name": "agent-hours", "num_format": "#,##0", "min": 0})
            line.set_y2_axis({"name": "service level", "num_format": "0%", "max": 1})
            span = f" ({df.iloc[a][cols[cat]]:%d/%m}-{df.iloc[r1 - 1][cols[cat]]:%d/%m})" if n > block else ""
            place(ch, f"{p}: required vs answering agent-hours and service level per {unit}{span}")


def _kind_chart(wb, place, view, level: str):
    weekly = level == "week" and view.weekly_wide is not None
    df = view.weekly_wide if weekly else view.daily_wide
    if df is None or not len(df):
        return
    sheet, unit = (WEEKLY_SHEET, "week") if weekly else (DAILY_SHEET, "day")
    cols = list(df.columns)
    cat = cols.index("from" if weekly else "date")
    kinds = [c for c in cols if c.endswith(" logged hours")]
    if not kinds:
        return
    block = MAX_WEEKS if weekly else MAX_DAYS
    colours = {"In-house": _COLOURS["inhouse"], "Subcontractors": _COLOURS["subcontractor"],
               "Offshore": _COLOURS["offshore"]}
    for a in range(0, len(df), block):
        r0, r1 = a + 1, min(a + block, len(df))
        ch = wb.add_chart({"type": "column", "subtype": "stacked"})
        for name in kinds:
            c = cols.index(name)
            series = {"name": [sheet, 0, c], "categories": [sheet, r0, cat, r1, cat], "values": [sheet, r0, c, r1, c],
                      "gap": 50}
            colour = colours.get(name[: -len(" logged hours")])
            if colour:
                series["fill"] = {"color": colour}
            ch.add_series(series)
        ch.set_x_axis({"name": unit + (" (first day)" if weekly else ""), "text_axis": True,
                       "num_format": "ddd dd/mm" if not weekly else "dd/mm",
                       "num_font": {"rotation": -45, "size": 8}})
        ch.set_y_axis({"name": "logged hours", "num_format": "#,##0", "min": 0})
        place(ch, f"Logged hours by provider kind per {unit} (stacked)")


def _cost_chart(wb, place, tables, sheets):
    prov = tables.get("providers")
    if prov is None or not (0 < len(prov) <= 60) or not {"provider", "cost_eur"} <= set(prov.columns):
        return
    sheet, pc = sheets["providers"][0], list(prov.columns)
    ch = wb.add_chart({"type": "bar"})
    c, k = pc.index("cost_eur"), pc.index("provider")
    ch.add_series({"name": "cost", "categories": [sheet, 1, k, len(prov), k],
                   "values": [sheet, 1, c, len(prov), c], "fill": {"color": _COLOURS["answering"]}, "gap": 40,
                   "data_labels": {"value": True, "num_format": '#,##0 "€"', "font": {"size": 8}}})
    ch.set_x_axis({"name": "cost (EUR)", "num_format": "#,##0", "min": 0})  # a bar chart's value axis
    ch.set_y_axis({"name": "provider", "reverse": True, "crossing": "max", "num_font": {"size": 8}})
    place(ch, "Cost by provider over the horizon (EUR)", {"none": True})


def _sim_chart(wb, place, view):
    """Erlang and simulated service level per plateau (columns), the simulation's 95 % interval and
    the target as markers; data from the Summary's plateau table."""
    rows = view.plateau_rows
    ss = view.tables.get("simulation_summary")
    if not rows or ss is None or not len(ss):
        return
    r0, r1, cols = rows
    cats = [SUMMARY_SHEET, r0, 0, r1, 0]
    ch = wb.add_chart({"type": "column"})
    for key, name, colour in (("sl", "Erlang", _COLOURS["answering"]), ("sim", "simulated", _COLOURS["simulated"])):
        ch.add_series({"name": name, "categories": cats, "values": [SUMMARY_SHEET, r0, cols[key], r1, cols[key]],
                       "fill": {"color": colour}, "gap": 80})
    line = wb.add_chart({"type": "line"})
    for key, name, colour, size in (("lo", "simulated 95 % CI", "#7F3F00", 9), ("hi", None, "#7F3F00", 9),
                                    ("target", "SL target", "#000000", 16)):
        series = {"categories": cats, "values": [SUMMARY_SHEET, r0, cols[key], r1, cols[key]], "line": {"none": True},
                  "marker": {"type": "dash", "size": size, "fill": {"color": colour}, "border": {"color": colour}}}
        if name:
            series["name"] = name
        line.add_series(series)
    ch.combine(line)
    values = [float(v) for v in ss["sl_sim_lo95"].tolist() + ss["sl_sim"].tolist()
              + view.plateaux["service_level"].tolist() if v == v]
    targets = [view.target(p, "sl_target") for p in view.plateau_ids]
    lo = min(values + [t for t in targets if t is not None] + [1.0])
    ch.set_x_axis({"name": "plateau"})
    ch.set_y_axis({"name": "service level", "num_format": "0%", "max": 1,
                   "min": max(0.0, math.floor((lo - 0.05) * 20) / 20)})
    place(ch, "Service level per plateau: Erlang vs simulated (95 % interval), against the target",
          {"position": "bottom", "delete_series": [3]})


def _regime_chart(wb, place, view):
    rows = getattr(view, "regime_rows", None)
    if not rows:
        return
    r0, r1 = rows
    yearly = view.regimes_yearly
    ch = wb.add_chart({"type": "column"})
    for c, name, colour in ((2, "staffing cost", _COLOURS["answering"]), (3, "hotline revenue", "#70AD47"),
                            (4, "net cost", _COLOURS["required"])):
        ch.add_series({"name": name, "categories": [SUMMARY_SHEET, r0, 0, r1, 0],
                       "values": [SUMMARY_SHEET, r0, c, r1, c], "fill": {"color": colour}, "gap": 80})
    ch.set_x_axis({"name": "pricing regime x offshore cap", "num_font": {"size": 8}})
    ch.set_y_axis({"name": "EUR per year" if yearly else "EUR over the horizon", "num_format": '#,##0,,"M"'})
    place(ch, "Cost, hotline revenue and net cost by regime and offshore cap"
          + (" (per year, EUR millions)" if yearly else " (EUR millions)"))


CAPACITY_DATA_COLUMN = 29  # 0-based: column AD, right of the charts


def capacity_chart_data(tables: dict) -> dict[str, pd.DataFrame]:
    """Wide frames the capacity charts draw, from the `capacity` table: headcount by
    week_start x team (advisers), hires by month x team (advisers), answering hours by
    week_start x provider kind (hours). Empty dict without a capacity table."""
    cap = tables.get("capacity")
    if cap is None or not len(cap):
        return {}
    teams = cap[cap["kind"] == "inhouse"]
    order = list(dict.fromkeys(teams["provider"]))
    head = teams.pivot(index="week_start", columns="provider", values="headcount")
    month = teams.assign(month=pd.to_datetime(teams["week_start"]).dt.to_period("M").dt.start_time)
    hires = month.pivot_table(index="month", columns="provider", values="hires", aggfunc="sum")
    mix = cap.pivot_table(index="week_start", columns="kind", values="answering_hours", aggfunc="sum")
    mix = mix.reindex(columns=["inhouse", "subcontractor", "offshore"], fill_value=0.0).fillna(0.0)
    return {"headcount": head[order], "hires": hires.reindex(columns=order).fillna(0.0), "mix": mix}


def _capacity_block(ws, fm: Formats, frame: pd.DataFrame, col: int, label: str, num: str) -> int:
    """frame at (row 0, col): a header row (label, then the columns), one row per index value."""
    ws.write_string(0, col, label, fm.get(None, "bold"))
    date_fmt = fm.get(num)
    for j, name in enumerate(frame.columns, start=1):
        ws.write_string(0, col + j, str(name), fm.get(None, "bold"))
    for i, (idx, row) in enumerate(zip(frame.index, frame.to_numpy(float)), start=1):
        ws.write_datetime(i, col, pd.Timestamp(idx).to_pydatetime(), date_fmt)
        for j, v in enumerate(row, start=1):
            ws.write_number(i, col + j, float(v))
    ws.set_column(col, col, 11)
    return col + len(frame.columns) + 2


def _capacity_charts(wb, ws, place, fm: Formats, tables: dict):
    data = capacity_chart_data(tables)
    if not data:
        return
    sheet, col, cols = ws.get_name(), CAPACITY_DATA_COLUMN, {}
    for name, label, num in (("headcount", "week_start", "yyyy-mm-dd"), ("hires", "month", "mmm yyyy"),
                             ("mix", "week_start", "yyyy-mm-dd")):
        cols[name] = col
        col = _capacity_block(ws, fm, data[name], col, label, num)
    colours = {"inhouse": _COLOURS["inhouse"], "subcontractor": _COLOURS["subcontractor"],
               "offshore": _COLOURS["offshore"]}
    for name, kind, title, unit, x_name in (
            ("headcount", {"type": "line"}, "In-house headcount per team (expected advisers, after training)",
             "advisers", "week"),
            ("hires", {"type": "column", "subtype": "stacked"}, "Hires per month per team (advisers)",
             "advisers", "month"),
            ("mix", {"type": "area", "subtype": "stacked"},
             "Answering hours per week: in-house, subcontracted, offshore (stacked)", "hours", "week")):
        frame, c0 = data[name], cols[name]
        ch = wb.add_chart(kind)
        n = len(frame)
        for j, series_name in enumerate(frame.columns, start=1):
            series = {"name": [sheet, 0, c0 + j], "categories": [sheet, 1, c0, n, c0],
                      "values": [sheet, 1, c0 + j, n, c0 + j]}
            if name == "mix":
                series["fill"] = {"color": colours.get(series_name, "#A5A5A5")}
            elif name == "hires":
                series["gap"] = 50
            ch.add_series(series)
        ch.set_x_axis({"name": x_name, "date_axis": True,
                       "num_format": "mmm yy" if name == "hires" else "dd/mm/yy",
                       "num_font": {"rotation": -45, "size": 8}})
        ch.set_y_axis({"name": unit, "num_format": "#,##0", "min": 0})
        place(ch, title)
