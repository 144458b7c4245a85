"""Issue 18 #4: the search group's survivors at df7c31e (1-in-5 sample), killed one by one.

Expectations come from hand derivations written here: the median pieces listed by hand and every
strictly ordered point of a length-n input in exactly one piece with its sorted middle value(s),
medians of small lists by hand, exact distances to the mean in Fractions, the quadrants of a net
whose neurons repeat one direction, cones and predictions of hand-made regions, extreme rays by
brute force. Unknown answers come from a scripted Z3 door (no timeouts, no wall clock).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from fractions import Fraction as F

import numpy as np
import pytest

import verify.check.claims as claims_module
from tests.exact_oracles import extreme_rays, primitive
from verify.check.claims import Verdict, _orthant, check_region, grow, region_cone, witness_signs
from verify.check.regions import Region, RegionSearch
from verify.core.claim import ArgoutlierClaim, KthArgmaxClaim, MedianClaim, regression_claim_from_name
from verify.core.errors import InputError
from verify.core.linear import Constraint, Op, dot
from verify.core.network import ExactRNN
from verify.geometry.integer_cone import GrowingCone
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SolverStats

REAL_SOLVER = ExactSolver


def _hand_median(values: list[int]) -> F:
    """The median by hand: sort, take the middle value or the mean of the two middle ones."""
    s = sorted(values)
    if len(s) % 2:
        return F(s[len(s) // 2])
    return F(s[len(s) // 2 - 1] + s[len(s) // 2], 2)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_every_ordered_point_lies_in_exactly_one_median_piece_with_its_median(n: int) -> None:
    pieces = MedianClaim().median_pieces(n)
    # odd n: n choices of the middle, C(n-1, n//2) sets above it; even: n(n-1) ordered middle pairs,
    # C(n-2, n/2-1) sets above the higher one
    want_count = n * len(list(itertools.combinations(range(n - 1), n // 2))) if n % 2 else \
        n * (n - 1) * len(list(itertools.combinations(range(n - 2), n // 2 - 1)))
    assert len(pieces) == want_count
    for c in (c for p in pieces for c in p.constraints):
        assert c.op is Op.GT  # open cones only
    for perm in itertools.permutations(range(1, n + 1)):
        x = [F(v) for v in perm]
        inside = [p for p in pieces if all(c.holds(x) for c in p.constraints)]
        assert len(inside) == 1, (perm, [p.label for p in inside])
        assert dot(inside[0].median, x) == _hand_median(list(perm))


def test_median_piece_labels_by_hand() -> None:
    assert sorted(p.label for p in MedianClaim().median_pieces(3)) == sorted([
        "median x0, above {x1}", "median x0, above {x2}",
        "median x1, above {x0}", "median x1, above {x2}",
        "median x2, above {x0}", "median x2, above {x1}"])
    labels5 = {p.label for p in MedianClaim().median_pieces(5)}
    assert "median x2, above {x0,x4}" in labels5 and "median x0, above {x3,x4}" in labels5
    labels4 = {p.label for p in MedianClaim().median_pieces(4)}
    assert "median (x0+x1)/2, above {x3}" in labels4 and "median (x3+x2)/2, above {x1}" in labels4
    labels6 = {p.label for p in MedianClaim().median_pieces(6)}
    assert "median (x0+x1)/2, above {x2,x5}" in labels6
    for n in (3, 4, 5, 6):
        labels = [p.label for p in MedianClaim().median_pieces(n)]
        assert len(set(labels)) == len(labels)


def test_the_piece_of_a_point_is_named_by_its_middle_and_the_values_above() -> None:
    # x = (4, 1, 3, 2): sorted 1 < 2 < 3 < 4, middle pair x2 = 3 (high) and x3 = 2 (low), x0 above
    x = [F(4), F(1), F(3), F(2)]
    (piece,) = [p for p in MedianClaim().median_pieces(4) if all(c.holds(x) for c in p.constraints)]
    assert piece.label == "median (x2+x3)/2, above {x0}"
    assert piece.median == (0, 0, F(1, 2), F(1, 2))
    # x = (5, 1, 4, 2, 3): middle x4 = 3, above it x0 = 5 and x2 = 4
    x = [F(5), F(1), F(4), F(2), F(3)]
    (piece,) = [p for p in MedianClaim().median_pieces(5) if all(c.holds(x) for c in p.constraints)]
    assert piece.label == "median x4, above {x0,x2}"
    assert piece.median == (0, 0, 0, 0, 1)


@pytest.mark.parametrize("values,want", [
    ([3, 1, 2], F(2)),                 # odd: the middle
    ([1, 2, 3], F(2)),
    ([5, 1, 4, 2], F(3)),              # even: (2 + 4) / 2
    ([4, 1, 3, 2], F(5, 2)),           # (2 + 3) / 2
    ([F(1, 3), F(1, 2)], F(5, 12)),    # n = 2: the mean
    ([6, 1, 5, 2, 4, 3], F(7, 2)),     # n = 6: (3 + 4) / 2
    ([9, 7, 1, 3, 5], F(5)),
])
def test_the_exact_median_by_hand(values: list, want: F) -> None:
    got = MedianClaim().median(values)
    assert got == want and isinstance(got, F)


def test_a_regression_claim_error_without_where_has_no_prefix() -> None:
    with pytest.raises(InputError) as info:
        regression_claim_from_name("nope")
    assert str(info.value).startswith("unknown claim 'nope'")
    with pytest.raises(InputError) as info:
        regression_claim_from_name("median", seq_len=1)
    assert str(info.value).startswith("the median claim needs")
    with pytest.raises(InputError) as info:
        regression_claim_from_name("nope", where="m.pth")
    assert str(info.value).startswith("m.pth: unknown claim")


# -- the region search on a net whose two neurons of a step share one direction ---------------------

def _twin_net() -> ExactRNN:
    """n = 2, d = 2: both neurons of step t compute x_t (W_hi = (1, 1), W_hh = 0), so the regions
    are the four open quadrants, patterns 11|11 (x0 > 0, x1 > 0), 11|00, 00|11, 00|00. Neuron 1 of
    a step asks the direction neuron 0 just asserted: the implied answers."""
    one, zero = F(1), F(0)
    return ExactRNN((one, one), ((zero, zero), (zero, zero)), ((one, zero), (zero, one)))


QUADRANT_POINT = {"11|11": (1, 2), "11|00": (1, -2), "00|11": (-1, 2), "00|00": (-1, -2)}


@pytest.mark.parametrize("decider", ["geometry", "z3", "both"])
def test_twin_neurons_give_the_four_quadrants_under_every_decider(decider: str) -> None:
    search = RegionSearch(_twin_net(), SolverStats(), decider=decider)
    regions = list(search.run())
    assert sorted(r.pattern_text for r in regions) == sorted(QUADRANT_POINT)
    assert search.state.complete
    for r in regions:  # each region holds its quadrant's point strictly, and no other quadrant's
        for text, point in QUADRANT_POINT.items():
            assert r.contains(tuple(F(v) for v in point), strictly=True) is (text == r.pattern_text)
        # only --cross-check (both deciders) makes the claim check re-ask Z3 what geometry decided
        assert r.cross_check is (decider == "both")
        assert (r.cone is not None) is (decider != "z3")


def test_a_stop_request_stops_the_search_before_its_first_region() -> None:
    search = RegionSearch(_twin_net(), SolverStats(), should_stop=lambda: "halt requested")
    assert list(search.run()) == []
    assert not search.state.complete
    assert search.state.stop_reason == "halt requested"
    assert search.state.undecided_prefixes == [""]


# -- the Z3 door -------------------------------------------------------------------------------------

def _c(*coeffs: int, op: Op) -> Constraint:
    return Constraint(tuple(F(v) for v in coeffs), op)


def test_point_check_gives_a_point_of_a_satisfiable_system_and_none_otherwise() -> None:
    solver = ExactSolver(2, SolverStats())
    solver.add_all([_c(1, -1, op=Op.GT), _c(0, 1, op=Op.GT)])  # x0 > x1 > 0
    point = solver.point_check()
    assert point is not None and point[0] > point[1] > 0
    solver.add(_c(0, -1, op=Op.GT))  # and x1 < 0: empty
    assert solver.point_check() is None


def test_an_empty_disjunction_is_false() -> None:
    solver = ExactSolver(2, SolverStats())
    solver.add_any([])
    assert solver.check() is Answer.UNSAT
    other = ExactSolver(2, SolverStats())
    other.add_any([_c(1, 0, op=Op.GT)])
    assert other.check() is Answer.SAT


# -- cones: orthant signs, growth by degenerate constraints, the zero cone -----------------------------

def hand_region(constraints: list[tuple[int, ...]], logits: list[tuple[int, ...]], index: int = 0) -> Region:
    n = len(logits)
    return Region(index=index, pattern=((True,),) * n, constraints=tuple(_c(*c, op=Op.GE) for c in constraints),
                  logits=tuple(tuple(F(v) for v in row) for row in logits), d=1)


def test_orthant_signs_by_hand() -> None:
    # x0 >= x1 >= 0: rays (1, 0) and (1, 1); both coordinates positive inside
    assert _orthant(region_cone(hand_region([(1, -1), (0, 1)], [(0, 0), (0, 0)]))) == (1, 1)
    # x1 <= x0 <= 0 ... i.e. 0 >= x0 >= x1: rays (0, -1), (-1, -1): both negative
    assert _orthant(region_cone(hand_region([(-1, 0), (1, -1)], [(0, 0), (0, 0)]))) == (-1, -1)
    # x0 >= |x1|: rays (1, 1), (1, -1): x1 takes both signs inside
    assert _orthant(region_cone(hand_region([(1, -1), (1, 1)], [(0, 0), (0, 0)]))) is None
    # x0 >= 0 alone: a line of lineality (x1 free)
    assert _orthant(region_cone(hand_region([(1, 0)], [(0, 0), (0, 0)]))) is None
    # 2 x0 >= x1 >= 0 in R^3 with x2 >= 0: rays (1, 0, 0), (1, 2, 0), (0, 0, 1): all positive
    assert _orthant(region_cone(hand_region([(2, -1, 0), (0, 1, 0), (0, 0, 1)], [(0,) * 3] * 3))) == (1, 1, 1)


def test_growing_by_a_zero_constraint() -> None:
    cone = GrowingCone.whole_space(2, 64)
    assert grow(cone, [Constraint((F(0), F(0)), Op.GE)]) == cone   # 0 >= 0 always holds
    assert grow(cone, [Constraint((F(0), F(0)), Op.LE)]) == cone
    assert grow(cone, [Constraint((F(0), F(0)), Op.GT)]) is None   # 0 > 0 never does
    assert grow(cone, [Constraint((F(0), F(0)), Op.LT)]) is None


def test_the_zero_cone_has_the_origin_as_its_point() -> None:
    cone = GrowingCone.whole_space(2, 64)
    for a in [(1, 0), (-1, 0), (0, 1), (0, -1)]:  # x0 = x1 = 0
        cone = cone.add(a)
    assert cone.rays == () and cone.lineality == ()
    assert cone.interior_point() == (0, 0)


def test_growing_cones_in_r3_against_brute_force_extreme_rays() -> None:
    """Random cuts, with supporting planes in between (a_i + a_j: tight exactly where both a_i and
    a_j are, so some rays lie on the new plane and none on its negative side): after every cut the
    cone's rays are the brute-force extreme rays."""
    rng = random.Random(18)
    checked = 0
    for _ in range(300):
        cone = GrowingCone.whole_space(3, 4096)
        normals: list[tuple[int, ...]] = []
        for step in range(7):
            if step % 2 and len(normals) >= 2:
                a, b = rng.sample(normals, 2)
                new = primitive(tuple(x + y for x, y in zip(a, b)))
            else:
                new = primitive(tuple(rng.randint(-3, 3) for _ in range(3)))
            if not any(new) or new in normals:
                continue
            grown = grow(cone, [Constraint(tuple(F(v) for v in new), Op.GE)])
            if grown is None:
                continue
            cone, normals = grown, normals + [new]
            if not cone.lineality:
                assert set(cone.rays) == extreme_rays(normals, 3), normals
                checked += 1
    assert checked > 300


