"""Issue 18 #4: what `evaluate_region` passes on to the claim check, and the verdict of `check_model`.

Expectations are by hand: a query limit whose deadline has passed can decide nothing, so the
region is stopped and not proved; a stop flag that is set does the same and names its reason;
every query is reported to `on_query` and, when asked, recorded; without limits a region of
the handcrafted model (exactly correct, CONTEXT.md) is proved.
"""

from __future__ import annotations

import time
from fractions import Fraction as F

import pytest
from mpmath import mp, mpf

from tests.fault_harness import Fault, count_checks, install
from tests.oracles import angular_scan_error
from verify.check.pipeline import CheckOptions, StopFlag, check_model, evaluate_region, evaluate_regions
from verify.check.claims import Verdict
from verify.core.claim import KthArgmaxClaim
from verify.check.counterexamples import confirm
from verify.formats.torch_model import Float32Model
from verify.corpus.handcrafted import handcrafted_2_2
from verify.core.linear import gt
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.check.regions import Budget, RegionSearch
from verify.check.sampling import sample_error_rate
from verify.smt.solver import QueryLimits, SolverStats

M22 = "models/algzoo/2nd_argmax_2_2.pth"


def first_region(weights=None):  # type: ignore[no-untyped-def]
    net = ExactRNN.from_weights(weights if weights is not None else handcrafted_2_2())
    return next(iter(RegionSearch(net, SolverStats()).run()))


def test_without_limits_a_region_of_the_handcrafted_model_is_proved() -> None:
    outcome = evaluate_region(first_region(), CheckOptions(), SolverStats())
    assert outcome.claim.verdict is Verdict.PROVED and not outcome.claim.undecided
    assert outcome.claim.queries == []  # not asked to record
    assert outcome.measure is not None and outcome.rays is not None


def test_limits_past_their_deadline_decide_nothing() -> None:
    limits = QueryLimits(timeout_ms=None, deadline=5.0, clock=lambda: 10.0)
    outcome = evaluate_region(first_region(), CheckOptions(), SolverStats(), limits=limits)
    assert outcome.claim.stopped and outcome.claim.undecided
    assert outcome.claim.verdict is Verdict.UNKNOWN
    assert outcome.claim.note == "time budget"


def test_a_set_stop_flag_stops_the_region_with_its_reason() -> None:
    # the flag is polled only after a query came back unknown: make the first one unknown too
    limits = QueryLimits(timeout_ms=None, deadline=5.0, clock=lambda: 10.0)
    outcome = evaluate_region(first_region(), CheckOptions(), SolverStats(), limits=limits,
                              should_stop=lambda: "planted stop")
    assert outcome.claim.stopped and outcome.claim.note == "planted stop"


def test_every_query_is_reported_and_recorded_when_asked() -> None:
    calls: list[int] = []
    stats = SolverStats()
    outcome = evaluate_region(first_region(load_weights(M22)), CheckOptions(collect_queries=True), stats,
                              on_query=lambda: calls.append(1))
    assert len(calls) == stats.checks > 0  # every Z3 check is reported
    # every query is recorded, also those exact geometry answers without a check (issue 12)
    assert len(outcome.claim.queries) >= stats.checks
    assert all(q.expected.value in ("sat", "unsat") for q in outcome.claim.queries)


# -- the verdict and the error of check_model ---------------------------------------------------

def test_stop_flag_keeps_its_first_reason_and_interrupts_the_solvers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import verify.check.pipeline as analysis

    calls: list[int] = []
    monkeypatch.setattr(analysis, "interrupt_active_solvers", lambda: calls.append(1))
    flag = StopFlag()
    assert flag.reason is None and flag.signal_number is None and flag() is None
    flag.set("first", 2)
    flag.set("second", 15)
    assert (flag.reason, flag.signal_number, flag()) == ("first", 2, "first")
    assert calls == [1, 1]  # every set interrupts, even the second


def test_an_exactly_correct_model_is_proved_with_error_exactly_zero() -> None:
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=10))
    assert result.verdict is Verdict.PROVED and not result.interrupted
    assert result.error is not None and result.error.upper == 0 and result.error.lower == 0
    assert result.error_lower_bound is None and result.error_estimate is None  # exact: no estimate
    assert result.undecided_regions == [] and result.counterexamples_total == 0 and result.counterexamples == []
    assert result.float32_uncertain is not None
    assert result.tie is not None and result.error_strict is not None
    assert result.error_strict.lower >= result.error.lower


