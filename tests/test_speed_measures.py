"""Angles in Arb balls instead of mpmath intervals (issue 12): still enclosures, never wider.

The oracles: the previous computation, written out here in mpmath's interval arithmetic at
60 digits from exact rational inputs (the width each enclosure must not exceed), and the
same formula in plain mpmath at 120 digits (the truth each enclosure must contain).
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import iv, mp, mpf

from verify.core.linear import Constraint, Op, dot
from verify.geometry.measure import Measure
from verify.geometry.planar import cone_measure_2d, extreme_rays_2d
from verify.geometry.solid import cone_geometry, cyclic_order, geometry_measure

ENTRY = st.integers(-7, 7)


def _gram(vectors: list[tuple[Fraction, ...]]) -> Fraction:
    """det of the Gram matrix, by exact cofactor expansion (at most 3 x 3 here)."""
    m = [[dot(a, b) for b in vectors] for a in vectors]
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def _interior(ctx, u, v, w):  # type: ignore[no-untyped-def]
    """The angle at v of the spherical polygon ... u, v, w ... in the context's arithmetic."""
    def num(q: Fraction):  # type: ignore[no-untyped-def]
        return ctx.mpf(q.numerator) / ctx.mpf(q.denominator)

    vv = dot(v, v)
    y = ctx.sqrt(num(vv)) * ctx.sqrt(num(_gram([v, u, w])))
    x = num(vv * dot(u, w) - dot(u, v) * dot(v, w))
    return ctx.atan2(y, x)


def _area(ctx, polygon):  # type: ignore[no-untyped-def]
    k = len(polygon)
    total = ctx.mpf(0)
    for i in range(k):
        total += _interior(ctx, polygon[i - 1], polygon[i], polygon[(i + 1) % k])
    return (total - (k - 2) * ctx.pi) / (4 * ctx.pi)


def _width(measure: Measure) -> mpf:
    with mp.workprec(2000):
        return measure.upper - measure.lower


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ENTRY, ENTRY, ENTRY).filter(any), min_size=3, max_size=6))
def test_solid_angles_contain_the_truth_and_are_narrower_than_60_digit_intervals(normals: list) -> None:
    constraints = [Constraint(tuple(Fraction(v) for v in a), Op.GT) for a in normals]
    geometry = cone_geometry(constraints, 3)
    if geometry is None or not geometry.full_dimensional or geometry.rank != 3:
        return
    measure = geometry_measure(geometry)
    assert measure is not None
    polygon = cyclic_order(geometry)
    with mp.workdps(120):
        truth = _area(mp, polygon)
    saved = iv.prec
    iv.dps = 60
    try:
        previous = _area(iv, polygon)
    finally:
        iv.prec = saved
    assert measure.lower <= truth <= measure.upper
    assert measure.lower <= measure.value <= measure.upper
    assert _width(measure) <= mpf(previous.b) - mpf(previous.a)


@settings(max_examples=60, deadline=None)
@given(st.tuples(ENTRY, ENTRY).filter(any), st.tuples(ENTRY, ENTRY).filter(any))
def test_plane_angles_contain_the_truth_and_are_narrower_than_60_digit_intervals(a: tuple, b: tuple) -> None:
    constraints = [Constraint(tuple(Fraction(v) for v in r), Op.GT) for r in (a, b)]
    if a[0] * b[1] - a[1] * b[0] == 0:
        return  # parallel normals: a half-plane (no angle to enclose) or an empty cone
    measure = cone_measure_2d(constraints)
    r1, r2 = extreme_rays_2d(constraints)
    turn, along = r1[0] * r2[1] - r1[1] * r2[0], dot(r1, r2)
    with mp.workdps(120):
        angle = mp.atan2(mp.mpf(turn.numerator) / turn.denominator, mp.mpf(along.numerator) / along.denominator)
        truth = (angle + (2 * mp.pi if turn < 0 else 0)) / (2 * mp.pi)
    saved = iv.prec
    iv.dps = 60
    try:
        old = iv.atan2(iv.mpf(turn.numerator) / turn.denominator, iv.mpf(along.numerator) / along.denominator)
        previous = (old + (2 * iv.pi if turn < 0 else 0)) / (2 * iv.pi)
    finally:
        iv.prec = saved
    assert measure.lower <= truth <= measure.upper
    assert _width(measure) <= mpf(previous.b) - mpf(previous.a)


def test_sums_of_measures_are_exact() -> None:
    """Ends of very different sizes add without rounding: the sum's ends are the exact sums."""
    tiny = Measure(mpf(2) ** -300, mpf(2) ** -300 * 3, "exact-solid-angle")
    big = Measure(mpf(1) / 3, mpf(1) / 3 + mpf(2) ** -200, "exact-solid-angle")

    def exact(value: mpf) -> Fraction:
        man, exp = value.man_exp
        return Fraction(man) * Fraction(2) ** exp

    total = big + tiny
    assert exact(total.lower) == exact(big.lower) + exact(tiny.lower)
    assert exact(total.upper) == exact(big.upper) + exact(tiny.upper)
    assert exact(total.value) == (exact(total.lower) + exact(total.upper)) / 2
    assert exact(total.radius) == (exact(total.upper) - exact(total.lower)) / 2
