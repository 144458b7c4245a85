"""The standardized form of an RNN: each neuron rescaled so that its input weight is +1 or -1.

ReLU commutes with a positive scale, so with s_i = |W_hi[i]| the model
W_hi' = W_hi / s, W_hh'[i][j] = W_hh[i][j] s_j / s_i, W_oh'[k][j] = W_oh[k][j] s_j computes
exactly the same logits. A neuron whose input weight is 0 cannot be brought to +-1; it keeps
scale 1 and is flagged, rather than being silently divided by zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from verify.core.network import ExactRNN, Matrix


class Magnitude(str, Enum):
    ZERO = "0"
    BELOW_ONE = "<1"
    ONE = "=1"
    ABOVE_ONE = ">1"


def classify(value: Fraction) -> str:
    """Sign and magnitude class of an entry, e.g. '+>1', '-<1', '+=1', '0'."""
    if value == 0:
        return Magnitude.ZERO.value
    sign = "+" if value > 0 else "-"
    size = abs(value)
    magnitude = Magnitude.BELOW_ONE if size < 1 else Magnitude.ONE if size == 1 else Magnitude.ABOVE_ONE
    return sign + magnitude.value


@dataclass(frozen=True)
class Standardized:
    """An exactly equivalent network with |W_hi| = 1 where possible, and the scales used."""

    network: ExactRNN
    scales: tuple[Fraction, ...]
    zero_input_neurons: tuple[int, ...]

    def classes(self) -> dict[str, list[list[str]]]:
        net = self.network
        return {
            "W_hi": [[classify(v)] for v in net.w_hi],
            "W_hh": [[classify(v) for v in row] for row in net.w_hh],
            "W_oh": [[classify(v) for v in row] for row in net.w_oh],
        }


def standardize(network: ExactRNN) -> Standardized:
    d = network.hidden_size
    scales = tuple(abs(w) if w != 0 else Fraction(1) for w in network.w_hi)
    zero = tuple(i for i, w in enumerate(network.w_hi) if w == 0)
    w_hi = tuple(network.w_hi[i] / scales[i] for i in range(d))
    w_hh: Matrix = tuple(tuple(network.w_hh[i][j] * scales[j] / scales[i] for j in range(d)) for i in range(d))
    w_oh: Matrix = tuple(tuple(row[j] * scales[j] for j in range(d)) for row in network.w_oh)
    return Standardized(network=ExactRNN(w_hi=w_hi, w_hh=w_hh, w_oh=w_oh), scales=scales, zero_input_neurons=zero)
