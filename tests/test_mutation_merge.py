"""Issue 18 #4: the parallel merge must give exactly what one sequential search gives.

The oracle is the sequential search (`evaluate_regions`, a different code path): region order,
every region number a region, cone or boundary violation carries, the measures and the node
count must match field by field, for several splits of several models.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction as F

import pytest

from verify.check.pipeline import CheckOptions, EvaluatedRegions, evaluate_regions
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.check.parallel import SubtreeResult, SubtreeTask, merge, run_subtree, split_prefixes
from verify.check.regions import Budget, SearchState, parse_pattern
from verify.smt.solver import SolverStats

MODELS = ["models/algzoo/2nd_argmax_2_2.pth", "models/trained_2_2_local_min.pth", "models/trained_4_2.pth"]


def sequential_and_subtrees(path: str, jobs: int) -> tuple[EvaluatedRegions, list[SubtreeResult], int]:
    net = ExactRNN.from_weights(load_weights(path))
    options = CheckOptions(estimate_samples=0)
    sequential = evaluate_regions(net, options, SolverStats())
    prefixes = split_prefixes(net, jobs, SolverStats())
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in prefixes]
    return sequential, results, len(prefixes[0])


def cone_key(cone):  # type: ignore[no-untyped-def]
    """A cone without its witness (a subtree's solver may pick another interior point)."""
    return (cone.region, cone.piece, cone.target, cone.predicted, cone.tied, cone.constraints)


def assert_same(merged: EvaluatedRegions, sequential: EvaluatedRegions) -> None:
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.outcomes]
    assert [o.region.index for o in merged.outcomes] == list(range(len(sequential.outcomes)))
    assert [o.claim.region for o in merged.outcomes] == list(range(len(sequential.outcomes)))
    for got, want in zip(merged.outcomes, sequential.outcomes):
        assert got.claim.verdict == want.claim.verdict
        assert [cone_key(c) for c in got.claim.cones] == [cone_key(c) for c in want.claim.cones]
        assert [(v.region, v.piece, v.target) for v in got.claim.boundary_violations] == [
            (v.region, v.piece, v.target) for v in want.claim.boundary_violations]
        assert got.measure == want.measure
    assert [cone_key(c) for c in merged.cones] == [cone_key(c) for c in sequential.cones]
    assert merged.cone_measures == sequential.cone_measures
    assert all(m is not None for m in merged.cone_measures)
    state, want_state = merged.state, sequential.state
    assert (state.complete, state.stop_reason, state.undecided_prefixes, state.unknown_queries) == (
        want_state.complete, want_state.stop_reason, want_state.undecided_prefixes, want_state.unknown_queries)
    assert state.regions == want_state.regions == len(sequential.outcomes)
    assert state.nodes == want_state.nodes


@pytest.mark.parametrize("path", MODELS)
@pytest.mark.parametrize("jobs", [2, 64])
def test_merge_equals_the_sequential_search(path: str, jobs: int) -> None:
    sequential, results, k = sequential_and_subtrees(path, jobs)
    assert len(results) >= 2
    assert_same(merge(results, k, Budget()), sequential)


def test_merge_renumbers_boundary_violations() -> None:
    """trained_2_2_local_min has one boundary violation; it must keep its region's new number."""
    sequential, results, k = sequential_and_subtrees("models/trained_2_2_local_min.pth", 64)
    violations = [v for o in sequential.outcomes for v in o.claim.boundary_violations]
    assert len(violations) == 1
    merged = merge(results, k, Budget())
    got = [(o.region.index, v.region) for o in merged.outcomes for v in o.claim.boundary_violations]
    assert len(got) == 1 and got[0][0] == got[0][1] == violations[0].region


def empty(prefix: tuple[bool, ...], nodes: int, *, unknown: int = 0, note: str = "") -> SubtreeResult:
    state = SearchState(complete=not note, stop_reason=note, undecided_prefixes=[note] if note else [],
                        nodes=nodes, unknown_queries=unknown)
    return SubtreeResult(prefix, EvaluatedRegions([], [], [], state), SolverStats())


