"""The offshore cap component: offshore agents' share of all answering hours (docs/model.md)."""

from __future__ import annotations

from .lp import LE


def add(ctx) -> None:
    """(1 - cap) x offshore answering hours <= cap x the others', when cap < 1 (cap 0 is
    enforced by the offshore agents' upper bound 0 in `outsourced`)."""
    cap = ctx.opts.offshore_cap
    if not ctx.answer_off or cap >= 1:
        return
    terms = [(v, c * (1 - cap)) for v, c in ctx.answer_off]
    terms += [(v, -c * cap) for v, c in ctx.answer_out + ctx.answer_in]
    ctx.prob.add_row(terms, LE, 0.0, f"{ctx.pre}offshore_cap")