def test_m22_error_is_the_angular_scan_and_every_sliver_is_counted() -> None:
    result = check_model(load_weights(M22), CheckOptions(estimate_samples=10, max_counterexamples=1))
    assert result.verdict is Verdict.REFUTED
    scanned = angular_scan_error(result.network)
    assert result.error is not None and abs(result.error.value - scanned) < mpf("1e-20")
    assert result.error_estimate is None and result.error_lower_bound is None
    assert len(result.counterexamples) == 1  # the cap
    assert result.counterexamples_total == 2  # the two slivers (CONTEXT.md), counted beyond the cap
    assert result.error_strict is not None and result.error_strict.lower >= result.error.lower


def test_a_cut_search_gives_a_lower_bound_never_an_exact_rate_or_proved() -> None:
    net = ExactRNN.from_weights(load_weights(M22))
    exact = angular_scan_error(net)
    bounds = []
    for regions in range(1, 6):  # M_{2,2} has 6 regions
        result = check_model(load_weights(M22), CheckOptions(estimate_samples=10, budget=Budget(max_regions=regions)))
        assert result.error is None and result.tie is None and result.float32_uncertain is None
        assert result.verdict in (Verdict.REFUTED, Verdict.UNKNOWN)
        assert result.verdict is (Verdict.REFUTED if result.misclassified else Verdict.UNKNOWN)
        assert result.undecided_regions and result.notes
        assert result.error_estimate is not None  # labelled Monte Carlo, since no exact rate exists
        lower = result.error_lower_bound
        assert lower is not None and lower.upper <= exact + mpf("1e-20")
        bounds.append(lower.value)
    assert bounds == sorted(bounds)


def test_a_cut_search_of_a_correct_model_is_unknown_with_a_zero_lower_bound() -> None:
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0, budget=Budget(max_regions=1)))
    assert result.verdict is Verdict.UNKNOWN and result.error is None and result.error_estimate is None
    assert result.error_lower_bound is not None and result.error_lower_bound.upper == 0
    assert len(result.undecided_regions) >= 1


def test_a_stop_flag_set_before_the_run_is_never_proved() -> None:
    flag = StopFlag()
    flag.set("planted")
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), stop=flag)
    assert result.interrupted and result.verdict is Verdict.UNKNOWN and result.error is None
    assert result.float32_uncertain is None
    legacy = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), should_stop=lambda: "planted")
    assert legacy.interrupted and legacy.verdict is Verdict.UNKNOWN


def test_an_undecided_region_pattern_is_listed_without_its_note() -> None:
    """A region whose queries cannot run (deadline passed) is listed by its bare pattern."""
    clock = iter([0.0, 0.0])
    budget = Budget(time_budget=1.0, clock=lambda: next(clock, 100.0))
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0, budget=budget))
    assert result.verdict is Verdict.UNKNOWN and result.error is None
    assert result.undecided_regions and all(set(p) <= set("01|") for p in result.undecided_regions)


# -- counterexample confirmation ------------------------------------------------------------------

def confirm_on_handcrafted(x, constraints=(), measure_zero=False, region=7, piece="p"):  # type: ignore[no-untyped-def]
    weights = handcrafted_2_2()
    return confirm(x, region=region, piece=piece, network=ExactRNN.from_weights(weights),
                   model=Float32Model(weights), claim=KthArgmaxClaim(2), measure_zero=measure_zero,
                   constraints=constraints)


def test_a_counterexample_keeps_its_region_piece_and_kind() -> None:
    found = confirm_on_handcrafted((F(1), F(-1, 2)), region=7, piece="x0>x1")
    assert (found.region, found.piece, found.measure_zero) == (7, "x0>x1", False)
    boundary = confirm_on_handcrafted((F(1), F(1, 2)), measure_zero=True, region=3, piece="q")
    assert (boundary.region, boundary.piece, boundary.measure_zero, boundary.thin) == (3, "q", True, True)


def test_the_origin_is_confirmed_without_scaling() -> None:
    """The closed check may answer with x = 0 (in every closed region): no ray to scale."""
    at_zero = confirm_on_handcrafted((F(0), F(0)), measure_zero=True)
    assert at_zero.x_exact == (0, 0) and at_zero.x_float32 == (0.0, 0.0) and at_zero.thin


