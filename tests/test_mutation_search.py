"""Issue 18 #4: the Z3 door (verify.smt.solver) on hand-solved systems.

Every expectation is worked out by hand: tiny systems of homogeneous linear constraints whose
satisfiability is obvious, integer rescalings computed on paper, and query limits on a fake clock.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest

from verify.core.claim import KthArgmaxClaim, first_argmax
from verify.core.linear import Constraint, Op
from verify.core.network import ExactRNN
from verify.check.regions import Budget, RegionSearch
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SolverStats, decide, primitive


def c(a: object, b: object, op: Op) -> Constraint:
    return Constraint((F(a), F(b)), op)  # type: ignore[arg-type]


@pytest.mark.parametrize("coeffs,want", [
    ((F(1, 2), F(1, 3)), (3, 2)),            # lcm 6, gcd 1
    ((F(4), F(6)), (2, 3)),                  # gcd 2
    ((F(-3, 4), F(0), F(9, 8)), (-2, 0, 3)),  # lcm 8 -> (-6, 0, 9), gcd 3
    ((F(0), F(0)), (0, 0)),
    ((F(5, 7),), (1,)),
    ((F(2**60 + 1), F(3)), (2**60 + 1, 3)),  # beyond float64: integer division only
])
def test_primitive_is_the_coprime_integer_rescaling(coeffs: tuple[F, ...], want: tuple[int, ...]) -> None:
    assert primitive(coeffs) == tuple(F(v) for v in want)


@pytest.mark.parametrize("constraints,want", [
    ([c(1, 0, Op.GT), c(-1, 0, Op.GT)], Answer.UNSAT),                # x > 0 and x < 0
    ([c(1, 0, Op.GE), c(-1, 0, Op.GE)], Answer.SAT),                  # x = 0 allowed
    ([c(1, 0, Op.GE), c(-1, 0, Op.GE), c(0, 1, Op.GT), c(0, -1, Op.GE)], Answer.UNSAT),
    ([c(1, -1, Op.EQ), c(1, 0, Op.GT)], Answer.SAT),                  # the diagonal
    ([c(1, -1, Op.EQ), c(1, 0, Op.GT), c(0, 1, Op.LT)], Answer.UNSAT),
    ([c(1, 0, Op.LE), c(1, 0, Op.LT)], Answer.SAT),
    ([c(1, 0, Op.LT), c(-1, 0, Op.LE)], Answer.UNSAT),
    ([c(1, 0, Op.LE), c(1, 0, Op.GE), c(0, 1, Op.GT)], Answer.SAT),   # x = 0, y > 0
    ([c(0, 0, Op.GT)], Answer.UNSAT),                                 # 0 > 0
    ([c(0, 0, Op.GE), c(1, 0, Op.GT)], Answer.SAT),                   # 0 >= 0 holds everywhere
])
def test_decisions_on_hand_solved_systems(constraints: list[Constraint], want: Answer) -> None:
    answer, point = decide(2, constraints, SolverStats())
    assert answer is want and (point is None) is (want is not Answer.SAT)
    if point is not None:
        assert all(k.holds(point) for k in constraints)
    solver = ExactSolver(2, SolverStats())
    for k in constraints:
        solver.add(k)
    assert solver.check() is want
    if want is Answer.SAT:
        point = solver.model_point()
        assert all(k.holds(point) for k in constraints)


def test_decide_with_any_of_is_a_disjunction() -> None:
    answer, point = decide(2, [c(1, 0, Op.GT)], SolverStats(), any_of=[c(-1, 0, Op.GT), c(0, -1, Op.GT)])
    assert answer is Answer.SAT and point is not None and point[0] > 0 and point[1] < 0
    answer, point = decide(2, [c(1, 0, Op.GT)], SolverStats(), any_of=[c(-1, 0, Op.GT)])
    assert answer is Answer.UNSAT and point is None


def test_scopes_undo_what_they_added_and_any_of_is_a_disjunction() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver.add(c(1, 0, Op.GT))
    solver.push()
    solver.add(c(-1, 0, Op.GT))
    assert solver.check() is Answer.UNSAT
    solver.pop()
    assert solver.check() is Answer.SAT
    solver.push()
    solver.add_any([c(-1, 0, Op.GT), c(0, 1, Op.GT)])  # x < 0 or y > 0: only y > 0 is possible
    assert solver.check() is Answer.SAT and solver.model_point()[1] > 0
    solver.pop()
    solver.add_any([c(-1, 0, Op.GT), c(-1, 0, Op.GE)])  # x < 0 or x <= 0, with x > 0: impossible
    assert solver.check() is Answer.UNSAT
    assert stats.checks == 4 and stats.unknowns == 0


def test_model_point_without_a_sat_answer_is_an_error() -> None:
    solver = ExactSolver(2, SolverStats())
    solver.add(c(1, 0, Op.GT))
    solver.add(c(-1, 0, Op.GT))
    assert solver.check() is Answer.UNSAT
    with pytest.raises(RuntimeError):
        solver.model_point()


def test_a_passed_deadline_is_unknown_without_asking_z3() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats, limits=QueryLimits(timeout_ms=None, deadline=5.0, clock=lambda: 5.0))
    solver.add(c(1, 0, Op.GT))
    assert solver.check() is Answer.UNKNOWN
    assert solver.last_reason == "deadline" and stats.unknowns == 1 and stats.checks == 0


def test_an_interrupted_solver_answers_unknown() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver.add(c(1, 0, Op.GT))
    solver.interrupt()
    assert solver.check() is Answer.UNKNOWN and solver.last_reason == "interrupted" and stats.unknowns == 1


@pytest.mark.parametrize("timeout,deadline,now,want", [
    (None, None, 0.0, None),      # no limit at all
    (250, None, 0.0, 250),
    (None, 10.0, 7.5, 2500),      # the remaining time
    (1000, 10.0, 7.5, 1000),      # the smaller of the two
    (5000, 10.0, 7.5, 2500),
    (None, 10.0, 10.0, 0),        # at the deadline: nothing left
    (None, 10.0, 11.0, 0),
    (None, 10.0, 9.9999999, 1),   # less than a millisecond left still asks for 1 ms
    (0, None, 0.0, 1),            # a query always gets at least 1 ms
])
def test_query_limits_on_a_fake_clock(timeout: int | None, deadline: float | None, now: float,
                                      want: int | None) -> None:
    limits = QueryLimits(timeout_ms=timeout, deadline=deadline, clock=lambda: now)
    assert limits.next_ms() == want
    assert limits.expired() is (deadline is not None and now >= deadline)


# -- the region search against sampled exact forward passes --------------------------------------

def forward(w_hi, w_hh, w_oh, x):  # type: ignore[no-untyped-def]
    """The exact forward pass, written here: the activation bits of every step and the logits."""
    d = len(w_hi)
    h = [F(0)] * d
    bits = []
    for x_t in x:
        pre = [sum((w_hh[i][j] * h[j] for j in range(d)), F(0)) + w_hi[i] * x_t for i in range(d)]
        if any(p == 0 for p in pre):
            return None  # on a boundary: not a generic sample
        bits.extend(p > 0 for p in pre)
        h = [max(p, F(0)) for p in pre]
    return tuple(bits), tuple(sum((row[j] * h[j] for j in range(d)), F(0)) for row in w_oh)


def small_network(seed: int, d: int, n: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    r = lambda: F(rng.randint(-9, 9), rng.randint(1, 4))  # noqa: E731
    return [r() for _ in range(d)], [[r() for _ in range(d)] for _ in range(d)], [[r() for _ in range(d)] for _ in range(n)]


@pytest.mark.parametrize("seed,d,n", [(0, 2, 2), (1, 3, 2), (2, 2, 3), (3, 3, 3), (4, 4, 2)])
def test_every_sampled_point_lies_in_the_one_region_of_its_pattern(seed: int, d: int, n: int) -> None:
    w_hi, w_hh, w_oh = small_network(seed, d, n)
    net = ExactRNN(tuple(w_hi), tuple(tuple(row) for row in w_hh), tuple(tuple(row) for row in w_oh))
    search = RegionSearch(net, SolverStats())
    regions = list(search.run())
    assert search.state.complete and search.state.regions == len(regions)
    assert [r.index for r in regions] == list(range(len(regions)))
    by_bits = {tuple(b for step in r.pattern for b in step): r for r in regions}
    assert len(by_bits) == len(regions)  # no pattern twice
    rng = random.Random(100 + seed)
    seen = set()
    for _ in range(400):
        x = tuple(F(rng.randint(-1000, 1000), 1000) for _ in range(n))
        sample = forward(w_hi, w_hh, w_oh, x)
        if sample is None:
            continue
        bits, logits = sample
        region = by_bits.get(bits)
        assert region is not None, bits  # the search missed the region of a real point
        assert region.contains(x, strictly=True)
        assert [r for r in regions if r.contains(x, strictly=True)] == [region]
        assert tuple(sum((a * b for a, b in zip(row, x)), F(0)) for row in region.logits) == logits
        seen.add(bits)
    assert len(seen) >= 2


@pytest.mark.parametrize("seed,d,n", [(1, 3, 2), (3, 3, 3)])
def test_a_prefix_search_finds_exactly_the_regions_below_it(seed: int, d: int, n: int) -> None:
    w_hi, w_hh, w_oh = small_network(seed, d, n)
    net = ExactRNN(tuple(w_hi), tuple(tuple(row) for row in w_hh), tuple(tuple(row) for row in w_oh))
    full = [tuple(b for step in r.pattern for b in step) for r in RegionSearch(net, SolverStats()).run()]
    for prefix in [(True,), (False,), (True, False), (False, True, True)]:
        below = [tuple(b for step in r.pattern for b in step)
                 for r in RegionSearch(net, SolverStats(), prefix=prefix).run()]
        assert below == [bits for bits in full if bits[:len(prefix)] == prefix]


def test_a_region_budget_keeps_the_first_regions_and_is_incomplete() -> None:
    w_hi, w_hh, w_oh = small_network(3, 3, 3)
    net = ExactRNN(tuple(w_hi), tuple(tuple(row) for row in w_hh), tuple(tuple(row) for row in w_oh))
    full = [r.pattern for r in RegionSearch(net, SolverStats()).run()]
    assert len(full) >= 4
    for m in (1, 2, len(full) - 1):
        search = RegionSearch(net, SolverStats(), budget=Budget(max_regions=m))
        assert [r.pattern for r in search.run()] == full[:m]
        assert not search.state.complete and search.state.stop_reason == f"region budget of {m} reached"
        assert search.state.undecided_prefixes
        # a stopped branch is named by its bits alone ("10|0" style): no solver note
        assert all(set(p) <= set("01|") for p in search.state.undecided_prefixes), search.state.undecided_prefixes
    exact = RegionSearch(net, SolverStats(), budget=Budget(max_regions=len(full)))
    assert [r.pattern for r in exact.run()] == full and exact.state.complete


# -- claims by hand ---------------------------------------------------------------------------------

@pytest.mark.parametrize("x,k,want", [
    ((3, 2, 1), 2, True), ((1, 2, 3), 2, True), ((3, 3, 1), 2, False), ((3, 2, 2), 2, False),
    ((3, 2, 2), 1, True), ((2, 2, 3), 1, True), ((3, 3), 1, False), ((1, 5), 2, True), ((4, 4), 2, False),
    ((5, 1, 3, 1), 2, True), ((5, 1, 3, 3), 2, False),
])
def test_well_defined_means_the_top_k_strictly_above_the_next(x: tuple[int, ...], k: int, want: bool) -> None:
    assert KthArgmaxClaim(k).well_defined([F(v) for v in x]) is want


@pytest.mark.parametrize("x,k,want", [
    ((3, 1, 2), 2, 2), ((3, 1, 2), 1, 0), ((1, 3, 2), 2, 2), ((2, 3, 1), 2, 0), ((5, 1, 3, 4), 2, 3),
    ((5, 1, 3, 4), 3, 2), ((2, 2, 1), 2, 1),  # a tie: broken by position
])
def test_expected_is_the_position_of_the_kth_largest(x: tuple[int, ...], k: int, want: int) -> None:
    assert KthArgmaxClaim(k).expected([F(v) for v in x]) == want


@pytest.mark.parametrize("values,want", [
    ((1, 3, 2), 1), ((3, 1, 2), 0), ((1, 2, 3), 2), ((2, 2, 1), 0), ((1, 2, 2), 1), ((0, 0, 0), 0), ((-1, -2), 0),
])
def test_first_argmax_is_the_first_maximal_index(values: tuple[int, ...], want: int) -> None:
    assert first_argmax([F(v) for v in values]) == want


# -- counts and wording of undecided searches ---------------------------------------------------------

def test_stop_reasons_name_the_budget() -> None:
    assert Budget().time_reason() == "time budget reached"
    assert Budget(time_budget=2.5).time_reason() == "time budget of 2.5 s reached"
    assert Budget(max_regions=3).region_reason() == "region budget of 3 reached"
    assert SolverStats.solver_name() == "z3"


def test_unknowns_are_counted_one_by_one() -> None:
    stats = SolverStats()
    for _ in range(3):
        solver = ExactSolver(2, stats, limits=QueryLimits(timeout_ms=None, deadline=0.0, clock=lambda: 1.0))
        assert solver.check() is Answer.UNKNOWN
    assert stats.unknowns == 3


def test_two_unknown_region_queries_leave_two_noted_subtrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Region queries 2 and 3 of the search answer unknown (Z3 gave up): the search goes on,
    counts both, notes why, and ends incomplete with a reason that says how many."""
    real = ExactSolver.check
    calls = []

    def check(self: ExactSolver) -> Answer:
        calls.append(1)
        if len(calls) in (2, 3):
            self.stats.checks += 1
            return self._unknown("canceled")
        return real(self)

    monkeypatch.setattr(ExactSolver, "check", check)
    w_hi, w_hh, w_oh = small_network(3, 3, 3)
    net = ExactRNN(tuple(w_hi), tuple(tuple(row) for row in w_hh), tuple(tuple(row) for row in w_oh))
    search = RegionSearch(net, SolverStats(), decider="z3")  # the exact geometry asks no solver
    regions = list(search.run())
    assert regions
    state = search.state
    assert state.unknown_queries == 2 and not state.complete
    assert state.stop_reason == "the solver could not decide 2 region queries"
    assert len(state.undecided_prefixes) == 2
    assert all(p.endswith(" (solver unknown: canceled)") for p in state.undecided_prefixes)


