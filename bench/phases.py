"""Where a run of `staffing optimise` spends its time: wall and CPU seconds per phase.

`instrumented()` patches the pipeline's stage functions (by name, so nothing in `staffing`
changes) with timers. CPU seconds are this process's plus its finished children's (the week,
team and re-solve processes: a pool ends with its `run_jobs` call, so its workers' CPU falls in
the phase that ran it). Jobs run in a pool kept across calls (`parallel.kept_pool`) count
their own CPU in the phase that ran them until the pool ends; the pool's closing phase then
keeps only what the workers spent outside the jobs. Nested phases are exclusive: a phase's figures exclude the phases it
calls. Inside the worker processes, the jobs report their own CPU split: a solved week its
`cpu_s` (build, inside HiGHS, rounding and the rest of the solve, tables), a team's rosters the
CPU inside CP-SAT against the Python around it, a re-solved week the CPU inside HiGHS. Weeks
re-solved in a worker while the rosters pass goes on (`parallel.submit`) count their wall and
CPU in the rosters phase, and their CPU split among the re-solves' jobs; so do the groups'
roster jobs started one by one in the pass (`plan._Lanes`), and the weeks re-planned in a
worker (`plan._replan_job`: their wall time in the rosters phase, their CPU split among the
carry re-plans' jobs).

Used by bench/allocation.py --year (run in a fresh interpreter per measured run).
"""

from __future__ import annotations

import contextlib
import resource
import time
from unittest import mock


def cpu() -> float:
    """CPU seconds of this process and its finished (waited-for) children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mb() -> tuple[float, float]:
    """(peak resident MB of this process, of its largest finished child)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


class Phases:
    """Exclusive wall and CPU seconds per named phase, and the jobs' own CPU splits."""

    def __init__(self):
        self.wall: dict = {}
        self.cpu: dict = {}
        self.calls: dict = {}
        self.jobs: dict = {}  # phase -> {split name: CPU s summed over that phase's jobs}
        self.rss: dict = {}  # phase -> peak resident MB of this process at the phase's end
        self.spans: list = []  # (group or job kind, start, end): wall clock of each pool job
        self.highs_in_jobs = 0.0  # CPU in HiGHS of jobs that ran in this process (counted there)
        self.pending = 0.0  # CPU of jobs done in a kept pool whose workers are not reaped yet
        self._stack: list = []

    def cpu_now(self) -> float:
        return cpu() + self.pending

    def wrap(self, name: str, func):
        def timed(*args, **kwargs):
            frame = [time.perf_counter(), self.cpu_now(), 0.0, 0.0]  # start wall, cpu, nested
            self._stack.append(frame)
            try:
                return func(*args, **kwargs)
            finally:
                self._stack.pop()
                dw, dc = time.perf_counter() - frame[0], self.cpu_now() - frame[1]
                self.wall[name] = self.wall.get(name, 0.0) + dw - frame[2]
                self.cpu[name] = self.cpu.get(name, 0.0) + dc - frame[3]
                self.calls[name] = self.calls.get(name, 0) + 1
                self.rss[name] = max(self.rss.get(name, 0.0), peak_mb()[0])
                if self._stack:
                    self._stack[-1][2] += dw
                    self._stack[-1][3] += dc
        return timed

    def add_job(self, phase: str, split: dict) -> None:
        got = self.jobs.setdefault(phase, {})
        for k, v in split.items():
            got[k] = got.get(k, 0.0) + float(v)


def _timed_team_job(args):
    """plan._team_job with the CPU inside CP-SAT counted (runs in the team's process)."""
    from ortools.sat.python import cp_model

    from staffing.rosters import plan

    inside = [0.0]
    solve = cp_model.CpSolver.Solve

    def counted(self, *a, **k):
        c0 = time.process_time()
        try:
            return solve(self, *a, **k)
        finally:
            inside[0] += time.process_time() - c0

    c0, t0 = time.process_time(), time.time()
    with mock.patch.object(cp_model.CpSolver, "Solve", counted):
        out = plan._TEAM_JOB(args)
    out.attrs["bench_cpu_s"] = {"cp-sat": inside[0], "python": time.process_time() - c0 - inside[0]}
    out.attrs["bench_span"] = (str(args[0]), t0, time.time())
    return out