def test_a_slack_of_exactly_the_threshold_is_not_thin() -> None:
    """x1 > 0 at x = (1, 2^-20): L1-normalized slack 2^-20 exactly (by hand), and x is a float32 point."""
    x = (F(1), F(1, 2**20))
    found = confirm_on_handcrafted(x, constraints=(gt((F(0), F(1))),))
    assert found.slack == F(1, 2**20) and not found.thin
    below = confirm_on_handcrafted((F(1), F(1, 2**21)), constraints=(gt((F(0), F(1))),))
    assert below.slack == F(1, 2**21) and below.thin


def test_a_stop_flag_reaches_the_region_search() -> None:
    """Set from the start: the search stops before its first region, with the flag's reason."""
    net = ExactRNN.from_weights(handcrafted_2_2())
    evaluated = evaluate_regions(net, CheckOptions(estimate_samples=0), SolverStats(), should_stop=lambda: "halt")
    assert evaluated.outcomes == [] and evaluated.state.stop_reason == "halt" and not evaluated.state.complete


def test_the_query_timeout_reaches_the_region_search(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import verify.check.pipeline as analysis

    seen: list[object] = []
    real = analysis.RegionSearch

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs.get("timeout_ms"))
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "RegionSearch", spy)
    net = ExactRNN.from_weights(handcrafted_2_2())
    evaluate_regions(net, CheckOptions(estimate_samples=0, timeout_ms=4321), SolverStats())
    assert seen == [4321]


