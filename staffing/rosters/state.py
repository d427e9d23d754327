"""The advisers' state before the horizon (`inputs.roster_state`, optional).

One row per adviser who worked just before the horizon: `adviser` (a generated id such as
`fr-lyon-0001`), `last_shift_end` (ISO local date-time, before the horizon's start) and
`days_in_a_row` (dates worked in a row up to and including the day before the horizon; 0 if
that day was off); optional `sundays_worked` (Sundays worked in the three weeks before the
horizon). Rosters then keep the daily rest from that last shift, the days in a row across the
horizon's start and the Sunday limit; `staffing check` checks them too.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..errors import InputError

COLUMNS = ("adviser", "last_shift_end", "days_in_a_row", "sundays_worked")


def load_state(path, start: dt.date, adviser_ids: set[str]) -> pd.DataFrame:
    """The state table, checked: columns adviser, last_shift_end (datetime64), days_in_a_row,
    sundays_worked (ints). Raises InputError naming file, row and field."""
    from ..scenario import read_table

    header, rows = read_table(path)
    for need in COLUMNS[:3]:
        if need not in header:
            raise InputError(f"missing column '{need}'", file=str(path), field=need)
    for name in header:
        if name not in COLUMNS and name != "source":
            raise InputError(f"unknown column '{name}'", file=str(path), row=1, field=name)
    out, seen = [], set()
    t0 = pd.Timestamp(start)
    for line, rec in rows:
        a = str(rec["adviser"] or "").strip()
        if a not in adviser_ids:
            raise InputError(f"unknown adviser '{a}' (ids are <team>-0001 ...)", file=str(path),
                             row=line, field="adviser")
        if a in seen:
            raise InputError(f"adviser '{a}' listed twice", file=str(path), row=line, field="adviser")
        seen.add(a)
        try:
            end = pd.Timestamp(str(rec["last_shift_end"]).strip())
        except (ValueError, TypeError):
            raise InputError(f"cannot read '{rec['last_shift_end']}' as a date-time",
                             file=str(path), row=line, field="last_shift_end") from None
        if pd.isna(end) or end > t0:
            raise InputError(f"{rec['last_shift_end']} is not before the horizon's start {start}",
                             file=str(path), row=line, field="last_shift_end")
        ints = []
        for field, hi in (("days_in_a_row", 13), ("sundays_worked", 3)):
            raw = rec.get(field)
            try:
                v = 0 if raw is None or str(raw).strip() == "" else int(float(str(raw)))
            except ValueError:
                raise InputError(f"cannot read '{raw}' as an integer", file=str(path), row=line,
                                 field=field) from None
            if not 0 <= v <= hi:
                raise InputError(f"{v} is out of range: must be in [0, {hi}]", file=str(path),
                                 row=line, field=field)
            ints.append(v)
        out.append((a, end, *ints))
    return pd.DataFrame(out, columns=list(COLUMNS))


def adviser_states(state: pd.DataFrame | None, start) -> dict:
    """builder.AdviserState per adviser, minutes from the horizon's start."""
    from .builder import AdviserState

    if state is None:
        return {}
    t0 = pd.Timestamp(start)
    out = {}
    for r in state.itertuples(index=False):
        last = int((r.last_shift_end - t0) / pd.Timedelta(minutes=1))
        k = int(r.sundays_worked)
        out[r.adviser] = AdviserState(int(r.days_in_a_row), last,
                                      tuple([False] * (3 - k) + [True] * k))
    return out
