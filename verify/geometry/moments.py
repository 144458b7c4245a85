"""Exact Gaussian second moments of polyhedral cones: E[(a . x)^2 ; x in C], x ~ N(0, I_n), n <= 3.

The mean squared error of a piecewise linear regressor (issue 13: median models) is a sum over its
cones C of E[(a . x)^2 ; C] with a the cone's exact error form. Writing x = rho u (rho^2 ~ chi^2_n,
E[rho^2] = n, independent of u uniform on the sphere S^{n-1}),

    E[(a . x)^2 ; C] = n / |S^{n-1}| * integral over C ∩ S^{n-1} of (a . u)^2 du.

Everything reduces to "mu(C) |a|^2 + a boundary term", mu(C) the cone's Gaussian measure:

- Lineality. The cone is L + P, L its lineality space, P its pointed part in L^⊥, and x's parts
  x_L, x_P are independent standard normals. With a = a_L + a_P, the cross term has E[a_L . x_L]
  = 0, so E = |a_L|^2 mu(C) + E[(a_P . x_P)^2 ; P]: only the pointed part has a boundary term.
- Rank 0 (all of R^n): |a|^2. Rank 1 (a half-space): |a|^2 / 2 (x -> -x swaps the two halves).
- Rank 2 (a wedge of angle T between rays r1, r2 in a plane, u1, u2 their unit vectors). Along
  the arc u(t), with u' = du/dt: (a . u)^2 + (a . u')^2 = |a_P|^2 and
  d/dt [(a . u)(a . u')] = (a . u')^2 - (a . u)^2, so
  integral (a . u)^2 dt = |a_P|^2 T / 2 - [(a . u)(a . u')] from u1 to u2, and with
  u'(0) = (u2 - cos T u1) / sin T, u'(T) = (cos T u2 - u1) / sin T the bracket is
  B = (cos T ((a . u1)^2 + (a . u2)^2) - 2 (a . u1)(a . u2)) / sin T = N / sqrt(G),
  N = (r1 . r2) ((a . r1)^2 / |r1|^2 + (a . r2)^2 / |r2|^2) - 2 (a . r1)(a . r2) (rational),
  G = |r1|^2 |r2|^2 - (r1 . r2)^2 (Gram determinant). With n_P = 2 and |S^1| = 2 pi:
      E = |a|^2 T / (2 pi) - N / (2 pi sqrt(G)).
  In the plane sqrt(G) = |r1 x r2| is rational: only the angle T is transcendental.
- Rank 3 (a spherical polygon P, n = 3). h(u) = (a . u)^2 - |a|^2 / 3 is a trace-free quadratic
  form, a spherical harmonic of degree 2: Laplace-Beltrami gives Delta h = -6 h. By the divergence
  theorem on the sphere, integral_P h = -1/6 integral_dP grad h . nu ds, with nu the outward
  conormal; nu is tangent, so grad h . nu = 2 (a . u)(a . nu). On the edge in the facet plane
  f . x = 0 (f pointing into the cone) nu = -f / |f| is constant, and along a great-circle arc of
  length l from u1 to u2, integral u ds = tan(l / 2) (u1 + u2). Hence
      integral_P (a . u)^2 = |a|^2 Area(P) / 3 + 1/3 sum_edges (a . f^) tan(l / 2) (a . (u1 + u2)),
  and with f^ sqrt(G) = s (r1 x r2) (s = +-1, the sign making it point inward),
  tan(l / 2) = sqrt(G) / (|r1| |r2| + r1 . r2), and n_P / |S^2| = 3 / (4 pi):
      E = |a|^2 Area / (4 pi) + 1/(4 pi) sum_edges s det(a, r1, r2) (a . r1 / |r1| + a . r2 / |r2|)
                                                    / (|r1| |r2| + r1 . r2).
  Area is Girard's (geometry/solid.py), the rest is exact rationals and the square roots |r|.

Every rational is exact; the angle, the area and the square roots are mpmath intervals at the
working precision (outward rounding), so the Measure's [lower, upper] provably holds the moment.
A moment is never negative, so a lower bound below 0 is raised to 0 (still sound).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from mpmath import iv, mpf

from verify.core.linear import Constraint, Vector, dot
from verify.geometry.measure import Measure, interval, method_for, working_precision
from verify.geometry.solid import ConeGeometry, cone_geometry, cyclic_order, girard_area, wedge_angle

MAX_MOMENT_DIMENSION = 3  # closed forms for the wedge and the spherical polygon only


def cone_second_moment(constraints: Sequence[Constraint], n: int, a: Sequence[Fraction]) -> Measure | None:
    """A certified enclosure of E[(a . x)^2 ; x in C] for x ~ N(0, I_n), C the open cone.

    Labelled like the cone's measure (`method_for(n)`: "exact-angle" in the plane, "exact-solid-angle"
    in R^3), so per-cone moments add up under one label. None for n >= 4 (no closed form here) or
    when the double description gives up; an empty open cone has moment exactly 0.
    """
    if len(a) != n:
        raise ValueError(f"the error form has {len(a)} coefficients for a cone in R^{n}")
    if n not in (2, MAX_MOMENT_DIMENSION):
        return None
    geometry = cone_geometry(constraints, n)
    if geometry is None:
        return None
    return geometry_second_moment(geometry, tuple(Fraction(v) for v in a))


def geometry_second_moment(geometry: ConeGeometry, a: Vector) -> Measure | None:
    """E[(a . x)^2 ; C] from the cone's exact generators (see the module docstring); None past rank 3."""
    method = method_for(geometry.n)
    if not geometry.full_dimensional:
        return Measure(mpf(0), mpf(0), method)
    norm2 = dot(a, a)
    r = geometry.rank
    if r == 0:
        return _exact(norm2, method)
    if r == 1:
        return _exact(norm2 / 2, method)
    with working_precision():
        if r == 2:
            value = _wedge_moment(geometry.rays[0], geometry.rays[1], a, norm2)
        elif r == 3 and geometry.n == 3:
            value = _polygon_moment(cyclic_order(geometry), a, norm2)
        else:
            return None
        lower = max(mpf(value.a), mpf(0))
        return Measure(lower, mpf(value.b), method)