def test_decide_passes_its_timeout_to_the_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.smt.solver as solver_module

    seen = []
    real = solver_module.ExactSolver

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, n, stats, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(kwargs.get("timeout_ms", "absent"))
            super().__init__(n, stats, **kwargs)

    monkeypatch.setattr(solver_module, "ExactSolver", Spy)
    decide(2, [c(1, 0, Op.GT)], SolverStats(), timeout_ms=1234)
    decide(2, [c(1, 0, Op.GT)], SolverStats())
    assert seen == [1234, 10_000]


# -- the queries a region's claim check asks, derived by hand on the handcrafted model ------------

def _queries_by_region(model: str) -> dict[str, list[tuple[str, str, tuple[Constraint, ...], bool]]]:
    from verify.check.pipeline import CheckOptions, check_model
    from verify.formats import load_weights

    result = check_model(load_weights(model), CheckOptions(collect_queries=True, estimate_samples=0))
    assert all(q.n == 2 for o in result.regions for q in o.claim.queries)  # both models read 2 inputs
    return {o.region.pattern_text: [(q.name, q.expected.value, q.constraints, q.any_of is not None)
                                    for q in o.claim.queries] for o in result.regions}


def test_the_handcrafted_models_queries_by_hand() -> None:
    """W_hi = (1, -1), W_hh = [[-1, 1], [1, -1]]: step 0 splits on the sign of x0, step 1 on
    x1 - x0 (pre-activations x1 - x0 and x0 - x1 whatever h_1 is). So four regions, in the search's
    order (active first): 10|10 (x0 > 0, x1 > x0), 10|01 (x0 > 0, x0 > x1), 01|10, 01|01. In each
    exactly one piece of the 2nd-argmax claim meets the region; the model is right there, so its
    violation query is UNSAT; the other piece's interior query is UNSAT and asks nothing more."""
    queries = _queries_by_region("models/handcrafted_2_2.pth")
    assert list(queries) == ["10|10", "10|01", "01|10", "01|01"]
    for pattern, asked in queries.items():
        inside = "x1 > x0" if pattern.endswith("|10") else "x0 > x1"
        want = []
        for piece in ("x0 > x1", "x1 > x0"):
            want.append((f"region {pattern} [{piece}] interior", "sat" if piece == inside else "unsat", False))
            if piece == inside:
                want.append((f"region {pattern} [{piece}] violation", "unsat", True))
        assert [(name, answer, any_of) for name, answer, _, any_of in asked] == want
        for name, _, constraints, _ in asked:
            # 2 steps x 2 neurons region constraints and the piece's one order constraint; an
            # interior query is open (strict), a violation query asks about the closed region
            assert len(constraints) == 5, name
            closed = name.endswith("violation")
            region_ops = {c.op for c in constraints[:4]}
            assert region_ops <= ({Op.GE, Op.LE} if closed else {Op.GT, Op.LT}), (name, region_ops)
            assert constraints[4].op is Op.GT  # the piece stays open


