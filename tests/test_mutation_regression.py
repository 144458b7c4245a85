"""The median regression claim's pieces, one function at a time (issue 18's regression group).

Each expectation is derived here by hand (the cube and the order cones are drawn on paper), by an
exact forward pass written here, or by an independent Monte Carlo with a stated tolerance; none is
read from the code under test.
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest
from mpmath import mpf

from tests.exact_oracles import solve
from verify.check.regions import Region
from verify.check.regression import (
    PieceError,
    WorstCaseMismatch,
    estimate_mse,
    evaluate_region,
    exceeds,
    float32_check,
    search_network,
    z3_confirms,
)
from verify.core.claim import MedianClaim
from verify.core.linear import Constraint, Op
from verify.core.network import ExactRNN
from verify.corpus import last_input_scalar
from verify.geometry.moments import cone_second_moment
from verify.smt.solver import Answer

ONES3 = (F(1), F(1), F(1))


# ---- float32_check: the maximizer re-run through the real float32 model -------------------------

def test_float32_check_of_a_hand_point_off_the_unit_cube() -> None:
    """y = x_last at x = (1/4, 1/2, -1/2): y = -1/2, median 1/4, |y - median| = 3/4, max|x_i| = 1/2,
    so the ratio is 3/2 exactly (every value a float32)."""
    check = float32_check(last_input_scalar(), (F(1, 4), F(1, 2), F(-1, 2)), F(1))
    assert check.x_float32 == (0.25, 0.5, -0.5)
    assert check.y_float32 == -0.5 and check.median_float32 == 0.25
    assert check.ratio_float32 == 1.5
    assert check.confirmed  # 3/2 > 1


def test_float32_check_is_strict_at_eps_equal_to_the_ratio() -> None:
    check = float32_check(last_input_scalar(), (F(1, 4), F(1, 2), F(-1, 2)), F(3, 2))
    assert check.ratio_float32 == 1.5 and not check.confirmed  # 3/2 > 3/2 is false


def test_float32_check_at_the_origin_has_ratio_0_and_confirms_nothing() -> None:
    check = float32_check(last_input_scalar(), (F(0), F(0), F(0)), F(0))
    assert check.ratio_float32 == 0.0 and not check.confirmed  # 0 > 0 is false


def test_float32_check_rounds_the_point_to_float32_first() -> None:
    """1/3 is not a float32: the point checked is its nearest float32, 11184811 * 2^-25."""
    third32 = 11184811 / 2 ** 25
    check = float32_check(last_input_scalar(), (F(1), F(-1), F(1, 3)), F(0))
    assert check.x_float32 == (1.0, -1.0, third32)
    assert check.y_float32 == third32 and check.median_float32 == third32
    assert check.ratio_float32 == 0.0 and not check.confirmed


# ---- exceeds / z3_confirms: the cross-check of a cone's worst case --------------------------------

def _exceeds_by_hand(form: tuple[F, ...], bound: F, x: tuple[F, ...]) -> bool:
    value = sum(c * v for c, v in zip(form, x))
    return value > bound * max(abs(v) for v in x)


@pytest.mark.parametrize("form, bound", [((F(1), F(0)), F(1, 2)), ((F(1), F(-2)), F(1)), ((F(0), F(3)), F(2))])
def test_exceeds_holds_exactly_where_the_form_beats_the_bound_times_the_largest_input(form, bound) -> None:  # type: ignore[no-untyped-def]
    constraints = exceeds(form, bound, 2)
    assert len(constraints) == 4 and all(c.op is Op.GT for c in constraints)
    grid = [F(i, 4) for i in range(-4, 5)]
    for x in ((a, b) for a in grid for b in grid if (a, b) != (0, 0)):
        assert all(c.holds(x) for c in constraints) == _exceeds_by_hand(form, bound, x), x


class _Door:
    """A solver door that answers what it is told, in turn, and records the scopes it was given."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.depth = 0
        self.asserted: list[list[Constraint]] = []

    def push(self) -> None:
        self.depth += 1

    def pop(self) -> None:
        self.depth -= 1

    def add_all(self, constraints: list[Constraint]) -> None:
        self.asserted.append(list(constraints))

    def check(self) -> Answer:
        return self.answers.pop(0)


