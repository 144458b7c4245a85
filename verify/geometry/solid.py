"""Exact geometry of polyhedral cones in R^n and their certified Gaussian measure.

A cone {x : a_i . x > 0} (its closure {a_i . x >= 0}) is turned, exactly over the rationals,
into generators: a basis of its lineality space L (the largest subspace it contains) and the
extreme rays of its pointed part C ∩ L^⊥ (double description method). Its facets are the
constraints whose tight generators span a hyperplane. The standard normal law is rotation
invariant and a product over L and L^⊥, so the cone's Gaussian mass is that of its pointed
part inside L^⊥, whose dimension is the rank r = n - dim L:

- r = 0: the whole space (1); r = 1: a half-space (1/2);
- r = 2: a wedge of angle theta between its two rays: theta / (2 pi);
- r = 3: a spherical polygon; by Girard, area = sum of interior angles - (k - 2) pi, over 4 pi;
- r = 4, 5: no closed form; the pointed part is triangulated exactly (geometry/triangulate.py)
  and each simplicial cone's orthant probability enclosed by certified quadrature
  (geometry/orthant.py);
- r >= 6: `cone_measure_nd` returns None (no certified method here).

Angles are evaluated in Arb's ball arithmetic (python-flint) from exact dot products and Gram
determinants, so lower and upper bounds provably contain the true value.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from mpmath import iv, mpf

from verify.geometry.integer_cone import GrowingCone, idot
from verify.geometry.lp import rank, solve  # noqa: F401 - rank is re-exported
from verify.geometry.planar import normalize_ray
from verify.core.linear import Constraint, Op, Vector, common_denominator, dot, is_zero, unit
from verify.geometry.measure import (CERTIFIED_QUADRATURE, EXACT_SOLID_ANGLE, Measure, ball_precision,
                                     from_ball, interval_of_ball, method_for, working_precision)

MAX_CERTIFIED_RANK = 5  # geometry/orthant.py certifies simplicial cones up to rank 5


def default_max_rays(n: int) -> int:
    """Where the double description gives up (None): generous in R^3, where a cone has at most
    as many extreme rays as constraints; small in high dimension, where rays can explode and
    the rays only serve as interior points (a solver witness does as well)."""
    return 4096 if n <= 3 else (1024 if n <= MAX_CERTIFIED_RANK else 16)


@dataclass(frozen=True)
class ConeGeometry:
    """Exact generators of the closed cone: cone(rays) + span(lineality), and its facets."""

    n: int
    rays: tuple[Vector, ...]  # extreme rays of the pointed part, each orthogonal to the lineality space
    lineality: tuple[Vector, ...]  # a basis of the lineality space L
    facets: tuple[Vector, ...]  # normals a (read a . x >= 0) of the irredundant facets
    full_dimensional: bool  # the open cone is non-empty (the closed cone spans R^n)

    @property
    def rank(self) -> int:
        """Dimension of the pointed part: n - dim L."""
        return self.n - len(self.lineality)


# -- exact linear algebra ---------------------------------------------------------------------


def _scale(v: Sequence[Fraction], s: Fraction) -> Vector:
    return tuple(s * x for x in v)


def _combine(a: Sequence[Fraction], s: Fraction, b: Sequence[Fraction], t: Fraction) -> Vector:
    return tuple(s * x + t * y for x, y in zip(a, b))


def project_out(v: Sequence[Fraction], basis: Sequence[Vector]) -> Vector:
    """The exact orthogonal projection of v onto the complement of span(basis)."""
    if not basis:
        return tuple(v)
    gram = [[dot(b, c) for c in basis] for b in basis]
    coeffs = solve(gram, [dot(b, v) for b in basis])
    out = list(v)
    for c, b in zip(coeffs, basis):
        out = [x - c * y for x, y in zip(out, b)]
    return tuple(out)


def gram_det(vectors: Sequence[Sequence[Fraction]]) -> Fraction:
    """det of the Gram matrix: the squared volume of the parallelotope the vectors span."""
    m = [[dot(a, b) for b in vectors] for a in vectors]
    size, det = len(m), Fraction(1)
    for col in range(size):
        pivot = next((i for i in range(col, size) if m[i][col] != 0), None)
        if pivot is None:
            return Fraction(0)
        if pivot != col:
            m[col], m[pivot] = m[pivot], m[col]
            det = -det
        det *= m[col][col]
        for i in range(col + 1, size):
            f = m[i][col] / m[col][col]
            m[i] = [x - f * y for x, y in zip(m[i], m[col])]
    return det


# -- double description -----------------------------------------------------------------------


def _normals(constraints: Sequence[Constraint]) -> list[Vector] | None:
    """Normals a with each constraint read as a . x >= 0 (closure); None if the open cone is empty."""
    seen: dict[Vector, None] = {}
    for c in constraints:
        if c.op is Op.EQ:
            raise ValueError("equality constraints do not define a cone with interior")
        a = c.positive_normal()
        if is_zero(a):
            if c.op in (Op.GT, Op.LT):
                return None  # 0 > 0: empty
            continue
        seen.setdefault(normalize_ray(a), None)
    return list(seen)


def _double_description(
    normals: Sequence[Vector], n: int, max_rays: int
) -> tuple[list[Vector], list[Vector]] | None:
    """Generators (rays, lineality basis) of {x : a . x >= 0 for all a}; None past `max_rays`."""
    lineality: list[Vector] = [unit(n, i) for i in range(n)]
    rays: list[tuple[Vector, frozenset[int]]] = []  # each ray with the indices of its tight constraints
    for idx, a in enumerate(normals):
        values = [dot(a, l) for l in lineality]
        pivot = next((k for k, v in enumerate(values) if v != 0), None)
        if pivot is not None:
            # a cuts the lineality space: l0 becomes a ray, the rest of L and every ray move into a . x = 0
            s = values[pivot]
            l0 = lineality[pivot] if s > 0 else _scale(lineality[pivot], Fraction(-1))
            s = abs(s)
            lineality = [
                normalize_ray(_combine(l, Fraction(1), l0, -v / s))
                for k, (l, v) in enumerate(zip(lineality, values))
                if k != pivot
            ]
            rays = [(normalize_ray(_combine(r, Fraction(1), l0, -dot(a, r) / s)), z | {idx}) for r, z in rays]
            rays.append((normalize_ray(l0), frozenset(range(idx))))
            continue
        signs = [dot(a, r) for r, _ in rays]
        positive = [(r, z, v) for (r, z), v in zip(rays, signs) if v > 0]
        negative = [(r, z, v) for (r, z), v in zip(rays, signs) if v < 0]
        if not negative:
            rays = [(r, z | {idx} if v == 0 else z) for (r, z), v in zip(rays, signs)]
            continue
        kept = [(r, z | {idx} if v == 0 else z) for (r, z), v in zip(rays, signs) if v >= 0]
        for p, zp, vp in positive:
            for q, zq, vq in negative:
                common = zp & zq
                # combinatorial adjacency: no third ray is tight wherever both are
                if any(common <= z for r, z in rays if r is not p and r is not q):
                    continue
                kept.append((normalize_ray(_combine(q, vp, p, -vq)), common | {idx}))
                if len(kept) > max_rays:
                    return None
        # a duplicate would hide every adjacency of its twin: keep one copy of each direction
        rays = list({r: (r, z) for r, z in kept}.values())
    return [r for r, _ in rays], lineality


def cone_geometry(
    constraints: Sequence[Constraint], n: int, *, max_rays: int | None = None
) -> ConeGeometry | None:
    """Exact extreme rays, lineality and facets of the closure of an open cone; None if too many rays."""
    normals = _normals(constraints)
    if normals is None:
        return ConeGeometry(n, (), (), (), False)
    generated = _double_description(normals, n, default_max_rays(n) if max_rays is None else max_rays)
    if generated is None:
        return None
    raw_rays, lineality = generated
    return _finish(normals, raw_rays, lineality, n)


def _finish(normals: Sequence[Vector], raw_rays: Sequence[Vector], lineality: list[Vector], n: int) -> ConeGeometry:
    """Project the rays off the lineality space, test full dimension and pick the facets."""
    rays: dict[Vector, None] = {}
    for r in raw_rays:
        p = project_out(r, lineality)
        if not is_zero(p):
            rays.setdefault(normalize_ray(p), None)
    ray_list = list(rays)
    full = rank(ray_list + lineality) == n
    facets: list[Vector] = []
    if full:
        for a in normals:
            tight = [r for r in ray_list if dot(a, r) == 0]
            if rank(tight + lineality) == n - 1:
                facets.append(a)
    return ConeGeometry(n, tuple(ray_list), tuple(lineality), tuple(facets), full)


def _fractions(v: Sequence[int]) -> Vector:
    """normalize_ray of an integer vector (largest |coordinate| 1), one exact quotient per entry."""
    scale = max(abs(x) for x in v)
    if scale == 0:
        raise ValueError("zero vector is not a ray")
    return tuple(Fraction(x, scale) for x in v)


def geometry_of(cone: GrowingCone) -> ConeGeometry | None:
    """The geometry `cone_geometry` gives for the same constraints, from an incrementally grown cone.

    Same rays in the same order, same lineality and facets (the double description steps are the
    same); None where the capped double description gives up. A cone without lineality stays in
    integers to the end; one with lineality takes the rational projection of `cone_geometry`.
    """
    if cone.overflow:
        return None
    n = cone.n
    if cone.lineality:
        return _finish([_fractions(a) for a in cone.normals], [_fractions(r) for r in cone.rays],
                       [_fractions(v) for v in cone.lineality], n)
    unique: dict[tuple[int, ...], int] = {}
    for r, z in zip(cone.rays, cone.tight):
        if any(r):
            unique.setdefault(r, z)
    ints = list(unique)
    full = rank(ints) == n
    facets: list[Vector] = []
    if full:
        masks = list(unique.values())
        for k, a in enumerate(cone.normals):
            # the rays tight on the k-th normal are those whose tight set holds bit k (the sets are
            # exact: a ray made from two is tight on a normal exactly where both of them are)
            bit = 1 << k
            tight = [r for r, z in zip(ints, masks) if z & bit]
            # distinct primitive rays of a pointed cone are pairwise independent (parallel ones
            # would be equal, opposite ones a line): up to n = 3 the count alone gives the rank
            if len(tight) >= n - 1 and (n <= 3 or rank(tight) == n - 1):
                facets.append(_fractions(a))
    return ConeGeometry(n, tuple(_fractions(r) for r in ints), (), tuple(facets), full)


def extreme_rays(constraints: Sequence[Constraint], n: int) -> list[Vector] | None:
    """The extreme rays of the cone's pointed part (orthogonal to its lineality space), or None."""
    geometry = cone_geometry(constraints, n)
    return None if geometry is None else list(geometry.rays)


