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
    less the appointments served (every shift's slots at once; the sums in the order of a
    loop over the roster lines)."""
    out = np.zeros(len(req))
    for r in results:
        idx = np.flatnonzero(req["week"].to_numpy() == r.week)
        if len(r.z):
            np.add.at(out, idx[r.z["row"].to_numpy(int)],
                      r.z["agents"].to_numpy(float) * r.z["provider"].map(eff).to_numpy(float))
        out[idx] -= r.cb
    team_eff = rosters["team"].map(eff).to_numpy(float)
    for line, row in _cells(rosters, slot_minutes, row_of):
        np.add.at(out, row, team_eff[line])
    return out


CHUNK_LINES = 20_000  # roster lines per block of slots (memory: ~16 slots a line)


def _cells(rosters: pd.DataFrame, slot_minutes: int, row_of: dict):
    """Blocks of (roster line, requirement row) of every slot each line works on its plateau
    (its break excluded), lines in order and each line's slots in time order: `_rows` for all
    lines. row_of: (slot_start, plateau) -> row."""
    if not len(rosters) or not row_of:
        return
    step = np.timedelta64(slot_minutes, "m").astype("timedelta64[ns]")
    times = np.array([k[0] for k in row_of], dtype="datetime64[ns]")
    codes, plats = pd.factorize(pd.Index([k[1] for k in row_of], dtype=object))
    t0 = times.min()
    at = (times - t0) // step
    grid = np.full((int(at.max()) + 1, len(plats)), -1, dtype=np.int64)
    on = (times - t0) % step == np.timedelta64(0, "ns")
    grid[at[on], codes[on]] = np.fromiter(row_of.values(), dtype=np.int64, count=len(row_of))[on]
    s_all = rosters["shift_start"].to_numpy("datetime64[ns]")
    e_all = rosters["shift_end"].to_numpy("datetime64[ns]")
    bs_all = rosters["break_start"].to_numpy("datetime64[ns]")
    be_all = rosters["break_end"].to_numpy("datetime64[ns]")
    pc_all = plats.get_indexer(pd.Index(rosters["plateau"].to_numpy(object), dtype=object))
    for a in range(0, len(rosters), CHUNK_LINES):
        s, e = s_all[a:a + CHUNK_LINES], e_all[a:a + CHUNK_LINES]
        n = np.maximum(-((s - e) // step), 0).astype(np.int64)  # ceil((e - s) / step)
        local = np.repeat(np.arange(len(s)), n)
        t = s[local] + (np.arange(len(local)) - np.repeat(np.cumsum(n) - n, n)) * step
        work = ~((bs_all[a:a + CHUNK_LINES][local] <= t) & (t < be_all[a:a + CHUNK_LINES][local]))
        slot = (t - t0) // step
        pc = pc_all[a:a + CHUNK_LINES][local]
        ok = (work & (pc >= 0) & (slot >= 0) & (slot < len(grid))
              & ((t - t0) % step == np.timedelta64(0, "ns")))
        row = np.full(len(t), -1, dtype=np.int64)
        row[ok] = grid[slot[ok], pc[ok]]
        hit = row >= 0
        yield local[hit] + a, row[hit]


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


def _able(rosters: pd.DataFrame, own: dict, skills: dict, plateaux) -> dict:
    """Plateau -> whether each roster line's adviser may answer it (a bool Series on the
    rosters' index): the adviser's own skills (`own`: adviser -> set), else their team's
    (`skills`: team -> set). Read once per (adviser, team) pair of the lines."""
    a_code, a_ids = pd.factorize(rosters["adviser"])
    t_code, t_ids = pd.factorize(rosters["team"])
    _, at, line_pair = np.unique(a_code.astype(np.int64) * max(len(t_ids), 1) + t_code,
                                 return_index=True, return_inverse=True)
    pairs = list(zip(np.asarray(a_ids, dtype=object)[a_code[at]],
                     np.asarray(t_ids, dtype=object)[t_code[at]]))
    return {p: pd.Series(np.array([p in own.get(a, skills.get(k, ())) for a, k in pairs],
                                  dtype=bool)[line_pair], index=rosters.index)
            for p in plateaux}


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
    rosters = rosters.copy(deep=False)  # (a year's lines: only the plateaux change)
    rosters["plateau"] = rosters["plateau"].copy()
    staffed = _staffed(req, results, eff, scenario.slot_minutes, rosters, row_of)
    skills = {k: set(v) for k, v in prov.loc[prov["kind"] == "inhouse", "plateaux"].items()}
    named = getattr(scenario, "advisers", None)
    own = {} if named is None else {a: set(sk) for a, sk in zip(named["id"], named["skills"])}
    changed = set()
    start = pd.Timestamp(opts.start)
    able = _able(rosters, own, skills, scenario.plateaux.index)
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
