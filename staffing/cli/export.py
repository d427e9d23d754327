"""`staffing export`: rebuild one output format of a run."""

from __future__ import annotations

import click

from .app import cli

@cli.command("export")
@click.argument("run_dir", metavar="RUN", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "parquet"]), default="xlsx",
              show_default=True, help="Format to rebuild from the run's tables.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder to write into [default: the run folder].")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option("--charts", type=click.Choice(["slot", "day", "week"]), default=None,
              help="Time step of plan.xlsx's charts [default: the run's, else by the horizon's length].")
def export_cmd(run_dir, fmt, out_dir, force, charts):
    """Rebuild plan.xlsx, the CSV or the Parquet tables of a run folder."""
    from ..results import export_run

    for path in export_run(run_dir, fmt, out=out_dir, force=force, charts=charts):
        click.echo(str(path))
