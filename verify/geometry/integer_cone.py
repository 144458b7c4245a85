"""Incremental double description over primitive integer vectors: cones built one constraint at a time.

A `GrowingCone` is the closed cone {x : a . x >= 0 for every normal a added so far}, held as a
lineality basis and extreme rays (each with the set of normals tight on it), all as coprime
integer vectors. Adding a normal returns a new cone and leaves the old one untouched, so a
depth-first search keeps one per depth and backs up for free; a region's cone is built once,
along its path, and its claim cones grow from it.

The steps are those of `verify.geometry.solid`'s double description, in the same order, so the
rays come out in the same order; only the arithmetic differs (Python integers instead of
Fractions: every positive rescaling of a direction is the same direction).

Whether an open child cone is empty needs no rank: the parent's open cone is non-empty, so
{parent, c . x > 0} is non-empty exactly when some generator has c . g > 0 (a lineality vector
counts on both sides when c . l != 0). Everything here is exact integer arithmetic.
"""

from __future__ import annotations

from operator import mul
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

from verify.core.linear import Constraint, Op, common_denominator, coprime_integers, primitive_integers

IntVector = tuple[int, ...]


# the core's coprime integer forms, under the names the geometry uses
primitive_int = primitive_integers  # an integer vector divided by the gcd of its entries
integer_direction = coprime_integers  # a rational vector's direction as coprime integers


def idot(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(map(mul, a, b))


def strict_test(constraints: Sequence[Constraint]) -> Callable[[Sequence[Fraction]], bool]:
    """Whether a rational point satisfies every constraint strictly (c . x > 0 or < 0, whatever
    the constraint's own op): the normals as coprime integers once, then per point the point over
    its common denominator and one integer dot product per normal. An equality has no strict side."""
    if any(c.op is Op.EQ for c in constraints):
        raise ValueError("an equality constraint has no open side")
    normals = [integer_direction(c.positive_normal()) for c in constraints]

    def inside(x: Sequence[Fraction]) -> bool:
        den = common_denominator(x)
        xs = [v.numerator * (den // v.denominator) for v in x]
        return all(idot(a, xs) > 0 for a in normals)

    return inside


@dataclass(frozen=True)
class GrowingCone:
    """Generators of {x : a . x >= 0, a in normals}: lineality basis, extreme rays with tight masks.

    `overflow` records that some step kept more than `max_rays` rays, where the capped double
    description of `verify.geometry.solid` gives up; the cone itself stays exact and complete.
    """

    n: int
    lineality: tuple[IntVector, ...]
    rays: tuple[IntVector, ...]
    tight: tuple[int, ...]  # bit k set: the k-th normal is tight on the ray
    normals: tuple[IntVector, ...]  # the distinct normals added, in order
    max_rays: int
    overflow: bool = False

    @classmethod
    def whole_space(cls, n: int, max_rays: int) -> "GrowingCone":
        units = tuple(tuple(1 if k == i else 0 for k in range(n)) for i in range(n))
        return cls(n, units, (), (), (), max_rays)

    def sides(self, c: Sequence[int]) -> tuple[bool, bool]:
        """(non-empty with c . x > 0, non-empty with c . x < 0), for a cone with non-empty interior."""
        for l in self.lineality:
            if idot(c, l) != 0:
                return True, True
        positive = negative = False
        for r in self.rays:
            v = idot(c, r)
            if v > 0:
                positive = True
            elif v < 0:
                negative = True
            if positive and negative:
                break
        return positive, negative

    def has(self, a: IntVector) -> bool:
        return a in self.normals

    def add(self, a: IntVector) -> "GrowingCone":
        """The cone cut by a . x >= 0 (a primitive, nonzero and not already a normal)."""
        idx = len(self.normals)
        bit = 1 << idx
        normals = self.normals + (a,)
        values = [idot(a, l) for l in self.lineality]
        pivot = next((k for k, v in enumerate(values) if v != 0), None)
        if pivot is not None:
            s = values[pivot]
            l0 = self.lineality[pivot] if s > 0 else tuple(-x for x in self.lineality[pivot])
            s = abs(s)
            lineality = tuple(
                primitive_int([s * x - v * y for x, y in zip(l, l0)])
                for k, (l, v) in enumerate(zip(self.lineality, values)) if k != pivot
            )
            rays = [primitive_int([s * x - idot(a, r) * y for x, y in zip(r, l0)]) for r in self.rays]
            tight = [z | bit for z in self.tight]
            rays.append(primitive_int(l0))
            tight.append(bit - 1)
            return GrowingCone(self.n, lineality, tuple(rays), tuple(tight), normals, self.max_rays, self.overflow)
        signs = [idot(a, r) for r in self.rays]
        if all(v >= 0 for v in signs):
            tight_now = tuple(z | bit if v == 0 else z for z, v in zip(self.tight, signs))
            return GrowingCone(self.n, self.lineality, self.rays, tight_now, normals, self.max_rays, self.overflow)
        kept: list[tuple[IntVector, int]] = [
            (r, z | bit if v == 0 else z) for r, z, v in zip(self.rays, self.tight, signs) if v >= 0
        ]
        overflow = self.overflow
        rays, masks = self.rays, self.tight
        count = len(rays)
        for i in range(count):
            vp = signs[i]
            if vp <= 0:
                continue
            p, zp = rays[i], masks[i]
            for j in range(count):
                vq = signs[j]
                if vq >= 0:
                    continue
                common = zp & masks[j]
                # combinatorial adjacency: no third ray is tight wherever both are
                if any(common & ~masks[k] == 0 for k in range(count) if k != i and k != j):
                    continue
                q = rays[j]
                kept.append((primitive_int([vp * x - vq * y for x, y in zip(q, p)]), common | bit))
                if len(kept) > self.max_rays:
                    overflow = True
        # one copy of each direction (a duplicate would hide its twin's adjacencies); as in
        # solid.py, a repeated direction keeps its first place and its last tight set
        unique: dict[IntVector, int] = {}
        for r, z in kept:
            unique[r] = z
        return GrowingCone(self.n, self.lineality, tuple(unique), tuple(unique.values()), normals, self.max_rays,
                           overflow)

    def interior_point(self) -> IntVector:
        """An exact point of the open cone: the sum of the rays (plus the first lineality vector if none)."""
        if not self.rays:
            return self.lineality[0] if self.lineality else tuple(0 for _ in range(self.n))
        return tuple(sum(r[k] for r in self.rays) for k in range(self.n))
