"""Dask: regions per second on this machine, scheduling overhead, and a simulated large cluster.

    python bench/bench_distributed.py rates [MODEL]        (default models/trained_4_3.pth)
    python bench/bench_distributed.py measure MODEL OUT    per-region times of one sequential search, as JSON
    python bench/bench_distributed.py simulate [TIMES]     (default bench/distributed_times_speed_16_3.json)
        [--workers 8 32 128] [--slices 0.5] [--policy 2 0.1] [--scale 1.0]

`rates`: regions per second with the subtrees in this process and on a local Dask cluster of
1 and 2 worker processes, and Dask's overhead per task (empty tasks). Prints a table.

`measure`: every region of one sequential search, in search order, with its activation
pattern and the seconds spent on it (the search's steps to it plus its claim and measures).
A subtree's time is the sum over the regions below its prefix, so any split can be replayed.

`simulate`: those times replayed through Dask's real scheduler: an in-process `Scheduler` with
W `Worker`s of one thread each (`LocalCluster(processes=False)`), whose tasks sleep for the
recorded time of their subtree (plus the measured cost of a task: walking its prefix, a fresh
solver) times `--scale`. Each task starts from the split `--jobs W` would use ("fixed": about
8 subtrees per worker, at whole steps) or from the first step only ("1 step"). With a time
slice (`--slices`, in recorded seconds) a task sleeps only until its slice is used up (after
a whole region, as a real task splits) and hands back the rest of its subtree as new prefixes
(verify.check.parallel's `rest_of_subtree`), which the driver submits as new tasks, shallowest
first: the work stealing of `--jobs` / `--scheduler`. `--policy B H` is verify's SplitPolicy:
slice H while fewer than 2 tasks per worker are out, else B. Per row: workers, start, slice,
tasks run, makespan (recorded seconds, i.e. replayed / scale), speed-up over the sum of all
region times, efficiency (speed-up / workers), the makespan of the same tasks list-scheduled
with no scheduler overhead ("no-overhead", no Dask), the ideal max(sum / workers, longest
region) and that bound with the row's task costs added. Dask's per-task overhead is real and
not scaled, so a small `--scale` overstates it; in-process workers share one event loop and
the GIL, so many of them on few cores overstate it too.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import sys
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.check.distributed import Scheduler, SubtreeRegions
from verify.check.parallel import HUNGRY_TASKS, TASKS_PER_JOB, SubtreeTask, rest_of_subtree, run_subtree
from verify.check.pipeline import CheckOptions, check_model, evaluate_region
from verify.check.regions import RegionSearch
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.smt.solver import ExactSolver, QueryLimits, SolverStats

EMPTY_TASKS = 500
OVERHEAD_EVERY = 10
DEFAULT_TIMES = Path("bench/distributed_times_speed_16_3.json")
Bits = tuple[bool, ...]
SplitSlice = float  # recorded seconds a task runs before it splits (0: never)


def _noop(i: int) -> int:
    return i


def rates(model: Path) -> None:
    from distributed import Client, LocalCluster

    weights = load_weights(model)
    options = CheckOptions(estimate_samples=0)
    print(f"{model.name}: subtrees run where, regions, seconds, regions/s")
    for label, scheduler in [("this process", None), ("local:1", Scheduler(None, 1)), ("local:2", Scheduler(None, 2))]:
        source = SubtreeRegions(scheduler, split_jobs=2)
        start = time.perf_counter()
        result = check_model(weights, options, region_source=source)
        seconds = time.perf_counter() - start
        print(f"  {label:13s} {len(result.regions):6d} {seconds:8.2f} {len(result.regions) / seconds:8.1f}"
              + ("  (includes starting the cluster)" if scheduler else ""))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            client.gather(client.map(_noop, range(10)))  # warm
            start = time.perf_counter()
            client.gather(client.map(_noop, range(EMPTY_TASKS), pure=False))
            per_task = (time.perf_counter() - start) / EMPTY_TASKS
    print(f"scheduling overhead: {1000 * per_task:.2f} ms per empty task ({EMPTY_TASKS} tasks, 2 workers)")


def measure(model: Path, out: Path) -> None:
    """One sequential search of `model`, timing each region (search steps to it + its evaluation)."""
    weights = load_weights(model)
    network = ExactRNN.from_weights(weights)
    options = CheckOptions(estimate_samples=0)
    stats = SolverStats()
    search = RegionSearch(network, stats, timeout_ms=options.timeout_ms)
    solver = None
    regions = []
    start = last = time.perf_counter()
    for region in search.run():
        limits = QueryLimits(options.timeout_ms, search.deadline, options.budget.clock)
        if solver is None:
            solver = ExactSolver(network.seq_len, stats, limits=limits)
        evaluate_region(region, options, stats, limits=limits, solver=solver)
        now = time.perf_counter()
        bits = "".join("1" if b else "0" for step in region.pattern for b in step)
        regions.append([bits, round(now - last, 6)])
        last = now
    assert search.state.complete, "the search must complete to be replayed"
    seconds = time.perf_counter() - start
    # What a task costs beyond its regions: walking its prefix from the root, a fresh solver, the
    # copy of the network. Timed on every OVERHEAD_EVERY-th region as a one-region task.
    extra = []
    for bits, spent in regions[::OVERHEAD_EVERY]:
        prefix = tuple(ch == "1" for ch in bits)
        task_start = time.perf_counter()
        run_subtree(SubtreeTask(network, options, prefix, None))
        extra.append(max(0.0, time.perf_counter() - task_start - spent))
    overhead = sorted(extra)[len(extra) // 2]
    out.write_text(json.dumps({
        "model": str(model), "hidden_size": network.hidden_size, "seq_len": network.seq_len,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "python": platform.python_version(),
        "load_average": [round(v, 2) for v in os.getloadavg()], "seconds": round(seconds, 3),
        "task_overhead_seconds": round(overhead, 6), "regions": regions}, indent=0) + "\n")
    print(f"{model}: {len(regions)} regions, {seconds:.1f} s, {1000 * overhead:.1f} ms per task beyond its regions "
          f"(median of {len(extra)}) -> {out}")


@dataclass(frozen=True)
class Recorded:
    """The regions of one search in search order, with their seconds: any subtree's time by prefix."""

    keys: list[tuple[bool, ...]]  # each region's pattern, as a sort key in search order (active first)
    bits: list[Bits]
    seconds: list[float]
    d: int
    n: int
    task_overhead: float  # seconds a task costs beyond its regions

    @classmethod
    def load(cls, path: Path) -> "Recorded":
        data = json.loads(path.read_text())
        bits = [tuple(ch == "1" for ch in text) for text, _ in data["regions"]]
        return cls([tuple(not b for b in r) for r in bits], bits, [float(s) for _, s in data["regions"]],
                   int(data["hidden_size"]), int(data["seq_len"]), float(data["task_overhead_seconds"]))

    def below(self, prefix: Bits) -> range:
        """Indices of the regions below `prefix` (contiguous in search order)."""
        key = tuple(not b for b in prefix)
        return range(bisect_left(self.keys, key), bisect_right(self.keys, key + (True,) * (len(self.bits[0]) - len(key))))

    def split(self, workers: int, max_steps: int | None = None) -> list[Bits]:
        """The prefixes `--jobs workers` starts from: whole steps, about TASKS_PER_JOB per worker
        (at most `max_steps` steps)."""
        target = TASKS_PER_JOB * workers
        prefixes: list[Bits] = []
        for steps in range(1, min(self.n, max_steps or self.n) + 1):
            prefixes = list(dict.fromkeys(b[: steps * self.d] for b in self.bits))
            if len(prefixes) >= target:
                break
        return prefixes