# -- the claim on hand-made regions --------------------------------------------------------------------

ARGMAX_2 = [(1, 0), (0, 1)]  # logit_i = x_i: the larger input wins, never the 2nd largest (wrong everywhere)


class Scripted(REAL_SOLVER):  # type: ignore[misc, valid-type]
    """A Z3 door that answers UNKNOWN ("timeout") on the listed checks of each instance, or, past
    `flip_from`, the opposite of Z3's answer (a lying decider)."""

    unknown_at: frozenset[int] = frozenset()
    flip_from: int | None = None

    def check(self) -> Answer:
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls in self.unknown_at:
            self.last_reason = "timeout"
            return Answer.UNKNOWN
        answer = super().check()
        if self.flip_from is not None and self.calls >= self.flip_from and answer is not Answer.UNKNOWN:
            return Answer.UNSAT if answer is Answer.SAT else Answer.SAT
        return answer


def test_an_undecided_violation_query_leaves_the_region_undecided_with_its_reason() -> None:
    """R^2, logit_i = x_i. The first query (the violation of "x0 > x1") comes back unknown; the
    second piece is still refuted, so the region is refuted, undecided, and says why."""
    class FirstUnknown(Scripted):
        unknown_at = frozenset({1})

    region = hand_region([], ARGMAX_2, index=4)
    result = check_region(region, KthArgmaxClaim(2), SolverStats(), solver=FirstUnknown(2, SolverStats()))
    assert result.verdict is Verdict.REFUTED
    assert result.undecided and not result.stopped
    assert result.note == "solver unknown (timeout)"
    assert result.region == 4
    # only "x1 > x0" (target 0) was split: x1 wins on it
    assert [(c.piece, c.target, c.predicted) for c in result.cones] == [("x1 > x0", 0, 1)]


