"""`--jobs N`: the region search split into independent subtrees, run in local processes.

The first K decisions of the depth-first search (neuron i active at step t, active first) are
fixed by a prefix; the feasible prefixes, taken in the search's own order, partition the tree.
Each worker runs `evaluate_regions(prefix=...)` on one subtree; the parent concatenates the
results in prefix order and renumbers the regions, so a complete search yields the same
regions, in the same order, with the same indices, cones and witnesses as `--jobs 1`. Only
solver statistics (checks, seconds) differ: they live outside the report's verdict sections.

How many processes: `--jobs N` is an upper bound. A run never starts more processes than
there are subtrees to hand out, nor more than the machine's logical CPUs (`os.cpu_count()`):
the work is CPU-bound, so more processes would only time-slice the same cores.

Work stealing: a subtree that is still big after a while is split further. A task with a
`SplitRule` explores its subtree for at most a node budget or a time slice; when that runs out
after a region, it returns its finished regions plus the rest of its subtree as new, longer
prefixes (its `frontier`: the inactive branches still pending on the path to its last region,
deepest first, which is the order the depth-first search would visit them), and the driver
hands those out as new tasks. The merge orders every result by its prefix, a split subtree's
own regions before its children's, so nested prefixes renumber exactly as the sequential DFS.

Budgets mean what they mean sequentially: every worker stops at the parent's one deadline
(and stop reasons name the user's budget), and `merge` keeps only the first `--max-regions`
regions in search order. A stop request (verify.check.pipeline.StopFlag, e.g. Ctrl-C) hands out no
further subtree, keeps every subtree already finished, and terminates and reaps the workers;
workers ignore SIGINT and, on Linux, die with their parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import time
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from verify.check.pipeline import CheckOptions, EvaluatedRegions, RegionOutcome, evaluate_region, evaluate_regions
from verify.check.claims import Cone
from verify.core.network import ExactRNN
from verify.check.regions import Budget, RegionSearch, SearchState, parse_pattern, pattern_text, unknown_queries_reason
from verify.smt.solver import ExactSolver, QueryLimits, SolverStats

TASKS_PER_JOB = 8
POLL_SECONDS = 0.1  # how often the parent looks at the stop flag while workers run
REAP_SECONDS = 2.0  # how long a terminated worker may take to exit before it is killed
DEADLINE_GRACE = 5.0  # workers stop at the deadline themselves; past this the parent stops them
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SPLIT_SECONDS = 10.0  # a task still busy after this long hands the rest of its subtree back (see bench/)
HUNGRY_SPLIT_SECONDS = 0.25  # the same while workers would otherwise go idle (each split costs one task: ~16 ms)
HUNGRY_TASKS = 2  # tasks out per worker below which the workers are "hungry"

StopCheck = Callable[[], "str | None"]


@dataclass(frozen=True)
class SplitRule:
    """When a task stops and hands the rest of its subtree back: after `nodes` search nodes
    (its prefix path included; deterministic, for tests) or `seconds` on the budget's clock,
    whichever comes first, checked after each region. None: never for that measure."""

    nodes: int | None = None
    seconds: float | None = None

    def due(self, nodes: int, elapsed: float) -> bool:
        return ((self.nodes is not None and nodes >= self.nodes)
                or (self.seconds is not None and elapsed >= self.seconds))


@dataclass(frozen=True)
class SplitPolicy:
    """Which rule a new task gets: `hungry` (a short slice) while fewer than HUNGRY_TASKS tasks
    per worker are out, so that a coarse start fans out fast, else `busy` (fewer, bigger tasks)."""

    busy: SplitRule | None
    hungry: SplitRule | None

    def rule(self, outstanding: int, workers: int) -> SplitRule | None:
        return self.hungry if outstanding < HUNGRY_TASKS * workers else self.busy


Splitting = SplitRule | SplitPolicy | None  # one rule for every task, a policy, or no splitting


def rule_for(split: Splitting, outstanding: int, workers: int) -> SplitRule | None:
    """The rule for a task submitted while `outstanding` tasks are out on `workers` workers."""
    return split.rule(outstanding, workers) if isinstance(split, SplitPolicy) else split


DEFAULT_SPLIT = SplitPolicy(busy=SplitRule(seconds=SPLIT_SECONDS), hungry=SplitRule(seconds=HUNGRY_SPLIT_SECONDS))


@dataclass(frozen=True)
class SubtreeTask:
    """One worker's share: the network, the options and the forced first decisions."""

    network: ExactRNN
    options: CheckOptions
    prefix: tuple[bool, ...]
    deadline: float | None  # the parent's deadline on options.budget.clock (time.monotonic), or None
    split: SplitRule | None = None  # None: explore the whole subtree


