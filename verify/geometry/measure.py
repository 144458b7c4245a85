"""Gaussian measure of cones, rigorously enclosed.

The standard normal law is rotation invariant, so the mass of a cone is its solid angle
over that of the sphere: for n = 2 an angle over 2*pi. Angles are computed in Arb's ball
arithmetic (python-flint, C speed, at BALL_BITS) from exact rational dot products and Gram
determinants, and each ball's ends, rounded outward to WORKING_DPS, become a `Measure`, so every
measure comes with a lower and an upper bound that provably contain the true value; sums are exact.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Iterator

from mpmath import iv, mp, mpf
from mpmath.libmp import dps_to_prec, from_man_exp, mpf_add, mpf_shift, mpf_sub, round_ceiling, round_floor

WORKING_DPS = 60  # decimal digits carried by the interval arithmetic (203 bits)
WORKING_PREC = dps_to_prec(WORKING_DPS)  # the same in bits (203)
BALL_BITS = 256  # bits carried by Arb's balls for angles: more than WORKING_PREC, so no wider

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


@contextmanager
def ball_precision() -> Iterator[None]:
    """Arb's precision (a process-wide setting) at BALL_BITS inside the block, restored after."""
    from flint import ctx

    saved = ctx.prec
    ctx.prec = BALL_BITS
    try:
        yield
    finally:
        ctx.prec = saved


def ball(value: Fraction) -> Any:
    """An Arb ball enclosing the rational `value` (call inside `ball_precision()`)."""
    from flint import arb

    if value.denominator == 1:
        return arb(value.numerator)
    return arb(value.numerator) / value.denominator


def ball_ends(value: Any) -> tuple[mpf, mpf]:
    """The ends mid - rad and mid + rad of an Arb ball, rounded outward (down, up) to the working
    precision: numbers of the same size as before Arb (203 bits), still enclosing the ball."""
    if not value.is_finite():
        raise ValueError("an unbounded ball has no ends")
    mid_man, mid_exp = value.mid().man_exp()
    rad_man, rad_exp = value.rad().man_exp()
    mid_man, rad_man = int(mid_man), int(rad_man)
    mid_exp, rad_exp = int(mid_exp), int(rad_exp)
    exp = min(mid_exp, rad_exp)
    mid = mid_man << (mid_exp - exp)
    rad = rad_man << (rad_exp - exp)
    prec = WORKING_PREC
    return (mp.make_mpf(from_man_exp(mid - rad, exp, prec, round_floor)),
            mp.make_mpf(from_man_exp(mid + rad, exp, prec, round_ceiling)))


def from_ball(value: Any, method: str) -> Measure:
    """The Measure whose lower and upper bounds are the ball's ends (`ball_ends`)."""
    lower, upper = ball_ends(value)
    return Measure(lower, upper, method)


def interval_of_ball(value: Any) -> object:
    """An mpmath interval enclosing the ball (ends rounded outward to the current iv precision)."""
    lower, upper = ball_ends(value)
    return iv.mpf([lower, upper])


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
        """The midpoint, exactly (so it lies between the bounds whatever their precision)."""
        return mp.make_mpf(mpf_shift(mpf_add(_raw(self.lower), _raw(self.upper), 0), -1))

    @property
    def radius(self) -> mpf:
        """Half the width, exactly."""
        return mp.make_mpf(mpf_shift(mpf_sub(_raw(self.upper), _raw(self.lower), 0), -1))

    def __add__(self, other: "Measure") -> "Measure":
        """The sum, exactly: binary ends add without rounding, so the sum of enclosures encloses."""
        method = combined_method(self.method, other.method)
        lower = mp.make_mpf(mpf_add(_raw(self.lower), _raw(other.lower), 0))
        upper = mp.make_mpf(mpf_add(_raw(self.upper), _raw(other.upper), 0))
        return Measure(lower, upper, method)


def _raw(value: object) -> tuple:
    """mpmath's exact internal form of a bound (an mpf as it is, not rounded to the current precision)."""
    return value._mpf_ if isinstance(value, mpf) else mpf(value)._mpf_  # type: ignore[attr-defined]


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
