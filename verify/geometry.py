"""Exact geometry of polyhedral cones {x : a_i . x > 0}: extreme rays as rational directions.

Only exact arithmetic happens here. A ray is normalised so that its largest coordinate in
absolute value is +-1, which keeps it rational and makes equal directions compare equal.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from verify.linear import Constraint, Vector, dot


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
    ns = normals(constraints)
    if not ns:
        return []
    candidates: dict[Vector, None] = {}
    for a in ns:
        for r in ((-a[1], a[0]), (a[1], -a[0])):
            if all(dot(b, r) >= 0 for b in ns):
                candidates.setdefault(normalize_ray(r), None)
    rays = list(candidates)
    if len(rays) != 2:
        raise ValueError(f"a 2-D cone with non-empty interior has 2 boundary rays, found {len(rays)}")
    r1, r2 = rays
    turn = cross2(r1, r2)
    if turn == 0:  # half-plane: start is the ray from which the interior lies counter-clockwise
        inside = ns[0]
        return [r1, r2] if cross2(r1, inside) > 0 else [r2, r1]
    return [r1, r2] if turn > 0 else [r2, r1]


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