@dataclass
class SubtreeResult:
    prefix: tuple[bool, ...]
    evaluated: EvaluatedRegions  # a split task: the regions of its subtree before `frontier`
    stats: SolverStats
    frontier: tuple[tuple[bool, ...], ...] = ()  # the rest of the subtree as longer prefixes, in search order


def worker_count(jobs: int, subtrees: int, cpus: int | None) -> int:
    """Processes worth starting: at most `jobs`, one per subtree, one per logical CPU."""
    return max(1, min(jobs, subtrees, cpus if cpus else 1))


@dataclass(frozen=True)
class Split:
    """The subtrees to hand out, and the state of the search that found them."""

    prefixes: list[tuple[bool, ...]]  # feasible activation patterns of the first steps, in search order
    state: SearchState  # complete, or what it left undecided (a solver unknown, a stop, the deadline)


def split_search(network: ExactRNN, jobs: int, stats: SolverStats, *, options: CheckOptions = CheckOptions(),
                 deadline: float | None = None, should_stop: StopCheck | None = None,
                 max_steps: int | None = None) -> Split:
    """The feasible activation patterns of the first s steps, in depth-first order.

    Pre-activations up to step s depend on x_0..x_{s-1} only, so these are exactly the regions
    of the network cut to its first s inputs. s grows until there are about TASKS_PER_JOB
    subtrees per process (fixed bits would mostly be infeasible: at step 0 every neuron's
    sign is that of x_0); at s = n each subtree is one region. This search is cheap next to
    the claim checks and measures that the workers do. It asks the same queries as the
    sequential search, under the same deadline and stop flag; if one is not decided, the
    split stops at that level and its undecided subtrees stay undecided, as they would
    sequentially. `max_steps` caps s (a coarse split, left to work stealing to refine).
    """
    target = TASKS_PER_JOB * jobs
    budget = replace(options.budget, max_regions=None, deadline_at=deadline)
    found: list[tuple[bool, ...]] = []
    state = SearchState(complete=True)
    for steps in range(1, min(network.seq_len, max_steps or network.seq_len) + 1):
        cut = ExactRNN(w_hi=network.w_hi, w_hh=network.w_hh, w_oh=network.w_oh[:steps])
        search = RegionSearch(cut, stats, budget=budget, should_stop=should_stop, timeout_ms=options.timeout_ms,
                              decider="both" if options.cross_check else "geometry")
        found = [tuple(b for step in r.pattern for b in step) for r in search.run()]
        state = search.state
        if not state.complete or len(found) >= target:
            break
    return Split(found, state)


def split_prefixes(network: ExactRNN, jobs: int, stats: SolverStats) -> list[tuple[bool, ...]]:
    """The prefixes of `split_search` with default options (no deadline, no stop flag)."""
    return split_search(network, jobs, stats).prefixes


def run_subtree(task: SubtreeTask) -> SubtreeResult:
    """Worker entry point: evaluate the regions below `task.prefix`, by the parent's deadline;
    all of them, or (with `task.split`) those found before the rule fires, plus the frontier."""
    stats = SolverStats()
    options = task.options
    budget = options.budget
    if task.deadline is not None:
        if budget.clock() >= task.deadline:
            return undecided(task, budget.time_reason())
        # The user's time_budget stays for the stop reasons; the deadline is the parent's.
        options = replace(options, budget=replace(budget, deadline_at=task.deadline))
    if task.split is None:
        return SubtreeResult(task.prefix, evaluate_regions(task.network, options, stats, prefix=task.prefix), stats)
    return _explore(task.network, options, stats, task.prefix, task.split)


