"""A small exact linear program: maximize c . z subject to G z <= h, over the rationals.

Used to place counterexample witnesses deep inside their cones (verify.geometry.planar.deepest_point).
The method is the primal simplex on the inequality form: it walks from vertex to vertex of
the feasible polyhedron, each vertex fixed by `len(z)` tight rows whose matrix B is kept
inverted exactly (one rank-one update per pivot). Bland's rule (smallest index both for the
row that leaves the tight set and for the row that enters it) rules out cycling. Every vertex
visited is feasible, so when the pivot cap stops the walk early the point returned is still
an exact feasible point, only not proven optimal.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from verify.core.linear import Vector, common_denominator, dot, is_zero


@dataclass(frozen=True)
class LPResult:
    point: Vector
    value: Fraction
    optimal: bool  # False: the pivot cap ended the walk (the point is feasible, maybe not optimal)
    # True: optimal with every multiplier of the tight rows > 0, which makes the point the only
    # optimum (any other feasible z has c . z < c . point), whatever vertex the walk started from
    unique: bool = False


def _gauss_jordan(aug: list[list[Fraction]], size: int) -> list[list[Fraction]]:
    """Reduce an augmented matrix exactly until its left size x size block is the identity."""
    for col in range(size):
        pivot = next((r for r in range(col, size) if aug[r][col] != 0), None)
        if pivot is None:
            raise ValueError("singular matrix")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        p = aug[col][col]
        aug[col] = [v / p for v in aug[col]]
        for r in range(size):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return aug


def inverse(matrix: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    """Exact Gauss-Jordan inverse; ValueError if the matrix is singular."""
    size = len(matrix)
    m = [list(map(Fraction, row)) + [Fraction(int(i == j)) for j in range(size)] for i, row in enumerate(matrix)]
    return [row[size:] for row in _gauss_jordan(m, size)]


def solve(matrix: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> list[Fraction]:
    """The exact solution of a square system; ValueError if the matrix is singular."""
    size = len(matrix)
    return [row[size] for row in _gauss_jordan([list(row) + [b] for row, b in zip(matrix, rhs)], size)]


def maximize(
    objective: Sequence[Fraction],
    rows: Sequence[Sequence[Fraction]],
    bounds: Sequence[Fraction],
    tight: Sequence[int],
    *,
    max_pivots: int = 500,
) -> LPResult:
    """max objective . z s.t. rows[i] . z <= bounds[i], from the feasible vertex where `tight` rows are equalities.

    The caller guarantees that the `tight` rows are linearly independent, as many as z has
    coordinates, and that their common point satisfies every row; the LP must be bounded.
    """
    size = len(objective)
    basis = list(tight)
    if len(basis) != size:
        raise ValueError("a vertex needs exactly one tight row per coordinate")
    inv = inverse([rows[i] for i in basis])  # B^-1: column k belongs to row basis[k]
    point = _mul(inv, [bounds[i] for i in basis])
    if not _feasible(rows, bounds, point):
        raise ValueError("the starting vertex is not feasible")
    for _ in range(max_pivots):
        # Multipliers y with B^T y = objective: all >= 0 means optimal (KKT).
        y = [sum((objective[r] * inv[r][k] for r in range(size)), Fraction(0)) for k in range(size)]
        leaving = [k for k in range(size) if y[k] < 0]
        if not leaving:
            return LPResult(point, dot(objective, point), True, all(v > 0 for v in y))
        k = min(leaving, key=lambda j: basis[j])
        direction = tuple(-inv[r][k] for r in range(size))  # B d = -e_k: leave row basis[k], keep the others
        best: tuple[Fraction, int] | None = None
        for i, row in enumerate(rows):
            rate = dot(row, direction)
            if rate <= 0 or i in basis:
                continue
            step = (bounds[i] - dot(row, point)) / rate
            if best is None or step < best[0]:
                best = (step, i)
        if best is None:
            raise ValueError("unbounded linear program")
        step, entering = best
        point = tuple(p + step * d for p, d in zip(point, direction))
        inv = _replace_row(inv, k, rows[entering])
        basis[k] = entering
    return LPResult(point, dot(objective, point), False)


def float_basis(
    objective: Sequence[Fraction],
    rows: Sequence[Sequence[Fraction]],
    bounds: Sequence[Fraction],
    tight: Sequence[int],
    *,
    max_pivots: int = 2000,
) -> list[int] | None:
    """The same walk in float64: a guess of the optimal tight rows, for `maximize` to start from.

    Nothing here is trusted: `maximize` recomputes the vertex exactly, checks that it is
    feasible and finishes the walk exactly. None if the float walk breaks down.
    """
    g = np.array([[float(v) for v in row] for row in rows])
    h = np.array([float(v) for v in bounds])
    c = np.array([float(v) for v in objective])
    size = len(c)
    basis = list(tight)
    tol = 1e-12
    for _ in range(max_pivots):
        b = g[basis]
        try:
            point = np.linalg.solve(b, h[basis])
            y = np.linalg.solve(b.T, c)
            leaving = [k for k in range(size) if y[k] < -tol]
            if not leaving:
                return basis
            k = min(leaving, key=lambda j: basis[j])
            direction = -np.linalg.solve(b, np.eye(size)[k])
        except np.linalg.LinAlgError:
            return None
        rate = g @ direction
        rate[basis] = 0.0
        candidates = np.nonzero(rate > tol)[0]
        if len(candidates) == 0:
            return None
        steps = np.maximum(h[candidates] - g[candidates] @ point, 0.0) / rate[candidates]
        best = steps.min()
        basis[k] = int(candidates[steps <= best + tol * max(1.0, abs(best))].min())
    return None


def _feasible(rows: Sequence[Sequence[Fraction]], bounds: Sequence[Fraction], point: Sequence[Fraction]) -> bool:
    """Every rows[i] . point <= bounds[i], exactly: the point as integers over one denominator
    D > 0, so that each row costs integer products (integer rows) and one comparison."""
    den = common_denominator(point)
    ints = [int(v * den) for v in point]
    return all(sum(map(operator.mul, row, ints)) <= bound * den for row, bound in zip(rows, bounds))


def _mul(matrix: Sequence[Sequence[Fraction]], vector: Sequence[Fraction]) -> Vector:
    return tuple(dot(row, vector) for row in matrix)


def _replace_row(inv: list[list[Fraction]], k: int, row: Sequence[Fraction]) -> list[list[Fraction]]:
    """B^-1 after row k of B is replaced by `row` (Sherman-Morrison; exact)."""
    size = len(inv)
    col = [inv[r][k] for r in range(size)]
    denom = dot(row, col)
    if denom == 0:
        raise ValueError("pivot on a dependent row")
    weights = [sum((row[r] * inv[r][j] for r in range(size)), Fraction(0)) - (1 if j == k else 0) for j in range(size)]
    return [[inv[r][j] - col[r] * weights[j] / denom for j in range(size)] for r in range(size)]


def rank(vectors: Sequence[Sequence[Fraction] | Sequence[int]]) -> int:
    """Exact rank by fraction-free Gaussian elimination: the same code for rational and for
    integer vectors (integers stay integers)."""
    rows = [list(v) for v in vectors if not is_zero(v)]
    if not rows:
        return 0
    width, r = len(rows[0]), 0
    for col in range(width):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        p = rows[r][col]
        for i in range(r + 1, len(rows)):
            f = rows[i][col]
            if f != 0:
                rows[i] = [p * x - f * y for x, y in zip(rows[i], rows[r])]
        r += 1
        if r == len(rows):
            break
    return r
