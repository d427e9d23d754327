"""Plateau moves on built rosters: an adviser answers another of the team's plateaux.

Which plateau a rostered adviser answers changes none of the working-time rules, so where a
plateau is left short by the rosters (a slot below its requirement, typically a plateau no
subcontractor serves) an adviser of a team with that skill, at work in that slot on another
plateau, takes it for the whole shift, if no slot of the plateau they leave falls below its
requirement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOL = 1e-6


def _staffed(req: pd.DataFrame, results, eff: dict, slot_minutes: int, rosters: pd.DataFrame,
             row_of: dict) -> np.ndarray:
    """Answering agents per requirement row: rostered advisers at work plus outsourced agents,
    less the appointments served (every shift's slots at once; the sums in the order of a
    loop over the roster lines)."""
    out = np.zeros(len(req))
    for r in results:
        idx = np.flatnonzero(req["week"].to_numpy() == r.week)
        if len(r.z):
            np.add.at(out, idx[r.z["row"].to_numpy(int)],
                      r.z["agents"].to_numpy(float) * r.z["provider"].map(eff).to_numpy(float))
        out[idx] -= r.cb
    line, row = _cells(rosters, slot_minutes, row_of)
    np.add.at(out, row, rosters["team"].map(eff).to_numpy(float)[line])
    return out


def _cells(rosters: pd.DataFrame, slot_minutes: int, row_of: dict) -> tuple:
    """(roster line, requirement row) of every slot each line works on its plateau (its break
    excluded), lines in order and each line's slots in time order: `_rows` for all lines."""
    if not len(rosters):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    step = np.timedelta64(slot_minutes, "m").astype("timedelta64[ns]")
    s = rosters["shift_start"].to_numpy("datetime64[ns]")
    e = rosters["shift_end"].to_numpy("datetime64[ns]")
    n = np.maximum(-((s - e) // step), 0).astype(int)  # slots from the start before the end
    line = np.repeat(np.arange(len(rosters)), n)
    t = s[line] + (np.arange(len(line)) - np.repeat(np.cumsum(n) - n, n)) * step
    bs = rosters["break_start"].to_numpy("datetime64[ns]")[line]
    be = rosters["break_end"].to_numpy("datetime64[ns]")[line]
    work = ~((bs <= t) & (t < be))  # NaT (no break) compares False
    line, t = line[work], t[work]
    keys = pd.MultiIndex.from_tuples(list(row_of), names=["slot_start", "plateau"])
    rows = np.fromiter(row_of.values(), dtype=int, count=len(row_of))
    at = keys.get_indexer(pd.MultiIndex.from_arrays(
        [t, rosters["plateau"].to_numpy()[line]], names=["slot_start", "plateau"]))
    hit = at >= 0
    return line[hit], rows[at[hit]]


def _rows(sh, slot_minutes: int, row_of: dict, plateau: str) -> list[int]:
    """Requirement rows of `plateau` in which the rostered shift `sh` is at work."""
    step = pd.Timedelta(minutes=slot_minutes)
    t, out = sh.shift_start, []
    while t < sh.shift_end:
        if not (pd.notna(sh.break_start) and sh.break_start <= t < sh.break_end):
            i = row_of.get((t, plateau))
            if i is not None:
                out.append(i)
        t += step
    return out


def rebalance(scenario, opts, req: pd.DataFrame, results, rosters: pd.DataFrame):
    """Move advisers between their team's plateaux where the rosters leave a slot short.
    Returns (rosters, set of weeks changed)."""
    prov = scenario.providers
    req = req.reset_index(drop=True)
    eff = ((1.0 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    row_of = {}
    for i, (t, p) in enumerate(zip(req["slot_start"], req["plateau"])):
        row_of.setdefault((t, p), i)
    need = (req["floor_agents"] if opts.sl_scope == "day" else req["agents"]).to_numpy(float)
    rosters = rosters.copy()
    staffed = _staffed(req, results, eff, scenario.slot_minutes, rosters, row_of)
    skills = {k: set(v) for k, v in prov.loc[prov["kind"] == "inhouse", "plateaux"].items()}
    changed = set()
    start = pd.Timestamp(opts.start)
    for i in np.flatnonzero(need - staffed > TOL):
        t, p = req.at[i, "slot_start"], req.at[i, "plateau"]
        cand = rosters[(rosters["plateau"] != p) & (rosters["shift_start"] <= t)
                       & (rosters["shift_end"] > t) & rosters["team"].map(
                           lambda k: p in skills.get(k, ())).astype(bool)]
        cand = cand[~((cand["break_start"] <= t) & (cand["break_end"] > t))]
        for sh in cand.itertuples():
            if need[i] - staffed[i] <= TOL:
                break
            leave = _rows(sh, scenario.slot_minutes, row_of, sh.plateau)
            if (staffed[leave] - eff[sh.team] < need[leave] - TOL).any():
                continue
            take = _rows(sh, scenario.slot_minutes, row_of, p)
            staffed[leave] -= eff[sh.team]
            staffed[take] += eff[sh.team]
            rosters.at[sh.Index, "plateau"] = p
            week = int((sh.date - start).days // 7)
            changed.add(week)
            if sh.shift_end > start + pd.Timedelta(days=7 * week + 7) and week + 1 < opts.weeks:
                changed.add(week + 1)  # a shift crossing midnight into the next week
    return rosters, changed
