"""Issue 18 #4: the two helpers of the claim check that no end-to-end run pins down.

`_hints_violation` picks which Z3 queries a region gets (the one combined query when no extreme
ray of a piece's closed cone hints at a violation); `_boundary_point` re-derives a boundary
counterexample in a fresh solver under the run's query limits. Every expectation is worked out
by hand on two-input cones small enough to draw: the rays and lineality of a quadrant, a wedge
and a half-plane, and the integer dot products a . r that decide the hint.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from verify.check.claims import _boundary_point, _hints_violation
from verify.check.regions import Region
from verify.core.claim import KthArgmaxClaim
from verify.core.linear import Constraint, Op
from verify.geometry.integer_cone import GrowingCone
from verify.smt.solver import QueryLimits, SolverStats


def cone(rays: tuple[tuple[int, int], ...], lineality: tuple[tuple[int, int], ...] = ()) -> GrowingCone:
    """A two-input cone given by its generators (the hint reads nothing else)."""
    return GrowingCone(2, lineality, rays, tuple(0 for _ in rays), (), 64)


def beats(*normals: tuple[int, int]) -> list[Constraint]:
    """'index j beats the target' constraints a . x > 0 (the hint reads their normals a)."""
    return [Constraint((F(a), F(b)), Op.GT) for a, b in normals]


def test_a_piece_whose_target_always_loses_always_hints() -> None:
    # beats None: some index has the target's logit and comes first, so the target never wins
    assert _hints_violation(cone(((1, 0), (0, 1))), None) is True


@pytest.mark.parametrize("rays,lineality,normals,want", [
    # quadrant x, y >= 0; a = (-1, 1): a . (1, 0) = -1, a . (0, 1) = 1 > 0 -> the ray (0, 1) hints
    (((1, 0), (0, 1)), (), [(-1, 1)], True),
    # wedge between (1, 0) and the diagonal (1, 1): a . r = -1 and 0, never > 0 -> no hint
    # (a tie on a ray is not a violation: the target still wins there by the order)
    (((1, 0), (1, 1)), (), [(-1, 1)], False),
    # the same wedge, a second normal (0, 1): a . (1, 1) = 1 > 0 -> hints
    (((1, 0), (1, 1)), (), [(-1, 1), (0, 1)], True),
    # a . r = 2 on one ray: hints as any positive value does
    (((1, 0), (1, 2)), (), [(-1, 1)], True),
    # half-plane x >= 0: ray (1, 0), lineality (0, 1); a = (-1, 0): a . r = -1, a . l = 0 -> no hint
    (((1, 0),), ((0, 1),), [(-1, 0)], False),
    # a = (-1, 1): a . r = -1 but a . l = 1 != 0, so a . x takes both signs on the half-plane
    (((1, 0),), ((0, 1),), [(-1, 1)], True),
    # a = (-2, -1) (primitive): a . r = -2, a . l = -1 != 0 -> hints (the lineality goes both ways)
    (((1, 0),), ((0, 1),), [(-2, -1)], True),
    # the whole plane: no rays, lineality (1, 0), (0, 1); a = (1, -1) is nonzero on both
    ((), ((1, 0), (0, 1)), [(1, -1)], True),
])
def test_the_hint_is_a_positive_ray_or_a_nonzero_lineality(rays, lineality, normals, want) -> None:  # type: ignore[no-untyped-def]
    assert _hints_violation(cone(rays, lineality), beats(*normals)) is want


def test_normals_are_read_as_primitive_integer_directions() -> None:
    # a = (-1/2, 1/2) is the direction (-1, 1): on the quadrant the ray (0, 1) gives 1/2 > 0
    constraints = [Constraint((F(-1, 2), F(1, 2)), Op.GT)]
    assert _hints_violation(cone(((1, 0), (0, 1))), constraints) is True
    # written as a "<" constraint the normal flips: -(x1 - x0) < 0 ... is x1 - x0 > 0 again
    flipped = [Constraint((F(1), F(-1)), Op.LT)]
    assert _hints_violation(cone(((1, 0), (1, 1))), flipped) is False
    assert _hints_violation(cone(((1, 0), (0, 1))), flipped) is True


# A hand-built region of the 2nd-argmax claim on two inputs, logits (x0, x1) (the network
# predicts the largest input: wrong everywhere). Pieces in order: "x0 > x1" (target x1) and
# "x1 > x0" (target x0). The region is the wedge x1 - x0 >= 0, x0 + x1 >= 0: the first piece
# misses it, the second meets it, and there index 1 beats the target 0 (x1 > x0).
WEDGE = Region(
    index=0,
    pattern=(),
    constraints=(Constraint((F(-1), F(1)), Op.GE), Constraint((F(1), F(1)), Op.GE)),
    logits=((F(1), F(0)), (F(0), F(1))),
    d=0,
)
CLAIM = KthArgmaxClaim(2)


def test_the_boundary_point_is_a_violation_on_the_closed_region_from_one_query() -> None:
    stats = SolverStats()
    point = _boundary_point(WEDGE, CLAIM, "x1 > x0", stats, QueryLimits(timeout_ms=None))
    assert point is not None
    x0, x1 = point
    assert x1 - x0 >= 0 and x0 + x1 >= 0  # in the closed region
    assert x1 > x0  # in the piece, where index 1 beats the target 0 (strictly: 1 comes after 0)
    # one query: the piece "x0 > x1" misses the wedge and is never asked
    assert stats.checks == 1 and stats.unknowns == 0


def test_a_piece_that_misses_the_region_has_no_boundary_point() -> None:
    stats = SolverStats()
    assert _boundary_point(WEDGE, CLAIM, "x0 > x1", stats, QueryLimits(timeout_ms=None)) is None
    # the loop still asks the piece that meets the region, "x1 > x0", before it gives up
    assert stats.checks == 1


def test_a_piece_whose_target_always_loses_is_never_asked() -> None:
    # logits (x0, x0): for target 1 index 0 ties it identically and comes first (beats None);
    # on the quadrant both pieces meet the region, only "x1 > x0" (target 0) is asked
    region = Region(0, (), (Constraint((F(1), F(0)), Op.GE), Constraint((F(0), F(1)), Op.GE)),
                    ((F(1), F(0)), (F(1), F(0))), 0)
    stats = SolverStats()
    point = _boundary_point(region, CLAIM, "x1 > x0", stats, QueryLimits(timeout_ms=None))
    # target 0 loses only if x0 > x0 (index 1 comes after 0: strict): never; UNSAT, no point
    assert point is None and stats.checks == 1


def test_the_boundary_query_obeys_the_runs_limits() -> None:
    # a deadline already passed on a fake clock: the query answers unknown, so no point
    limits = QueryLimits(timeout_ms=None, deadline=5.0, clock=lambda: 10.0)
    stats = SolverStats()
    assert _boundary_point(WEDGE, CLAIM, "x1 > x0", stats, limits) is None
    assert stats.unknowns == 1 and stats.checks == 0
