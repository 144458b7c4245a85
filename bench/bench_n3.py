"""Benchmark: the exact check of sequence-length-3 models vs the Monte Carlo sampling needed to match it.

Rows: every bundled models/*.pth with n = 3, plus models of (d, n) = (2, 3), (3, 3), (4, 3)
trained here (seeded, AlgZoo-style recipe, a few thousand steps) for sizes not bundled, plus the
real M_{16,10} under a time budget (verdict unknown or refuted, regions done, checks, seconds).
For each model: regions, solver checks and wall time of the whole exact check; then, in the same
run, the samples for a 10% relative standard error on the exact error rate p,
N = (1 - p) / (0.1^2 p), and the time the real float32 model takes on them (by running them),
and the samples that would match the exact method's rigorous error bound.

    python bench/bench_n3.py [--steps 3000] [--budget 60] [MODEL.pth ...]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from mpmath import mpf

from verify.check.pipeline import CheckOptions, check_model
from verify.formats.torch_model import SecondArgmaxRNN
from verify.corpus.handcrafted import weights_of
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.check.regions import Budget
from verify.check.sampling import kth_argmax_targets, sample_error_rate

ALGZOO_16_10 = "models/algzoo/example_2nd_argmax_16_10.pth"
SIZES = [(2, 3), (3, 3), (4, 3)]


def train(hidden: int, seq_len: int, *, seed: int, steps: int) -> ModelWeights:
    """AdamW, lr 0.04/sqrt(d), weight decay 1e-3, batch 1024, 5% linear warm-up then decay to 0.01x."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    module = SecondArgmaxRNN(hidden, seq_len)
    lr = 0.04 / math.sqrt(hidden)
    optimiser = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=0.001)
    warm = max(1, steps // 20)
    for step in range(steps):
        factor = (step + 1) / warm if step < warm else 0.01 ** ((step - warm) / max(1, steps - warm))
        for group in optimiser.param_groups:
            group["lr"] = lr * factor
        x = torch.randn(1024, seq_len, generator=generator)
        loss = torch.nn.functional.cross_entropy(module(x), kth_argmax_targets(x, 2))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    state = module.state_dict()
    return weights_of(state["rnn.weight_ih_l0"].numpy(), state["rnn.weight_hh_l0"].numpy(),
                      state["linear.weight"].numpy(), path=f"bench_trained_{hidden}_{seq_len}_seed{seed}")


def bench(weights: ModelWeights, budget: float | None = None) -> dict[str, object]:
    options = CheckOptions(budget=Budget(time_budget=budget))
    start = time.perf_counter()
    result = check_model(weights, options)
    row: dict[str, object] = {
        "model": Path(weights.path).name,
        "size": f"({weights.hidden_size},{weights.seq_len})",
        "verdict": result.verdict.word,
        "regions": len(result.regions),
        "complete": result.search.complete,
        "checks": result.stats.checks,
        "cex": f"{len(result.counterexamples)} ({sum(c.float32_confirmed for c in result.counterexamples)})",
        "exact_s": time.perf_counter() - start,
        "error": float(result.error.value) if result.error is not None else float("nan"),
        "bound": float(result.error.radius) if result.error is not None else float("nan"),
    }
    if result.error_estimate is not None:
        row["estimate"] = (result.error_estimate.rate, result.error_estimate.standard_error)
    p = row["error"]
    if result.error is not None and p > 0:  # type: ignore[operator]
        n10 = math.ceil((1 - p) / (0.01 * p))  # type: ignore[operator]
        est = sample_error_rate(weights, max(n10, 1000), seed=1)
        row.update(samples_10pct=n10, sampling_s=est.seconds * n10 / est.samples, sampled=est.rate,
                   sampled_se=est.standard_error, samples_per_s=est.samples_per_second)
        bound = result.error.radius if result.error.radius > 0 else mpf("1e-60")
        n_exact = mpf(p) * (1 - mpf(p)) / bound**2  # type: ignore[arg-type]
        row.update(samples_exact=float(n_exact), years_exact=float(n_exact / est.samples_per_second / 3.15e7))
    return row


def print_row(r: dict[str, object]) -> None:
    head = (f"| {r['model']} | {r['size']} | {r['verdict']} | {r['regions']}{'' if r['complete'] else ' (partial)'} | "
            f"{r['checks']} | {r['cex']} | {r['exact_s']:.2f} | ")
    if "samples_10pct" in r:
        tail = (f"{r['error']:.10g} (+- {r['bound']:.1e}) | {r['samples_10pct']:,} | {r['sampling_s']:.1e} | "
                f"{r['sampled']:.4g} +- {r['sampled_se']:.1g} | {r['samples_exact']:.1e} (~{r['years_exact']:.1e} years) |")
    elif "estimate" in r:
        rate, se = r["estimate"]  # type: ignore[misc]
        tail = f"ESTIMATE {rate:.4g} +- {se:.1g} (Monte Carlo, not exact) | - | - | - | - |"
    else:
        tail = f"{r['error']:.6g} | n/a (error 0) | - | - | - |"
    print(head + tail, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="extra .pth models")
    parser.add_argument("--steps", type=int, default=3000, help="training steps for the models trained here")
    parser.add_argument("--seed", type=int, default=0, help="training seed for the models trained here")
    parser.add_argument("--budget", type=float, default=60.0, help="time budget (s) for M_{16,10}")
    parser.add_argument("--no-large", action="store_true", help="skip M_{16,10}")
    args = parser.parse_args()
    models: list[ModelWeights] = [load_weights(p) for p in args.models]
    bundled = [load_weights(p) for p in sorted(Path("models").glob("*.pth"))]
    models += [w for w in bundled if w.seq_len == 3]
    have = {(w.hidden_size, w.seq_len) for w in models}
    torch.set_num_threads(1)
    for d, n in SIZES:
        if (d, n) not in have:
            start = time.perf_counter()
            models.append(train(d, n, seed=args.seed, steps=args.steps))
            print(f"(trained {models[-1].path} in {time.perf_counter() - start:.1f} s, {args.steps} steps)", flush=True)
    print("| model | (d,n) | verdict | regions | solver checks | counterexamples (float32-confirmed) | exact check (s) | exact error rate (+- rigorous bound) | "
          "samples for 10% rel. s.e. | sampling time (s) | sampled rate +- s.e. | samples to match exact bound |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for weights in models:
        print_row(bench(weights))
    if not args.no_large and Path(ALGZOO_16_10).exists():
        print_row(bench(load_weights(ALGZOO_16_10), budget=args.budget))


if __name__ == "__main__":
    main()
