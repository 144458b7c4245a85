"""Exact geometry of polyhedral cones {x : a_i . x > 0}: extreme rays as rational directions.

Rays, normals and deepest points are exact. A ray is normalised so that its largest coordinate
in absolute value is +-1, which keeps it rational and makes equal directions compare equal.
For n = 2 the cone's Gaussian measure is its angle / 2 pi, enclosed in Arb's ball arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

from mpmath import mpf

from verify.core.linear import Constraint, Vector, common_denominator, dot
from verify.geometry.integer_cone import idot, integer_direction
from verify.geometry.lp import LPResult, float_basis, maximize
from verify.geometry.measure import EXACT_ANGLE, Measure, ball, ball_precision, from_ball, interval_of_ball, working_precision


def normalize_ray(r: Sequence[Fraction]) -> Vector:
    scale = max(abs(v) for v in r)
    if scale == 0:
        raise ValueError("zero vector is not a ray")
    return tuple(Fraction(v) / scale for v in r)


def cross2(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    return a[0] * b[1] - a[1] * b[0]


def normals(constraints: Sequence[Constraint]) -> list[Vector]:
    """Normals a_i with every constraint read as a_i . x >= 0, zero rows dropped, deduplicated."""
    seen: dict[Vector, None] = {}
    for c in constraints:
        a = c.positive_normal()
        if any(v != 0 for v in a):
            seen.setdefault(normalize_ray(a), None)
    return list(seen)


def extreme_rays_2d(constraints: Sequence[Constraint]) -> list[Vector]:
    """Boundary rays of a 2-D cone with non-empty interior, counter-clockwise: [start, end].

    Returns [] for the whole plane and two opposite rays for a half-plane.
    """
    # the normals as coprime integers (same directions, same order as normals(...)): integer tests
    seen: dict[tuple[int, ...], None] = {}
    for c in constraints:
        a_int = integer_direction(c.positive_normal())
        if any(a_int):
            seen.setdefault(a_int, None)
    ns = list(seen)
    if not ns:
        return []
    candidates: dict[Vector, None] = {}
    for a in ns:
        for r in ((-a[1], a[0]), (a[1], -a[0])):
            if all(b[0] * r[0] + b[1] * r[1] >= 0 for b in ns):
                candidates.setdefault(_ray_of(r), None)
    rays = list(candidates)
    if len(rays) != 2:
        raise ValueError(f"a 2-D cone with non-empty interior has 2 boundary rays, found {len(rays)}")
    r1, r2 = rays
    turn = cross2(r1, r2)
    if turn == 0:  # half-plane: start is the ray from which the interior lies counter-clockwise
        inside = ns[0]
        return [r1, r2] if cross2(r1, inside) > 0 else [r2, r1]
    return [r1, r2] if turn > 0 else [r2, r1]


def _ray_of(r: Sequence[int]) -> Vector:
    """normalize_ray of an integer vector: largest |coordinate| 1, one exact quotient per entry."""
    scale = max(abs(v) for v in r)
    return tuple(Fraction(v, scale) for v in r)


def ray_in_closed_cone(ray: Sequence[Fraction], constraints: Sequence[Constraint]) -> bool:
    return all(c.closed().holds(ray) for c in constraints)


def line_rays_in_cone_2d(
    coeffs: Sequence[Fraction], constraints: Sequence[Constraint], *, strictly: bool = True
) -> list[Vector]:
    """The rays of the line coeffs . x = 0 lying inside the cone (its open interior by default)."""
    if all(v == 0 for v in coeffs):
        return []
    result = []
    for r in ((-coeffs[1], coeffs[0]), (coeffs[1], -coeffs[0])):
        ray = normalize_ray(r)
        if all((c.strict() if strictly else c.closed()).holds(ray) for c in constraints):
            result.append(ray)
    return result


def unit_normals(constraints: Sequence[Constraint]) -> list[Vector]:
    """The cone's normals (read a . x >= 0), each divided by its L1 norm.

    With these, a . x is the slack of x in units that float32 rounding respects: moving x by
    at most e in every coordinate changes a . x by at most e.
    """
    # the same unit normals as normals(...) / L1 (a positive rescaling changes neither the
    # direction nor a / |a|_1), from coprime integers: one exact division per coordinate
    units = []
    for a in _integer_normals(constraints):
        l1 = sum(abs(v) for v in a)
        units.append(tuple(Fraction(v, l1) for v in a))
    return units


def _integer_normals(constraints: Sequence[Constraint]) -> list[tuple[int, ...]]:
    """The distinct normals of the cone (read a . x >= 0) as coprime integers, in order of
    first appearance: `unit_normals` divides each by its L1 norm."""
    seen: dict[tuple[int, ...], None] = {}
    for c in constraints:
        a = integer_direction(c.positive_normal())
        if any(a):
            seen.setdefault(a, None)
    return list(seen)


def normalized_slack(x: Sequence[Fraction], constraints: Sequence[Constraint]) -> Fraction | None:
    """min over the cone's unit normals of a . x, for x scaled to max |x_i| = 1; None without constraints.

    Rounding such an x to float32 moves each coordinate by at most 2^-24, hence each a . x by
    at most 2^-24: a slack above that keeps the rounded point strictly inside the cone.
    """
    # a . x / (|a|_1 max |x_i|) does not change when a or x is scaled: integers, one division each
    normals_int = [a for a in (integer_direction(c.positive_normal()) for c in constraints) if any(a)]
    if not normals_int:
        return None
    den = common_denominator(x)
    xs = [int(v * den) for v in x]
    top = max(abs(v) for v in xs)
    if top == 0:
        raise ValueError("zero vector is not a ray")
    return min(Fraction(idot(a, xs), sum(abs(w) for w in a) * top) for a in normals_int)


def deepest_point(constraints: Sequence[Constraint], n: int, start: Sequence[Fraction]) -> Vector | None:
    """The cone's deepest point (see `deepest_point_certified`), scaled to max |x_i| = 1; exact."""
    return deepest_point_certified(constraints, n, start)[0]