def slice_of(recorded: Recorded, prefix: Bits, slice_seconds: float) -> tuple[float, tuple[Bits, ...]]:
    """What one task on `prefix` does: its recorded seconds until the slice is used up (whole
    regions, at least one), and the rest of its subtree as new prefixes (none if it finished)."""
    spent = 0.0
    rows = recorded.below(prefix)
    for i in rows:
        spent += recorded.seconds[i]
        if slice_seconds and spent >= slice_seconds and i + 1 < rows.stop:
            return spent, rest_of_subtree(recorded.bits[i], len(prefix))
    return spent, ()


def _sleep_task(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def replay(recorded: Recorded, workers: int, slice_seconds: float, scale: float,
           max_steps: int | None, hungry_seconds: float | None = None) -> tuple[float, int]:
    """Makespan (scaled back to recorded seconds) and task count of one replay on `workers`.
    With `hungry_seconds`, a task submitted while fewer than HUNGRY_TASKS tasks per worker are
    out gets that (shorter) slice instead, as verify's SplitPolicy does."""
    from distributed import Client, LocalCluster, as_completed

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=":0",
                      memory_limit=0) as cluster:  # in-process workers share one process's memory
        with Client(cluster) as client:
            client.wait_for_workers(workers)
            start = time.perf_counter()
            futures: dict[Any, tuple[Bits, ...]] = {}
            tasks = 0

            def submit(batch: list[Bits]) -> list[Any]:
                """As verify submits: the batch counts as out for the policy; shallower first."""
                nonlocal tasks
                hungry = hungry_seconds is not None and len(futures) + len(batch) < HUNGRY_TASKS * workers
                new = []
                for prefix in batch:
                    spent, frontier = slice_of(recorded, prefix, hungry_seconds if hungry else slice_seconds)
                    future = client.submit(_sleep_task, (recorded.task_overhead + spent) * scale, pure=False,
                                           priority=-len(prefix))
                    futures[future] = frontier
                    new.append(future)
                tasks += len(batch)
                return new

            pending = as_completed(submit(recorded.split(workers, max_steps)))
            for future in pending:
                future.result()
                pending.update(submit(list(reversed(futures.pop(future)))))
            return (time.perf_counter() - start) / scale, tasks


