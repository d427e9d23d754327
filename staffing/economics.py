"""Hotline economics of a plan: staffing cost, caller charges, the operator's revenue, net cost.

Per coverage row (plateau x slot), at the STAFFED level of the plan:

    answered      = calls x (1 - p_abandon)            (Erlang C: p_abandon = 0)
    talk_min      = answered x live_aht_s / 60         (live handle time only: the callback
                                                        appointment is at the operator's cost)
    wait_min      = calls x wait_s / 60                wait_s = min(asa_s, cap) under Erlang C,
                                                        mean_wait_s of all offered calls under
                                                        Erlang A (abandoned callers' waiting too)
    billed_calls  = calls if waiting is billed, else answered
    rate          = peak share x eur_per_min + (1 - peak share) x eur_per_min_offpeak
    charge_eur    = setup_eur_per_call x billed_calls + rate x (talk_min + [bill_waiting] wait_min)
    revenue_eur   = operator_share x charge_eur

The peak share of a slot is the part of [slot_start, slot_start + slot_minutes) inside
[peak_start, peak_end). The cap on an Erlang C wait (needed where the answering agents do not
exceed the load and asa is infinite) is the plateau's patience_s when the scenario gives one,
else MAX_WAIT_S. Net cost = staffing cost - revenue. Annual figures scale the horizon's by the
share of the year's calls the horizon carries at the scenario's seasonality (`annual_factor`).
docs/chatel.md states these rules with the default's figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from .errors import InputError

MAX_WAIT_S = 600.0  # ASSUMPTION: longest mean wait billed when the scenario gives no patience
KINDS = ("inhouse", "subcontractor", "offshore")
REGIME_COLUMNS = (
    ["regime", "offshore_cap", "calls", "talk_hours", "wait_hours"]
    + [f"logged_hours_{k}" for k in KINDS]
    + ["cost_eur", "revenue_eur", "net_cost_eur", "cost_per_call_eur", "net_cost_per_call_eur",
       "service_level", "asa_s", "offshore_share", "shortfall_share", "calls_year", "cost_eur_year",
       "revenue_eur_year", "net_cost_eur_year"])


def _regime(scenario, regime: str | None) -> pd.Series:
    regime = regime or scenario.active_regime
    if regime not in scenario.regimes.index:
        raise InputError(f"unknown regime '{regime}' (have {', '.join(scenario.regimes.index)})",
                         field="regime")
    return scenario.regimes.loc[regime]


def _minute(t: dt.time) -> int:
    return 1440 if t == dt.time.max else t.hour * 60 + t.minute


def peak_share(slot_start: pd.Series, slot_minutes, peak_start: dt.time, peak_end: dt.time) -> np.ndarray:
    """Share of each slot's minutes inside the peak window [peak_start, peak_end)."""
    start = pd.to_datetime(slot_start)
    m0 = (start.dt.hour * 60 + start.dt.minute).to_numpy(float)
    length = np.broadcast_to(np.asarray(slot_minutes, dtype=float), m0.shape)
    lo, hi = _minute(peak_start), _minute(peak_end)
    inside = np.clip(np.minimum(m0 + length, hi) - np.maximum(m0, lo), 0.0, None)
    return np.divide(inside, length, out=np.zeros_like(m0), where=length > 0)