PIECE = PieceError("median x1", (F(0), F(-1), F(1)), F(2), (F(1), F(1), F(-1)), (), None)


@pytest.mark.parametrize("answers, expected", [([Answer.UNSAT, Answer.UNSAT], Answer.UNSAT),
                                               ([Answer.UNKNOWN, Answer.UNSAT], Answer.UNKNOWN),
                                               ([Answer.UNSAT, Answer.UNKNOWN], Answer.UNKNOWN)])
def test_z3_confirms_is_unknown_when_either_side_is_undecided(answers, expected) -> None:  # type: ignore[no-untyped-def]
    door = _Door(answers)
    assert z3_confirms(PIECE, [], 3, door) is expected  # type: ignore[arg-type]
    assert door.depth == 0 and len(door.asserted) == 2
    # both signs of the form are asked, each in its own scope: c . x > 2 max|x_i| and -c . x > 2 max|x_i|
    # (exceeds itself is checked against the hand predicate above)
    flipped = tuple(-c for c in PIECE.error_form)
    assert door.asserted == [exceeds(PIECE.error_form, F(2), 3), exceeds(flipped, F(2), 3)]


@pytest.mark.parametrize("answers", [[Answer.SAT, Answer.UNSAT], [Answer.UNSAT, Answer.SAT]])
def test_z3_finding_a_point_above_the_lp_maximum_is_a_harness_error(answers) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorstCaseMismatch):
        z3_confirms(PIECE, [], 3, _Door(answers))  # type: ignore[arg-type]


# ---- evaluate_region: which median pieces meet a region, and their worst cases --------------------

def _hand_region(constraints: tuple[Constraint, ...], output: tuple[F, ...]) -> Region:
    return Region(0, (), constraints, tuple(output for _ in range(3)), 2)


def test_a_region_inside_one_order_cone_meets_only_that_median_piece() -> None:
    """The region x0 >= x1 >= x2 lies inside the piece "median x1, above {x0}" and touches no other
    piece's interior. With y = x2 the error is x2 - x1, whose largest |.| on the region inside the
    cube is 2 (x = (1, 1, -1)), by hand."""
    region = _hand_region((Constraint((F(1), F(-1), F(0)), Op.GE), Constraint((F(0), F(1), F(-1)), Op.GE)),
                          (F(0), F(0), F(1)))
    result = evaluate_region(region, MedianClaim(), 3)
    assert [p.label for p in result.pieces] == ["median x1, above {x0}"]
    (piece,) = result.pieces
    assert piece.error_form == (F(0), F(-1), F(1))
    assert piece.worst == 2 and result.worst == 2
    assert piece.worst_point == (F(1), F(1), F(-1))
    assert result.output == (F(0), F(0), F(1))


def test_a_half_space_region_meets_every_median_piece() -> None:
    """x0 >= 0 meets all six order cones of R^3 (each contains points with either sign of x0)."""
    region = _hand_region((Constraint((F(1), F(0), F(0)), Op.GE),), (F(0), F(0), F(1)))
    result = evaluate_region(region, MedianClaim(), 3)
    assert len(result.pieces) == 6
    # y = x2, by hand on x0 >= 0 inside the cube: where x2 is the median the error is 0; x1 > x0 > x2
    # and x0 > x1 > x2 reach |x2 - median| = 2 at x2 = -1; x2 > x0 > x1 and x2 > x1 > x0 only 1 (the
    # median is >= 0 there, x2 <= 1)
    assert sorted(p.worst for p in result.pieces) == [0, 0, 1, 1, 2, 2]


