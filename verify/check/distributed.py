"""`--scheduler local:N | tcp://HOST:PORT` and `--checkpoint DIR`: the subtrees of the region search
run as Dask tasks, or in this process, each finished one kept on disk.

The split, the merge and the budgets are `verify.check.parallel`'s, so the result is the one
`--jobs 1` gives. A task carries the exact network, the options, its prefix and the run's
deadline as wall-clock time (monotonic clocks differ between machines); workers need only this
package installed. Results are collected in the client by prefix, so a task the scheduler
re-runs after its worker died is counted once. A task that failed for good (Dask's
KilledWorker), a stop request, the deadline or a lost scheduler leaves the unfinished subtrees
undecided: the verdict is then "unknown", and every finished subtree stays in the checkpoint.

Dask is optional (the extra `distributed`); it is imported inside functions only.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from concurrent.futures import CancelledError
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from verify.check.checkpoint import Checkpoint, bits_text, finished, run_key
from verify.check.parallel import (DEFAULT_SPLIT, POLL_SECONDS, DEADLINE_GRACE, SplitRule, Splitting, StopCheck,
                                   SubtreeResult, SubtreeTask, assemble, rule_for, run_subtree, split_search, undecided)
from verify.check.pipeline import CheckOptions, EvaluatedRegions
from verify.core.errors import InputError
from verify.core.network import ExactRNN
from verify.smt.solver import SolverStats

EXTRA_HINT = "--scheduler needs Dask: install the extra 'distributed' (pip install 'relu-verify[distributed]')"
LOST_SCHEDULER = "the Dask scheduler was lost"
WORKER_DIED = "a worker process died"
CONNECT_SECONDS = 10.0  # to reach the scheduler; also how long Dask's client retries a vanished one
HUNGRY_NEVER = 1 << 30  # "tasks out" that no cluster counts as hungry
RECONNECT_SECONDS = 30.0  # how long the client may try to reach a vanished scheduler before the run gives up


def require_dask() -> None:
    """InputError (one line naming the extra) if dask.distributed cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(EXTRA_HINT) from exc


@dataclass(frozen=True)
class Scheduler:
    """Where the subtrees run: `local:N` (a LocalCluster of N worker processes) or a scheduler address."""

    address: str | None  # tcp://HOST:PORT (any Dask address); None for a local cluster
    local_workers: int = 0

    @classmethod
    def parse(cls, text: str) -> "Scheduler":
        if text.startswith("local:"):
            count = text[len("local:"):]
            if not count.isdigit() or int(count) < 1:
                raise InputError(f"--scheduler {text}: expected local:N with N a positive integer")
            return cls(None, int(count))
        if "://" not in text or text.endswith("://"):
            raise InputError(f"--scheduler {text}: expected local:N or a Dask address such as tcp://HOST:8786")
        return cls(text)


class _QuietDask:
    """Dask's own loggers silenced while a run uses it: a lost scheduler is this run's one-line
    stop reason, not the client's reconnect tracebacks on stderr. `restore` puts them back."""

    def __init__(self) -> None:
        names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
        self._levels = {name: logging.getLogger(name).level for name in names}
        for name in names:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)

    def restore(self) -> None:
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)


@dataclass(frozen=True)
class RemoteTask:
    """A subtree as sent to a Dask worker: everything it needs, by value."""

    network: ExactRNN
    options: CheckOptions
    prefix: tuple[bool, ...]
    wall_deadline: float | None  # time.time() at which the run's budget ends, or None
    split: SplitRule | None = None  # when the task hands the rest of its subtree back


def run_remote(task: RemoteTask) -> SubtreeResult:
    """Dask task: the subtree below `task.prefix`, stopping at the run's deadline on this machine's clock."""
    deadline = None
    if task.wall_deadline is not None:
        deadline = task.options.budget.clock() + (task.wall_deadline - time.time())
    return run_subtree(SubtreeTask(task.network, task.options, task.prefix, deadline, task.split))


Accept = Callable[[SubtreeResult], None]
Next = Callable[[], list[tuple[bool, ...]]]


