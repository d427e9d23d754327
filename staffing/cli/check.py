"""`staffing check RUN`: every working-time rule on every adviser's roster of a run folder."""

from __future__ import annotations

import click

from .app import cli


def violations_text(v, limit: int = 20) -> str:
    """The first `limit` violations, one line each."""
    lines = [f"{r.file}: {r.adviser} {r.date:%Y-%m-%d} {r.rule} exceeded by {r.excess:g} {r.unit}"
             for r in v.head(limit).itertuples(index=False)]
    if len(v) > limit:
        lines.append(f"... and {len(v) - limit} more")
    return "\n".join(lines)


@cli.command("check")
@click.argument("run", type=click.Path(exists=True, file_okay=False))
def check_cmd(run):
    """Check the rosters of run folder RUN against the working-time rules it was planned with;
    list each violation (file, adviser, date, rule, by how much). Exit 3 if any."""
    from .. import results
    from ..errors import InfeasiblePlan, InputError
    from ..rosters import check

    tables = results.load(run)
    manifest = results.load_manifest(run)
    if "rosters" not in tables:
        raise InputError("no rosters table in this run (a --relax plan has none)", file=str(run))
    v = check.check_run(tables, manifest)
    n_adv = tables["rosters"]["adviser"].nunique()
    if len(v):
        click.echo(violations_text(v))
        raise InfeasiblePlan(f"{len(v)} working-time rule violations among {n_adv} advisers")
    click.echo(f"{n_adv} advisers, {len(tables['rosters'])} shifts: every working-time rule holds")
