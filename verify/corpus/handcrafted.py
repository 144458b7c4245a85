"""Networks whose behaviour is known by hand: the known-answer corpus for tests and `models/`."""

from __future__ import annotations

import numpy as np

from verify.core.weights import ModelWeights


def weights_of(w_hi, w_hh, w_oh, *, path: str = "<handcrafted>") -> ModelWeights:  # type: ignore[no-untyped-def]
    return ModelWeights(
        w_hi=np.asarray(w_hi, dtype=np.float32).reshape(-1, 1),
        w_hh=np.asarray(w_hh, dtype=np.float32),
        w_oh=np.asarray(w_oh, dtype=np.float32),
        path=path,
        sha256="",
    )


def handcrafted_2_2() -> ModelWeights:
    """The published exactly-correct M_{2,2}: logits (x1 - x0, x0 - x1) after two steps.

    h1 = (x0+, x0-); h2 = ReLU(x1 - x0, x0 - x1) whatever the sign of x0, so
    Delta = logit_1 - logit_0 = 2 (x0 - x1): positive exactly when x0 > x1.
    """
    return weights_of([1.0, -1.0], [[-1.0, 1.0], [1.0, -1.0]], [[1.0, -1.0], [-1.0, 1.0]], path="handcrafted_2_2")


def handcrafted_median_2() -> ModelWeights:
    """An exactly correct median ScalarRNN for n = 2: y = (x0 + x1) / 2, the median of two inputs.

    Step 0 (h = 0): h1 = (ReLU(x0), ReLU(-x0)), so h1[0] - h1[1] = x0 for either sign of x0.
    Step 1: with W_hh = [[1, -1], [-1, 1]] and W_hi = (1, -1), h2 = (ReLU(x0 + x1), ReLU(-(x0 + x1))),
    and y = (h2[0] - h2[1]) / 2 = (x0 + x1) / 2 everywhere. Every weight is a float32 exactly.
    """
    return weights_of([1.0, -1.0], [[1.0, -1.0], [-1.0, 1.0]], [[0.5, -0.5]], path="handcrafted_median_2")


def last_input_scalar() -> ModelWeights:
    """A planted ScalarRNN that returns its last input: y = ReLU(x_last) - ReLU(-x_last) = x_last
    (W_hh = 0 forgets the past), at any sequence length; its median error is known by hand."""
    return weights_of([1.0, -1.0], [[0.0, 0.0], [0.0, 0.0]], [[1.0, -1.0]], path="last_input_scalar")
