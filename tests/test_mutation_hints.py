"""Issue 18 #4: what no end-to-end run of the claim check pins down.

`_hints_violation` picks which Z3 queries a region gets (the one combined query when no extreme
ray of a piece's closed cone hints at a violation); `_boundary_point` re-derives a boundary
counterexample in a fresh solver under the run's query limits. Every expectation is worked out
by hand on two-input cones small enough to draw: the rays and lineality of a quadrant, a wedge
and a half-plane, and the integer dot products a . r that decide the hint. Then `check_region`
itself on hand-built regions: the one combined query of a region with no hint, the recorded
queries re-decided one by one, and the Z3-only path (more than GEOMETRY_MAX_N inputs, no grown
cone), whose cones are checked by the exact forward pass at their witnesses.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tests.fault_harness import Fault, count_checks, install
from verify.check.claims import Verdict, _boundary_point, _hints_violation, check_region
from verify.check.regions import GEOMETRY_MAX_N, Region
from verify.core.claim import KthArgmaxClaim
from verify.core.linear import Constraint, Op
from verify.geometry.integer_cone import GrowingCone
from verify.smt.solver import Answer, QueryLimits, SolverStats, decide


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


def orthant(n: int, logits: list[list[int]]) -> Region:
    """The region x_i >= 0 for every i, with the given integer logit rows (no grown cone)."""
    rows = tuple(tuple(F(v) for v in row) for row in logits)
    units = tuple(Constraint(tuple(F(int(k == i)) for k in range(n)), Op.GE) for i in range(n))
    return Region(0, (), units, rows, 0)


def exact_argmax(logits: tuple[tuple[F, ...], ...], x: tuple[F, ...]) -> int:
    values = [sum((a * b for a, b in zip(row, x)), F(0)) for row in logits]
    return values.index(max(values))  # the first maximum, as torch.argmax


def test_a_region_the_network_gets_right_is_decided_by_one_combined_query() -> None:
    # argmax claim on the quadrant, logits (x0, x1): correct everywhere. Piece "x0 > rest" meets
    # the quadrant in the cone of rays (1, 0), (1, 1); "index 1 beats 0" is (-1, 1) . x > 0, which
    # is -1 and 0 on those rays: no hint (the same for the other piece by symmetry), so one query
    # for both pieces at once, UNSAT, and no piece is asked on its own
    stats = SolverStats()
    result = check_region(orthant(2, [[1, 0], [0, 1]]), KthArgmaxClaim(1), stats, limits=QueryLimits(timeout_ms=None),
                          collect_queries=True)
    assert result.verdict is Verdict.PROVED and not result.undecided
    assert stats.checks == 1
    assert sorted((c.target, c.predicted) for c in result.cones) == [(0, 0), (1, 1)]
    # recorded all the same, piece by piece (interior SAT, violation UNSAT), as a fresh solver finds
    assert [q.expected for q in result.queries] == [Answer.SAT, Answer.UNSAT] * 2
    for query in result.queries:
        assert decide(2, query.constraints, SolverStats(), any_of=query.any_of, timeout_ms=None)[0] is query.expected


def test_recorded_queries_carry_the_answers_a_fresh_solver_gives() -> None:
    # logits (x1, x0): argmax says 1 where x0 is largest, 0 where x1 is: wrong on both pieces;
    # (1, -1) . (1, 0) = 1 > 0 hints, so each piece's violation is asked and recorded
    region = orthant(2, [[0, 1], [1, 0]])
    result = check_region(region, KthArgmaxClaim(1), SolverStats(), limits=QueryLimits(timeout_ms=None),
                          collect_queries=True)
    assert result.verdict is Verdict.REFUTED
    assert sorted((c.target, c.predicted) for c in result.cones) == [(0, 1), (1, 0)]
    assert len(result.queries) >= 4  # per piece: interior, violation, and the argmax splits
    for query in result.queries:
        answer, _ = decide(2, query.constraints, SolverStats(), any_of=query.any_of, timeout_ms=None)
        assert query.expected is answer, query.name
    assert {q.expected for q in result.queries} == {Answer.SAT, Answer.UNSAT}


def test_past_the_geometry_limit_z3_alone_finds_the_same_cones() -> None:
    # n = GEOMETRY_MAX_N + 1 inputs and no grown cone: every piece is decided by Z3's queries.
    # Logits are the inputs with x0 and x1 swapped, so the argmax is wrong exactly on the pieces
    # "x0 > rest" (predicts 1) and "x1 > rest" (predicts 0), right on the others.
    n = GEOMETRY_MAX_N + 1
    logits = [[int(k == i) for k in range(n)] for i in (1, 0, *range(2, n))]
    region = orthant(n, logits)
    result = check_region(region, KthArgmaxClaim(1), SolverStats(), limits=QueryLimits(timeout_ms=None))
    assert result.verdict is Verdict.REFUTED and not result.undecided
    want = [(0, 1), (1, 0)] + [(i, i) for i in range(2, n)]
    assert sorted((c.target, c.predicted) for c in result.cones) == want
    for c in result.cones:  # every witness: inside the region, in its piece, with that prediction
        assert region.contains(c.witness, strictly=True)
        assert all(k.holds(c.witness) for k in c.constraints)
        assert max(c.witness) == c.witness[c.target] and c.witness.count(max(c.witness)) == 1
        assert exact_argmax(region.logits, c.witness) == c.predicted


# A region whose only counterexamples lie on its boundary: the wedge x1 >= 2 x0 >= 0 with logits
# (2 x0, x1). Inside, x1 > 2 x0, so the argmax is 1, the largest input: right. On the facet
# x1 = 2 x0 (x0 > 0) the logits tie and torch's argmax takes index 0, while the largest input
# is still x1: wrong. The piece "x0 > rest" misses the wedge; "x1 > rest" meets it.
TIE_FACET = Region(0, (), (Constraint((F(-2), F(1)), Op.GE), Constraint((F(1), F(0)), Op.GE)),
                   ((F(2), F(0)), (F(0), F(1))), 0)


def test_a_violation_only_on_the_boundary_refutes_with_a_point_on_the_facet() -> None:
    result = check_region(TIE_FACET, KthArgmaxClaim(1), SolverStats(), limits=QueryLimits(timeout_ms=None))
    assert result.verdict is Verdict.REFUTED and not result.undecided
    assert [(c.target, c.predicted) for c in result.cones] == [(1, 1)]  # inside: right
    (violation,) = result.boundary_violations
    x0, x1 = violation.point
    assert x1 == 2 * x0 and x0 > 0  # on the facet, off the origin
    assert exact_argmax(TIE_FACET.logits, violation.point) == 0 and violation.target == 1


def test_a_boundary_point_the_fresh_solver_cannot_find_leaves_the_region_undecided(
        monkeypatch: pytest.MonkeyPatch) -> None:
    counted = count_checks(monkeypatch)
    check_region(TIE_FACET, KthArgmaxClaim(1), SolverStats(), limits=QueryLimits(timeout_ms=None))
    monkeypatch.undo()
    # the boundary point's query is the run's last check: make it unknown
    install(monkeypatch, Fault(k=counted.calls, kind="unknown"))
    result = check_region(TIE_FACET, KthArgmaxClaim(1), SolverStats(), limits=QueryLimits(timeout_ms=None))
    assert result.verdict is Verdict.REFUTED  # a violation was proved before (the closed query)
    assert result.undecided and not result.stopped
    assert result.boundary_violations == []
    assert result.note == "solver unknown (boundary witness)"
