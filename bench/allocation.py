"""Benchmark: the optimiser's speed on the default scenario and the cases that used to be slow,
every ratio measured side by side in the same run (interleaved repeats, medians).

Run:  python bench/allocation.py [--repeats 3] [--time-limit 120] [--cbc] [--year | --year-only]

1. Ratios (median wall and CPU seconds of --repeats runs, interleaved so a busy machine hurts
   both sides alike):
   - the default week x20 (the active regime's call_uplift at 21: 22 x the base calls, 20 x the
     default's) against the default week; target: within 2x;
   - `--headcount optimise` against fixed headcounts on the default week, with headcount bounds
     at 50-120 % of each team (the default's blank bounds leave nothing to decide: that run is
     shown too); target: within 2x;
   - a two-plateau, one-team (120 advisers, bounds 40-120), one-subcontractor (60 seats, 500 h
     take-or-pay) scenario, 15-minute slots, two weeks, `--headcount optimise`; target: under
     20 s of wall time.
2. --cbc: the default week with CBC (pulp.PULP_CBC_CMD, the fallback solver) against HiGHS.
3. --year: the 52-week default as `staffing optimise --weeks 52` runs it, rosters on (two
   processes, plan written to a temporary folder, the rosters checked as the command does),
   against the rule-free year (`--no-rosters`) as the baseline in the same run (interleaved,
   --repeats runs each, medians); wall and CPU seconds by phase (`bench/phases.py`):
   requirements, headcount, the weeks (their CPU by phase summed over the solved weeks: model
   build, inside HiGHS, rounding and the rest of the solve, tables), the rosters (CP-SAT
   against the Python around it, in the team processes), the weeks re-solved with the rosters,
   the plan's tables, economics, the rule check and the written run; peak resident memory of
   the command (and by the end of each phase) and of its largest worker; the share of the CPU
   inside HiGHS and CP-SAT; the rosters pass's pool timeline (`phases.pool_timeline`: seconds
   with a worker idle, the jobs that ran alone then, and the group whose weeks, run one after
   another, take the longest).
   Targets: under 25 s of wall time, at least half the CPU in the solvers, under 500 MB.
   --year-reuse: also the rule-free year with every week solved (the week reuse's baseline);
   --against SRC: also the rostered year run by another source tree (before/after in one run);
   --other-vertices: also the rostered year whose LPs end at other optimal vertices (their first
   LP without HiGHS's presolve; with --against, by both trees): equally good plans whose
   rosters can take the pass much longer, so a change is measured on more than one plan.

CPU seconds are this process's plus its finished children's (the week processes). Each line
also gives the solve status, the gap to the best bound, the staffing cost, the expected late
calls and the shortfall share.
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path


from staffing import allocation, scenario

# the active regime R2 has +10 % calls over the base R1: 20 x the default's calls is +2100 %
UPLIFT_X20 = ["pricing.regimes.R2.call_uplift=21"]
RATIO_TARGET = 2.0
TWO_PLATEAU_TARGET_S = 20.0
YEAR_TARGET_S = 25.0
YEAR_MEMORY_MB = 500


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(sc, **options) -> dict:
    """Optimise once; the manifest with wall and CPU seconds."""
    t0, c0 = time.perf_counter(), cpu()
    plan = allocation.optimise(sc, allocation.Options(**options))
    m = dict(plan.manifest)
    m.update(wall=time.perf_counter() - t0, cpu=cpu() - c0, short=plan.shortfall_share)
    return m


def line(label: str, ms: list) -> str:
    m = ms[-1]
    wall = statistics.median(x["wall"] for x in ms)
    cpu_s = statistics.median(x["cpu"] for x in ms)
    return (f"{label:<34}{wall:>8.2f}{cpu_s:>8.2f}  {m['status']:<11}{100 * m['gap']:>8.3f}%"
            f"{m['staffing_cost_eur']:>14,.0f}{m['late_calls']:>12,.0f}{100 * m['short']:>8.3f}%")


def bounded(sc, lo: float, hi: float):
    """The scenario with every in-house team's headcount bounds at lo..hi x its headcount."""
    pr = sc.providers.copy()
    inh = pr["kind"] == "inhouse"
    pr.loc[inh, "headcount_min"] = (pr.loc[inh, "headcount"] * lo).round()
    pr.loc[inh, "headcount_max"] = (pr.loc[inh, "headcount"] * hi).round()
    return sc.replace(providers=pr)