def slot_revenue(scenario, coverage: pd.DataFrame, regime: str | None = None,
                 queueing_model: str | None = None) -> pd.DataFrame:
    """Per coverage row: answered calls, talk and waiting minutes, caller charge and revenue (EUR)."""
    from . import queueing

    reg = _regime(scenario, regime)
    model = queueing_model or scenario.queueing
    cov = coverage
    calls = cov["calls"].to_numpy(float)
    aht = cov["live_aht_s" if "live_aht_s" in cov.columns else "aht_s"].to_numpy(float)
    slot = cov["slot_minutes"].to_numpy(float)
    tg = scenario.targets
    patience = cov["plateau"].map(tg["patience_s"]).astype(float).to_numpy()
    if model == "erlang_a":
        if np.isnan(patience).any():
            raise InputError("queueing 'erlang_a' needs patience_s for every plateau",
                             field="service.patience_s")
        answer = cov["plateau"].map(tg["answer_s"]).astype(float).to_numpy()
        m = queueing.evaluate(calls, aht, slot, cov["answering_agents"].to_numpy(float), answer,
                              patience_s=patience)
        answered = calls * (1.0 - m["p_abandon"])
        wait_s = np.asarray(m["mean_wait_s"], dtype=float)
        capped = np.zeros(len(cov), dtype=bool)
    else:
        answered = calls.copy()
        asa = cov["asa_s"].to_numpy(float)
        cap = np.where(np.isfinite(patience), patience, MAX_WAIT_S)
        capped = ~(asa <= cap)  # inf and NaN included
        wait_s = np.where(capped, cap, asa)
    peak = peak_share(cov["slot_start"], slot, reg["peak_start"], reg["peak_end"])
    rate = peak * reg["eur_per_min"] + (1.0 - peak) * reg["eur_per_min_offpeak"]
    talk_min = answered * aht / 60.0
    wait_min = calls * wait_s / 60.0
    bill_wait = bool(reg["bill_waiting"])
    billed_calls = calls if bill_wait else answered
    billed_min = talk_min + (wait_min if bill_wait else 0.0)
    charge = reg["setup_eur_per_call"] * billed_calls + rate * billed_min
    out = cov[["slot_start", "slot_minutes", "plateau", "calls"]].copy()
    out["answered_calls"] = answered
    out["talk_min"] = talk_min
    out["wait_min"] = wait_min
    out["wait_capped"] = capped
    out["billed_min"] = billed_min
    out["peak_share"] = peak
    out["charge_eur"] = charge
    out["revenue_eur"] = float(reg["operator_share"]) * charge
    return out


def annual_factor(scenario, start: dt.date, weeks: int) -> float:
    """Year's calls / the horizon's calls, from the scenario's day weights and annual volumes.

    The year is that of `start`; a horizon crossing New Year counts each day as its share of its
    own year. The regime's uplift scales both and cancels.
    """
    from . import demand

    start = pd.Timestamp(start).date()
    end = start + dt.timedelta(weeks=int(weeks))
    annual = scenario.plateaux["annual_calls"].astype(float)
    horizon = pd.Series(0.0, index=annual.index)
    for year in range(start.year, (end - dt.timedelta(days=1)).year + 1):
        w = demand.day_weights(scenario, year)
        total = w.sum(axis=0)
        inside = w[(w.index >= pd.Timestamp(start)) & (w.index < pd.Timestamp(end))].sum(axis=0)
        share = (inside / total.where(total > 0)).fillna(0.0)
        horizon += share * annual
    if horizon.sum() <= 0:
        raise InputError("the horizon carries none of the year's calls", field="horizon")
    return float(annual.sum() / horizon.sum())