def test_every_cone_keeps_its_grown_cone_and_a_witness_inside_it() -> None:
    region = hand_region([(1, 0), (0, 1)], ARGMAX_2)  # the open quadrant x0 > 0, x1 > 0
    result = check_region(region, KthArgmaxClaim(2), SolverStats())
    assert result.verdict is Verdict.REFUTED
    assert [(c.piece, c.target, c.predicted) for c in result.cones] == [("x0 > x1", 1, 0), ("x1 > x0", 0, 1)]
    assert len(result.grown) == len(result.cones)
    for cone, grown in zip(result.cones, result.grown):
        assert grown is not None
        # the signs of every point of the cone, known before any witness is computed: all positive
        assert witness_signs(cone) == (1, 1)
        w = cone.witness
        assert w[0] > 0 and w[1] > 0 and all(c.holds(w) for c in cone.constraints)
        for ray in grown.rays:  # the grown cone is the cone's closure
            assert all(c.closed().holds(tuple(F(v) for v in ray)) for c in cone.constraints)


def test_a_witness_the_replay_cannot_give_is_the_cone_s_own_exact_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the fresh solver that re-derives Z3's points answers nothing (an interrupt), each cone
    keeps an exact interior point of its own geometry."""
    monkeypatch.setattr(claims_module._WitnessReplay, "_run", lambda self: {})
    region = hand_region([(1, 0), (0, 1)], ARGMAX_2)
    result = check_region(region, KthArgmaxClaim(2), SolverStats())
    assert len(result.cones) == 2
    for cone in result.cones:
        w = cone.witness
        assert w is not None and all(c.holds(w) for c in cone.constraints)


BOUNDARY = ([(0, 1)], [(0, 0), (0, 1)])  # x1 > 0; logit_0 = 0, logit_1 = x1: wrong only on x1 = 0 for "x0 > x1"


def test_the_queries_recorded_name_their_piece_and_use_the_open_or_closed_region() -> None:
    region = hand_region(*BOUNDARY)
    result = check_region(region, KthArgmaxClaim(2), SolverStats(), collect_queries=True)
    closed, opened = (_c(0, 1, op=Op.GE),), (_c(0, 1, op=Op.GT),)
    by_name = {q.name: q for q in result.queries}
    x0_first, x1_first = (_c(1, -1, op=Op.GT),), (_c(-1, 1, op=Op.GT),)
    q = by_name["region 1|1 [x0 > x1] interior"]
    assert q.constraints == opened + x0_first and q.expected is Answer.SAT
    q = by_name["region 1|1 [x0 > x1] violation"]  # x0 > x1, x1 >= 0, logit_0 >= logit_1: x1 = 0
    assert q.constraints == closed + x0_first and q.expected is Answer.SAT
    q = by_name["region 1|1 [x1 > x0] violation"]  # logit_1 > logit_0 where x1 > x0, x1 >= 0: yes
    assert q.constraints == closed + x1_first and q.expected is Answer.SAT
    assert [(v.piece, v.target) for v in result.boundary_violations] == [("x0 > x1", 1)]


def test_the_boundary_violation_names_its_region() -> None:
    region = hand_region(*BOUNDARY, index=7)
    result = check_region(region, KthArgmaxClaim(2), SolverStats())
    assert [(v.region, v.piece, v.target) for v in result.boundary_violations] == [(7, "x0 > x1", 1)]
    assert result.region == 7


def test_the_boundary_point_query_respects_the_run_s_deadline() -> None:
    """The deadline passes right after the first query: the boundary point, asked after it, comes
    back unknown, so no boundary violation is reported and the region says it is undecided."""
    now = [0.0]

    def tick() -> None:
        now[0] = 100.0

    limits = QueryLimits(timeout_ms=None, deadline=10.0, clock=lambda: now[0])
    result = check_region(hand_region(*BOUNDARY), KthArgmaxClaim(2), SolverStats(), limits=limits, on_query=tick)
    assert result.boundary_violations == []
    assert result.undecided and result.stopped
    assert result.verdict is Verdict.REFUTED  # "x1 > x0" was refuted inside before the deadline


def test_the_cross_check_agrees_with_geometry_on_every_split() -> None:
    region = dataclasses.replace(hand_region([], ARGMAX_2), cross_check=True)
    result = check_region(region, KthArgmaxClaim(2), SolverStats())
    assert result.verdict is Verdict.REFUTED
    assert [(c.piece, c.predicted) for c in result.cones] == [("x0 > x1", 0), ("x1 > x0", 1)]


def test_a_cross_check_that_disagrees_with_geometry_is_an_error() -> None:
    class Liar(Scripted):
        flip_from = 2  # the first query (a violation) is answered truly, every split falsely

    region = dataclasses.replace(hand_region([], ARGMAX_2), cross_check=True)
    with pytest.raises(ValueError, match="Z3 says unsat, geometry sat"):
        check_region(region, KthArgmaxClaim(2), SolverStats(), solver=Liar(2, SolverStats()))


# -- past GEOMETRY_MAX_N (n = 6): Z3 alone, in a solver of the region's own ------------------------------

def _zero_logits_region(cube: bool) -> Region:
    """n = 6 and every logit identically 0: index 0 always wins, so every piece whose target is not
    0 is wrong. With `cube`, the region is |x_i| < x5 (i < 5): 32 extreme rays, more than the
    double description may keep at n = 6, so it has no geometry at all."""
    rows = [(0,) * 6] * 6
    constraints = []
    if cube:
        for i in range(5):
            for s in (1, -1):
                c = [0] * 6
                c[5], c[i] = 1, -s
                constraints.append(tuple(c))
    return hand_region(constraints, rows)


def test_past_five_inputs_no_cone_is_grown_even_on_a_region_without_geometry() -> None:
    region = _zero_logits_region(cube=True)
    result = check_region(region, KthArgmaxClaim(2), SolverStats())
    assert result.verdict is Verdict.REFUTED and not result.undecided
    assert result.grown and all(g is None for g in result.grown)
    # x5 is the largest input in the region: the pieces met are "x5 > xj > rest" (target j), one
    # cone each, predicted 0 (all logits tie; the first index wins)
    assert [(c.piece, c.target, c.predicted) for c in result.cones] == [
        (f"x5 > x{j} > rest", j, 0) for j in range(5)]
    for cone in result.cones:
        assert region.contains(cone.witness, strictly=True) and all(c.holds(cone.witness) for c in cone.constraints)


def test_past_five_inputs_the_interior_queries_are_recorded_with_z3_s_answers() -> None:
    result = check_region(_zero_logits_region(cube=False), KthArgmaxClaim(2), SolverStats(), collect_queries=True)
    interior = [q for q in result.queries if q.name.endswith("interior")]
    assert len(interior) == 30 and all(q.expected is Answer.SAT for q in interior)  # every piece meets R^6


def test_past_five_inputs_an_undecided_interior_query_leaves_the_region_undecided(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class FirstUnknown(Scripted):
        unknown_at = frozenset({1})

    worker = REAL_SOLVER(6, SolverStats())
    monkeypatch.setattr(claims_module, "ExactSolver", FirstUnknown)  # the region's own solver
    result = check_region(_zero_logits_region(cube=False), KthArgmaxClaim(2), SolverStats(), solver=worker)
    assert result.undecided and result.note == "solver unknown (timeout)"
    assert result.verdict is Verdict.REFUTED
    assert "x0 > x1 > rest" not in {c.piece for c in result.cones}  # the undecided piece: no cone
    assert len(result.cones) == 29


def test_past_five_inputs_a_piece_whose_target_always_loses_keeps_its_interior_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"x0 > x1 > rest" has target 1, which loses identically to index 0 (equal logits). Its interior
    query gives a point; its only split (argmax 0) comes back unknown. The piece is still a proven
    counterexample, reported at Z3's interior point."""
    class SecondUnknown(Scripted):
        unknown_at = frozenset({2})

    worker = REAL_SOLVER(6, SolverStats())
    monkeypatch.setattr(claims_module, "ExactSolver", SecondUnknown)
    result = check_region(_zero_logits_region(cube=False), KthArgmaxClaim(2), SolverStats(), solver=worker)
    assert result.verdict is Verdict.REFUTED and result.undecided
    assert [(v.piece, v.target) for v in result.boundary_violations] == [("x0 > x1 > rest", 1)]
    x = result.boundary_violations[0].point
    assert x[0] > x[1] > max(x[2:])  # in the piece: x1 is the 2nd largest, yet index 0 wins


