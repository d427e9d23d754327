"""From the LP's fractional plan to whole advisers and agents (docs/model.md, "Solving").

Shift counts are rounded team by team (`round_shifts`) and polished so every slot keeps the
in-house coverage the LP's outsourced agents leave to the teams (`polish_shifts`, across days
too); outsourced agents are rounded up where their caps allow and topped up greedily in slots
still short (`round_agents`, `fill_gaps`), then trimmed where a slot keeps its need without
the unit rounding added (`trim`). Each step stops when the run's deadline passes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pulp

from .highs import value, values


def u_values(m) -> np.ndarray:
    """Deficit per row (agents): the sum of its pieces."""
    return np.array([sum(value(v) for v in vs) for vs in m.u], dtype=float)


def staffed(m, z: np.ndarray) -> np.ndarray:
    """Answering agents per row from the shifts' current values and outsourced agents z."""
    x = values(v for *_, v in m.x)
    rows = np.array([i for _, _, i, _ in m.z], dtype=int)
    out = m.x_matrix @ x if len(x) else np.zeros(len(m.need))
    out = out + np.bincount(rows, weights=m.z_eff * z, minlength=len(m.need))
    if m.carry is not None:
        out = out + m.carry  # the previous week's shifts crossing midnight
    return out - values(m.cb)


def round_shifts(m, rules, deadline, max_hires: int = 50) -> bool:
    """Round the LP's shift counts to integers, team by team.

    A headcount the LP chose is rounded up. The shifts of each plateau-day are first rounded
    as a whole (largest remainders, so the team works exactly its contract hours and never has
    more shifts on a day than advisers); then spread over that day's patterns by rounding
    their cumulative count in order of start time, which keeps every slot's coverage within
    one adviser of the LP's, and polished (`polish_shifts`). When a slot that only in-house
    teams serve is still short and a team serving it may grow (--headcount optimise, below
    its maximum), the team takes one more adviser and the rounding starts again (at most
    `max_hires` times). Works group by group (a team's advisers on one contract, inhouse.py).
    Leaves the values in the variables; False when a group's contract allows several shift
    lengths (the hours equation then needs the solver).
    """
    if any(len(set(g[0].contract.paid_hours)) != 1 for g in _groups(m, rules).values()):
        return False
    z_lp = values(v for *_, v in m.z)
    in_need = m.need - u_values(m) + values(m.cb) - (staffed(m, z_lp) - m.x_matrix @ values(
        v for *_, v in m.x) + values(m.cb))  # what the LP's outsourced agents leave in-house
    lp = [(v, v.varValue) for *_, v in m.x] + [
        (h, h.varValue) for h in m.headcount.values() if isinstance(h, pulp.LpVariable)]
    bump: dict = {}
    for _ in range(max_hires + 1):
        for v, val in lp:
            v.varValue = val
        if not _round_teams(m, rules, bump):
            return False
        polish_shifts(m, in_need - 1e-6, deadline)
        grow = _teams_to_grow(m, in_need)
        if not grow or deadline.passed():
            break
        for k in grow:
            bump[k] = bump.get(k, 0) + 1
    return True


def _groups(m, rules) -> dict:
    """The model's groups (key -> (Group, headcount, (hours, days))); a model built without
    them (tests' hand-made ones) has one `[shifts]` group per team."""
    if getattr(m, "groups", None):
        return m.groups
    from ..rosters.contracts import Group, default_contract

    terms = (m.contract if m.contract is not None or rules is None
             else (rules.weekly_hours, rules.days_per_week))
    return {k: (Group(k, k, default_contract(rules) if rules is not None else None, None), h,
                terms, None) for k, h in m.headcount.items()}



def _x_group(m) -> list:
    """The group key of each x entry (the team's when the model has no groups)."""
    return m.x_group if getattr(m, "x_group", None) is not None else [k for k, *_ in m.x]


def _round_teams(m, rules, bump: dict) -> bool:
    groups: dict = {}
    for j, ((k, p, d, pat, v), g) in enumerate(zip(m.x, _x_group(m))):
        groups.setdefault(g, {}).setdefault((p, d), []).append(j)
    info = _groups(m, rules)
    for k, by_group in groups.items():
        grp, h, (week_hours, _), leave = info[k]
        hv = float(math.ceil(value(h) - 1e-6) + bump.get(k, 0))  # up: never less coverage
        if isinstance(h, pulp.LpVariable):
            h.varValue = hv
        total = (week_hours * hv if leave is None else leave["hours"]) / grp.contract.paid_hours[0]
        if abs(total - round(total)) > 1e-9:
            return False
        whole = _day_totals(m, by_group, hv, int(round(total)),
                            {} if leave is None else leave["per_date"])
        if whole is None:
            return False
        for g, key in enumerate(by_group):
            _spread(m, by_group[key], whole[g])
    return True


