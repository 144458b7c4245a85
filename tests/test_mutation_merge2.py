"""Issue 18, merge group: work stealing (`_explore`, `SplitRule`, `SplitPolicy`, `rest_of_subtree`).

Oracles: the sequential search (`evaluate_regions` below the same prefix, a different code path)
field by field for a task whose rule never fires; hand derivation for M_{2,2} (its input weights
have opposite signs, so at step 0 exactly one neuron is active: x_0 > 0 gives (T, F), x_0 < 0
gives (F, T); its first region in active-first order is (T, F), (T, T), and what a depth-first
search has left after it is the inactive branch of each active decision, deepest first); rule
boundaries by hand. Time is a fake clock far beyond any real `time.monotonic()` reading, so a
mutant that falls back to the real clock or drops the deadline is seen; no test races a solver.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify.check import parallel, regions
from verify.check.parallel import HUNGRY_TASKS, SplitPolicy, SplitRule, SubtreeResult, _explore, rest_of_subtree
from verify.check.pipeline import CheckOptions, EvaluatedRegions, evaluate_regions
from verify.check.regions import Budget
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.smt.solver import ExactSolver, SolverStats

M22 = "models/algzoo/2nd_argmax_2_2.pth"
T0 = 1e12  # fake clock start: no real monotonic clock reads this much
NEVER = SplitRule()  # no limit: the task explores its whole subtree


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def m22() -> ExactRNN:
    return ExactRNN.from_weights(load_weights(M22))


def flat(pattern: tuple[tuple[bool, ...], ...]) -> tuple[bool, ...]:
    return tuple(b for step in pattern for b in step)


def witness_key(cone):  # type: ignore[no-untyped-def]
    return (cone.region, cone.piece, cone.target, cone.predicted, cone.tied, cone.constraints, cone.witness)


def assert_same_as_sequential(got: SubtreeResult, want: EvaluatedRegions, got_stats: SolverStats,
                              want_stats: SolverStats) -> None:
    """Field by field: regions, verdicts, cones with witnesses, measures, search state, solver checks."""
    ev = got.evaluated
    assert got.frontier == ()
    assert [o.region.pattern for o in ev.outcomes] == [o.region.pattern for o in want.outcomes]
    assert [o.claim.verdict for o in ev.outcomes] == [o.claim.verdict for o in want.outcomes]
    assert [o.measure for o in ev.outcomes] == [o.measure for o in want.outcomes]
    assert [witness_key(c) for c in ev.cones] == [witness_key(c) for c in want.cones]
    assert ev.cone_measures == want.cone_measures
    assert ev.state == want.state
    assert got_stats.checks == want_stats.checks


# -- SplitRule / SplitPolicy / rest_of_subtree by hand ------------------------------------------

def test_mutation_split_rule_fires_at_exactly_its_node_budget_or_time_slice() -> None:
    assert SplitRule(nodes=5).due(5, 0.0)  # reached, not exceeded
    assert not SplitRule(nodes=5).due(4, 0.0)
    assert SplitRule(seconds=2.0).due(0, 2.0)  # reached, not exceeded
    assert not SplitRule(seconds=2.0).due(0, 1.999)
    assert not SplitRule(nodes=5).due(4, 10.0**9)  # no time slice: time never fires it
    assert not SplitRule(seconds=2.0).due(10**9, 0.0)  # no node budget: nodes never fire it
    assert SplitRule(nodes=5, seconds=2.0).due(0, 2.0) and SplitRule(nodes=5, seconds=2.0).due(5, 0.0)
    assert not SplitRule().due(10**9, 10.0**9)


@pytest.mark.parametrize("workers", [1, 3, 7])
def test_mutation_split_policy_is_hungry_below_its_tasks_per_worker(workers: int) -> None:
    busy, hungry = SplitRule(nodes=100), SplitRule(nodes=1)
    policy = SplitPolicy(busy=busy, hungry=hungry)
    threshold = HUNGRY_TASKS * workers  # "fewer than HUNGRY_TASKS tasks per worker"
    assert policy.rule(0, workers) is hungry
    assert policy.rule(1, workers) is hungry
    assert policy.rule(threshold - 1, workers) is hungry
    assert policy.rule(threshold, workers) is busy
    assert policy.rule(threshold + 5, workers) is busy


def test_mutation_rest_of_subtree_is_every_inactive_branch_of_an_active_decision_deepest_first() -> None:
    # path T F T T below k = 0: active at depths 3, 2, 0 -> branches T F T F, T F F, F
    assert rest_of_subtree((True, False, True, True), 0) == ((True, False, True, False), (True, False, False), (False,))
    # two consecutive active decisions and one at depth 1
    assert rest_of_subtree((False, True, True, False, True), 0) == (
        (False, True, True, False, False), (False, True, False), (False, False))
    assert rest_of_subtree((False, True, True, False, True), 2) == ((False, True, True, False, False), (False, True, False))
    assert rest_of_subtree((True, True, True), 3) == ()


# -- _explore against the sequential search -----------------------------------------------------

@pytest.mark.parametrize("cross_check", [False, True], ids=["geometry", "both"])
@pytest.mark.parametrize("prefix", [(), (False, True), (True, False, True)])
def test_mutation_merge_explore_with_a_rule_that_never_fires_is_the_sequential_search(
        prefix: tuple[bool, ...], cross_check: bool) -> None:
    net = m22()
    options = CheckOptions(estimate_samples=0, cross_check=cross_check)
    want_stats, got_stats = SolverStats(), SolverStats()
    want = evaluate_regions(net, options, want_stats, prefix=prefix)
    got = _explore(net, options, got_stats, prefix, NEVER)
    assert got.prefix == prefix
    assert want.state.complete and len(want.outcomes) >= 1
    assert all(flat(o.region.pattern)[:len(prefix)] == prefix for o in got.evaluated.outcomes)
    assert_same_as_sequential(got, want, got_stats, want_stats)


def test_mutation_merge_explore_never_splits_on_a_time_slice_while_the_clock_stands_still() -> None:
    """The slice is time since the task started (0 here), not the clock's reading."""
    net = m22()
    options = CheckOptions(estimate_samples=0, budget=Budget(clock=FakeClock()))
    got_stats, want_stats = SolverStats(), SolverStats()
    got = _explore(net, options, got_stats, (), SplitRule(seconds=5.0))
    assert_same_as_sequential(got, evaluate_regions(net, CheckOptions(estimate_samples=0), want_stats),
                              got_stats, want_stats)
    assert len(got.evaluated.outcomes) == 6


