"""The RNN with every weight as an exact rational, and its exact and float64 forward passes.

Every float32 is a dyadic rational, so `Fraction(float(w))` is the weight exactly; all
verdicts are computed from these values, never from floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from verify.core.weights import ModelWeights

Matrix = tuple[tuple[Fraction, ...], ...]


def exact_matrix(array: np.ndarray) -> Matrix:
    """Convert a float array to a tuple-of-tuples of exact Fractions (no rounding)."""
    return tuple(tuple(Fraction(float(value)) for value in row) for row in np.asarray(array, dtype=np.float64))


@dataclass(frozen=True)
class ExactRNN:
    """h_{t+1} = ReLU(W_hh h_t + W_hi x_t), logits = W_oh h_n, over the rationals."""

    w_hi: tuple[Fraction, ...]  # d
    w_hh: Matrix  # d x d
    w_oh: Matrix  # n x d

    @property
    def hidden_size(self) -> int:
        return len(self.w_hi)

    @property
    def seq_len(self) -> int:
        return len(self.w_oh)

    @classmethod
    def from_weights(cls, weights: ModelWeights) -> "ExactRNN":
        return cls(
            w_hi=tuple(row[0] for row in exact_matrix(weights.w_hi)),
            w_hh=exact_matrix(weights.w_hh),
            w_oh=exact_matrix(weights.w_oh),
        )

    def hidden_states(self, x: Sequence[Fraction]) -> list[tuple[Fraction, ...]]:
        """All hidden states h_1..h_n at an exact input."""
        return [tuple(max(Fraction(0), v) for v in pre) for pre in self.pre_activations(x)]

    def pre_activations(self, x: Sequence[Fraction]) -> list[tuple[Fraction, ...]]:
        """Every neuron's input before the ReLU, at each step, at an exact input."""
        d = self.hidden_size
        h: tuple[Fraction, ...] = tuple(Fraction(0) for _ in range(d))
        states = []
        for x_t in x:
            pre = tuple(sum((self.w_hh[i][j] * h[j] for j in range(d)), Fraction(0)) + self.w_hi[i] * x_t
                        for i in range(d))
            h = tuple(max(Fraction(0), v) for v in pre)
            states.append(pre)
        return states

    def logits(self, x: Sequence[Fraction | int]) -> tuple[Fraction, ...]:
        """Exact logits at an exact input (the oracle for every linear formula we derive)."""
        xs = [Fraction(v) for v in x]
        if len(xs) != self.seq_len:
            raise ValueError(f"expected {self.seq_len} inputs, got {len(xs)}")
        h = self.hidden_states(xs)[-1]
        return tuple(sum((row[j] * h[j] for j in range(self.hidden_size)), Fraction(0)) for row in self.w_oh)

    def pattern(self, x: Sequence[Fraction | int]) -> tuple[tuple[bool, ...], ...]:
        """Which neurons are strictly active at each step at an exact input."""
        return tuple(tuple(v > 0 for v in h) for h in self.hidden_states([Fraction(v) for v in x]))

    def float_matrices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.array([float(v) for v in self.w_hi]),
            np.array([[float(v) for v in row] for row in self.w_hh]),
            np.array([[float(v) for v in row] for row in self.w_oh]),
        )

    def logits_float64(self, xs: np.ndarray) -> np.ndarray:
        """Batched float64 forward pass, for sampling oracles and pictures (never for verdicts)."""
        w_hi, w_hh, w_oh = self.float_matrices()
        xs = np.asarray(xs, dtype=np.float64)
        h = np.zeros((xs.shape[0], self.hidden_size))
        for t in range(xs.shape[1]):
            h = np.maximum(h @ w_hh.T + xs[:, t : t + 1] * w_hi[None, :], 0.0)
        return h @ w_oh.T