def test_a_refuted_piece_asks_one_query_per_prediction() -> None:
    """On AlgZoo's M_{2,2} a violated piece is split by prediction: after a SAT violation query
    come "argmax=x0" and "argmax=x1", each the open region, the open piece and one strict
    "logit_p beats the other" constraint."""
    queries = _queries_by_region(M22_MODEL)
    split = [q for asked in queries.values() for q in asked if "argmax=" in q[0]]
    assert split  # the model is refuted: some piece was split
    for pattern, asked in queries.items():
        names = [name for name, *_ in asked]
        for i, (name, answer, constraints, any_of) in enumerate(asked):
            assert name.startswith(f"region {pattern} [x")
            if "argmax=" in name:
                piece = name[len(f"region {pattern} "):name.index("]") + 1]
                assert f"region {pattern} {piece} violation" in names[:i]
                assert len(constraints) == 6 and not any_of
                assert all(c.op in (Op.GT, Op.LT) for c in constraints)
        for name, answer, _, _ in asked:
            if name.endswith("violation") and answer == "sat":
                piece = name[len(f"region {pattern} "):-len(" violation")]
                assert [n for n in names if n.startswith(f"region {pattern} {piece} argmax=")] == [
                    f"region {pattern} {piece} argmax=x0", f"region {pattern} {piece} argmax=x1"]