def test_mutation_merge_explore_splits_m22_after_its_first_region_into_the_hand_frontier() -> None:
    net = m22()
    options = CheckOptions(estimate_samples=0)
    got = _explore(net, options, SolverStats(), (), SplitRule(nodes=1))
    assert [o.region.pattern for o in got.evaluated.outcomes] == [((True, False), (True, True))]
    assert got.frontier == ((True, False, True, False), (True, False, False), (False,))
    state = got.evaluated.state
    assert state.complete and state.stop_reason == "" and state.undecided_prefixes == []
    assert state.regions == 1 == len(got.evaluated.outcomes)
    # the frontier's subtrees, in order, hold exactly the sequential search's other regions
    sequential = evaluate_regions(net, options, SolverStats())
    rest = [o.region.pattern for p in got.frontier
            for o in _explore(net, options, SolverStats(), p, NEVER).evaluated.outcomes]
    assert rest == [o.region.pattern for o in sequential.outcomes[1:]]


def test_mutation_merge_explore_split_below_a_prefix_counts_its_own_regions() -> None:
    """Below (T, F) a two-node rule fires after the first region; the rest is (T, F, T, F), (T, F, F)."""
    net = m22()
    got = _explore(net, CheckOptions(estimate_samples=0), SolverStats(), (True, False), SplitRule(nodes=2))
    assert [flat(o.region.pattern) for o in got.evaluated.outcomes] == [(True, False, True, True)]
    assert got.frontier == ((True, False, True, False), (True, False, False))
    assert got.evaluated.state.regions == 1 and got.evaluated.state.complete


# -- deadlines, interrupts and the one claim solver ---------------------------------------------

def test_mutation_merge_explore_past_its_deadline_finds_nothing_and_names_the_budget() -> None:
    clock = FakeClock()
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=5.0, deadline_at=T0 - 1.0, clock=clock))
    got = _explore(m22(), options, SolverStats(), (), SplitRule(nodes=1))
    assert got.evaluated.outcomes == [] and got.frontier == ()
    assert not got.evaluated.state.complete
    assert got.evaluated.state.stop_reason == "time budget of 5 s reached"


