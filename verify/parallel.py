"""`--jobs N`: the region search split into independent subtrees, run in local processes.

The first K decisions of the depth-first search (neuron i active at step t, active first) are
fixed by a prefix; the feasible prefixes, taken in the search's own order, partition the tree.
Each worker runs `evaluate_regions(prefix=...)` on one subtree; the parent concatenates the
results in prefix order and renumbers the regions, so a complete search yields the same
regions, in the same order, with the same indices, cones and witnesses as `--jobs 1`. Only
solver statistics (checks, seconds) differ: they live outside the report's verdict sections.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from verify.analysis import CheckOptions, EvaluatedRegions, RegionOutcome, evaluate_regions
from verify.claims import Cone
from verify.network import ExactRNN
from verify.regions import Budget, RegionSearch, SearchState, pattern_text
from verify.solver import SolverStats

TASKS_PER_JOB = 8


@dataclass(frozen=True)
class SubtreeTask:
    """One worker's share: the network, the options and the forced first decisions."""

    network: ExactRNN
    options: CheckOptions
    prefix: tuple[bool, ...]
    deadline: float | None  # time.monotonic() value shared by all workers, or None


@dataclass
class SubtreeResult:
    prefix: tuple[bool, ...]
    evaluated: EvaluatedRegions
    stats: SolverStats


def split_prefixes(network: ExactRNN, jobs: int, stats: SolverStats) -> list[tuple[bool, ...]]:
    """The feasible activation patterns of the first s steps, in depth-first order.

    Pre-activations up to step s depend on x_0..x_{s-1} only, so these are exactly the regions
    of the network cut to its first s inputs. s grows until there are about TASKS_PER_JOB
    subtrees per process (fixed bits would mostly be infeasible: at step 0 every neuron's
    sign is that of x_0); at s = n each subtree is one region. This search is cheap next to
    the claim checks and measures that the workers do.
    """
    target = TASKS_PER_JOB * jobs
    found: list[tuple[bool, ...]] = []
    for steps in range(1, network.seq_len + 1):
        cut = ExactRNN(w_hi=network.w_hi, w_hh=network.w_hh, w_oh=network.w_oh[:steps])
        found = [tuple(b for step in r.pattern for b in step) for r in RegionSearch(cut, stats).run()]
        if len(found) >= target:
            break
    return found


def run_subtree(task: SubtreeTask) -> SubtreeResult:
    """Worker entry point: evaluate every region below `task.prefix`."""
    stats = SolverStats()
    options = task.options
    if task.deadline is not None:
        remaining = task.deadline - time.monotonic()
        if remaining <= 0:
            text = pattern_text(task.prefix, task.network.hidden_size)
            state = SearchState(stop_reason=f"time budget of {options.budget.time_budget:g} s reached",
                                undecided_prefixes=[text])
            return SubtreeResult(task.prefix, EvaluatedRegions([], [], [], state), stats)
        options = replace(options, budget=replace(options.budget, time_budget=remaining))
    evaluated = evaluate_regions(task.network, options, stats, prefix=task.prefix)
    return SubtreeResult(task.prefix, evaluated, stats)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops handing out subtrees."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context() -> multiprocessing.context.BaseContext:
    # fork starts a worker in milliseconds, without re-importing torch. The workers run only
    # Python, Z3 (each solver in a context of its own; Z3 starts no threads here) and mpmath,
    # never torch or BLAS, so threads the parent may have are not needed in the child.
    # Elsewhere spawn is the safe default.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _renumber(outcome: RegionOutcome, index: int) -> RegionOutcome:
    claim = outcome.claim
    claim.region = index
    claim.cones = [replace(c, region=index) for c in claim.cones]
    claim.boundary_violations = [replace(v, region=index) for v in claim.boundary_violations]
    return replace(outcome, region=replace(outcome.region, index=index), claim=claim)