def test_node_count_of_an_empty_subtree() -> None:
    """An empty subtree sharing the first subtree's prefix adds only the nodes below depth k."""
    sequential, results, k = sequential_and_subtrees("models/algzoo/2nd_argmax_2_2.pth", 64)
    assert k >= 3
    base = merge(results, k, Budget()).state.nodes
    assert base == sequential.state.nodes
    first = results[0].prefix
    # 2 nodes walked, both ancestors already counted: nothing new
    assert merge([*results, empty(first, 2)], k, Budget()).state.nodes == base
    # k + 3 nodes: its k ancestors are counted already, the 3 below are new
    assert merge([*results, empty(first, k + 3)], k, Budget()).state.nodes == base + 3
    # a prefix differing in its last bit has the same k ancestors (prefix[:depth], depth < k)
    other = first[:-1] + (not first[-1],)
    assert merge([*results, empty(other, k + 1)], k, Budget()).state.nodes == base + 1


def test_unknown_queries_add_and_undecided_prefixes_keep_search_order() -> None:
    _, results, k = sequential_and_subtrees("models/algzoo/2nd_argmax_2_2.pth", 2)
    parts = [empty(results[0].prefix, 0, unknown=2, note="a"), *results,
             empty(results[0].prefix, 0, unknown=3, note="b")]
    state = merge(parts, k, Budget()).state
    assert state.unknown_queries == 5
    assert state.undecided_prefixes == ["a", "b"]
    assert state.stop_reason == "a" and not state.complete


def test_region_budget_below_the_count_drops_the_later_regions() -> None:
    sequential, results, k = sequential_and_subtrees("models/trained_4_2.pth", 64)
    total = len(sequential.outcomes)
    assert total == 10
    merged = merge(results, k, Budget(max_regions=3))
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.outcomes[:3]]
    assert merged.state.regions == 3 and not merged.state.complete
    assert merged.state.stop_reason == "region budget of 3 reached"
    assert merged.state.undecided_prefixes == [o.region.pattern_text for o in sequential.outcomes[3:]]
    want = [(cone_key(c), m) for c, m in zip(sequential.cones, sequential.cone_measures) if c.region < 3]
    assert [(cone_key(c), m) for c, m in zip(merged.cones, merged.cone_measures)] == want
    assert len(want) > 0
    exact = merge(results, k, Budget(max_regions=total))
    assert exact.state.complete and exact.state.regions == total and exact.state.stop_reason == ""


def test_an_expired_deadline_gives_an_undecided_subtree_naming_the_budget() -> None:
    net = ExactRNN.from_weights(load_weights("models/algzoo/2nd_argmax_2_2.pth"))
    prefix = split_prefixes(net, 2, SolverStats())[0]
    options = CheckOptions(budget=Budget(time_budget=7.0, clock=lambda: 100.0))
    result = run_subtree(SubtreeTask(net, options, prefix, 50.0))
    assert result.prefix == prefix and result.evaluated.outcomes == []
    assert not result.evaluated.state.complete
    assert result.evaluated.state.stop_reason == "time budget of 7 s reached"
    assert len(result.evaluated.state.undecided_prefixes) == 1
    assert parse_pattern(result.evaluated.state.undecided_prefixes[0]) == prefix
    assert isinstance(result.stats, SolverStats)
    live = run_subtree(SubtreeTask(net, replace(options, budget=Budget(time_budget=7.0, clock=lambda: 0.0)),
                                   prefix, 50.0))
    assert live.stats.checks > 0 and live.evaluated.outcomes


def test_subtrees_of_several_regions_are_numbered_on_from_the_regions_before() -> None:
    """Split at depth 1 only (k = 1): each half holds several regions, numbered 0.. within it."""
    net = ExactRNN.from_weights(load_weights("models/trained_4_2.pth"))
    options = CheckOptions(estimate_samples=0)
    sequential = evaluate_regions(net, options, SolverStats())
    halves = [run_subtree(SubtreeTask(net, options, (bit,), None)) for bit in (True, False)]
    assert all(len(h.evaluated.outcomes) >= 2 for h in halves)
    assert_same(merge(halves, 1, Budget()), sequential)


