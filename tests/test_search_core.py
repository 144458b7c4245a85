"""The region search itself: depth (no recursion), region budgets, progress, interrupts, and the
words of stop reasons. Oracles: hand derivations and the d = 1 network equivalent to d identical
neurons."""

from __future__ import annotations

import threading
from fractions import Fraction

from verify.check.pipeline import CheckOptions, StopFlag, check_model, evaluate_regions
from verify.check.claims import Verdict
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.core.network import ExactRNN
from verify.check.regions import Budget, RegionSearch
from verify.smt.solver import SolverStats


def identical_neurons(d: int, w: Fraction, a: Fraction, o: tuple[Fraction, Fraction]) -> ExactRNN:
    """d copies of one neuron: W_hi = w, W_hh = a everywhere, W_oh column o. Every neuron has the
    same state, so h_t = relu(a d h_{t-1} + w x_t) per neuron and logits = d o h_n: the d = 1
    network with W_hh = a d and W_oh = d o."""
    return ExactRNN(w_hi=(w,) * d, w_hh=((a,) * d,) * d, w_oh=tuple((v,) * d for v in o))


def test_a_search_4000_decisions_deep_matches_the_one_neuron_network() -> None:
    d, w, a, o = 2000, Fraction(1), Fraction(-1, 2), (Fraction(1), Fraction(-1))
    big = evaluate_regions(identical_neurons(d, w, a, o), CheckOptions(estimate_samples=0), SolverStats())
    small = evaluate_regions(identical_neurons(1, w, a * d, (o[0] * d, o[1] * d)), CheckOptions(estimate_samples=0),
                             SolverStats())
    assert big.state.complete and small.state.complete
    assert len(big.outcomes) == len(small.outcomes) == 4  # signs of x0, then of the step-1 pre-activation
    for b, s in zip(big.outcomes, small.outcomes):
        assert all(len(set(step)) == 1 for step in b.region.pattern)  # all neurons agree
        assert [step[0] for step in b.region.pattern] == [step[0] for step in s.region.pattern]
        assert b.measure == s.measure and b.claim.verdict is s.claim.verdict
    wrong = lambda e: sum(m.value for c, m in zip(e.cones, e.cone_measures) if not c.correct)  # noqa: E731
    assert wrong(big) == wrong(small)


def test_hand_derived_one_neuron_regions() -> None:
    """W_hh = 0: h_1 = relu(x0), h_2 = relu(x1); regions in depth-first order, active first:
    (x0 > 0, x1 > 0), (x0 > 0, x1 < 0), (x0 < 0, x1 > 0), (x0 < 0, x1 < 0)."""
    net = ExactRNN.from_weights(weights_of([1.0], [[0.0]], [[1.0], [0.0]]))
    regions = list(RegionSearch(net, SolverStats()).run())
    assert [r.pattern_text for r in regions] == ["1|1", "1|0", "0|1", "0|0"]


def test_max_regions_means_at_most_n_evaluated_and_complete_when_no_more_exist() -> None:
    """The handcrafted model has exactly 4 regions: a budget of 4 completes (proved, as --jobs 2
    says), 3 does not."""
    at_four = check_model(handcrafted_2_2(), CheckOptions(budget=Budget(max_regions=4), estimate_samples=0))
    assert at_four.verdict is Verdict.PROVED and at_four.search.complete and len(at_four.regions) == 4
    at_three = check_model(handcrafted_2_2(), CheckOptions(budget=Budget(max_regions=3), estimate_samples=0))
    assert at_three.verdict is Verdict.UNKNOWN and not at_three.search.complete
    assert len(at_three.regions) == 3 and at_three.search.stop_reason == "region budget of 3 reached"
    assert at_three.undecided_regions[0] == "01|01"  # the 4th region, found but not evaluated


def test_progress_moves_inside_a_region() -> None:
    calls: list[tuple[int, int]] = []
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), on_region=lambda r, c: calls.append((r, c)))
    assert len(calls) > len(result.regions)  # also after claim queries, not only per region
    assert calls == sorted(calls) and calls[-1] == (4, result.stats.checks)
    assert (0, calls[0][1]) == calls[0]  # the first call comes from inside the first region


def test_stop_reasons_name_the_users_budget() -> None:
    """A worker's deadline (deadline_at) ends the search, but the words name the user's budget."""
    clock = iter(range(100)).__next__
    budget = Budget(time_budget=20, deadline_at=3.0, clock=lambda: float(clock()))
    result = check_model(handcrafted_2_2(), CheckOptions(budget=budget, estimate_samples=0))
    assert result.search.stop_reason == "time budget of 20 s reached"
    assert result.verdict is Verdict.UNKNOWN and result.error is None


def test_an_interrupt_from_another_thread_stops_a_running_check() -> None:
    """StopFlag.set from a timer thread reaches the Z3 check in progress; the search stops at once
    and keeps what it finished; never proved."""
    net = identical_neurons(2000, Fraction(1), Fraction(-1, 2), (Fraction(1), Fraction(-1)))
    flag = StopFlag()
    timer = threading.Timer(0.05, flag.set, args=("interrupted (test)",))
    timer.start()
    try:
        evaluated = evaluate_regions(net, CheckOptions(estimate_samples=0), SolverStats(), should_stop=flag)
    finally:
        timer.cancel()
    assert flag.reason == "interrupted (test)"
    assert not evaluated.state.complete and evaluated.state.stop_reason == "interrupted (test)"
    assert len(evaluated.outcomes) < 4 or any(o.claim.undecided for o in evaluated.outcomes)
