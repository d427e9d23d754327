"""allocation.lp.Problem: rows held as arrays reach the solvers as PuLP's own constraints do."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from staffing.allocation import highs, lp


def _random_rows(rng, variables, n_rows):
    """(terms, sense, rhs, constant) rows: repeated variables and zero coefficients included."""
    rows = []
    for _ in range(n_rows):
        k = int(rng.integers(1, 6))
        picks = rng.integers(0, len(variables), k)
        coefs = rng.choice([0.0, 1.0, -1.0, 2.5, -0.25, 3.0], k)
        terms = [(variables[i], float(a)) for i, a in zip(picks, coefs)]
        if rng.random() < 0.2 and len(terms) > 1:  # a variable twice, summing to zero
            terms.append((terms[0][0], -terms[0][1]))
        sense = [lp.LE, lp.GE, lp.EQ][int(rng.integers(0, 3))]
        rows.append((terms, sense, float(rng.integers(-5, 20)), float(rng.integers(-2, 3))))
    return rows


def _both(seed):
    """The same random problem as an lp.Problem (add_row) and as a plain PuLP problem (lpSum
    constraints), variables created in the same order, an objective-only variable and a row
    added after the objective included."""
    n = 25
    out = []
    for cls in (lp.Problem, pulp.LpProblem):
        rng = np.random.default_rng(seed)
        prob = cls("t", pulp.LpMinimize)
        xs = [prob.add_variable(f"x{i}", 0, 10, pulp.LpInteger if i % 3 == 0 else
                                pulp.LpContinuous) for i in range(n)]
        only = prob.add_variable("only_in_objective", 1, 4)
        rows = _random_rows(np.random.default_rng(seed + 100), xs, 40)
        for r, (terms, sense, rhs, const) in enumerate(rows):
            if cls is lp.Problem:
                prob.add_row(terms, sense, rhs, f"r{r}", const)
            else:
                # (a * v would drop a zero coefficient's variable: singletons keep it)
                e = pulp.lpSum(pulp.LpAffineExpression([(v, a)]) for v, a in terms) + const
                prob += (pulp.LpConstraint(e, sense, rhs=rhs), f"r{r}")
        prob += pulp.lpSum(float(c) * v for v, c in zip(xs, rng.integers(1, 9, n))) + 2 * only
        late = prob.add_variable("late", 0, 3)
        if cls is lp.Problem:
            prob.add_row([(xs[1], 1.0), (late, 1.0)], lp.GE, 2.0, "after_objective")
        else:
            prob += (xs[1] + late >= 2.0, "after_objective")
        out.append(prob)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_held_rows_reach_highs_as_the_same_pulp_constraints_do(seed):
    import highspy

    held, plain = _both(seed)
    got = []
    for prob, cls in ((held, highs._TimedHiGHS), (plain, pulp.HiGHS)):
        prob.solverModel = highspy.Highs()
        cls(mip=True, msg=False).buildSolverModel(prob)
        got.append((prob.solverModel.getLp(), [v.name for v in prob.variables()]))
    (a, names_a), (b, names_b) = got
    assert names_a == names_b and "only_in_objective" in names_a
    assert a.num_row_ == b.num_row_ == 41
    for f in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert list(getattr(a, f)) == list(getattr(b, f)), f
    assert list(a.integrality_) == list(b.integrality_)
    for f in ("start_", "index_", "value_"):
        assert list(getattr(a.a_matrix_, f)) == list(getattr(b.a_matrix_, f)), f


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_held_rows_solve_to_the_plain_problems_optimum_with_highs_and_cbc(seed):
    results = []
    # (one thread, as every solve of the project: HiGHS keeps the first solve's thread pool)
    for solver in (lambda: highs._TimedHiGHS(msg=False, threads=1),
                   lambda: pulp.PULP_CBC_CMD(msg=False)):
        for prob in _both(seed):
            prob.solve(solver())
            results.append((pulp.LpStatus[prob.status],
                            None if prob.status != 1 else round(pulp.value(prob.objective), 6)))
    assert len(set(results)) == 1, results  # same status and optimum, four ways
    held = _both(seed)[0]
    held.solve(pulp.PULP_CBC_CMD(msg=False))  # CBC reads PuLP constraints: made from the rows
    assert len(held._constraints) == 41 and not held._names


def test_rows_after_materialise_follow_in_order_and_bad_rhs_is_refused():
    prob = lp.Problem("t")
    x, y = prob.add_variable("x", 0), prob.add_variable("y", 0)
    prob.add_row([(x, 1.0), (x, 1.0)], lp.GE, 4.0, "first")
    prob.materialise()
    prob.add_row([(y, 1.0)], lp.LE, 3.0, "second", constant=1.0)
    prob += (x + y <= 10, "third")
    assert list(prob._constraints) == ["first", "second", "third"]
    first = prob._constraints["first"]
    assert dict(first) == {x: 2.0} and first.getLb() == 4.0
    assert prob._constraints["second"].getUb() == 2.0
    with pytest.raises(pulp.PulpError):
        lp.Problem("u").add_row([(x, 1.0)], lp.LE, float("inf"), "bad")