def test_a_region_budget_cut_is_incomplete_as_a_boolean() -> None:
    _, results, k = sequential_and_subtrees("models/algzoo/2nd_argmax_2_2.pth", 64)
    assert merge(results, k, Budget(max_regions=2)).state.complete is False


def test_an_undecided_subtree_has_empty_region_lists() -> None:
    net = ExactRNN.from_weights(load_weights("models/algzoo/2nd_argmax_2_2.pth"))
    prefix = split_prefixes(net, 2, SolverStats())[0]
    options = CheckOptions(budget=Budget(clock=lambda: 50.0))
    ev = run_subtree(SubtreeTask(net, options, prefix, 50.0)).evaluated  # at the deadline: time is up
    assert (ev.outcomes, ev.cones, ev.cone_measures) == ([], [], [])
    assert ev.state.stop_reason == "time budget reached" and not ev.state.complete
    assert [parse_pattern(p) for p in ev.state.undecided_prefixes] == [prefix]  # the whole subtree, by its prefix


def test_a_worker_stops_at_its_parents_deadline() -> None:
    """No time budget of its own: only the parent's deadline (50) can stop it, once the clock passes it."""
    net = ExactRNN.from_weights(load_weights("models/algzoo/2nd_argmax_2_2.pth"))
    prefix = split_prefixes(net, 2, SolverStats())[0]
    readings = iter([0.0])
    options = CheckOptions(estimate_samples=0, budget=Budget(clock=lambda: next(readings, 1000.0)))
    ev = run_subtree(SubtreeTask(net, options, prefix, 50.0)).evaluated
    assert not ev.state.complete and ev.state.stop_reason == "time budget reached"
    free = run_subtree(SubtreeTask(net, CheckOptions(estimate_samples=0, budget=Budget(clock=lambda: 1000.0)),
                                   prefix, None)).evaluated
    assert free.state.complete and free.outcomes


# -- the split search and the subtrees it leaves undecided ---------------------------------------

def test_the_split_of_algzoo_m22_is_its_six_wedges_at_full_depth() -> None:
    """M_{2,2} has six regions (published): with 64 jobs the split wants more subtrees than the
    first step gives, so it goes to s = n = 2 and each subtree is one region, in search order."""
    from verify.check.parallel import split_search

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    split = split_search(net, 64, SolverStats())
    assert split.state.complete and len(split.prefixes) == 6 and all(len(p) == 4 for p in split.prefixes)
    sequential = evaluate_regions(net, CheckOptions(estimate_samples=0), SolverStats())
    assert split.prefixes == [tuple(b for step in o.region.pattern for b in step) for o in sequential.outcomes]
    one = split_search(net, 1, SolverStats())  # 1 job wants 4 subtrees: the first step gives 2
    assert one.state.complete and [len(p) for p in one.prefixes] == [4] * len(one.prefixes)


