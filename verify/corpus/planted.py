"""Networks whose misclassified set is known by construction: the planted-counterexample corpus.

Construction (sequence length 2). Neurons 0 and 1 read x0 with input weights +1 and -1, so
after step 1 they hold x0+ = max(x0, 0) and x0- = max(-x0, 0). At step 2 every neuron i
computes relu(A_i x0+ + B_i x0- + w_i x1) (row i of W_hh is (A_i, B_i, 0, ...), w_hi[i] = w_i);
nobody reads the other neurons' step-1 values. Neurons come in odd pairs, (A, B, w, c) and
(B, A, -w, -c) with c = W_oh[1][i] - W_oh[0][i], which makes Delta = logit_1 - logit_0 odd, and
on both half-planes

    Delta(x) = x0 * phi(x1 / x0),    phi(t) = (1 - t) + sum_j s_j k_j tent(t; a_j, b_j)

where tent(t; a, b) = relu(t - a) - 2 relu(t - m) + relu(t - b), m = (a + b) / 2, is a hat of
height k (m - a) on [a, b]. Without tents Delta = x0 - x1: exactly correct. A tent of sign s
pushes phi towards s; where it makes phi (1 - t) < 0 the model is wrong, on the slopes t in an
interval (p, q) whose ends solve a linear equation on one piece of phi: the two wedges between
rays (1, p) and (1, q) and between (-1, -p) and (-1, -q), of angle atan q - atan p each (a
piece where phi is identically 0 is a tie, wrong on one half-plane only). Every weight is a
small dyadic rational, exact in float32. See `PlantedNetwork.wedges`.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np
from mpmath import mp, mpf

from verify.corpus.handcrafted import weights_of
from verify.core.linear import Vector
from verify.core.weights import ModelWeights
from verify.geometry.measure import WORKING_DPS

F = Fraction


@dataclass(frozen=True)
class Tent:
    """A hat s * k * tent(t; a, b) added to phi; a < b, k > 0, s = +1 or -1."""

    a: Fraction
    b: Fraction
    k: Fraction
    sign: int

    @property
    def m(self) -> Fraction:
        return (self.a + self.b) / 2

    def knots(self) -> list[tuple[Fraction, Fraction]]:
        """(knot, weight) pairs of s k (relu(t-a) - 2 relu(t-m) + relu(t-b))."""
        sk = self.sign * self.k
        return [(self.a, sk), (self.m, -2 * sk), (self.b, sk)]

    def value(self, t: Fraction) -> Fraction:
        return sum((w * max(F(0), t - c) for c, w in self.knots()), F(0))


@dataclass(frozen=True)
class Wedge:
    """An open wedge of inputs between two rays, counter-clockwise from `start` to `end`."""

    start: Vector
    end: Vector


@dataclass(frozen=True)
class Neuron:
    a: Fraction  # weight on x0+ (W_hh[i][0])
    b: Fraction  # weight on x0- (W_hh[i][1])
    w: Fraction  # input weight, used at both steps
    c: Fraction  # contribution to Delta


@dataclass(frozen=True)
class PlantedNetwork:
    """A network with its exact misclassified set (wedges) and measure-zero violations (rays)."""

    tents: tuple[Tent, ...]
    weights: ModelWeights
    neurons: tuple[Neuron, ...] = field(repr=False)

    def phi(self, t: Fraction) -> Fraction:
        return (1 - t) + sum((tent.value(t) for tent in self.tents), F(0))

    def delta(self, x: Sequence[Fraction]) -> Fraction:
        """Delta at x from the construction (x0 * phi(x1/x0), and -x1 on the x1 axis)."""
        x0, x1 = F(x[0]), F(x[1])
        return x0 * self.phi(x1 / x0) if x0 != 0 else -x1

    def breakpoints(self) -> list[Fraction]:
        """Knots of phi, its zeros and t = 1, sorted: phi (1 - t) has one sign between them."""
        knots = sorted({c for tent in self.tents for c, _ in tent.knots()} | {F(1)})
        points = set(knots)
        edges = [knots[0] - 1] + knots + [knots[-1] + 1]
        for lo, hi in zip(edges, edges[1:]):
            f_lo, f_hi = self.phi(lo), self.phi(hi)
            if (f_lo < 0 < f_hi) or (f_hi < 0 < f_lo):
                points.add(lo + (hi - lo) * f_lo / (f_lo - f_hi))  # phi is linear on [lo, hi]
        return sorted(points)

    def wrong_at(self, side: int, t: Fraction) -> bool:
        """Is the input at slope t on the half-plane sign(x0) = side misclassified?

        Delta = x0 phi(t) and the target is 1 exactly when x0 > x1, i.e. (1 - t) has the sign of
        x0; a tie (phi = 0) predicts 0 (first index), which is wrong when the target is 1."""
        f = self.phi(t)
        if t == 1:
            return False  # x0 = x1: no target
        target_one = (t < 1) if side > 0 else (t > 1)
        predicted_one = (f > 0) if side > 0 else (f < 0)
        return predicted_one != target_one

    def wrong_slopes(self, side: int = 1) -> list[tuple[Fraction, Fraction]]:
        """Maximal open slope intervals (p, q) misclassified on the half-plane sign(x0) = side.
        Where phi != 0 both halves agree (phi (1 - t) < 0); a piece with phi = 0 is wrong on one."""
        points = self.breakpoints()
        intervals: list[tuple[Fraction, Fraction]] = []
        for lo, hi in zip(points, points[1:]):
            if self.wrong_at(side, (lo + hi) / 2):
                if intervals and intervals[-1][1] == lo:
                    intervals[-1] = (intervals[-1][0], hi)  # wrong on both sides of lo: one wedge
                else:
                    intervals.append((lo, hi))
        return intervals

    def zero_slopes(self) -> list[Fraction]:
        """Slopes t != 1 with phi(t) = 0: rays where Delta = 0 and the first-index tie-break is wrong."""
        return [t for t in self.breakpoints() if t != 1 and self.phi(t) == 0]

    @property
    def wedges(self) -> list[Wedge]:
        right = [Wedge(_ray(F(1), p), _ray(F(1), q)) for p, q in self.wrong_slopes(1)]
        left = [Wedge(_ray(F(-1), -p), _ray(F(-1), -q)) for p, q in self.wrong_slopes(-1)]
        return right + left

    @property
    def violation_rays(self) -> list[Vector]:
        """Measure-zero counterexample rays: phi(t) = 0 with t < 1 (x0 > 0) or t > 1 (x0 < 0)."""
        return [_ray(F(1), t) if t < 1 else _ray(F(-1), -t) for t in self.zero_slopes()]

    @property
    def expected_verdict(self) -> str:
        return "refuted" if self.wedges or self.zero_slopes() else "proved"

    def error_rate(self) -> mpf:
        """Exact error rate, to WORKING_DPS digits: each wedge's angle atan q - atan p, over 2 pi."""
        with mp.workdps(WORKING_DPS + 10):
            total = sum((mp.atan(mpf(q.numerator) / q.denominator) - mp.atan(mpf(p.numerator) / p.denominator)
                         for side in (1, -1) for p, q in self.wrong_slopes(side)), mpf(0))
            return total / (2 * mp.pi)


