"""`staffing sweep`: one optimisation per grid point."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import click

from ..errors import InputError, SolverError
from .app import cli
from .common import FiniteFloat, csv_list, plan_options, plan_opts_to_options

@cli.command("sweep")
@click.argument("model", required=False)
@click.option("--param", "params", multiple=True, required=True, metavar="KEY=LO:HI:STEP",
              help="A grid axis over a dotted model key (as --set): LO:HI:STEP inclusive, or "
                   "V1,V2,... (repeatable; the grid is their product). service_level.target is "
                   "an alias for service.sl_target.")
@click.option("--regimes", default=None, metavar="R0,R2,...",
              help="Pricing regimes, each point optimised under each [default: the model's active].")
@click.option("--offshore-cap", type=FiniteFloat(0, 1), default=None,
              help="Largest offshore share of answering hours [default: the model's].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@plan_options
def sweep_cmd(model, params, regimes, offshore_cap, workers, settings, out_dir, force, **plan_opts):
    """One optimisation per grid point, in parallel: cost, revenue, net cost, SL and ASA achieved.

    With --out, finished points are kept in OUT.points/ until the run folder is written: running
    the same command again resumes where an interrupted sweep stopped.
    """
    from .. import economics, report, results, scenario as scenario_mod
    from .. import allocation, sweep as sweep_mod
    from . import say_warning, shown_warnings

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    axes = [sweep_mod.parse_param(p) for p in params]
    regime_list = csv_list(regimes, "--regimes") if regimes else [sc.active_regime]
    base = plan_opts_to_options(offshore_cap=offshore_cap, **plan_opts)
    points = sweep_mod.grid(model, settings, axes, regime_list, base, report.input_hashes)
    options = {**{k: str(v) for k, v in dataclasses.asdict(base).items() if k != "regime"},
               "params": list(params), "regimes": regime_list}
    run_dir = Path(out_dir) if out_dir else results.new_run_dir("outputs", sc.name, "sweep")
    if run_dir.exists() and not force:
        old = results.load_manifest(run_dir) if run_dir.is_dir() else {}
        if (old.get("command"), old.get("options"), old.get("settings")) != (
                "sweep", options, list(settings)):
            raise InputError("run folder exists and holds another run; use --force to replace it",
                             file=str(run_dir))
    points_dir = run_dir.with_name(run_dir.name + ".points")
    started = time.perf_counter()
    table, failures, said = sweep_mod.run(points, points_dir, run_dir / "sweep.csv",
                                          workers=workers)
    if failures:
        raise SolverError(f"{len(failures)} of {len(points)} points failed (finished points are "
                          f"kept; rerun to retry): {failures[0]}")
    cols = [sweep_mod.column_name(k) for k, _ in axes]
    best = sweep_mod.best_points(table, cols, sc.max_shortfall_share)
    summary = sweep_mod.summary_table(sc.name, table, best, cols)
    table.insert(0, "scenario", sc.name)
    manifest = {"command": "sweep", "scenario": sc.name, "model": str(sc.path),
                "inputs": report.input_hashes(sc), "settings": list(settings),
                "options": options, "solver": base.solver,
                "status": allocation.combined_status(table["status"]),
                "wall_time_s": time.perf_counter() - started}
    for text in said:
        say_warning(text)
    manifest["warnings"] = shown_warnings()
    run_dir = results.write_run(run_dir, {"sweep": table, "summary": summary}, manifest,
                                force=True, forbidden_dirs=economics.input_dirs(sc))
    shutil.rmtree(points_dir, ignore_errors=True)
    click.echo(economics.format_table(table.drop(columns=["scenario", "point_key", "status"])))
    click.echo("")
    ties = sweep_mod.ties_within_tolerance(table, best, 0.0 if base.relax else base.gap,
                                           sc.max_shortfall_share)
    for r in best.itertuples(index=False):
        d = r._asdict()
        where = ", ".join(f"{c} = {d[c]:g}" if isinstance(d[c], float) else f"{c} = {d[c]}"
                          for c in cols)
        net = f"{r.net_cost_eur:,.0f}".replace(",", " ")
        near, tol = ties[r.regime]
        caveat = (f"; {near} other point{'s' if near > 1 else ''} within the solver tolerance "
                  f"(integer plans within +/- {tol:,.0f} EUR): not told apart".replace(",", " ")
                  if near else "")
        click.echo(f"profit-optimal under {r.regime}: {where} (net cost {net} EUR, SL "
                   f"{100 * r.service_level:.1f} %, ASA {r.asa_s:.1f} s){caveat}")
    click.echo(f"results in {run_dir}")
