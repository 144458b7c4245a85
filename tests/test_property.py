"""Property-based soundness tests: random bias-free ReLU RNNs (n = 2) against an exact angular scan.

The oracle below is written here, independently of the harness: it walks the boundary of the
square [-1, 1]^2 (every direction once, rational points only) with an exact forward pass.
Wherever the two ends of a bracket have the same activation pattern, the whole segment lies in
one convex region, so the logits are affine along it and every sign change of Delta and of
x0 - x1 is located exactly. Brackets whose ends differ are halved until they are narrower than
2^-MIN_EXP; only those thin brackets (around the kinks) are left unresolved, and their total
angle is the oracle's stated tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from mpmath import mp, mpf

from tests.conftest import examples
from verify.check.pipeline import CheckOptions, check_model
from verify.check.float32_band import FLOAT64, prediction_certain_at
from verify.corpus.handcrafted import weights_of
from verify.core.weights import ModelWeights
from verify.core.network import ExactRNN

CORNERS = ((1, -1), (1, 1), (-1, 1), (-1, -1))  # counter-clockwise; each side spans a quarter turn
INITIAL = 32  # brackets per side in the first pass (a power of two: all points stay dyadic)
MIN_EXP = 56  # brackets with different patterns are halved down to width 2^-MIN_EXP (parameter units)
SCALE = 2 ** (MIN_EXP + 1)  # every scanned point times SCALE is an integer point
SLACK = mpf(10) ** -45  # rounding of the harness's 60-digit intervals and of this oracle's atan2


WEIGHT_SHIFT = 149  # 2^149 * (any float32) is an integer


@dataclass
class Net:
    """The network with integer weights (2^149 w) and its own exact forward pass, not the harness's.

    The network is positively homogeneous, so it runs on the integer point D x and returns the
    logits times a positive constant that depends only on D: signs, argmax and ratios between
    points run with the same D are exact.
    """

    w_hi: list[int]
    w_hh: list[list[int]]
    w_oh: list[list[int]]

    @classmethod
    def of(cls, weights: ModelWeights) -> "Net":
        def ints(a: np.ndarray) -> list[list[int]]:
            scaled = [[Fraction(float(v)) * 2**WEIGHT_SHIFT for v in row] for row in np.asarray(a, dtype=np.float64)]
            assert all(v.denominator == 1 for row in scaled for v in row)
            return [[int(v) for v in row] for row in scaled]

        return cls([row[0] for row in ints(weights.w_hi)], ints(weights.w_hh), ints(weights.w_oh))

    def run(self, x: Sequence[Fraction], scale: int | None = None) -> tuple[tuple[int, ...], tuple[bool, ...], bool]:
        """(scaled logits, pattern, on_boundary) at x; x * scale must be integral (default: the lcm
        of x's denominators). on_boundary: a pre-activation whose linear form (given the pattern so
        far) is not identically zero vanishes at x."""
        if scale is None:
            scale = math.lcm(*(Fraction(v).denominator for v in x))
        xs = [int(Fraction(v) * scale) for v in x]
        d = len(self.w_hi)
        h = [0] * d
        bits: list[bool] = []
        touches_zero = False
        for t, x_t in enumerate(xs):
            lift = 1 << (WEIGHT_SHIFT * t)  # h carries 2^(149 t); bring the input term to the same scale
            pre = [sum(self.w_hh[i][j] * h[j] for j in range(d) if h[j]) + self.w_hi[i] * x_t * lift for i in range(d)]
            touches_zero = touches_zero or any(p == 0 for p in pre)
            bits += [p > 0 for p in pre]
            h = [p if p > 0 else 0 for p in pre]
        logits = tuple(sum(row[j] * h[j] for j in range(d) if h[j]) for row in self.w_oh)
        return logits, tuple(bits), touches_zero and self._on_boundary(xs, bits)

    def _on_boundary(self, x: Sequence[int], bits: Sequence[bool]) -> bool:
        d, n = len(self.w_hi), len(x)
        forms = [[0] * n for _ in range(d)]
        for t in range(n):
            lift = 1 << (WEIGHT_SHIFT * t)
            pre = [[sum(self.w_hh[i][j] * forms[j][k] for j in range(d)) + (self.w_hi[i] * lift if k == t else 0)
                    for k in range(n)] for i in range(d)]
            if any(any(f) and sum(c * v for c, v in zip(f, x)) == 0 for f in pre):
                return True
            forms = [f if bits[t * d + i] else [0] * n for i, f in enumerate(pre)]
        return False


def wrong(delta: Fraction | int, gap: Fraction | int) -> bool:
    """Misclassified at a point with Delta = logit_1 - logit_0 and gap = x0 - x1 (torch.argmax ties -> 0)."""
    predicted = 1 if delta > 0 else 0
    target = 1 if gap > 0 else 0
    return gap != 0 and predicted != target


@dataclass
class Scan:
    wrong_arcs: list[tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]] = field(default_factory=list)
    unresolved: list[tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]] = field(default_factory=list)
    patterns: set[tuple[bool, ...]] = field(default_factory=set)
    wrong_point: bool = False
    evaluations: int = 0

    def lower(self) -> mpf:
        return sum((arc_angle(a, b) for a, b in self.wrong_arcs), mpf(0)) / (2 * mp.pi)

    def upper(self) -> mpf:
        return self.lower() + sum((arc_angle(a, b) for a, b in self.unresolved), mpf(0)) / (2 * mp.pi)


def arc_angle(a: tuple[Fraction, Fraction], b: tuple[Fraction, Fraction]) -> mpf:
    """Counter-clockwise angle from a to b (less than a quarter turn here), to 70 digits."""
    with mp.workdps(70):
        return mp.atan2(to_mpf(a[0] * b[1] - a[1] * b[0]), to_mpf(a[0] * b[0] + a[1] * b[1]))


def to_mpf(value: Fraction) -> mpf:
    return mpf(value.numerator) / value.denominator


def square_point(side: int, s: Fraction) -> tuple[Fraction, Fraction]:
    (p0, p1), (q0, q1) = CORNERS[side], CORNERS[(side + 1) % 4]
    return (p0 + s * (q0 - p0), p1 + s * (q1 - p1))


def scan(net: Net) -> Scan:
    result = Scan()
    cache: dict[tuple[int, Fraction], tuple[Fraction, tuple[bool, ...]]] = {}

    def at(side: int, s: Fraction) -> tuple[Fraction, tuple[bool, ...]]:
        key = (side, s)
        if key not in cache:
            x = square_point(side, s)
            logits, bits, boundary = net.run(x, SCALE)
            delta = logits[1] - logits[0]
            result.evaluations += 1
            if not boundary:
                result.patterns.add(bits)
            if wrong(delta, x[0] - x[1]):
                result.wrong_point = True
            cache[key] = (delta, bits)
        return cache[key]

    minimum = Fraction(1, 2**MIN_EXP)
    stack = [(side, Fraction(k, INITIAL), Fraction(k + 1, INITIAL)) for side in range(4) for k in range(INITIAL)]
    while stack:
        side, lo, hi = stack.pop()
        (d_lo, p_lo), (d_hi, p_hi) = at(side, lo), at(side, hi)
        if p_lo != p_hi:
            if hi - lo <= minimum:
                result.unresolved.append((square_point(side, lo), square_point(side, hi)))
            else:
                mid = (lo + hi) / 2
                stack += [(side, lo, mid), (side, mid, hi)]
            continue
        # One convex region: Delta and x0 - x1 are affine in s on [lo, hi]; split at their zeros.
        x_lo, x_hi = square_point(side, lo), square_point(side, hi)
        g_lo, g_hi = x_lo[0] - x_lo[1], x_hi[0] - x_hi[1]
        cuts = {lo, hi}
        for f_lo, f_hi in ((d_lo, d_hi), (g_lo, g_hi)):
            if f_lo != f_hi:
                root = lo + (hi - lo) * f_lo / (f_lo - f_hi)
                if lo < root < hi:
                    cuts.add(root)
        points = sorted(cuts)
        for a, b in zip(points, points[1:]):
            m = (a + b) / 2
            frac = (m - lo) / (hi - lo)
            delta = d_lo + (d_hi - d_lo) * frac
            x_m = square_point(side, m)
            if wrong(delta, x_m[0] - x_m[1]):
                result.wrong_arcs.append((square_point(side, a), square_point(side, b)))
    return result


# -- random networks --------------------------------------------------------------------------
def _power(sign: int, exponent: int) -> float:
    return float(sign * Fraction(2) ** exponent)


SIGN = st.sampled_from([1, -1])
WEIGHT = st.one_of(
    st.just(0.0),
    st.integers(-24, 24).map(lambda k: k / 8),  # exactly representable small values
    st.builds(_power, SIGN, st.integers(-149, -100)),  # tiny, down to the smallest subnormal
    st.builds(_power, SIGN, st.integers(40, 120)),  # huge
    st.floats(-8, 8, width=32),
    st.floats(width=32, allow_nan=False, allow_infinity=False),  # any finite float32
)


@st.composite
def networks(draw: st.DrawFn, max_hidden: int = 6) -> ModelWeights:
    d = draw(st.integers(1, max_hidden))
    w_hi = [draw(WEIGHT) for _ in range(d)]
    w_hh = [[draw(WEIGHT) for _ in range(d)] for _ in range(d)]
    w_oh = [[draw(WEIGHT) for _ in range(d)] for _ in range(2)]
    return weights_of(w_hi, w_hh, w_oh, path="<random>")


def float64_logits(weights: ModelWeights, x: np.ndarray) -> np.ndarray:
    w_hi = weights.w_hi.astype(np.float64)[:, 0]
    w_hh, w_oh = weights.w_hh.astype(np.float64), weights.w_oh.astype(np.float64)
    h = np.zeros(len(w_hi))
    with np.errstate(all="ignore"):
        for x_t in x:
            h = np.maximum(w_hh @ h + w_hi * x_t, 0.0)
        return w_oh @ h


# -- the properties -----------------------------------------------------------------------------
@examples(default=20, long=2000)
@given(networks())
def test_exact_error_rate_matches_the_angular_scan(weights: ModelWeights) -> None:
    result = check_model(weights)
    net = Net.of(weights)
    oracle = scan(net)
    assert result.search.complete
    assert result.verdict.word in ("proved", "refuted")
    event(f"verdict {result.verdict.word}")

    # Regions tile the plane: their angles sum to 2 pi.
    regions = [o.measure for o in result.regions]
    assert all(m is not None for m in regions)
    assert sum((m.lower for m in regions), mpf(0)) <= 1 + SLACK  # type: ignore[union-attr]
    assert sum((m.upper for m in regions), mpf(0)) >= 1 - SLACK  # type: ignore[union-attr]

    # Every pattern the scan met strictly inside a region is a region of the harness, and every
    # region wide enough to hold a first-pass sample was met by the scan.
    harness = {tuple(b for step in o.region.pattern for b in step): o.measure for o in result.regions}
    assert oracle.patterns <= set(harness)
    wide = mpf(2) / (INITIAL * 4)  # two first-pass brackets, as a fraction of the turn (upper bound)
    assert {p for p, m in harness.items() if m.lower > wide} <= oracle.patterns  # type: ignore[union-attr]

    # The exact error rate lies within the scan's exact part and its unresolved slivers.
    assert result.error is not None
    assert result.error.lower <= oracle.upper() + SLACK
    assert result.error.upper >= oracle.lower() - SLACK

    # Verdicts: a wrong point anywhere forbids "proved"; "proved" means an error rate of 0.
    if oracle.wrong_point or oracle.wrong_arcs:
        assert result.verdict.word == "refuted"
    if result.verdict.word == "proved":
        assert result.error.upper == 0 and not oracle.wrong_arcs
    else:
        assert result.counterexamples

    # Every counterexample is wrong in exact arithmetic, and in float64 unless float64 rounding
    # provably could change the prediction there (the float64 band, from the same error analysis).
    for cex in result.counterexamples:
        x = cex.x_exact
        logits, _, _ = net.run(x)
        assert wrong(logits[1] - logits[0], x[0] - x[1])
        x64 = np.array([float(v) for v in x])
        out = float64_logits(weights, x64)
        predicted64 = int(np.argmax(out))
        if x64[0] == x64[1]:  # the float64 input itself is a tie: no well-defined target there
            event("counterexample rounds to a float64 tie")
            continue
        if predicted64 != (1 if x64[0] > x64[1] else 0):
            event("counterexample misclassified by float64")
        else:  # allowed only where float64 rounding provably could change the prediction
            assert not prediction_certain_at(net_exact(weights), x, FLOAT64), f"float64 does not reproduce {cex}"
            event("counterexample inside the float64 band (float64 not wrong there)")


def net_exact(weights: ModelWeights) -> ExactRNN:
    return ExactRNN.from_weights(weights)


@examples(default=10, long=1000)
@given(networks(max_hidden=4), st.data())
def test_float64_band_is_sound_at_random_points(weights: ModelWeights, data: st.DataObject) -> None:
    """Where the float64 bound says the prediction is certain, numpy's float64 pass agrees with the exact one."""
    net = Net.of(weights)
    exact = net_exact(weights)
    for _ in range(20):
        x = (Fraction(data.draw(st.floats(-4, 4, width=32))), Fraction(data.draw(st.floats(-4, 4, width=32))))
        logits, _, _ = net.run(x)
        predicted = 1 if logits[1] > logits[0] else 0
        out = float64_logits(weights, np.array([float(v) for v in x]))
        if prediction_certain_at(exact, x, FLOAT64):
            assert np.all(np.isfinite(out))
            assert int(np.argmax(out)) == predicted


