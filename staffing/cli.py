"""Command line: `staffing erlang | validate | requirements | optimise | compare | sweep | simulate | export`."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import InputError, SolverError, StaffingError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="staffing")
def cli():
    """Cost-optimal, service-level-safe staffing plans for inbound call centres."""


@cli.command("erlang")
@click.option("--calls", type=float, help="Calls offered in the slot.")
@click.option("--aht", "aht_s", type=float, help="Average handle time, seconds.")
@click.option("--slot-minutes", type=float, default=30.0, show_default=True)
@click.option("--sl", "sl_target", type=float, default=0.8, show_default=True,
              help="Service-level target: share answered within --answer-time.")
@click.option("--answer-time", "answer_s", type=float, default=20.0, show_default=True,
              help="Answer-time threshold of the service level, seconds.")
@click.option("--shrinkage", type=float, default=0.0, show_default=True,
              help="Share of paid time not on the phones, in [0, 1).")
@click.option("--max-occupancy", type=float, default=None, help="Occupancy cap, e.g. 0.85.")
@click.option("--asa", "asa_s", type=float, default=None, help="ASA target, seconds.")
@click.option("--patience", "patience_s", type=float, default=None,
              help="Mean caller patience, seconds: Erlang A (abandonment) instead of Erlang C.")
@click.option("--max-abandon", type=float, default=None, help="Abandonment cap (Erlang A).")
@click.option("--agents", default=None,
              help="Evaluate this staffing instead (N), or a table over a range (N:M).")
@click.option("--input", "input_path", type=click.Path(dir_okay=False), default=None,
              help="Batch: CSV or xlsx with columns calls, aht_s and optional overrides.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), default=None,
              help="Batch: CSV or xlsx file to write the rows with results.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def erlang_cmd(calls, aht_s, slot_minutes, sl_target, answer_s, shrinkage, max_occupancy,
               asa_s, patience_s, max_abandon, agents, input_path, output_path, as_json):
    """Required agents (or the metrics of given agents) by Erlang C, or Erlang A with --patience."""
    from . import erlang_report

    defaults = dict(slot_minutes=slot_minutes, sl_target=sl_target, answer_s=answer_s,
                    shrinkage=shrinkage, max_occupancy=max_occupancy, asa_s=asa_s,
                    patience_s=patience_s, max_abandon=max_abandon)
    if input_path or output_path:
        if not (input_path and output_path):
            raise InputError("--input and --output go together", field="--output")
        n = erlang_report.batch(input_path, output_path, defaults)
        click.echo(f"{n} rows written to {output_path}")
        return
    if calls is None or aht_s is None:
        raise InputError("give --calls and --aht (or --input FILE --output FILE)", field="--calls")
    rows = erlang_report.single(calls, aht_s, defaults, agents)
    click.echo(erlang_report.render(rows, as_json=as_json, patience=patience_s is not None))


@cli.command("simulate")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--replications", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--forecast-error", type=click.FloatRange(min=0), default=0.1, show_default=True,
              help="CV of a gamma factor on each plateau-day's volume (0: Poisson only).")
@click.option("--aht-cv", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="CV of the lognormal handle time (capped at 45 min).")
@click.option("--exponential", is_flag=True,
              help="Exponential handle times instead (the Erlang model; ignores --aht-cv).")
@click.option("--patience", "patience_s", type=click.FloatRange(min=0, min_open=True),
              default=None, help="Mean caller patience, seconds [default: the run's, else none].")
@click.option("--answer-time", "answer_s", type=click.FloatRange(min=0), default=None,
              help="Answer-time threshold of the SL, seconds [default: the run's, else 60].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write the tables here instead of into the run folder.")
def simulate_cmd(run_dir, replications, seed, forecast_error, aht_cv, exponential, patience_s,
                 answer_s, workers, out_dir):
    """Discrete-event check of a run's plan: abandonment, long calls, forecast error."""
    from . import simulate

    coverage, manifest = simulate.load_run(run_dir)
    (answer, answer_from), (patience, patience_from) = simulate.run_settings(
        manifest, coverage, answer_s, patience_s)
    result = simulate.simulate_plan(
        coverage, scenario=str(manifest.get("scenario", "")), replications=replications,
        seed=seed, forecast_error=forecast_error, aht_cv=aht_cv,
        handle="exponential" if exponential else "lognormal", patience_s=patience,
        answer_s=answer, workers=workers, progress=True, file=f"{run_dir}/coverage.csv")
    options = dict(replications=replications, seed=seed, forecast_error=forecast_error,
                   aht_cv=None if exponential else aht_cv,
                   handle="exponential" if exponential else "lognormal",
                   answer_s=simulate.describe(answer, coverage),
                   patience_s=simulate.describe(patience, coverage))
    target = out_dir or run_dir
    simulate.write_tables(result, target, run_dir=run_dir, options=options)
    click.echo(f"{replications} replications, seed {seed}; answer time "
               f"{options['answer_s']} s ({answer_from}); patience "
               f"{options['patience_s'] or 'none'} s ({patience_from})")
    click.echo(simulate.format_summary(result.summary))
    click.echo(f"tables simulation, simulation_summary written to {target}")


