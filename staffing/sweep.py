"""Parameter sweeps: one optimisation per grid point (model keys x pricing regimes), in parallel,
with each finished point kept on disk so that an interrupted sweep resumes where it stopped.

A grid axis is `KEY=LO:HI:STEP` (inclusive), `KEY=V1,V2,...` or `KEY=V`, KEY a dotted model key
as for `--set`; `service_level.target` is accepted for `service.sl_target`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, StaffingError
from . import tempfiles
from .parallel import run_jobs

ALIASES = {"service_level.target": "service.sl_target", "service_level.answer_s": "service.answer_s"}
POINT_COLUMNS = ["regime", "calls", "cost_eur", "revenue_eur", "net_cost_eur", "wait_hours",
                 "service_level", "asa_s", "offshore_share", "shortfall_share", "net_cost_eur_year"]


MAX_POINTS = 10_000  # values per grid axis


def parse_param(text: str) -> tuple[str, list]:
    """"key=lo:hi:step" | "key=a,b,c" | "key=v" -> (key, values)."""
    from .scenario import parse_set

    if "=" not in text:
        raise InputError(f"expected KEY=LO:HI:STEP or KEY=V1,V2, got '{text}'", field="--param")
    key, spec = (s.strip() for s in text.split("=", 1))
    key = ALIASES.get(key, key)
    if not key or not spec:
        raise InputError(f"empty key or values in '{text}'", field="--param")
    if ":" in spec and not spec.startswith(("[", '"')):
        parts = spec.split(":")
        try:
            lo, hi, step = (float(p) for p in parts) if len(parts) == 3 else (None,) * 3
        except ValueError:
            lo = None
        if lo is None or not all(map(math.isfinite, (lo, hi, step))):
            raise InputError(f"range must be LO:HI:STEP finite numbers, got '{spec}'",
                             field="--param")
        if step <= 0 or hi < lo:
            raise InputError(f"range {spec}: need STEP > 0 and HI >= LO", field="--param")
        n = int(math.floor((hi - lo) / step + 1e-9)) + 1
        if n > MAX_POINTS:
            raise InputError(f"range {spec} has {n:,} values: at most {MAX_POINTS:,} per axis",
                             field="--param")
        values = [round(lo + i * step, 10) for i in range(n)]
        if all(float(v).is_integer() for v in (lo, hi, step)) and not any("." in p for p in parts):
            values = [int(v) for v in values]
        return key, values
    values = [parse_set([f"{key}={v}"])[key] for v in spec.split(",")]
    return key, values


def column_name(key: str) -> str:
    """Table column for a swept key: dots become underscores."""
    return key.replace(".", "_")


@dataclasses.dataclass
class Point:
    key: str  # stable hash of everything that determines the result
    params: dict  # model key -> value
    regime: str
    scenario: object
    opts: object


def grid(model, settings: tuple, params: list[tuple[str, list]], regimes: list[str], base_opts,
         hashes) -> list[Point]:
    """Every point of params x regimes, each with its loaded scenario (bad values fail here)."""
    from . import scenario as scenario_mod

    base_set = scenario_mod.parse_set(settings)
    keys = [k for k, _ in params]
    if len(set(keys)) != len(keys):
        raise InputError("a key is swept twice", field="--param")
    points = []
    for combo in itertools.product(*(v for _, v in params)):
        over = dict(zip(keys, combo))
        sc = scenario_mod.load(model, {**base_set, **over})
        for r in regimes:
            if r not in sc.regimes.index:
                raise InputError(f"unknown regime '{r}' (have {', '.join(sc.regimes.index)})",
                                 field="--regimes")
            opts = dataclasses.replace(base_opts, regime=r, workers=1).resolved(sc)
            ident = {"model": str(sc.path), "settings": sorted(settings), "params": over,
                     "regime": r, "inputs": hashes(sc),
                     "options": {k: str(v) for k, v in dataclasses.asdict(opts).items()
                                 if k != "workers"}}
            digest = hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()
            points.append(Point(digest[:16], over, r, sc, opts))
    return points


def _run_point(point: Point) -> tuple[str, dict]:
    from . import allocation, economics

    try:
        plan = allocation.optimise(point.scenario, point.opts)
    except StaffingError as exc:
        return point.key, {"error": str(exc).splitlines()[0]}
    fig = economics.evaluate_plan(point.scenario, plan, point.regime).figures
    row = {column_name(k): v for k, v in point.params.items()}
    row.update({c: fig[c] for c in POINT_COLUMNS})
    row["status"] = plan.manifest.get("status", "")
    row["point_key"] = point.key
    row["warnings"] = list(plan.warnings)  # (kept in the point's file, not in the table)
    return point.key, row


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=tempfiles.prefix(path.name), dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def finished_points(points_dir: Path | None, previous: Path | None) -> dict[str, dict]:
    """Rows already computed: point files in points_dir, and rows of a previous sweep.csv."""
    done: dict[str, dict] = {}
    if previous is not None and previous.is_file():
        try:
            old = pd.read_csv(previous)
        except (OSError, ValueError, pd.errors.ParserError):
            old = pd.DataFrame()
        if "point_key" in old.columns:
            for row in old.drop(columns=["scenario"], errors="ignore").to_dict("records"):
                done[str(row["point_key"])] = row
    if points_dir is not None and points_dir.is_dir():
        for f in points_dir.glob("*.json"):
            try:
                row = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a torn file: recompute that point
            done[f.stem] = row
    return done


def run(points: list[Point], points_dir: Path | None, previous: Path | None = None,
        workers: int | None = None, progress: bool = True
        ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Optimise the points not finished yet; returns the table (grid order), failures, and
    the points' plan warnings as "REGIME KEY=VALUE, ...: warning" (those of points taken from a
    previous sweep.csv are not kept there)."""
    from tqdm import tqdm

    done = finished_points(points_dir, previous)
    todo = [p for p in points if p.key not in done]
    if points_dir is not None:
        points_dir.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    bar = tqdm(total=len(points), initial=len(points) - len(todo), desc="sweep", unit="point",
               disable=None if progress else True, leave=False)

    def keep(point: Point, row: dict):
        if "error" in row:
            failures.append(f"{point.regime} {point.params}: {row['error']}")
        else:
            done[point.key] = row
            if points_dir is not None:
                _write_atomic(points_dir / f"{point.key}.json", json.dumps(row, default=float))
        bar.update()

    workers = max(1, min(len(todo), workers or os.cpu_count() or 1))
    try:
        run_jobs(_run_point, todo, workers, on_result=lambda i, res: keep(todo[i], res[1]))
    finally:
        bar.close()
    rows = [done[p.key] for p in points if p.key in done]
    said = [f"{p.regime} " + ", ".join(f"{k}={v}" for k, v in p.params.items()) + f": {w}"
            for p in points if p.key in done for w in done[p.key].get("warnings") or ()]
    cols = [column_name(k) for k in (points[0].params if points else {})]
    table = pd.DataFrame(rows, columns=cols + POINT_COLUMNS + ["status", "point_key"])
    return table, failures, said


