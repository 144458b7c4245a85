"""What an incomplete search covered, where no exact measure exists: the share of sampled inputs
that fall in the regions found.

A Monte Carlo estimate on the float64 network, labelled as such and never used for a verdict:
for n >= 4 (or when a region has no certified measure) it is the only way to say how much of the
input space the regions found account for. Activation patterns are read from one batched float64
forward pass; a sample within rounding of a region boundary may land in the wrong region, which
has probability far below the estimate's standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from verify.core.network import ExactRNN

COVERAGE_SAMPLES = 20_000
COVERAGE_SEED = 0


@dataclass(frozen=True)
class SampledCoverage:
    samples: int
    inside: int
    seed: int

    @property
    def fraction(self) -> float:
        return self.inside / self.samples

    @property
    def standard_error(self) -> float:
        p = self.fraction
        return math.sqrt(p * (1.0 - p) / self.samples)


def pattern_keys(network: ExactRNN, xs: np.ndarray) -> list[bytes]:
    """One key per input row: its activation pattern (all steps, all neurons), packed to bytes."""
    w_hi, w_hh, _ = network.float_matrices()
    h = np.zeros((xs.shape[0], w_hh.shape[0]))
    bits: list[np.ndarray] = []
    for t in range(xs.shape[1]):
        pre = h @ w_hh.T + xs[:, t : t + 1] * w_hi[None, :]
        bits.append(pre > 0)
        h = np.maximum(pre, 0.0)
    packed = np.packbits(np.concatenate(bits, axis=1), axis=1)
    return [row.tobytes() for row in packed]


def pattern_key(bits: Iterable[bool]) -> bytes:
    """The key of one exact pattern, comparable with `pattern_keys`."""
    return np.packbits(np.array(list(bits), dtype=bool)).tobytes()


def sampled_coverage(network: ExactRNN, patterns: Iterable[Iterable[bool]], *,
                     samples: int = COVERAGE_SAMPLES, seed: int = COVERAGE_SEED) -> SampledCoverage:
    """How many of `samples` standard normal inputs (seeded) have one of `patterns`."""
    known = {pattern_key(p) for p in patterns}
    xs = np.random.default_rng(seed).standard_normal((samples, network.seq_len))
    inside = sum(1 for key in pattern_keys(network, xs) if key in known)
    return SampledCoverage(samples, inside, seed)
