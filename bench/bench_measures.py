"""Benchmark: certified error rates for n = 4 and 5 (issue 14) against the sampling they replace.

For trained models of hidden size d and sequence length n (seeded, AlgZoo-style recipe, trained
here), one table row each: regions, measured cones, simplicial cones integrated and the time per
simplex, the whole exact check's wall time, the certified error rate and the width of its
enclosure; then, in the same run, a Monte Carlo estimate on the real float32 model (default 10^7
samples) with its z-score against the certified value, and the sampling time needed for a 10% and
a 1% relative standard error, N = (1 - p) / (p r^2), at the throughput measured in this run.
"exact first" says whether the certified value arrived before sampling would reach 10%.

    python bench/bench_measures.py [--sizes 2x4,3x4,4x4,2x5,3x5,4x5] [--steps 400] [--samples 1e7]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_n3 import train  # noqa: E402 - the same seeded recipe as the n = 3 bench

import verify.geometry.orthant as orthant  # noqa: E402
from verify.check.pipeline import CheckOptions, check_model  # noqa: E402
from verify.check.regions import Budget  # noqa: E402
from verify.check.sampling import sample_error_rate  # noqa: E402


class SimplexCounter:
    """Counts the simplicial cones integrated and their CPU time (wraps orthant.simplicial_measure)."""

    def __init__(self) -> None:
        self.count, self.seconds, self.uncertified = 0, 0.0, 0
        self._inner = orthant.simplicial_measure

    def __call__(self, rays):  # noqa: ANN001, ANN204
        start = time.process_time()
        result = self._inner(rays)
        self.seconds += time.process_time() - start
        self.count += 1
        self.uncertified += result is None
        return result


def row(d: int, n: int, steps: int, samples: int, budget: float) -> dict[str, object]:
    weights = train(d, n, seed=0, steps=steps)
    counter = SimplexCounter()
    orthant.simplicial_measure = counter  # solid.py imports it at call time
    try:
        start = time.perf_counter()
        result = check_model(weights, CheckOptions(budget=Budget(time_budget=budget), estimate_samples=0))
        wall = time.perf_counter() - start
    finally:
        orthant.simplicial_measure = counter._inner
    out: dict[str, object] = {
        "model": f"trained d={d} n={n}", "regions": len(result.regions), "cones": len(result.cones),
        "simplices": counter.count, "ms/simplex": 1000 * counter.seconds / max(1, counter.count),
        "uncertified": counter.uncertified, "check s": wall, "complete": result.search.complete,
    }
    if result.error is None:
        out.update({"error": "none (incomplete or uncertified)", "width": "", "method": ""})
        return out
    p = float(result.error.value)
    out.update({"error": f"{p:.10g}", "width": f"{float(result.error.upper - result.error.lower):.1e}",
                "method": result.error.method})
    estimate = sample_error_rate(weights, samples, seed=1)
    rate = estimate.samples / estimate.seconds
    se = math.sqrt(p * (1 - p) / estimate.samples)
    out["MC"] = f"{estimate.rate:.6f} (z = {(estimate.rate - p) / se:+.2f})"
    for r in (0.1, 0.01):
        out[f"sampling to {r:.0%} s"] = (1 - p) / (p * r * r) / rate if p > 0 else float("inf")
    out["exact first"] = "yes" if wall <= out["sampling to 10% s"] else "no"  # type: ignore[operator]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2x4,3x4,4x4,2x5,3x5,4x5")
    parser.add_argument("--steps", type=int, default=400, help="training steps of 1024 sequences")
    parser.add_argument("--samples", type=float, default=1e7)
    parser.add_argument("--budget", type=float, default=1800.0, help="time budget of each exact check (s)")
    args = parser.parse_args()
    print(f"# bench_measures, {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    rows = []
    for size in args.sizes.split(","):
        d, n = (int(v) for v in size.split("x"))
        rows.append(row(d, n, args.steps, int(args.samples), args.budget))
        print(rows[-1], flush=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in (r.get(k, "") for k in keys)]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
