"""The `staffing erlang` command's work: one slot, an agent range, or a batch file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import queueing, scenario_report
from .errors import InputError

RESULT_COLUMNS = ["agents", "scheduled", "service_level", "asa_s", "occupancy", "p_wait",
                  "p_abandon"]
_OPTIONAL = {  # batch column -> (default key, lowest, highest, low bound open)
    "slot_minutes": ("slot_minutes", 0, None, True),
    "sl_target": ("sl_target", 0, 1, True),
    "answer_s": ("answer_s", 0, None, False),
    "shrinkage": ("shrinkage", 0, 1, False),
    "max_occupancy": ("max_occupancy", 0, 1, True),
    "asa_s": ("asa_s", 0, None, True),
    "patience_s": ("patience_s", 0, None, True),
    "max_abandon": ("max_abandon", 0, 1, False),
}


def _metrics(calls, aht_s, opts, agents) -> pd.DataFrame:
    """Result columns for given agents (arrays broadcast)."""
    patience = opts.get("patience_s")
    m = queueing.evaluate(calls, aht_s, opts["slot_minutes"], agents, opts["answer_s"],
                          patience_s=patience)
    agents = np.broadcast_to(np.asarray(agents), np.shape(m["service_level"]))
    return pd.DataFrame({
        "agents": agents.astype(np.int64),
        "scheduled": queueing.scheduled_staff(agents, opts["shrinkage"]),
        "service_level": m["service_level"], "asa_s": m["asa_s"],
        "occupancy": m["occupancy"], "p_wait": m["p_wait"], "p_abandon": m["p_abandon"],
    })


def _required(calls, aht_s, opts) -> np.ndarray:
    return queueing.required_agents(
        calls, aht_s, opts["slot_minutes"], opts["sl_target"], opts["answer_s"],
        asa_target_s=opts.get("asa_s"), max_occupancy=opts.get("max_occupancy"),
        patience_s=opts.get("patience_s"), max_abandon=opts.get("max_abandon"))


def _parse_agents(spec: str) -> np.ndarray:
    try:
        if ":" in spec:
            lo, hi = (int(v) for v in spec.split(":", 1))
        else:
            lo = hi = int(spec)
    except ValueError:
        raise InputError(f"expected N or N:M, got {spec!r}", field="--agents") from None
    if lo < 0 or hi < lo:
        raise InputError(f"expected 0 <= N <= M, got {spec!r}", field="--agents")
    if hi - lo > 100_000:
        raise InputError("range longer than 100,000 rows", field="--agents")
    return np.arange(lo, hi + 1)


OPTION_NAMES = {"calls": "--calls", "aht_s": "--aht", "slot_minutes": "--slot-minutes",
                "sl_target": "--sl", "answer_s": "--answer-time", "shrinkage": "--shrinkage",
                "max_occupancy": "--max-occupancy", "asa_target_s": "--asa",
                "patience_s": "--patience", "max_abandon": "--max-abandon", "agents": "--agents"}


def single(calls: float, aht_s: float, opts: dict, agents: str | None) -> pd.DataFrame:
    """Rows for one slot: the required staffing, or the given agent count(s)."""
    try:
        n = _required(calls, aht_s, opts) if agents is None else _parse_agents(agents)
        return _metrics(calls, aht_s, opts, np.atleast_1d(n))
    except InputError as exc:
        option = OPTION_NAMES.get(exc.field or "", exc.field)
        problem = exc.problem.replace(f"{exc.field} ", "", 1) if exc.field else exc.problem
        raise InputError(problem, field=option) from None


def render(rows: pd.DataFrame, as_json: bool, patience: bool) -> str:
    """A readable table, or JSON: one object for one row, a list for several."""
    records = [{k: _json_value(v) for k, v in rec.items()} for rec in rows.to_dict("records")]
    for rec in records:
        if not patience:
            rec["p_abandon"] = None
    if as_json:
        return json.dumps(records[0] if len(records) == 1 else records)
    cols = RESULT_COLUMNS if patience else RESULT_COLUMNS[:-1]
    head = ["agents", "scheduled", "SL", "ASA (s)", "occupancy", "P(wait)", "P(abandon)"][:len(cols)]
    lines = [[str(r["agents"]), str(r["scheduled"]), _pct(r["service_level"]), _sec(r["asa_s"]),
              _pct(r["occupancy"]), _pct(r["p_wait"])] + ([_pct(r["p_abandon"])] if patience else [])
             for r in records]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(head)] + [fmt(line) for line in lines])


def _json_value(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else (float(v) if math.isfinite(v) else None)
    return v


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def _sec(v) -> str:
    return "inf" if v is None else f"{v:.1f}"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or xlsx table; InputError for a missing file or an unknown extension."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file does not exist", file=str(path))
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            return pd.read_csv(path)
        if ext in (".xlsx", ".xlsm"):
            return pd.read_excel(path)
    except Exception as exc:  # unreadable content: say so in one line
        raise InputError(f"cannot read table: {exc}", file=str(path)) from None
    raise InputError(f"unsupported extension {ext!r} (use .csv or .xlsx)", file=str(path))


def _column(df: pd.DataFrame, col: str, path: Path, low, high, low_open) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    raw_missing = df[col].isna().to_numpy()
    bad = np.isnan(values) & ~raw_missing
    if low is not None:
        bad |= (values <= low) if low_open else (values < low)
    if high is not None:
        bad |= values > high
    if col in ("calls", "aht_s"):
        bad |= raw_missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        lo = "(" if low_open else "["
        rng = f"{lo}{low}, {high}]" if high is not None else f">{'=' if not low_open else ''} {low}"
        raise InputError(f"expected a number {rng}, got {df[col].iloc[i]!r}", file=str(path),
                         row=i + 2, field=col)
    return values


def batch(input_path: str, output_path: str, defaults: dict) -> int:
    """Read rows (calls, aht_s, optional per-row targets), write them with results added."""
    src, dst = Path(input_path), Path(output_path)
    if dst.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("unsupported extension (use .csv or .xlsx)", file=str(dst))
    if dst.resolve() == src.resolve():
        raise InputError("output would overwrite the input file", file=str(dst))
    df = read_table(src)
    for col in ("calls", "aht_s"):
        if col not in df.columns:
            raise InputError("missing column", file=str(src), field=col)
    calls = _column(df, "calls", src, 0, None, False)
    aht = _column(df, "aht_s", src, 0, None, True)
    opts = {}
    for col, (key, low, high, low_open) in _OPTIONAL.items():
        default = defaults.get(key)
        if col in df.columns:
            values = _column(df, col, src, low, high, low_open)
            if default is not None:
                values = np.where(np.isnan(values), default, values)
            elif col in ("patience_s",) and np.isnan(values).any():
                i = int(np.flatnonzero(np.isnan(values))[0])
                raise InputError("empty patience_s: set it on every row or give --patience",
                                 file=str(src), row=i + 2, field=col)
            opts[key] = values
        else:
            opts[key] = default
    try:
        n = _required(calls, aht, opts)
        res = _metrics(calls, aht, opts, n)
    except InputError as exc:
        raise InputError(exc.problem, file=str(src), field=exc.field) from None
    out = df.copy()
    for col in res.columns:
        out[col] = res[col].to_numpy()
    if opts.get("patience_s") is None:
        out["p_abandon"] = np.nan
    scenario_report.write_table(out, dst)
    return len(out)

