"""Synthetic run tables that follow the run-folder contract (for outputs tests and bench/)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PROVIDERS = [("montigny", "in_house", "Montigny-le-Bretonneux", 55.0),
             ("webhelp", "subcontractor", "Webhelp Caen", 26.5),
             ("rabat", "offshore", "Rabat", 14.0),
             ("teleperformance", "subcontractor", "Teleperformance Lyon", 27.0),
             ("lille", "in_house", "Lille", 52.0),
             ("tunis", "offshore", "Tunis", 13.5),
             ("bordeaux", "in_house", "Bordeaux", 54.0),
             ("nantes", "subcontractor", "Nantes", 25.0),
             ("dakar", "offshore", "Dakar", 10.0)]
PLATEAUX = [("internet", 510.0, 1.0), ("fixed_line", 360.0, 0.5), ("iptv", 450.0, 0.15),
            ("pro", 600.0, 0.1), ("expert", 900.0, 0.05)]
DAY_WEIGHTS = [1.30, 1.10, 1.00, 1.00, 1.00, 0.85, 0.65]


def slots(weeks: int, start=dt.date(2009, 1, 5)) -> pd.DatetimeIndex:
    """30-min slots 8:00-22:00, 7 days a week."""
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    offsets = pd.to_timedelta(np.arange(8 * 60, 22 * 60, 30), unit="min")
    return pd.DatetimeIndex([d + o for d in days for o in offsets])


def make_tables(weeks: int = 1, n_plateaux: int = 2, n_providers: int = 3, seed: int = 7,
                scenario: str = "orange-2009", with_regimes: bool = True) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = slots(weeks)
    hour = t.hour + t.minute / 60
    intraday = (0.6 + np.exp(-((hour - 10.5) / 1.2) ** 2) + 0.8 * np.exp(-((hour - 19) / 1.5) ** 2))
    dayw = np.array(DAY_WEIGHTS)[t.day_of_week]
    plateaux = PLATEAUX[:n_plateaux]
    providers = PROVIDERS[:n_providers]
    sl_target = 0.8

    req, alloc, cov = [], [], []
    for p, aht, scale in plateaux:
        calls = np.round(900 * scale * intraday * dayw * rng.uniform(0.9, 1.1, len(t)), 1)
        load = calls * aht / 1800
        agents = np.ceil(load + 1.5 * np.sqrt(load) + 1).astype("int64")
        sched = np.ceil(agents / 0.7).astype("int64")
        req.append(pd.DataFrame({
            "scenario": scenario, "slot_start": t, "slot_minutes": 30, "plateau": p, "calls": calls,
            "aht_s": aht, "load_erlangs": load, "agents": agents, "scheduled": sched,
            "service_level": np.clip(0.8 + rng.uniform(0, 0.15, len(t)), 0, 1),
            "asa_s": rng.uniform(5, 40, len(t)), "occupancy": load / agents,
            "p_wait": rng.uniform(0.2, 0.5, len(t)),
            "p_abandon": np.where(rng.uniform(size=len(t)) < 0.1, np.nan, rng.uniform(0, 0.05, len(t)))}))
        shares = rng.dirichlet(np.ones(len(providers)), len(t))
        short = rng.uniform(size=len(t)) < 0.08
        staffed_total = np.where(short, agents * rng.uniform(0.6, 0.95, len(t)), agents + rng.uniform(0, 2, len(t)))
        for k, (name, kind, _, _) in enumerate(providers):
            alloc.append(pd.DataFrame({
                "scenario": scenario, "slot_start": t, "slot_minutes": 30, "plateau": p, "provider": name,
                "kind": kind, "logged_agents": np.round(staffed_total * shares[:, k], 3)}))
        staffed = sum(a["logged_agents"].to_numpy() for a in alloc[-len(providers):])
        shortfall = np.maximum(agents - staffed, 0.0)
        sl = np.where(shortfall > 0, rng.uniform(0.3, 0.79, len(t)), rng.uniform(0.8, 0.97, len(t)))
        asa = np.where(staffed <= load, np.inf, rng.uniform(5, 60, len(t)))
        cov.append(pd.DataFrame({
            "scenario": scenario, "slot_start": t, "slot_minutes": 30, "plateau": p, "calls": calls,
            "aht_s": aht, "callback_calls": np.round(calls * 0.01, 2), "required_agents": agents,
            "answering_agents": staffed, "shortfall_agents": shortfall, "sl_target": sl_target,
            "service_level": sl, "asa_s": asa, "occupancy": np.minimum(load / np.maximum(staffed, 1e-9), 1.0),
            "p_abandon": np.where(rng.uniform(size=len(t)) < 0.05, np.nan, rng.uniform(0, 0.08, len(t)))}))
    requirements = pd.concat(req, ignore_index=True)
    allocation = pd.concat(alloc, ignore_index=True)
    coverage = pd.concat(cov, ignore_index=True)

    dates = pd.date_range(t[0].normalize(), periods=7 * weeks, freq="D")
    patterns = [("S08-16", dt.time(8, 0), dt.time(16, 0), 7.0), ("S14-22", dt.time(14, 0), dt.time(22, 0), 7.0),
                ("S09-13", dt.time(9, 0), dt.time(13, 0), 4.0), ("S17-21:30", dt.time(17, 0), dt.time(21, 30), 4.5)]
    sh = []
    for d in dates:
        for name, kind, _, _ in providers:
            if kind != "in_house":
                continue
            for p, _, scale in plateaux:
                for sid, a, b, hours in patterns:
                    sh.append({"scenario": scenario, "date": d, "provider": name, "plateau": p, "shift": sid,
                               "start": a, "end": b, "paid_hours": hours,
                               "advisers": float(rng.integers(0, int(40 * scale) + 2))})
    shifts = pd.DataFrame(sh)
    tours = pd.DataFrame([
        {"scenario": scenario, "week": w + 1, "provider": name, "plateau": p, "tour": f"T{j + 1}",
         "advisers": float(rng.integers(5, 60)), **dict(zip(
             ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
             [f"09:00-17:00 b12:30 {p}" if on else "off"  # as the optimiser writes them
              for on in np.roll([1, 1, 1, 1, 1, 0, 0], j)])),
         "paid_hours": 35.0}
        for w in range(weeks) for name, kind, _, _ in providers if kind == "in_house"
        for p, _, _ in plateaux for j in range(3)])
    hours = allocation.assign(h=allocation["logged_agents"] * 0.5).groupby("provider", sort=False)["h"].sum()
    prov_rows = []
    for name, kind, site, rate in providers:
        staffed_h = float(hours[name])
        paid_h = staffed_h / (0.7 if kind == "in_house" else 0.9)
        prov_rows.append({"scenario": scenario, "provider": name, "kind": kind, "site": site,
                          "logged_hours": staffed_h, "paid_hours": paid_h, "cost_eur": paid_h * rate,
                          "answering_share": staffed_h / float(hours.sum())})
    providers_df = pd.DataFrame(prov_rows)
    total_cost = float(providers_df["cost_eur"].sum())
    short_h = float((coverage["shortfall_agents"] * 0.5).sum())
    summary = pd.DataFrame({"scenario": scenario,
                            "metric": ["total_cost", "hotline_revenue", "net_cost", "shortfall", "service_level",
                                       "calls"],
                            "value": [total_cost, 0.58 * 0.34 * float((coverage["calls"] * coverage["aht_s"]).sum()) / 60,
                                      total_cost * 0.7, short_h, 0.83, float(coverage["calls"].sum())],
                            "unit": ["EUR", "EUR", "EUR", "agent-hours", "share", "calls"]})
    worst = coverage.assign(missing_agents=coverage["shortfall_agents"]).nlargest(10, "missing_agents")
    diagnostics = worst[["scenario", "slot_start", "plateau", "required_agents", "answering_agents",
                         "missing_agents"]].reset_index(drop=True)
    tables = {"requirements": requirements, "allocation": allocation, "coverage": coverage, "shifts": shifts,
              "tours": tours, "providers": providers_df, "summary": summary, "diagnostics": diagnostics}
    if with_regimes:
        tables["regimes"] = pd.DataFrame({
            "scenario": scenario, "regime": ["R0_premium", "R1_free_wait", "R2_local_rate"],
            "calls": [1.0e6, 1.0e6, 1.1e6], "cost_eur": [total_cost, total_cost, total_cost * 1.1],
            "revenue_eur": [total_cost * 0.9, total_cost * 0.45, 0.0],
            "net_cost_eur": [total_cost * 0.1, total_cost * 0.55, total_cost * 1.1]})
        tables["sweep"] = pd.DataFrame({"scenario": scenario, "sl_target": [0.7, 0.8, 0.9],
                                        "answer_s": [60, 60, 60], "cost_eur": [0.9e6, 1.0e6, 1.2e6],
                                        "label": ["low", "default", "high"]})
    return tables


def make_manifest(scenario: str = "orange-2009") -> dict:
    return {"scenario": scenario, "command": "optimise",
            "options": {"sl_target": 0.8, "answer_s": 60, "regime": "R2_local_rate", "integer": False},
            "inputs": {"inputs/orange-2009/plateaux.csv": "0" * 64}, "solver": "highs", "status": "Optimal",
            "objective_eur": 1234567.5, "gap": 0.0001, "wall_time_s": 12.3}