def list_schedule(recorded: Recorded, workers: int, slice_seconds: float, max_steps: int | None,
                  hungry_seconds: float | None = None) -> float:
    """The same tasks on an ideal scheduler (no overhead of its own): each free worker takes the
    shallowest ready task; a task's frontier is ready when it ends. Makespan in recorded seconds."""
    ready: list[tuple[int, int, Bits, SplitSlice]] = []
    running: list[tuple[float, int, tuple[Bits, ...]]] = []
    order = 0

    def add(batch: list[Bits]) -> None:
        nonlocal order
        hungry = hungry_seconds is not None and len(ready) + len(running) + len(batch) < HUNGRY_TASKS * workers
        for prefix in batch:
            heapq.heappush(ready, (len(prefix), order, prefix, hungry_seconds if hungry else slice_seconds))
            order += 1

    add(recorded.split(workers, max_steps))
    now = 0.0
    while ready or running:
        while ready and len(running) < workers:
            _, seq, prefix, rule = heapq.heappop(ready)
            spent, frontier = slice_of(recorded, prefix, rule)
            heapq.heappush(running, (now + recorded.task_overhead + spent, seq, frontier))
        now, _, frontier = heapq.heappop(running)
        add(list(reversed(frontier)))
    return now


def simulate(path: Path, workers: list[int], slices: list[float], policy: list[float], scale: float) -> None:
    recorded = Recorded.load(path)
    total, longest = sum(recorded.seconds), max(recorded.seconds)
    print(f"{path}: {len(recorded.bits)} regions, {total:.1f} s summed, longest region {longest:.2f} s, "
          f"{1000 * recorded.task_overhead:.0f} ms per task beyond its regions; sleeps scaled by {scale:g}; "
          "Dask's real scheduler, in-process workers of one thread")
    print("start: 'fixed' = the split --jobs W makes (about 8 subtrees per worker, at whole steps); "
          "'1 step' = only the first step's subtrees, refined by work stealing")
    print(f"slice 'B/H': the policy, slice B while {HUNGRY_TASKS}+ tasks per worker are out, else H")
    print("ideal: max(sum / workers, longest region); bound: the same with this row's tasks' overhead added")
    print("no-overhead s: the same tasks list-scheduled without any scheduler overhead (no Dask)")
    print(f"{'workers':>7} {'start':>6} {'slice s':>9} {'tasks':>6} {'makespan s':>10} {'speed-up':>8} "
          f"{'effic.':>6} {'no-overhead s':>13} {'ideal s':>8} {'bound s':>8} {'biggest first task s':>20}")
    rows: list[tuple[int | None, float, float | None]] = [(None, 0.0, None), (None, policy[0], policy[1])]
    rows += [(1, s, None) for s in slices] + [(1, policy[0], policy[1])]
    for w in workers:
        for max_steps, slice_seconds, hungry in rows:
            first = recorded.split(w, max_steps)
            biggest = max(sum(recorded.seconds[i] for i in recorded.below(p)) for p in first)
            makespan, tasks = replay(recorded, w, slice_seconds, scale, max_steps, hungry)
            listed = list_schedule(recorded, w, slice_seconds, max_steps, hungry)
            ideal = max(total / w, longest)
            bound = max((total + tasks * recorded.task_overhead) / w, longest + recorded.task_overhead)
            label = "fixed" if max_steps is None else f"{max_steps} step"
            rule = f"{slice_seconds:g}" + (f"/{hungry:g}" if hungry is not None else "")
            print(f"{w:7d} {label:>6} {rule:>9} {tasks:6d} {makespan:10.2f} {total / makespan:8.1f} "
                  f"{total / makespan / w:6.0%} {listed:13.2f} {ideal:8.2f} {bound:8.2f} {biggest:20.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    p_rates = sub.add_parser("rates")
    p_rates.add_argument("model", nargs="?", default="models/trained_4_3.pth")
    p_measure = sub.add_parser("measure")
    p_measure.add_argument("model")
    p_measure.add_argument("out")
    p_sim = sub.add_parser("simulate")
    p_sim.add_argument("times", nargs="?", default=str(DEFAULT_TIMES))
    p_sim.add_argument("--workers", type=int, nargs="+", default=[8, 32, 128])
    p_sim.add_argument("--slices", type=float, nargs="+", default=[0.5])
    p_sim.add_argument("--policy", type=float, nargs=2, default=[2.0, 0.1], metavar=("BUSY", "HUNGRY"))
    p_sim.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(sys.argv[1:] or ["rates"])
    if args.command == "measure":
        measure(Path(args.model), Path(args.out))
    elif args.command == "simulate":
        simulate(Path(args.times), args.workers, args.slices, args.policy, args.scale)
    else:
        rates(Path(getattr(args, "model", "models/trained_4_3.pth")))


if __name__ == "__main__":
    main()
