"""Exact triangulation of a pointed polyhedral cone into simplicial cones (pulling).

Pick one extreme ray v; the cone is the union, with disjoint interiors, of cone(v, F) over the
facets F that do not contain v, and each such facet is triangulated the same way inside itself.
Every face of a face is the intersection with a facet of the whole cone, so the faces of a face
are found from the cone's own facet normals: no new geometry is computed, only exact signs of
dot products and ranks of ray sets. The simplicial cones' measures then add up to the cone's.
"""

from __future__ import annotations

from typing import Sequence

from verify.core.linear import Vector, dot
from verify.geometry.lp import rank


def triangulate(
    rays: Sequence[Vector], facets: Sequence[Vector], lineality: Sequence[Vector] = ()
) -> list[tuple[Vector, ...]]:
    """Simplicial cones (tuples of r independent rays) covering the pointed cone cone(rays), whose
    rank is r, with disjoint interiors. `facets` are the cone's irredundant facet normals (a . x >= 0)
    and `lineality` a basis of its lineality space (the rays are orthogonal to it)."""
    lin = list(lineality)
    r = rank(list(rays))
    tight = [frozenset(k for k, v in enumerate(rays) if dot(a, v) == 0) for a in facets]
    out: list[tuple[Vector, ...]] = []

    def faces_of(face: frozenset[int], dim: int) -> list[frozenset[int]]:
        """The (dim - 1)-dimensional faces of the face `face` (ray indices) of dimension dim."""
        found: dict[frozenset[int], None] = {}
        for t in tight:
            sub = face & t
            if sub != face and len(sub) >= dim - 1 and rank([rays[k] for k in sub] + lin) - len(lin) == dim - 1:
                found.setdefault(sub, None)
        return list(found)

    def pull(face: frozenset[int], dim: int) -> None:
        if len(face) == dim:
            out.append(tuple(rays[k] for k in sorted(face)))
            return
        apex = min(face)
        for sub in faces_of(face, dim):
            if apex in sub:
                continue
            for simplex in _pulled(sub, dim - 1):
                out.append((rays[apex],) + simplex)

    def _pulled(face: frozenset[int], dim: int) -> list[tuple[Vector, ...]]:
        if dim == 1:
            (k,) = face
            return [(rays[k],)]
        start = len(out)
        pull(face, dim)
        produced = out[start:]
        del out[start:]
        return produced

    pull(frozenset(range(len(rays))), r)
    return out