def _ray(x0: Fraction, x1: Fraction) -> Vector:
    scale = max(abs(x0), abs(x1))
    return (x0 / scale, x1 / scale)


def _pair(a: Fraction, b: Fraction, w: Fraction, c: Fraction) -> list[Neuron]:
    return [Neuron(a, b, w, c), Neuron(b, a, -w, -c)]


def neurons_for(tents: Sequence[Tent]) -> list[Neuron]:
    """The odd neuron pairs realising phi: readers (slope), constant, and two pairs per tent."""
    alpha = 1 - sum((t.sign * t.k * t.b for t in tents), F(0))
    beta = -1 + sum((t.sign * t.k for t in tents), F(0))
    neurons = _pair(F(0), F(0), F(1), beta)  # neurons 0 and 1: relu(x1), relu(-x1); beta * x1
    if alpha != 0:
        neurons += _pair(F(1), F(0), F(0), alpha)  # relu(x0+), relu(x0-): alpha * x0
    for tent in tents:
        sk = tent.sign * tent.k
        # knot a (weight sk) and knot m (weight -2 sk), both with partner knot b; leftover sk (b - t)
        neurons += _pair(-tent.a, tent.b, F(1), sk)
        neurons += _pair(-tent.m, tent.b, F(1), -2 * sk)
    return neurons


def _exact_float32(values: np.ndarray, exact: Sequence[Sequence[Fraction]]) -> None:
    for row, exact_row in zip(values, exact):
        for v, e in zip(row, exact_row):
            if F(float(v)) != e:
                raise ValueError(f"planted weight {e} is not exact in float32")


