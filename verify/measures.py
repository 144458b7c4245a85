"""Gaussian measure of cones, rigorously enclosed.

The standard normal law is rotation invariant, so the mass of a cone is its solid angle
over that of the sphere: for n = 2 an angle over 2*pi. Angles are computed in mpmath's
interval arithmetic (outward rounding) from exact rational rays, so every measure comes
with a lower and an upper bound that provably contain the true value.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Sequence

from mpmath import iv, mp, mpf

from verify.geometry import cross2, extreme_rays_2d
from verify.linear import Constraint, dot

WORKING_DPS = 60  # decimal digits carried by the interval arithmetic
iv.dps = WORKING_DPS
mp.dps = WORKING_DPS


def _iv(value: Fraction) -> object:
    return iv.mpf(value.numerator) / iv.mpf(value.denominator)


@dataclass(frozen=True)
class Measure:
    """A probability (fraction of R^n) known to lie in [lower, upper]."""

    lower: mpf
    upper: mpf
    method: str = "exact-angle"

    @property
    def value(self) -> mpf:
        return (self.lower + self.upper) / 2

    @property
    def radius(self) -> mpf:
        return (self.upper - self.lower) / 2

    def __add__(self, other: "Measure") -> "Measure":
        method = self.method if self.method == other.method else "mixed"
        return Measure(self.lower + other.lower, self.upper + other.upper, method)


ZERO = Measure(mpf(0), mpf(0))


def total(measures: Iterable[Measure]) -> Measure:
    """Sum of measures, keeping their common method (e.g. "exact-solid-angle"); exactly 0 if none."""
    items = list(measures)
    if not items:
        return ZERO
    result = items[0]
    for m in items[1:]:
        result = result + m
    return result


def from_interval(value: object, method: str) -> Measure:
    with mp.workdps(WORKING_DPS):
        return Measure(mpf(value.a), mpf(value.b), method)  # type: ignore[attr-defined]


def angle_between(r1: Sequence[Fraction], r2: Sequence[Fraction]) -> object:
    """Interval enclosure of the counter-clockwise angle from r1 to r2, in (0, 2*pi)."""
    turn, along = cross2(r1, r2), dot(r1, r2)
    if turn == 0 and along < 0:
        return iv.pi
    angle = iv.atan2(_iv(turn), _iv(along))
    if turn < 0:
        angle = angle + 2 * iv.pi
    return angle


def ray_angle(r: Sequence[Fraction]) -> object:
    """Interval enclosure of the polar angle of a 2-D ray, in [0, 2*pi)."""
    return angle_between((Fraction(1), Fraction(0)), r)


def cone_measure_2d(constraints: Sequence[Constraint]) -> Measure:
    rays = extreme_rays_2d(constraints)
    if not rays:
        return Measure(mpf(1), mpf(1))
    return from_interval(angle_between(rays[0], rays[1]) / (2 * iv.pi), "exact-angle")


def cone_measure(constraints: Sequence[Constraint], n: int) -> Measure | None:
    """The Gaussian measure of an open cone with non-empty interior, or None without a certified method."""
    if n == 2:
        return cone_measure_2d(constraints)
    try:
        from verify.solid_angles import cone_measure_nd  # higher dimensions live apart
    except ImportError:
        return None
    return cone_measure_nd(constraints, n)


def digits(value: mpf, significant: int = 20) -> str:
    with mp.workdps(WORKING_DPS):
        return mp.nstr(value, significant, min_fixed=-30, max_fixed=30)
