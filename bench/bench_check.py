"""Benchmark: the exact check of n = 2 models vs the Monte Carlo sampling needed to match it.

For each model: wall time of the whole exact check (regions, solver checks), then, in the same
run, the number of Gaussian samples for a 10% relative standard error on the same error rate,
N = (1 - p) / (0.1^2 p), and the time the real float32 model takes to evaluate them (measured
by running them), plus the samples that would match the exact method's rigorous error bound.

    python bench/bench_check.py [MODEL.pth ...]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from mpmath import mpf

from verify.check.pipeline import check_model
from verify.formats import load_weights
from verify.check.sampling import sample_error_rate

DEFAULT_MODELS = ["models/algzoo/2nd_argmax_2_2.pth", "models/handcrafted_2_2.pth"]


def bench(path: str, repeats: int = 3) -> dict[str, object]:
    weights = load_weights(path)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = check_model(weights)
        times.append(time.perf_counter() - start)
    row: dict[str, object] = {
        "model": Path(path).name,
        "verdict": result.verdict.word,
        "regions": len(result.regions),
        "checks": result.stats.checks,
        "exact_s": min(times),
        "error": float(result.error.value) if result.error is not None else float("nan"),
    }
    p = row["error"]
    if result.error is not None and p > 0:  # type: ignore[operator]
        n10 = math.ceil((1 - p) / (0.01 * p))  # type: ignore[operator]
        est = sample_error_rate(weights, n10, seed=1)
        row.update(samples_10pct=n10, sampling_s=est.seconds, sampled=est.rate,
                   sampled_se=est.standard_error, samples_per_s=est.samples_per_second)
        bound = result.error.radius if result.error.radius > 0 else mpf("1e-60")
        n_exact = mpf(p) * (1 - mpf(p)) / bound**2  # type: ignore[arg-type]
        row.update(samples_exact=float(n_exact), years_exact=float(n_exact / est.samples_per_second / 3.15e7))
    return row


def main(argv: list[str]) -> None:
    models = argv or DEFAULT_MODELS
    print("| model | verdict | regions | solver checks | exact check (s) | exact error rate | "
          "samples for 10% rel. s.e. | sampling time (s) | sampled rate +- s.e. | samples to match exact bound |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in models:
        r = bench(path)
        if "samples_10pct" in r:
            tail = (f"{r['samples_10pct']:,} | {r['sampling_s']:.2f} | {r['sampled']:.3g} +- {r['sampled_se']:.1g} | "
                    f"{r['samples_exact']:.1e} (~{r['years_exact']:.1e} years) |")
        else:
            tail = "n/a (error 0: no sample size gives a relative error) | - | - | - |"
        print(f"| {r['model']} | {r['verdict']} | {r['regions']} | {r['checks']} | {r['exact_s']:.3f} | "
              f"{r['error']:.6g} | " + tail)


if __name__ == "__main__":
    main(sys.argv[1:])