def test_mutation_merge_explore_stops_when_the_deadline_passes_during_a_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock jumps past the deadline as the first claim starts: its Z3 queries must see the
    task's deadline on the task's clock (never answered), and the search stops naming the budget."""
    clock = FakeClock()
    real = parallel.evaluate_region

    def late(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        clock.now = T0 + 10.0
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "evaluate_region", late)
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=5.0, clock=clock))
    got = _explore(m22(), options, SolverStats(), (), SplitRule(nodes=1))
    assert len(got.evaluated.outcomes) == 1 and got.frontier == ()
    claim = got.evaluated.outcomes[0].claim
    assert claim.stopped and claim.undecided
    assert not got.evaluated.state.complete
    assert got.evaluated.state.stop_reason == "time budget of 5 s reached"


def test_mutation_merge_explore_names_an_interrupt_that_is_not_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim solver is interrupted (Ctrl-C in a worker) while the deadline is far: "interrupted"."""
    real = parallel.evaluate_region

    def interrupted(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        assert isinstance(kwargs.get("solver"), ExactSolver)
        kwargs["solver"].interrupt()
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "evaluate_region", interrupted)
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=5.0, clock=FakeClock()))
    got = _explore(m22(), options, SolverStats(), (), NEVER)
    assert len(got.evaluated.outcomes) == 1 and got.evaluated.outcomes[0].claim.stopped
    assert not got.evaluated.state.complete
    assert got.evaluated.state.stop_reason == "interrupted"


def test_mutation_merge_explore_uses_one_claim_solver_under_the_tasks_timeout_and_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every claim of a task runs in one ExactSolver (one Z3 context per worker); its queries and
    the search's own Z3 queries are limited by the task's timeout and deadline on the task's clock."""
    clock = FakeClock()
    seen: list[Any] = []
    real = parallel.evaluate_region

    def spy(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        seen.append((kwargs.get("limits"), kwargs.get("solver")))
        return real(*args, **kwargs)

    search_solvers: list[ExactSolver] = []

    class SearchSolver(ExactSolver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            search_solvers.append(self)

    monkeypatch.setattr(parallel, "evaluate_region", spy)
    monkeypatch.setattr(regions, "ExactSolver", SearchSolver)
    options = CheckOptions(estimate_samples=0, timeout_ms=4321, cross_check=True,
                           budget=Budget(time_budget=7.0, clock=clock))
    got = _explore(m22(), options, SolverStats(), (), NEVER)
    assert len(got.evaluated.outcomes) == len(seen) == 6
    solver = seen[0][1]
    assert isinstance(solver, ExactSolver) and all(s is solver for _, s in seen)
    for limits in [lim for lim, _ in seen] + [solver.limits]:
        assert (limits.timeout_ms, limits.deadline, limits.clock) == (4321, T0 + 7.0, clock)
    assert len(search_solvers) == 1
    assert (search_solvers[0].limits.timeout_ms, search_solvers[0].limits.deadline) == (4321, T0 + 7.0)


# -- run_subtree: the task's deadline, its split rule, its user's budget ------------------------

def test_mutation_merge_run_subtree_without_a_rule_is_the_sequential_search_below_its_prefix() -> None:
    net = m22()
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=100.0, clock=FakeClock()))
    want_stats = SolverStats()
    want = evaluate_regions(net, options, want_stats, prefix=(False, True))
    got = parallel.run_subtree(parallel.SubtreeTask(net, options, (False, True), T0 + 50.0))
    assert got.prefix == (False, True)
    assert_same_as_sequential(got, want, got.stats, want_stats)
    assert [flat(o.region.pattern)[:2] for o in got.evaluated.outcomes] == [(False, True)] * 3


@pytest.mark.parametrize("deadline", [None, T0 + 50.0])
def test_mutation_merge_run_subtree_with_a_rule_hands_back_the_hand_frontier(deadline: float | None) -> None:
    net = m22()
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=100.0, clock=FakeClock()))
    got = parallel.run_subtree(parallel.SubtreeTask(net, options, (), deadline, SplitRule(nodes=1)))
    assert got.prefix == ()
    assert [o.region.pattern for o in got.evaluated.outcomes] == [((True, False), (True, True))]
    assert got.frontier == ((True, False, True, False), (True, False, False), (False,))
    assert got.evaluated.state.complete and got.stats.checks >= 1


