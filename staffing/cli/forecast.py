"""`staffing forecast`: calls per slot ahead from a call history, and rolling-origin backtests."""

from __future__ import annotations

import click

from .app import cli


def write_any(frame, path, table: str):
    """Write a table as CSV, xlsx or Parquet (by the file's extension), atomically."""
    from pathlib import Path

    from .. import results, scenario_report

    if Path(path).suffix.lower() == ".parquet":
        return results.write_table_parquet(frame, path, table=table)
    if Path(path).suffix.lower() == ".csv":
        return results.write_table_csv(frame, path, table=table)
    return scenario_report.write_table(frame, path)


@cli.command("forecast")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day to forecast (after the history).")
@click.option("--weeks", type=click.IntRange(min=1), default=None, help="Weeks to forecast.")
@click.option("--slot-minutes", type=click.Choice(["15", "30", "60"]), default="30",
              show_default=True, help="Slot length; the history's interval must divide it.")
@click.option("--plateau", default=None,
              help="Plateau id of a history without a plateau column, or the one to keep.")
@click.option("--holidays", default="", metavar="CC",
              help="Country code of public holidays (holidays package), e.g. US, FR.")
@click.option("--profile-weeks", type=click.IntRange(min=1), default=8, show_default=True,
              help="Weeks of history in the intraday profiles.")
@click.option("--hours", default=None, metavar="HH:MM-HH:MM",
              help="Keep only slots starting within these opening hours (the scenario's); the "
                   "calls left out are reported.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), default=None,
              help="CSV, xlsx or Parquet file in the scenario's forecast format, plus calls_p10, "
                   "calls_p90.")
@click.option("--backtest", type=click.IntRange(min=1), default=None, metavar="WEEKS",
              help="Rolling-origin backtest over the last WEEKS weeks: weighted MAPE of the "
                   "method and of seasonal naive, per plateau.")
def forecast_cmd(history, start, weeks, slot_minutes, plateau, holidays, profile_weeks, hours,
                 output_path, backtest):
    """Forecast calls per plateau x slot from HISTORY (slot_start, calls[, plateau, aht_s])."""
    from ..errors import InputError
    from ..forecasting import backtest as backtest_mod
    from ..forecasting import history as history_mod
    from ..forecasting import model

    if backtest is None and (start is None or weeks is None):
        raise InputError("give --start and --weeks (or --backtest WEEKS)", field="--start")
    if output_path:
        from .common import check_output_file

        check_output_file(output_path, inputs=[history])
    slot = int(slot_minutes)
    hist = history_mod.aggregate(history_mod.load_history(history, plateau), slot, history)
    settings = model.Settings(profile_weeks=profile_weeks, holidays=holidays)
    if backtest is not None:
        table = backtest_mod.backtest(hist, backtest, slot, settings)
        click.echo(render_backtest(table, slot))
    if start is None or weeks is None:
        return
    fc = model.forecast(hist, start.date(), weeks, slot, settings)
    if hours:
        fc = _within(fc, hours)
    if output_path:
        write_any(fc, output_path, "forecast")
        click.echo(f"{len(fc):,} rows ({fc['plateau'].nunique()} plateaux) written to "
                   f"{output_path}: {fc['calls'].sum():,.0f} calls from {start:%Y-%m-%d}, "
                   f"{weeks} week(s)")
    else:
        click.echo(fc.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S"), nl=False)


def _within(fc, hours: str):
    """Forecast rows starting within HH:MM-HH:MM (24:00 allowed as the end); says what it drops."""
    import re

    from ..errors import InputError

    m = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", hours.strip())
    lo, hi = (int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])) if m else (0, -1)
    if not m or not 0 <= lo < hi <= 1440:
        raise InputError(f"'{hours}' is not opening hours HH:MM-HH:MM", field="--hours")
    minute = fc["slot_start"].dt.hour * 60 + fc["slot_start"].dt.minute
    keep = (minute >= lo) & (minute < hi)
    if not keep.all():
        click.echo(f"{(~keep).sum():,} slots outside {hours} left out: "
                   f"{fc.loc[~keep, 'calls'].sum():,.0f} calls "
                   f"({fc.loc[~keep, 'calls'].sum() / fc['calls'].sum():.1%})", err=True)
    return fc[keep].reset_index(drop=True)


def render_backtest(table, slot: int) -> str:
    """The backtest table as text: one line per plateau x origin, then the totals."""
    lines = [f"rolling-origin backtest, {slot}-minute slots, one week ahead per origin",
             f"{'plateau':<12}{'week of':<12}{'slots':>6}{'calls':>11}{'wMAPE':>9}"
             f"{'naive':>9}{'gain':>9}{'p10-p90':>9}"]
    for r in table.itertuples(index=False):
        gain = 1 - r.wmape / r.wmape_naive if r.wmape_naive else float("nan")
        lines.append(f"{r.plateau:<12}{r.origin:<12}{r.slots:>6}{r.actual_calls:>11,.0f}"
                     f"{r.wmape:>9.2%}{r.wmape_naive:>9.2%}{gain:>9.1%}{r.coverage_p10_p90:>9.1%}")
    lines.append("wMAPE = sum |forecast - actual| / sum actual; naive = same weekday and slot a "
                 "week earlier; gain = 1 - wMAPE / naive; p10-p90 = share of slots inside")
    return "\n".join(lines)
