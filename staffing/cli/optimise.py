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
@click.option("--rosters/--no-rosters", default=True, show_default=True,
              help="Build a roster per adviser over the horizon under the [rules] working-time "
                   "rules, re-solve outsourced capacity against it, check every rule (exit 3). "
                   "--no-rosters: the rule-free plan with anonymous weekly tours.")
@plan_options
def optimise_cmd(model, regime, offshore_cap, charts, rosters, settings, out_dir, force, **plan_opts):
    """Cheapest staffing plan meeting the service level: in-house shifts, subcontractors, offshore."""
    from .. import allocation, economics, report, scenario as scenario_mod
    from . import say_warning, shown_warnings

    refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    opts = plan_opts_to_options(regime=regime, offshore_cap=offshore_cap, rosters=rosters,
                                **plan_opts).resolved(sc)
    if opts.weeks > 1 and sys.stderr.isatty():  # a progress bar only where someone watches
        with click.progressbar(length=opts.weeks, label="weeks", file=sys.stderr) as bar:
            plan = allocation.optimise(sc, opts, progress=bar.update)
    else:
        plan = allocation.optimise(sc, opts)
    plan = economics.add_to_plan(sc, plan)
    for text in plan.warnings:
        say_warning(text)
    # the manifest keeps every warning the run printed, in order: those of reading the inputs
    # and of the economics (StaffingWarning), then the plan's
    plan.manifest["warnings"] = shown_warnings()
    found: list = []  # the rosters' rule check, run while the workbook is written
    run_dir = report.write_plan(sc, plan, out_dir, force=force, settings=settings, charts=charts,
                                meanwhile=lambda: found.append(_violations(plan)))
    click.echo(report.summary_text(sc, plan, run_dir))
    _check_rosters(plan, found[0] if found else _violations(plan))
    report.raise_if_short(sc, plan)


def _violations(plan):
    """The plan's own rosters' working-time rule violations (rosters.check), None without
    rosters."""
    from ..rosters import check

    if "rosters" not in plan.tables:
        return None
    return check.check_run(dict(plan.tables), plan.manifest)


def _check_rosters(plan, v) -> None:
    """Exit 3 on any violation `v` of the plan's rosters (`_violations`); else say they keep
    every rule."""
    from ..errors import InfeasiblePlan
    from .check import violations_text

    if v is None:
        return
    if len(v):
        click.echo(violations_text(v), err=True)
        raise InfeasiblePlan(f"the plan's rosters break {len(v)} working-time rules "
                             "(staffing check RUN lists them)")
    r = plan.tables["rosters"]
    if len(r):
        n = lambda v: f"{v:,}".replace(",", " ")  # noqa: E731  (thin-space thousands, as above)
        click.echo(f"rosters: {n(r['adviser'].nunique())} advisers, {n(len(r))} shifts, every "
                   "working-time rule holds ([rules]; sheet `roster` in plan.xlsx)")