M22_MODEL = "models/algzoo/2nd_argmax_2_2.pth"


def test_solver_statistics_count_z3_calls_and_their_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Z3 check adds 1 to `checks` and its duration to `seconds` (a fake clock that advances
    0.25 s per reading: 0.25 s per check); answers without a check (deadline) add nothing there."""
    import verify.smt.solver as solver_module

    ticks = iter(F(k, 4) for k in range(1000))
    monkeypatch.setattr(solver_module.time, "perf_counter", lambda: float(next(ticks)))
    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver.add(c(1, 0, Op.GT))
    assert solver.check() is Answer.SAT
    solver.add(c(-1, 0, Op.GT))
    assert solver.check() is Answer.UNSAT
    assert stats.checks == 2 and stats.seconds == 0.5 and stats.unknowns == 0
    late = ExactSolver(2, stats, limits=QueryLimits(timeout_ms=None, deadline=1.0, clock=lambda: 2.0))
    assert late.check() is Answer.UNKNOWN
    assert stats.checks == 2 and stats.seconds == 0.5 and stats.unknowns == 1


# -- the claim on hand-made regions: logits chosen by hand, answers by hand or by a brute-force scan ---

from verify.check.claims import Verdict, check_region  # noqa: E402
from verify.check.regions import Region  # noqa: E402


def hand_region(constraints: list[Constraint], logits: list[tuple[int, ...]]) -> Region:
    n = len(logits)
    return Region(index=0, pattern=((True,),) * n, constraints=tuple(constraints),
                  logits=tuple(tuple(F(v) for v in row) for row in logits), d=1)


def cones_of(region: Region, k: int = 2) -> tuple[Verdict, list[tuple[str, int, int, bool]], list]:  # type: ignore[type-arg]
    result = check_region(region, KthArgmaxClaim(k), SolverStats())
    for cone in result.cones:  # every witness is strictly inside its region and its piece
        assert region.contains(cone.witness, strictly=True), cone
        assert all(c.holds(cone.witness) for c in cone.constraints), cone
    return result.verdict, [(c.piece, c.target, c.predicted, c.tied) for c in result.cones], result.boundary_violations


def test_the_argmax_network_is_wrong_on_both_pieces() -> None:
    """logit_i = x_i on all of R^2: the prediction is the larger input, never the 2nd largest."""
    verdict, cones, boundary = cones_of(hand_region([], [(1, 0), (0, 1)]))
    assert verdict is Verdict.REFUTED and not boundary
    assert cones == [("x0 > x1", 1, 0, False), ("x1 > x0", 0, 1, False)]


def test_the_swapped_network_is_right_on_both_pieces() -> None:
    """logit_0 = x1, logit_1 = x0: the prediction is the smaller input, the 2nd largest of two."""
    verdict, cones, boundary = cones_of(hand_region([], [(0, 1), (1, 0)]))
    assert verdict is Verdict.PROVED and not boundary
    assert cones == [("x0 > x1", 1, 1, False), ("x1 > x0", 0, 0, False)]


def test_identical_logits_go_to_the_first_index() -> None:
    """logit_0 = logit_1 = x0 everywhere: torch.argmax picks index 0, so "x1 > x0" (target 0) is
    right and "x0 > x1" (target 1) is wrong, both with a tied maximum."""
    verdict, cones, boundary = cones_of(hand_region([], [(1, 0), (1, 0)]))
    assert verdict is Verdict.REFUTED and not boundary
    assert cones == [("x0 > x1", 1, 0, True), ("x1 > x0", 0, 0, True)]


def test_a_violation_on_the_region_boundary_only() -> None:
    """Region x1 > 0 with logit_0 = 0, logit_1 = x1: inside, index 1 wins (right on "x0 > x1");
    on the boundary x1 = 0 with x0 > 0 both logits are 0 and index 0 wins: a measure-zero
    counterexample that only the closed region shows. On "x1 > x0" index 1 is wrong inside."""
    verdict, cones, boundary = cones_of(hand_region([Constraint((F(0), F(1)), Op.GE)], [(0, 0), (0, 1)]))
    assert verdict is Verdict.REFUTED
    assert cones == [("x0 > x1", 1, 1, False), ("x1 > x0", 0, 1, False)]
    assert [(v.region, v.piece, v.target) for v in boundary] == [(0, "x0 > x1", 1)]
    point = boundary[0].point
    assert point[1] == 0 and point[0] > 0


def first_argmax_of(values: list[F]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


@pytest.mark.parametrize("logits,constraints", [
    ([(1, 0, 0), (1, 0, 0), (0, 0, 1)], []),                 # rows 0 and 1 tie identically
    ([(0, 1, 0), (1, 0, 0), (0, 0, 1)], []),
    ([(0, 0, 1), (2, -1, 0), (1, 1, -1)], [(1, 0, 0)]),      # on the half-space x0 > 0
    ([(1, 1, 0), (0, 1, 1), (1, 0, 1)], [(1, -1, 0), (0, 0, 1)]),
])
def test_cones_match_a_brute_force_scan_in_three_dimensions(logits: list[tuple[int, ...]],
                                                             constraints: list[tuple[int, ...]]) -> None:
    """The (piece, prediction) pairs found are exactly those met by a scan of random rational
    points of the region with distinct coordinates, predicted by first-argmax of the logits."""
    region = hand_region([Constraint(tuple(F(v) for v in c), Op.GE) for c in constraints], logits)
    verdict, cones, _ = cones_of(region)
    rng = random.Random(7)
    seen = set()
    for _ in range(4000):
        x = [F(rng.randint(-10**6, 10**6), 10**3) for _ in range(3)]
        if len(set(x)) < 3 or not region.contains(tuple(x), strictly=True):
            continue
        order = sorted(range(3), key=lambda i: -x[i])
        values = [sum((F(a) * b for a, b in zip(row, x)), F(0)) for row in logits]
        seen.add((f"x{order[0]} > x{order[1]} > rest", order[1], first_argmax_of(values)))
    assert {(piece, target, predicted) for piece, target, predicted, _ in cones} == seen
    assert verdict is (Verdict.REFUTED if any(t != p for _, t, p in seen) else Verdict.PROVED)


def test_a_tie_with_a_later_index_on_the_boundary_is_no_counterexample() -> None:
    """Region x0 > 0 with logit_0 = x0, logit_1 = 0. On "x1 > x0" (target 0) index 0 wins inside,
    and on the boundary x0 = 0 the logits tie, where the first index, the target, still wins: no
    counterexample there. On "x0 > x1" (target 1) index 0 wins inside: wrong."""
    verdict, cones, boundary = cones_of(hand_region([Constraint((F(1), F(0)), Op.GE)], [(1, 0), (0, 0)]))
    assert verdict is Verdict.REFUTED
    assert cones == [("x0 > x1", 1, 0, False), ("x1 > x0", 0, 0, False)]
    assert boundary == []


def test_pattern_text_and_region_membership_by_hand() -> None:
    from verify.check.regions import parse_pattern, pattern_text

    assert pattern_text((True, False, False, True), 2) == "10|01" and pattern_text((), 2) == ""
    assert parse_pattern("10|01") == (True, False, False, True) and parse_pattern("") == ()
    region = hand_region([Constraint((F(1), F(0)), Op.GE), Constraint((F(0), F(1)), Op.GE)], [(1, 0), (0, 1)])
    edge, inside, outside = (F(0), F(1)), (F(1), F(1)), (F(-1), F(1))
    assert region.contains(edge) and region.contains(inside) and not region.contains(outside)
    assert region.contains(inside, strictly=True) and not region.contains(edge, strictly=True)
    assert [c.op for c in region.interior()] == [Op.GT, Op.GT]


def test_a_z3_exception_is_unknown_once_interrupted_and_raised_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt landing inside Z3 surfaces as an exception ("canceled"): after interrupt() it
    is the answer UNKNOWN ("interrupted"), counted as a check with its time (a fake clock, 0.25 s
    a reading); an interrupt landing just after Z3 answered also makes it UNKNOWN. Without an
    interrupt the exception is a real error and propagates."""
    import verify.smt.solver as solver_module
    import z3

    ticks = iter(F(k, 4) for k in range(1000))
    monkeypatch.setattr(solver_module.time, "perf_counter", lambda: float(next(ticks)))

    class Failing:
        def __init__(self, solver: ExactSolver, interrupt: bool, answer: object = None) -> None:
            self.solver, self.interrupt, self.answer = solver, interrupt, answer

        def set(self, *args: object) -> None:
            pass

        def check(self) -> object:
            if self.interrupt:
                self.solver._interrupted = True
            if self.answer is None:
                raise z3.Z3Exception("canceled")
            return self.answer

    stats = SolverStats()
    for answer in (z3.unsat, None):  # the exception second, so that its counts add to earlier ones
        solver = ExactSolver(2, stats)
        solver._solver = Failing(solver, interrupt=True, answer=answer)  # type: ignore[assignment]
        assert solver.check() is Answer.UNKNOWN and solver.last_reason == "interrupted"
    assert stats.checks == 2 and stats.unknowns == 2 and stats.seconds == 0.5
    plain = ExactSolver(2, SolverStats())
    plain._solver = Failing(plain, interrupt=False)  # type: ignore[assignment]
    with pytest.raises(z3.Z3Exception):
        plain.check()


