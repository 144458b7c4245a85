"""Counterexamples: an exact point deep inside each misclassified cone, re-run in float32.

A witness is only called a counterexample of the real model after PyTorch, in float32, has
been run on its nearest float32 point; `float32_confirmed` records whether it too is wrong,
with a decisive float32 argmax (a float32 tie that the exact network does not share is an
accident of rounding, settled by PyTorch's tie-break: it confirms nothing). Each witness is
the cone's deepest point (the largest smallest normalized slack, geometry.deepest_point): if
any float32 point can show the error, that one can. `thin` says when no float32 witness can
be trusted at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from verify.check.claims import Cone, provisional_witness, witness_signs
from verify.check.regions import Pattern
from verify.core.claim import KthArgmaxClaim, first_argmax
from verify.formats.torch_model import Float32Model
from verify.geometry.integer_cone import strict_test
from verify.geometry.planar import deepest_point, deepest_point_certified, normalize_ray, normalized_slack
from verify.core.by_object import ByObject
from verify.core.linear import Constraint, common_denominator
from verify.core.network import ExactRNN

# A witness whose normalized slack is below this (16 float32 ulps of 1) is "thin": float32
# rounding of the input alone moves a normalized constraint by up to 2^-24, and the float32
# forward pass adds errors of its own, so its float32 verdict says little about the cone.
THIN_SLACK = Fraction(1, 2**20)


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
    thin: bool = False  # no float32 witness can be trusted: a boundary point, or a cone too thin
    slack: Fraction | None = None  # normalized slack of x_exact in its cone (None: no cone given)

    @property
    def x_float32_exact(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(v) for v in self.x_float32)


def interior_point(cone: Cone, n: int) -> tuple[Fraction, ...]:
    """The cone's deepest point, scaled to max |x_i| = 1; Z3's witness if the LP finds nothing better.

    The LP starts from the box corner with the signs of Z3's witness; where the cone's geometry
    fixes those signs, they are read from it and a deferred witness is not computed."""
    signs = witness_signs(cone)
    if signs is None:
        # A deferred witness is Z3's point replayed in a fresh solver: first try the LP from the
        # cone's own exact interior point. When the walk proves its vertex the only optimum, the
        # witness (which only picks the walk's start) cannot change it and is never computed.
        provisional = provisional_witness(cone)
        if provisional is not None:
            point, unique = deepest_point_certified(cone.constraints, n, provisional)
            if unique and point is not None and _strictly_inside(point, cone.constraints):
                return point
    start = tuple(Fraction(v) for v in signs) if signs is not None else cone.witness
    point = deepest_point(cone.constraints, n, start)
    if point is not None and _strictly_inside(point, cone.constraints):
        return point
    return normalize_ray(cone.witness)


def decisive(logits32: np.ndarray, exact: Sequence[Fraction]) -> bool:
    """The float32 argmax is the model's answer, not an accident of rounding: a strict winner,
    or the very tie that the exact network has at the same point (e.g. logits identically 0
    where every neuron is dead: there PyTorch's first-index tie-break is what the model does)."""
    top32 = {k for k, v in enumerate(logits32) if v == logits32.max()}
    best = max(exact)
    return len(top32) == 1 or top32 == {k for k, v in enumerate(exact) if v == best}


class WitnessMismatch(RuntimeError):
    """A witness that the exact network contradicts: a harness bug, never a result to report."""


class _IntegerNetwork:
    """The network's weights over one common denominator D, for forward passes in integers.

    With an input scaled to integers by L > 0, the integer pass gives each step-t pre-activation
    times D^(t+1) L and the logits times D^(n+1) L: positive factors, so every sign, tie and
    argmax is the exact network's, without a Fraction.
    """

    def __init__(self, network: ExactRNN) -> None:
        weights = [*network.w_hi, *(v for row in network.w_hh for v in row), *(v for row in network.w_oh for v in row)]
        self.den = common_denominator(weights)
        self.hi = [int(w * self.den) for w in network.w_hi]
        self.hh = [[(j, int(w * self.den)) for j, w in enumerate(row) if w != 0] for row in network.w_hh]
        self.oh = [[(j, int(w * self.den)) for j, w in enumerate(row) if w != 0] for row in network.w_oh]

    def run(self, x: Sequence[Fraction]) -> tuple[list[list[int]], list[int]]:
        """(positive multiples of the pre-activations at each step, of the logits) at x."""
        scale_x = common_denominator(x)
        h = [0] * len(self.hi)
        pres = []
        step = 1  # D^t
        for x_t in x:
            xt = int(x_t * scale_x) * step
            pre = [sum(w * h[j] for j, w in row) + a * xt for row, a in zip(self.hh, self.hi)]
            pres.append(pre)
            h = [v if v > 0 else 0 for v in pre]
            step *= self.den
        return pres, [sum(w * h[j] for j, w in row) for row in self.oh]


_INTEGER: ByObject[ExactRNN, _IntegerNetwork] = ByObject(8)


def _integer_network(network: ExactRNN) -> _IntegerNetwork:
    """The integer form of `network`, built once per network object (a small cache)."""
    return _INTEGER.get(network, _IntegerNetwork)


def _strictly_inside(x: Sequence[Fraction], constraints: Sequence[Constraint]) -> bool:
    """Every constraint holds strictly at x (c . x > 0 or < 0), decided in integers."""
    return strict_test(constraints)(x)


def check_witness(x: Sequence[Fraction], network: ExactRNN, pattern: Pattern, *, predicted: int | None,
                  target: int | None = None) -> None:
    """Re-derive, in exact arithmetic and from the network alone, what the search says of `x`.

    A cone's witness (`predicted` given) lies strictly inside its region: the network's own
    activation pattern there is the region's, and its first maximal logit is the cone's predicted
    class. A boundary point (`target` given) lies in the region's closure (every active neuron's
    input >= 0, every inactive one's <= 0) and the prediction there is not the claim's target.
    Raises WitnessMismatch otherwise.
    """
    pre, logits = _integer_network(network).run(list(x))
    if predicted is not None:
        ok_pattern = tuple(tuple(v > 0 for v in step) for step in pre) == tuple(tuple(s) for s in pattern)
    else:
        ok_pattern = all((v >= 0) if bit else (v <= 0) for step, bits in zip(pre, pattern) for v, bit in zip(step, bits))
    if not ok_pattern:
        raise WitnessMismatch(f"the witness {[str(v) for v in x]} does not have its region's activation pattern")
    answer = first_argmax(logits)
    if predicted is not None and answer != predicted:
        raise WitnessMismatch(f"the witness {[str(v) for v in x]} is predicted {answer}, its cone says {predicted}")
    if target is not None and answer == target:
        raise WitnessMismatch(f"the boundary witness {[str(v) for v in x]} is predicted {answer}, its target")


def confirm(
    x_exact: Sequence[Fraction],
    *,
    region: int,
    piece: str,
    network: ExactRNN,
    model: Float32Model,
    claim: KthArgmaxClaim,
    measure_zero: bool,
    constraints: Sequence[Constraint] = (),
    pattern: Pattern | None = None,
    predicted: int | None = None,
    target: int | None = None,
) -> Counterexample:
    """Run the float32 model at the float32 point nearest `x_exact`; `constraints`: its cone, if any.

    The point is first scaled to max |x_i| = 1 (same ray, same answers: the network and the
    claim are positively homogeneous), so that a solver's point with huge or tiny coordinates
    still has a float32 neighbour at float32's finest relative resolution. With `pattern`, the
    exact point is first checked against its region and cone (`check_witness`).
    """
    if any(v != 0 for v in x_exact):
        x_exact = normalize_ray(x_exact)
    if pattern is not None:
        check_witness(x_exact, network, pattern, predicted=predicted, target=target)
    x32 = np.array([float(v) for v in x_exact], dtype=np.float32)
    logits = model.logits(x32[None, :])[0]
    predicted32 = int(np.argmax(logits))
    x32_list = tuple(float(v) for v in x32)
    expected = claim.expected(x32_list)
    x32_exact = tuple(Fraction(v) for v in x32_list)
    slack = normalized_slack(x_exact, constraints)
    left_cone = not _strictly_inside(x32_exact, constraints)
    thin = measure_zero or (slack is not None and (slack < THIN_SLACK or left_cone))
    integer = _integer_network(network)
    return Counterexample(
        region=region,
        piece=piece,
        x_exact=tuple(x_exact),
        x_float32=x32_list,
        expected=expected,
        predicted_exact=first_argmax(integer.run(x_exact)[1]),
        predicted_float32=predicted32,
        logits_float32=tuple(float(v) for v in logits),
        float32_confirmed=predicted32 != expected and decisive(logits, integer.run(x32_exact)[1])
        and claim.well_defined(x32_list),
        measure_zero=measure_zero,
        thin=thin,
        slack=slack,
    )
