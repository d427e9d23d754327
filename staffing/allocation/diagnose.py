"""Diagnosis of a short plan: per plateau and day, the missing agent-hours, the limits that
bind and the extra in-house advisers or subcontractor seats that would close the gap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

COLUMNS = ["date", "plateau", "slot_start", "required_agents", "staffed_agents",
           "missing_agents", "short_slots", "missing_agent_hours", "binding", "extra_advisers",
           "extra_seats", "problem"]


def shortfall(scenario, opts, req: pd.DataFrame, cov: pd.DataFrame) -> tuple:
    """(required agent-hours, short agent-hours, shortfall share, daily SL misses); in day
    scope the share also counts the calls' SL points below each missed daily target."""
    slot_h = scenario.slot_minutes / 60.0
    hard = cov["floor_agents" if opts.sl_scope == "day" else "required_agents"].to_numpy(float)
    req_hours = float((hard * slot_h).sum())
    short_hours = float((cov["shortfall_agents"] * slot_h).sum())
    share = short_hours / req_hours if req_hours > 0 else 0.0
    miss = pd.DataFrame()
    if opts.sl_scope == "day":
        w = cov.assign(date=req["date"].to_numpy(), ok=cov["calls"] * cov["service_level"])
        day = w.groupby(["plateau", "date"]).agg(calls=("calls", "sum"), ok=("ok", "sum"))
        day["sl"] = day["ok"] / day["calls"].where(day["calls"] > 0)
        day["target"] = day.index.get_level_values("plateau").map(
            scenario.targets["sl_target"]).to_numpy(float)
        miss = day[day["sl"] < day["target"] - 1e-6]
        share += float(((miss["target"] - miss["sl"]) * miss["calls"]).sum()
                       / max(float(cov["calls"].sum()), 1e-9))
    return req_hours, short_hours, share, miss


def diagnostics(scenario, opts, req, cov, alloc, headcount: dict, miss) -> pd.DataFrame:
    """One row per plateau-day with shortfall (or, day scope, a missed daily SL), most missing
    agent-hours first: its worst slot, the binding limits and what would close it."""
    hard = cov["floor_agents" if opts.sl_scope == "day" else "required_agents"]
    short = cov.assign(date=req["date"].to_numpy(), hard=hard.to_numpy(float))
    short = short[short["shortfall_agents"] > 0]
    used = alloc.groupby(["provider", "slot_start"])["agents"].sum()
    rows = [_day_row(scenario, opts, g, used, alloc, headcount)
            for _, g in short.groupby(["plateau", "date"], sort=False)]
    diag = pd.DataFrame(rows, columns=COLUMNS)
    for (p, d), r in miss.iterrows():
        text = f"daily SL {r['sl']:.3f} below target {r['target']:.3f}"
        hit = (diag["plateau"] == p) & (diag["date"] == d)
        if hit.any():
            diag.loc[hit, "problem"] = text + "; " + diag.loc[hit, "problem"]
        else:
            diag.loc[len(diag)] = dict.fromkeys(COLUMNS, np.nan) | {
                "date": d, "plateau": p, "slot_start": cov.loc[req["date"] == d, "slot_start"].min(),
                "short_slots": 0, "missing_agent_hours": 0.0, "binding": "", "problem": text}
    diag = diag.sort_values(["missing_agent_hours", "missing_agents"], ascending=False,
                            kind="stable")
    return diag.reset_index(drop=True)


def _day_row(scenario, opts, g: pd.DataFrame, used, alloc, headcount: dict) -> dict:
    prov = scenario.providers
    p, d = g["plateau"].iloc[0], g["date"].iloc[0]
    worst = g.loc[g["shortfall_agents"].idxmax()]
    serving = prov[prov["plateaux"].map(lambda ps: p in ps)]
    binding = _binding(scenario, opts, p, g, serving, used, alloc, headcount)
    eff = (1.0 - prov["shrinkage"]) / prov["aht_factor"]
    gap = float(worst["shortfall_agents"])
    extra = {}
    for kind in ("inhouse", "outsourced"):
        pick = serving[(serving["kind"] == "inhouse") == (kind == "inhouse")]
        if len(pick):
            k = (pick["cost_eur_per_hour"] / eff[pick.index]).idxmin()
            extra[kind] = (k, math.ceil(gap / eff[k] - 1e-9))
    close = " or ".join(f"+{n} {'advisers' if kind == 'inhouse' else 'seats'} {k}"
                        for kind, (k, n) in extra.items())
    return {"date": d, "plateau": p, "slot_start": worst["slot_start"],
            "required_agents": worst["required_agents"], "staffed_agents": worst["staffed_agents"],
            "missing_agents": gap, "short_slots": len(g),
            "missing_agent_hours": float((g["shortfall_agents"] * g["slot_minutes"] / 60).sum()),
            "binding": ", ".join(binding),
            "extra_advisers": float(extra["inhouse"][1]) if "inhouse" in extra else np.nan,
            "extra_seats": float(extra["outsourced"][1]) if "outsourced" in extra else np.nan,
            "problem": "answering agents below " + ("the day-scope floor" if opts.sl_scope == "day"
                                           else "the requirement")
            + (f"; at least {close} at the worst slot would close it" if close else
               "; no provider serves this plateau")}


def _binding(scenario, opts, p, g, serving, used, alloc, headcount) -> list:
    """The limits that hold the plateau-day's short slots: headcount (at its upper bound),
    seats (full in a short slot), weekly hours (used up), offshore cap (reached), skills
    (another provider had idle seats in a short slot but does not serve p)."""
    prov = scenario.providers
    out = []
    for k, pv in serving.iterrows():
        if pv["kind"] == "inhouse":
            hi = pv["headcount_max"] if opts.headcount == "optimise" else pv["headcount"]
            if headcount.get(k, 0.0) >= float(hi) - 1e-9:
                out.append(f"headcount {k}")
            continue
        at = used.get(k)
        load = (at.reindex(g["slot_start"]).fillna(0.0).to_numpy() if at is not None
                else np.zeros(len(g)))
        if pd.notna(pv["seats"]) and (load >= float(pv["seats"]) - 1e-6).any():
            out.append(f"seats {k}")
        if pd.notna(pv["max_weekly_hours"]):
            week = alloc.loc[alloc["provider"] == k, "agents"].sum() * scenario.slot_minutes / 60
            if week >= float(pv["max_weekly_hours"]) * opts.weeks - scenario.slot_minutes / 60:
                out.append(f"weekly hours {k}")
        if pv["kind"] == "offshore" and _offshore_share(scenario, alloc) >= opts.offshore_cap - 1e-3:
            out.append("offshore cap")
    idle = []
    for k, pv in prov[~prov.index.isin(serving.index) & (prov["kind"] != "inhouse")].iterrows():
        at = used.get(k)
        load = (at.reindex(g["slot_start"]).fillna(0.0).to_numpy() if at is not None
                else np.zeros(len(g)))
        if pd.notna(pv["seats"]) and (load < float(pv["seats"]) - 1e-6).any():
            idle.append(k)
    if idle:
        out.append(f"skills ({', '.join(idle)} idle, not serving {p})")
    return list(dict.fromkeys(out))


def _offshore_share(scenario, alloc) -> float:
    """Offshore share of the plan's answering hours."""
    prov = scenario.providers
    ans = alloc["agents"] * (1 - alloc["provider"].map(prov["shrinkage"]))
    total = float(ans.sum())
    return float(ans[alloc["kind"] == "offshore"].sum()) / total if total > 0 else 0.0
