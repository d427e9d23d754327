"""`staffing simulate`: discrete-event check of a run's plan."""

from __future__ import annotations

import click

from .app import cli
from .common import FiniteFloat, scheduler_option

@cli.command("simulate")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--replications", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--forecast-error", type=FiniteFloat(min=0), default=0.1, show_default=True,
              help="CV of a gamma factor on each plateau-day's volume (0: Poisson only).")
@click.option("--aht-cv", type=FiniteFloat(min=0, min_open=True), default=1.0,
              show_default=True, help="CV of the lognormal handle time (capped at 45 min).")
@click.option("--exponential", is_flag=True,
              help="Exponential handle times instead (the Erlang model; ignores --aht-cv).")
@click.option("--patience", "patience_s", type=FiniteFloat(min=0, min_open=True),
              default=None, help="Mean caller patience, seconds [default: the run's, else none].")
@click.option("--answer-time", "answer_s", type=FiniteFloat(min=0), default=None,
              help="Answer-time threshold of the SL, seconds [default: the run's, else 60].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes [default: all cores].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write the tables here instead of into the run folder.")
@scheduler_option
def simulate_cmd(run_dir, replications, seed, forecast_error, aht_cv, exponential, patience_s,
                 answer_s, workers, out_dir):
    """Discrete-event check of a run's plan: abandonment, long calls, forecast error."""
    from .. import simulate

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
    click.echo(f"{replications} replications, seed {seed}")
    click.echo(f"answer time ({answer_from}): "
               f"{simulate.describe_text(answer, coverage, none='none')}")
    click.echo(f"mean patience ({patience_from}): "
               f"{simulate.describe_text(patience, coverage, none='callers never hang up')}")
    click.echo(simulate.format_summary(result.summary))
    click.echo(f"tables simulation, simulation_summary written to {target}")
