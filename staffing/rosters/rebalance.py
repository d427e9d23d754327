"""Plateau moves on built rosters: an adviser answers another of their skills' plateaux (the
team's, or the advisers table's skills).

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
    less the appointments served."""
    out = np.zeros(len(req))
    for r in results:
        idx = np.flatnonzero(req["week"].to_numpy() == r.week)
        if len(r.z):
            np.add.at(out, idx[r.z["row"].to_numpy(int)],
                      r.z["agents"].to_numpy(float) * r.z["provider"].map(eff).to_numpy(float))
        out[idx] -= r.cb
    for sh in rosters.itertuples():
        for i in _rows(sh, slot_minutes, row_of, sh.plateau):
            out[i] += eff[sh.team]
    return out


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
    named = getattr(scenario, "advisers", None)
    own = {} if named is None else {a: set(sk) for a, sk in zip(named["id"], named["skills"])}
    changed = set()
    start = pd.Timestamp(opts.start)
    able = {p: pd.Series([p in own.get(a, skills.get(k, ())) for a, k in zip(
        rosters["adviser"], rosters["team"])], index=rosters.index, dtype=bool)
        for p in scenario.plateaux.index}  # each roster line's adviser may answer p
    for i in np.flatnonzero(need - staffed > TOL):
        t, p = req.at[i, "slot_start"], req.at[i, "plateau"]
        cand = rosters[(rosters["plateau"] != p) & (rosters["shift_start"] <= t)
                       & (rosters["shift_end"] > t) & able[p]]
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