def planted_network(
    tents: Sequence[Tent] = (), *, permutation: Sequence[int] | None = None,
    scales: Sequence[int] | None = None, output_scale: int = 0, path: str = "<planted>",
) -> PlantedNetwork:
    """Build the network for `tents`; optionally permute neurons and rescale neuron i by 2^scales[i]
    and the outputs by 2^output_scale (none of which changes the function's sign pattern)."""
    neurons = neurons_for(tents)
    d = len(neurons)
    order = list(permutation) if permutation is not None else list(range(d))
    if sorted(order) != list(range(d)):
        raise ValueError(f"permutation must be a permutation of range({d})")
    s = [F(2) ** e for e in (scales if scales is not None else [0] * d)]
    pos = {old: new for new, old in enumerate(order)}  # neuron `old` goes to slot pos[old]
    w_hi = [F(0)] * d
    w_hh = [[F(0)] * d for _ in range(d)]
    w_oh = [[F(0)] * d for _ in range(2)]
    reader_plus, reader_minus = pos[0], pos[1]
    for old, neuron in enumerate(neurons):
        i = pos[old]
        # neuron i holds s_i * (original value): input row scaled by s_i, readers' columns by 1/s_reader
        w_hi[i] = neuron.w * s[i]
        w_hh[i][reader_plus] = neuron.a * s[i] / s[reader_plus]
        w_hh[i][reader_minus] = neuron.b * s[i] / s[reader_minus]
        out = neuron.c / 2 * F(2) ** output_scale / s[i]
        w_oh[0][i], w_oh[1][i] = -out, out
    weights = weights_of([float(v) for v in w_hi], [[float(v) for v in row] for row in w_hh],
                         [[float(v) for v in row] for row in w_oh], path=path)
    _exact_float32(weights.w_hi, [[v] for v in w_hi])
    _exact_float32(weights.w_hh, w_hh)
    _exact_float32(weights.w_oh, w_oh)
    return PlantedNetwork(tuple(tents), weights, tuple(neurons))


KINDS = ("flip", "touch", "near")


def tent_of_kind(kind: str, m: Fraction, half_width: Fraction, sign: int) -> Tent:
    """A tent centred at m whose peak crosses phi = 0 ("flip"), just reaches it ("touch"),
    or stays a margin short ("near"). The peak value of phi is (1 - m) + sign * k * half_width."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    base = 1 - m
    if base == 0 or (base > 0) == (sign > 0):
        raise ValueError("a tent must push phi towards zero: sign -1 where t < 1, +1 where t > 1")
    reach = abs(base) / half_width  # k at which the peak exactly touches zero
    k = {"flip": reach * F(3, 2) + F(1, 4), "touch": reach, "near": reach * F(3, 4)}[kind]
    return Tent(m - half_width, m + half_width, k, sign)


def random_tents(rng: random.Random, count: int, kinds: Sequence[str] = KINDS) -> list[Tent]:
    """Disjoint tents at random dyadic places, never covering t = 1, of random kinds."""
    tents: list[Tent] = []
    for _ in range(50 * count):
        if len(tents) == count:
            break
        half = F(1, 2 ** rng.randint(1, 5))
        m = F(rng.randint(-64, 64), 16)
        if m == 1 or abs(1 - m) <= half:
            continue
        a, b = m - half, m + half
        if any(not (b < t.a or t.b < a) for t in tents):
            continue
        tents.append(tent_of_kind(rng.choice(list(kinds)), m, half, -1 if m < 1 else 1))
    return tents


def random_planted(seed: int, *, max_tents: int = 3, kinds: Sequence[str] = KINDS,
                   straddle: bool = True) -> PlantedNetwork:
    """A random planted network: tents, optionally one that moves the decision ray off the
    diagonal (like the AlgZoo model's sliver), neurons shuffled and rescaled by powers of two."""
    rng = random.Random(seed)
    tents = random_tents(rng, rng.randint(0, max_tents), kinds)
    if straddle and rng.random() < 0.3:
        half = F(1, 2 ** rng.randint(3, 6))
        centre = 1 + rng.choice([-1, 1]) * half / 2
        clear = all(t.b < centre - half or centre + half < t.a for t in tents)
        if clear:
            tents.append(Tent(centre - half, centre + half, F(rng.randint(1, 8), 4), -1 if rng.random() < 0.5 else 1))
    d = len(neurons_for(tents))
    permutation = list(range(d))
    rng.shuffle(permutation)
    scales = [rng.randint(-4, 4) for _ in range(d)]
    return planted_network(tents, permutation=permutation, scales=scales, output_scale=rng.randint(-3, 3),
                           path=f"<planted seed {seed}>")


def all_kinds_examples() -> list[PlantedNetwork]:
    """A small fixed corpus: every kind of tent on both sides, and a clean network."""
    corpus = [planted_network([])]
    for kind, (m, sign) in itertools.product(KINDS, [(F(-1, 2), -1), (F(5, 2), 1)]):
        corpus.append(planted_network([tent_of_kind(kind, m, F(1, 4), sign)], path=f"<planted {kind} {m}>"))
    return corpus
