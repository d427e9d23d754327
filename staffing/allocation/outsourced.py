"""The outsourced component: subcontractors and offshore sites, agents per slot, seats,
weekly hours and take-or-pay paid hours (docs/model.md)."""

from __future__ import annotations

import pandas as pd

from .lp import GE, LE


def add(ctx) -> tuple[list, dict]:
    """z[k,p,t] agents of provider k on plateau p in row t (integer unless relaxed), at most
    the seats per slot over all plateaux and max_weekly_hours a week; P_k >= worked hours and
    >= min_weekly_hours (take-or-pay), priced at cost_eur_per_hour.
    Returns ([(provider, plateau, row, var)], {provider: P_k})."""
    prov = ctx.scenario.providers
    z_vars, paid = [], {}
    for k, sub in prov[prov["kind"] != "inhouse"].iterrows():
        seats = float(sub["seats"]) if pd.notna(sub["seats"]) else None
        off = sub["kind"] == "offshore"
        upper = 0 if off and ctx.opts.offshore_cap <= 0 else seats
        per_slot: dict = {}
        hour_terms = []
        share_terms = ctx.answer_off if off else ctx.answer_out
        for p in sub["plateaux"]:
            for i in ctx.plateau_rows.get(p, ()):
                v = ctx.newvar(f"{ctx.pre}z_{k}_{p}_{i}", 0, upper, ctx.cat)
                z_vars.append((k, p, int(i), v))
                ctx.cover[i].append((v, ctx.eff[k]))
                per_slot.setdefault(ctx.slot_id[i], []).append(v)
                hour_terms.append((v, ctx.slot_h))
                share_terms.append((v, (1 - ctx.shrink[k]) * ctx.slot_h))
        if seats is not None:
            for j, vs in per_slot.items():
                if len(vs) > 1:
                    ctx.prob.add_row([(v, 1.0) for v in vs], LE, seats,
                                     f"{ctx.pre}seats_{k}_{j}")
        if pd.notna(sub["max_weekly_hours"]):
            ctx.prob.add_row(hour_terms, LE, float(sub["max_weekly_hours"]),
                             f"{ctx.pre}maxhours_{k}")
        min_h = float(sub["min_weekly_hours"]) if pd.notna(sub["min_weekly_hours"]) else 0.0
        pk = ctx.newvar(f"{ctx.pre}P_{k}", min_h, None)
        ctx.prob.add_row([(pk, 1.0)] + [(v, -a) for v, a in hour_terms], GE, 0.0,
                         f"{ctx.pre}paid_{k}")
        paid[k] = pk
        ctx.objective.append((pk, float(sub["cost_eur_per_hour"])))
    return z_vars, paid