@pytest.mark.parametrize("reason,want", [("timeout", "timeout"), ("canceled", "canceled"), ("", "unknown")])
def test_z3s_unknown_keeps_z3s_reason(reason: str, want: str) -> None:
    import z3

    class GivesUp:
        def set(self, *args: object) -> None:
            pass

        def check(self) -> object:
            return z3.unknown

        def reason_unknown(self) -> str:
            return reason

    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver._solver = GivesUp()  # type: ignore[assignment]
    assert solver.check() is Answer.UNKNOWN and solver.last_reason == want
    assert stats.checks == 1 and stats.unknowns == 1


def test_solver_defaults_and_no_point_before_a_check() -> None:
    solver = ExactSolver(2, SolverStats())
    assert solver.limits.timeout_ms == 10_000 and solver.limits.deadline is None  # the documented default
    with pytest.raises(RuntimeError):
        solver.model_point()


def test_an_undecided_violation_query_leaves_the_other_pieces_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The argmax network on R^2 (both pieces hold a wrong cone). For every k, query k answers
    unknown: the region is never stopped; either other queries decide what it left open (then the
    result is the clean one) or the region is marked undecided with the solver's reason, and every
    cone it still reports is one of the clean run's (never invented), refuted when one was found."""
    real = ExactSolver.check
    clean = check_region(hand_region([], [(1, 0), (0, 1)]), KthArgmaxClaim(2), SolverStats())
    expected = {(c.piece, c.target, c.predicted) for c in clean.cones}
    assert expected == {("x0 > x1", 1, 0), ("x1 > x0", 0, 1)} and clean.verdict is Verdict.REFUTED
    k, total, undecided = 0, None, 0
    while total is None or k < total:
        k += 1
        calls: list[int] = []

        def check(self: ExactSolver, k: int = k) -> Answer:
            calls.append(1)
            return self._unknown("canceled") if len(calls) == k else real(self)

        monkeypatch.setattr(ExactSolver, "check", check)
        result = check_region(hand_region([], [(1, 0), (0, 1)]), KthArgmaxClaim(2), SolverStats())
        monkeypatch.setattr(ExactSolver, "check", real)
        total = len(calls) if total is None else max(total, len(calls))
        found = {(c.piece, c.target, c.predicted) for c in result.cones}
        assert not result.stopped
        if result.undecided:
            assert result.note == "solver unknown (canceled)" and found <= expected
            assert result.verdict is (Verdict.REFUTED if found else Verdict.UNKNOWN)
            undecided += 1
        else:  # an unknown on a query whose answer other queries then gave: the clean result
            assert found == expected and result.verdict is Verdict.REFUTED
    assert total >= 2 and undecided >= 1