def _explore(network: ExactRNN, options: CheckOptions, stats: SolverStats, prefix: tuple[bool, ...],
             rule: SplitRule) -> SubtreeResult:
    """`evaluate_regions` below `prefix` that stops after the region at which `rule` fires and
    returns the rest of the subtree as its frontier. It splits only while everything it found
    is decided (no solver unknown in the search), so its part is complete on its own."""
    budget = options.budget
    start = budget.clock()
    search = RegionSearch(network, stats, budget=budget, prefix=prefix, timeout_ms=options.timeout_ms,
                          decider="both" if options.cross_check else "geometry")
    solver: ExactSolver | None = None
    outcomes: list[RegionOutcome] = []
    cones: list[Cone] = []
    measures = []
    frontier: tuple[tuple[bool, ...], ...] = ()
    regions = search.run()
    for region in regions:
        limits = QueryLimits(options.timeout_ms, search.deadline, budget.clock)
        if solver is None:
            solver = ExactSolver(network.seq_len, stats, limits=limits)
        outcome = evaluate_region(region, options, stats, limits=limits, solver=solver)
        outcomes.append(outcome)
        cones.extend(outcome.claim.cones)
        measures.extend(outcome.cone_measures)
        if outcome.claim.stopped:
            search.stop(budget.time_reason() if limits.expired() else "interrupted")
        elif not search.state.undecided_prefixes and rule.due(search.state.nodes, budget.clock() - start):
            frontier = rest_of_subtree(tuple(b for step in region.pattern for b in step), len(prefix))
            if frontier:
                break
    regions.close()
    state = search.state
    if frontier:  # the search was left after a region: its part is complete, the rest is the frontier
        state = SearchState(complete=True, nodes=state.nodes, regions=state.regions)
    return SubtreeResult(prefix, EvaluatedRegions(outcomes, cones, measures, state), stats, frontier)


def rest_of_subtree(path: tuple[bool, ...], k: int) -> tuple[tuple[bool, ...], ...]:
    """What a depth-first search below `path[:k]` has left after the region `path`: the inactive
    branch of every decision at depth >= k where the path went active, deepest first (the order
    it would visit them). A branch may be empty; its task then finds no region."""
    return tuple(path[:j] + (False,) for j in range(len(path) - 1, k - 1, -1) if path[j])


def _init_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the parent, die by SIGTERM (not by a handler the fork copied)
    and, on Linux, are sent SIGTERM when the parent dies, so that none outlives it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


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
    """Concatenate subtree results in prefix order into what one sequential search gives.

    The search is complete only if every subtree's is (a split subtree's part is complete when
    its frontier's results are there too); the first stop reason in search order is kept;
    regions beyond `budget.max_regions` (in search order) are dropped, as the sequential search
    would never have evaluated them. `k` is the split depth; each result's own prefix length
    counts for its shared ancestors (dynamic splitting makes longer ones).
    """
    outcomes: list[RegionOutcome] = []
    cones: list[Cone] = []
    measures = []
    state = SearchState(complete=True)
    feasible_ancestors: set[tuple[bool, ...]] = set()
    below = 0
    counted_unknowns = False  # the kept reason counts one subtree's undecided queries: recount over all
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
            counted_unknowns = sub.stop_reason == unknown_queries_reason(sub.unknown_queries)
        state.undecided_prefixes.extend(sub.undecided_prefixes)
        state.unknown_queries += sub.unknown_queries
        # Node count of the sequential search: every subtree also walked its prefix path,
        # so count the shared ancestors once. A subtree with regions walked all of them;
        # one without (an empty cone) walked exactly `nodes` of them before giving up. A split
        # one walked the whole path to its last region, which its frontier's tasks walk again.
        depth_k = len(result.prefix)
        walked = depth_k if part.outcomes else min(sub.nodes, depth_k)
        feasible_ancestors.update(result.prefix[:depth] for depth in range(walked))
        if result.frontier and part.outcomes:
            path = tuple(b for step in part.outcomes[-1].region.pattern for b in step)
            feasible_ancestors.update(path[:depth] for depth in range(walked, len(path) + 1))
            walked = len(path) + 1
        below += sub.nodes - walked
    state.nodes = len(feasible_ancestors) + below
    if counted_unknowns:
        state.stop_reason = unknown_queries_reason(state.unknown_queries)
    if budget.max_regions is not None and len(outcomes) > budget.max_regions:
        dropped = outcomes[budget.max_regions:]
        outcomes = outcomes[: budget.max_regions]
        keep = {o.region.index for o in outcomes}
        kept = [(c, m) for c, m in zip(cones, measures) if c.region in keep]
        cones, measures = [c for c, _ in kept], [m for _, m in kept]
        state.complete = False
        state.stop_reason = budget.region_reason()
        state.undecided_prefixes.extend(o.region.pattern_text for o in dropped)
    state.regions = len(outcomes)
    return EvaluatedRegions(outcomes, cones, measures, state)