def _highs_split(job, args, phase: str | None = None):
    """job(args) with the CPU inside HiGHS counted in the result's cpu_s (runs in the week's
    process); phase: the bench phase its split goes to when it is not a re-solve."""
    from staffing.allocation import highs

    c0, h0, t0 = time.process_time(), highs.RUN_CPU_S[0], time.time()
    r = job(args)
    if r is not None:
        h = highs.RUN_CPU_S[0] - h0
        r.cpu_s = {"highs": h, "rest": time.process_time() - c0 - h}
        r.bench_span = (phase or "re-solve", t0, time.time())
        if phase:
            r.bench_phase = phase
    return r


def _timed_refit_job(args):
    """plan._refit_job with the CPU inside HiGHS counted."""
    from staffing.rosters import plan

    return _highs_split(plan._REFIT_JOB, args)


def _timed_replan_job(args):
    """plan._replan_job (a week re-planned in a worker of the pass), the same way."""
    from staffing.rosters import plan

    return _highs_split(plan._REPLAN_JOB, args, "carry re-plans")


# (module, attribute, phase): stage functions timed by name
STAGES = [
    ("staffing.allocation", "_weekly_requirements", "requirements"),
    ("staffing.allocation.headcount", "decide", "headcount"),
    ("staffing.allocation", "_run_weeks", "weeks"),
    ("staffing.rosters.plan", "team_rosters", "rosters"),
    ("staffing.rosters.plan", "build_rosters", "rosters"),  # (trees before team_rosters)
    ("staffing.rosters.plan", "_carry", "rosters"),  # the week-by-week pass around the two
    ("staffing.rosters.carry", "replan_week", "carry re-plans"),
    ("staffing.rosters.plan", "_refit_changed", "re-solves"),
    ("staffing.rosters.rebalance", "rebalance", "rebalance"),
    ("staffing.allocation", "_tables", "tables"),
    ("staffing.demand", "forecast_table", "tables"),
    ("staffing.rosters.plan", "add_tables", "roster tables"),
    ("staffing.economics", "add_to_plan", "economics"),
    ("staffing.rosters.check", "check_run", "rule check"),
    ("staffing.results.rundir", "normalise_table", "write: normalise"),
    ("staffing.results.files", "write_table_csv", "write: csv"),
    ("staffing.results.files", "write_table_parquet", "write: parquet"),
    ("staffing.results.workbook", "write_workbook", "write: xlsx"),
    # a large run's workbook is written by a forked copy beside the files: the wait for it,
    # its CPU (the copy's, once reaped) included
    ("staffing.results.rundir", "_wait", "write: xlsx"),
    ("staffing.report", "write_plan", "write: rest"),
]