def _teams_to_grow(m, in_need: np.ndarray) -> set:
    """Teams with a headcount variable below its maximum serving a row still short that no
    outsourced provider serves."""
    x = values(v for *_, v in m.x)
    short = np.flatnonzero(in_need - m.x_matrix @ x > 1e-6)
    outsourced = {p for _, p, _, _ in m.z}
    short = [i for i in short if m.plateau_of_row[i] not in outsourced]
    if not short:
        return set()
    cols = np.unique(m.x_matrix[short].nonzero()[1])
    out = set()
    xg = _x_group(m)
    info = _groups(m, None)
    for k in {xg[j] for j in cols}:
        h = info[k][1]  # named and mixed groups have fixed counts
        if isinstance(h, pulp.LpVariable) and (h.upBound is None or value(h) + 1 <= h.upBound):
            out.add(k)
    return out


def _day_totals(m, by_group: dict, hv: float, total: int, away: dict | None = None):
    """Shifts per plateau-day of a group: largest remainders of the LP's, at most hv a day
    less the advisers on leave (`away`: date -> advisers) (shifts beyond the LP's total go,
    one per pass, by the same order)."""
    keys = list(by_group)
    lp = np.array([sum(value(m.x[j][4]) for j in by_group[g]) for g in keys])
    day = pd.factorize(np.array([d for _, d in keys], dtype="datetime64[ns]"))[0]
    cap = np.full(day.max() + 1 if len(day) else 0, hv)
    for (_, d), i in zip(keys, day):
        cap[i] = hv - (away or {}).get(pd.Timestamp(d).date(), 0)
    whole = np.floor(lp + 1e-7)
    rest = total - int(whole.sum())
    used = np.bincount(day, weights=whole, minlength=day.max() + 1 if len(day) else 0)
    order = np.argsort(-(lp - whole), kind="stable")
    while rest > 0:  # more than one pass only for advisers hired beyond the LP's headcount
        before = rest
        for g in order:
            if rest <= 0:
                break
            if used[day[g]] + 1 <= cap[day[g]]:
                whole[g] += 1
                used[day[g]] += 1
                rest -= 1
        if rest == before:
            return None
        order = np.argsort(-(lp - whole), kind="stable")
    return whole


def _spread(m, idx: list, total: float) -> None:
    """`total` shifts over a plateau-day's patterns: its cumulative LP count rounded in order
    of start time."""
    idx = sorted(idx, key=lambda j: (m.x[j][3].start_min, m.x[j][3].break_start_min or 0))
    cum = np.cumsum([value(m.x[j][4]) for j in idx])
    scale = total / cum[-1] if cum[-1] > 1e-9 else 0.0
    target = np.round(cum * scale) if scale else np.zeros(len(idx))
    if not scale and total > 0:  # the LP had none here: start them all together
        target[:] = total
    target[-1] = total
    counts = np.diff(np.concatenate([[0.0], np.maximum.accumulate(target)]))
    for j, c in zip(idx, counts):
        m.x[j][4].varValue = float(c)


def polish_shifts(m, need_in: np.ndarray, deadline, max_moves: int = 200) -> None:
    """Move advisers between patterns of the same team, plateau and day while some slot of that
    plateau-day has less in-house coverage than `need_in`, taking the move that lowers the
    day's total shortfall most; then across days."""
    if not m.x:
        return
    x = values(v for *_, v in m.x)
    a = m.x_matrix.tocsc()
    by_day: dict = {}
    for j, ((k, p, d, _, _), g) in enumerate(zip(m.x, _x_group(m))):
        by_day.setdefault((p, d), {}).setdefault(g, []).append(j)
    for (p, d), teams in by_day.items():
        if deadline.passed():
            break
        on = m.date_of_row == d
        if any(m.x[j][3].next_slots for js in teams.values() for j in js):
            on |= m.date_of_row == d + np.timedelta64(1, "D")  # shifts crossing midnight
        rows = np.flatnonzero((m.plateau_of_row == p) & on)
        _polish_day(a, x, rows, teams, need_in[rows], max_moves)
    if not deadline.passed():
        _polish_across_days(m, a, x, need_in, by_day, max_moves)
    for (*_, v), val in zip(m.x, x):
        v.varValue = float(val)