def deepest_point_certified(constraints: Sequence[Constraint], n: int,
                            start: Sequence[Fraction]) -> tuple[Vector | None, bool]:
    """The point of the cone maximizing its normalized slack, scaled to max |x_i| = 1; exact.

    The linear program max t s.t. a . x >= t (unit normals a), -1 <= x_i <= 1 is solved over
    the rationals (verify.geometry.lp): a float64 walk guesses the optimal vertex, the exact walk
    checks and finishes it (or, if the guess fails in exact arithmetic, starts over from the
    box corner with the signs of `start`, an interior point such as Z3's witness). None if
    the cone has no constraint (all of R^n) or the best slack found is not positive.

    The flag says the walk proved its vertex the LP's only optimum (`LPResult.unique`): then
    `start`, which only chooses where the walk begins, cannot have changed the point.
    """
    integers = _integer_normals(constraints)
    if not integers:
        return None, False
    one, zero = Fraction(1), Fraction(0)
    l1s = [sum(abs(v) for v in a) for a in integers]
    units = [tuple(Fraction(v, l1) for v in a) for a, l1 in zip(integers, l1s)]
    rows: list[Vector] = [tuple(-v for v in a) + (one,) for a in units]  # t - a . x <= 0
    # The exact walk takes each of those rows times |a|_1 (integers: cheap exact arithmetic).
    # A positive scale of a row changes no step of the walk: the sign of its multiplier, the
    # direction (up to a positive factor, common to every candidate) and each ratio-test step
    # (its numerator and denominator scale alike) are the same, so the same vertices are visited.
    scaled: list[tuple[int, ...]] = [tuple(-v for v in a) + (l1,) for a, l1 in zip(integers, l1s)]
    bounds: list[Fraction] = [zero] * len(units)
    for i in range(n):
        for sign in (1, -1):  # sign * x_i <= 1
            box = tuple(sign if k == i else 0 for k in range(n)) + (0,)
            rows.append(tuple(Fraction(v) for v in box))
            scaled.append(box)
            bounds.append(one)
    signs = [1 if v >= 0 else -1 for v in start]
    corner = tuple(Fraction(v) for v in signs)
    # At the corner, t = min a . corner: the minimizing normal and the n box rows are tight.
    # (each a . corner over |a|_1: the same values as units[k] . corner, one division each)
    first = min(range(len(units)), key=lambda k: Fraction(sum(a * c for a, c in zip(integers[k], signs)), l1s[k]))
    tight = [first] + [len(units) + 2 * i + (0 if corner[i] > 0 else 1) for i in range(n)]
    objective = (zero,) * n + (one,)
    guess = float_basis(objective, rows, bounds, tight)
    result: LPResult | None = None
    if guess is not None:
        try:  # exact from the float walk's optimal vertex: usually no pivot is left to do
            result = maximize(objective, scaled, bounds, guess)
        except ValueError:  # that vertex is singular or infeasible in exact arithmetic
            result = None
    if result is None:
        result = maximize(objective, scaled, bounds, tight, max_pivots=100)
    unique = result.optimal and result.unique
    if result.value <= 0:
        return None, unique
    return normalize_ray(result.point[:n]), unique


def _angle_ball(r1: Sequence[Fraction], r2: Sequence[Fraction]) -> Any:
    """Arb ball of the counter-clockwise angle from r1 to r2, in (0, 2*pi) (inside `ball_precision()`)."""
    from flint import arb

    turn, along = cross2(r1, r2), dot(r1, r2)
    if turn == 0 and along < 0:
        return arb.pi()
    angle = arb.atan2(ball(turn), ball(along))
    return angle + 2 * arb.pi() if turn < 0 else angle


def angle_between(r1: Sequence[Fraction], r2: Sequence[Fraction]) -> object:
    """Interval enclosure of the counter-clockwise angle from r1 to r2, in (0, 2*pi)."""
    with working_precision(), ball_precision():
        return interval_of_ball(_angle_ball(r1, r2))


def ray_angle(r: Sequence[Fraction]) -> object:
    """Interval enclosure of the polar angle of a 2-D ray, in [0, 2*pi)."""
    return angle_between((Fraction(1), Fraction(0)), r)


def cone_measure_2d(constraints: Sequence[Constraint]) -> Measure:
    """The Gaussian measure of an open cone in the plane: its angle / 2 pi, rigorously enclosed."""
    from flint import arb

    rays = extreme_rays_2d(constraints)
    if not rays:
        return Measure(mpf(1), mpf(1), EXACT_ANGLE)
    with ball_precision():
        return from_ball(_angle_ball(rays[0], rays[1]) / (2 * arb.pi()), EXACT_ANGLE)