def test_the_search_network_repeats_the_one_output_row() -> None:
    net = ExactRNN(w_hi=(F(1), F(-1)), w_hh=((F(0), F(0)), (F(0), F(0))), w_oh=((F(1), F(-1)),))
    assert search_network(net, 3).w_oh == ((F(1), F(-1)),) * 3


# ---- the second moment of a half-plane / half-space is exact, under the cone's own label ----------

@pytest.mark.parametrize("n, label", [(2, "exact-angle"), (3, "exact-solid-angle")])
def test_half_space_second_moment_is_half_the_norm_squared(n: int, label: str) -> None:
    """E[(a . x)^2 ; x0 > 0] = |a|^2 / 2 by symmetry x -> -x (a . x)^2 is even): exact, labelled."""
    a = tuple(F(k + 1) for k in range(n))
    moment = cone_second_moment([Constraint(tuple(F(int(k == 0)) for k in range(n)), Op.GT)], n, a)
    assert moment is not None and moment.method == label
    half = sum(v * v for v in a) / 2  # 5/2 and 7: binary fractions, so the mpf below is exact
    half_mpf = mpf(half.numerator) / half.denominator
    assert moment.lower <= half_mpf <= moment.upper and moment.upper - moment.lower < 1e-50


# ---- estimate_mse: the labelled Monte Carlo MSE of n >= 4 ----------------------------------------

def test_estimate_mse_of_the_last_input_at_n4_against_an_independent_monte_carlo() -> None:
    """y = x_last at n = 4: E[(x3 - median)^2] by an independent numpy Monte Carlo (10^6 samples,
    another generator), against the estimate at 70,000 samples (two chunks of the code's batches).
    Tolerance: 5 combined standard errors. The standard error itself must match the sample
    standard deviation over sqrt(N) within 5%."""
    net = ExactRNN(w_hi=(F(1), F(-1)), w_hh=((F(0), F(0)), (F(0), F(0))), w_oh=((F(1), F(-1)),))
    est = estimate_mse(net, 4, 70_000, 3, MedianClaim())
    assert est.samples == 70_000 and est.seed == 3
    x = np.random.default_rng(12345).standard_normal((1_000_000, 4))
    squared = (x[:, 3] - np.median(x, axis=1)) ** 2
    truth, truth_se = float(squared.mean()), float(squared.std() / math.sqrt(len(squared)))
    assert abs(est.value - truth) < 5 * math.hypot(est.standard_error, truth_se)
    expected_se = float(squared.std()) / math.sqrt(70_000)
    assert abs(est.standard_error - expected_se) < 0.05 * expected_se
    again = estimate_mse(net, 4, 70_000, 3, MedianClaim())
    assert again == est  # the same seed, the same estimate
    assert estimate_mse(net, 4, 70_000, 4, MedianClaim()).value != est.value


def test_estimate_mse_of_a_zero_output_is_the_mean_squared_median() -> None:
    """y = 0 (zero output row): the squared error is median^2; at n = 5 its mean is positive, below
    E[x^2] = 1, and the estimate of a tiny run (3 samples) is the mean of those three values."""
    zero = ExactRNN(w_hi=(F(1),), w_hh=((F(0),),), w_oh=((F(0),),))
    est = estimate_mse(zero, 5, 3, 7, MedianClaim())
    x = np.random.default_rng(7).standard_normal((3, 5))  # the code draws its first batch from this seed
    medians = np.sort(x, axis=1)[:, 2]
    assert est.samples == 3 and est.value == pytest.approx(float(np.mean(medians ** 2)), rel=1e-12)
    # its standard error: the population standard deviation of the three squares over sqrt(3)
    assert est.standard_error == pytest.approx(float(np.std(medians ** 2)) / math.sqrt(3), rel=1e-9)
    big = estimate_mse(zero, 5, 20_000, 7, MedianClaim())
    assert 0 < big.value < 1 and big.standard_error > 0


