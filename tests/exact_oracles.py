"""Exact linear algebra written for the tests, independent of verify/: a permutation-expansion
determinant, Gauss-Jordan elimination over Fractions and brute-force extreme rays of a cone. Slow
and obviously right; the oracles that the exact geometry and LP code is checked against."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Sequence


def determinant(m: Sequence[Sequence[Fraction | int]]) -> Fraction:
    """det by the permutation expansion (Leibniz)."""
    size = len(m)
    total = Fraction(0)
    for perm in itertools.permutations(range(size)):
        inversions = sum(1 for i in range(size) for j in range(i + 1, size) if perm[i] > perm[j])
        term = Fraction(-1 if inversions % 2 else 1)
        for i in range(size):
            term *= m[i][perm[i]]
        total += term
    return total


def inverse(m: Sequence[Sequence[Fraction]]) -> list[list[Fraction]] | None:
    """Gauss-Jordan inverse over Fractions; None when the matrix is singular."""
    size = len(m)
    a = [list(row) + [Fraction(int(i == j)) for j in range(size)] for i, row in enumerate(m)]
    for col in range(size):
        pivot = next((i for i in range(col, size) if a[i][col] != 0), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        a[col] = [v / a[col][col] for v in a[col]]
        for i in range(size):
            if i != col and a[i][col] != 0:
                f = a[i][col]
                a[i] = [v - f * w for v, w in zip(a[i], a[col])]
    return [row[size:] for row in a]


def solve(rows: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> list[Fraction] | None:
    """The solution of a square system; None when its rows are dependent."""
    inv = inverse(rows)
    if inv is None:
        return None
    return [sum((inv[r][k] * rhs[k] for k in range(len(rhs))), Fraction(0)) for r in range(len(rhs))]


def primitive(v: Sequence[int]) -> tuple[int, ...]:
    """The integer vector divided by the gcd of its entries (the zero vector stays zero)."""
    g = math.gcd(*v)
    return tuple(x // g for x in v) if g else tuple(v)


def extreme_rays(normals: Sequence[Sequence[int]], n: int) -> set[tuple[int, ...]]:
    """Extreme rays (primitive integers) of the pointed cone {x : a . x >= 0 for every a}: each is
    tight on n - 1 normals of rank n - 1, so it is their generalized cross product (cofactors) or
    its negative, whichever satisfies every row."""
    found = set()
    for chosen in itertools.combinations(normals, n - 1):
        d = tuple((-1) ** j * int(determinant([list(a[:j]) + list(a[j + 1:]) for a in chosen])) for j in range(n))
        if not any(d):
            continue
        for candidate in (d, tuple(-v for v in d)):
            if all(sum(x * y for x, y in zip(a, candidate)) >= 0 for a in normals):
                found.add(primitive(candidate))
    return found
