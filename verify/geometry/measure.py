"""Gaussian measure of cones, rigorously enclosed.

The standard normal law is rotation invariant, so the mass of a cone is its solid angle
over that of the sphere: for n = 2 an angle over 2*pi. Angles are computed in mpmath's
interval arithmetic (outward rounding) from exact rational rays, so every measure comes
with a lower and an upper bound that provably contain the true value.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Iterator

from mpmath import iv, mp, mpf

WORKING_DPS = 60  # decimal digits carried by the interval arithmetic

EXACT_ANGLE = "exact-angle"  # n = 2: an angle / 2 pi
EXACT_SOLID_ANGLE = "exact-solid-angle"  # n = 3: a solid angle / 4 pi (Girard)
CERTIFIED_QUADRATURE = {4: "certified-quadrature-4d", 5: "certified-quadrature-5d"}  # orthant.py


@contextmanager
def working_precision() -> Iterator[None]:
    """mpmath's real and interval contexts at WORKING_DPS inside the block, restored after.

    Local, never global: importing this package leaves mpmath's precision as it found it.
    """
    saved_mp, saved_iv = mp.prec, iv.prec
    mp.dps = WORKING_DPS
    iv.dps = WORKING_DPS
    try:
        yield
    finally:
        mp.prec, iv.prec = saved_mp, saved_iv


def method_for(n: int) -> str:
    """The method label of a certified measure of a cone in R^n (a sum over no cones included).

    n = 4 and 5 use Arb's certified quadrature (geometry/orthant.py) for cones of full rank; a
    sum of such measures carries that label (see `combined_method`).
    """
    if n == 2:
        return EXACT_ANGLE
    return CERTIFIED_QUADRATURE.get(n, EXACT_SOLID_ANGLE)


def combined_method(a: str, b: str) -> str:
    """The label of a sum: a common method, or in R^4 / R^5, where cones of rank <= 3 get Girard's
    closed form and the others quadrature, the higher-dimensional quadrature (the weaker of two
    certified methods); anything else is "mixed"."""
    if a == b:
        return a
    ladder = [EXACT_SOLID_ANGLE, *(CERTIFIED_QUADRATURE[k] for k in sorted(CERTIFIED_QUADRATURE))]
    if a in ladder and b in ladder:
        return max(a, b, key=ladder.index)
    return "mixed"


def interval(value: Fraction) -> object:
    """An mpmath interval enclosing the rational `value` (call inside `working_precision()`)."""
    return iv.mpf(value.numerator) / iv.mpf(value.denominator)


@dataclass(frozen=True)
class Measure:
    """A probability (fraction of R^n) known to lie in [lower, upper]."""

    lower: mpf
    upper: mpf
    method: str = "exact-angle"

    @property
    def value(self) -> mpf:
        with working_precision():
            return (self.lower + self.upper) / 2

    @property
    def radius(self) -> mpf:
        with working_precision():
            return (self.upper - self.lower) / 2

    def __add__(self, other: "Measure") -> "Measure":
        method = combined_method(self.method, other.method)
        with working_precision():
            return Measure(self.lower + other.lower, self.upper + other.upper, method)


ZERO = Measure(mpf(0), mpf(0), EXACT_ANGLE)


def zero(method: str) -> Measure:
    """Exactly 0, labelled with the method that measured (none of) the cones."""
    return Measure(mpf(0), mpf(0), method)


def total(measures: Iterable[Measure], method: str = EXACT_ANGLE) -> Measure:
    """Sum of measures, keeping their common method; exactly 0 labelled `method` if there are none.

    Callers pass `method_for(n)`: a sum over no cones of an n = 3 model is an exact solid angle
    (0), not an "exact-angle", and a sum must never start from an unlabelled 0 ("mixed").
    """
    items = list(measures)
    if not items:
        return zero(method)
    result = items[0]
    for m in items[1:]:
        result = result + m
    return result


def from_interval(value: object, method: str) -> Measure:
    with working_precision():
        return Measure(mpf(value.a), mpf(value.b), method)  # type: ignore[attr-defined]


def digits(value: mpf, significant: int = 20) -> str:
    with working_precision():
        return mp.nstr(value, significant, min_fixed=-30, max_fixed=30)