@dataclass
class ParallelRegions:
    """A `region_source` for `check_model` that spreads the subtrees over up to `jobs` processes.

    `stop` (a verify.check.pipeline.StopFlag, or any callable giving a reason or None) is polled
    while workers run. `cpus` defaults to os.cpu_count(). After a call, `worker_pids` holds
    the process ids it started (all reaped by the time the call returns).
    """

    jobs: int
    on_region: Callable[[int, int], None] | None = None
    stop: StopCheck | None = None
    cpus: int | None = None
    split: Splitting = DEFAULT_SPLIT  # work stealing below the fixed split (None: off)
    split_steps: int | None = None  # cap on the fixed split's depth (a coarse start, refined by stealing)
    worker_pids: tuple[int, ...] = field(default=(), init=False)

    def __call__(self, network: ExactRNN, options: CheckOptions, stats: SolverStats) -> EvaluatedRegions:
        budget = options.budget
        deadline = budget.deadline(budget.clock())
        cpus = self.cpus if self.cpus is not None else os.cpu_count()
        split = split_search(network, max(1, min(self.jobs, cpus or 1)), stats, options=options,
                             deadline=deadline, should_stop=self.stop, max_steps=self.split_steps)
        tasks = [SubtreeTask(network, options, p, deadline) for p in split.prefixes]
        self.worker_pids = ()
        results: list[SubtreeResult] = []
        reason = self._stop_reason()
        if reason:  # stopped before any work: start no process
            results = [undecided(t, reason) for t in tasks]
        elif tasks:
            workers = worker_count(self.jobs, len(tasks), cpus)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker,
                                       initargs=(os.getpid(),))
            try:
                results = self._collect(pool, tasks, budget, deadline, stats)
            finally:
                self._shut_down(pool)
        return assemble(results, split, network, budget, deadline, stats, self.stop)

    def _stop_reason(self) -> str:
        return (self.stop() or "") if self.stop is not None else ""

    def _collect(self, pool: ProcessPoolExecutor, tasks: list[SubtreeTask], budget: Budget,
                 deadline: float | None, stats: SolverStats) -> list[SubtreeResult]:
        """One result per subtree handed out (a split one's frontier handed out in turn); after a
        stop request the unfinished subtrees stay undecided."""
        done: dict[tuple[bool, ...], SubtreeResult] = {}
        running: dict[Future[SubtreeResult], SubtreeTask] = {}
        pids: dict[int, None] = {}

        workers = getattr(pool, "_max_workers", 1)

        def submit(batch: list[SubtreeTask]) -> None:
            rule = rule_for(self.split, len(running) + len(batch), workers)  # the batch counts as out
            for task in batch:
                task = replace(task, split=rule)
                try:
                    running[pool.submit(run_subtree, task)] = task
                except (BrokenProcessPool, RuntimeError):  # the pool broke (a worker was killed): not run
                    done[task.prefix] = undecided(task, "a worker process died")
            pids.update(dict.fromkeys(getattr(pool, "_processes", None) or {}))
            self.worker_pids = tuple(pids)

        submit(tasks)
        reason = ""
        while running and not reason:
            finished, _ = wait(set(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                task = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:  # a worker was killed from outside: nothing is known there
                    result = undecided(task, "a worker process died")
                done[task.prefix] = result
                # shallowest (usually biggest) first
                submit([replace(task, prefix=child) for child in reversed(result.frontier)])
            if finished:
                self._report(list(done.values()), stats)
            reason = self._stop_reason()
            if not reason and deadline is not None and budget.clock() > deadline + DEADLINE_GRACE:
                reason = budget.time_reason()
        for task in running.values():  # never cancelled: `_shut_down` kills every worker before any could run
            done[task.prefix] = undecided(task, reason)
        return list(done.values())

    def _shut_down(self, pool: ProcessPoolExecutor) -> None:
        """Terminate whatever still runs and reap every worker: none may outlive the call.

        Every worker is dead before the pool is shut down. A worker forked just before its
        SIGTERM still runs the parent's signal handler (its own is armed in `_init_worker`), so
        it may survive the SIGTERM; an idle worker holds the task queue's lock while it waits,
        so the terminated one leaves that lock taken and a survivor would wait on it for ever,
        and `shutdown(wait=True)` with it. Hence SIGKILL after REAP_SECONDS, then the shutdown.
        No future is cancelled: the pool's thread marks the pending ones failed once it sees its
        workers gone, and Python 3.11's marks a cancelled one with an InvalidStateError traceback."""
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            if process.is_alive():
                process.terminate()
        reap_by = time.monotonic() + REAP_SECONDS
        for process in processes:
            process.join(max(0.0, reap_by - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()
        pool.shutdown(wait=True)

    def _report(self, finished: list[SubtreeResult], stats: SolverStats) -> None:
        if self.on_region is not None:
            regions = sum(len(r.evaluated.outcomes) for r in finished)
            checks = stats.checks + sum(r.stats.checks for r in finished)
            self.on_region(regions, checks)


def assemble(results: list[SubtreeResult], split: Split, network: ExactRNN, budget: Budget,
             deadline: float | None, stats: SolverStats, stop: StopCheck | None) -> EvaluatedRegions:
    """What the sequential search gives, from one result per subtree of `split` (any executor)."""
    for result in results:
        stats.checks += result.stats.checks
        stats.seconds += result.stats.seconds
        stats.unknowns += result.stats.unknowns
    results = sorted(results + _split_leftovers(split, network), key=lambda r: [not b for b in r.prefix])
    k = max((len(p) for p in split.prefixes), default=0)
    merged = merge(results, k, budget)
    if budget.max_regions is not None and merged.state.stop_reason == budget.region_reason():
        merged = _as_sequential(merged, network, budget, deadline, stats, stop)
    return merged


def _as_sequential(merged: EvaluatedRegions, network: ExactRNN, budget: Budget,
                   deadline: float | None, stats: SolverStats, stop: StopCheck | None) -> EvaluatedRegions:
    """The search state a sequential run stopped by `--max-regions` reports (the region past
    the budget, the branches left pending, the nodes walked): the search alone, without
    claims, re-run up to that region. Kept only if it stops where the merge did."""
    search = RegionSearch(network, stats, budget=replace(budget, deadline_at=deadline), should_stop=stop)
    for _ in search.run():
        pass
    if search.state.stop_reason != budget.region_reason() or search.state.regions != len(merged.outcomes):
        return merged
    return replace(merged, state=search.state)


def _split_leftovers(split: Split, network: ExactRNN) -> list[SubtreeResult]:
    """The subtrees the split search left undecided, as results with no region."""
    reason = split.state.stop_reason or "the solver answered unknown on a region query"
    leftovers = []
    for text in split.state.undecided_prefixes:
        state = SearchState(stop_reason=reason, undecided_prefixes=[text])
        prefix = parse_pattern(text.split(" (")[0])
        leftovers.append(SubtreeResult(prefix, EvaluatedRegions([], [], [], state), SolverStats()))
    return leftovers


def undecided(task: SubtreeTask, reason: str) -> SubtreeResult:
    """A subtree nothing is known about (not run, stopped, or its worker died)."""
    text = pattern_text(task.prefix, task.network.hidden_size)
    state = SearchState(stop_reason=reason, undecided_prefixes=[text])
    return SubtreeResult(task.prefix, EvaluatedRegions([], [], [], state), SolverStats())


def region_source(jobs: int, *, on_region: Callable[[int, int], None] | None = None,
                  stop: StopCheck | None = None, should_stop: StopCheck | None = None,
                  cpus: int | None = None) -> ParallelRegions | None:
    """The source for `check_model(region_source=...)`; None (sequential) for one job.

    `stop` is the run's StopFlag (`should_stop`, any callable giving a reason, is its older name).
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    return None if jobs == 1 else ParallelRegions(jobs, on_region, stop if stop is not None else should_stop, cpus)