def test_at_n5_a_region_inside_one_order_cone_meets_only_that_piece() -> None:
    """x0 >= x1 >= x2 >= x3 >= x4 lies in "median x2, above {x0,x1}" alone; y = x4 errs by x4 - x2,
    at most 2 on the cube (x2 = 1, x4 = -1), by hand."""
    rows = tuple(Constraint(tuple(F(int(k == i)) - F(int(k == i + 1)) for k in range(5)), Op.GE) for i in range(4))
    output = (F(0),) * 4 + (F(1),)
    region = Region(0, (), rows, tuple(output for _ in range(5)), 2)
    result = evaluate_region(region, MedianClaim(), 5)
    assert [p.label for p in result.pieces] == ["median x2, above {x0,x1}"]
    assert result.pieces[0].worst == 2


# ---- check_regression hands its options to the search and to the cross-check's solver -------------

class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_check_regression_passes_its_budget_stop_and_limits_to_the_search_and_the_solver(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Spies on RegionSearch and ExactSolver: the search gets the result's own statistics, the
    caller's stop and the query timeout; the cross-check's solver gets the timeout, the search's
    deadline (fake clock at 5 + a budget of 7 = 12, by hand) and the same clock."""
    import verify.check.regression as regression
    from verify.check.regions import Budget, RegionSearch
    from verify.smt.solver import ExactSolver, QueryLimits

    seen: dict[str, object] = {}

    class SpySearch(RegionSearch):  # type: ignore[misc]
        def __init__(self, network, stats, **kwargs) -> None:  # type: ignore[no-untyped-def]
            seen["search_stats"], seen["search_kwargs"] = stats, kwargs
            super().__init__(network, stats, **kwargs)

    class SpySolver(ExactSolver):  # type: ignore[misc]
        def __init__(self, n, stats, **kwargs) -> None:  # type: ignore[no-untyped-def]
            seen["solver_stats"], seen["limits"] = stats, kwargs.get("limits")
            super().__init__(n, stats, **kwargs)

    monkeypatch.setattr(regression, "RegionSearch", SpySearch)
    monkeypatch.setattr(regression, "ExactSolver", SpySolver)
    clock = _Clock(5.0)
    budget = Budget(time_budget=7.0, clock=clock)

    def never() -> None:
        return None

    options = regression.RegressionOptions(seq_len=3, eps=F(10), budget=budget, timeout_ms=4321, cross_check=True,
                                           estimate_samples=0)
    result = regression.check_regression(last_input_scalar(), options, should_stop=never)
    assert result.verdict.word == "proved"  # |x_last - median| <= 2 max|x_i| <= 10 max|x_i|
    assert seen["search_stats"] is result.stats and seen["solver_stats"] is result.stats
    kwargs = seen["search_kwargs"]
    assert kwargs["budget"] is budget and kwargs["should_stop"] is never and kwargs["timeout_ms"] == 4321  # type: ignore[index]
    assert seen["limits"] == QueryLimits(4321, 12.0, clock)
    assert result.stats.checks > 0  # the cross-check asked Z3, counted in the result's statistics


def test_a_stop_asked_before_the_first_region_finds_nothing_and_proves_nothing() -> None:
    from verify.check.regression import RegressionOptions, check_regression

    calls: list[int] = []

    def stop() -> str:
        calls.append(1)
        return "interrupted (SIGINT)"

    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=F(10), estimate_samples=0),
                              should_stop=stop)
    assert result.interrupted and result.verdict.word == "unknown"
    assert result.regions == () and result.worst is None and len(calls) >= 2  # the search asked, then the check


def test_a_cross_check_that_cannot_decide_leaves_the_run_unknown_with_every_region_listed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Z3 answering unknown on every cone (a fault injected at the door): never proved, every region
    named among the undecided, the search itself complete."""
    import verify.check.regression as regression

    monkeypatch.setattr(regression, "z3_confirms", lambda *args: Answer.UNKNOWN)
    result = regression.check_regression(last_input_scalar(), regression.RegressionOptions(
        seq_len=3, eps=F(10), cross_check=True, estimate_samples=0))
    assert result.verdict.word == "unknown" and not result.complete and result.search.complete
    assert sorted(result.undecided_regions) == sorted(o.region.pattern_text for o in result.regions)
    assert len(result.regions) == 8  # y = x_last with W_hh = 0: one region per sign vector of R^3, by hand
    assert result.mse is None


def test_an_interrupt_just_after_a_complete_search_is_still_never_proved(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The stop arrives once the search has walked every region (a Ctrl-C between the search and
    the verdict): the search is complete and nothing is undecided, yet the run is interrupted,
    so it is unknown, never proved (eps 10 would hold everywhere: |x_last - median| <= 2 max|x_i|)."""
    import verify.check.regression as regression
    from verify.check.regions import RegionSearch

    after: list[bool] = []

    class SearchThenStop(RegionSearch):  # type: ignore[misc]
        def run(self):  # type: ignore[no-untyped-def]
            yield from super().run()
            after.append(True)

    monkeypatch.setattr(regression, "RegionSearch", SearchThenStop)
    result = regression.check_regression(
        last_input_scalar(), regression.RegressionOptions(seq_len=3, eps=F(10), estimate_samples=0),
        should_stop=lambda: "interrupted (SIGINT)" if after else None)
    assert result.search.complete and result.undecided_regions == () and len(result.regions) == 8
    assert result.interrupted and result.verdict.word == "unknown" and result.mse is None


def test_a_search_that_leaves_prefixes_undecided_lists_them_without_their_reason(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A search (as past GEOMETRY_MAX_N, where Z3 decides it) that could not decide two prefixes: the
    run is unknown and names the two prefixes, each without the reason in parentheses."""
    import verify.check.regression as regression
    from verify.check.regions import RegionSearch, SearchState

    class Undecided(RegionSearch):  # type: ignore[misc]
        def run(self):  # type: ignore[no-untyped-def]
            self.state = SearchState(complete=False, undecided_prefixes=["10|0 (solver unknown)", "0 (timeout)"])
            return iter(())

    monkeypatch.setattr(regression, "RegionSearch", Undecided)
    result = regression.check_regression(
        last_input_scalar(), regression.RegressionOptions(seq_len=3, eps=F(10), estimate_samples=0))
    assert result.undecided_regions == ("10|0", "0")
    assert result.verdict.word == "unknown" and result.worst is None


def test_on_region_counts_the_regions_and_the_solver_checks_so_far() -> None:
    from verify.check.regression import RegressionOptions, check_regression

    calls: list[tuple[int, int]] = []
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=F(10), estimate_samples=0,
                                                                     cross_check=True),
                              on_region=lambda k, checks: calls.append((k, checks)))
    assert [k for k, _ in calls] == list(range(1, 9))
    checks = [c for _, c in calls]
    assert checks == sorted(checks) and checks[0] > 0 and checks[-1] == result.stats.checks  # the cross-check asks Z3