def test_scan_oracle_on_hand_derived_models() -> None:
    """The oracle itself, on answers derived by hand."""
    from verify.corpus.handcrafted import handcrafted_2_2

    exact_correct = scan(Net.of(handcrafted_2_2()))  # exactly correct: error 0
    assert not exact_correct.wrong_arcs and exact_correct.upper() < mpf(2) ** -50
    zero = scan(Net.of(weights_of([0.0], [[0.0]], [[0.0], [0.0]])))
    assert abs(zero.lower() - mpf(1) / 2) < SLACK and not zero.unresolved  # Delta = 0: wrong where x0 > x1
    # One neuron, W_hh = 0: h2 = relu(x1), Delta = 2 relu(x1). Where x1 > 0 it predicts 1, wrong when
    # x1 > x0 (45 to 180 degrees); where x1 < 0 it predicts 0 (tie), wrong when x0 > x1 (225 to 360
    # degrees). 135 + 135 degrees: 3/4 of the turn.
    one = scan(Net.of(weights_of([1.0], [[0.0]], [[0.0], [2.0]])))
    assert one.lower() <= mpf(3) / 4 <= one.upper()
    assert one.upper() - one.lower() < mpf(2) ** -50


# -- faults and interrupts ------------------------------------------------------------------------
FAULTS_PER_NETWORK = 10


