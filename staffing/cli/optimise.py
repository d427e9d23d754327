"""`staffing optimise`: the staffing plan."""

from __future__ import annotations

import sys

import click

from .app import cli
from .common import FiniteFloat, plan_options, plan_opts_to_options, refuse_existing

@cli.command("optimise")
@click.argument("model", required=False)
@click.option("--regime", default=None, help="Pricing regime (its call uplift) [default: the model's].")
@click.option("--offshore-cap", type=FiniteFloat(0, 1), default=None,
              help="Largest offshore share of answering hours [default: the model's].")
@click.option("--charts", type=click.Choice(["slot", "day", "week"]), default=None,
              help="Time step of plan.xlsx's charts [default: slot up to a week, day up to 8 weeks, "
                   "then week].")
@plan_options
def optimise_cmd(model, regime, offshore_cap, charts, settings, out_dir, force, **plan_opts):
    """Cheapest staffing plan meeting the service level: in-house shifts, subcontractors, offshore."""
    from .. import allocation, economics, report, scenario as scenario_mod

    refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    opts = plan_opts_to_options(regime=regime, offshore_cap=offshore_cap, **plan_opts).resolved(sc)
    if opts.weeks > 1 and sys.stderr.isatty():  # a progress bar only where someone watches
        with click.progressbar(length=opts.weeks, label="weeks", file=sys.stderr) as bar:
            plan = allocation.optimise(sc, opts, progress=bar.update)
    else:
        plan = allocation.optimise(sc, opts)
    for text in plan.warnings:
        click.echo(f"warning: {text}", err=True)
    plan = economics.add_to_plan(sc, plan)
    run_dir = report.write_plan(sc, plan, out_dir, force=force, settings=settings, charts=charts)
    click.echo(report.summary_text(sc, plan, run_dir))
    report.raise_if_short(sc, plan)
