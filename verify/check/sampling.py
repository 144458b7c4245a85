"""Monte Carlo estimate of the error rate on the real float32 model: the baseline we compare to.

An estimate, always labelled as such, with its binomial standard error.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from verify.formats.torch_model import build_module
from verify.core.claim import Claim
from verify.core.errors import InputError
from verify.core.weights import ModelWeights


@dataclass(frozen=True)
class SampleEstimate:
    samples: int
    errors: int
    seconds: float
    seed: int
    k: int | None = 2  # the k-th argmax task; None for a task without one k (argmedian, argoutlier)

    @property
    def rate(self) -> float:
        return self.errors / self.samples if self.samples else float("nan")

    @property
    def standard_error(self) -> float:
        p = self.rate
        return math.sqrt(p * (1 - p) / self.samples) if self.samples else float("nan")

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("inf")


def kth_argmax_targets(x: torch.Tensor, k: int) -> torch.Tensor:
    """Position of the k-th largest entry of each row (stable: earlier index first on ties)."""
    order = torch.sort(x, dim=1, descending=True, stable=True).indices
    return order[:, k - 1]


def claim_targets(x: torch.Tensor, claim: Claim) -> torch.Tensor:
    """The claim's right answers for a batch of inputs (its task's training targets)."""
    return torch.from_numpy(claim.targets(x.detach().numpy())).to(torch.long)


def sample_error_rate(
    weights: ModelWeights, samples: int, *, seed: int = 0, batch_size: int = 1 << 18, k: int = 2,
    claim: Claim | None = None,
) -> SampleEstimate:
    """Count float32 misclassifications on i.i.d. standard normal inputs, batched (the k-th argmax
    task, or `claim`'s task when given)."""
    if weights.w_oh.shape[0] == 1:  # a ScalarRNN has no classification error rate
        raise InputError(f"{weights.path}: the model has 1 output, a regression model (AlgZoo's median ScalarRNN); "
                         "its Monte Carlo MSE is in `verify check` (mse_estimate, or the exact MSE for n = 2, 3)")
    return sample_module_error_rate(build_module(weights), weights.seq_len, samples, seed=seed,
                                    batch_size=batch_size, k=k, claim=claim)


@torch.no_grad()
def sample_module_error_rate(
    module: torch.nn.Module, n: int, samples: int, *, seed: int = 0, batch_size: int = 1 << 18, k: int = 2,
    claim: Claim | None = None,
) -> SampleEstimate:
    """The same count on any (batch, n) -> logits module: the forward pass training evaluates with."""
    generator = torch.Generator().manual_seed(seed)
    errors, done = 0, 0
    start = time.perf_counter()
    while done < samples:
        size = min(batch_size, samples - done)
        x = torch.randn(size, n, generator=generator, dtype=torch.float32)
        predicted = module(x).argmax(dim=1)
        targets = kth_argmax_targets(x, k) if claim is None else claim_targets(x, claim)
        errors += int((predicted != targets).sum())
        done += size
    return SampleEstimate(samples=done, errors=errors, seconds=time.perf_counter() - start, seed=seed,
                          k=k if claim is None else claim.k)