def test_the_search_hands_its_query_timeout_deadline_and_clock_to_its_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.check.regions as regions_module

    seen: list[QueryLimits] = []

    class Spy(ExactSolver):
        def __init__(self, n, stats, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(kwargs["limits"])
            super().__init__(n, stats, **kwargs)

    monkeypatch.setattr(regions_module, "ExactSolver", Spy)
    net = ExactRNN((F(1), F(-1)), ((F(-1), F(1)), (F(1), F(-1))), ((F(1), F(-1)), (F(-1), F(1))))
    clock = lambda: 100.0  # noqa: E731
    # the Z3 decider (the geometry decider asks no solver: --cross-check and n > 5 use this one)
    list(RegionSearch(net, SolverStats(), budget=Budget(time_budget=7.0, clock=clock), timeout_ms=1234,
                      decider="z3").run())
    list(RegionSearch(net, SolverStats(), decider="z3").run())
    assert [(s.timeout_ms, s.deadline, s.clock) for s in seen] == [(1234, 107.0, clock), (10_000, None, seen[1].clock)]


def test_one_undecided_region_query_is_named_in_the_singular(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ExactSolver.check
    calls: list[int] = []

    def check(self: ExactSolver) -> Answer:
        calls.append(1)
        return self._unknown("canceled") if len(calls) == 2 else real(self)

    monkeypatch.setattr(ExactSolver, "check", check)
    w_hi, w_hh, w_oh = small_network(3, 3, 3)
    search = RegionSearch(ExactRNN(tuple(w_hi), tuple(map(tuple, w_hh)), tuple(map(tuple, w_oh))), SolverStats(),
                          decider="z3")  # the exact geometry leaves no region query undecided
    assert list(search.run())
    assert search.state.stop_reason == "the solver could not decide 1 region query"


def test_a_search_asked_to_stop_yields_no_further_region() -> None:
    w_hi, w_hh, w_oh = small_network(3, 3, 3)
    net = ExactRNN(tuple(w_hi), tuple(map(tuple, w_hh)), tuple(map(tuple, w_oh)))
    assert len(list(RegionSearch(net, SolverStats()).run())) >= 4
    search = RegionSearch(net, SolverStats())
    found = []
    for region in search.run():
        found.append(region)
        search.stop("halt (test)")
    assert len(found) == 1 and not search.state.complete and search.state.stop_reason == "halt (test)"
    assert search.state.undecided_prefixes  # what was left is named, never dropped


def test_a_clock_exactly_at_the_deadline_is_out_of_time() -> None:
    """Budget of 5 s on a fake clock that reads 0 at the start and exactly 5 afterwards: the
    search has no time left, stops for the time budget (not for undecided queries), finds nothing."""
    readings = iter([0.0])
    clock = lambda: next(readings, 5.0)  # noqa: E731
    w_hi, w_hh, w_oh = small_network(3, 3, 3)
    search = RegionSearch(ExactRNN(tuple(w_hi), tuple(map(tuple, w_hh)), tuple(map(tuple, w_oh))), SolverStats(),
                          budget=Budget(time_budget=5.0, clock=clock))
    assert list(search.run()) == []
    assert search.state.stop_reason == "time budget of 5 s reached" and search.state.unknown_queries == 0


def test_the_handcrafted_search_visits_thirteen_nodes() -> None:
    """Feasible prefixes of the handcrafted model (see above): the root; x0 > 0 or < 0 (2); then
    neuron 1 at step 0 (-x0) is forced by it (2); at step 1 neuron 0 (x1 - x0) splits both (4);
    neuron 1 (x0 - x1) is forced (4): 1 + 2 + 2 + 4 + 4 = 13 nodes, 4 regions."""
    net = ExactRNN((F(1), F(-1)), ((F(-1), F(1)), (F(1), F(-1))), ((F(1), F(-1)), (F(-1), F(1))))
    search = RegionSearch(net, SolverStats())
    assert len(list(search.run())) == 4
    assert search.state.nodes == 13 and search.state.regions == 4 and search.state.complete


def test_a_prefix_through_a_neuron_that_is_identically_zero() -> None:
    """Neuron 1 has input weight 0: at step 0 its pre-activation is identically 0, so it is
    inactive on every path. A prefix forcing it inactive finds the regions below; forcing it
    active finds none (oracle: the full search, which forces nothing)."""
    net = ExactRNN((F(1), F(0)), ((F(-1), F(1)), (F(2), F(-1))), ((F(1), F(-1)), (F(-1), F(1))))
    full = [tuple(b for step in r.pattern for b in step) for r in RegionSearch(net, SolverStats()).run()]
    assert full and all(bits[1] is False for bits in full)
    for prefix in [(True, False), (False, False), (True, True), (False, True)]:
        below = [tuple(b for step in r.pattern for b in step)
                 for r in RegionSearch(net, SolverStats(), prefix=prefix).run()]
        assert below == [bits for bits in full if bits[:2] == prefix], prefix
        assert below or prefix[1] is True


def test_each_query_sets_z3s_timeout_only_when_it_changes() -> None:
    """Z3's own "timeout" parameter carries the query limit: a fixed cap, the rest of a deadline
    on a fake clock, or Z3's "no limit" 2^32 - 1; it is set again only when the value changes."""
    class Recorder:
        def __init__(self, real: object) -> None:
            self.real, self.sets = real, []

        def set(self, name: str, value: object) -> None:
            self.sets.append((name, value))
            self.real.set(name, value)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(self.real, name)

    now = [0.0]
    cases = [(QueryLimits(timeout_ms=250), [("timeout", 250)]),
             (QueryLimits(timeout_ms=None), [("timeout", 2**32 - 1)]),
             (QueryLimits(timeout_ms=None, deadline=10.0, clock=lambda: now[0]), [("timeout", 10_000), ("timeout", 2500)])]
    for limits, want in cases:
        now[0] = 0.0
        solver = ExactSolver(2, SolverStats(), limits=limits)
        solver._solver = recorder = Recorder(solver._solver)  # type: ignore[assignment]
        solver.add(c(1, 0, Op.GT))
        assert solver.check() is Answer.SAT and solver.check() is Answer.SAT  # same limit: set once
        now[0] = 7.5
        assert solver.check() is Answer.SAT
        assert recorder.sets == want


def test_past_the_geometry_limit_the_search_decides_with_z3_alone() -> None:
    # seq_len = GEOMETRY_MAX_N + 1 outputs: the geometric decider is switched off, not cross-checked
    from verify.check.regions import GEOMETRY_MAX_N
    n = GEOMETRY_MAX_N + 1
    net = ExactRNN((F(1),), ((F(1, 2),),), tuple((F(1),) for _ in range(n)))
    search = RegionSearch(net, SolverStats())
    assert search.decider == "z3"
    small = ExactRNN((F(1),), ((F(1, 2),),), tuple((F(1),) for _ in range(GEOMETRY_MAX_N)))
    assert RegionSearch(small, SolverStats()).decider == "geometry"
    # asked for explicitly, the cross-check stays on whatever the size
    assert RegionSearch(net, SolverStats(), decider="both").decider == "both"