def two_plateau(root: Path) -> str:
    """Write the two-plateau scenario under root; return its model path."""
    inputs = root / "inputs" / "two"
    inputs.mkdir(parents=True)
    (root / "models").mkdir()
    (inputs / "plateaux.csv").write_text(
        "id,annual_calls,aht_s,callback_share,callback_threshold_s,long_call_aht_s\n"
        "sales,520000,300,0,1800,2400\nclaims,360000,420,0.02,1800,2400\n", encoding="utf-8")
    (inputs / "providers.csv").write_text(
        "id,kind,site,plateaux,cost_eur_per_hour,headcount,headcount_min,headcount_max,seats,"
        "min_weekly_hours,max_weekly_hours,shrinkage,aht_factor\n"
        "team,inhouse,Lyon,sales;claims,40,120,40,120,,,,0.3,1.0\n"
        "sub,subcontractor,Sub,sales;claims,30,,,,60,500,,0.25,1.0\n", encoding="utf-8")
    hours = [(f"{h:02d}:00", w) for h, w in zip(range(8, 20), [4, 7, 9, 9, 8, 6, 7, 8, 7, 6, 5, 3])]
    (inputs / "profiles.csv").write_text(
        "plateau,profile,key,weight\n" + "".join(f"*,intraday,{k},{w}\n" for k, w in hours)
        + "".join(f"*,weekday,{d},{w}\n" for d, w in
                  zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], [1.3, 1.1, 1, 1, 1, 0.8, 0])),
        encoding="utf-8")
    model = root / "models" / "two.toml"
    model.write_text(
        'name = "two-plateaux"\n[horizon]\nstart = 2009-03-02\nweeks = 2\nslot_minutes = 15\n'
        '[opening]\ndefault = ["08:00", "20:00"]\nsun = "closed"\n[demand]\nholidays = ""\n'
        '[service]\nsl_scope = "slot"\nqueueing = "erlang_c"\nsl_target = 0.8\nanswer_s = 20\n'
        '[shifts]\npaid_hours = [7.0]\nunpaid_break_minutes = 60\nbreak_after_hours = 6\n'
        'start_step_minutes = 30\nweekly_hours = 35\ndays_per_week = 5\n'
        '[pricing]\nactive = "R"\n[pricing.regimes.R]\neur_per_min = 0.0\n'
        '[policy]\noffshore_cap = 1.0\nmax_shortfall_share = 0.0\n'
        '[inputs]\nplateaux = "../inputs/two/plateaux.csv"\n'
        'providers = "../inputs/two/providers.csv"\nprofiles = "../inputs/two/profiles.csv"\n',
        encoding="utf-8")
    return str(model)


def ratios(args) -> None:
    base = scenario.load()
    x20 = scenario.load(None, scenario.parse_set(UPLIFT_X20))
    wide = bounded(base, 0.5, 1.2)
    cases = {"default week": (base, {}), "default week x20": (x20, {}),
             "bounds 50-120 %, fixed": (wide, {}),
             "bounds 50-120 %, optimise": (wide, {"headcount": "optimise"}),
             "default, optimise (blank bounds)": (base, {"headcount": "optimise"})}
    got = {k: [] for k in cases}
    for _ in range(args.repeats):  # interleaved
        for k, (sc, extra) in cases.items():
            got[k].append(run(sc, weeks=1, time_limit=args.time_limit, **extra))
    for k in cases:
        print(line(k, got[k]))
    med = {k: statistics.median(x["wall"] for x in v) for k, v in got.items()}
    cpu_m = {k: statistics.median(x["cpu"] for x in v) for k, v in got.items()}
    for a, b in (("default week x20", "default week"),
                 ("bounds 50-120 %, optimise", "bounds 50-120 %, fixed"),
                 ("default, optimise (blank bounds)", "default week")):
        r, rc = med[a] / med[b], cpu_m[a] / cpu_m[b]
        print(f"ratio {a} / {b}: wall {r:.2f}, CPU {rc:.2f} (target <= {RATIO_TARGET:g}: "
              f"{'met' if rc <= RATIO_TARGET else 'NOT met'} on CPU)")


