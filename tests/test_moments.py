"""Certified second moments E[(a . x)^2 ; x in C] of cones in R^2 and R^3 (issue 13, mean squared error).

Oracles, none read off the code under test:
- hand values from independence and symmetry: E[x_i^2 ; x_i > 0] = 1/2, E[x_i ; x_i > 0] = 1/sqrt(2 pi),
  so on an orthant E[x_i x_j] = (1 / (2 pi)) * 2^-(n - 2); the minimum of three standard normals has
  E[min^2] = 1 + sqrt(3) / (2 pi) (a classical order-statistic moment; the test checks that value
  itself by Monte Carlo);
- partitions of the plane / space into cones, whose moments add up to E[(a . x)^2] = |a|^2;
- mpmath quadrature of the angular integral (1/pi) integral (a . u(t))^2 dt over a wedge, and a
  2-D quadrature of a spherical polygon in polar coordinates around an interior axis;
- seeded Monte Carlo at 10^6 samples per cone, within 5 standard errors.
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction as F
from typing import Sequence

import numpy as np
import pytest
from mpmath import mp, mpf

from verify.core.linear import Constraint, Op, gt
from verify.geometry.measure import Measure
from verify.geometry.moments import cone_second_moment

WIDTH = mpf(10) ** -40  # the code carries 60 digits: an ordinary cone's enclosure is far narrower


def cone(*rows: Sequence[int | F], op: Op = Op.GT) -> list[Constraint]:
    return [Constraint(tuple(F(v) for v in r), op) for r in rows]


def vec(*values: int | F) -> tuple[F, ...]:
    return tuple(F(v) for v in values)


def moment(constraints: Sequence[Constraint], n: int, a: Sequence[F]) -> Measure:
    result = cone_second_moment(constraints, n, a)
    assert result is not None
    return result


def assert_encloses(m: Measure, expected: mpf, width: mpf = WIDTH) -> None:
    assert 0 <= m.lower <= expected <= m.upper
    assert m.upper - m.lower < width


def mq(q: F | int) -> mpf:
    """A rational as an mpf at the current precision (mpmath does not take Fractions)."""
    q = F(q)
    return mpf(q.numerator) / q.denominator


def truth(f) -> mpf:  # type: ignore[no-untyped-def]
    """A hand-derived value evaluated at 80 digits."""
    with mp.workdps(80):
        return +f()


# -- hand values ------------------------------------------------------------------------------------

def test_plane_half_plane_and_whole_plane_by_hand() -> None:
    assert_encloses(moment(cone((1, 0)), 2, vec(1, 0)), mpf(1) / 2)
    assert_encloses(moment(cone((1, 0)), 2, vec(0, 1)), mpf(1) / 2)
    assert_encloses(moment(cone((1, 0)), 2, vec(3, 4)), mpf(25) / 2)
    assert_encloses(moment(cone((2, -7)), 2, vec(3, 4)), mpf(25) / 2)  # any half-plane: x -> -x
    assert_encloses(moment(cone((0, 1), op=Op.LE), 2, vec(3, 4)), mpf(25) / 2)
    assert_encloses(moment([], 2, vec(3, 4)), mpf(25))


@pytest.mark.parametrize("a, expected", [
    ((1, 0), lambda: mpf(1) / 4),
    ((1, 1), lambda: mpf(1) / 2 + 1 / mp.pi),  # 1/4 + 1/4 + 2 (1/sqrt(2 pi))^2
    ((1, -1), lambda: mpf(1) / 2 - 1 / mp.pi),
    ((3, 5), lambda: mpf(34) / 4 + 15 / mp.pi),
])
def test_quadrant_by_hand(a: tuple[int, int], expected) -> None:  # type: ignore[no-untyped-def]
    assert_encloses(moment(cone((1, 0), (0, 1)), 2, vec(*a)), truth(expected))


@pytest.mark.parametrize("a", [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, -2, 3), (0, 7, -5)])
def test_octant_by_hand(a: tuple[int, int, int]) -> None:
    # E[x_i^2 ; octant] = 1/8, E[x_i x_j ; octant] = (1/sqrt(2 pi))^2 * 1/2 = 1/(4 pi)
    cross = sum(a[i] * a[j] for i, j in ((0, 1), (0, 2), (1, 2)))
    expected = truth(lambda: mpf(sum(v * v for v in a)) / 8 + mpf(2 * cross) / (4 * mp.pi))
    assert_encloses(moment(cone((1, 0, 0), (0, 1, 0), (0, 0, 1)), 3, vec(*a)), expected)


def test_space_half_space_and_wedge_times_line_by_hand() -> None:
    a = vec(1, 2, 3)
    assert_encloses(moment([], 3, a), mpf(14))
    assert_encloses(moment(cone((1, 0, 0)), 3, a), mpf(7))
    assert_encloses(moment(cone((1, 1, 1)), 3, a), mpf(7))
    # {x0 > 0, x1 > 0} x R: the quadrant's moment of (x0 + 2 x1), plus 9 E[x2^2] P(quadrant)
    expected = truth(lambda: mpf(5) / 4 + 2 / mp.pi + mpf(9) / 4)
    assert_encloses(moment(cone((1, 0, 0), (0, 1, 0)), 3, a), expected)


def test_cone_of_the_minimum_has_a_tilted_lineality_line() -> None:
    # {x2 < x0, x2 < x1}: rank 2, lineality (1, 1, 1). By exchangeability E[x2^2 ; x2 smallest] is
    # E[min^2] / 3, and E[(x0 + x1 + x2)^2 ; x2 smallest] = 3 / 3 = 1.
    c = cone((1, 0, -1), (0, 1, -1))
    expected = truth(lambda: (1 + mp.sqrt(3) / (2 * mp.pi)) / 3)
    assert_encloses(moment(c, 3, vec(0, 0, 1)), expected)
    mean, error = monte_carlo([c_.coeffs for c_ in c], vec(0, 0, 1), 7)
    assert abs(float(expected) - mean) <= 5 * error
    assert_encloses(moment(c, 3, vec(1, 1, 1)), mpf(1))


def test_empty_and_flat_cones_have_moment_exactly_zero() -> None:
    for c, n in ((cone((1, 0), (-1, 0)), 2), (cone((1, 0, 0), (-1, 0, 0)), 3),
                 (cone((0, 1, 0), (0, -1, 0), op=Op.GE), 3), (cone((1, -1), (-1, 1), (1, 0)), 2)):
        m = moment(c, n, vec(*([5] * n)))
        assert m.lower == m.upper == 0


def test_labels_follow_the_measures() -> None:
    assert moment(cone((1, 0), (1, 1)), 2, vec(1, 2)).method == "exact-angle"
    assert moment(cone((1, 0, 0), (0, 1, 0), (1, 1, 1)), 3, vec(1, 2, 3)).method == "exact-solid-angle"


def test_no_certified_method_outside_the_plane_and_space() -> None:
    assert cone_second_moment(cone((1, 0, 0, 0)), 4, vec(1, 0, 0, 0)) is None
    assert cone_second_moment(cone((1,)), 1, vec(1)) is None
    with pytest.raises(ValueError):
        cone_second_moment(cone((1, 0)), 2, vec(1, 0, 0))


# -- partitions add up to |a|^2 ---------------------------------------------------------------------

def assert_partition(cells: list[list[Constraint]], n: int, a: tuple[F, ...]) -> None:
    parts = [moment(c, n, a) for c in cells]
    total = parts[0]
    for m in parts[1:]:
        total = total + m
    assert total.method in ("exact-angle", "exact-solid-angle")
    with mp.workdps(80):
        expected = mq(sum(v * v for v in a))
    assert_encloses(total, expected, WIDTH * len(cells))


def random_vector(rng: random.Random, n: int, size: int = 40) -> tuple[F, ...]:
    while True:
        v = tuple(F(rng.randint(-size, size), rng.randint(1, size)) for _ in range(n))
        if any(v):
            return v


@pytest.mark.parametrize("seed", range(3))
def test_the_six_ordering_cones_partition_space(seed: int) -> None:
    rng = random.Random(seed)
    cells = []
    for p in itertools.permutations(range(3)):  # x_p0 > x_p1 > x_p2
        rows = []
        for i in range(2):
            r = [0, 0, 0]
            r[p[i]], r[p[i + 1]] = 1, -1
            rows.append(r)
        cells.append(cone(*rows))
    assert_partition(cells, 3, random_vector(rng, 3))


@pytest.mark.parametrize("n, planes, seed", [(2, 3, 0), (2, 5, 1), (3, 2, 2), (3, 3, 3), (3, 4, 4), (3, 5, 5)])
def test_cells_of_a_random_arrangement_partition_the_space(n: int, planes: int, seed: int) -> None:
    rng = random.Random(seed)
    normals = [random_vector(rng, n, 9) for _ in range(planes)]
    cells = [[Constraint(tuple(s * v for v in f), Op.GT) for s, f in zip(signs, normals)]
             for signs in itertools.product((1, -1), repeat=planes)]  # empty sign patterns count 0
    assert_partition(cells, n, random_vector(rng, n))


# -- quadrature and Monte Carlo oracles -------------------------------------------------------------

def wedge(r1: tuple[F, F], r2: tuple[F, F]) -> list[Constraint]:
    """The open wedge swept counter-clockwise from r1 to r2 (less than pi)."""
    return [gt((-r1[1], r1[0])), gt((r2[1], -r2[0]))]


def quadrature_2d(r1: tuple[F, F], r2: tuple[F, F], a: tuple[F, F]) -> mpf:
    """(2 / 2 pi) * integral over the arc of (a . u(t))^2 dt, by mpmath quadrature at 50 digits."""
    with mp.workdps(50):
        t1 = mp.atan2(mq(r1[1]), mq(r1[0]))
        t2 = mp.atan2(mq(r2[1]), mq(r2[0]))
        if t2 < t1:
            t2 += 2 * mp.pi
        a0, a1 = mq(a[0]), mq(a[1])
        return mp.quad(lambda t: (a0 * mp.cos(t) + a1 * mp.sin(t)) ** 2, [t1, t2]) / mp.pi


@pytest.mark.parametrize("seed", range(8))
def test_wedges_against_quadrature(seed: int) -> None:
    rng = random.Random(100 + seed)
    a = random_vector(rng, 2)
    r1 = random_vector(rng, 2)
    if seed < 3:  # thin: the second ray a few millionths of a radian further on
        k = F(1, 10 ** rng.randint(5, 8))
        r2 = (r1[0] - k * r1[1], r1[1] + k * r1[0])
    elif seed < 6:  # wide: just short of a half-plane
        k = F(1, 10 ** rng.randint(2, 6))
        r2 = (-r1[0] + k * -r1[1], -r1[1] + k * r1[0])
    else:
        r2 = random_vector(rng, 2)
        if r1[0] * r2[1] - r1[1] * r2[0] < 0:
            r1, r2 = r2, r1
    expected = quadrature_2d(r1, r2, a)
    m = moment(wedge(r1, r2), 2, a)
    tolerance = mpf(10) ** -35 * (1 + abs(expected))
    assert m.lower - tolerance <= expected <= m.upper + tolerance
    assert m.upper - m.lower < WIDTH
    assert m.lower > 0


def simplicial(rays: Sequence[tuple[F, F, F]]) -> list[Constraint]:
    """The open cone spanned by three independent rays: the rows of their adjugate (x = V l, l > 0)."""
    u, v, w = rays
    cross = lambda p, q: (p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0])
    rows = []
    for p, q, r in ((v, w, u), (w, u, v), (u, v, w)):
        f = cross(p, q)
        sign = 1 if sum(x * y for x, y in zip(f, r)) > 0 else -1
        rows.append(gt(tuple(sign * x for x in f)))
    return rows


def polar_quadrature(normals: Sequence[Sequence[F]], rays: Sequence[Sequence[F]], a: Sequence[F]) -> mpf:
    """3 / (4 pi) * integral of (a . u)^2 over the cone's spherical polygon, in polar coordinates
    (psi, phi) about the interior axis c = sum of the rays: u = cos psi c + sin psi w(phi). The cone's
    edge at azimuth phi is the first psi where some inward normal f turns negative:
    psi_f = atan2(f . c, -f . w). The psi integral of (alpha cos + beta sin)^2 sin is elementary; the
    phi integral is split at the vertices' azimuths, where its integrand has kinks."""
    with mp.workdps(30):
        c = mp.matrix([sum(mq(r[i]) for r in rays) for i in range(3)])
        c = c / mp.norm(c)
        helper = mp.matrix([1, 0, 0]) if abs(c[0]) < 0.9 else mp.matrix([0, 1, 0])
        e1 = helper - (helper.T * c)[0] * c
        e1 = e1 / mp.norm(e1)
        e2 = mp.matrix([c[1] * e1[2] - c[2] * e1[1], c[2] * e1[0] - c[0] * e1[2], c[0] * e1[1] - c[1] * e1[0]])
        av = mp.matrix([mq(x) for x in a])
        fs = [mp.matrix([mq(x) for x in f]) for f in normals]
        dot = lambda p, q: (p.T * q)[0]

        def inner(phi: mpf) -> mpf:
            w = mp.cos(phi) * e1 + mp.sin(phi) * e2
            top = min(mp.atan2(dot(f, c), -dot(f, w)) for f in fs)
            alpha, beta = dot(av, c), dot(av, w)
            co, si = mp.cos(top), mp.sin(top)
            return (alpha ** 2 * (1 - co ** 3) / 3 + 2 * alpha * beta * si ** 3 / 3
                    + beta ** 2 * (mpf(2) / 3 - co + co ** 3 / 3))

        vertices = [mp.matrix([mq(x) for x in r]) for r in rays]
        cuts = sorted(mp.atan2(dot(v, e2), dot(v, e1)) % (2 * mp.pi) for v in vertices)
        points = [mpf(0), *cuts, 2 * mp.pi]
        return 3 * mp.quad(inner, points) / (4 * mp.pi)


