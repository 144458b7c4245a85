"""The third round of the hot path (issue 12): each shortcut against what it replaces.

Oracles: the exact LP walk on the unscaled rational rows (a positive scale of a row must not
change a single vertex); a brute-force LP optimum over every vertex of small polytopes (which
also says when the optimum is unique); direct Fraction subtraction and dot products; the deepest
point computed from Z3's witness, as the previous design did, for every misclassified cone of a
real refuted model.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction as F

import pytest

from tests.conftest import ROOT
from tests.exact_oracles import solve
from verify.check.claims import Cone, _DeferredPoint, _Differences, _prediction_constraints, _violation_terms
from verify.check.claims import provisional_witness, witness_signs
from verify.check.counterexamples import interior_point
from verify.check.pipeline import CheckOptions, check_model
from verify.core.claim import ArgoutlierClaim, KthArgmaxClaim
from verify.core.linear import Constraint, Op, dot, sub
from verify.formats import load_weights
from verify.geometry.integer_cone import GrowingCone, idot, primitive_int
from verify.geometry.lp import _feasible, maximize
from verify.geometry.planar import deepest_point, deepest_point_certified, normalize_ray, normalized_slack
from verify.smt.smtlib import smt_constraint
from verify.smt.solver import ExactSolver, SolverStats, integer_text, primitive

MODEL = ROOT / "models" / "trained_2_3.pth"  # n = 3, refuted: sign-free cones with unique and with tied optima


def _random_lp(rng: random.Random, size: int, extra: int) -> tuple[list[list[F]], list[F], list[int]]:
    """A bounded LP in `size` variables: the box |z_i| <= 1 plus `extra` random rows through a point
    inside, with a vertex of the box that satisfies every row as the start (found by search)."""
    rows: list[list[F]] = []
    bounds: list[F] = []
    for i in range(size):
        for sign in (1, -1):
            rows.append([F(sign if k == i else 0) for k in range(size)])
            bounds.append(F(1))
    for _ in range(extra):
        row = [F(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(size)]
        rows.append(row)
        bounds.append(F(rng.randint(1, 9), rng.randint(1, 3)))  # the origin is strictly inside
    return rows, bounds, []


def _vertices(rows: list[list[F]], bounds: list[F], size: int) -> list[tuple[F, ...]]:
    """Every vertex of {z : rows . z <= bounds}, by brute force over every choice of tight rows."""
    found = []
    for basis in itertools.combinations(range(len(rows)), size):
        solution = solve([rows[i] for i in basis], [bounds[i] for i in basis])
        if solution is None:
            continue
        z = tuple(solution)
        if all(dot(r, z) <= b for r, b in zip(rows, bounds)) and z not in found:
            found.append(z)
    return found


def _start(rows: list[list[F]], bounds: list[F], size: int, rng: random.Random) -> list[int] | None:
    """Tight rows of some feasible vertex, independent, as `maximize` needs."""
    bases = list(itertools.combinations(range(len(rows)), size))
    rng.shuffle(bases)
    for basis in bases:
        z = solve([rows[i] for i in basis], [bounds[i] for i in basis])
        if z is not None and all(dot(r, z) <= b for r, b in zip(rows, bounds)):
            return list(basis)
    return None


@pytest.mark.parametrize("seed", range(40))
def test_a_positive_scale_of_each_row_changes_no_vertex_of_the_walk(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.choice([2, 3])
    rows, bounds, _ = _random_lp(rng, size, rng.randint(2, 5))
    objective = [F(rng.randint(-5, 5), rng.randint(1, 3)) for _ in range(size)]
    start = _start(rows, bounds, size, rng)
    assert start is not None
    plain = maximize(objective, rows, bounds, start)
    scales = [F(rng.randint(1, 50), rng.randint(1, 7)) for _ in rows]
    scaled_rows = [[s * v for v in row] for s, row in zip(scales, rows)]
    scaled_bounds = [s * b for s, b in zip(scales, bounds)]
    scaled = maximize(objective, scaled_rows, scaled_bounds, start)
    assert (scaled.point, scaled.value, scaled.optimal, scaled.unique) == (
        plain.point, plain.value, plain.optimal, plain.unique)
    # and the walk ends at the true optimum, by brute force over every vertex
    best = max(dot(objective, z) for z in _vertices(rows, bounds, size))
    assert plain.optimal and plain.value == best


@pytest.mark.parametrize("seed", range(40))
def test_unique_means_the_only_optimal_vertex_and_every_start_finds_it(seed: int) -> None:
    rng = random.Random(1000 + seed)
    size = rng.choice([2, 3])
    rows, bounds, _ = _random_lp(rng, size, rng.randint(1, 4))
    # small integer objectives make ties (an optimal edge or face) common
    objective = [F(rng.randint(-1, 1)) for _ in range(size)]
    if not any(objective):
        objective[0] = F(1)
    vertices = _vertices(rows, bounds, size)
    best = max(dot(objective, z) for z in vertices)
    optimal = [z for z in vertices if dot(objective, z) == best]
    results = []
    for _ in range(4):
        start = _start(rows, bounds, size, rng)
        assert start is not None
        results.append(maximize(objective, rows, bounds, start))
    for result in results:
        assert result.optimal and result.value == best
        if result.unique:  # the certificate never claims uniqueness where two vertices are optimal
            assert optimal == [result.point]
    if any(r.unique for r in results):
        assert len({r.point for r in results}) == 1


def test_a_whole_optimal_edge_is_never_called_unique() -> None:
    """max z0 over the square |z_i| <= 1: the edge z0 = 1 is optimal, so no vertex is the only one."""
    rows = [[F(1), F(0)], [F(-1), F(0)], [F(0), F(1)], [F(0), F(-1)]]
    bounds = [F(1)] * 4
    result = maximize([F(1), F(0)], rows, bounds, [1, 2])  # start at (-1, 1)
    assert result.optimal and result.value == 1 and not result.unique
    corner = maximize([F(1), F(1)], rows, bounds, [1, 3])  # max z0 + z1: only (1, 1)
    assert corner.point == (F(1), F(1)) and corner.unique


@pytest.mark.parametrize("seed", range(30))
def test_integer_feasibility_agrees_with_fraction_dot_products(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(1, 5)
    rows = [[rng.randint(-9, 9) if rng.random() < 0.7 else F(rng.randint(-9, 9), rng.randint(1, 5))
             for _ in range(size)] for _ in range(rng.randint(1, 8))]
    bounds = [F(rng.randint(-3, 3), rng.randint(1, 3)) for _ in rows]
    point = [F(rng.randint(-20, 20), rng.randint(1, 12)) for _ in range(size)]
    expected = all(sum((F(a) * x for a, x in zip(row, point)), F(0)) <= b for row, b in zip(rows, bounds))
    assert _feasible(rows, bounds, point) is expected
    # the boundary itself is feasible: move each bound onto its row's value
    on = [sum((F(a) * x for a, x in zip(row, point)), F(0)) for row in rows]
    assert _feasible(rows, on, point)
    if rows:
        off = list(on)
        off[0] -= F(1, 10**9)
        assert not _feasible(rows, off, point)


def test_logit_differences_are_the_direct_subtractions_in_both_orders() -> None:
    rng = random.Random(5)
    logits = [tuple(F(rng.randint(-10**12, 10**12), 2**rng.randint(0, 60)) for _ in range(3)) for _ in range(4)]
    logits[3] = logits[1]  # a tie: a difference of zero
    diff = _Differences(logits)
    for a, b in itertools.product(range(4), repeat=2):
        assert diff(a, b) == sub(logits[a], logits[b])
        assert diff(b, a) == sub(logits[b], logits[a])  # the cached negation of the other order
    for target in range(4):
        assert _violation_terms(logits, target, _Differences(logits)) == _violation_terms(logits, target)
        assert _prediction_constraints(logits, target, diff) == _prediction_constraints(logits, target)
    # index 1 and 3 tie identically: 3 can never be the first maximum, 1 never loses to 3
    assert _prediction_constraints(logits, 3, diff) is None
    assert _violation_terms(logits, 3, diff) is None
    terms = _violation_terms(logits, 1, diff)
    assert terms is not None and all(t.coeffs != sub(logits[3], logits[1]) for t in terms)


@pytest.mark.parametrize("claim", [KthArgmaxClaim(1), KthArgmaxClaim(2), ArgoutlierClaim()])
def test_the_pieces_built_once_are_the_same_every_time_and_cannot_be_changed_by_a_caller(claim: object) -> None:
    first = claim.pieces(3)  # type: ignore[attr-defined]
    count = len(first)
    first.pop()  # a caller's list is its own
    again = claim.pieces(3)  # type: ignore[attr-defined]
    assert len(again) == count
    assert first == again[:-1]
    # every piece is an open cone of strict constraints whose target answers the claim at a point inside
    for piece in again:
        assert all(c.op is Op.GT for c in piece.constraints)


@pytest.fixture(scope="module")
def refuted_cones() -> tuple[int, list[Cone]]:
    weights = load_weights(str(MODEL))
    result = check_model(weights, CheckOptions(max_counterexamples=0))
    assert result.verdict.word == "refuted"
    return weights.seq_len, [c for c in result.cones if not c.correct]


def test_a_deferred_witness_is_not_computed_when_the_deepest_point_is_unique(
        refuted_cones: tuple[int, list[Cone]]) -> None:
    """The previous design's point: the LP started from the signs of Z3's witness. Where the walk
    proves its vertex the only optimum, the point must be that one, with the witness untouched."""
    n, cones = refuted_cones
    skipped = 0
    for cone in cones:
        deferred = provisional_witness(cone)
        if deferred is None or witness_signs(cone) is not None:
            continue
        point = interior_point(cone, n)
        untouched = isinstance(cone.__dict__["witness"], _DeferredPoint)
        # the previous design, as it was: the LP from the witness's signs, else the witness itself
        reference = deepest_point(cone.constraints, n, cone.witness)  # reads (computes) the witness
        if reference is None or not all(c.holds(reference) for c in cone.constraints):
            reference = normalize_ray(cone.witness)
        assert point == reference
        assert all(c.holds(point) for c in cone.constraints)
        if untouched:
            skipped += 1
            assert deepest_point_certified(cone.constraints, n, deferred)[1]  # only with a proof of uniqueness
    assert skipped > 0


def test_provisional_witness_is_none_once_the_witness_is_known(refuted_cones: tuple[int, list[Cone]]) -> None:
    _, cones = refuted_cones
    cone = next(c for c in cones if provisional_witness(c) is not None)
    inside = provisional_witness(cone)
    assert inside is not None and all(c.holds(inside) for c in cone.constraints)
    cone.witness  # noqa: B018 -- reading it resolves the deferred point
    assert provisional_witness(cone) is None
    plain = Cone(0, "p", 0, 1, False, (Constraint((F(1), F(0), F(0)), Op.GT),), (F(1), F(0), F(0)))
    assert provisional_witness(plain) is None


@pytest.mark.parametrize("seed", range(60))
def test_each_rays_tight_set_is_exactly_the_normals_it_lies_on(seed: int) -> None:
    """`geometry_of` reads a facet's rays from the tight sets instead of dot products: they must
    be exact, through the lineality steps and every combination of two rays."""
    rng = random.Random(seed)
    n = rng.choice([2, 3, 4, 5])
    cone = GrowingCone.whole_space(n, 10**6)
    steps = 0
    for _ in range(12):
        a = primitive_int([rng.randint(-3, 3) for _ in range(n)])
        if not any(a) or cone.has(a) or not cone.sides(a)[0]:
            continue
        cone = cone.add(a)
        steps += 1
        for r, z in zip(cone.rays, cone.tight):
            assert [k for k, b in enumerate(cone.normals) if idot(b, r) == 0] == [
                k for k in range(len(cone.normals)) if z >> k & 1]
    assert steps > 0


@pytest.mark.parametrize("seed", range(40))
def test_the_solvers_integer_text_is_the_general_printers_text_of_the_primitive_constraint(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 5)
    coeffs = tuple(F(rng.choice([0, rng.randint(-10**20, 10**20)]), 2**rng.randint(0, 70)) for _ in range(n))
    op = rng.choice(list(Op))
    constraint = Constraint(coeffs, op)
    assert integer_text(constraint) == smt_constraint(Constraint(primitive(coeffs), op))
    # the same half-space: a positive multiple of the coefficients prints the same text
    scale = F(rng.randint(1, 10**6), rng.randint(1, 10**6))
    assert integer_text(Constraint(tuple(scale * c for c in coeffs), op)) == integer_text(constraint)


def test_the_solvers_text_cache_never_gives_one_constraint_anothers_text() -> None:
    solver = ExactSolver(2, SolverStats())
    first = Constraint((F(1), F(-1)), Op.GT)
    assert solver._text(first) == "(> (+ (* 1.0 x0) (* (- 1.0) x1)) 0.0)"
    for k in range(5000):  # many short-lived constraints: ids are reused, texts must not be
        c = Constraint((F(k + 2), F(-1)), Op.GE)
        assert solver._text(c) == f"(>= (+ (* {k + 2}.0 x0) (* (- 1.0) x1)) 0.0)"
    assert solver._text(first) == "(> (+ (* 1.0 x0) (* (- 1.0) x1)) 0.0)"


# -- the exact walk without the float guess, and the caches' object keys --------------------------------

def _hand_cones() -> list[tuple[tuple[Constraint, ...], int, tuple[F, ...], tuple[F, ...]]]:
    """(cone, n, a start inside it, its deepest point by hand): see tests/test_counterexamples.py."""
    k = F(10**6)
    e = [tuple(F(int(i == j)) for j in range(4)) for i in range(4)]
    chain = tuple(Constraint(tuple(a - b for a, b in zip(e[i], e[i + 1])), Op.GT) for i in range(3))
    return [
        ((Constraint((F(1), F(0)), Op.GT), Constraint((F(0), F(1)), Op.GT)), 2, (F(1, 1000), F(5)), (F(1), F(1))),
        # the same quadrant from below: x0 < 0, x1 < 0 (the corner's signs are negative)
        ((Constraint((F(1), F(0)), Op.LT), Constraint((F(0), F(1)), Op.LT)), 2, (F(-3), F(-1, 7)), (F(-1), F(-1))),
        ((Constraint((F(0), F(1)), Op.GT), Constraint((F(1), -k), Op.GT)), 2, (F(1), F(1, 10**9)),
         (F(1), 1 / (1 + 2 * k))),
        (chain, 4, (F(3), F(2, 1), F(2) - F(1, 10**6), F(0)), (F(1), F(1, 3), F(-1, 3), F(-1))),
        # x0 > x1 > x2: gaps (x0 - x1)/2 = (x1 - x2)/2 = 1/2; a start with a zero coordinate
        (tuple(Constraint(c.coeffs[:3], Op.GT) for c in chain[:2]), 3, (F(1), F(0), F(-1)), (F(1), F(0), F(-1))),
    ]


@pytest.mark.parametrize("guess", ["none", "arbitrary"])
def test_the_exact_walk_from_the_starts_corner_finds_the_hand_derived_deepest_point(
        guess: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The float walk only proposes a vertex. Without it (no guess, or a guess exact arithmetic
    rejects), the exact walk from the box corner with the start's signs must still end at the
    deepest point, proved optimal."""
    import verify.geometry.planar as planar

    def no_guess(objective, rows, bounds, tight, **_):  # type: ignore[no-untyped-def]
        if guess == "none":
            return None
        # every box row with sign +1 and the last normal's row: a vertex that need not be feasible
        n = len(objective) - 1
        return [len(rows) - 2 * n - 1] + [len(rows) - 2 * n + 2 * i for i in range(n)]

    monkeypatch.setattr(planar, "float_basis", no_guess)
    for constraints, n, start, expected in _hand_cones():
        point, unique = deepest_point_certified(constraints, n, start)
        assert point == expected
        assert normalized_slack(point, constraints) == min(
            sum((a * x for a, x in zip(c.positive_normal(), point)), F(0)) / sum(abs(a) for a in c.positive_normal())
            for c in constraints)