def test_claim_queries_get_the_runs_timeout_deadline_and_clock(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The search starts at clock 0 with a 1 s budget: every claim query must be limited to
    deadline 1.0 on that same clock, with the per-query timeout of the options."""
    import verify.check.pipeline as analysis

    seen = []
    real = analysis.check_region

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["limits"])
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "check_region", spy)
    clock = lambda: 0.0  # noqa: E731
    net = ExactRNN.from_weights(handcrafted_2_2())
    options = CheckOptions(estimate_samples=0, timeout_ms=4321, budget=Budget(time_budget=1.0, clock=clock))
    evaluated = evaluate_regions(net, options, SolverStats())
    assert len(seen) == len(evaluated.outcomes) == 4
    assert all((lim.timeout_ms, lim.deadline, lim.clock) == (4321, 1.0, clock) for lim in seen)


def test_a_prefix_evaluates_only_the_regions_below_it() -> None:
    net = ExactRNN.from_weights(load_weights(M22))
    options = CheckOptions(estimate_samples=0)
    full = evaluate_regions(net, options, SolverStats())
    for prefix in [(True,), (False,), (True, False)]:
        part = evaluate_regions(net, options, SolverStats(), prefix=prefix)
        bits = [tuple(b for step in o.region.pattern for b in step) for o in part.outcomes]
        want = [tuple(b for step in o.region.pattern for b in step) for o in full.outcomes]
        assert bits == [b for b in want if b[:len(prefix)] == prefix]
        assert part.state.complete


def test_progress_reports_regions_done_and_checks_so_far() -> None:
    calls: list[tuple[int, int]] = []
    stats = SolverStats()
    net = ExactRNN.from_weights(load_weights(M22))
    evaluated = evaluate_regions(net, CheckOptions(estimate_samples=0), stats, on_region=lambda r, c: calls.append((r, c)))
    assert calls[-1][0] == len(evaluated.outcomes) == 6
    assert 0 < calls[-1][1] <= stats.checks  # the search still checks for a 7th region afterwards
    assert [r for r, _ in calls] == sorted(r for r, _ in calls) and [c for _, c in calls] == sorted(c for _, c in calls)
    assert {r for r, _ in calls} == set(range(7))  # 0 while the first region's claim runs, ..., 6


# -- boundary violations, the cap, the region source, and faults ---------------------------------

LOCAL_MIN = "models/trained_2_2_local_min.pth"  # one boundary violation (a measure-zero counterexample)


def test_a_boundary_violation_is_listed_as_a_thin_measure_zero_counterexample() -> None:
    result = check_model(load_weights(LOCAL_MIN), CheckOptions(estimate_samples=0))
    violations = [v for o in result.regions for v in o.claim.boundary_violations]
    assert len(violations) == 1
    cones = [c for c in result.cones if not c.correct]
    assert result.counterexamples_total == len(cones) + 1
    zero = [c for c in result.counterexamples if c.measure_zero]
    assert len(zero) == 1 and zero[0].thin
    v = violations[0]
    assert (zero[0].region, zero[0].piece) == (v.region, v.piece)
    # by the exact forward pass: at the violation point some other index ties or beats the target
    logits = result.network.logits(zero[0].x_exact)
    assert any(logits[j] >= logits[v.target] for j in range(len(logits)) if j != v.target)
    listed = [c for c in result.counterexamples if not c.measure_zero]
    assert [(c.region, c.piece) for c in listed] == [(c.region, c.piece) for c in cones]


def test_the_cap_counts_cones_first_then_violations() -> None:
    full = check_model(load_weights(LOCAL_MIN), CheckOptions(estimate_samples=0))
    cones = sum(1 for c in full.cones if not c.correct)
    capped = check_model(load_weights(LOCAL_MIN), CheckOptions(estimate_samples=0, max_counterexamples=cones))
    assert capped is not None and len(capped.counterexamples) == cones
    assert not any(c.measure_zero for c in capped.counterexamples)
    assert capped.counterexamples_total == cones + 1 and capped.error is not None


def test_a_region_source_replaces_the_loop_and_gets_the_network_options_and_stats() -> None:
    weights = load_weights(M22)
    options = CheckOptions(estimate_samples=0)
    calls = []

    def source(network, opts, stats):  # type: ignore[no-untyped-def]
        calls.append((network, opts, stats))
        return evaluate_regions(network, opts, stats)

    result = check_model(weights, options, region_source=source)
    assert len(calls) == 1
    network, opts, stats = calls[0]
    assert network == ExactRNN.from_weights(weights) and opts is options and stats is result.stats
    sequential = check_model(weights, options)
    assert result.verdict is sequential.verdict and result.error == sequential.error


def test_check_model_passes_progress_and_the_stop_test_to_the_search() -> None:
    calls: list[tuple[int, int]] = []
    check_model(load_weights(M22), CheckOptions(estimate_samples=0), on_region=lambda r, c: calls.append((r, c)))
    assert calls and calls[-1][0] == 6
    stopped = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), should_stop=lambda: "halt")
    assert stopped.regions == [] and stopped.search.stop_reason == "halt"


def test_an_unknown_claim_query_leaves_no_exact_rate(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every single claim-or-region query of the handcrafted run made unknown in turn: never
    proved, never an exact rate, and undecided patterns are bare patterns."""
    counter = count_checks(monkeypatch)
    check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0))
    total_calls = counter.calls
    monkeypatch.undo()
    assert total_calls >= 4  # at least one claim query per region: the search itself is exact geometry
    for k in range(1, total_calls + 1):
        with monkeypatch.context() as patch:
            fault = install(patch, Fault(k, "unknown"))
            result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0))
        assert fault.fired
        assert result.verdict is Verdict.UNKNOWN and result.error is None, k
        assert result.error_lower_bound is not None and result.undecided_regions, k
        assert all(set(p) <= set("01|") for p in result.undecided_regions), (k, result.undecided_regions)


def test_check_model_result_fields_and_wall_time() -> None:
    weights = load_weights(M22)
    options = CheckOptions(estimate_samples=0)
    t0 = time.perf_counter()
    result = check_model(weights, options)
    elapsed = time.perf_counter() - t0
    assert result.weights is weights and result.claim == options.claim
    assert result.stats.checks > 0 and result.standardized is not None
    assert 0 < result.seconds <= elapsed


def test_m22_has_no_ties_so_the_strict_rate_is_the_error_rate() -> None:
    """Generic float weights: no two logits are identically equal on an open cone (no tie)."""
    result = check_model(load_weights(M22), CheckOptions(estimate_samples=0))
    assert result.tie is not None and result.tie.upper == 0
    assert result.error is not None and result.error_strict == result.error


def test_found_misclassified_cones_give_a_positive_lower_bound_and_the_notes_say_so() -> None:
    positive = 0
    for regions in range(1, 6):
        result = check_model(load_weights(M22), CheckOptions(estimate_samples=1, budget=Budget(max_regions=regions)))
        assert result.error_lower_bound is not None
        if result.misclassified:  # an open cone has positive measure
            assert result.error_lower_bound.lower > 0
            positive += 1
        assert result.notes[0] == ("search incomplete or regions undecided: the error rate is only bounded below "
                                   "by the misclassified cones found (error_rate_lower_bound)")
        assert result.notes[1].startswith("no exact error rate (search incomplete, or cones of rank >= 6 or not "
                                          "certified by quadrature): error_rate_estimate is a Monte Carlo ESTIMATE")
        assert result.error_estimate is not None  # even a single sample is an estimate
    assert positive >= 1


