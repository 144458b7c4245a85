"""The exact maximum of a linear form over a closed cone cut by the cube [-1, 1]^n.

Why this is the worst case of a regression: on a cone where the error y - median is the linear
form c . x, the error is positively homogeneous, so max |c . x| / max_i |x_i| over the cone equals
max |c . x| over the cone intersected with the unit cube, a linear program. It is solved here by
the primal simplex on a tableau of Fractions (no rounding), with Bland's rule (smallest index
enters, smallest basic index leaves on ties) so that the many degenerate rows through the origin
cannot make it cycle.

Form: x = p - q with 0 <= p, q <= 1, and each cone row a . x >= 0 becomes -a.p + a.q <= 0. Every
right-hand side is >= 0, so the origin with the slack basis is a feasible start (no phase one),
and the feasible set projects onto exactly cone ∩ cube, so both programs have the same optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from verify.core.linear import Vector, dot


@dataclass(frozen=True)
class BoxOptimum:
    """max objective . x over the closed cone ∩ [-1, 1]^n, and a point attaining it."""

    value: Fraction
    point: Vector


def maximize_on_cube(objective: Sequence[Fraction], cone_rows: Sequence[Sequence[Fraction]]) -> BoxOptimum:
    """Exact max of objective . x subject to row . x >= 0 for every row and -1 <= x_i <= 1."""
    n = len(objective)
    width = 2 * n  # columns p_0..p_{n-1}, q_0..q_{n-1}; slacks follow
    rows: list[list[Fraction]] = []
    rhs: list[Fraction] = []
    for a in cone_rows:
        rows.append([-Fraction(v) for v in a] + [Fraction(v) for v in a])
        rhs.append(Fraction(0))
    for j in range(width):
        rows.append([Fraction(1 if k == j else 0) for k in range(width)])
        rhs.append(Fraction(1))
    m = len(rows)
    columns = width + m
    table = [row + [Fraction(1 if k == i else 0) for k in range(m)] for i, row in enumerate(rows)]
    basis = [width + i for i in range(m)]
    cost = [Fraction(v) for v in objective] + [-Fraction(v) for v in objective] + [Fraction(0)] * m
    while True:
        # reduced cost of column k: cost[k] - sum over rows of cost[basis[i]] * table[i][k]
        entering = None
        for k in range(columns):
            if k in basis:
                continue
            reduced = cost[k] - sum((cost[basis[i]] * table[i][k] for i in range(m) if table[i][k]), Fraction(0))
            if reduced > 0:
                entering = k
                break
        if entering is None:
            break
        leaving = None
        for i in range(m):
            if table[i][entering] > 0:
                ratio = rhs[i] / table[i][entering]
                if leaving is None or ratio < leaving[0] or (ratio == leaving[0] and basis[i] < basis[leaving[1]]):
                    leaving = (ratio, i)
        if leaving is None:  # cannot happen: every column is bounded by the cube rows
            raise ArithmeticError("unbounded box LP")
        r = leaving[1]
        pivot = table[r][entering]
        table[r] = [v / pivot for v in table[r]]
        rhs[r] = rhs[r] / pivot
        for i in range(m):
            if i != r and table[i][entering]:
                f = table[i][entering]
                table[i] = [v - f * w for v, w in zip(table[i], table[r])]
                rhs[i] = rhs[i] - f * rhs[r]
        basis[r] = entering
    z = [Fraction(0)] * columns
    for i, b in enumerate(basis):
        z[b] = rhs[i]
    point = tuple(z[j] - z[n + j] for j in range(n))
    return BoxOptimum(dot(objective, point), point)


def max_abs_on_cube(form: Sequence[Fraction], cone_rows: Sequence[Sequence[Fraction]]) -> BoxOptimum:
    """Exact max of |form . x| over the closed cone ∩ [-1, 1]^n, with a maximizing point."""
    up = maximize_on_cube(form, cone_rows)
    down = maximize_on_cube([-Fraction(v) for v in form], cone_rows)
    return up if up.value >= down.value else down