def test_a_tie_with_a_later_index_still_needs_the_other_indices_beaten() -> None:
    """R^3, logits (x0, x0, x2): index 0 wins where x0 >= x2 (tying index 1, which comes later),
    index 2 where x2 > x0. By hand, per order of the inputs, one prediction each."""
    result = check_region(hand_region([], [(1, 0, 0), (1, 0, 0), (0, 0, 1)]), KthArgmaxClaim(2), SolverStats())
    assert sorted((c.piece, c.target, c.predicted, c.tied) for c in result.cones) == [
        ("x0 > x1 > rest", 1, 0, True), ("x0 > x2 > rest", 2, 0, True), ("x1 > x0 > rest", 0, 0, True),
        ("x1 > x2 > rest", 2, 2, False), ("x2 > x0 > rest", 0, 2, False), ("x2 > x1 > rest", 1, 2, False)]
    assert result.verdict is Verdict.REFUTED


@pytest.mark.parametrize("decider,checks", [("z3", 6), ("both", 6), ("geometry", 0)])
def test_a_direction_already_on_the_path_is_not_asked_again(decider: str, checks: int) -> None:
    """Z3 is asked about new directions only: x0 > 0 and x0 < 0 at the root, then x1 > 0 and x1 < 0
    under each sign of x0: 6 checks. Neuron 1 of each step repeats neuron 0's direction, whose
    sign the path already asserts (and geometry alone asks Z3 nothing)."""
    stats = SolverStats()
    assert len(list(RegionSearch(_twin_net(), stats, decider=decider).run())) == 4
    assert stats.checks == checks


