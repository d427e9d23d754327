"""A solved plan to its run folder (tables + manifest) and to the console summary."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from . import results
from .errors import InfeasiblePlan


def input_hashes(scenario) -> dict:
    """sha256 of the model file, the files it extends and its input tables."""
    out = {}
    for path in scenario.input_files.values():
        p = Path(path)
        if p.is_file():
            out[str(p.resolve())] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_plan(scenario, plan, out_dir=None, *, force=False, settings=(), command="optimise",
               outputs_root="outputs", charts: str | None = None, meanwhile=None) -> Path:
    """Write the plan's run folder atomically; returns its path.

    The tables get their weekday and horizon-week columns; the manifest records the scenario's
    time zone, its targets per plateau (the workbook's Summary rates the plan against them) and
    the workbook's chart step when one was asked for (`charts`: slot, day or week).
    meanwhile: run while the workbook is written (`results.write_run`)."""
    run_dir = Path(out_dir) if out_dir else results.new_run_dir(outputs_root, scenario.name, command)
    manifest = dict(plan.manifest)
    manifest.update(scenario=scenario.name, model=str(scenario.path),
                    inputs=input_hashes(scenario), settings=list(settings),
                    timezone=scenario.timezone, targets=plateau_targets(scenario))
    weeks = (plan.manifest.get("options") or {}).get("weeks") or scenario.weeks
    manifest["charts"] = results.workbook.chart_level(charts, 7 * int(weeks))
    forbidden = sorted({str(Path(p).resolve().parent) for k, p in scenario.input_files.items()
                        if k != "model" and not str(k).startswith("extends")})
    start = (plan.manifest.get("options") or {}).get("start")
    tables = results.add_calendar(plan.tables, start)
    return results.write_run(run_dir, tables, manifest, force=force, forbidden_dirs=forbidden,
                             meanwhile=meanwhile)


def plateau_targets(scenario) -> dict:
    """Per plateau: sl_target (share), answer_s, asa_s, max_occupancy, max_abandon and the mean
    caller patience patience_s (seconds; NaN left out). `staffing simulate` reads answer_s and
    patience_s from here, so a run folder carries its own settings."""
    out = {}
    for p, row in scenario.targets.iterrows():
        out[str(p)] = {k: float(v) for k, v in row.items()
                       if k in ("sl_target", "answer_s", "asa_s", "max_occupancy", "max_abandon",
                                "patience_s")
                       and v is not None and v == v}
    return out


def fmt_eur(v: float) -> str:
    """Whole euros with thin-space thousands, e.g. "6 982 426 EUR" (console figures)."""
    return f"{v:,.0f} EUR".replace(",", " ")


def summary_text(scenario, plan, run_dir: Path | None = None) -> str:
    """A short human summary: cost, providers, SL per plateau, shortfall, solve status."""
    t = plan.tables
    m = plan.manifest
    prov = t["providers"]
    cov = t["coverage"]
    lines = [f"scenario {scenario.name}: {m['options']['weeks']} week(s) from "
             f"{m['options']['start']}, regime {m['options']['regime']}, SL scope "
             f"{m['options']['sl_scope']}, {m['options']['queueing']}"]
    lines.append(f"total staffing cost {fmt_eur(prov['cost_eur'].sum())}   calls "
                 f"{cov['calls'].sum():,.0f}".replace(",", " "))
    figures = dict(zip(t["summary"]["metric"], t["summary"]["value"]))
    if "hotline_revenue" in figures:
        lines.append(f"hotline revenue {fmt_eur(figures['hotline_revenue'])}   net cost "
                     f"{fmt_eur(figures['net_cost'])} (regime {m['options']['regime']})")
    lines.append("")
    lines.append(f"{'provider':<18}{'kind':<15}{'logged h':>12}{'paid h':>12}{'cost':>16}{'share':>8}")
    for r in prov.itertuples(index=False):
        lines.append(f"{r.provider:<18}{r.kind:<15}{r.logged_hours:>12,.0f}{r.paid_hours:>12,.0f}"
                     f"{fmt_eur(r.cost_eur):>16}{100 * r.answering_share:>7.1f}%".replace(",", " "))
    lines.append("")
    lines.append(f"{'plateau':<12}{'calls':>12}{'SL':>8}{'target':>8}{'ASA s':>8}{'short h':>9}")
    slot_h = cov["slot_minutes"] / 60.0
    for p, g in cov.groupby("plateau", sort=False):  # SL and ASA as the summary table has them
        w = g["calls"].to_numpy(float)
        sl = figures.get(f"service_level[{p}]", 1.0)
        asa_m = figures.get(f"asa_s[{p}]", 0.0)
        short = float((g["shortfall_agents"] * slot_h[g.index]).sum())
        lines.append(f"{p:<12}{w.sum():>12,.0f}{100 * sl:>7.1f}%{100 * g['sl_target'].iloc[0]:>7.0f}%"
                     f"{asa_m:>8.1f}{short:>9.1f}".replace(",", " "))
    lines += _headcount_lines(m, scenario)
    lines.append("")
    gap = m.get("gap")
    # (weeks solve side by side: their build and solve times add up past the wall time)
    over = " (summed over the weeks)" if m["options"].get("weeks", 1) > 1 else ""
    lines.append(f"solver {m['solver']} {m['status']}{' (LP relaxation)' if not m['integer'] else ''}"
                 f", gap to the best bound {100 * gap:.4f} %, build {m['build_s']:.1f} s, solve "
                 f"{m['solve_s']:.1f} s{over}, wall {m['wall_time_s']:.1f} s")
    if "late_calls" in m:
        lines.append(f"expected late calls (answered after the answer time or lost) "
                     f"{m['late_calls']:,.0f}".replace(",", " "))
    lines.append(f"shortfall {shortfall_text(plan)} (allowed "
                 f"{_pct(scenario.max_shortfall_share)})")
    lines += diagnosis_lines(plan.diagnostics)
    if run_dir is not None:
        lines.append(f"results in {run_dir}")
    return "\n".join(lines)


def _headcount_lines(m: dict, scenario) -> list[str]:
    """The in-house headcount per team under --headcount optimise: chosen for the teams whose
    bounds leave room (headcount.free_teams), as given for the others."""
    if m.get("options", {}).get("headcount") != "optimise" or not m.get("headcount"):
        return []
    from .allocation.headcount import free_teams

    free = free_teams(scenario)
    heads = ", ".join(f"{k} {v:,.0f}".replace(",", " ") for k, v in m["headcount"].items())
    if not free:
        return ["", f"headcount as given (--headcount optimise had nothing to decide): {heads}"]
    fixed = [k for k in m["headcount"] if k not in free]
    return ["", f"headcount chosen for the whole horizon: {heads}"
            + (f" ({', '.join(fixed)} as given)" if fixed else "")]


def diagnosis_lines(diag: pd.DataFrame, top: int = 8) -> list[str]:
    """The short plateau-days, most missing agent-hours first: why, and what would close them."""
    if diag is None or not len(diag):
        return []
    lines = ["", f"short plateau-days ({len(diag)}; all in diagnostics):"]
    for r in diag.head(top).itertuples(index=False):
        lines.append(f"  {r.plateau} {pd.Timestamp(r.date):%a %Y-%m-%d}: {_day_text(r)}")
    return lines


def _day_text(r) -> str:
    if pd.isna(r.missing_agents):
        return r.problem
    hours = f"{r.missing_agent_hours:,.1f}".replace(",", " ")
    return (f"{hours} agent-hours missing in {r.short_slots} slots, worst "
            f"{pd.Timestamp(r.slot_start):%H:%M} required {r.required_agents:.0f} answering "
            f"{r.answering_agents:.1f}; binding: {r.binding or 'none found'}; "
            f"{r.problem.split('; ', 1)[-1]}")


def _pct(share: float) -> str:
    """A share as a percentage with two decimals, or two significant figures below 0.01 %
    (a shortfall that fails the plan never reads as 0.00 %)."""
    pct = 100 * share
    return f"{pct:.2f} %" if pct == 0 or abs(pct) >= 0.01 else f"{pct:.2g} %"


def shortfall_text(plan) -> str:
    """'28.8 agent-hours = 0.0014 % of required agent-hours' from the plan's summary table."""
    figures = dict(zip(plan.tables["summary"]["metric"], plan.tables["summary"]["value"]))
    hours = figures.get("shortfall_agent_hours")
    share = f"{_pct(plan.shortfall_share)} of required agent-hours"
    return share if hours is None else f"{hours:,.1f} agent-hours = {share}".replace(",", " ")


def raise_if_short(scenario, plan) -> None:
    """InfeasiblePlan (exit 3) when shortfall exceeds the allowed share: a one-line error, then
    the five worst plateau-days as a short table (all of them are in diagnostics.csv)."""
    if plan.shortfall_share <= scenario.max_shortfall_share + 1e-9:
        return
    raise InfeasiblePlan(f"shortfall {shortfall_text(plan)} exceeds the allowed "
                         f"{_pct(scenario.max_shortfall_share)}; worst "
                         f"plateau-days below (all in diagnostics.csv)",
                         diagnosis=plan.diagnostics, details=worst_table(plan.diagnostics))


def worst_table(diag: pd.DataFrame, top: int = 5) -> list[str]:
    """The worst plateau-days as fixed-width lines: plateau, date, missing agent-hours, worst
    slot with its required and answering agents, and what binds (or the problem found)."""
    if diag is None or not len(diag):
        return []
    rows = [("plateau", "date", "missing h", "worst", "required", "answering", "binding")]
    for r in diag.head(top).itertuples(index=False):
        day = f"{pd.Timestamp(r.date):%Y-%m-%d}"
        if pd.isna(r.missing_agents):
            rows.append((str(r.plateau), day, "-", "-", "-", "-", str(r.problem)))
            continue
        rows.append((str(r.plateau), day, f"{r.missing_agent_hours:.1f}",
                     f"{pd.Timestamp(r.slot_start):%H:%M}", f"{r.required_agents:.0f}",
                     f"{r.answering_agents:.1f}", str(r.binding or "none found")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join([c.ljust(w) if i < 2 else c.rjust(w)
                              for i, (c, w) in enumerate(zip(row, widths))] + [row[-1]])
            for row in rows]
