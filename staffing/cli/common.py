"""Options shared by the planning commands (optimise, compare, sweep)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from ..limits import MAX_WEEKS


class FiniteFloat(click.FloatRange):
    """A float option that refuses nan and inf (click's FLOAT reads both), within a range."""

    name = "number"

    def convert(self, value, param, ctx):
        import math

        x = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(x):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(x, param, ctx)

    def _describe_range(self) -> str:
        """The range for --help: nothing without bounds (click would print `x<=None`)."""
        if self.min is None and self.max is None:
            return ""
        return super()._describe_range()


FINITE = FiniteFloat()


def _set_scheduler(ctx, param, value):
    from .. import parallel

    if value is not None and not value.strip():
        value = None
    if value is not None and "://" not in value and ":" not in value:
        raise click.BadParameter(f"{value!r} is not a scheduler address like tcp://HOST:8786",
                                 ctx, param)
    parallel.set_scheduler(value)
    ctx.call_on_close(lambda: parallel.set_scheduler(None))
    return value


def scheduler_option(f):
    """--scheduler: run the command's parallel work (weeks, cases, points, replications) on a
    Dask cluster; the environment variable DASK_SCHEDULER_ADDRESS gives the default."""
    return click.option("--scheduler", metavar="tcp://HOST:8786", envvar="DASK_SCHEDULER_ADDRESS",
                        default=None, expose_value=False, callback=_set_scheduler,
                        help="Dask scheduler to run the parallel work on [default: "
                             "$DASK_SCHEDULER_ADDRESS, else processes on this machine].")(f)


def plan_options(f):
    """The optimiser options shared by optimise, compare and sweep (regime and cap excluded)."""
    options = [
        click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="First day of the horizon [default: the model's]."),
        click.option("--weeks", type=click.IntRange(min=1, max=MAX_WEEKS), default=None,
                     help=f"Weeks to plan, at most {MAX_WEEKS} [default: the model's]."),
        click.option("--sl-scope", type=click.Choice(["slot", "day"]), default=None,
                     help="Meet the SL in every slot, or call-weighted over each day."),
        click.option("--queueing", type=click.Choice(["erlang_c", "erlang_a"]), default=None),
        click.option("--headcount", type=click.Choice(["fixed", "optimise"]), default="fixed",
                     show_default=True, help="In-house headcount as given, or chosen within bounds."),
        click.option("--relax", is_flag=True, help="Solve the LP relaxation (fractional plan)."),
        click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs",
                     show_default=True),
        click.option("--time-limit", type=FiniteFloat(min=0, min_open=True), default=None,
                     help="Seconds for the whole solve, every phase and week included; the best "
                     "plan found is kept (status time_limit) [default: 120 per week planned]."),
        click.option("--node-limit", type=click.IntRange(min=1), default=None,
                     help="Branch-and-bound nodes per integer solve: a deterministic work limit "
                     "(same inputs, same plan) [default: none]."),
        click.option("--gap", type=FiniteFloat(min=0), default=0.005, show_default=True,
                     help="Relative gap to the LP bound accepted for the integer plan."),
        click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                     help="Override a model key, e.g. --set policy.offshore_cap=0.1 (repeatable)."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
                     help="Run folder [default: outputs/<scenario>/<run-id>]."),
        click.option("--force", is_flag=True, help="Replace --out if it exists."),
    ]
    for option in reversed(options):
        f = option(f)
    return scheduler_option(f)


def plan_opts_to_options(start, weeks, sl_scope, queueing, headcount, relax, solver, time_limit, gap,
                         node_limit=None, **kw):
    """allocation.Options from the shared command-line options."""
    import datetime as dt

    from .. import allocation

    if start is not None:
        try:
            start.date() + dt.timedelta(weeks=(weeks or MAX_WEEKS) + 1)
        except OverflowError:
            raise InputError(f"the horizon from {start:%Y-%m-%d} runs past the year 9999",
                             field="--start") from None

    per_week = allocation.options.SECONDS_PER_WEEK if time_limit is None else None
    return allocation.Options(start=start.date() if start else None, weeks=weeks,
                              sl_scope=sl_scope, queueing=queueing, headcount=headcount,
                              relax=relax, solver=solver, time_limit=time_limit, gap=gap,
                              node_limit=node_limit, time_limit_per_week=per_week, **kw)


def csv_list(text: str, field: str, kind=str) -> list:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError("give at least one value", field=field)
    try:
        return [kind(s) for s in items]
    except ValueError:
        raise InputError(f"not a list of numbers: '{text}'", field=field) from None


def refuse_existing(out_dir, force: bool) -> None:
    """Refuse an existing --out before any solving (write_run would, after the work)."""
    if out_dir and Path(out_dir).exists() and not force:
        raise InputError("run folder exists; use --force to replace it", file=str(out_dir))


def check_output_file(path, *, inputs=(), input_dirs=(), option: str = "--output") -> None:
    """Refuse, before any work, an output FILE that would overwrite one of the command's input
    files or land inside one of the scenario's input folders, or whose folder does not exist.

    `inputs`: paths of the files the command reads; `input_dirs`: folders it must not write
    into (the scenario's input folders). InputError naming the option: exit 2, nothing written.
    """
    import os

    out = Path(os.path.realpath(path))
    for f in inputs:
        if f is not None and out == Path(os.path.realpath(f)):
            raise InputError(f"would overwrite the input file {f}", file=str(path), field=option)
    for d in input_dirs:
        d = Path(os.path.realpath(d))
        if d == out.parent or d in out.parents:
            raise InputError(f"refusing to write inside the scenario's input folder {d}",
                             file=str(path), field=option)
    if not out.parent.is_dir():
        raise InputError(f"folder {Path(path).parent} does not exist", file=str(path),
                         field=option)