def test_argoutlier_labels_of_a_float32_batch_are_the_exact_ones() -> None:
    """Near ties (x2 about as far below the mean as x0 is above it), given as float32: the labels
    are those of exact arithmetic on the same values (float32 arithmetic would pick x0)."""
    rows = [[0.1257302165031433, -0.13210485875606537, -0.38993996381759644],
            [0.10490011423826218, -0.5356693863868713, -1.1762391328811646],
            [1.3040000200271606, 0.9470809698104858, 0.5901618003845215]]
    batch = np.array(rows, dtype=np.float32)
    want = []
    for row in batch.tolist():  # the float32 values, exactly, as Fractions
        x = [F(v) for v in row]
        mean = sum(x, F(0)) / 3
        far = [abs(v - mean) for v in x]
        assert far.count(max(far)) == 1
        want.append(far.index(max(far)))
    assert want == [2, 2, 2]
    assert ArgoutlierClaim().targets(batch).tolist() == want


def test_a_cone_in_r4_cut_eleven_times_against_brute_force_extreme_rays() -> None:
    """A sequence of cuts in R^4 (found by a random search over random normals and sums of earlier
    ones, replayed here): after every cut that leaves a pointed cone, its rays are exactly the
    brute-force extreme rays (6 at the end; the tight sets of the rays decide which pairs combine,
    so a wrong tight set shows up as an extra, non-extreme ray)."""
    cuts = [(-1, 0, 0, -2), (-2, -2, 1, 0), (2, 2, 1, 0), (1, 2, 1, -2), (-2, 1, -1, 1), (-2, 1, 1, 1),
            (2, 0, 2, -1), (-1, -2, 3, -3), (0, 2, 2, -1), (0, 3, 2, 1), (0, 1, -2, -2)]
    cone = GrowingCone.whole_space(4, 4096)
    pointed = 0
    for k, a in enumerate(cuts, 1):
        grown = grow(cone, [Constraint(tuple(F(v) for v in a), Op.GE)])
        assert grown is not None  # every cut leaves an open part
        cone = grown
        if not cone.lineality:
            assert set(cone.rays) == extreme_rays(cuts[:k], 4), k
            pointed += 1
    assert pointed == 7 and len(cone.rays) == 6
