"""Benchmark: `--jobs N` speed-up of the exact check, and a check that the results are identical.

For each model: wall time of `check_model` with 1 job and with N jobs (best of `--repeats`),
the speed-up, and whether the JSON verdict sections (the report less "solver" and "timing")
are byte-identical, and how many worker processes `--jobs N` started (at most one per subtree
and per logical CPU). Measured speed-ups need idle cores; so the script also times every subtree
of the split on its own and replays the pool's first-in-first-out schedule for 2, 4, 8 and 16
workers: the speed-up the split allows on an idle machine with that many cores (the serial
parts, the split search and the post-processing, included). Models are random Gaussian M_{d,n} (seeded), big enough to have many
regions, plus the real M_{2,2} as a small-model baseline where process start-up dominates.
The machine's core count bounds the speed-up; say which machine gave the numbers.

    python bench/bench_jobs.py [--jobs 2 4] [--repeats 1] [--models 4x3:0 3x4:1 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from verify.check.pipeline import CheckOptions, check_model
from verify.corpus.handcrafted import weights_of
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.check.parallel import SubtreeTask, merge, region_source, run_subtree, split_prefixes
from verify.check.regions import Budget
from verify.smt.solver import SolverStats
from verify.render.json_report import build_report, dumps

DEFAULT_MODELS = ["m22", "4x3:0", "3x4:2", "5x3:1"]


def model(spec: str) -> ModelWeights:
    if spec == "m22":
        return load_weights("models/algzoo/2nd_argmax_2_2.pth")
    shape, seed = spec.split(":")
    d, n = (int(v) for v in shape.split("x"))
    rng = np.random.default_rng(int(seed))
    return weights_of(rng.standard_normal(d), rng.standard_normal((d, d)), rng.standard_normal((n, d)),
                      path=f"random M_{{{d},{n}}} seed {seed}")


def timed(weights: ModelWeights, jobs: int, repeats: int) -> tuple[float, str, int, int]:
    """Best wall time, JSON verdict sections, regions, and worker processes started (0: sequential)."""
    best, sections, regions, workers = float("inf"), "", 0, 0
    for _ in range(repeats):
        source = region_source(jobs)
        start = time.perf_counter()
        result = check_model(weights, CheckOptions(), region_source=source)
        best = min(best, time.perf_counter() - start)
        report = build_report(result)
        report.pop("solver"), report.pop("timing")
        sections, regions = dumps(report), len(result.regions)
        workers = len(source.worker_pids) if source is not None else 0
    return best, sections, regions, workers


def fifo_makespan(durations: list[float], workers: int) -> float:
    """When the last task ends if `workers` processes take tasks in order as they free up."""
    free = [0.0] * workers
    for seconds in durations:
        k = free.index(min(free))
        free[k] += seconds
    return max(free)


def predicted_speedups(weights: ModelWeights, workers: list[int]) -> list[float]:
    """Sequential-equivalent time over the FIFO-scheduled time, all parts measured back to back."""
    network = ExactRNN.from_weights(weights)
    measured: dict[tuple[tuple[bool, ...], ...], tuple[float, list[float], float]] = {}
    result = []
    for w in workers:
        start = time.perf_counter()
        split = tuple(split_prefixes(network, w, SolverStats()))
        serial = time.perf_counter() - start
        if split not in measured:
            durations, parts = [], []
            for prefix in split:
                start = time.perf_counter()
                parts.append(run_subtree(SubtreeTask(network, CheckOptions(), prefix, None)))
                durations.append(time.perf_counter() - start)
            start = time.perf_counter()  # the parent's own work: merge, counterexamples, totals
            check_model(weights, CheckOptions(), region_source=lambda *_: merge(parts, len(split[0]), Budget()))
            measured[split] = (serial, durations, time.perf_counter() - start)
        serial, durations, post = measured[split]
        result.append((serial + sum(durations) + post) / (serial + fifo_makespan(durations, w) + post))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    ideal = [2, 4, 8, 16]
    head = "| model | regions | 1 job (s) | " + " | ".join(f"{j} jobs (s) | processes | speed-up | identical"
                                                       for j in args.jobs)
    head += " | " + " | ".join(f"split allows @{w}" for w in ideal) + " |"
    print(head)
    print("|" + "---|" * (3 + 4 * len(args.jobs) + len(ideal)))
    for spec in args.models:
        weights = model(spec)
        base, sections, regions, _ = timed(weights, 1, args.repeats)
        cells = [weights.path.split("/")[-1], str(regions), f"{base:.2f}"]
        for jobs in args.jobs:
            seconds, other, _, workers = timed(weights, jobs, args.repeats)
            cells += [f"{seconds:.2f}", str(workers), f"{base / seconds:.2f}x", "yes" if other == sections else "NO"]
        cells += [f"{s:.2f}x" for s in predicted_speedups(weights, ideal)]
        print("| " + " | ".join(cells) + " |", flush=True)
    print(json.dumps({"note": "identical = byte-identical JSON verdict sections (report less solver and timing)"}))


if __name__ == "__main__":
    main()
