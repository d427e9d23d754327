"""The workbook's Summary (a dashboard a planner reads first) and its run sheet.

`View.build` turns a run's tables into the figures both show and the charts plot: the horizon,
headline figures, service per plateau against its targets with a status, hours by provider
kind, and daily and weekly aggregates. Aggregates over slots: calls summed; service level, ASA
and abandonment weighted by calls (ASA over slots with a finite ASA, abandonment over slots that
have one); occupancy weighted by answering agents; agent-hours = agents x slot minutes / 60.

Status (red / amber / green) against a plateau's target, from the scenario's targets the
manifest records: service level green at or above the target, amber within 2 points below it,
red below; ASA, abandonment and occupancy green at or under their limit, amber up to 10 %
(relative) above it, red beyond. Occupancy is also rated from below, against the occupancy the
same workload would give on the *required* agents (sum of occupancy x answering agents over
sum of required agents): more than 10 points under it is amber, more than 30 points red
(advisers paid to wait: e.g. a fixed team larger than its plateaux need).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .files import json_default
from .tables import FMT_1, FMT_EUR, FMT_EUR_CENTS, FMT_INT, FMT_PCT, WEEKDAYS
from .workbook import Formats, print_setup, put

KIND_LABELS = {"inhouse": "In-house", "in_house": "In-house", "subcontractor": "Subcontractors",
               "offshore": "Offshore"}
_AMBER_SL = 0.02  # points below the SL target still amber
_AMBER_REL = 0.10  # relative excess over a limit still amber
_IDLE_AMBER, _IDLE_RED = 0.10, 0.30  # occupancy points under the occupancy at the requirement
_STAT_COLS = ["calls", "service_level", "asa_s", "p_abandon", "occupancy", "required_hours",
              "answering_hours", "shortfall_hours", "surplus_hours"]


def _kind_order(kinds) -> list:
    """In-house, subcontractors, offshore, then any other kind."""
    first = [x for x in ("inhouse", "in_house", "subcontractor", "offshore") if x in kinds]
    return first + [x for x in kinds if x not in first]


def status(value, target, *, higher_is_better: bool) -> str | None:
    """'green', 'amber' or 'red' for a value against its target (None when either is missing)."""
    if value is None or target is None or not np.isfinite(value) or not np.isfinite(target):
        return None
    if higher_is_better:
        return "green" if value >= target - 1e-9 else "amber" if value >= target - _AMBER_SL else "red"
    return "green" if value <= target + 1e-9 else "amber" if value <= target * (1 + _AMBER_REL) else "red"


def occupancy_status(value, cap, at_requirement) -> str | None:
    """Occupancy against its cap (as `status`), and from below against the occupancy at the
    requirement: amber more than 10 points under it, red more than 30 (idle advisers)."""
    above = status(value, cap, higher_is_better=False)
    if above in ("amber", "red") or value is None or at_requirement is None:
        return above
    if not (np.isfinite(value) and np.isfinite(at_requirement)):
        return above
    if value < at_requirement - _IDLE_RED:
        return "red"
    if value < at_requirement - _IDLE_AMBER:
        return "amber"
    return above or "green"


def aggregate(cov: pd.DataFrame, keys: list) -> pd.DataFrame:
    """Service and agent-hours of coverage rows grouped by `keys` (columns or Series)."""
    h = cov["slot_minutes"].to_numpy(float) / 60.0
    calls = cov["calls"].to_numpy(float)
    ans = cov["answering_agents"].to_numpy(float)
    req = cov["required_agents"].to_numpy(float)
    asa = cov["asa_s"].to_numpy(float) if "asa_s" in cov else np.full(len(cov), np.nan)
    ab = cov["p_abandon"].to_numpy(float) if "p_abandon" in cov else np.full(len(cov), np.nan)
    fin, has_ab = np.isfinite(asa), np.isfinite(ab)
    occ = cov["occupancy"].to_numpy(float) if "occupancy" in cov else np.full(len(cov), np.nan)
    short = cov["shortfall_agents"].to_numpy(float) if "shortfall_agents" in cov else np.maximum(req - ans, 0)
    w = pd.DataFrame({
        "calls": calls, "sl_w": calls * cov["service_level"].to_numpy(float),
        "asa_w": np.where(fin, asa * calls, 0.0), "asa_c": np.where(fin, calls, 0.0),
        "ab_w": np.where(has_ab, ab * calls, 0.0), "ab_c": np.where(has_ab, calls, 0.0),
        "occ_w": np.nan_to_num(occ) * ans, "ans": ans,
        "required_hours": req * h, "answering_hours": ans * h, "shortfall_hours": short * h,
        "surplus_hours": np.maximum(ans - req, 0.0) * h, "req_agents": req}, index=cov.index)
    keys = [cov[k] if isinstance(k, str) else k for k in keys]
    g = w.groupby(keys, sort=True).sum()

    def ratio(a, b):
        return pd.Series(np.divide(g[a], g[b], out=np.full(len(g), np.nan), where=g[b].to_numpy() > 0),
                         index=g.index)

    g["service_level"], g["asa_s"] = ratio("sl_w", "calls"), ratio("asa_w", "asa_c")
    g["p_abandon"], g["occupancy"] = ratio("ab_w", "ab_c"), ratio("occ_w", "ans")
    g["occupancy_at_requirement"] = ratio("occ_w", "req_agents").clip(upper=1.0)
    return g[_STAT_COLS + ["occupancy_at_requirement"]]


@dataclass
class View:
    """What the Summary shows and the charts plot (frames may be empty)."""

    manifest: dict
    tables: dict
    days: int = 0
    first_day: pd.Timestamp | None = None
    last_day: pd.Timestamp | None = None
    plateaux: pd.DataFrame = field(default_factory=pd.DataFrame)
    kinds: pd.DataFrame = field(default_factory=pd.DataFrame)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)
    daily_wide: pd.DataFrame | None = None
    weekly_wide: pd.DataFrame | None = None
    plateau_ids: list = field(default_factory=list)
    plateau_rows: tuple | None = None  # Summary rows of the plateau table: first, last, {measure: column}
    regime_rows: tuple | None = None  # Summary rows of the regimes table (first, last)
    regimes_yearly: bool = False

    @classmethod
    def build(cls, tables: dict, manifest: dict) -> "View":
        v = cls(manifest=manifest, tables=tables)
        v._horizon()
        cov = tables.get("coverage")
        if cov is not None and len(cov) and {"plateau", "answering_agents", "required_agents", "calls",
                                              "service_level", "slot_minutes"} <= set(cov.columns):
            v._service(cov)
        v._kinds()
        return v

    def _horizon(self):
        stamps = [pd.to_datetime(df[c]) for df in self.tables.values() for c in ("slot_start", "date")
                  if c in df.columns and len(df)]
        stamps = [s.dropna() for s in stamps if s.notna().any()]
        if stamps:
            self.first_day = min(s.min() for s in stamps).normalize()
            self.last_day = max(s.max() for s in stamps).normalize()
        else:  # compare and sweep: the horizon their plans covered, from the options
            o = self.manifest.get("options") or {}
            try:
                self.first_day = pd.Timestamp(str(o["start"])).normalize()
                self.last_day = self.first_day + pd.Timedelta(days=7 * int(o["weeks"]) - 1)
            except (KeyError, TypeError, ValueError):
                return
        self.days = int((self.last_day - self.first_day).days) + 1

    def _service(self, cov: pd.DataFrame):
        self.plateau_ids = sorted(cov["plateau"].dropna().unique())
        per = aggregate(cov, ["plateau"])
        per.loc["All plateaux"] = aggregate(cov, [pd.Series(0, index=cov.index)]).iloc[0]
        self.plateaux = per
        day = pd.to_datetime(cov["slot_start"]).dt.normalize()
        week = 1 + (day - self.first_day).dt.days // 7
        self.daily = aggregate(cov, [day.rename("date")])
        self.weekly = aggregate(cov, [week.rename("week")])
        self.weekly.insert(0, "to", day.groupby(week).max().to_numpy())
        self.weekly.insert(0, "from", day.groupby(week).min().to_numpy())
        by_day = aggregate(cov, [day.rename("date"), cov["plateau"]])
        by_week = aggregate(cov, [week.rename("week"), cov["plateau"]])
        target = cov.groupby("plateau")["sl_target"].first() if "sl_target" in cov else None
        logged = self._logged_by_kind(day, week)
        sim = self._simulated()
        self.daily_wide = self._wide(by_day, self.daily, target, logged[0], "date", sim)
        self.daily_wide.insert(1, "weekday", [WEEKDAYS[d.day_of_week] for d in self.daily_wide["date"]])
        if self.days > 7:
            self.weekly_wide = self._wide(by_week, self.weekly, target, logged[1], "week", sim)
            self.weekly_wide.insert(1, "from", self.weekly["from"].to_numpy())
            self.weekly_wide.insert(2, "to", self.weekly["to"].to_numpy())

    def _logged_by_kind(self, day, week):
        alloc = self.tables.get("allocation")
        if alloc is None or not len(alloc) or not {"kind", "logged_agents", "slot_minutes"} <= set(alloc.columns):
            return None, None
        d = pd.to_datetime(alloc["slot_start"]).dt.normalize()
        h = alloc["logged_agents"] * alloc["slot_minutes"] / 60.0
        wk = 1 + (d - self.first_day).dt.days // 7
        out = []
        for key in (d.rename("date"), wk.rename("week")):
            g = h.groupby([key, alloc["kind"]]).sum().unstack(fill_value=0.0)
            out.append(g[_kind_order(g.columns)])
        return tuple(out)

    def _simulated(self):
        """Simulated service level per (day, plateau) and (week, plateau), weighted by calls."""
        sim = self.tables.get("simulation")
        if sim is None or not len(sim) or not {"sl_sim_mean", "calls_offered", "plateau"} <= set(sim.columns):
            return None
        d = pd.to_datetime(sim["slot_start"]).dt.normalize()
        ok = sim["sl_sim_mean"].notna() & (sim["calls_offered"] > 0)
        w = pd.DataFrame({"hit": (sim["sl_sim_mean"] * sim["calls_offered"]).where(ok, 0.0),
                          "calls": sim["calls_offered"].where(ok, 0.0)})
        out = []
        for key in (d.rename("date"), (1 + (d - self.first_day).dt.days // 7).rename("week")):
            g = w.groupby([key, sim["plateau"]]).sum()
            out.append(g["hit"] / g["calls"].where(g["calls"] > 0))
        return out

    def _wide(self, by, total, target, logged, key, sim=None) -> pd.DataFrame:
        out = pd.DataFrame(index=total.index)
        cols = [("calls", "calls"), ("service_level", "service level"),
                ("required_hours", "required agent-hours"), ("answering_hours", "answering agent-hours"),
                ("shortfall_hours", "shortfall agent-hours")]
        for p in self.plateau_ids + ["all plateaux"]:
            src = total if p == "all plateaux" else by.xs(p, level="plateau").reindex(total.index)
            for c, label in cols:
                out[f"{p} {label}"] = src[c].fillna(0.0) if c != "service_level" else src[c]
            if sim is not None and p in self.plateau_ids:
                sl = sim[0 if key == "date" else 1]
                if p in sl.index.get_level_values("plateau"):
                    out[f"{p} simulated service level"] = sl.xs(p, level="plateau").reindex(total.index)
            if target is not None and p in target.index:
                out[f"{p} SL target"] = float(target[p])
        if logged is not None:
            for k in logged.columns:
                out[f"{KIND_LABELS.get(k, k)} logged hours"] = logged[k].reindex(total.index).fillna(0.0)
        return out.reset_index().rename(columns={"index": key})

    def _kinds(self):
        prov = self.tables.get("providers")
        if prov is None or not len(prov) or "kind" not in prov.columns:
            return
        num = [c for c in ("logged_hours", "paid_hours", "cost_eur", "answering_share") if c in prov.columns]
        g = prov.groupby("kind", sort=False)
        k = g[num].sum()
        k.insert(0, "providers", g.size())
        self.kinds = k.reindex(_kind_order(k.index))

    # figures -------------------------------------------------------------------------------

    def metric(self, name: str):
        s = self.tables.get("summary")
        if s is None or not len(s) or not {"metric", "value"} <= set(s.columns):
            return None
        hit = s.loc[s["metric"] == name, "value"]
        return float(hit.iloc[0]) if len(hit) else None

    def target(self, plateau: str, key: str):
        t = (self.manifest.get("targets") or {}).get(plateau) or {}
        v = t.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------
# the Summary sheet

_COLS = 15  # the dashboard's grid: A..O
_WIDTHS = [17] + [14] * (_COLS - 1)


class _Sheet:
    def __init__(self, ws, fm: Formats):
        self.ws, self.fm, self.r = ws, fm, 0

    def section(self, title: str):
        self.r += 1
        for c in range(_COLS):
            self.ws.write_blank(self.r, c, None, self.fm.get(None, "section"))
        self.ws.write_string(self.r, 0, title, self.fm.get(None, "section"))
        self.r += 1

    def header(self, labels: list[str]):
        """Bold header row; columns after the first (numbers) right-aligned, units on a second line."""
        self.ws.set_row(self.r, 30)
        for c, lab in enumerate(labels):
            lab = lab.replace(" agent-hours", "\nagent-hours")
            self.ws.write_string(self.r, c, lab, self.fm.get(None, "header", "right") if c else
                                 self.fm.get(None, "header"))
        self.r += 1

    def row(self, values: list, fmts: list, styles=None, bold=False):
        for c, (v, f) in enumerate(zip(values, fmts)):
            st = (styles[c] if styles and styles[c] else "total" if bold else "")
            put(self.ws, self.r, c, v, self.fm.get(f, st) if (f or st) else None)
        self.r += 1


def write_summary(ws, fm: Formats, view: View, level: str) -> None:
    """The dashboard: horizon, headline figures, service per plateau, hours by provider kind,
    daily and (past a week) weekly tables; fits one landscape A4 page wide."""
    s = _Sheet(ws, fm)
    for j, w in enumerate(_WIDTHS):
        ws.set_column(j, j, w)
    m = view.manifest
    ws.write_string(0, 0, f"Staffing plan: {m.get('scenario', '')}", fm.get(None, "title"))
    ws.write_string(1, 0, _subtitle(view), fm.get(None, "subtitle"))
    s.r = 2
    _kpis(s, view)
    if len(view.plateaux):
        _plateau_table(s, view)
    if len(view.kinds):
        _kind_table(s, view)
    _regimes(s, view)
    _sweep(s, view)
    _capacity(s, view)
    if not len(view.plateaux):
        _key_figures(s, view)
    if len(view.weekly) and view.days > 7:  # the shorter table first: a week per row
        s.section("By week (all plateaux)")
        _period_table(s, view.weekly, "week")
    if len(view.daily):
        s.section("By day (all plateaux)")
        _period_table(s, view.daily, "date")
    s.r += 1
    steps = f" ({level} steps)" if len(view.plateaux) else ""
    ws.write_string(s.r, 0, f"Charts: sheet 'charts'{steps}. Run details and options: sheet 'run'. "
                    "Words: logged = at work (before shrinkage); answering = after shrinkage.", fm.get(None, "note"))
    ws.hide_gridlines(2)
    print_setup(ws, last_row=s.r, last_col=_COLS - 1, repeat_header=False)


def _subtitle(view: View) -> str:
    m, o = view.manifest, view.manifest.get("options") or {}
    parts = []
    if view.first_day is not None:
        weeks = f"{view.days / 7:g} weeks" if view.days % 7 == 0 and view.days != 7 else f"{view.days} days"
        parts.append(f"{view.first_day:%a %d %b %Y} to {view.last_day:%a %d %b %Y} ({'1 week' if view.days == 7 else weeks})")
    if m.get("timezone"):
        parts.append(f"local time {m['timezone']}")
    for key, label in (("regime", "regime"), ("offshore_cap", "offshore cap")):
        if o.get(key) not in (None, "", "None"):
            v = o[key]
            parts.append(f"{label} {v:.0%}" if key == "offshore_cap" and isinstance(v, (int, float)) else f"{label} {v}")
    if m.get("command"):
        st = f"{m.get('solver', '')} {m.get('status', '')}".strip()
        parts.append(f"{m['command']}" + (f" ({st})" if st else ""))
    return " · ".join(parts)


def _kpis(s: _Sheet, view: View):
    """Two bands of headline figures: money, then service and people."""
    cost = view.metric("staffing_cost")
    calls = view.metric("calls")
    prov = view.tables.get("providers")
    if cost is None and prov is not None and "cost_eur" in prov.columns:
        cost = float(prov["cost_eur"].sum())
    per_call = view.metric("cost_per_call")
    regime = (view.manifest.get("options") or {}).get("regime")
    all_p = view.plateaux.loc["All plateaux"] if len(view.plateaux) else None
    sim = _sim_all(view)
    offshore = view.metric("offshore_share")
    cap = (view.manifest.get("options") or {}).get("offshore_cap")
    money = [("Total cost", cost, FMT_EUR), ("Cost per call", per_call, FMT_EUR_CENTS),
             ("Hotline revenue" + (f" ({regime})" if regime else ""), view.metric("hotline_revenue"), FMT_EUR),
             ("Net cost" + (f" ({regime})" if regime else ""), view.metric("net_cost"), FMT_EUR),
             ("Net cost per call", view.metric("net_cost_per_call"), FMT_EUR_CENTS),
             ("Net cost per year", view.metric("net_cost_year"), FMT_EUR)]
    service = [("Calls", calls if calls is not None else (all_p["calls"] if all_p is not None else None), FMT_INT),
               ("Service level (Erlang)", view.metric("service_level") if all_p is None else all_p["service_level"],
                FMT_PCT),
               ("Service level (simulated)", sim, FMT_PCT),
               ("Shortfall (agent-hours)", all_p["shortfall_hours"] if all_p is not None else
                view.metric("shortfall_agent_hours"), FMT_1),
               ("Surplus (agent-hours)", all_p["surplus_hours"] if all_p is not None else None, FMT_1),
               ("In-house headcount (advisers)", view.metric("inhouse_headcount"), FMT_INT),
               ("Offshore share" + (f" (cap {cap:.0%})" if isinstance(cap, (int, float)) else ""), offshore, FMT_PCT)]
    for band in (money, service):
        band = [b for b in band if b[1] is not None and not (isinstance(b[1], float) and math.isnan(b[1]))]
        if not band:
            continue
        s.r += 1
        for i, (label, value, fmt) in enumerate(band):
            c = 2 * i
            s.ws.merge_range(s.r, c, s.r, c + 1, label, s.fm.get(None, "kpi_label"))
            style = "kpi"
            if label.startswith("Offshore share") and isinstance(cap, (int, float)):
                style = "kpi_red" if value > cap + 1e-6 else "kpi"
            s.ws.merge_range(s.r + 1, c, s.r + 1, c + 1, "", s.fm.get(fmt, style))
            put(s.ws, s.r + 1, c, value, s.fm.get(fmt, style))
        s.ws.set_row(s.r, 26)
        s.ws.set_row(s.r + 1, 24)
        s.r += 2


def _sim_all(view: View):
    ss = view.tables.get("simulation_summary")
    if ss is None or not len(ss) or "sl_sim" not in ss.columns:
        return None
    hit = ss.loc[ss["plateau"] == "all", "sl_sim"]
    return float(hit.iloc[0]) if len(hit) else None


def _plateau_table(s: _Sheet, view: View):
    ss = view.tables.get("simulation_summary")
    sim = ss.set_index("plateau") if ss is not None and len(ss) and "sl_sim" in ss.columns else None
    s.section("Service by plateau (against the plateau's target: green met, amber near, red missed)")
    cols = [("Plateau", None), ("Calls", FMT_INT), ("Service level" + (" (Erlang)" if sim is not None else ""),
                                                   FMT_PCT)]
    if sim is not None:
        cols += [("Service level simulated", FMT_PCT), ("95 % CI low", FMT_PCT), ("95 % CI high", FMT_PCT)]
    cols += [("SL target", FMT_PCT), ("ASA (s)", "0.0"), ("Abandonment" + (" simulated" if sim is not None else ""),
                                                         FMT_PCT),
             ("Occupancy", FMT_PCT), ("Occupancy cap", FMT_PCT), ("Required agent-hours", FMT_INT),
             ("Answering agent-hours", FMT_INT), ("Shortfall agent-hours", FMT_1), ("Surplus agent-hours", FMT_INT)]
    s.header([c[0] for c in cols])
    if sim is not None:
        heads = [c[0] for c in cols]
        view.plateau_rows = (s.r, s.r + len(view.plateaux) - 2, {
            "sl": 2, "sim": 3, "lo": 4, "hi": 5, "target": heads.index("SL target")})
    cov = view.tables["coverage"]
    for p, r in view.plateaux.iterrows():
        total = p == "All plateaux"
        tg = {k: (None if total else view.target(p, k)) for k in ("sl_target", "asa_s", "max_abandon",
                                                                  "max_occupancy", "answer_s")}
        if tg["sl_target"] is None and not total and "sl_target" in cov:
            tg["sl_target"] = float(cov.loc[cov["plateau"] == p, "sl_target"].iloc[0])
        srow = sim.loc["all" if total else p] if sim is not None and ("all" if total else p) in sim.index else None
        g = (lambda c: float(srow[c]) if srow is not None and c in srow.index else None)
        abandon = g("abandon_sim") if sim is not None else r["p_abandon"]
        vals = [p, r["calls"], r["service_level"]]
        st = [None, None, status(r["service_level"], tg["sl_target"], higher_is_better=True)]
        if sim is not None:
            vals += [g("sl_sim"), g("sl_sim_lo95"), g("sl_sim_hi95")]
            st += [status(g("sl_sim"), tg["sl_target"], higher_is_better=True), None, None]
        vals += [tg["sl_target"], r["asa_s"], abandon, r["occupancy"], tg["max_occupancy"], r["required_hours"],
                 r["answering_hours"], r["shortfall_hours"], r["surplus_hours"]]
        st += [None, status(r["asa_s"], tg["asa_s"], higher_is_better=False),
               status(abandon, tg["max_abandon"], higher_is_better=False),
               occupancy_status(r["occupancy"], tg["max_occupancy"], r["occupancy_at_requirement"]),
               None, None, None,
               "red" if r["shortfall_hours"] > 1e-9 else None, None]
        fmts = [c[1] for c in cols]
        if tg["answer_s"] is not None:  # "80% in 60 s": the target and its answer time in one cell
            fmts[len(st) - 9] = f'0%" in {tg["answer_s"]:g} s"'
        s.row(vals, fmts, st, bold=total)
    notes = ["Service level: share of calls answered within the answer time (Erlang "
             + ("A" if (view.manifest.get("options") or {}).get("queueing") == "erlang_a" else "C")
             + " on the plan's answering agents); ASA: mean wait; blank where the model gives none.",
             "Occupancy: red or amber above its cap, and also when far below the occupancy the same calls would give "
             "on the required agents (more than 30 or 10 points under it: advisers paid to wait)."]
    if sim is not None:
        notes.append("Simulated: discrete-event simulation of the plan (sheet simulation_summary), mean and 95 % "
                     "confidence interval over replications.")
    for n in notes:
        s.ws.write_string(s.r, 0, n, s.fm.get(None, "note"))
        s.r += 1


def _kind_table(s: _Sheet, view: View):
    cap = (view.manifest.get("options") or {}).get("offshore_cap")
    s.section("Hours and cost by provider kind (logged = at work; share of answering hours)")
    s.header(["Provider kind", "Providers", "Logged hours", "Paid hours", "Cost", "Share of answering hours",
              "Cap"])
    k = view.kinds
    for kind, r in k.iterrows():
        share = r.get("answering_share")
        c = cap if kind == "offshore" and isinstance(cap, (int, float)) else None
        st = [None] * 7
        if c is not None and share is not None:
            st[5] = status(share, c, higher_is_better=False) if share > c + 1e-9 else "green"
        s.row([KIND_LABELS.get(kind, kind), r["providers"], r.get("logged_hours"), r.get("paid_hours"),
               r.get("cost_eur"), share, c], [None, "0", FMT_INT, FMT_INT, FMT_EUR, FMT_PCT, FMT_PCT], st)
    s.row(["Total", k["providers"].sum(), _sum(k, "logged_hours"), _sum(k, "paid_hours"), _sum(k, "cost_eur"),
           _sum(k, "answering_share"), None], [None, "0", FMT_INT, FMT_INT, FMT_EUR, FMT_PCT, None], bold=True)


def _sum(df, col):
    return float(df[col].sum()) if col in df.columns else None


def _period_table(s: _Sheet, df: pd.DataFrame, key: str):
    first = ["Date"] if key == "date" else ["Week", "From", "To"]
    s.header(first + ["Calls", "Service level", "ASA (s)", "Abandonment", "Occupancy", "Required agent-hours",
                      "Answering agent-hours", "Shortfall agent-hours", "Surplus agent-hours"])
    for idx, r in df.iterrows():
        lead = [idx] if key == "date" else [idx, r["from"], r["to"]]
        lf = ["ddd dd mmm yyyy"] if key == "date" else ["0", "ddd dd mmm", "ddd dd mmm"]
        st = [None] * (len(lead) + 9)
        if r["shortfall_hours"] > 1e-9:
            st[len(lead) + 7] = "red"
        s.row(lead + [r[c] for c in _STAT_COLS], lf + [FMT_INT, FMT_PCT, "0.0", FMT_PCT, FMT_PCT, FMT_INT, FMT_INT,
                                                       FMT_1, FMT_INT], st)


def _regimes(s: _Sheet, view: View):
    reg = view.tables.get("regimes")
    if reg is None or not len(reg) or "regime" not in reg.columns:
        return
    yearly = all(c in reg.columns for c in ("cost_eur_year", "revenue_eur_year", "net_cost_eur_year"))
    sfx = "_year" if yearly else ""
    s.section("Pricing regimes x offshore cap" + (" (per year)" if yearly else " (over the horizon)"))
    head = ["Regime x cap", "Calls", "Staffing cost", "Hotline revenue", "Net cost", "Cost per call",
            "Net cost per call", "Service level", "ASA (s)", "Offshore share"]
    s.header(head)
    view.regime_rows, view.regimes_yearly = (s.r, s.r + len(reg) - 1), yearly
    for r in reg.to_dict("records"):
        cap = r.get("offshore_cap")
        label = f"{r['regime']} · cap {cap:.0%}" if isinstance(cap, (int, float)) and cap == cap else str(r["regime"])
        s.row([label, r.get("calls" + sfx, r.get("calls")), r.get("cost_eur" + sfx), r.get("revenue_eur" + sfx),
               r.get("net_cost_eur" + sfx), r.get("cost_per_call_eur"), r.get("net_cost_per_call_eur"),
               r.get("service_level"), r.get("asa_s"), r.get("offshore_share")],
              [None, FMT_INT, FMT_EUR, FMT_EUR, FMT_EUR, FMT_EUR_CENTS, FMT_EUR_CENTS, FMT_PCT, "0.0", FMT_PCT])
    s.ws.set_column(0, 0, max(_WIDTHS[0], max(len(str(x)) for x in reg["regime"]) + 12))


def _sweep(s: _Sheet, view: View):
    sw = view.tables.get("sweep")
    if sw is None or not len(sw) or "regime" not in sw.columns:
        return
    cols = [c for c in sw.columns if c != "scenario"][:_COLS]
    s.section("Sweep (sheet sweep)")
    s.header([c.replace("_", " ") for c in cols])
    from .tables import column_kinds, number_format
    kinds = column_kinds("sweep", sw)
    for r in sw[cols].itertuples(index=False):
        s.row(list(r), [number_format(c, kinds[c]) for c in cols])


_CAPACITY_COLS = [("period_start", "From"), ("weeks", "Weeks"), ("cost_eur", "Cost"),
                  ("revenue_eur", "Hotline revenue"), ("net_cost_eur", "Net cost"),
                  ("hires", "Hires"), ("leavers", "Leavers"),
                  ("inhouse_headcount", "In-house headcount"), ("shortfall_hours", "Shortfall hours"),
                  ("inhouse_share", "In-house share"), ("outsourced_share", "Outsourced share"),
                  ("offshore_share", "Offshore share")]


def _capacity(s: _Sheet, view: View):
    """A capacity plan's years, then months (the capacity_summary table): cost, revenue,
    net cost, hires and leavers, headcount, shortfall and the provider mix."""
    cs = view.tables.get("capacity_summary")
    if cs is None or not len(cs) or "period" not in cs.columns:
        return
    cols = [(c, label) for c, label in _CAPACITY_COLS if c in cs.columns]
    fmts = {"period_start": "yyyy-mm", "weeks": FMT_INT, "cost_eur": FMT_EUR, "revenue_eur": FMT_EUR,
            "net_cost_eur": FMT_EUR, "hires": FMT_INT, "leavers": FMT_INT,
            "inhouse_headcount": FMT_INT, "shortfall_hours": FMT_1, "inhouse_share": FMT_PCT,
            "outsourced_share": FMT_PCT, "offshore_share": FMT_PCT}
    for period, title in (("year", "Capacity plan by year"), ("month", "Capacity plan by month")):
        rows = cs[cs["period"] == period]
        if not len(rows):
            continue
        s.section(f"{title} (sheet capacity_summary)")
        s.header([label for _, label in cols])
        for r in rows.to_dict("records"):
            s.row([r[c] for c, _ in cols], [fmts.get(c) for c, _ in cols])


_UNIT_FORMATS = {"eur": FMT_EUR, "share": FMT_PCT, "calls": FMT_INT, "hours": FMT_1, "advisers": FMT_INT,
                 "s": "0.0", "points": FMT_INT, "ratio": "0.000"}


def _key_figures(s: _Sheet, view: View):
    """The summary table's metrics (compare, sweep: the headlines), each with its unit."""
    summ = view.tables.get("summary")
    if summ is None or not len(summ) or not {"metric", "value"} <= set(summ.columns):
        return
    s.section("Key figures (sheet summary_table)")
    s.header(["Metric", "", "", "Value", "Unit"])
    for r in summ.to_dict("records"):
        unit = r.get("unit") if isinstance(r.get("unit"), str) else ""
        s.ws.merge_range(s.r, 0, s.r, 2, str(r["metric"]).replace("_", " "))
        s.row([None, None, None, r["value"], unit], [None, None, None, _UNIT_FORMATS.get(unit.lower()), None])


