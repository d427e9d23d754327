"""The callbacks component: long calls cut at the threshold and finished by appointment,
served later the same day, never before the calls that need them (docs/model.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .lp import EQ, LE


def add(ctx) -> list:
    """b[i] >= 0 per row, agents serving appointments: cumulative service never ahead of the
    work generated, and all of a plateau-day's work served that day. Returns the b variables."""
    cb = [ctx.newvar(f"{ctx.pre}cb_{i}", 0) for i in range(ctx.n)]
    gen = ctx.req["callback_agents"].to_numpy(float)
    for (p, d), rows in ctx.groups.items():
        tag = f"{ctx.pre}{p}_{pd.Timestamp(d):%m%d}"
        total = float(gen[rows].sum())
        if total <= 0:
            for i in rows:
                cb[i].upBound = 0
            continue
        cum = np.cumsum(gen[rows])
        terms = [(cb[i], 1.0) for i in rows]
        for j in range(len(rows) - 1):
            ctx.prob.add_row(terms[: j + 1], LE, float(cum[j]), f"cbcum_{tag}_{j}")
        ctx.prob.add_row(terms, EQ, total, f"cbday_{tag}")
    return cb
