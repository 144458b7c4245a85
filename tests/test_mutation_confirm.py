"""Issue 18 #4: what `evaluate_region` passes on to the claim check, and the verdict of `check_model`.

Expectations are by hand: a query limit whose deadline has passed can decide nothing, so the
region is stopped and not proved; a stop flag that is set does the same and names its reason;
every query is reported to `on_query` and, when asked, recorded; without limits a region of
the handcrafted model (exactly correct, CONTEXT.md) is proved.
"""

from __future__ import annotations

from verify.analysis import CheckOptions, evaluate_region
from verify.claims import Verdict
from verify.handcrafted import handcrafted_2_2
from verify.loading import load_weights
from verify.network import ExactRNN
from verify.regions import RegionSearch
from verify.solver import QueryLimits, SolverStats

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
    assert len(calls) == stats.checks == len(outcome.claim.queries) > 0
    assert all(q.expected.value in ("sat", "unsat") for q in outcome.claim.queries)