def test_subtrees_the_split_left_undecided_become_empty_incomplete_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Region query 2 of the split answers unknown: its subtree is undecided; as a leftover it
    is a result with that prefix, no region, and the split's reason; merged with the rest the
    search is incomplete."""
    from verify.check.parallel import _split_leftovers, split_search
    from verify.smt.solver import Answer, ExactSolver

    real = ExactSolver.check
    calls: list[int] = []

    def check(self: ExactSolver) -> Answer:
        calls.append(1)
        return self._unknown("canceled") if len(calls) == 2 else real(self)

    import verify.check.regions as regions_module

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    # the exact geometry never leaves a region query open; past GEOMETRY_MAX_N inputs Z3 decides
    # them (as for M_{16,10}): lower that limit so this n = 2 split asks Z3
    monkeypatch.setattr(regions_module, "GEOMETRY_MAX_N", 1)
    monkeypatch.setattr(ExactSolver, "check", check)
    split = split_search(net, 64, SolverStats())
    monkeypatch.setattr(ExactSolver, "check", real)
    assert not split.state.complete and len(split.state.undecided_prefixes) == 1
    text = split.state.undecided_prefixes[0]
    leftovers = _split_leftovers(split, net)
    assert [r.prefix for r in leftovers] == [parse_pattern(text.split(" (")[0])]
    (left,) = leftovers
    assert left.evaluated.outcomes == [] and not left.evaluated.state.complete
    assert left.evaluated.state.undecided_prefixes == [text]
    assert left.evaluated.state.stop_reason == split.state.stop_reason != ""
    assert left.stats.checks == 0
    # With the default reason when the split's state names none:
    bare = replace(split, state=replace(split.state, stop_reason=""))
    assert _split_leftovers(bare, net)[0].evaluated.state.stop_reason == "the solver answered unknown on a region query"
    options = CheckOptions(estimate_samples=0)
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in split.prefixes] + leftovers
    results.sort(key=lambda r: [not b for b in r.prefix])
    merged = merge(results, max(len(p) for p in split.prefixes), Budget())
    sequential = evaluate_regions(net, options, SolverStats())
    decided = [o.region.pattern for o in sequential.outcomes
               if any(tuple(b for step in o.region.pattern for b in step)[:len(p)] == p for p in split.prefixes)]
    assert [o.region.pattern for o in merged.outcomes] == decided and 0 < len(decided) < 6
    assert not merged.state.complete and merged.state.undecided_prefixes == [text]


# -- checkpoints: which subtrees may be saved, what names them, what a corrupt file is -------------

def _handcrafted() -> ExactRNN:
    return ExactRNN.from_weights(load_weights("models/handcrafted_2_2.pth"))


def test_only_a_complete_and_fully_decided_subtree_is_worth_saving() -> None:
    from copy import copy

    from verify.check.checkpoint import finished

    done = evaluate_regions(_handcrafted(), CheckOptions(estimate_samples=0), SolverStats())
    assert done.state.complete and done.outcomes and finished(done)
    for change in ({"complete": False}, {"stop_reason": "time budget of 1 s reached"},
                   {"undecided_prefixes": ["10"]}):
        assert not finished(replace(done, state=replace(done.state, **change))), change
    for flag in ("undecided", "stopped"):  # one region's claim left undecided, or stopped
        claim = copy(done.outcomes[-1].claim)
        setattr(claim, flag, True)
        outcomes = done.outcomes[:-1] + [replace(done.outcomes[-1], claim=claim)]
        assert not finished(replace(done, outcomes=outcomes)), flag


def test_checkpoint_names_and_keys() -> None:
    from fractions import Fraction

    from verify.check.checkpoint import bits_text, run_key

    assert bits_text((True, False, False)) == "100" and bits_text(()) == "root"
    net = _handcrafted()
    options = CheckOptions(estimate_samples=0)
    key = run_key(net, options)
    assert key == run_key(_handcrafted(), CheckOptions(estimate_samples=0))  # the same run, the same key
    bumped = Fraction(1, 2**20)
    others = [
        replace(net, w_hi=(net.w_hi[0] + bumped,) + net.w_hi[1:]),
        replace(net, w_hh=((net.w_hh[0][0] + bumped,) + net.w_hh[0][1:],) + net.w_hh[1:]),
        replace(net, w_oh=((net.w_oh[0][0] + bumped,) + net.w_oh[0][1:],) + net.w_oh[1:]),
    ]
    assert len({key} | {run_key(other, options) for other in others}) == 4  # every weight counts


@pytest.mark.parametrize("data", [3.5, {"q": "1/2", "x": 1, "y": 2}, {"x": 1}, {"q": "1/0"}, {"mpf": [0, "1"]},
                                  {"enum": "Answer", "name": "maybe"}, {"dc": "Nothing", "f": {}}])
def test_anything_encode_did_not_write_is_a_corrupt_checkpoint(data: object) -> None:
    from verify.check.checkpoint import CorruptCheckpoint, decode

    with pytest.raises(CorruptCheckpoint):
        decode(data)


def test_the_merged_state_under_a_region_budget_is_the_sequential_searchs() -> None:
    """--max-regions with jobs: the merge's state is replaced by the state of a plain search
    stopped at the same region (its nodes and pending branches), which the sequential run
    reports; when that search does not stop where the merge did, the merge is kept as it is."""
    from verify.check.parallel import _as_sequential
    from verify.check.regions import RegionSearch

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    budget = Budget(max_regions=2)
    sequential = evaluate_regions(net, CheckOptions(estimate_samples=0, budget=budget), SolverStats())
    _, results, k = sequential_and_subtrees(MODELS[0], 2)
    merged = merge(results, k, budget)
    assert len(merged.outcomes) == 2 and merged.state.stop_reason == budget.region_reason()
    stats = SolverStats()
    got = _as_sequential(merged, net, budget, None, stats, None)
    plain = RegionSearch(net, SolverStats(), budget=budget)
    list(plain.run())
    assert got.state == plain.state and got.outcomes == merged.outcomes
    assert (got.state.nodes, got.state.undecided_prefixes) == (sequential.state.nodes, sequential.state.undecided_prefixes)
    # a merge that stopped elsewhere (here: one region fewer) is kept
    fewer = replace(merged, outcomes=merged.outcomes[:1])
    assert _as_sequential(fewer, net, budget, None, SolverStats(), None) is fewer
    # a stop flag that fires at once: the search stops for it, not for the budget: merge kept
    assert _as_sequential(merged, net, budget, None, SolverStats(), lambda: "halt") is merged
    # the run's deadline holds for that search too: past it (fake clock), the merge is kept
    late = replace(budget, clock=lambda: 10.0)
    assert _as_sequential(merged, net, late, 5.0, SolverStats(), None) is merged
    assert _as_sequential(merged, net, late, 50.0, SolverStats(), None).state == plain.state


def test_assemble_adds_up_the_subtrees_solver_work_and_merges_them_in_order() -> None:
    """The parent's statistics are its own plus every subtree's (counts and seconds), and the
    assembled result is the sequential search's, whatever order the results come back in."""
    from verify.check.parallel import SolverStats as Stats, assemble, split_search

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    split = split_search(net, 64, Stats())
    options = CheckOptions(estimate_samples=0)
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in split.prefixes]
    for i, r in enumerate(results):  # distinct, known numbers per subtree
        r.stats.checks, r.stats.seconds, r.stats.unknowns = 10 + i, 0.5 * (i + 1), i
    parent = Stats(checks=7, seconds=1.0, unknowns=1)
    merged = assemble(list(reversed(results)), split, net, Budget(), None, parent, None)
    m = len(results)
    assert (parent.checks, parent.seconds, parent.unknowns) == (
        7 + sum(10 + i for i in range(m)), 1.0 + 0.5 * m * (m + 1) / 2, 1 + sum(range(m)))
    sequential = evaluate_regions(net, options, SolverStats())
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.outcomes]
    assert merged.state.complete