def merge(results: Sequence[SubtreeResult], k: int, budget: Budget) -> EvaluatedRegions:
    """Concatenate subtree results in prefix order into what one sequential search gives."""
    outcomes: list[RegionOutcome] = []
    cones: list[Cone] = []
    measures = []
    state = SearchState(complete=True)
    feasible_ancestors: set[tuple[bool, ...]] = set()
    below = 0
    for result in results:
        part = result.evaluated
        sub = part.state
        offset = len(outcomes)
        outcomes.extend(_renumber(o, offset + k_local) for k_local, o in enumerate(part.outcomes))
        for cone, measure in zip(part.cones, part.cone_measures):
            cones.append(replace(cone, region=cone.region + offset))
            measures.append(measure)
        state.complete = state.complete and sub.complete
        if sub.stop_reason and not state.stop_reason:
            state.stop_reason = sub.stop_reason
        state.undecided_prefixes.extend(sub.undecided_prefixes)
        # Node count of the sequential search: every subtree also walked its prefix path,
        # so count the shared ancestors once. A subtree with regions walked all k of them;
        # one without (an empty cone) walked exactly `nodes` of them before giving up.
        walked = k if part.outcomes else min(sub.nodes, k)
        feasible_ancestors.update(result.prefix[:depth] for depth in range(walked))
        below += sub.nodes - walked
    state.nodes = len(feasible_ancestors) + below
    if budget.max_regions is not None and len(outcomes) > budget.max_regions:
        dropped = outcomes[budget.max_regions:]
        outcomes = outcomes[: budget.max_regions]
        keep = {o.region.index for o in outcomes}
        kept = [(c, m) for c, m in zip(cones, measures) if c.region in keep]
        cones, measures = [c for c, _ in kept], [m for _, m in kept]
        state.complete = False
        state.stop_reason = f"region budget of {budget.max_regions} reached"
        state.undecided_prefixes.extend(o.region.pattern_text for o in dropped)
    state.regions = len(outcomes)
    return EvaluatedRegions(outcomes, cones, measures, state)


@dataclass
class ParallelRegions:
    """A `region_source` for `check_model` that spreads the subtrees over `jobs` processes."""

    jobs: int
    on_region: Callable[[int, int], None] | None = None
    should_stop: Callable[[], str | None] | None = None

    def __call__(self, network: ExactRNN, options: CheckOptions, stats: SolverStats) -> EvaluatedRegions:
        budget = options.budget
        deadline = None if budget.time_budget is None else time.monotonic() + budget.time_budget
        split = split_prefixes(network, self.jobs, stats)
        k = len(split[0])
        tasks = [SubtreeTask(network, options, p, deadline) for p in split]
        pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=_context(), initializer=_ignore_sigint)
        try:
            results = self._collect(pool, tasks, network, stats)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for result in results:
            stats.checks += result.stats.checks
            stats.seconds += result.stats.seconds
            stats.unknowns += result.stats.unknowns
        return merge(results, k, budget)

    def _collect(self, pool: ProcessPoolExecutor, tasks: list[SubtreeTask], network: ExactRNN,
                 stats: SolverStats) -> list[SubtreeResult]:
        """Results in prefix order; after a stop request the remaining subtrees stay undecided."""
        futures: list[Future[SubtreeResult]] = [pool.submit(run_subtree, t) for t in tasks]
        results: list[SubtreeResult] = []
        stopped = ""
        for task, future in zip(tasks, futures):
            result = None
            while result is None and not stopped:
                try:
                    result = future.result(timeout=0.2)
                except FutureTimeout:
                    stopped = (self.should_stop() or "") if self.should_stop else ""
            if result is None:
                future.cancel()
                result = _undecided(task, network, stopped)
            results.append(result)
            self._report(results, stats)
        return results

    def _report(self, results: list[SubtreeResult], stats: SolverStats) -> None:
        if self.on_region is not None:
            regions = sum(len(r.evaluated.outcomes) for r in results)
            checks = stats.checks + sum(r.stats.checks for r in results)
            self.on_region(regions, checks)


def _undecided(task: SubtreeTask, network: ExactRNN, reason: str) -> SubtreeResult:
    state = SearchState(stop_reason=reason, undecided_prefixes=[pattern_text(task.prefix, network.hidden_size)])
    return SubtreeResult(task.prefix, EvaluatedRegions([], [], [], state), SolverStats())


def region_source(jobs: int, *, on_region: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], str | None] | None = None) -> ParallelRegions | None:
    """The source for `check_model(region_source=...)`; None (sequential) for one job."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    return None if jobs == 1 else ParallelRegions(jobs, on_region, should_stop)