def test_a_rejected_float_guess_falls_back_to_the_exact_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guessed basis that is singular or infeasible in exact arithmetic: maximize refuses it and
    the walk restarts from the corner; the deepest point is unchanged."""
    import verify.geometry.planar as planar

    calls = []

    def bad_guess(objective, rows, bounds, tight, **_):  # type: ignore[no-untyped-def]
        calls.append(1)
        return [len(rows) - 2] * len(objective)  # one box row repeated: a singular basis

    monkeypatch.setattr(planar, "float_basis", bad_guess)
    for constraints, n, start, expected in _hand_cones():
        assert deepest_point(constraints, n, start) == expected
    assert calls


def test_a_cone_without_interior_has_no_deepest_point() -> None:
    """x0 > 0 and x0 < 0: the best slack is 0 (on the boundary), so no point is returned."""
    constraints = (Constraint((F(1), F(0)), Op.GT), Constraint((F(1), F(0)), Op.LT))
    assert deepest_point(constraints, 2, (F(1), F(1))) is None
    wall = (Constraint((F(1), F(-1)), Op.GT), Constraint((F(-1), F(1)), Op.GT), Constraint((F(0), F(1)), Op.GT))
    assert deepest_point(wall, 2, (F(1), F(1, 2))) is None


def test_stale_cache_entries_of_a_reused_id_are_never_served() -> None:
    """The caches key by id() and keep the object: an entry left by another object at the same id
    (ids are reused once an object dies) must be recomputed, not served."""
    from verify.check import claims as claims_module

    c = Constraint((F(3), F(-6), F(9, 2)), Op.LT)
    impostor = Constraint((F(1), F(1), F(1)), Op.GT)
    claims_module._DIRECTIONS.entries[(id(c), None)] = (impostor, (1, 1, 1))
    assert claims_module._direction(c) == (-2, 4, -3)
    assert claims_module._direction(c) == (-2, 4, -3)  # and again, from the cache


def test_integer_text_of_mixed_denominators_and_a_common_factor() -> None:
    """Hand-checked: (1/2, 1/3, 1) is (3, 2, 6) over 6; (2, 4, 0) has the common factor 2."""
    assert integer_text(Constraint((F(1, 2), F(1, 3), F(1)), Op.GE)) == "(>= (+ (* 3.0 x0) (* 2.0 x1) (* 6.0 x2)) 0.0)"
    assert integer_text(Constraint((F(2), F(4), F(0)), Op.LT)) == "(< (+ (* 1.0 x0) (* 2.0 x1)) 0.0)"
    assert integer_text(Constraint((F(-6, 5), F(0), F(9, 10)), Op.EQ)) == "(= (+ (* (- 4.0) x0) (* 3.0 x2)) 0.0)"
    assert integer_text(Constraint((F(0), F(0)), Op.GT)) == "(> 0.0 0.0)"