# ---- maximize_on_cube: the exact simplex against vertex enumeration --------------------------------

def _vertex_maximum(objective: list[F], cone_rows: list[list[F]]) -> F:
    """max objective . x over {row . x >= 0, -1 <= x_i <= 1}: a bounded polytope holding the origin,
    so the maximum sits at a vertex; every vertex solves n independent active constraints."""
    import itertools

    n = len(objective)
    faces = [(list(r), F(0)) for r in cone_rows]
    faces += [([F(int(k == i)) for k in range(n)], F(s)) for i in range(n) for s in (1, -1)]
    best = F(0)  # the origin is feasible
    for chosen in itertools.combinations(faces, n):
        x = solve([r for r, _ in chosen], [b for _, b in chosen])
        if x is None:
            continue
        if all(sum(c * v for c, v in zip(r, x)) >= 0 for r in cone_rows) and all(abs(v) <= 1 for v in x):
            best = max(best, sum(c * v for c, v in zip(objective, x)))
    return best


@pytest.mark.parametrize("n, cones", [(2, 40), (3, 40), (4, 6)])
def test_the_cube_lp_equals_vertex_enumeration_on_random_cones(n: int, cones: int) -> None:
    """Random cones (1 to n + 2 integer rows in [-3, 3], some degenerate: repeated or opposite
    rows) and objectives: the simplex's value is the vertex maximum exactly, and its point lies in
    the cone and the cube and attains the value."""
    from verify.check.worst_case import max_abs_on_cube, maximize_on_cube

    rng = np.random.default_rng(n)
    for _ in range(cones):
        rows = [[F(int(v)) for v in rng.integers(-3, 4, n)] for _ in range(int(rng.integers(1, n + 3)))]
        if rng.random() < 0.3:
            rows.append(list(rows[0]))  # a repeated row: degenerate pivots through the origin
        objective = [F(int(v), int(rng.integers(1, 4))) for v in rng.integers(-4, 5, n)]
        optimum = maximize_on_cube(objective, rows)
        assert optimum.value == _vertex_maximum(objective, rows), (objective, rows)
        point = optimum.point
        assert all(sum(c * v for c, v in zip(r, point)) >= 0 for r in rows) and all(abs(v) <= 1 for v in point)
        assert sum(c * v for c, v in zip(objective, point)) == optimum.value
        both = max_abs_on_cube(objective, rows)
        assert both.value == max(optimum.value, _vertex_maximum([-c for c in objective], rows))


