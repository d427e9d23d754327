"""`staffing calibrate`: scenario parameters from a call-detail log."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import InputError
from .app import cli
from .common import FiniteFloat

TABLES = ("history", "handle_times", "profiles", "patience", "patience_curve", "service",
          "erlang_a", "erlang_a_summary")


@cli.command("calibrate")
@click.argument("calls_path", metavar="CALLS", type=click.Path(dir_okay=False))
@click.option("--map", "map_path", default=None, metavar="FILE",
              help="TOML naming the log's columns and outcome codes (or a packaged map's name, "
                   "e.g. anonymous-bank).")
@click.option("--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the tables (CSV).")
@click.option("--slot-minutes", type=click.Choice(["15", "30", "60"]), default="30",
              show_default=True)
@click.option("--answer-s", type=FiniteFloat(min=0), default=20.0, show_default=True,
              help="Service-level threshold: answered within this many seconds.")
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
def calibrate_cmd(calls_path, map_path, out_dir, slot_minutes, answer_s, force):
    """Calls per slot, AHT, profiles, patience, observed service and an Erlang A check from CALLS."""
    from ..forecasting import calibrate as calibrate_mod
    from ..forecasting import calllog
    from .common import refuse_existing

    refuse_existing(out_dir, force)
    if Path(os.path.realpath(out_dir)) in Path(os.path.realpath(calls_path)).parents:
        raise InputError(f"the call log {calls_path} is inside the folder --force would replace",
                         file=str(out_dir), field="--output")
    calls, dropped = calllog.read_log(calls_path, calllog.load_map(map_path))
    tables = calibrate_mod.calibrate(calls, int(slot_minutes), answer_s)
    _write_folder(tables, out_dir)
    click.echo(render(tables, dropped, out_dir))


def _write_folder(tables: dict, out_dir) -> None:
    """All tables as CSV in a sibling temporary folder, renamed into place in one step."""
    import shutil
    import tempfile
    from pathlib import Path

    from .. import results

    dest = Path(out_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for name, frame in tables.items():
            results.write_table_csv(frame, tmp / f"{name}.csv", table=name)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def render(tables: dict, dropped: int, out_dir) -> str:
    """Per plateau: calls, abandonment, AHT and its CV, patience, observed SL; the Erlang A fit."""
    ht = tables["handle_times"].set_index("plateau")
    pat = tables["patience"].set_index("plateau")
    svc = tables["service"]
    lines = [f"{'plateau':<8}{'calls':>8}{'aband.':>8}{'AHT s':>8}{'CV':>6}{'patience s':>12}"
             f"{'SL obs':>8}"]
    for p, r in ht.iterrows():
        s = svc[svc["plateau"] == p]
        sl = float((s["service_level"] * s["calls"]).sum() / s["calls"].sum())
        lines.append(f"{p:<8}{int(r['calls']):>8,}{r['abandoned'] / r['calls']:>8.1%}"
                     f"{r['aht_s']:>8.0f}{r['handle_cv']:>6.2f}{pat.loc[p, 'patience_s']:>12.0f}"
                     f"{sl:>8.1%}")
    if "erlang_a_summary" in tables:
        lines.append("Erlang A at the observed load and agents on duty (calls-weighted means):")
        lines.append(f"{'plateau':<8}{'slots':>6}{'aband. obs':>11}{'Erlang A':>9}"
                     f"{'SL obs':>8}{'Erlang A':>9}")
        for r in tables["erlang_a_summary"].itertuples(index=False):
            lines.append(f"{r.plateau:<8}{r.slots:>6}{r.abandon_share:>11.1%}"
                         f"{r.erlang_a_p_abandon:>9.1%}{r.service_level:>8.1%}"
                         f"{r.erlang_a_service_level:>9.1%}")
    if dropped:
        lines.append(f"{dropped:,} rows with another outcome code dropped")
    lines.append(f"tables written to {out_dir}: {', '.join(t for t in TABLES if t in tables)}")
    return "\n".join(lines)
