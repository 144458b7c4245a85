"""Benchmark: training steps/s (AlgZoo recipe, 1 CPU thread, batch 1024) and Monte Carlo samples/s.

Both use the same forward pass (verify.formats.torch_model.SecondArgmaxRNN). For each (d, n): wall time of
`steps` training steps (after one warm-up run, so torch's lazy start-up is not counted), then
the samples/s of `verify.check.sampling.sample_error_rate` on the trained weights.

    python bench/bench_train.py [STEPS]
"""

from __future__ import annotations

import sys

from verify.corpus.handcrafted import weights_of
from verify.check.sampling import sample_error_rate
from verify.corpus.training import TrainConfig, train

SHAPES = [(2, 2), (3, 2), (4, 2), (8, 2), (2, 3), (4, 3), (16, 10)]


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    train(TrainConfig(2, 2, sequences=1024 * 8, eval_samples=1024))  # warm-up
    print(f"{'d,n':>6} {'steps':>6} {'steps/s':>9} {'seq/s':>11} {'MC samples/s':>13}")
    for d, n in SHAPES:
        result = train(TrainConfig(d, n, sequences=1024 * steps, eval_samples=1024))
        state = {k: v.numpy() for k, v in result.state_dict.items()}
        weights = weights_of(state["rnn.weight_ih_l0"], state["rnn.weight_hh_l0"], state["linear.weight"])
        est = sample_error_rate(weights, 1 << 22, seed=0)
        rate = steps / result.seconds
        print(f"{d},{n:<4} {steps:>6} {rate:>9.0f} {rate * 1024:>11,.0f} {est.samples_per_second:>13,.0f}")


if __name__ == "__main__":
    main()