@pytest.mark.parametrize("claim,seed", [(2, 0), (2, 5), (1, 3)])
def test_the_estimate_is_the_sampler_with_the_runs_seed_and_claim(claim: int, seed: int) -> None:
    weights = load_weights(M22)
    options = CheckOptions(claim=KthArgmaxClaim(claim), estimate_samples=2000, estimate_seed=seed,
                           budget=Budget(max_regions=1))
    result = check_model(weights, options)
    direct = sample_error_rate(weights, 2000, seed=seed, k=claim)
    got = result.error_estimate
    assert got is not None
    assert (got.samples, got.errors, got.seed, got.k) == (direct.samples, direct.errors, seed, claim)


def test_three_step_regions_carry_geometry_and_their_measures_sum_to_one() -> None:
    weights = load_weights("models/trained_2_3.pth")
    net = ExactRNN.from_weights(weights)
    assert net.seq_len == 3
    outcomes = [evaluate_region(r, CheckOptions(), SolverStats()) for r in RegionSearch(net, SolverStats()).run()]
    assert all(o.region is not None and o.claim is not None for o in outcomes)
    assert all(o.geometry is not None and o.rays is None and o.measure is not None for o in outcomes)
    with mp.workdps(60):
        assert abs(sum(o.measure.value for o in outcomes) - 1) < mpf("1e-40")
    two = evaluate_region(first_region(), CheckOptions(), SolverStats())
    assert two.geometry is None and two.rays is not None


def test_a_region_without_limits_gets_the_options_query_timeout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import verify.check.pipeline as analysis

    seen = []
    real = analysis.check_region
    monkeypatch.setattr(analysis, "check_region", lambda *a, **k: seen.append(k["limits"]) or real(*a, **k))
    evaluate_region(first_region(), CheckOptions(timeout_ms=777), SolverStats())
    assert [(lim.timeout_ms, lim.deadline) for lim in seen] == [(777, None)]


def interrupted_runs(monkeypatch, pass_flag: bool):  # type: ignore[no-untyped-def]
    """Interrupt each check of the M_{2,2} search in turn; yield the runs where a claim was stopped."""
    net = ExactRNN.from_weights(load_weights(M22))
    counter = count_checks(monkeypatch)
    evaluate_regions(net, CheckOptions(estimate_samples=0), SolverStats())
    calls = counter.calls
    monkeypatch.undo()
    for k in range(1, calls + 1):
        with monkeypatch.context() as patch:
            fault = install(patch, Fault(k, "interrupt"))
            evaluated = evaluate_regions(net, CheckOptions(estimate_samples=0), SolverStats(),
                                         should_stop=fault.flag if pass_flag else None)
        if any(o.claim.stopped for o in evaluated.outcomes):
            yield evaluated


def test_a_claim_stopped_by_the_flag_stops_the_search_with_the_flags_reason(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runs = list(interrupted_runs(monkeypatch, True))
    assert runs
    for evaluated in runs:
        assert evaluated.state.stop_reason == "interrupted (test)" and not evaluated.state.complete
        stopped = [o for o in evaluated.outcomes if o.claim.stopped]
        assert [o.claim.note for o in stopped] == ["interrupted (test)"]
        assert stopped[0] is evaluated.outcomes[-1]  # nothing after the stopped region


def test_a_claim_stopped_by_an_interrupted_solver_alone_says_interrupted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runs = list(interrupted_runs(monkeypatch, False))
    assert runs
    assert all(e.state.stop_reason == "interrupted" for e in runs)
    # the stopped region's claim says why in its own note (the report's per-region "note")
    assert all([o.claim.note for o in e.outcomes if o.claim.stopped] == ["interrupted"] for e in runs)


def test_a_claim_stopped_by_the_deadline_names_the_time_budget(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    net = ExactRNN.from_weights(load_weights(M22))
    hits = 0
    for k in range(1, 40):
        with monkeypatch.context() as patch:
            fault = install(patch, Fault(k, "budget"))
            options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=30.0, clock=fault.clock))
            evaluated = evaluate_regions(net, options, SolverStats())
        if fault.fired and any(o.claim.stopped for o in evaluated.outcomes):
            hits += 1
            assert evaluated.state.stop_reason == "time budget of 30 s reached"
            assert {o.claim.note for o in evaluated.outcomes if o.claim.stopped} == {"time budget"}
    assert hits > 0


