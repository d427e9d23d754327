"""What the weekly allocation model carries of the working-time rules (docs/rosters.md).

Per in-house group (a team's advisers on one contract) and week, with x the model's shifts
and H the group's headcount:

- days-off patterns: m_j >= 0 advisers working the day set j (the contract's days among the
  week's open days), sum_j m_j = H, and on each date sum_{p,s} x = sum_{j works d} m_j (a
  group with members on leave this week: one such set of patterns per leave class, its
  advisers' days among the dates they are not on leave); a
  pattern without two days off in a row costs NO_PAIR_EUR (when that option is on), so the
  plan leans to tours that give them;
- daily-rest transitions: for consecutive dates d, d+1 and each end time theta of d, the
  advisers ending at or after theta on d and those starting on d+1 less than the daily rest
  after theta are different people, so together they are at most the advisers working d or
  d+1: sum late + sum early + sum_{j off d and d+1} m_j <= H (+ a slack priced at
  TRANSITION_EUR per adviser, so rounding never makes the model infeasible).
"""

from __future__ import annotations

import itertools

import pandas as pd

NO_PAIR_EUR = 1.0  # per adviser-week without two days off in a row: a tie-breaker
TRANSITION_EUR = 200.0  # per adviser over a daily-rest transition limit


def tour_terms(prob, newvar, x_vars: list, x_group: list, groups: dict, rules,
               week: int, week_start=None) -> list:
    """Add the days-off patterns and daily-rest transition limits of every in-house group to
    `prob` (groups: key -> (Group, headcount, (hours, days) this week), x_group: the group of
    each x entry; week_start: the week's first date, so that "two days off in a row" reads
    real days when a group has no shift on some dates); return the objective terms
    [(var, eur)] they bring."""
    from ..allocation.lp import EQ, LE, add_row

    by_team: dict = {}
    for (k, p, d, pat, v), g in zip(x_vars, x_group):
        by_team.setdefault(g, {}).setdefault(pd.Timestamp(d), []).append((pat, v))
    objective = []
    rest = int(round(rules.daily_rest_hours * 60))
    for k, days in by_team.items():
        _, h, (_, days_per_week), leave = groups[k]
        dates = sorted(days)
        pos = ([(d - pd.Timestamp(week_start)).days for d in dates] if week_start is not None
               else list(range(len(dates))))
        m = {}
        classes = ({frozenset(): (h, days_per_week)} if leave is None else leave["classes"])
        for c, (away, (count, n_c)) in enumerate(classes.items()):
            free = [i for i, d in enumerate(dates) if d.date() not in away]
            terms = []
            for j, work in enumerate(itertools.combinations(free, min(n_c, len(free)))):
                on = {pos[i] for i in work}
                off = [i for i in range(7) if i not in on]
                pair = any(b - a == 1 for a, b in zip(off, off[1:]))
                v = newvar(f"tour_{k}_w{week}_{j}" + (f"_c{c}" if c else ""), 0)
                m[(c, work)] = v
                terms.append(v)
                if rules.two_days_off_in_a_row and not pair:
                    objective.append((v, NO_PAIR_EUR))
            add_row(prob, [(v, 1.0) for v in terms], EQ, count,
                    f"tours_{k}_w{week}" + (f"_c{c}" if c else ""))
        if not hasattr(prob, "_staffing_tours"):
            prob._staffing_tours = {}  # for rosters/carry.py: per group, (dates worked, var)
        prob._staffing_tours[k] = [(frozenset(dates[i] for i in w), v) for (_, w), v in m.items()]
        for i, d in enumerate(dates):
            add_row(prob, [(v, 1.0) for _, v in days[d]]
                    + [(v, -1.0) for (_, w), v in m.items() if i in w], EQ, 0.0,
                    f"tourday_{k}_{d:%m%d}")
        for i in range(len(dates) - 1):
            d, e = dates[i], dates[i + 1]
            if (e - d).days != 1:
                continue
            both_off = [v for (_, w), v in m.items() if i not in w and i + 1 not in w]
            for theta in sorted({pat.end_min for pat, _ in days[d]}):
                late = [v for pat, v in days[d] if pat.end_min >= theta]
                early = [v for pat, v in days[e] if pat.start_min + 1440 - theta < rest]
                if not late or not early:
                    continue
                slack = newvar(f"rest_{k}_{d:%m%d}_{theta}", 0)
                objective.append((slack, TRANSITION_EUR))
                add_row(prob, [(v, 1.0) for v in late + early + both_off] + [(slack, -1.0)],
                        LE, h, f"rest_{k}_{d:%m%d}_{theta}")
    return objective