@cli.command("validate")
@click.argument("model", required=False)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model key, e.g. service.sl_target=0.9 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def validate_cmd(model, settings, as_json):
    """Load and check a scenario (default orange-2009) and its input tables; print a summary."""
    import json

    from . import scenario as scenario_mod
    from . import scenario_report

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    info = scenario_report.summary(sc)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(scenario_report.render_summary(sc, info))


@cli.command("requirements")
@click.argument("model", required=False)
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="CSV or xlsx file: one row per plateau x slot.")
@click.option("--regime", default=None, help="Pricing regime for the call uplift [default: the model's].")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model key, e.g. service.answer_s=20 (repeatable).")
def requirements_cmd(model, output_path, regime, settings):
    """Agents required per plateau x slot over the horizon to meet the service targets."""
    from . import demand, scenario_report
    from . import scenario as scenario_mod

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    # long calls are cut at the callback threshold: the queue sees the live handle time
    live = demand.live_demand(sc, demand.build_demand(sc, regime=regime))
    table = demand.requirements(sc, live.drop(columns=["callback_agents", "callback_cut_s"]))
    scenario_report.write_table(table, output_path)
    hours = table["agents"] * table["slot_minutes"] / 60
    click.echo(f"{len(table)} rows ({table['plateau'].nunique()} plateaux x "
               f"{table['slot_start'].nunique()} slots) written to {output_path}: "
               f"{table['calls'].sum():,.0f} calls, {hours.sum():,.0f} agent-hours, "
               f"peak {table.groupby('slot_start')['agents'].sum().max():,} agents")


@cli.command("export")
@click.argument("run_dir", metavar="RUN", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "parquet"]), default="xlsx",
              show_default=True, help="Format to rebuild from the run's tables.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder to write into [default: the run folder].")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def export_cmd(run_dir, fmt, out_dir, force):
    """Rebuild plan.xlsx, the CSV or the Parquet tables of a run folder."""
    from .results import export_run

    for path in export_run(run_dir, fmt, out=out_dir, force=force):
        click.echo(str(path))


