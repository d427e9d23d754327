"""The week's problem: PuLP variables, rows held as arrays.

Building a week as PuLP constraints made an expression and a constraint object per row and a
dictionary per expression, more than half of a re-plan's Python (bench/allocation.py). A
`Problem` is a PuLP problem whose rows are added with `add_row` as (variable, coefficient)
terms and kept in flat lists; HiGHS receives them as arrays (highs._TimedHiGHS). A row means
what a PuLP constraint built with lpSum would: a variable repeated in a row has its
coefficients summed, the bounds are PuLP's (-(constant - rhs)), and the columns are
registered in the same order, so HiGHS gets the same model, column for column and row for
row. For any other solver (CBC), or for code that reads `constraints`, the rows become PuLP
constraints first (`materialise`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ


def expression(terms, constant: float = 0.0) -> pulp.LpAffineExpression:
    """The PuLP expression of (variable, coefficient) terms, a repeated variable's
    coefficients summed (pulp.LpAffineExpression(list) would keep the last one)."""
    e = pulp.LpAffineExpression(constant=constant)
    for v, a in terms:
        e.addterm(v, a)
    return e


def constraint(terms, sense: int, rhs, constant: float = 0.0) -> pulp.LpConstraint:
    """The PuLP constraint `sum(terms) + constant <sense> rhs` (rhs a number, a variable or
    an expression)."""
    e = expression(terms, constant)
    if isinstance(rhs, (int, float)):
        return pulp.LpConstraint(e, sense, rhs=rhs)
    return pulp.LpConstraint(e - rhs, sense)


def add_row(prob, terms: list, sense: int, rhs, name: str, constant: float = 0.0) -> None:
    """`prob.add_row` for a number `rhs`; the same PuLP constraint (held in order as a row by
    a Problem) when `rhs` is a variable or an expression (a headcount `--headcount optimise`
    decides)."""
    if isinstance(rhs, (pulp.LpVariable, pulp.LpAffineExpression)) or not isinstance(
            prob, Problem):
        prob += (constraint(terms, sense, rhs, constant), name)
        return
    prob.add_row(terms, sense, rhs, name, constant)


class Problem(pulp.LpProblem):
    """pulp.LpProblem with rows held as arrays (module docstring). `prob += (constraint,
    name)` keeps working: the constraint is held as a row, in order with the others."""

    def __init__(self, name="NoName", sense=pulp.LpMinimize):
        super().__init__(name, sense)
        self._vars: list = []  # the variable and coefficient of every row's terms, in order
        self._coefs: list = []
        self._starts: list = [0]  # where each row's terms start, and the end
        self._lower: list = []  # each row's bounds (None: none)
        self._upper: list = []
        self._names: list = []

    def add_row(self, terms: list, sense: int, rhs: float = 0.0, name: str | None = None,
                constant: float = 0.0) -> None:
        """The row `sum(terms) + constant <sense> rhs` (sense LE, GE or EQ; terms: list of
        (LpVariable, coefficient)). Raises pulp.PulpError for a rhs that is not finite."""
        if not np.isfinite(rhs):
            raise pulp.PulpError("Cannot set constraint RHS to NaN/inf values")
        if self._constraints:  # after `materialise`: in order after them, as PuLP's
            super().addConstraint(constraint(terms, sense, rhs, constant), name)
            return
        bound = -(constant - rhs)  # as LpConstraint.getLb/getUb
        self._hold(terms)
        self._lower.append(bound if sense in (GE, EQ) else None)
        self._upper.append(bound if sense in (LE, EQ) else None)
        self._names.append(name)

    def addConstraint(self, c, name=None):
        """A PuLP constraint, held as a row (after `materialise`: as PuLP holds it)."""
        if self._constraints or not isinstance(c, pulp.LpConstraint):
            return super().addConstraint(c, name)
        self._hold(list(c.items()))
        self._lower.append(c.getLb())
        self._upper.append(c.getUb())
        self._names.append(name or c.name)

    def _hold(self, terms: list) -> None:
        """A row's terms appended, its variables' columns registered in order of first use
        (as PuLP registers a constraint's)."""
        vs, cs = zip(*terms) if terms else ((), ())
        ids = self._variable_ids
        for v in vs:
            if v.hash not in ids:
                self._variables.append(v)
                ids[v.hash] = v
        self._vars.extend(vs)
        self._coefs.extend(cs)
        self._starts.append(len(self._vars))

    def row_arrays(self, index) -> tuple:
        """(lower, upper, starts, column index, coefficient) arrays of the held rows, their
        repeated variables summed and zero coefficients dropped, as PuLP's HiGHS interface
        passes a model; index(variable) -> its column. Bounds None are +-inf."""
        inf = np.inf
        lower = np.array([-inf if b is None else b for b in self._lower], dtype=float)
        upper = np.array([inf if b is None else b for b in self._upper], dtype=float)
        n = len(self._vars)
        col = np.fromiter(map(index, self._vars), dtype=np.int64, count=n)
        val = np.array(self._coefs, dtype=float).reshape(n)
        row = np.repeat(np.arange(len(self._names)), np.diff(self._starts))
        key = row * (int(col.max()) + 1 if n else 1) + col
        # a variable twice in a row: summed, first place kept (found by a hash look-up, in a
        # twentieth of the time np.unique takes to sort the keys)
        if n and pd.Series(key).duplicated().any():
            uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            summed = np.bincount(inverse, weights=val, minlength=len(uniq))
            order = np.argsort(first, kind="stable")
            row, col, val = row[first[order]], col[first[order]], summed[order]
        keep = val != 0
        row, col, val = row[keep], col[keep], val[keep]
        starts = np.searchsorted(row, np.arange(len(self._names)), side="left")
        return lower, upper, starts.astype(np.int32), col.astype(np.int32), val

    def materialise(self) -> None:
        """The held rows as PuLP constraints (for CBC, or to read `constraints`)."""
        vs, cs, starts = self._vars, self._coefs, self._starts
        held = list(zip(self._names, self._lower, self._upper))
        self._vars, self._coefs, self._starts = [], [], [0]
        self._lower, self._upper, self._names = [], [], []
        for r, (name, lo, hi) in enumerate(held):
            sense = EQ if lo is not None and hi is not None else GE if lo is not None else LE
            terms = zip(vs[starts[r]:starts[r + 1]], cs[starts[r]:starts[r + 1]])
            super().addConstraint(constraint(terms, sense, hi if lo is None else lo), name)

    def solve(self, solver=None, **kwargs):
        """PuLP's solve; rows made PuLP constraints first unless the solver reads the arrays."""
        from .highs import _TimedHiGHS

        if not isinstance(solver, _TimedHiGHS):
            self.materialise()
        return super().solve(solver, **kwargs)