@contextlib.contextmanager
def instrumented(ph: Phases):
    """Timers on STAGES, the job wrappers, and the jobs' CPU splits collected from run_jobs."""
    import importlib

    from staffing import allocation, parallel
    from staffing.rosters import plan

    run_jobs = parallel.run_jobs

    from staffing.allocation import highs

    def recorded(func, jobs, workers, progress=None, on_result=None):
        h0 = highs.RUN_CPU_S[0]
        jobs = list(jobs)
        kept = bool(getattr(parallel, "_kept", None)) and min(workers or 1, len(jobs)) > 1
        out = run_jobs(func, jobs, workers, progress, on_result)
        ph.highs_in_jobs += highs.RUN_CPU_S[0] - h0  # jobs run here (one job, one worker)
        for r in out:
            split = getattr(r, "cpu_s", None)
            attrs = getattr(r, "attrs", None)
            if split and hasattr(r, "week"):
                ph.add_job("re-solves" if func is _timed_refit_job else "weeks", split)
            elif attrs and "bench_cpu_s" in attrs:
                split = attrs.pop("bench_cpu_s")
                attrs.pop("bench_span", None)  # (jobs run together: not the pass's timeline)
                ph.add_job("rosters", split)
            if kept and split:
                ph.pending += sum(split.values())
        return out

    kept_pool = getattr(parallel, "kept_pool", None)
    submit = getattr(parallel, "submit", None)
    splits: list = []  # (phase, CPU split) of jobs started one by one in the kept pool
    # (re-solves, the groups' rosters of a week), read as each ends: keeping their futures
    # would keep every result (a year of roster lines) until the pool ends

    def split_of(f):
        r = f.result() if not f.cancelled() and not f.exception() else None
        attrs = getattr(r, "attrs", None)
        span = getattr(r, "bench_span", None) or (attrs or {}).pop("bench_span", None)
        if span is not None:
            ph.spans.append(span)
        if getattr(r, "cpu_s", None) and hasattr(r, "week"):
            splits.append((getattr(r, "bench_phase", "re-solves"), r.cpu_s))
        elif attrs and "bench_cpu_s" in attrs:
            splits.append(("rosters", attrs.pop("bench_cpu_s")))

    def recorded_submit(func, job):
        f = submit(func, job)
        if f is not None:
            f.add_done_callback(split_of)
        return f

    @contextlib.contextmanager
    def counted_pool(workers):
        with kept_pool(workers):
            yield
        ph.pending = 0.0  # its workers are reaped: their CPU is in the children's count now
        for phase, split in splits:  # (their CPU fell in the phase that ended the pool)
            ph.add_job(phase, split)
        splits.clear()

    with contextlib.ExitStack() as stack:
        for mod, attr, name in STAGES:
            m = importlib.import_module(mod)
            if hasattr(m, attr):
                stack.enter_context(mock.patch.object(m, attr, ph.wrap(name, getattr(m, attr))))
        plan._TEAM_JOB, plan._REFIT_JOB = plan._team_job, plan._refit_job
        plan._REPLAN_JOB = getattr(plan, "_replan_job", None)
        if plan._REPLAN_JOB is not None:  # (trees before it re-planned in this process)
            stack.enter_context(mock.patch.object(plan, "_replan_job", _timed_replan_job))
        stack.enter_context(mock.patch.object(plan, "_team_job", _timed_team_job))
        stack.enter_context(mock.patch.object(plan, "_refit_job", _timed_refit_job))
        stack.enter_context(mock.patch.object(allocation, "run_jobs", recorded))
        if kept_pool is not None:  # (trees before it ran a pool per call)
            stack.enter_context(mock.patch.object(parallel, "kept_pool", counted_pool))
        if submit is not None:
            stack.enter_context(mock.patch.object(parallel, "submit", recorded_submit))
        yield ph


def pool_timeline(spans: list, workers: int = 2) -> dict:
    """What the jobs started one by one in the kept pool (the rosters pass's) leave idle:
    seconds from the first job's start to the last one's end, seconds with k jobs running
    (k < workers: a worker idle), the seconds each group or job kind ran alone ("alone":
    what the others waited for, or could not start before), and the group whose roster jobs
    add up to the most wall time (its weeks run one after another: the pass cannot be
    shorter) with that time."""
    if not spans:
        return {}
    events = sorted([(a, 1) for _, a, _ in spans] + [(b, -1) for _, _, b in spans])
    running, t, busy = 0, events[0][0], {}
    for when, step in events:
        busy[running] = busy.get(running, 0.0) + when - t
        running, t = running + step, when
    alone: dict = {}
    cuts = sorted({when for when, _ in events})
    for lo, hi in zip(cuts, cuts[1:]):
        on = [who for who, a, b in spans if a <= lo and hi <= b]
        if len(on) == 1:
            alone[on[0]] = alone.get(on[0], 0.0) + hi - lo
    chains: dict = {}
    for who, a, b in spans:
        if who not in ("re-solve", "carry re-plans"):
            chains[who] = chains.get(who, 0.0) + b - a
    longest = max(chains, key=chains.get) if chains else None
    return {"span": events[-1][0] - events[0][0],
            **{f"running {k}": busy.get(k, 0.0) for k in range(workers)},
            "chain": longest, "chain s": chains.get(longest, 0.0), "alone": alone}