def _plan_options(f):
    """The optimiser options shared by optimise, compare and sweep (regime and cap excluded)."""
    options = [
        click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="First day of the horizon [default: the model's]."),
        click.option("--weeks", type=click.IntRange(min=1), default=None,
                     help="Weeks to plan [default: the model's]."),
        click.option("--sl-scope", type=click.Choice(["slot", "day"]), default=None,
                     help="Meet the SL in every slot, or call-weighted over each day."),
        click.option("--queueing", type=click.Choice(["erlang_c", "erlang_a"]), default=None),
        click.option("--headcount", type=click.Choice(["fixed", "optimise"]), default="fixed",
                     show_default=True, help="In-house headcount as given, or chosen within bounds."),
        click.option("--relax", is_flag=True, help="Solve the LP relaxation (fractional plan)."),
        click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs",
                     show_default=True),
        click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=120.0,
                     show_default=True, help="Seconds per week's integer solve."),
        click.option("--gap", type=click.FloatRange(min=0), default=0.005, show_default=True,
                     help="Relative gap to the LP bound accepted for the integer plan."),
        click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                     help="Override a model key, e.g. --set policy.offshore_cap=0.1 (repeatable)."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
                     help="Run folder [default: outputs/<scenario>/<run-id>]."),
        click.option("--force", is_flag=True, help="Replace --out if it exists."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _options(start, weeks, sl_scope, queueing, headcount, relax, solver, time_limit, gap, **kw):
    """allocation.Options from the shared command-line options."""
    from . import allocation

    return allocation.Options(start=start.date() if start else None, weeks=weeks,
                              sl_scope=sl_scope, queueing=queueing, headcount=headcount,
                              relax=relax, solver=solver, time_limit=time_limit, gap=gap, **kw)


def _csv_list(text: str, field: str, kind=str) -> list:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError("give at least one value", field=field)
    try:
        return [kind(s) for s in items]
    except ValueError:
        raise InputError(f"not a list of numbers: '{text}'", field=field) from None


def _refuse_existing(out_dir, force: bool) -> None:
    """Refuse an existing --out before any solving (write_run would, after the work)."""
    if out_dir and Path(out_dir).exists() and not force:
        raise InputError("run folder exists; use --force to replace it", file=str(out_dir))


@cli.command("optimise")
@click.argument("model", required=False)
@click.option("--regime", default=None, help="Pricing regime (its call uplift) [default: the model's].")
@click.option("--offshore-cap", type=click.FloatRange(0, 1), default=None,
              help="Largest offshore share of answering hours [default: the model's].")
@_plan_options
def optimise_cmd(model, regime, offshore_cap, settings, out_dir, force, **plan_opts):
    """Cheapest staffing plan meeting the service level: in-house shifts, subcontractors, offshore."""
    from . import allocation, economics, report, scenario as scenario_mod

    _refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    opts = _options(regime=regime, offshore_cap=offshore_cap, **plan_opts).resolved(sc)
    if opts.weeks > 1:
        with click.progressbar(length=opts.weeks, label="weeks", file=sys.stderr) as bar:
            plan = allocation.optimise(sc, opts, progress=bar.update)
    else:
        plan = allocation.optimise(sc, opts)
    plan = economics.add_to_plan(sc, plan)
    run_dir = report.write_plan(sc, plan, out_dir, force=force, settings=settings)
    click.echo(report.summary_text(sc, plan, run_dir))
    report.raise_if_short(sc, plan)


@cli.command("compare")
@click.argument("model", required=False)
@click.option("--regimes", default=None, metavar="R0,R1,...",
              help="Pricing regimes to compare [default: all of the model's].")
@click.option("--offshore-caps", default=None, metavar="C1,C2,...",
              help="Offshore caps to compare, e.g. 0,0.2,1 [default: the model's cap].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@_plan_options
def compare_cmd(model, regimes, offshore_caps, workers, settings, out_dir, force, **plan_opts):
    """Re-optimise each pricing regime x offshore cap: cost, hotline revenue, net cost."""
    from . import economics, report, results, scenario as scenario_mod

    _refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    regime_list = (_csv_list(regimes, "--regimes") if regimes else list(sc.regimes.index))
    caps = (_csv_list(offshore_caps, "--offshore-caps", float) if offshore_caps
            else [sc.offshore_cap])
    base = _options(**plan_opts).resolved(sc)
    from tqdm import tqdm

    started = time.perf_counter()
    with tqdm(total=len(regime_list) * len(caps), desc="compare", unit="case", disable=None,
              leave=False) as bar:  # shown on a terminal only
        table = economics.compare(sc, base, regime_list, caps, workers=workers,
                                  progress=bar.update)
    solved = {"solver": base.solver, "status": table.attrs["status"],
              "gap": table.attrs["gap"], "wall_time_s": time.perf_counter() - started}
    lines = economics.headlines(sc, table, gap=0.0 if base.relax else base.gap)
    summary = economics.headline_table(sc.name, lines)
    table.insert(0, "scenario", sc.name)
    manifest = {"command": "compare", "scenario": sc.name, "model": str(sc.path),
                "inputs": report.input_hashes(sc), "settings": list(settings),
                "options": {**{k: str(v) for k, v in dataclasses.asdict(base).items()
                               if k not in ("regime", "offshore_cap")},
                            "regimes": regime_list, "offshore_caps": caps}, **solved}
    run_dir = Path(out_dir) if out_dir else results.new_run_dir("outputs", sc.name, "compare")
    run_dir = results.write_run(run_dir, {"regimes": table, "summary": summary}, manifest,
                                force=force, forbidden_dirs=economics.input_dirs(sc))
    click.echo(economics.format_table(table.drop(columns="scenario"), economics.PRINT_COLUMNS))
    click.echo("")
    for h in lines:
        click.echo(h.text)
    click.echo(f"results in {run_dir}")


@cli.command("sweep")
@click.argument("model", required=False)
@click.option("--param", "params", multiple=True, required=True, metavar="KEY=LO:HI:STEP",
              help="A grid axis over a dotted model key (as --set): LO:HI:STEP inclusive, or "
                   "V1,V2,... (repeatable; the grid is their product). service_level.target is "
                   "an alias for service.sl_target.")
@click.option("--regimes", default=None, metavar="R0,R2,...",
              help="Pricing regimes, each point optimised under each [default: the model's active].")
@click.option("--offshore-cap", type=click.FloatRange(0, 1), default=None,
              help="Largest offshore share of answering hours [default: the model's].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@_plan_options
def sweep_cmd(model, params, regimes, offshore_cap, workers, settings, out_dir, force, **plan_opts):
    """One optimisation per grid point, in parallel: cost, revenue, net cost, SL and ASA achieved.

    With --out, finished points are kept in OUT.points/ until the run folder is written: running
    the same command again resumes where an interrupted sweep stopped.
    """
    from . import economics, report, results, scenario as scenario_mod
    from . import sweep as sweep_mod

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    axes = [sweep_mod.parse_param(p) for p in params]
    regime_list = _csv_list(regimes, "--regimes") if regimes else [sc.active_regime]
    base = _options(offshore_cap=offshore_cap, **plan_opts)
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
    table, failures = sweep_mod.run(points, points_dir, run_dir / "sweep.csv", workers=workers)
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
                "status": "optimal" if (table["status"] == "optimal").all() else "time_limit",
                "wall_time_s": time.perf_counter() - started}
    run_dir = results.write_run(run_dir, {"sweep": table, "summary": summary}, manifest,
                                force=True, forbidden_dirs=economics.input_dirs(sc))
    shutil.rmtree(points_dir, ignore_errors=True)
    click.echo(economics.format_table(table.drop(columns=["scenario", "point_key", "status"])))
    click.echo("")
    for r in best.itertuples(index=False):
        d = r._asdict()
        where = ", ".join(f"{c} = {d[c]:g}" if isinstance(d[c], float) else f"{c} = {d[c]}"
                          for c in cols)
        net = f"{r.net_cost_eur:,.0f}".replace(",", " ")
        click.echo(f"profit-optimal under {r.regime}: {where} (net cost {net} EUR, SL "
                   f"{100 * r.service_level:.1f} %, ASA {r.asa_s:.1f} s)")
    click.echo(f"results in {run_dir}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the click group, turn errors into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="staffing", standalone_mode=False)
    except StaffingError as exc:
        for line in str(exc).splitlines() or [""]:
            click.echo(f"error: {line}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # usage errors: bad option values, missing args
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
