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