# -- measures ---------------------------------------------------------------------------------


def _wedge_ball(a: Sequence[int], b: Sequence[int]) -> Any:
    """Arb ball of the angle between two independent integer vectors: atan2(sqrt(Gram), dot), in
    (0, pi). Integers suffice: atan2 does not change when both arguments scale by one factor > 0."""
    from flint import arb

    return arb.atan2(arb(_int_det([[idot(a, a), idot(a, b)], [idot(b, a), idot(b, b)]])).sqrt(), arb(idot(a, b)))


def wedge_angle(r1: Sequence[Fraction], r2: Sequence[Fraction]) -> object:
    """Interval enclosure of the angle between two independent vectors, in (0, pi)."""
    with working_precision(), ball_precision():
        return interval_of_ball(_wedge_ball(_Scaled(r1).ints, _Scaled(r2).ints))


class _Scaled:
    """A rational vector as integers over one denominator: exact dot products at integer speed."""

    __slots__ = ("ints", "den")

    def __init__(self, v: Sequence[Fraction]) -> None:
        den = common_denominator(v)
        self.ints = tuple(x.numerator * (den // x.denominator) for x in v)
        self.den = den


def _int_det(m: list[list[int]]) -> int:
    """Exact determinant of a small integer matrix (Bareiss elimination)."""
    size = len(m)
    m = [row[:] for row in m]
    sign, previous = 1, 1
    for k in range(size - 1):
        if m[k][k] == 0:
            swap = next((i for i in range(k + 1, size) if m[i][k] != 0), None)
            if swap is None:
                return 0
            m[k], m[swap] = m[swap], m[k]
            sign = -sign
        for i in range(k + 1, size):
            for j in range(k + 1, size):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // previous
        previous = m[k][k]
    return sign * m[size - 1][size - 1]


def cyclic_order(geometry: ConeGeometry) -> list[Vector]:
    """The rays of a rank-3 pointed part in cyclic order: consecutive rays share a facet."""
    rays = list(geometry.rays)
    scaled = [_Scaled(r).ints for r in rays]
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(rays))}
    for a in geometry.facets:
        normal = _Scaled(a).ints
        tight = [i for i, r in enumerate(scaled) if idot(normal, r) == 0]
        if len(tight) != 2:
            raise ValueError(f"a facet of a 3-dimensional pointed cone holds 2 extreme rays, found {len(tight)}")
        i, j = tight
        neighbours[i].append(j)
        neighbours[j].append(i)
    if any(len(v) != 2 for v in neighbours.values()):
        raise ValueError("extreme rays and facets do not form a polygon")
    order, previous = [0], None
    while True:
        current = order[-1]
        nxt = next(j for j in neighbours[current] if j != previous)
        if nxt == 0:
            break
        order.append(nxt)
        previous = current
    if len(order) != len(rays):
        raise ValueError("extreme rays do not form a single polygon")
    return [rays[i] for i in order]