def monte_carlo(normals: Sequence[Sequence[F]], a: Sequence[F], seed: int,
                samples: int = 1_000_000) -> tuple[float, float]:
    """Mean of (a . x)^2 1[x in C] over seeded float64 Gaussian samples, and its standard error."""
    x = np.random.default_rng(seed).standard_normal((samples, 3))
    inside = np.all(x @ np.array([[float(v) for v in f] for f in normals]).T > 0, axis=1)
    values = np.where(inside, (x @ np.array([float(v) for v in a])) ** 2, 0.0)
    return float(values.mean()), float(values.std() / math.sqrt(samples))


def random_polygon(rng: random.Random, k: int, spread: float) -> tuple[list[tuple[F, ...]], list[tuple[F, F, F]]]:
    """A convex cone in R^3: k rational rays around a random axis at angular radius ~spread, in
    cyclic order; returned as its inward facet normals (consecutive rays' cross products) and rays."""
    axis = [rng.gauss(0, 1) for _ in range(3)]
    norm = math.sqrt(sum(v * v for v in axis))
    axis = [v / norm for v in axis]
    helper = [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0]
    e1 = [h - sum(p * q for p, q in zip(helper, axis)) * c for h, c in zip(helper, axis)]
    n1 = math.sqrt(sum(v * v for v in e1))
    e1 = [v / n1 for v in e1]
    e2 = [axis[1] * e1[2] - axis[2] * e1[1], axis[2] * e1[0] - axis[0] * e1[2], axis[0] * e1[1] - axis[1] * e1[0]]
    angles = [2 * math.pi * i / k + rng.uniform(0, math.pi / k) for i in range(k)]  # gaps below pi
    rays = []
    for t in angles:
        direction = [c + spread * (math.cos(t) * p + math.sin(t) * q) for c, p, q in zip(axis, e1, e2)]
        rays.append(tuple(F(v).limit_denominator(10 ** 9) for v in direction))
    normals = []
    for i in range(k):
        p, q = rays[i], rays[(i + 1) % k]
        f = (p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0])
        centre = [sum(r[j] for r in rays) for j in range(3)]
        sign = 1 if sum(x * y for x, y in zip(f, centre)) > 0 else -1
        normals.append(tuple(sign * x for x in f))
    return normals, rays