def _exact(value: Fraction, method: str) -> Measure:
    with working_precision():
        bounds = interval(value)
        return Measure(mpf(bounds.a), mpf(bounds.b), method)


def _wedge_moment(r1: Vector, r2: Vector, a: Vector, norm2: Fraction) -> object:
    """|a|^2 T / (2 pi) - N / (2 pi sqrt(G)) for the wedge between r1 and r2 (orthogonal to the lineality)."""
    p1, p2, c = dot(a, r1), dot(a, r2), dot(r1, r2)
    n1, n2 = dot(r1, r1), dot(r2, r2)
    numerator = c * (p1 * p1 / n1 + p2 * p2 / n2) - 2 * p1 * p2
    gram = n1 * n2 - c * c
    angle = wedge_angle(r1, r2)
    return (interval(norm2) * angle - interval(numerator) / iv.sqrt(interval(gram))) / (2 * iv.pi)


def _polygon_moment(polygon: Sequence[Vector], a: Vector, norm2: Fraction) -> object:
    """|a|^2 Area / (4 pi) + the edges' sum / (4 pi) for a convex spherical polygon in R^3 (cyclic rays)."""
    k = len(polygon)
    edges = iv.mpf(0)
    for i in range(k):
        r1, r2 = polygon[i], polygon[(i + 1) % k]
        other = polygon[(i + 2) % k]  # a vertex off this edge's great circle: fixes the inward side
        normal = _cross(r1, r2)
        side = 1 if dot(normal, other) > 0 else -1
        n1, n2 = dot(r1, r1), dot(r2, r2)
        weight = side * dot(a, normal)  # (a . f^) sqrt(G), exactly
        if weight == 0:
            continue
        len1, len2 = iv.sqrt(interval(n1)), iv.sqrt(interval(n2))
        along = interval(dot(a, r1)) / len1 + interval(dot(a, r2)) / len2
        edges += interval(weight) * along / (iv.sqrt(interval(n1 * n2)) + interval(dot(r1, r2)))
    return (interval(norm2) * girard_area(polygon) + edges) / (4 * iv.pi)


def _cross(u: Vector, v: Vector) -> Vector:
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