def test_the_split_search_runs_the_sequential_searchs_options_without_its_region_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each level of the split is a RegionSearch of the network cut to its first steps (1, then 2
    for M_{2,2}), with the run's deadline, stop check, query timeout and decider ("both" under
    --cross-check), but no region budget: the budget applies to the merged regions."""
    import verify.check.parallel as parallel
    from verify.check.regions import RegionSearch

    seen = []

    class Spy(RegionSearch):
        def __init__(self, network, stats, **kwargs):  # type: ignore[no-untyped-def]
            seen.append((network.seq_len, kwargs))
            super().__init__(network, stats, **kwargs)

    monkeypatch.setattr(parallel, "RegionSearch", Spy)
    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    stop = lambda: None  # noqa: E731
    for cross_check in (False, True):
        seen.clear()
        options = CheckOptions(estimate_samples=0, budget=Budget(max_regions=3, clock=lambda: 0.0), timeout_ms=777,
                               cross_check=cross_check)
        split = parallel.split_search(net, 1, SolverStats(), options=options, deadline=12345.0, should_stop=stop)
        assert split.state.complete and len(split.prefixes) == 6
        assert [steps for steps, _ in seen] == [1, 2]
        for _, kwargs in seen:
            assert kwargs["budget"].max_regions is None and kwargs["budget"].deadline_at == 12345.0
            assert kwargs["should_stop"] is stop and kwargs["timeout_ms"] == 777
            assert kwargs["decider"] == ("both" if cross_check else "geometry")


def test_assemble_under_a_region_budget_reports_the_sequential_state() -> None:
    from verify.check.parallel import assemble, split_search

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    budget = Budget(max_regions=2)
    options = CheckOptions(estimate_samples=0, budget=budget)
    split = split_search(net, 64, SolverStats(), options=options)
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in split.prefixes]
    merged = assemble(results, split, net, budget, None, SolverStats(), None)
    sequential = evaluate_regions(net, options, SolverStats())
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.outcomes]
    assert merged.state == sequential.state and not merged.state.complete
    unbounded = assemble(results, split, net, Budget(), None, SolverStats(), None)
    assert len(unbounded.outcomes) == 6 and unbounded.state.complete


def test_assemble_hands_its_deadline_and_stop_check_to_the_region_budget_rerun() -> None:
    """The re-run that recovers the sequential state under --max-regions obeys the run's deadline
    and stop check: past the deadline (fake clock) or with the stop set, it stops for that reason,
    not at the budget, and the merge is kept as it is; without either, the state is replaced."""
    from verify.check.parallel import assemble, split_search

    net = ExactRNN.from_weights(load_weights(MODELS[0]))
    budget = Budget(max_regions=2, clock=lambda: 10.0)
    options = CheckOptions(estimate_samples=0, budget=budget)
    split = split_search(net, 64, SolverStats(), options=options)
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in split.prefixes]
    kept = merge(sorted(results, key=lambda r: [not b for b in r.prefix]), max(len(p) for p in split.prefixes), budget)
    sequential = evaluate_regions(net, CheckOptions(estimate_samples=0, budget=Budget(max_regions=2)), SolverStats())
    assert kept.state != sequential.state  # the merge's own state differs from the sequential one
    replaced = assemble(results, split, net, budget, 50.0, SolverStats(), None)
    assert replaced.state == sequential.state
    assert assemble(results, split, net, budget, 5.0, SolverStats(), None).state == kept.state  # deadline passed
    assert assemble(results, split, net, budget, 50.0, SolverStats(), lambda: "halt").state == kept.state


def test_past_the_geometry_limit_the_split_and_the_rerun_count_their_z3_queries() -> None:
    """With more than GEOMETRY_MAX_N inputs Z3 decides the search: the split's queries and those
    of the --max-regions re-run are the caller's solver work (its SolverStats), not lost."""
    from verify.check.parallel import assemble, split_search
    from verify.check.regions import GEOMETRY_MAX_N, RegionSearch
    from verify.core.claim import KthArgmaxClaim

    n = GEOMETRY_MAX_N + 1
    net = ExactRNN((F(1),), ((F(1, 2),),), tuple((F(1),) for _ in range(n)))
    stats = SolverStats()
    prefixes = split_prefixes(net, 8, stats)  # deep enough (k > GEOMETRY_MAX_N steps) for Z3 to split
    # h_t = relu(x_t + h_{t-1} / 2): x_t is free, so every sign pattern of the first k steps occurs
    k = len(prefixes[0])
    assert k > GEOMETRY_MAX_N and sorted(prefixes) == sorted(itertools.product((False, True), repeat=k))
    assert stats.checks > 0
    budget = Budget(max_regions=1)  # the argmax claim and one region: the subtrees stay cheap
    options = CheckOptions(estimate_samples=0, budget=budget, claim=KthArgmaxClaim(1))
    split = split_search(net, 1, SolverStats(), options=options)
    results = [run_subtree(SubtreeTask(net, options, p, None)) for p in split.prefixes]
    parent = SolverStats()
    merged = assemble(results, split, net, budget, None, parent, None)
    alone = SolverStats()  # what the re-run asks: a plain search stopped at the budget
    plain = RegionSearch(net, alone, budget=budget)
    list(plain.run())
    assert merged.state == plain.state and alone.checks > 0
    assert parent.checks == sum(r.stats.checks for r in results) + alone.checks