# ---------------------------------------------------------------------------------------------
# the run sheet

_RUN_KEYS = (("Scenario", "scenario"), ("Command", "command"), ("Created", "created"),
             ("Time zone (slot times are local wall-clock)", "timezone"), ("Package version", "package_version"),
             ("Schema version", "schema_version"), ("Model file", "model"), ("Solver", "solver"),
             ("Solver status", "status"))


RUN_LINE_CHARS = 120  # a warning or note longer than this spans the run sheet's two columns


def write_run_sheet(ws, fm: Formats, manifest: dict, notes: list[str]) -> None:
    """Run metadata, solver figures, options, targets, inputs, the run's warnings and notes
    (label, value rows)."""
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 90)
    r = 0
    ws.write_string(r, 0, "Run", fm.get(None, "section"))
    r += 1
    for label, key in _RUN_KEYS:
        if manifest.get(key) is not None:
            ws.write_string(r, 0, label)
            put(ws, r, 1, manifest[key] if key == "schema_version" else str(manifest[key]),
                fm.get("0") if key == "schema_version" else None)
            r += 1
    for label, key, fmt in (("MIP gap (%)", "gap", "0.00%"), ("Objective (EUR)", "objective_eur", FMT_EUR),
                            ("Wall time (s)", "wall_time_s", "0.0")):
        v = manifest.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            ws.write_string(r, 0, label)
            put(ws, r, 1, v, fm.get(fmt))
            r += 1
    for title, items in (("Options", manifest.get("options") or {}), ("Simulation", manifest.get("simulation") or {}),
                         ("Targets per plateau", manifest.get("targets") or {}),
                         ("Inputs (sha256)", manifest.get("inputs") or {})):
        if not items:
            continue
        r += 1
        ws.write_string(r, 0, title, fm.get(None, "section"))
        r += 1
        for k, v in items.items():
            ws.write_string(r, 0, str(k))
            if isinstance(v, bool):
                ws.write_boolean(r, 1, v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                put(ws, r, 1, v)
            else:
                ws.write_string(r, 1, v if isinstance(v, str) else json.dumps(v, default=json_default))
            r += 1
    # what the run printed as `warning:` (manifest `warnings`), then the workbook's notes
    warnings = [w for w in manifest.get("warnings") or () if isinstance(w, str)]
    for title, lines in (("Warnings", warnings), ("Notes", notes)):
        if not lines:
            continue
        r += 1
        ws.write_string(r, 0, title, fm.get(None, "section"))
        r += 1
        for line in lines:
            wide = fm.get(None, "wrap") if len(line) > RUN_LINE_CHARS else None
            if wide is not None:  # (across both columns, wrapped: printed whole)
                ws.merge_range(r, 0, r, 1, "", wide)
                ws.set_row(r, 15 * math.ceil(len(line) / RUN_LINE_CHARS))
            ws.write_string(r, 0, line, wide)
            r += 1
    print_setup(ws, last_row=r, last_col=1, repeat_header=False)