@pytest.mark.parametrize("split", [None, SplitRule(nodes=1)], ids=["whole", "split"])
@pytest.mark.parametrize("deadline", [T0, T0 - 1.0], ids=["at", "past"])
def test_mutation_merge_run_subtree_at_its_deadline_is_undecided_naming_the_users_budget(
        deadline: float, split: SplitRule | None) -> None:
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=100.0, clock=FakeClock()))
    got = parallel.run_subtree(parallel.SubtreeTask(m22(), options, (True, False), deadline, split))
    assert got.prefix == (True, False) and got.frontier == ()
    assert got.evaluated.outcomes == [] and not got.evaluated.state.complete
    assert got.evaluated.state.stop_reason == "time budget of 100 s reached"
    assert got.evaluated.state.undecided_prefixes == ["10"]  # the whole subtree, by its prefix: T F
    assert got.stats.checks == 0


@pytest.mark.parametrize("split", [None, SplitRule(nodes=1)], ids=["whole", "split"])
def test_mutation_merge_run_subtree_stops_at_the_parents_deadline_not_its_users_budget(
        monkeypatch: pytest.MonkeyPatch, split: SplitRule | None) -> None:
    """The parent's deadline (T0 + 3) comes long before the user's 100 s: when the clock jumps to
    T0 + 10 during the first claim, the task stops there, and the reason names the user's budget."""
    clock = FakeClock()
    from verify.check import pipeline

    for module in (parallel, pipeline):
        real = module.evaluate_region

        def late(*args: Any, _real: Any = real, **kwargs: Any):  # type: ignore[no-untyped-def]
            clock.now = T0 + 10.0
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "evaluate_region", late)
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=100.0, clock=clock))
    got = parallel.run_subtree(parallel.SubtreeTask(m22(), options, (), T0 + 3.0, split))
    assert len(got.evaluated.outcomes) == 1 and got.evaluated.outcomes[0].claim.stopped
    assert got.frontier == () and not got.evaluated.state.complete
    assert got.evaluated.state.stop_reason == "time budget of 100 s reached"


def test_mutation_merge_split_leftovers_read_the_prefix_before_a_note_with_digits() -> None:
    """Z3's reason for an unknown is free text and may hold 0s and 1s; only the pattern is the prefix."""
    from verify.check.regions import SearchState

    state = SearchState(stop_reason="", undecided_prefixes=["10|01 (solver unknown: limit 100 reached)", "01"])
    got = parallel._split_leftovers(parallel.Split([], state), m22())
    assert [r.prefix for r in got] == [(True, False, False, True), (False, True)]
    assert all(r.evaluated.outcomes == [] and not r.evaluated.state.complete for r in got)


def test_mutation_merge_assemble_under_a_region_budget_not_reached_never_reruns_the_search(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim-free re-run is only for a run cut by --max-regions; a budget of 100 regions on
    M_{2,2}'s 6 is never reached, so the merge is the answer."""
    net = m22()
    options = CheckOptions(estimate_samples=0)
    split = parallel.split_search(net, 1, SolverStats())
    results = [parallel.run_subtree(parallel.SubtreeTask(net, options, p, None)) for p in split.prefixes]
    calls: list[object] = []
    monkeypatch.setattr(parallel, "_as_sequential", lambda *args: calls.append(args) or args[0])
    merged = parallel.assemble(results, split, net, Budget(max_regions=100), None, SolverStats(), None)
    assert calls == []
    sequential = evaluate_regions(net, options, SolverStats())
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.outcomes]
    assert merged.state.complete


def test_mutation_merge_split_search_stops_as_soon_as_it_has_its_target_of_subtrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """One task per job and two jobs: M_{2,2}'s first step already gives exactly 2 prefixes, (T, F) and (F, T)."""
    monkeypatch.setattr(parallel, "TASKS_PER_JOB", 1)
    split = parallel.split_search(m22(), 2, SolverStats())
    assert split.prefixes == [(True, False), (False, True)] and split.state.complete
