"""`staffing compare`: pricing regimes x offshore caps."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import click

from .app import cli
from .common import csv_list, plan_options, plan_opts_to_options, refuse_existing

@cli.command("compare")
@click.argument("model", required=False)
@click.option("--regimes", default=None, metavar="R0,R1,...",
              help="Pricing regimes to compare [default: all of the model's].")
@click.option("--offshore-caps", default=None, metavar="C1,C2,...",
              help="Offshore caps to compare, e.g. 0,0.2,1 [default: the model's cap].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@plan_options
def compare_cmd(model, regimes, offshore_caps, workers, settings, out_dir, force, **plan_opts):
    """Re-optimise each pricing regime x offshore cap: cost, hotline revenue, net cost."""
    from .. import economics, report, results, scenario as scenario_mod
    from . import say_warning, shown_warnings

    refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    regime_list = (csv_list(regimes, "--regimes") if regimes else list(sc.regimes.index))
    caps = (csv_list(offshore_caps, "--offshore-caps", float) if offshore_caps
            else [sc.offshore_cap])
    base = plan_opts_to_options(**plan_opts).resolved(sc)
    from tqdm import tqdm

    started = time.perf_counter()
    with tqdm(total=len(regime_list) * len(caps), desc="compare", unit="case", disable=None,
              leave=False) as bar:  # shown on a terminal only
        table = economics.compare(sc, base, regime_list, caps, workers=workers,
                                  progress=bar.update)
    for text in table.attrs.pop("warnings", []):
        say_warning(text)
    solved = {"solver": base.solver, "status": table.attrs["status"],
              "gap": table.attrs["gap"], "wall_time_s": time.perf_counter() - started,
              "warnings": shown_warnings()}
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