@pytest.mark.parametrize("lp_answer", [None, (F(1), F(1)), (F(1), F(0))])
def test_interior_point_falls_back_to_the_normalized_witness(monkeypatch, lp_answer) -> None:  # type: ignore[no-untyped-def]
    """When the deepest-point LP finds nothing, or a point on the cone's boundary (here on x0 = x1
    or on x1 = 0), the counterexample is Z3's witness scaled to max |x_i| = 1: (4, 2) -> (1, 1/2)."""
    import verify.check.counterexamples as counterexamples
    from verify.check.claims import Cone

    cone = Cone(0, "x0 > x1", 1, 0, False, (gt((F(1), F(-1))), gt((F(0), F(1)))), (F(4), F(2)))
    monkeypatch.setattr(counterexamples, "deepest_point", lambda constraints, n, witness: lp_answer)
    assert counterexamples.interior_point(cone, 2) == (F(1), F(1, 2))


def test_interior_point_keeps_the_lps_point_when_it_is_strictly_inside(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import verify.check.counterexamples as counterexamples
    from verify.check.claims import Cone

    cone = Cone(0, "x0 > x1", 1, 0, False, (gt((F(1), F(-1))), gt((F(0), F(1)))), (F(4), F(2)))
    monkeypatch.setattr(counterexamples, "deepest_point", lambda constraints, n, witness: (F(1), F(1, 3)))
    assert counterexamples.interior_point(cone, 2) == (F(1), F(1, 3))


def _orthant_cone(n: int, k: int):  # type: ignore[no-untyped-def]
    """The grown cone x_0, ..., x_{k-1} > 0 in R^n: Gaussian mass 2^-k (independent signs)."""
    from verify.check.claims import grow
    from verify.core.linear import Constraint, Op
    from verify.geometry.integer_cone import GrowingCone

    constraints = [Constraint(tuple(F(int(j == i)) for j in range(n)), Op.GT) for i in range(k)]
    return grow(GrowingCone.whole_space(n, 4096), constraints)


@pytest.mark.parametrize("n,k,measured", [(6, 6, False), (6, 2, True), (6, 5, True), (4, 4, True), (5, 5, True)])
def test_a_cone_is_measured_up_to_the_certified_rank_whatever_n(n: int, k: int, measured: bool) -> None:
    """Past rank 5 (MAX_CERTIFIED_RANK) no measure is claimed; up to it, in any dimension, the
    orthant-like cone x_0..x_{k-1} > 0 has mass exactly 2^-k."""
    from verify.check.pipeline import _measured

    geometry, measure = _measured(_orthant_cone(n, k), n)
    if not measured:
        assert geometry is None and measure is None
    else:
        want = mpf(2) ** -k  # exact in binary
        assert geometry is not None and measure is not None
        assert measure.lower <= want <= measure.upper and measure.upper - measure.lower < mpf(10) ** -30


def test_a_region_of_four_or_more_inputs_is_the_sum_of_its_cones() -> None:
    """n >= 4: the region's mass is the sum of its claim cones' (no second integration), only
    when every cone was measured; otherwise (and for n <= 3) the region's own geometry decides."""
    from verify.check.pipeline import _region_measure
    from verify.geometry.measure import Measure, method_for

    pieces = [Measure(mpf(1) / 8, mpf(1) / 8, method_for(4)), Measure(mpf(1) / 4, mpf(1) / 4, method_for(4))]
    summed = _region_measure(None, pieces, 4)
    assert summed is not None and summed.lower == summed.upper == mpf(3) / 8 and summed.method == method_for(4)
    five = _region_measure(None, [Measure(mpf(1) / 32, mpf(1) / 32, method_for(5))], 5)
    assert five is not None and five.lower == mpf(1) / 32
    assert _region_measure(None, [], 4) is None  # no cones: the geometry (here none) decides
    assert _region_measure(None, [pieces[0], None], 4) is None  # one cone unmeasured: likewise
    assert _region_measure(None, pieces, 3) is None  # n = 3: never the sum
