"""`staffing validate`: load and check a scenario."""

from __future__ import annotations

import datetime as dt

import click

from .app import cli

@cli.command("validate")
@click.argument("model", required=False)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model key, e.g. service.sl_target=0.9 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def validate_cmd(model, settings, as_json):
    """Load and check a scenario (default orange-2009) and its input tables; print a summary."""
    import json

    from .. import scenario as scenario_mod
    from .. import scenario_report

    from .. import demand

    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    demand.check_forecast_horizon(sc, sc.start, sc.end - dt.timedelta(days=1))
    if "capacity" in sc.config:  # the long-range plan's keys, as `staffing capacity` reads them
        from ..capacity import settings as capacity_settings

        capacity_settings.read(sc)
    info = scenario_report.summary(sc)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(scenario_report.render_summary(sc, info))
