"""Issue 2: the exact n = 2 verifier against hand derivations, published facts and independent oracles."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from mpmath import mp, mpf

from tests.oracles import angular_scan_error, first_argmax
from verify.check.pipeline import CheckResult, check_model
from verify.check.claims import Verdict
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.check.sampling import sample_error_rate
from verify.check.standardize import standardize

ALGZOO_2_2 = Path("models/algzoo/2nd_argmax_2_2.pth")


@pytest.fixture(scope="module")
def algzoo() -> CheckResult:
    return check_model(load_weights(ALGZOO_2_2))


@pytest.fixture(scope="module")
def handcrafted() -> CheckResult:
    return check_model(handcrafted_2_2())


def test_handcrafted_is_proved_with_error_exactly_zero(handcrafted: CheckResult) -> None:
    assert handcrafted.verdict is Verdict.PROVED
    assert handcrafted.search.complete
    assert handcrafted.error is not None and handcrafted.error.lower == 0 and handcrafted.error.upper == 0
    assert handcrafted.counterexamples == []
    assert not handcrafted.misclassified


def test_handcrafted_logits_match_the_hand_derivation() -> None:
    """Delta = logit_1 - logit_0 = 2 (x0 - x1) everywhere (see verify.corpus.handcrafted)."""
    net = ExactRNN.from_weights(handcrafted_2_2())
    rng = np.random.default_rng(1)
    for x0, x1 in rng.integers(-1000, 1000, size=(200, 2)):
        logits = net.logits((Fraction(int(x0), 7), Fraction(int(x1), 3)))
        assert logits[1] - logits[0] == 2 * (Fraction(int(x0), 7) - Fraction(int(x1), 3))


def test_algzoo_is_refuted_with_six_regions_and_two_slivers(algzoo: CheckResult) -> None:
    assert algzoo.verdict is Verdict.REFUTED
    assert algzoo.search.complete
    assert len(algzoo.regions) == 6
    assert len(algzoo.misclassified) == 2
    assert len(algzoo.counterexamples) == 2
    assert all(c.float32_confirmed for c in algzoo.counterexamples)


def test_published_wedge_coefficients(algzoo: CheckResult) -> None:
    """Three symmetric pairs: a0 < a1, a0 > a1, and a pair agreeing to about 1 part in 2^11."""
    kinds = []
    for outcome in algzoo.regions:
        delta = [outcome.region.logits[1][k] - outcome.region.logits[0][k] for k in range(2)]
        a0, a1 = delta[0], -delta[1]
        assert a0 > 0 and a1 > 0
        close = abs(a0 - a1) / max(a0, a1) < Fraction(1, 2**10)
        kinds.append("close" if close else ("lt" if a0 < a1 else "gt"))
        assert (outcome.claim.verdict is Verdict.REFUTED) == close
    assert sorted(kinds) == ["close", "close", "gt", "gt", "lt", "lt"]


def test_error_rate_matches_independent_angular_scan(algzoo: CheckResult) -> None:
    scanned = angular_scan_error(algzoo.network)
    assert algzoo.error is not None
    with mp.workdps(50):
        # each of 4 arc ends is located to 8 * 2^-90 along the perimeter: far below 1e-20 in measure
        assert abs(scanned - algzoo.error.value) < mpf("1e-20")


def test_error_rate_matches_monte_carlo_on_the_float32_model(algzoo: CheckResult) -> None:
    estimate = sample_error_rate(load_weights(ALGZOO_2_2), 1 << 23, seed=12345)
    exact = float(algzoo.error.value)  # type: ignore[union-attr]
    sigma = math.sqrt(exact * (1 - exact) / estimate.samples)
    # 5 standard errors: a false alarm has probability below 1e-6 for a correct exact value
    assert abs(estimate.rate - exact) < 5 * sigma


def test_error_rate_is_printed_with_enough_precision(algzoo: CheckResult) -> None:
    err = algzoo.error
    assert err is not None
    assert err.upper - err.lower < mpf("1e-40")
    assert 12_000 < 1 / err.value < 14_000  # "about 1 in 13,000" (published)


def test_region_angles_sum_to_two_pi(algzoo: CheckResult, handcrafted: CheckResult) -> None:
    for result in (algzoo, handcrafted):
        lower = sum(o.measure.lower for o in result.regions)  # type: ignore[union-attr]
        upper = sum(o.measure.upper for o in result.regions)  # type: ignore[union-attr]
        assert lower <= 1 <= upper
        assert upper - lower < mpf("1e-40")


def test_cones_partition_each_region(algzoo: CheckResult) -> None:
    for outcome in algzoo.regions:
        parts = [m for c, m in zip(algzoo.cones, algzoo.cone_measures) if c.region == outcome.region.index]
        lower = sum(m.lower for m in parts)  # type: ignore[union-attr]
        upper = sum(m.upper for m in parts)  # type: ignore[union-attr]
        assert lower - mpf("1e-40") <= outcome.measure.upper and outcome.measure.lower <= upper + mpf("1e-40")  # type: ignore[union-attr]


def test_rays_are_exact(algzoo: CheckResult) -> None:
    """Decision rays zero Delta exactly (by the exact forward pass); boundary rays are shared."""
    net = algzoo.network
    decision = [r for o in algzoo.regions for r in o.rays.decision]  # type: ignore[union-attr]
    assert len(decision) == 2
    for ray in decision:
        logits = net.logits(ray)
        assert logits[0] == logits[1]
        assert ray[0] != ray[1]  # not the diagonal: the sliver has positive angle
    boundary = [r for o in algzoo.regions for r in o.rays.boundary]  # type: ignore[union-attr]
    for ray in set(boundary):
        assert boundary.count(ray) == 2  # every edge is shared by exactly two wedges


def test_counterexamples_are_wrong_in_exact_arithmetic(algzoo: CheckResult) -> None:
    net = algzoo.network
    for cex in algzoo.counterexamples:
        x = cex.x_exact
        target = 1 if x[0] > x[1] else 0
        assert first_argmax(net.logits(x)) != target
        x32 = tuple(Fraction(v) for v in cex.x_float32)
        assert first_argmax(net.logits(x32)) != (1 if x32[0] > x32[1] else 0)


def test_standardized_model_is_equivalent_and_has_the_published_form() -> None:
    net = ExactRNN.from_weights(load_weights(ALGZOO_2_2))
    std = standardize(net)
    rng = np.random.default_rng(7)
    for _ in range(200):
        x = tuple(Fraction(int(v), 97) for v in rng.integers(-500, 500, size=2))
        assert std.network.logits(x) == net.logits(x)
    s = std.network
    assert s.w_hi == (1, -1)
    assert all(-1 <= s.w_hh[i][i] < 0 for i in range(2))
    assert s.w_hh[0][1] >= 1 and s.w_hh[1][0] >= 1
    assert s.w_oh[0][0] > 0 > s.w_oh[0][1] and s.w_oh[1][0] < 0 < s.w_oh[1][1]


def test_standardize_keeps_zero_input_neurons_honest() -> None:
    w = weights_of([2.0, 0.0, -0.5], np.eye(3) * 0.5, np.ones((2, 3)))
    net = ExactRNN.from_weights(w)
    std = standardize(net)
    assert std.zero_input_neurons == (1,)
    assert std.network.w_hi == (1, 0, -1)
    for x in [(Fraction(3), Fraction(-2)), (Fraction(-1, 3), Fraction(5))]:
        assert std.network.logits(x) == net.logits(x)


def test_all_logits_tied_follow_torch_argmax() -> None:
    """W_oh = 0: every logit is 0, torch.argmax picks index 0, right exactly when x0 < x1 (half)."""
    w = weights_of([1.0, -1.0], [[0.5, 0.0], [0.0, 0.5]], np.zeros((2, 2)))
    result = check_model(w)
    assert result.verdict is Verdict.REFUTED
    assert result.error.lower <= mpf(1) / 2 <= result.error.upper  # type: ignore[union-attr]
    assert result.tie.lower <= 1 <= result.tie.upper  # type: ignore[union-attr]
    assert result.error_strict.lower <= 1 <= result.error_strict.upper  # type: ignore[union-attr]
    assert all(c.expected == 1 and c.predicted_float32 == 0 for c in result.counterexamples)


def test_dead_network_is_refuted_not_proved() -> None:
    w = weights_of([0.0, 0.0], np.zeros((2, 2)), [[1.0, 2.0], [3.0, 4.0]])
    result = check_model(w)
    assert result.verdict is Verdict.REFUTED
    assert result.error.lower <= mpf(1) / 2 <= result.error.upper  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_small_networks_agree_with_the_scan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 3
    w = weights_of(rng.normal(size=d), rng.normal(size=(d, d)), rng.normal(size=(2, d)) * 3)
    result = check_model(w)
    scanned = angular_scan_error(result.network, cells=1 << 15)
    with mp.workdps(50):
        assert abs(scanned - result.error.value) < mpf("1e-15")  # type: ignore[union-attr]
    assert (result.verdict is Verdict.PROVED) == (result.error.value == 0 and not result.counterexamples)  # type: ignore[union-attr]


def _exact_pattern(net: ExactRNN, x: tuple[Fraction, Fraction]) -> tuple[tuple[bool, ...], ...] | None:
    """Which neurons are active at each step, by the exact forward pass; None on a region boundary
    (some pre-activation exactly 0). Written here from the RNN's definition, not from verify.check.regions."""
    d = len(net.w_hi)
    h = [Fraction(0)] * d
    pattern = []
    for x_t in x:
        pre = [sum((net.w_hh[i][j] * h[j] for j in range(d)), Fraction(0)) + net.w_hi[i] * x_t for i in range(d)]
        if any(p == 0 for p in pre):
            return None
        pattern.append(tuple(p > 0 for p in pre))
        h = [max(p, Fraction(0)) for p in pre]
    return tuple(pattern)