@dataclasses.dataclass
class Economics:
    """Economics of one plan under one pricing regime."""

    regime: str
    figures: dict  # one row of the regimes table (REGIME_COLUMNS)
    slots: pd.DataFrame  # slot_revenue rows
    plateaux: pd.DataFrame  # per-plateau breakdown


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & (weights > 0)
    return float((values[ok] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else float("nan")


def evaluate_plan(scenario, plan, regime: str | None = None) -> Economics:
    """Cost, revenue and net cost of a solved plan (its tables) under a regime (default: the plan's)."""
    opts = plan.manifest.get("options", {})
    regime = regime or opts.get("regime") or scenario.active_regime
    model = opts.get("queueing") or scenario.queueing
    t = plan.tables
    cov, prov, alloc = t["coverage"], t["providers"], t["allocation"]
    rev = slot_revenue(scenario, cov, regime, model)
    factor = annual_factor(scenario, opts.get("start") or scenario.start,
                           opts.get("weeks") or scenario.weeks)
    _warn_forecast_year(scenario, factor)
    calls = float(cov["calls"].sum())
    cost = float(prov["cost_eur"].sum())
    revenue = float(rev["revenue_eur"].sum())
    w = cov["calls"].to_numpy(float)
    fig = {"regime": regime, "offshore_cap": float(opts.get("offshore_cap", scenario.offshore_cap)),
           "calls": calls, "talk_hours": float(rev["talk_min"].sum() / 60.0),
           "wait_hours": float(rev["wait_min"].sum() / 60.0)}
    for k in KINDS:
        fig[f"logged_hours_{k}"] = float(prov.loc[prov["kind"] == k, "logged_hours"].sum())
    fig.update(cost_eur=cost, revenue_eur=revenue, net_cost_eur=cost - revenue,
               cost_per_call_eur=cost / calls if calls else float("nan"),
               net_cost_per_call_eur=(cost - revenue) / calls if calls else float("nan"),
               service_level=_weighted(cov["service_level"].to_numpy(float), w),
               asa_s=_weighted(cov["asa_s"].to_numpy(float), w),
               offshore_share=float(prov.loc[prov["kind"] == "offshore", "answering_share"].sum()),
               shortfall_share=float(plan.shortfall_share),
               calls_year=calls * factor, cost_eur_year=cost * factor,
               revenue_eur_year=revenue * factor, net_cost_eur_year=(cost - revenue) * factor)
    fig["annual_factor"] = factor
    fig["wait_capped_slots"] = int(rev["wait_capped"].sum())
    return Economics(regime=regime, figures=fig, slots=rev,
                     plateaux=_plateau_table(scenario, cov, prov, alloc, rev, factor))


def _warn_forecast_year(scenario, factor: float) -> None:
    """Say that annual figures scale a horizon whose calls come from an imported forecast."""
    import warnings

    from .errors import StaffingWarning

    if scenario.forecast is not None and len(scenario.forecast):
        warnings.warn(f"annual figures (calls_year, cost_eur_year, ...) scale the horizon by "
                      f"{factor:.3g}, the year's share of the scenario's generated demand, "
                      "while its calls come, in whole or in part, from the imported forecast: "
                      "the horizon's weeks stand for the year", StaffingWarning, stacklevel=3)


def _plateau_table(scenario, cov, prov, alloc, rev, factor) -> pd.DataFrame:
    """Per plateau: calls, hours, cost apportioned by each provider's logged hours, revenue."""
    ids = list(scenario.plateaux.index)
    calls = cov.groupby("plateau")["calls"].sum().reindex(ids, fill_value=0.0)
    hours = (alloc.assign(h=alloc["logged_agents"] * alloc["slot_minutes"] / 60.0)
             .groupby(["provider", "plateau"])["h"].sum().unstack(fill_value=0.0)
             .reindex(columns=ids, fill_value=0.0))
    cost = pd.Series(0.0, index=ids)
    for r in prov.itertuples(index=False):
        if r.provider in hours.index and hours.loc[r.provider].sum() > 0:
            row = hours.loc[r.provider]
            cost += r.cost_eur * row / row.sum()
        elif calls.sum() > 0:  # paid but unused hours (take-or-pay): spread by calls
            cost += r.cost_eur * calls / calls.sum()
    g = rev.groupby("plateau")
    revenue = g["revenue_eur"].sum().reindex(ids, fill_value=0.0)
    out = pd.DataFrame({
        "plateau": ids, "calls": calls.to_numpy(),
        "talk_hours": (g["talk_min"].sum() / 60.0).reindex(ids, fill_value=0.0).to_numpy(),
        "wait_hours": (g["wait_min"].sum() / 60.0).reindex(ids, fill_value=0.0).to_numpy(),
        "logged_hours": hours.sum(axis=0).reindex(ids, fill_value=0.0).to_numpy(),
        "cost_eur": cost.to_numpy(), "revenue_eur": revenue.to_numpy()})
    out["net_cost_eur"] = out["cost_eur"] - out["revenue_eur"]
    out["net_cost_per_call_eur"] = np.divide(out["net_cost_eur"], out["calls"],
                                             out=np.full(len(out), np.nan), where=out["calls"] > 0)
    out["net_cost_eur_year"] = out["net_cost_eur"] * factor
    customers = scenario.plateaux["customers"].astype(float).reindex(ids).to_numpy()
    out["customers"] = customers
    out["net_cost_per_customer_eur_year"] = np.divide(
        out["net_cost_eur_year"].to_numpy(), customers, out=np.full(len(out), np.nan),
        where=np.nan_to_num(customers) > 0)
    return out


def add_to_plan(scenario, plan):
    """The plan with hotline revenue and net cost in its summary, and a plateau_economics table."""
    eco = evaluate_plan(scenario, plan)
    f = eco.figures
    rows = [("hotline_revenue", f["revenue_eur"], "eur"),
            ("net_cost", f["net_cost_eur"], "eur"),
            ("net_cost_per_call", f["net_cost_per_call_eur"], "eur"),
            ("talk_hours", f["talk_hours"], "hours"),
            ("wait_hours", f["wait_hours"], "hours"),
            ("annual_factor", f["annual_factor"], "ratio"),
            ("calls_year", f["calls_year"], "calls"),
            ("staffing_cost_year", f["cost_eur_year"], "eur"),
            ("hotline_revenue_year", f["revenue_eur_year"], "eur"),
            ("net_cost_year", f["net_cost_eur_year"], "eur")]
    for r in eco.plateaux.itertuples(index=False):
        if not math.isnan(r.net_cost_per_customer_eur_year):
            rows.append((f"net_cost_per_customer_year[{r.plateau}]",
                         r.net_cost_per_customer_eur_year, "eur"))
    extra = pd.DataFrame(rows, columns=["metric", "value", "unit"])
    extra.insert(0, "scenario", scenario.name)
    tables = dict(plan.tables)
    tables["summary"] = pd.concat([tables["summary"], extra], ignore_index=True)
    pe = eco.plateaux.copy()
    pe.insert(0, "scenario", scenario.name)
    tables["plateau_economics"] = pe
    return dataclasses.replace(plan, tables=tables)


# ----------------------------------------------------------------------------- compare

def _compare_job(args):
    from . import allocation

    scenario, opts = args
    plan = allocation.optimise(scenario, opts)
    figures = dict(evaluate_plan(scenario, plan).figures)
    figures["_status"], figures["_gap"] = plan.manifest["status"], plan.manifest["gap"]
    figures["_warnings"] = list(plan.warnings)
    return figures


def compare(scenario, base_opts, regimes, caps, workers: int | None = None, progress=None) -> pd.DataFrame:
    """Re-optimise each regime (its call uplift included) x offshore cap; one row per case."""
    import os

    from .parallel import run_jobs

    for r in regimes:
        _regime(scenario, r)
    for c in caps:
        if not 0.0 <= c <= 1.0:
            raise InputError(f"offshore cap {c:g} is out of range: must be in [0, 1]",
                             field="--offshore-caps")
    jobs = [(scenario, dataclasses.replace(base_opts, regime=r, offshore_cap=c, workers=1))
            for r in regimes for c in caps]
    rows = run_jobs(_compare_job, jobs, workers or os.cpu_count() or 1, progress)
    table = pd.DataFrame(rows)
    out = table[REGIME_COLUMNS].copy()
    # how the cases were solved, for the run's manifest
    from .allocation import combined_status

    out.attrs["status"] = combined_status(table["_status"])
    out.attrs["gap"] = float(table["_gap"].max()) if len(table) else 0.0
    # each case's plan warnings, named by the case (the command prints and records them)
    out.attrs["warnings"] = [f"{o.regime}, offshore cap {o.offshore_cap:g}: {w}"
                             for (_, o), said in zip(jobs, table["_warnings"]) for w in said]
    return out


@dataclasses.dataclass
class Headline:
    metric: str
    value: float
    unit: str
    text: str


def headlines(scenario, table: pd.DataFrame, gap: float = 0.0) -> list[Headline]:
    """The director's lines: revenue lost, extra calls and cost from the uplift (base regime ->
    active regime, at the model's offshore cap when compared, else the first cap), and per regime
    the cost of staying local = net cost at the smallest cap - net cost at the largest; `gap`
    (the integer plans' relative gap) gives the resolution of that difference."""
    out: list[Headline] = []
    caps = sorted(table["offshore_cap"].unique())
    ref_cap = scenario.offshore_cap if scenario.offshore_cap in caps else table["offshore_cap"].iloc[0]
    at = table[table["offshore_cap"] == ref_cap].set_index("regime")
    regimes = list(dict.fromkeys(table["regime"]))
    a, b = scenario.base_regime, scenario.active_regime
    if a not in at.index or b not in at.index or a == b:
        a, b = regimes[0], regimes[-1]
    if a != b:
        ra, rb = at.loc[a], at.loc[b]
        lost = ra["revenue_eur_year"] - rb["revenue_eur_year"]
        out.append(Headline(f"revenue_lost_year[{a}->{b}]", lost, "eur",
                            f"revenue lost from {a} to {b}: {_eur(lost)} a year "
                            f"(offshore cap {ref_cap:g})"))
        calls = rb["calls_year"] - ra["calls_year"]
        out.append(Headline(f"extra_calls_year[{a}->{b}]", calls, "calls",
                            f"extra calls from {a} to {b}: {_num(calls)} a year "
                            f"({100 * (rb['calls_year'] / ra['calls_year'] - 1):+.1f} %)"))
        cost = rb["cost_eur_year"] - ra["cost_eur_year"]
        out.append(Headline(f"extra_staffing_cost_year[{a}->{b}]", cost, "eur",
                            f"extra staffing cost from {a} to {b}: {_eur(cost)} a year"))
        net = rb["net_cost_eur_year"] - ra["net_cost_eur_year"]
        out.append(Headline(f"net_cost_change_year[{a}->{b}]", net, "eur",
                            f"net cost change from {a} to {b}: {_eur(net)} a year"))
    if len(caps) > 1:
        lo, hi = caps[0], caps[-1]
        for r in regimes:
            g = table[table["regime"] == r].set_index("offshore_cap")
            v = g.loc[lo, "net_cost_eur_year"] - g.loc[hi, "net_cost_eur_year"]
            tol = gap * float(g["net_cost_eur_year"].abs().max())
            note = f" (integer plans within +/- {_eur(tol)})" if tol > 0 else ""
            out.append(Headline(f"cost_of_staying_local_year[{r}]", v, "eur",
                                f"cost of staying local under {r} (cap {lo:g} vs {hi:g}): "
                                f"{_eur(v)} a year{note}"))
    return out


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", " ")


def _eur(v: float) -> str:
    from .report import fmt_eur

    return fmt_eur(v)


def format_table(table: pd.DataFrame, columns=None) -> str:
    """A fixed-width text rendering: money and hours without decimals, shares in %."""
    columns = list(columns or table.columns)
    cells = []
    for c in columns:
        col = table[c]
        if c in ("service_level", "offshore_share", "shortfall_share"):
            vals = [f"{100 * v:.1f}%" for v in col]
        elif c == "offshore_cap" or pd.api.types.is_string_dtype(col) or col.dtype == object:
            vals = [f"{v:g}" if isinstance(v, float) else str(v) for v in col]
        elif c.endswith("per_call_eur") or c == "asa_s":
            vals = [f"{v:.2f}" for v in col]
        elif pd.api.types.is_float_dtype(col) and (col.abs() < 10).all():
            vals = [f"{v:g}" for v in col]
        else:
            vals = [_num(v) for v in col]
        width = max(len(c), *(len(v) for v in vals)) if vals else len(c)
        cells.append([c.rjust(width)] + [v.rjust(width) for v in vals])
    return "\n".join("  ".join(row) for row in zip(*cells))


PRINT_COLUMNS = ["regime", "offshore_cap", "calls", "talk_hours", "wait_hours",
                 "logged_hours_inhouse", "logged_hours_subcontractor", "logged_hours_offshore",
                 "cost_eur", "revenue_eur", "net_cost_eur", "cost_per_call_eur", "service_level",
                 "asa_s", "offshore_share"]


def headline_table(scenario_name: str, lines: list[Headline]) -> pd.DataFrame:
    """The headlines as a tidy summary table (scenario, metric, value, unit)."""
    out = pd.DataFrame([(h.metric, float(h.value), h.unit) for h in lines],
                       columns=["metric", "value", "unit"])
    out.insert(0, "scenario", scenario_name)
    return out


def input_dirs(scenario) -> list[str]:
    """Folders of the scenario's input tables: outputs may not be written into them."""
    from pathlib import Path

    return sorted({str(Path(p).resolve().parent) for k, p in scenario.input_files.items()
                   if k != "model" and not str(k).startswith("extends")})
