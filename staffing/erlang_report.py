"""The `staffing erlang` command's work: one slot, an agent range, or a batch file."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import queueing, scenario_report, tables
from .errors import InputError
from .safe_text import unescape_series

RESULT_COLUMNS = ["agents", "scheduled", "service_level", "asa_s", "occupancy", "p_wait",
                  "p_abandon"]
_OPTIONAL = {  # batch column -> (default key, lowest, highest, low bound open)
    "slot_minutes": ("slot_minutes", 0, None, True),
    "sl_target": ("sl_target", 0, 1, True),
    "answer_s": ("answer_s", 0, None, False),
    "shrinkage": ("shrinkage", 0, 1, False),
    "max_occupancy": ("max_occupancy", 0, 1, True),
    "asa_target_s": ("asa_s", 0, None, True),
    "asa_s": ("asa_s", 0, None, True),  # the ASA target in a file without result columns
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


BATCH_ROWS = 200_000  # rows searched at a time: 1,000,000 at once took 300 MB of temporaries


def _required(calls, aht_s, opts) -> np.ndarray:
    """Required agents per row (arrays of a batch's rows, options scalar or per row), searched
    BATCH_ROWS rows at a time: each row is its own search, so the result is the whole
    batch's. An InputError is the whole batch's own (its message reads all the rows)."""
    n = np.size(calls)
    if n <= BATCH_ROWS:
        return _required_rows(calls, aht_s, opts)
    try:
        return np.concatenate([
            _required_rows(calls[i:i + BATCH_ROWS], aht_s[i:i + BATCH_ROWS],
                           {k: v[i:i + BATCH_ROWS] if np.ndim(v) else v for k, v in opts.items()})
            for i in range(0, n, BATCH_ROWS)])
    except InputError:
        return _required_rows(calls, aht_s, opts)


def _required_rows(calls, aht_s, opts) -> np.ndarray:
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
    check_options(opts)
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


# Batch columns besides calls, aht_s and the overrides above: labels copied through as text.
LABEL_COLUMNS = ("id", "label", "name", "plateau", "queue", "slot_start", "date", "time",
                 "note", "scenario")


def check_options(opts: dict, file: str | None = None) -> None:
    """Refuse option combinations that would be silently ignored: an abandonment cap without
    a patience (Erlang A). `opts` values are scalars or per-row arrays (NaN: not set)."""
    ab, pat = opts.get("max_abandon"), opts.get("patience_s")
    set_ab = ab is not None and bool(np.any(~np.isnan(np.asarray(ab, dtype=float))))
    if not set_ab:
        return
    no_pat = pat is None or bool(np.any(np.isnan(np.asarray(pat, dtype=float))
                                        & ~np.isnan(np.asarray(ab, dtype=float))))
    if no_pat:
        if file:
            raise InputError("max_abandon needs patience_s (Erlang A) on the same rows, or "
                             "--patience", file=file, field="max_abandon")
        raise InputError("needs --patience (the abandonment cap is an Erlang A target)",
                         field="--max-abandon")


def _check_columns(header: list[str], file: str) -> None:
    """Known batch columns only: a misspelt override would silently fall back to the default."""
    import difflib

    known = list(dict.fromkeys(["calls", "aht_s", *_OPTIONAL, *RESULT_COLUMNS, *LABEL_COLUMNS]))
    for col in ("calls", "aht_s"):
        if col not in header:
            raise InputError(tables.missing_column(col, header, known), file=file, row=1,
                             field=col)
    for col in header:
        if col not in known:
            close = difflib.get_close_matches(col, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"unknown column '{col}': {hint}batch columns are calls, aht_s, "
                             f"{', '.join(_OPTIONAL)}, and labels {', '.join(LABEL_COLUMNS)}",
                             file=file, row=1, field=col)


def _column(records, col: str, file: str, low, high, low_open) -> np.ndarray:
    """A numeric column (NaN where blank); InputError naming the first bad row."""
    values = np.full(len(records), np.nan)
    for i, (line, rec) in enumerate(records):
        v = rec.get(col)
        if v is None or (isinstance(v, str) and not v.strip()):
            if col in ("calls", "aht_s"):
                raise InputError("missing value", file=file, row=line, field=col)
            continue
        try:
            x = tables.to_float(v)
        except ValueError:
            raise InputError(tables.not_a_number(v), file=file, row=line, field=col) from None
        lo = "(" if low_open else "["
        rng = f"in {lo}{low:g}, {high:g}]" if high is not None else f"{'>' if low_open else '>='} {low:g}"
        out = (not np.isfinite(x) or (x <= low if low_open else x < low)
               or (high is not None and x > high))
        if out:
            raise InputError(f"{v} is out of range: must be a finite number {rng}", file=file,
                             row=line, field=col)
        values[i] = x
    return values


def _input_frame(header, records, csv: bool) -> pd.DataFrame:
    """The input rows as read, labels as text, for copying through to the output. Labels read
    from a CSV lose the neutralising apostrophe this package's CSV writer adds (a round trip
    gives back the same cells, not one more quote each time)."""
    from .safe_text import csv_unescape

    data = {c: [rec.get(c) for _, rec in records] for c in header if c not in RESULT_COLUMNS}
    frame = pd.DataFrame(data, dtype=object)
    for c in frame.columns:
        if c not in LABEL_COLUMNS:
            continue
        frame[c] = frame[c].map(lambda v: None if v is None else
                                csv_unescape(str(v)) if csv else str(v))
    return frame


def _read_checked(src: Path, defaults: dict):
    """(header, calls, aht_s, opts, labels frame) read cell by cell; InputError at the first
    bad cell, naming its row."""
    file = str(src)
    header, records = tables.read_table(src)
    _check_columns(header, file)
    calls = _column(records, "calls", file, 0, None, False)
    aht = _column(records, "aht_s", file, 0, None, True)
    opts = {key: defaults.get(key) for key, *_ in _OPTIONAL.values()}
    for col, (key, low, high, low_open) in _overrides(header).items():
        values = _column(records, col, file, low, high, low_open)
        if defaults.get(key) is not None:
            values = np.where(np.isnan(values), defaults[key], values)
        opts[key] = values
    return header, calls, aht, opts, _input_frame(header, records, src.suffix.lower() == ".csv")


def _fast_column(frame: pd.DataFrame, col: str, low, high, low_open, blank_ok: bool):
    """A numeric column read at once, or None when any cell needs the checked reader (not a
    plain number, out of range, or blank where a value is required)."""
    raw = frame[col].to_numpy(dtype=object)
    blank = pd.isna(raw)
    try:
        values = np.full(len(raw), np.nan)
        values[~blank] = np.asarray(raw[~blank], dtype=float)  # Python's float() per cell
    except (ValueError, TypeError):
        return None
    x = values[~blank]
    bad = ~np.isfinite(x) | ((x <= low) if low_open else (x < low))
    if high is not None:
        bad |= x > high
    if bad.any() or (blank.any() and not blank_ok):
        return None
    return values


def _read_fast(src: Path, defaults: dict):
    """The batch of a well-formed CSV file read with pandas, whole columns at once; None to
    fall back to `_read_checked`, which gives the same values and names the row of any fault
    (decimal commas of a ';' file are read there too)."""
    if src.suffix.lower() != ".csv":
        return None
    frame = tables.read_frame(src)
    header = list(frame.columns)
    _check_columns(header, str(src))
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took extra cells for an index
        return None
    calls = _fast_column(frame, "calls", 0, None, False, blank_ok=False)
    aht = _fast_column(frame, "aht_s", 0, None, True, blank_ok=False)
    if calls is None or aht is None:
        return None
    opts = {key: defaults.get(key) for key, *_ in _OPTIONAL.values()}
    for col, (key, low, high, low_open) in _overrides(header).items():
        default = defaults.get(key)
        values = _fast_column(frame, col, low, high, low_open, blank_ok=True)
        if values is None:
            return None
        opts[key] = np.where(np.isnan(values), default, values) if default is not None else values
    labels = pd.DataFrame({c: unescape_series(frame.pop(c).fillna("")) if c in LABEL_COLUMNS
                           else np.nan for c in header if c not in RESULT_COLUMNS},
                          index=frame.index)
    return header, calls, aht, opts, labels


def _overrides(header: list[str]) -> dict:
    """The override columns this file's header holds. `asa_s` is both the ASA target of an
    input and the achieved ASA of an output: it is read as the target only in a file with no
    other result column (not an earlier output) and no `asa_target_s`."""
    earlier_output = any(c in header for c in RESULT_COLUMNS if c != "asa_s")
    return {c: spec for c, spec in _OPTIONAL.items() if c in header and not (
        c == "asa_s" and (earlier_output or "asa_target_s" in header))}


def _by_model(calls, aht, opts) -> pd.DataFrame:
    """Required agents and their metrics; rows with a NaN patience_s get Erlang C, the others
    Erlang A (each group solved on its own, rows back in input order)."""
    pat = opts.get("patience_s")
    if pat is None or np.ndim(pat) == 0 or not np.isnan(pat).any():
        return _metrics(calls, aht, opts, _required(calls, aht, opts))
    parts = []
    for rows in (np.flatnonzero(np.isnan(pat)), np.flatnonzero(~np.isnan(pat))):
        if not len(rows):
            continue
        sub = {k: v[rows] if np.ndim(v) else v for k, v in opts.items()}
        if np.isnan(pat[rows]).all():
            sub["patience_s"] = sub["max_abandon"] = None
        part = _metrics(calls[rows], aht[rows], sub, _required(calls[rows], aht[rows], sub))
        parts.append(part.set_axis(rows))
    return pd.concat(parts).sort_index().reset_index(drop=True)


def batch(input_path: str, output_path: str, defaults: dict) -> int:
    """Read rows (calls, aht_s, optional per-row targets), write them with results added.

    Input columns: calls, aht_s, the overrides in _OPTIONAL (blank: the option's value; a blank
    patience_s without --patience: Erlang C for that row), labels (LABEL_COLUMNS, copied through
    as text). Result columns of an earlier output are ignored and replaced, so an output can be
    fed back in; the ASA target is written as asa_target_s.
    """
    src, dst = Path(input_path), Path(output_path)
    file = str(src)
    if dst.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("unsupported extension (use .csv or .xlsx)", file=str(dst))
    if os.path.realpath(dst) == os.path.realpath(src):
        raise InputError("output would overwrite the input file", file=str(dst))
    fast = _read_fast(src, defaults)
    if fast is not None:
        header, calls, aht, opts, out = fast
    else:  # a workbook, a French ';' file, or a bad cell: the row-by-row reader says where
        header, calls, aht, opts, out = _read_checked(src, defaults)
    check_options(opts, file)
    try:
        res = _by_model(calls, aht, opts)
    except InputError as exc:
        raise InputError(exc.problem, file=file, field=exc.field) from None
    out["calls"], out["aht_s"] = calls, aht
    for col, (key, *_) in _overrides(header).items():
        out["asa_target_s" if key == "asa_s" else col] = opts[key]
    for col in res.columns:
        out[col] = res[col].to_numpy()
    if opts.get("patience_s") is None:
        out["p_abandon"] = np.nan
    scenario_report.write_table(out, dst)
    return len(out)
