"""`staffing capacity`: the long-range plan of hiring, training, contracts and offshore hours."""

from __future__ import annotations

import click

from .app import cli
from .common import FiniteFloat, refuse_existing, scheduler_option

SHORT_TOLERANCE = 1e-4  # share of the required hours: below this the plan counts as covered (first weeks)


def summary_text(scenario, cp, run_dir) -> str:
    """The console summary: horizon, per year cost / revenue / hires / mix, solver figures."""
    from ..report import fmt_eur

    st, man = cp.settings, cp.manifest
    eff = cp.efficiency
    lines = [f"scenario {scenario.name}: capacity plan, {st.weeks} weeks from {st.start}, "
             f"offshore cap {st.offshore_cap:.0%}",
             "scheduling efficiency measured on the week of "
             f"{eff.week_start} ({eff.regime}): "
             + ", ".join(f"{p} {v:.3f}" for p, v in eff.eta.items()), "",
             f"{'year':<6}{'weeks':>6}{'cost':>18}{'revenue':>16}{'net cost':>18}{'hires':>7}"
             f"{'leavers':>9}{'in-house':>10}{'outsourced':>11}{'offshore':>9}"]
    s = cp.tables["capacity_summary"]
    for _, r in s[s["period"] == "year"].iterrows():
        lines.append(f"{r['period_start']:%Y}  {r['weeks']:>6}{fmt_eur(r['cost_eur']):>18}"
                     f"{fmt_eur(r['revenue_eur']):>16}{fmt_eur(r['net_cost_eur']):>18}{r['hires']:>7}"
                     f"{r['leavers']:>9.0f}{r['inhouse_share']:>10.1%}{r['outsourced_share']:>11.1%}"
                     f"{r['offshore_share']:>9.1%}")
    cap = cp.tables["capacity"]
    teams = cap[cap["kind"] == "inhouse"]
    first, last = teams["week_start"].min(), teams["week_start"].max()
    lines += ["", f"in-house headcount {teams.loc[teams['week_start'] == first, 'headcount'].sum():,.0f}"
              f" on {first:%Y-%m-%d} -> {teams.loc[teams['week_start'] == last, 'headcount'].sum():,.0f}"
              f" on {last:%Y-%m-%d}".replace(",", " ")
              + f"; {int(teams['hires'].sum()):,} hires".replace(",", " ")
              + f", classes starting in {int((teams['hires'] > 0).sum())} team-weeks",
              f"solver highs {man['status']}, gap to the proven bound {man['gap']:.3%}, "
              f"build {man['build_s']:.1f} s, solve {man['solve_s']:.1f} s, "
              f"wall {man['wall_time_s']:.1f} s (CPU {man['cpu_time_s']:.1f} s)",
              f"shortfall {cp.shortfall_share:.4%} of the answering hours needed",
              f"results in {run_dir}"]
    return "\n".join(lines)


@cli.command("capacity")
@click.argument("model", required=False)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First Monday of the plan [default: the model's capacity.start].")
@click.option("--weeks", type=click.IntRange(1, 156), default=None,
              help="Weeks to plan, at most 156 [default: the model's capacity.weeks, else 104].")
@click.option("--offshore-cap", type=FiniteFloat(0, 1), default=None,
              help="Largest offshore share of answering hours [default: the model's].")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model key, e.g. --set capacity.inhouse.attrition_per_year=0.2.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run folder [default: outputs/<scenario>/<run-id>].")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@scheduler_option
def capacity_cmd(model, start, weeks, offshore_cap, settings, out_dir, force):
    """Hires per team and week, subcontractor contracts and offshore hours over 1-3 years."""
    from pathlib import Path

    from .. import capacity, report, results, scenario as scenario_mod
    from ..errors import InfeasiblePlan
    from . import say_warning, shown_warnings

    refuse_existing(out_dir, force)
    sc = scenario_mod.load(model, scenario_mod.parse_set(settings))
    cp = capacity.plan_job(sc, start=start.date() if start else None, weeks=weeks,
                           offshore_cap=offshore_cap)
    run_dir = Path(out_dir) if out_dir else results.new_run_dir("outputs", sc.name, "capacity")
    for text in cp.warnings:  # (collected where the plan ran: here, or a Dask worker)
        say_warning(text)
    eff = cp.efficiency
    for text in eff.warnings:  # (its week's demand, its plans' gap and rosters; not again
        if text not in cp.warnings:  # what the plan's own reading said)
            say_warning(f"scheduling efficiency (week of {eff.week_start}): {text}")
    manifest = dict(cp.manifest, scenario=sc.name, model=str(sc.path),
                    inputs=report.input_hashes(sc), settings=list(settings),
                    warnings=shown_warnings())
    forbidden = sorted({str(Path(p).resolve().parent) for k, p in sc.input_files.items()
                        if k != "model" and not str(k).startswith("extends")})
    run_dir = results.write_run(run_dir, cp.tables, manifest, force=force, forbidden_dirs=forbidden)
    click.echo(summary_text(sc, cp, run_dir))
    allowed = max(sc.max_shortfall_share, SHORT_TOLERANCE)
    if cp.shortfall_share > allowed:
        raise InfeasiblePlan(f"the plan is short of {cp.shortfall_share:.4%} of the answering "
                             f"hours needed (allowed {allowed:.4%}): see capacity_requirement")
