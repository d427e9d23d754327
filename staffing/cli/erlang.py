"""`staffing erlang`: required agents, or the metrics of given agents, for one slot or a batch."""

from __future__ import annotations

import click

from ..errors import InputError
from .app import cli
from .common import FINITE

@cli.command("erlang")
@click.option("--calls", type=FINITE, help="Calls offered in the slot.")
@click.option("--aht", "aht_s", type=FINITE, help="Average handle time, seconds.")
@click.option("--slot-minutes", type=FINITE, default=30.0, show_default=True)
@click.option("--sl", "sl_target", type=FINITE, default=0.8, show_default=True,
              help="Service-level target: share answered within --answer-time.")
@click.option("--answer-time", "answer_s", type=FINITE, default=20.0, show_default=True,
              help="Answer-time threshold of the service level, seconds.")
@click.option("--shrinkage", type=FINITE, default=0.0, show_default=True,
              help="Share of paid time not on the phones, in [0, 1).")
@click.option("--max-occupancy", type=FINITE, default=None, help="Occupancy cap, e.g. 0.85.")
@click.option("--asa", "asa_s", type=FINITE, default=None, help="ASA target, seconds.")
@click.option("--patience", "patience_s", type=FINITE, default=None,
              help="Mean caller patience, seconds: Erlang A (abandonment) instead of Erlang C.")
@click.option("--max-abandon", type=FINITE, default=None, help="Abandonment cap (Erlang A).")
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
    from .. import erlang_report

    defaults = dict(slot_minutes=slot_minutes, sl_target=sl_target, answer_s=answer_s,
                    shrinkage=shrinkage, max_occupancy=max_occupancy, asa_s=asa_s,
                    patience_s=patience_s, max_abandon=max_abandon)
    if input_path or output_path:
        if not (input_path and output_path):
            raise InputError("--input and --output go together", field="--output")
        from .common import check_output_file

        check_output_file(output_path, inputs=[input_path])
        n = erlang_report.batch(input_path, output_path, defaults)
        click.echo(f"{n} rows written to {output_path}")
        return
    if calls is None or aht_s is None:
        raise InputError("give --calls and --aht (or --input FILE --output FILE)", field="--calls")
    rows = erlang_report.single(calls, aht_s, defaults, agents)
    click.echo(erlang_report.render(rows, as_json=as_json, patience=patience_s is not None))