def two(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sc = scenario.load(two_plateau(Path(tmp)))
        ms = [run(sc, headcount="optimise", time_limit=args.time_limit)
              for _ in range(args.repeats)]
    print(line("two plateaux, 2 weeks, optimise", ms))
    wall = statistics.median(m["wall"] for m in ms)
    print(f"  headcount {ms[-1]['headcount']}; target < {TWO_PLATEAU_TARGET_S:g} s wall: "
          f"{'met' if wall < TWO_PLATEAU_TARGET_S else 'NOT met'} ({wall:.1f} s)")


def _other_vertices():
    """Each week's, re-plan's and re-solve's first LP solved without HiGHS's presolve (later
    solves as the run's own): equally optimal plans at other vertices, whose rosters can cost
    the pass much more or less (docs/rosters.md, "Limits")."""
    from unittest import mock

    from staffing.allocation import highs

    first, make = highs.first_solve, highs.solver

    def solver(opts, deadline, mip, *a, **k):
        s = make(opts, deadline, mip, *a, **k)
        if not mip and hasattr(s, "optionsDict"):
            s.optionsDict["presolve"] = "off"
        return s

    def first_solve(prob, opts, deadline):
        with mock.patch.object(highs, "solver", solver):
            first(prob, opts, deadline)
        h = highs.kept(prob)
        if h is not None:
            h.setOptionValue("presolve", "choose")
    return mock.patch.object(highs, "first_solve", first_solve)


def year_run(rosters: bool, reuse_weeks: bool, time_limit: float, weeks: int = 52,
             other_vertices: bool = False) -> dict:
    """One 52-week run as `staffing optimise --weeks 52` does it (in this fresh interpreter):
    optimise, economics, the rule check, the written run; figures by phase (bench/phases.py).
    other_vertices: the weeks' LPs solved at other optimal vertices (`_other_vertices`)."""
    import contextlib
    from unittest import mock

    from staffing import economics, report
    from staffing.allocation import reuse
    from staffing.rosters import check

    import phases as phases_mod

    ph = phases_mod.Phases()
    same = mock.patch.object(reuse, "distinct", lambda keys: {w: w for w in range(len(keys))})
    with phases_mod.instrumented(ph), \
            (mock.patch.object(reuse, "distinct", reuse.distinct) if reuse_weeks else same), \
            (_other_vertices() if other_vertices else contextlib.nullcontext()), \
            tempfile.TemporaryDirectory() as tmp:
        from staffing.allocation import highs

        t0, c0, h0 = time.perf_counter(), phases_mod.cpu(), highs.RUN_CPU_S[0]
        sc = scenario.load()
        opts = allocation.Options(weeks=weeks, workers=2, time_limit=time_limit, rosters=rosters)
        plan = allocation.optimise(sc, opts)
        plan = economics.add_to_plan(sc, plan)
        rule_check = (lambda: check.check_run(dict(plan.tables), plan.manifest)
                      ) if "rosters" in plan.tables else None
        if "meanwhile" in inspect.signature(report.write_plan).parameters:  # as the command
            report.write_plan(sc, plan, Path(tmp) / "run", force=True, settings=(), charts=None,
                              meanwhile=rule_check)
        else:  # (an --against tree from before the rule check ran beside the workbook)
            report.write_plan(sc, plan, Path(tmp) / "run", force=True, settings=(), charts=None)
            if rule_check is not None:
                rule_check()
        wall, cpu_s = time.perf_counter() - t0, phases_mod.cpu() - c0
        ph.add_job("in this process", {"highs": highs.RUN_CPU_S[0] - h0 - ph.highs_in_jobs})
    me, kid = phases_mod.peak_mb()
    m = plan.manifest
    return {"wall": wall, "cpu": cpu_s, "rss": me, "rss_worker": kid, "phases_wall": ph.wall,
            "phases_cpu": ph.cpu, "jobs": ph.jobs, "phases_rss": ph.rss, "status": m["status"],
            "cost": m["staffing_cost_eur"], "late": m["late_calls"], "short": plan.shortfall_share,
            "timeline": phases_mod.pool_timeline(ph.spans),
            "resolved": len((m.get("rosters") or {}).get("weeks_resolved_from_rosters", []))}


def _child(kind: str, time_limit: float, weeks: int, src: str | None = None) -> dict:
    """A year run in a fresh interpreter (its own peak memory and imports): its figures;
    src: the source tree of `staffing` to run (another version, e.g. main's, as a baseline)."""
    import json
    import subprocess
    import sys

    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(Path(src).absolute())
    out = subprocess.run([sys.executable, __file__, "--year-child", kind, "--time-limit",
                          str(time_limit), "--year-weeks", str(weeks)], capture_output=True,
                         text=True, check=False, env=env)
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not lines:
        raise SystemExit(f"year run {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


AGAINST = "rostered, --against tree"
OTHER = "rostered, other vertices"
OTHER_AGAINST = "other vertices, --against tree"
# kind -> (rosters, reuse_weeks, other_vertices) of year_run
YEAR_KINDS = {"rostered": (True, True, False), "rule-free": (False, True, False),
              "rule-free, every week solved": (False, False, False), OTHER: (True, True, True)}


def year(args) -> None:
    """The 52-week default with rosters against the rule-free year, interleaved, medians."""
    kinds = ["rostered", "rule-free"] + (["rule-free, every week solved"] if args.year_reuse else [])
    runs = {k: (k, None) for k in kinds}
    if args.against:
        runs[AGAINST] = ("rostered", args.against)
        kinds.insert(1, AGAINST)
    if args.other_vertices:
        runs[OTHER] = (OTHER, None)
        kinds.insert(1, OTHER)
        if args.against:
            runs[OTHER_AGAINST] = (OTHER, args.against)
            kinds.insert(2, OTHER_AGAINST)
    got = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for k in kinds:
            kind, src = runs[k]
            got[k].append(_child(kind, args.time_limit * args.year_weeks, args.year_weeks, src))
    med = lambda k, f: statistics.median(x[f] for x in got[k])  # noqa: E731
    print(f"\n{args.year_weeks} weeks, 2 processes, fresh interpreter per run, medians of {args.repeats}")
    print(f"{'run':<30}{'wall s':>8}{'CPU s':>8}{'MB peak':>9}{'worker MB':>10}  status"
          f"{'cost EUR':>16}{'short':>9}")
    for k in kinds:
        last = got[k][-1]
        print(f"{k:<30}{med(k, 'wall'):>8.1f}{med(k, 'cpu'):>8.1f}{med(k, 'rss'):>9.0f}"
              f"{med(k, 'rss_worker'):>10.0f}  {last['status']:<10}{last['cost']:>14,.0f}"
              f"{100 * last['short']:>8.4f}%")
    base = "rule-free"
    print(f"ratio rostered / {base}: wall {med('rostered', 'wall') / med(base, 'wall'):.2f}, "
          f"CPU {med('rostered', 'cpu') / med(base, 'cpu'):.2f}")
    pairs = ([("rostered", AGAINST)] if args.against else []) + (
        [(OTHER, OTHER_AGAINST)] if args.against and args.other_vertices else []) + (
        [(OTHER, "rostered")] if args.other_vertices else [])
    for a, b in pairs:
        print(f"ratio {a} / {b}: wall {med(a, 'wall') / med(b, 'wall'):.2f}, CPU "
              f"{med(a, 'cpu') / med(b, 'cpu'):.2f}, peak memory {med(a, 'rss') / med(b, 'rss'):.2f}")
    if args.year_reuse:
        b = "rule-free, every week solved"
        print(f"ratio rule-free (identical weeks once) / every week solved: wall "
              f"{med(base, 'wall') / med(b, 'wall'):.2f}, CPU {med(base, 'cpu') / med(b, 'cpu'):.2f}")
    for k in kinds:
        _phase_table(k, got[k])
    r = got["rostered"]
    wall, rss = med("rostered", "wall"), max(med("rostered", "rss"), med("rostered", "rss_worker"))
    solver = statistics.median(_solver_cpu(x) / x["cpu"] for x in r)
    print(f"targets (rostered): wall {wall:.1f} s < {YEAR_TARGET_S:g} s: "
          f"{'met' if wall < YEAR_TARGET_S else 'NOT met'}; HiGHS + CP-SAT {100 * solver:.0f} % of "
          f"the CPU >= 50 %: {'met' if solver >= 0.5 else 'NOT met'}; peak {rss:.0f} MB < "
          f"{YEAR_MEMORY_MB} MB: {'met' if rss < YEAR_MEMORY_MB else 'NOT met'}")


def _solver_cpu(x: dict) -> float:
    j = x["jobs"]
    return (j.get("weeks", {}).get("highs", 0.0) + j.get("re-solves", {}).get("highs", 0.0)
            + j.get("carry re-plans", {}).get("highs", 0.0)
            + j.get("rosters", {}).get("cp-sat", 0.0) + j.get("in this process", {}).get("highs", 0))


def _phase_table(kind: str, runs: list) -> None:
    """Median wall and CPU seconds per phase, the command's peak resident memory by the
    phase's end, and the jobs' own CPU splits."""
    names = list(dict.fromkeys([n for x in runs for n in x["phases_wall"]]
                               + [n for x in runs for n in x["jobs"] if n != "in this process"]))
    med = lambda f, n: statistics.median(x[f].get(n, 0.0) for x in runs)  # noqa: E731
    print(f"  {kind}: phases (exclusive; CPU includes the phase's worker processes)")
    for n in names:
        splits = {}
        for x in runs:
            for k, v in x["jobs"].get(n, {}).items():
                splits.setdefault(k, []).append(v)
        inside = ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in splits.items())
        print(f"    {n:<22} wall {med('phases_wall', n):7.2f}  CPU {med('phases_cpu', n):7.2f}"
              f"  peak {med('phases_rss', n):5.0f} MB"
              + (f"   in the jobs: {inside}" if inside else ""))
    inside = statistics.median(x["jobs"].get("in this process", {}).get("highs", 0.0) for x in runs)
    print(f"    {'(HiGHS in this process':<22} CPU {inside:.2f}: re-plans, headcount)")
    other_w = statistics.median(x["wall"] - sum(x["phases_wall"].values()) for x in runs)
    other_c = statistics.median(x["cpu"] - sum(x["phases_cpu"].values()) for x in runs)
    print(f"    {'other (load, imports)':<22} wall {other_w:7.2f}  CPU {other_c:7.2f}")
    share = statistics.median(_solver_cpu(x) / x["cpu"] for x in runs)
    print(f"    HiGHS + CP-SAT: {100 * share:.0f} % of the CPU")
    lines = [x["timeline"] for x in runs if x.get("timeline")]
    if lines:
        tm = lambda k: statistics.median(t[k] for t in lines)  # noqa: E731
        print(f"    pool jobs of the rosters pass over {tm('span'):.1f} s: none running "
              f"{tm('running 0'):.1f} s, one {tm('running 1'):.1f} s (a worker idle); the "
              f"longest group's weeks, one after another: {lines[-1]['chain']} "
              f"{tm('chain s'):.1f} s")
        kinds = {k for t in lines for k in t.get("alone", {})}
        alone = {k: statistics.median(t.get("alone", {}).get(k, 0.0) for t in lines)
                 for k in kinds}
        top = sorted(alone, key=alone.get, reverse=True)[:4]
        if top:
            print("    jobs that ran alone (a worker idle): "
                  + ", ".join(f"{k} {alone[k]:.1f} s" for k in top))
    last = runs[-1]
    grew = [n for n in names if last["phases_rss"].get(n, 0.0) >= last["rss"] - 1.0]
    print(f"    peak memory of the command {last['rss']:.0f} MB, first reached by the end of: "
          f"{min(grew, key=lambda n: names.index(n)) if grew else 'other'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per run")
    ap.add_argument("--cbc", action="store_true", help="also the default week with CBC")
    ap.add_argument("--year", action="store_true", help="also 52 weeks on two processes")
    ap.add_argument("--year-only", action="store_true", help="only the 52 weeks")
    ap.add_argument("--year-reuse", action="store_true",
                    help="also the rule-free year with every week solved")
    ap.add_argument("--against", metavar="SRC", help="also the rostered year with the staffing "
                    "package of source tree SRC (e.g. `git archive main` unpacked), same run")
    ap.add_argument("--year-weeks", type=int, default=52, help="weeks of the --year runs")
    ap.add_argument("--other-vertices", action="store_true",
                    help="also the rostered year with its LPs at other optimal vertices (their "
                    "first LPs without presolve): how much the rosters' time depends on the plan")
    ap.add_argument("--year-child", choices=list(YEAR_KINDS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.year_child:
        import json

        rosters, reuse_weeks, other = YEAR_KINDS[args.year_child]
        print(json.dumps(year_run(rosters, reuse_weeks, args.time_limit, args.year_weeks, other)))
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; medians of "
          f"{args.repeats} runs")
    print(f"{'run':<34}{'wall s':>8}{'CPU s':>8}  {'status':<11}{'gap':>9}{'cost EUR':>14}"
          f"{'late calls':>12}{'short':>9}")
    if not args.year_only:
        ratios(args)
        two(args)
    if args.cbc and not args.year_only:
        sc = scenario.load()
        h = [run(sc, weeks=1, time_limit=args.time_limit) for _ in range(args.repeats)]
        c = [run(sc, weeks=1, solver="cbc", time_limit=args.time_limit) for _ in range(args.repeats)]
        print(line("1 week, highs", h))
        print(line("1 week, cbc", c))
    if args.year or args.year_only:
        year(args)
    print(f"load average now {os.getloadavg()[0]:.2f} (other processes share the cores)")


if __name__ == "__main__":
    main()