def _interior_ball(u: Sequence[int], v: Sequence[int], w: Sequence[int]) -> Any:
    """Arb ball of the spherical polygon's angle at v (see `interior_angle`), from integer vectors:
    both arguments of atan2 are homogeneous in each of u, v, w with the same degrees, so scaling
    a vector by a positive factor scales both alike and leaves the angle unchanged."""
    from flint import arb

    vv, uu, ww = idot(v, v), idot(u, u), idot(w, w)
    uv, vw, uw = idot(u, v), idot(v, w), idot(u, w)
    gram = _int_det([[vv, uv, vw], [uv, uu, uw], [vw, uw, ww]])
    y = arb(vv * gram).sqrt()  # |v| * |det(v, u, w)|, one square root
    return arb.atan2(y, arb(vv * uw - uv * vw))


def interior_angle(u: Sequence[Fraction], v: Sequence[Fraction], w: Sequence[Fraction]) -> object:
    """Interval enclosure of the spherical polygon's angle at vertex v between the arcs to u and w.

    It is the angle between the great-circle planes v x u and v x w:
    atan2(|v| * |det(v, u, w)|, |v|^2 (u . w) - (u . v)(v . w)), with |det| = sqrt(Gram(v, u, w))
    so that the same formula holds for a rank-3 cone inside a higher-dimensional space.
    """
    with working_precision(), ball_precision():
        return interval_of_ball(_interior_ball(_Scaled(u).ints, _Scaled(v).ints, _Scaled(w).ints))