# ---- what the result carries besides the verdict --------------------------------------------------

def test_the_result_names_its_network_length_worst_region_and_the_caveats_it_needs() -> None:
    """y = x_last at n = 3, eps 1: worst |x2 - median| = 2, attained in a region whose own pieces
    reach 2 (by hand); a complete run carries no caveat; its elapsed time is a duration."""
    import time

    from verify.check.regression import RegressionOptions, check_regression

    before = time.perf_counter()
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=F(1), estimate_samples=0))
    assert result.network == ExactRNN(w_hi=(F(1), F(-1)), w_hh=((F(0), F(0)), (F(0), F(0))), w_oh=((F(1), F(-1)),))
    assert result.seq_len == 3 and result.worst == 2 and result.verdict.word == "refuted"
    (home,) = [o for o in result.regions if o.region.index == result.worst_region]
    assert home.worst == 2 and home.region.contains(result.worst_point)
    assert result.notes == ()
    assert 0 <= result.seconds <= time.perf_counter() - before


def test_an_unfinished_n3_run_says_its_worst_case_is_a_lower_bound_and_its_mse_an_estimate() -> None:
    from verify.check.regions import Budget
    from verify.check.regression import RegressionOptions, check_regression

    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=F(10), budget=Budget(max_regions=2),
                                                                     estimate_samples=1000))
    assert result.mse is None and result.mse_estimate is not None
    assert len(result.notes) == 2
    estimate_note, bound_note = result.notes
    assert "search incomplete" in estimate_note and "ESTIMATE" in estimate_note and "n >= 4" not in estimate_note
    assert "1000 samples, seed 0" in estimate_note
    assert "only a lower bound" in bound_note


def test_a_complete_n4_run_says_why_its_mse_is_an_estimate() -> None:
    from verify.check.regression import RegressionOptions, check_regression

    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=4, eps=F(10), estimate_samples=500))
    assert result.complete and result.mse is None and result.mse_estimate is not None
    (note,) = result.notes
    assert "n >= 4" in note and "Gaussian second moment" in note and "ESTIMATE" in note


def test_a_single_sample_still_gives_a_labelled_estimate() -> None:
    """estimate_samples = 1 asks for an estimate (0 asks for none): one sample, standard error 0."""
    from verify.check.regression import RegressionOptions, check_regression

    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=4, eps=F(10), estimate_samples=1))
    assert result.mse is None and result.mse_estimate is not None
    assert result.mse_estimate.samples == 1 and result.mse_estimate.standard_error == 0
    none = check_regression(last_input_scalar(), RegressionOptions(seq_len=4, eps=F(10), estimate_samples=0))
    assert none.mse_estimate is None and none.notes == ()