def _polish_day(a, x, rows, teams: dict, target, max_moves: int) -> None:
    cols = [j for js in teams.values() for j in js]
    sub = a[:, cols][rows, :].toarray()  # slots x patterns of this plateau-day
    pos = {j: c for c, j in enumerate(cols)}
    cur = a[rows, :] @ x  # with the day before's shifts crossing midnight into these slots
    for _ in range(max_moves):
        short = np.maximum(target - cur, 0.0)
        if short.sum() <= 0:
            break
        best, best_gain = None, 1e-9
        for js in teams.values():
            c = np.array([pos[j] for j in js])
            donors = c[x[np.array(js)] >= 1]
            if not len(donors):
                continue
            # delta[t, to, from]: coverage change of moving one adviser from -> to
            delta = sub[:, c][:, :, None] - sub[:, donors][:, None, :]
            after = cur[:, None, None] + delta
            # net: the plateau-day's total shortfall falls (so the moves end)
            gain = short.sum() - np.maximum(target[:, None, None] - after, 0.0).sum(axis=0)
            to, frm = np.unravel_index(int(np.argmax(gain)), gain.shape)
            if gain[to, frm] > best_gain:
                best, best_gain = (c[to], donors[frm]), gain[to, frm]
        if best is None:
            break
        to, frm = best
        x[cols[to]] += 1
        x[cols[frm]] -= 1
        cur += sub[:, to] - sub[:, frm]


def _polish_across_days(m, a, x, need_in, by_day: dict, max_moves: int) -> None:
    """A plateau-day still short takes a shift from another day of the same team, one whose
    slots all keep their in-house need without it, while the team has an adviser free that day."""
    cur = a @ x
    team = np.array(_x_group(m), dtype=object)
    day = np.array([d for _, _, d, _, _ in m.x])
    info = _groups(m, None)
    heads = {k: value(g[1]) for k, g in info.items()}
    away = {k: (g[3] or {}).get("per_date", {}) for k, g in info.items()}
    per_day: dict = {}
    for j in np.flatnonzero(x > 0):
        per_day[(team[j], day[j])] = per_day.get((team[j], day[j]), 0.0) + x[j]
    for (p, d), teams in by_day.items():
        rows = np.flatnonzero((m.plateau_of_row == p) & (m.date_of_row == d))
        for _ in range(max_moves):
            move = _best_day_move(a, x, cur, need_in, rows, teams, team, day, d, heads, per_day,
                                  away)
            if move is None:
                break
            recv, donor = move
            x[recv] += 1
            x[donor] -= 1
            cur += (a[:, recv] - a[:, donor]).toarray().ravel()
            per_day[(team[recv], d)] = per_day.get((team[recv], d), 0.0) + 1
            per_day[(team[donor], day[donor])] -= 1


def _best_day_move(a, x, cur, target, rows, teams, team, day, d, heads, per_day, away=None):
    short = np.maximum(target[rows] - cur[rows], 0.0)
    if short.sum() <= 0:
        return None
    slack = cur - target
    best, best_gain = None, 1e-9
    for k, js in teams.items():
        if per_day.get((k, d), 0.0) + 1 > heads[k] - (away or {}).get(k, {}).get(
                pd.Timestamp(d).date(), 0) + 1e-9:
            continue
        js = np.array(js)
        gain = np.minimum(a[:, js][rows, :].toarray(), short[:, None]).sum(axis=0)
        if gain.max() <= best_gain:
            continue
        recv = js[int(np.argmax(gain))]
        for j in np.flatnonzero((team == k) & (day != d) & (x >= 1)):
            lo, hi = a.indptr[j], a.indptr[j + 1]
            if (slack[a.indices[lo:hi]] - a.data[lo:hi] >= 0).all():
                best, best_gain = (recv, j), gain.max()
                break
    return best


class _Agents:
    """Outsourced agents being rounded: values z, the LP's fractions, and who may go down."""

    def __init__(self, m, scenario):
        self.k_of = np.array([k for k, *_ in m.z])
        self.rows = np.array([i for _, _, i, _ in m.z], dtype=int)
        lp = values(v for *_, v in m.z)
        self.z = np.ceil(lp - 1e-7)
        self.frac = lp - np.floor(lp + 1e-7)  # how much the LP wanted the unit rounding added
        self.up = self.z > np.floor(lp + 1e-7)
        keep = (1 - scenario.providers["shrinkage"]).to_dict()
        self.ans = np.array([keep[k] for k in self.k_of]) * scenario.slot_minutes / 60.0
        offshore = (scenario.providers["kind"] == "offshore").to_dict()
        self.offshore = np.array([offshore[k] for k in self.k_of], dtype=bool)
        self.inhouse_h = sum(keep[g.team] * (hours * value(h) if lv is None else lv["hours"])
                             for g, h, (hours, _), lv in _groups(m, scenario.shifts).values())

    def cut(self, mask, excess, worth=None) -> None:
        """Take rounded-up units back, smallest LP fraction first, until `excess` is gone;
        each unit removes worth[j] of it (1 by default)."""
        idx = np.flatnonzero(mask & self.up)
        for j in idx[np.argsort(self.frac[idx], kind="stable")]:
            if excess <= 1e-9:
                break
            self.z[j] -= 1
            self.up[j] = False
            excess -= 1.0 if worth is None else worth[j]

    def offshore_excess(self, cap: float) -> float:
        """Offshore answering hours above the cap (<= 0 when within it)."""
        za = self.z * self.ans
        others = self.inhouse_h + float(za[~self.offshore].sum())
        return float(za[self.offshore].sum()) * (1 - cap) - cap * others


