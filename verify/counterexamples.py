"""Counterexamples: an exact point well inside each misclassified cone, re-run in float32.

A witness is only called a counterexample of the real model after PyTorch, in float32, has
been run on its nearest float32 point; `float32_confirmed` records whether it too is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from verify.claims import Cone, KthArgmaxClaim, first_argmax
from verify.float32 import Float32Model
from verify.geometry import extreme_rays_2d, normalize_ray
from verify.network import ExactRNN


@dataclass(frozen=True)
class Counterexample:
    region: int
    piece: str
    x_exact: tuple[Fraction, ...]
    x_float32: tuple[float, ...]
    expected: int  # right answer at the float32 point
    predicted_exact: int  # the exact network's prediction at x_exact
    predicted_float32: int  # PyTorch's prediction at the float32 point
    logits_float32: tuple[float, ...]
    float32_confirmed: bool
    measure_zero: bool  # found on a boundary only, not inside a cone of positive measure

    @property
    def x_float32_exact(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(v) for v in self.x_float32)


def interior_point(cone: Cone, n: int) -> tuple[Fraction, ...]:
    """A point far from the cone's boundary: the sum of its normalised extreme rays when known."""
    rays: Sequence[Sequence[Fraction]] = []
    if n == 2:
        rays = extreme_rays_2d(cone.constraints)
        if len(rays) == 2 and rays[0] == tuple(-v for v in rays[1]):  # half-plane: rotate start by +90 degrees
            rays = [(-rays[0][1], rays[0][0])]
    else:
        try:
            from verify.solid_angles import extreme_rays  # higher dimensions live apart
        except ImportError:
            rays = []
        else:
            rays = extreme_rays(cone.constraints, n) or []
    if rays:
        point = tuple(sum((r[k] for r in rays), Fraction(0)) for k in range(n))
        if any(v != 0 for v in point) and all(c.holds(point) for c in cone.constraints):
            return normalize_ray(point)
    return normalize_ray(cone.witness)


def confirm(
    x_exact: Sequence[Fraction],
    *,
    region: int,
    piece: str,
    network: ExactRNN,
    model: Float32Model,
    claim: KthArgmaxClaim,
    measure_zero: bool,
) -> Counterexample:
    x32 = np.array([float(v) for v in x_exact], dtype=np.float32)
    logits = model.logits(x32[None, :])[0]
    predicted32 = int(np.argmax(logits))
    x32_list = tuple(float(v) for v in x32)
    expected = claim.expected(x32_list)
    return Counterexample(
        region=region,
        piece=piece,
        x_exact=tuple(x_exact),
        x_float32=x32_list,
        expected=expected,
        predicted_exact=first_argmax(network.logits(x_exact)),
        predicted_float32=predicted32,
        logits_float32=tuple(float(v) for v in logits),
        float32_confirmed=predicted32 != expected and claim.well_defined(x32_list),
        measure_zero=measure_zero,
    )
