"""A week's model built from its components (docs/model.md writes it as math).

Components add their variables and constraints to a shared `Context`: `inhouse` (shifts and
headcount), `outsourced` (subcontractors and offshore sites), `offshore` (the share cap),
`callbacks` and `service` (requirement, deficit, SL curve, objective priorities). Several
weeks can be built into one problem (names carry the week) with shared headcount variables:
that is how `headcount.decide` takes one hiring decision for a horizon.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pulp

from .. import memory
from ..calendar import week_contract
from . import callbacks, inhouse, offshore, outsourced, service
from .lp import Problem


@dataclasses.dataclass
class Context:
    """What the components share while a week is built.

    Rows are the week's requirement rows (plateau x slot), numbered 0..n-1. cover[i] collects
    (variable, answering agents per unit) terms staffing row i; objective collects
    (variable, EUR per unit) terms; answer_* collect (variable, answering hours per unit) for
    the offshore cap.
    """

    scenario: object
    opts: object
    req: pd.DataFrame
    prob: pulp.LpProblem
    pre: str  # name prefix of the week's variables and constraints
    cat: str  # pulp.LpInteger, or pulp.LpContinuous for the relaxation
    need: np.ndarray  # agents per row: required (slot scope) or the floor (day scope)
    n: int = 0
    plateau: np.ndarray = None
    minute: np.ndarray = None
    dates: np.ndarray = None
    slot_id: np.ndarray = None
    day_rows: dict = None  # (date, plateau) -> {minute of day: [rows]}
    plateau_rows: dict = None  # plateau -> rows
    groups: dict = None  # (plateau, date) -> rows in time order
    unique_dates: list = None
    slot_h: float = 0.5
    eff: dict = None  # provider -> answering agents per logged agent
    shrink: dict = None
    cover: list = None
    objective: list = dataclasses.field(default_factory=list)
    const: float = 0.0
    # a re-solve's last resort: each row's deficit may pass its need, for callback work the
    # fixed rostered shifts cannot serve (service._deficit_vars)
    spill: bool = False
    answer_in: list = dataclasses.field(default_factory=list)
    answer_out: list = dataclasses.field(default_factory=list)
    answer_off: list = dataclasses.field(default_factory=list)
    contract: tuple = None  # (hours, days) an in-house adviser works this week (calendar)
    week: int = 0
    carry: np.ndarray = None  # answering agents per row already there: the previous week's
    # shifts crossing midnight into this week (a re-solve from rosters), zeros otherwise

    def newvar(self, name, low=None, up=None, cat=pulp.LpContinuous):
        # PuLP 3.3 wants variables created through their problem (LpVariable() warns each time)
        make = getattr(self.prob, "add_variable", pulp.LpVariable)
        return make(name, low, up, cat)


@dataclasses.dataclass
class Model:
    """A built week: the problem, its variable groups and the row data extraction needs."""

    prob: pulp.LpProblem
    x: list  # (provider, plateau, date, Pattern, var): the in-house interface, see inhouse.py
    z: list  # (provider, plateau, row, var)
    headcount: dict  # in-house provider -> var or number
    paid: dict  # outsourced provider -> var
    u: list  # per row: its deficit pieces
    cb: list
    day_short: list
    slot_of_row: np.ndarray
    plateau_of_row: np.ndarray
    date_of_row: np.ndarray
    x_matrix: object  # sparse rows x shifts: answering agents each shift gives each row
    need: np.ndarray
    z_eff: np.ndarray  # answering agents per outsourced agent, by z entry
    build_s: float
    objective: list = None  # the week's objective terms and constant
    const: float = 0.0
    contract: tuple = None  # (hours, days) a `[shifts]` adviser works this week (calendar)
    x_group: list = None  # group key of each x entry (inhouse.py)
    groups: dict = None  # group key -> (Group, headcount, (hours, days) this week)
    carry: np.ndarray = None  # answering agents per row from the previous week's shifts


def context(scenario, opts, req: pd.DataFrame, prob, week: int, carry=None) -> Context:
    """The week's rows indexed for the components (req: one week's requirement rows; carry:
    answering agents per row already at work, shape (len(req),), or None)."""
    prov = scenario.providers
    need = (req["floor_agents"] if opts.sl_scope == "day" else req["agents"]).to_numpy(float)
    ctx = Context(scenario, opts, req, prob, f"w{week + 1}_",
                  pulp.LpContinuous if opts.relax else pulp.LpInteger, need, n=len(req))
    ctx.plateau = req["plateau"].to_numpy()
    ctx.minute = (req["slot_start"].dt.hour * 60 + req["slot_start"].dt.minute).to_numpy()
    ctx.dates = req["date"].to_numpy()
    ctx.slot_id = req.groupby(["slot_start", "fold"], sort=True).ngroup().to_numpy()
    ctx.day_rows = {}
    for i in range(ctx.n):
        ctx.day_rows.setdefault((ctx.dates[i], ctx.plateau[i]), {}).setdefault(
            int(ctx.minute[i]), []).append(i)
    ctx.plateau_rows = {p: np.flatnonzero(ctx.plateau == p) for p in scenario.plateaux.index}
    ctx.unique_dates = sorted(set(ctx.dates))
    order = np.lexsort((req["fold"].to_numpy(), req["slot_start"].to_numpy()))
    ctx.groups = {}
    for i in order:
        ctx.groups.setdefault((ctx.plateau[i], ctx.dates[i]), []).append(int(i))
    ctx.slot_h = scenario.slot_minutes / 60.0
    ctx.eff = ((1.0 - prov["shrinkage"]) / prov["aht_factor"]).to_dict()
    ctx.shrink = prov["shrinkage"].to_dict()
    ctx.cover = [[] for _ in range(ctx.n)]
    ctx.contract = week_contract(scenario, opts.start or scenario.start, week)
    ctx.week = week
    ctx.carry = np.zeros(ctx.n) if carry is None else np.asarray(carry, dtype=float)
    return ctx


def build(scenario, opts, req: pd.DataFrame, week: int, prob=None, heads=None,
          carry=None, spill: bool = False) -> Model:
    """The week's model. prob: add to this problem (several weeks) instead of a new one, and
    leave its objective to the caller; heads: in-house provider -> headcount (a number, or a
    variable shared by weeks) instead of the team's own (docs/model.md); carry: answering
    agents per row already at work from the previous week's rostered shifts crossing
    midnight (shape (len(req),); None: none); spill: every row's deficit may pass its need,
    at the top slope (a re-solve from rosters that cannot serve a day's callbacks)."""
    with memory.paused_gc():
        return _build(scenario, opts, req, week, prob, heads, carry, spill)


def _build(scenario, opts, req: pd.DataFrame, week: int, prob, heads, carry,
           spill: bool = False) -> Model:
    t0 = time.perf_counter()
    own = prob is None
    prob = prob if prob is not None else Problem(f"week{week + 1}", pulp.LpMinimize)
    ctx = context(scenario, opts, req, prob, week, carry)
    ctx.spill = spill
    heads = inhouse.headcounts(ctx, heads)
    x_vars, x_matrix, x_group, grp = inhouse.add(ctx, heads)
    if opts.rosters:  # days-off patterns and daily-rest transitions (docs/rosters.md)
        from ..rosters.aggregate import tour_terms

        start = pd.Timestamp(opts.start or scenario.start) + pd.Timedelta(days=7 * week)
        ctx.objective += tour_terms(prob, ctx.newvar, x_vars, x_group, grp, scenario.rules,
                                    week, start)
    z_vars, paid = outsourced.add(ctx)
    offshore.add(ctx)
    cb = callbacks.add(ctx)
    u, day_short = service.add(ctx, cb)
    if own:
        prob += pulp.LpAffineExpression(ctx.objective, constant=ctx.const)
    return Model(prob, x_vars, z_vars, heads, paid, u, cb, day_short, ctx.slot_id, ctx.plateau,
                 ctx.dates, x_matrix, ctx.need, np.array([ctx.eff[k] for k, *_ in z_vars]),
                 time.perf_counter() - t0, ctx.objective, ctx.const, ctx.contract, x_group, grp,
                 ctx.carry)
