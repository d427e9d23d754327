"""The solved capacity model to tidy tables: capacity, capacity_requirement, capacity_summary.

Team rows are recomputed from the integer decisions (hires, transfers) and the attrition rate,
so the weekly identity headcount[w+1] = headcount[w] - leavers[w] + graduates[w] +
transfers_in[w] - transfers_out[w] holds in the table to the last bit of a float; costs are
recomputed from those rows. Headcount and leavers are expected values (float).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Model, graduates

CAPACITY_COLUMNS = ["scenario", "week_start", "provider", "kind", "headcount", "hires",
                    "in_training", "graduates", "leavers", "transfers_in", "transfers_out",
                    "productive_fte", "contracted_hours", "paid_hours", "answering_hours",
                    "cost_eur"]
INT_COLUMNS = ["hires", "in_training", "graduates", "transfers_in", "transfers_out"]
FLOAT_COLUMNS = ["headcount", "leavers"]  # expected values under the attrition rate


def _int(v) -> int:
    return 0 if v is None or isinstance(v, int) else int(round(v.varValue or 0.0))


def _val(v) -> float:
    return 0.0 if v.varValue is None else max(float(v.varValue), 0.0)


def team_rows(st, m: Model, W: int) -> list[dict]:
    """One row per team and week, rebuilt from the integer decisions."""
    rows = []
    for t in st.teams:
        k, T = t.id, t.training_weeks
        hires = [_int(m.y[k, w]) for w in range(W)]
        grads = [hires[w + 1 - T] if w + 1 - T >= 0 else 0 for w in range(W)]
        h = float(t.headcount)
        r = t.weekly_attrition
        for w in range(W):
            t_in = sum(_int(v) for (a, b, ww), v in m.X.items() if b == k and ww == w)
            t_out = sum(_int(v) for (a, b, ww), v in m.X.items() if a == k and ww == w)
            trainees = sum(hires[max(0, w - T + 1): w + 1])
            ramp = sum((1.0 - f) * (grads[w - j] if w - j >= 0 else 0)
                       for j, f in enumerate(t.ramp_up, start=1))
            paid = st.weekly_hours * (h + trainees)
            cost = (paid * t.cost_eur_per_hour + hires[w] * (t.training_cost_eur_per_hire
                                                              + t.hiring_cost_eur_per_hire)
                    + t_out * st.transfer_cost_eur)
            leavers = r * h  # expected leavers
            rows.append({"week": w, "provider": k, "kind": "inhouse", "headcount": h,
                         "hires": hires[w], "in_training": trainees, "graduates": grads[w],
                         "leavers": leavers, "transfers_in": t_in, "transfers_out": t_out,
                         "productive_fte": h - ramp, "contracted_hours": 0.0, "paid_hours": paid,
                         "answering_hours": (h - ramp) * st.weekly_hours * t.answer_per_hour,
                         "cost_eur": cost})
            h = h - leavers + grads[w] + t_in - t_out
    return rows


def outsourced_rows(st, m: Model, W: int) -> list[dict]:
    rows = []
    zero = {**dict.fromkeys(INT_COLUMNS, 0), **dict.fromkeys(FLOAT_COLUMNS, 0.0)}
    for c in st.contracts:
        for w in range(W):
            hours = _val(m.C[c.id, m.months[w]])
            rows.append({"week": w, "provider": c.id, "kind": "subcontractor", **zero,
                         "productive_fte": 0.0, "contracted_hours": hours, "paid_hours": hours,
                         "answering_hours": hours * c.answer_per_hour,
                         "cost_eur": hours * c.cost_eur_per_hour})
    for o in st.offshore:
        for w in range(W):
            hours = _val(m.Q[o.id, w])
            rows.append({"week": w, "provider": o.id, "kind": "offshore", **zero,
                         "productive_fte": 0.0, "contracted_hours": hours, "paid_hours": hours,
                         "answering_hours": hours * o.answer_per_hour,
                         "cost_eur": hours * o.cost_eur_per_hour})
    return rows


def capacity_table(scenario, st, m: Model, W: int) -> pd.DataFrame:
    """Per week and provider (teams, subcontractors, offshore sites), CAPACITY_COLUMNS."""
    out = pd.DataFrame(team_rows(st, m, W) + outsourced_rows(st, m, W))
    out["week_start"] = pd.to_datetime([st.week_starts[w] for w in out["week"]])
    out["scenario"] = scenario.name
    for c in INT_COLUMNS:
        out[c] = out[c].astype("int64")
    order = {p: i for i, p in enumerate(scenario.providers.index)}
    out = out.assign(_o=out["provider"].map(order)).sort_values(["week", "_o"], kind="stable")
    return out[CAPACITY_COLUMNS].reset_index(drop=True)


def requirement_table(scenario, weekly: pd.DataFrame, eta: pd.Series, m: Model, st) -> pd.DataFrame:
    """Per week and plateau: requirement, efficiency, hours planned, shortfall, revenue."""
    per_hour = {x.id: x.answer_per_hour for x in st.teams + st.contracts + st.offshore}
    teams = {t.id for t in st.teams}
    planned: dict = {}
    for (k, p, w), v in m.A.items():
        useful = per_hour[k] * (float(eta[p]) if k in teams else 1.0)
        planned[p, w] = planned.get((p, w), 0.0) + _val(v) * useful
    out = weekly.copy()
    out["efficiency"] = out["plateau"].map(eta).astype(float)
    keys = list(zip(out["plateau"], out["week"]))
    out["answering_hours_planned"] = [planned.get(key, 0.0) for key in keys]
    short = np.array([_val(m.S[key]) for key in keys])
    out["shortfall_hours"] = np.where(short > 1e-6, short, 0.0)
    out.insert(0, "scenario", scenario.name)
    return out[["scenario", "week_start", "plateau", "regime", "calls", "required_agent_hours",
                "efficiency", "answering_hours_planned",
                "shortfall_hours", "revenue_eur"]]


def _period_rows(cap: pd.DataFrame, req: pd.DataFrame, key: str) -> pd.DataFrame:
    c = cap.assign(period_start=cap["week_start"].dt.to_period(key).dt.start_time)
    r = req.assign(period_start=req["week_start"].dt.to_period(key).dt.start_time)
    g = c.groupby("period_start")
    kind_hours = c.pivot_table(index="period_start", columns="kind", values="answering_hours",
                               aggfunc="sum").reindex(columns=["inhouse", "subcontractor", "offshore"],
                                                      fill_value=0.0).fillna(0.0)
    total = kind_hours.sum(axis=1)
    teams = c[c["kind"] == "inhouse"]
    first_week = teams.groupby("period_start")["week_start"].transform("min")
    out = pd.DataFrame({
        "period": "month" if key == "M" else "year",
        "weeks": g["week_start"].nunique(),
        "calls": r.groupby("period_start")["calls"].sum(),
        "cost_eur": g["cost_eur"].sum(),
        "revenue_eur": r.groupby("period_start")["revenue_eur"].sum(),
        "hires": teams.groupby("period_start")["hires"].sum(),
        "leavers": teams.groupby("period_start")["leavers"].sum(),
        "inhouse_headcount": teams[teams["week_start"] == first_week].groupby("period_start")["headcount"].sum(),
        "required_agent_hours": r.groupby("period_start")["required_agent_hours"].sum(),
        "shortfall_hours": r.groupby("period_start")["shortfall_hours"].sum(),
        "inhouse_share": kind_hours["inhouse"] / total,
        "outsourced_share": kind_hours["subcontractor"] / total,
        "offshore_share": kind_hours["offshore"] / total,
    })
    out["net_cost_eur"] = out["cost_eur"] - out["revenue_eur"]
    return out.reset_index()


def summary_table(scenario, cap: pd.DataFrame, req: pd.DataFrame) -> pd.DataFrame:
    """Per calendar month, then per calendar year (of each week's Monday)."""
    out = pd.concat([_period_rows(cap, req, "M"), _period_rows(cap, req, "Y")], ignore_index=True)
    out.insert(0, "scenario", scenario.name)
    for c in ("weeks", "hires"):
        out[c] = out[c].fillna(0).astype("int64")
    return out[["scenario", "period", "period_start", "weeks", "calls", "cost_eur", "revenue_eur",
                "net_cost_eur", "hires", "leavers", "inhouse_headcount", "required_agent_hours",
                "shortfall_hours", "inhouse_share", "outsourced_share", "offshore_share"]]
