"""`staffing requirements`: agents required per plateau x slot."""

from __future__ import annotations

import click

from .app import cli

@cli.command("requirements")
@click.argument("model", required=False)
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="CSV or xlsx file: one row per plateau x slot.")
@click.option("--regime", default=None, help="Pricing regime for the call uplift [default: the model's].")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model key, e.g. service.answer_s=20 (repeatable).")
def requirements_cmd(model, output_path, regime, settings):
    """Agents required per plateau x slot over the horizon to meet the service targets."""
    from .. import demand, scenario_report
    from .. import scenario as scenario_mod

    from ..economics import input_dirs
    from .common import check_output_file

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    check_output_file(output_path, inputs=sc.input_files.values(), input_dirs=input_dirs(sc))
    # long calls are cut at the callback threshold: the queue sees the live handle time
    live = demand.live_demand(sc, demand.build_demand(sc, regime=regime))
    table = demand.requirements(sc, live.drop(columns=["callback_agents", "callback_cut_s"]))
    scenario_report.write_table(table, output_path)
    hours = table["agents"] * table["slot_minutes"] / 60
    click.echo(f"{len(table)} rows ({table['plateau'].nunique()} plateaux x "
               f"{table['slot_start'].nunique()} slots) written to {output_path}: "
               f"{table['calls'].sum():,.0f} calls, {hours.sum():,.0f} agent-hours, "
               f"peak {table.groupby('slot_start')['agents'].sum().max():,} agents")
