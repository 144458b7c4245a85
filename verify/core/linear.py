"""Exact homogeneous linear forms and constraints over the inputs x_0..x_{n-1}.

These are the common currency between regions, claims, geometry and the solver: a
constraint is `coeffs . x  OP  0` with Fraction coefficients, so the same object is handed
to Z3, printed as SMT-LIB 2 (`verify.smt.smtlib`) and evaluated exactly at a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Sequence

Vector = tuple[Fraction, ...]


class Op(str, Enum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "="


def dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    return sum((x * y for x, y in zip(a, b)), Fraction(0))


def sub(a: Sequence[Fraction], b: Sequence[Fraction]) -> Vector:
    return tuple(x - y for x, y in zip(a, b))


def common_denominator(values: Sequence[Fraction | int]) -> int:
    """The least common denominator of rational values: times it, every value is an integer."""
    den = 1
    for v in values:
        d = v.denominator
        if d != 1:
            den = den * d // math.gcd(den, d)
    return den


def primitive_integers(v: Sequence[int]) -> tuple[int, ...]:
    """The integer vector divided by the gcd of its entries (a positive rescaling); zero stays zero."""
    g = 0
    for x in v:
        g = math.gcd(g, x)
    if g <= 1:
        return tuple(v)
    return tuple(x // g for x in v)


def coprime_integers(coeffs: Sequence[Fraction | int]) -> tuple[int, ...]:
    """Coprime integers with the direction of a rational vector: denominators cleared, then divided
    by the gcd of the entries (a positive rescaling, so the same half-space); zero stays zero."""
    den = common_denominator(coeffs)
    return primitive_integers([c.numerator * (den // c.denominator) for c in coeffs])


def is_zero(a: Sequence[Fraction]) -> bool:
    return all(v == 0 for v in a)


def unit(n: int, i: int) -> Vector:
    return tuple(Fraction(1 if k == i else 0) for k in range(n))


@dataclass(frozen=True)
class Constraint:
    """`coeffs . x  op  0`."""

    coeffs: Vector
    op: Op

    def holds(self, x: Sequence[Fraction]) -> bool:
        value = dot(self.coeffs, x)
        return {
            Op.GT: value > 0,
            Op.GE: value >= 0,
            Op.LT: value < 0,
            Op.LE: value <= 0,
            Op.EQ: value == 0,
        }[self.op]

    def strict(self) -> "Constraint":
        """The open version (for interior questions)."""
        return Constraint(self.coeffs, {Op.GE: Op.GT, Op.LE: Op.LT}.get(self.op, self.op))

    def closed(self) -> "Constraint":
        """The closed version (for questions about the closure)."""
        return Constraint(self.coeffs, {Op.GT: Op.GE, Op.LT: Op.LE}.get(self.op, self.op))

    def positive_normal(self) -> Vector:
        """The normal a with the constraint read as a . x >= 0 (or > 0)."""
        if self.op in (Op.LT, Op.LE):
            return tuple(-c for c in self.coeffs)
        return self.coeffs


def gt(coeffs: Sequence[Fraction]) -> Constraint:
    return Constraint(tuple(coeffs), Op.GT)


def ge(coeffs: Sequence[Fraction]) -> Constraint:
    return Constraint(tuple(coeffs), Op.GE)


def format_fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