def test_diagonal_rays_are_the_diagonal_by_the_exact_forward_pass(algzoo: CheckResult, handcrafted: CheckResult) -> None:
    """The diagonal x0 = x1 is the two rays (1, 1) and (-1, -1). A region lists a diagonal ray exactly
    when the exact forward pass at that ray runs through the region's own pattern (strictly inside)."""
    diagonal = [(Fraction(1), Fraction(1)), (Fraction(-1), Fraction(-1))]
    for result in (algzoo, handcrafted):
        listed = []
        for outcome in result.regions:
            rays = list(outcome.rays.diagonal)  # type: ignore[union-attr]
            for ray in rays:
                assert ray[0] == ray[1] and ray in diagonal
            expected = [r for r in diagonal if _exact_pattern(result.network, r) == outcome.region.pattern]
            assert sorted(rays) == sorted(expected)
            listed += rays
        inside = [r for r in diagonal if _exact_pattern(result.network, r) is not None]
        assert sorted(listed) == sorted(inside)  # each diagonal ray off every boundary is listed once
    # by hand: on AlgZoo's M_{2,2} the diagonal runs inside the two sliver wedges (both rays listed);
    # on the handcrafted model, at (1, 1) the second step's pre-activations are exactly 0 (a boundary)
    assert len([r for o in algzoo.regions for r in o.rays.diagonal]) == 2  # type: ignore[union-attr]
    assert _exact_pattern(handcrafted.network, diagonal[0]) is None