@pytest.mark.parametrize("seed, k, spread", [(0, 3, 0.3), (1, 4, 0.8), (2, 5, 1.5), (3, 6, 3.0), (4, 3, 1e-4)])
def test_spherical_polygons_against_polar_quadrature_and_monte_carlo(seed: int, k: int, spread: float) -> None:
    rng = random.Random(200 + seed)
    normals, rays = random_polygon(rng, k, spread)
    a = random_vector(rng, 3)
    m = moment([gt(f) for f in normals], 3, a)
    assert m.upper - m.lower < WIDTH
    assert m.lower > 0
    expected = polar_quadrature(normals, rays, a)
    tolerance = mpf(10) ** -20 * (1 + abs(expected))
    assert m.lower - tolerance <= expected <= m.upper + tolerance
    if spread >= 0.1:  # a cone of measure ~1e-8 gets no sample: the quadrature alone checks it
        mean, error = monte_carlo(normals, a, seed)
        assert abs(float(m.value) - mean) <= 5 * error


@pytest.mark.parametrize("seed", range(3))
def test_random_simplicial_cones_against_monte_carlo(seed: int) -> None:
    rng = random.Random(300 + seed)
    while True:
        rays = [random_vector(rng, 3, 9) for _ in range(3)]
        u, v, w = rays
        det = (u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0])
               + u[2] * (v[0] * w[1] - v[1] * w[0]))
        if det != 0:
            break
    a = random_vector(rng, 3)
    constraints = simplicial(rays)
    m = moment(constraints, 3, a)
    mean, error = monte_carlo([c.coeffs for c in constraints], a, 400 + seed)
    assert abs(float(m.value) - mean) <= 5 * error
    expected = polar_quadrature([c.coeffs for c in constraints], rays, a)
    assert abs(expected - m.value) <= mpf(10) ** -20 * (1 + abs(expected))
    assert m.upper - m.lower < WIDTH


@pytest.mark.parametrize("digits", [6, 30, 45])
def test_a_sliver_nearly_orthogonal_to_the_form_keeps_a_sound_lower_bound(digits: int) -> None:
    # the wedge |x0| < eps x1, a = e0: by hand (1/pi) integral_{-d}^{d} sin^2 t dt = (d - sin(2 d) / 2) / pi
    # with d = atan(eps); for eps = 1e-45 the moment (~1e-136) lies far below the enclosure's width
    eps = F(1, 10 ** digits)
    m = moment(wedge(vec(eps, 1), vec(-eps, 1)), 2, vec(1, 0))
    with mp.workdps(300):
        d = mp.atan(mq(eps))
        expected = (d - mp.sin(2 * d) / 2) / mp.pi
    assert 0 <= m.lower <= expected <= m.upper
    assert m.upper - m.lower < WIDTH