@dataclass
class SubtreeRegions:
    """A `region_source` for `check_model`: the subtrees on Dask (`scheduler`) or in this process
    (None), with finished ones written to and read back from `checkpoint` (a folder), if given.

    `split_jobs` sizes the split (about 8 subtrees per job); a resumed checkpoint keeps its own.
    `split` is the work-stealing rule (or a SplitPolicy choosing one per task): a task still busy
    when it fires hands back the rest of its subtree as new prefixes, run as new tasks (None:
    each subtree in one task). In this process the policy's `busy` rule holds (a split there
    only makes the checkpoint finer).
    After a call, `resumed` and `computed` count the subtrees (and split parts) read back and run.
    """

    scheduler: Scheduler | None
    checkpoint: Path | None = None
    resume: bool = False
    split_jobs: int = 1
    on_region: Callable[[int, int], None] | None = None
    stop: StopCheck | None = None
    on_saved: Callable[[int], None] | None = None  # called with the number of subtrees saved so far
    split: Splitting = DEFAULT_SPLIT
    split_steps: int | None = None  # cap on the fixed split's depth (a coarse start; a checkpoint keeps its own)
    resumed: int = field(default=0, init=False)
    computed: int = field(default=0, init=False)

    def __call__(self, network: ExactRNN, options: CheckOptions, stats: SolverStats) -> EvaluatedRegions:
        budget = options.budget
        deadline = budget.deadline(budget.clock())
        store = None
        split_jobs, split_steps = self.split_jobs, self.split_steps
        if self.checkpoint is not None:
            store = Checkpoint.open(self.checkpoint, run_key(network, options), split_jobs, resume=self.resume,
                                    split_steps=split_steps)
            split_jobs, split_steps = store.split_jobs, store.split_steps
        split = split_search(network, split_jobs, stats, options=options, deadline=deadline, should_stop=self.stop,
                             max_steps=split_steps)
        done: dict[tuple[bool, ...], SubtreeResult] = {}
        known: list[tuple[bool, ...]] = list(split.prefixes)  # every subtree handed out, split parts' too
        queue: deque[tuple[bool, ...]] = deque(split.prefixes)
        saved_count = 0
        self.resumed = self.computed = 0

        def take(prefix: tuple[bool, ...], result: SubtreeResult) -> None:
            done[prefix] = result
            known.extend(result.frontier)
            queue.extend(reversed(result.frontier))  # shallowest (usually biggest) first

        def next_todo() -> list[tuple[bool, ...]]:
            """The queued subtrees to run; those the checkpoint holds are taken from it instead."""
            todo = []
            while queue:
                prefix = queue.popleft()
                saved = store.load(prefix) if store is not None and prefix not in done else None
                if saved is not None:
                    self.resumed += 1
                    take(prefix, SubtreeResult(prefix, saved.evaluated, saved.stats, saved.frontier))
                elif prefix not in done:
                    todo.append(prefix)
            return todo

        def accept(result: SubtreeResult) -> None:
            nonlocal saved_count
            if result.prefix in done:  # a retried task's second answer
                return
            self.computed += 1
            if store is not None and finished(result.evaluated):
                store.save(result.prefix, result.evaluated, result.stats, result.frontier)
                saved_count += 1
                if self.on_saved is not None:
                    self.on_saved(saved_count)
            take(result.prefix, result)
            self._report(done, stats)

        reason = self._stop_reason()
        todo = next_todo()
        if todo and not reason:
            if self.scheduler is None:
                reason = self._run_here(network, options, todo, deadline, accept, next_todo)
            else:
                reason = self._run_dask(network, options, todo, deadline, accept, next_todo)
        results = [done[p] if p in done else undecided(SubtreeTask(network, options, p, deadline),
                                                       reason or "interrupted")
                   for p in dict.fromkeys(known)]
        return assemble(results, split, network, budget, deadline, stats, self.stop)

    def _run_here(self, network: ExactRNN, options: CheckOptions, todo: list[tuple[bool, ...]],
                  deadline: float | None, accept: Accept, next_todo: Next) -> str:
        while todo:
            for prefix in todo:
                reason = self._stop_reason()
                if reason:
                    return reason
                rule = rule_for(self.split, HUNGRY_NEVER, 1)
                accept(run_subtree(SubtreeTask(network, options, prefix, deadline, rule)))
            todo = next_todo()
        return ""

    def _run_dask(self, network: ExactRNN, options: CheckOptions, todo: list[tuple[bool, ...]],
                  deadline: float | None, accept: Accept, next_todo: Next) -> str:
        """Submit every subtree (and every split part's frontier as it comes back), accept results
        as they come; the reason the rest stayed undone ("" if none)."""
        from distributed import Client, LocalCluster

        assert self.scheduler is not None
        budget = options.budget
        wall_deadline = None if deadline is None else time.time() + (deadline - budget.clock())
        cluster: Any = None
        client: Any = None
        quiet = _QuietDask()
        try:
            if self.scheduler.address is None:
                try:
                    cluster = LocalCluster(n_workers=self.scheduler.local_workers, threads_per_worker=1,
                                           processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
                except RuntimeError as exc:
                    raise InputError(f"--scheduler local:{self.scheduler.local_workers}: cannot start the local "
                                     f"Dask cluster ({exc})") from exc
                client = Client(cluster)
            else:
                try:
                    client = Client(self.scheduler.address, timeout=CONNECT_SECONDS)
                except (OSError, TimeoutError) as exc:
                    raise InputError(f"--scheduler {self.scheduler.address}: cannot connect ({exc})") from exc
            run = uuid.uuid4().hex[:12]
            pending: set[Any] = set()

            def submit(prefixes: list[tuple[bool, ...]]) -> None:
                workers = self.scheduler.local_workers if self.scheduler and self.scheduler.local_workers else 0
                if prefixes and not workers:  # a remote cluster: its threads now (workers may come and go)
                    workers = sum(client.nthreads().values())
                rule = rule_for(self.split, len(pending) + len(prefixes), workers)  # the batch counts as out
                for p in prefixes:
                    pending.add(client.submit(run_remote, RemoteTask(network, options, p, wall_deadline, rule),
                                              key=f"verify-subtree-{run}-{bits_text(p)}", pure=False,
                                              priority=-len(p)))  # shallower subtrees (bigger) first

            submit(todo)
            died = False
            connected_at = time.monotonic()
            while pending:
                ready = [f for f in pending if f.done()]
                if not ready:
                    time.sleep(POLL_SECONDS)
                lost = False
                for future in ready:
                    pending.discard(future)
                    if future.status == "finished":
                        try:
                            result = future.result(timeout=RECONNECT_SECONDS)
                        except (CancelledError, OSError, TimeoutError):  # done, but its data went with the scheduler
                            lost = True
                            continue
                        accept(result)
                    elif future.status == "error":
                        error = future.exception()
                        if type(error).__name__ != "KilledWorker":
                            raise error  # the subtree's own failure, as the sequential search would raise it
                        died = True  # its workers kept dying past Dask's allowed failures: left undecided
                    elif future.status in ("pending", "lost"):  # finished, then its worker died: Dask redoes it
                        pending.add(future)
                    else:  # cancelled: nobody here cancels a task, so the scheduler is gone
                        lost = True
                reason = self._stop_reason()
                if client.status == "running":
                    connected_at = time.monotonic()
                if not reason and (lost or client.status not in ("running", "connecting")
                                   or time.monotonic() - connected_at > RECONNECT_SECONDS):
                    reason = LOST_SCHEDULER
                if not reason and deadline is not None and budget.clock() > deadline + DEADLINE_GRACE:
                    reason = budget.time_reason()
                if reason:
                    for future in pending:
                        future.cancel()
                    return reason
                submit(next_todo())
            return WORKER_DIED if died else ""
        except OSError:
            return LOST_SCHEDULER
        finally:
            if client is not None:
                try:
                    client.close(timeout=5)
                except Exception:  # noqa: BLE001  # closing a broken connection: nothing left to keep
                    pass
            if cluster is not None:
                try:
                    cluster.close(timeout=10)
                except Exception:  # noqa: BLE001
                    pass
            quiet.restore()

    def _stop_reason(self) -> str:
        return (self.stop() or "") if self.stop is not None else ""

    def _report(self, done: dict[tuple[bool, ...], SubtreeResult], stats: SolverStats) -> None:
        if self.on_region is not None:
            regions = sum(len(r.evaluated.outcomes) for r in done.values())
            self.on_region(regions, stats.checks + sum(r.stats.checks for r in done.values()))