def round_agents(m, scenario, opts) -> None:
    """Round outsourced agents from the LP: up to the next integer, then back down (smallest
    fractions first) wherever a seat cap, a weekly-hours cap or the offshore cap would break.
    Rounding down alone is always feasible, so the result is too."""
    if not m.z:
        return
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    ag = _Agents(m, scenario)
    slots = m.slot_of_row[ag.rows]
    for k in np.unique(ag.k_of):
        mine = ag.k_of == k
        seats = prov.at[k, "seats"]
        if pd.notna(seats):
            per_slot = np.bincount(slots[mine], weights=ag.z[mine], minlength=slots.max() + 1)
            for sl in np.flatnonzero(per_slot > float(seats) + 1e-9):  # only slots over the cap
                ag.cut(mine & (slots == sl), per_slot[sl] - float(seats))
        cap_h = prov.at[k, "max_weekly_hours"]
        if pd.notna(cap_h):
            over = (ag.z[mine].sum() * slot_h - float(cap_h)) / slot_h
            if over > 1e-9:
                ag.cut(mine, math.ceil(over - 1e-9))
    cap = opts.offshore_cap
    if ag.offshore.any() and cap < 1 and ag.offshore_excess(cap) > 1e-9:
        ag.cut(ag.offshore, ag.offshore_excess(cap), ag.ans * (1 - cap))
    fill_gaps(m, scenario, opts, ag)
    trim(m, scenario, ag)
    for (_, _, _, v), val in zip(m.z, ag.z):
        v.varValue = float(val)


def fill_gaps(m, scenario, opts, ag: _Agents) -> None:
    """Slots left short after rounding get whole outsourced agents, cheapest per answering
    agent first, where seats, weekly hours and the offshore cap leave room."""
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    deficit = m.need - staffed(m, ag.z)
    if not (deficit > 1e-6).any():
        return
    eff = ((1 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    cost = prov["cost_eur_per_hour"].to_dict()
    price = np.array([cost[k] / eff[k] for k in ag.k_of])
    seats, max_h = prov["seats"].to_dict(), prov["max_weekly_hours"].to_dict()
    load: dict = {}
    for j, (k, i) in enumerate(zip(ag.k_of, ag.rows)):
        load[(k, m.slot_of_row[i])] = load.get((k, m.slot_of_row[i]), 0.0) + ag.z[j]
    hours = {k: float(ag.z[ag.k_of == k].sum()) * slot_h for k in np.unique(ag.k_of)}
    by_row: dict = {}
    for j, i in enumerate(ag.rows):
        by_row.setdefault(i, []).append(j)
    for i in np.flatnonzero(deficit > 1e-6):
        for j in sorted(by_row.get(i, ()), key=lambda j: price[j]):
            k, key = ag.k_of[j], (ag.k_of[j], m.slot_of_row[i])
            while deficit[i] > 1e-6:
                if pd.notna(seats[k]) and load[key] + 1 > seats[k] + 1e-9:
                    break
                if pd.notna(max_h[k]) and hours[k] + slot_h > max_h[k] + 1e-9:
                    break
                ag.z[j] += 1
                if ag.offshore[j] and opts.offshore_cap < 1 and ag.offshore_excess(
                        opts.offshore_cap) > 1e-9:
                    ag.z[j] -= 1
                    break
                load[key] += 1
                hours[k] += slot_h
                deficit[i] -= eff[k]
            if deficit[i] <= 1e-6:
                break


def trim(m, scenario, ag: _Agents) -> None:
    """Take back rounded-up agents (smallest LP fraction first) whose slot stays at its need
    without them, unless their hours are paid anyway (below the take-or-pay minimum)."""
    prov = scenario.providers
    slot_h = scenario.slot_minutes / 60.0
    st = staffed(m, ag.z)
    min_h = prov["min_weekly_hours"].fillna(0.0).to_dict()
    hours = {k: float(ag.z[ag.k_of == k].sum()) * slot_h for k in np.unique(ag.k_of)}
    idx = np.flatnonzero(ag.up & (ag.z >= 1))
    for j in idx[np.argsort(ag.frac[idx], kind="stable")]:
        k, i = ag.k_of[j], ag.rows[j]
        if st[i] - m.z_eff[j] < m.need[i] - 1e-9 or hours[k] - slot_h < min_h[k] - 1e-9:
            continue
        ag.z[j] -= 1
        st[i] -= m.z_eff[j]
        hours[k] -= slot_h