@examples(default=100, long=1000)
@given(networks(max_hidden=2), st.data())
def test_solver_faults_and_interrupts_never_give_a_wrong_answer(weights: ModelWeights, data: st.DataObject) -> None:
    """Each example: one tiny random network, the exact scan as oracle, then FAULTS_PER_NETWORK runs
    with a fault (Z3 unknown, a query timeout, the time budget spent mid-query, or an interrupt) at
    a random call. 100 examples by default: 1,000 faulty runs. No run may say "proved" or give an
    exact rate, a refutation needs a wrong point in the oracle, and the lower bound stays below
    the oracle's upper bound."""
    from tests.fault_harness import KINDS, Fault, count_checks, install
    from verify.check.regions import Budget
    from verify.render.json_report import build_report

    oracle = scan(Net.of(weights))
    with pytest.MonkeyPatch.context() as patch:
        counter = count_checks(patch)
        clean = check_model(weights, CheckOptions(estimate_samples=0))
    assert clean.search.complete and clean.error is not None
    for _ in range(FAULTS_PER_NETWORK):
        fault = Fault(data.draw(st.integers(1, counter.calls)), data.draw(st.sampled_from(KINDS)))
        event(f"fault {fault.kind}")
        options = CheckOptions(budget=Budget(time_budget=1e5, clock=fault.clock), timeout_ms=None, estimate_samples=0)
        with pytest.MonkeyPatch.context() as patch:
            install(patch, fault)
            result = check_model(weights, options, stop=fault.flag)
        assert fault.fired
        report = build_report(result)
        assert report["verdict"] != "proved" and result.verdict.word != "proved"
        assert result.error is None and report["error_rate"] is None
        if result.verdict.word == "refuted":
            assert oracle.wrong_point or oracle.wrong_arcs
        bound = result.error_lower_bound
        assert bound is not None and bound.lower <= oracle.upper() + SLACK
        assert result.interrupted is (fault.kind == "interrupt")