def _girard_ball(polygon: Sequence[Sequence[Fraction]]) -> Any:
    """Arb ball of a convex spherical polygon's area (call inside `ball_precision()`)."""
    from flint import arb

    scaled = [_Scaled(r).ints for r in polygon]
    k = len(scaled)
    total = arb(0)
    for i in range(k):
        total += _interior_ball(scaled[i - 1], scaled[i], scaled[(i + 1) % k])
    return total - (k - 2) * arb.pi()


def girard_area(polygon: Sequence[Sequence[Fraction]]) -> object:
    """Interval enclosure of a convex spherical polygon's area: sum of angles - (k - 2) pi."""
    with working_precision(), ball_precision():
        return interval_of_ball(_girard_ball(polygon))


def geometry_measure(geometry: ConeGeometry) -> Measure | None:
    """The Gaussian mass of the cone (solid angle over that of the sphere), labelled with the method
    that computed it; None for rank >= 6 or when a simplicial piece cannot be certified."""
    r = geometry.rank
    if 4 <= r <= MAX_CERTIFIED_RANK and geometry.full_dimensional:
        return _quadrature_measure(geometry, CERTIFIED_QUADRATURE[r])
    method = EXACT_SOLID_ANGLE
    if not geometry.full_dimensional:
        return Measure(mpf(0), mpf(0), method_for(geometry.n))
    with working_precision():
        if r == 0:
            return Measure(mpf(1), mpf(1), method)
        if r == 1:
            return Measure(mpf(1) / 2, mpf(1) / 2, method)
        if r in (2, 3):
            from flint import arb

            with ball_precision():
                if r == 2:
                    r1, r2 = geometry.rays
                    return from_ball(_wedge_ball(_Scaled(r1).ints, _Scaled(r2).ints) / (2 * arb.pi()), method)
                return from_ball(_girard_ball(cyclic_order(geometry)) / (4 * arb.pi()), method)
    return None


def _quadrature_measure(geometry: ConeGeometry, method: str) -> Measure | None:
    """Sum of certified orthant probabilities over an exact triangulation of the pointed part."""
    from verify.geometry.orthant import simplicial_measure
    from verify.geometry.triangulate import triangulate

    with working_precision():
        total = iv.mpf(0)
        for simplex in triangulate(geometry.rays, geometry.facets, geometry.lineality):
            bounds = simplicial_measure(simplex)
            if bounds is None:
                return None
            total += iv.mpf(list(bounds))  # interval sums round outward
        return Measure(mpf(total.a), mpf(total.b), method)


def measured_cone(constraints: Sequence[Constraint], n: int) -> tuple[ConeGeometry | None, Measure | None]:
    """The cone's geometry and its Gaussian measure, computed once (both None when no certified method).

    A rank above 5 (cheap to test before any ray is computed) has no certified method: no geometry
    is computed. Otherwise a cone whose open set is empty gets measure exactly 0.
    """
    normals = _normals(constraints)
    if normals is not None and rank(normals) > MAX_CERTIFIED_RANK:
        return None, None
    geometry = cone_geometry(constraints, n)
    return geometry, None if geometry is None else geometry_measure(geometry)


def cone_measure_nd(constraints: Sequence[Constraint], n: int) -> Measure | None:
    """The Gaussian measure of an open cone in R^n, rigorously enclosed; None when no certified method."""
    return measured_cone(constraints, n)[1]