def best_points(table: pd.DataFrame, param_cols: list[str], max_shortfall_share: float) -> pd.DataFrame:
    """Per regime, the point of least net cost among those within the allowed shortfall."""
    ok = table[table["shortfall_share"] <= max_shortfall_share + 1e-9]
    if ok.empty:
        return ok
    idx = ok.groupby("regime", sort=False)["net_cost_eur"].idxmin()
    return ok.loc[idx, ["regime"] + param_cols + ["cost_eur", "revenue_eur", "net_cost_eur",
                                                  "service_level", "asa_s"]].reset_index(drop=True)


def ties_within_tolerance(table: pd.DataFrame, best: pd.DataFrame, gap: float,
                          max_shortfall_share: float) -> dict:
    """Per regime: (other points, tolerance EUR) whose net cost lies within the integer plans'
    relative `gap` of the profit-optimal one, so the solver cannot tell them apart from it."""
    out = {}
    ok = table[table["shortfall_share"] <= max_shortfall_share + 1e-9]
    for r in best.itertuples(index=False):
        g = ok[ok["regime"] == r.regime]
        tol = gap * float(g["net_cost_eur"].abs().max()) if len(g) else 0.0
        near = int(((g["net_cost_eur"] - r.net_cost_eur).abs() <= tol).sum()) - 1
        out[r.regime] = (max(near, 0), tol)
    return out


def summary_table(scenario_name: str, table: pd.DataFrame, best: pd.DataFrame,
                  param_cols: list[str]) -> pd.DataFrame:
    """Tidy summary: points, and per regime the profit-optimal parameter values and net cost."""
    rows = [("points", float(len(table)), "points")]
    for r in best.itertuples(index=False):
        d = r._asdict()
        for c in param_cols:
            v = d[c]
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                rows.append((f"profit_optimal[{r.regime}].{c}", float(v), "value"))
        rows.append((f"profit_optimal[{r.regime}].net_cost", float(r.net_cost_eur), "eur"))
        rows.append((f"profit_optimal[{r.regime}].service_level", float(r.service_level), "share"))
    out = pd.DataFrame(rows, columns=["metric", "value", "unit"])
    out.insert(0, "scenario", scenario_name)
    return out
