"""The float32 uncertainty band: outside it, the rounded forward pass must agree with the exact one.

Checked two ways. (1) The real PyTorch float32 model, densely sampled near the decision rays and
the diagonal (where rounding matters) and on Gaussian inputs. (2) A simulated format with only
10-12 significant bits, written here (every product and sum rounded to nearest-even, dot products
summed in random orders), whose bands are wide enough that disagreements are common, so the
bound is tested where it is tight. Rounding is simulated in float64: products are exact there,
and a sum rounded twice (to 53 then to p bits) is off by at most 2^-52 |sum| more, far inside
the one spare rounding per dot product that the bound charges.
"""

from __future__ import annotations

import math
from fractions import Fraction as F
from typing import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mpmath import mpf

from tests.conftest import examples
from verify.analysis import CheckOptions, CheckResult, check_model
from verify.float32 import Float32Model
from verify.float32_bounds import (FLOAT32, FLOAT64, Float32Band, prediction_certain_at, toy_format,
                                   uncertain_band)
from verify.handcrafted import handcrafted_2_2, weights_of
from verify.loading import ModelWeights, load_weights
from verify.planted import planted_network, tent_of_kind
from verify.report_json import build_report


def exact_check(weights: ModelWeights) -> CheckResult:
    result = check_model(weights, CheckOptions(estimate_samples=0))
    assert result.search.complete
    return result


def band_of(result: CheckResult, fmt=FLOAT32) -> Float32Band:  # type: ignore[no-untyped-def]
    return uncertain_band(result.network, [o.region for o in result.regions], fmt)


def target(x0: F | float, x1: F | float) -> int:
    """2nd argmax of two inputs with torch's stable sort: the smaller one; a tie gives index 1."""
    return 0 if x0 < x1 else 1


def exact_prediction(result: CheckResult, x: Sequence[F]) -> int:
    logits = result.network.logits(x)
    return 1 if logits[1] > logits[0] else 0


def critical_points(result: CheckResult, offsets: np.ndarray, radii: Sequence[float]) -> np.ndarray:
    """Points at small angular offsets from every decision ray and from the diagonal."""
    rays = [r for o in result.regions for r in o.rays.decision] + [(F(1), F(1)), (F(-1), F(-1))]  # type: ignore[union-attr]
    points = []
    for ray in rays:
        theta = math.atan2(float(ray[1]), float(ray[0]))
        for off in offsets:
            for radius in radii:
                points.append((radius * math.cos(theta + off), radius * math.sin(theta + off)))
    return np.array(points, dtype=np.float64)


OFFSETS = np.concatenate([-np.logspace(-10, -3, 60), np.logspace(-10, -3, 60)])


# -- (1) the real float32 model ----------------------------------------------------------------------
def float32_disagreements(result: CheckResult, band: Float32Band, xs: np.ndarray) -> tuple[int, int, int]:
    """(points outside the band that disagree, points inside, disagreements inside) for inputs xs
    given as float64 (rounded to float32 on the way in, as a user's inputs would be)."""
    x32 = xs.astype(np.float32)
    predicted32 = Float32Model(result.weights).predict(x32)
    outside_bad = inside = inside_bad = 0
    for x64, x_32, p32 in zip(xs, x32, predicted32):
        x = (F(float(x64[0])), F(float(x64[1])))
        if x[0] == x[1]:
            continue
        disagree = p32 != exact_prediction(result, x) or target(float(x_32[0]), float(x_32[1])) != target(*x)
        if band.certain(x):
            outside_bad += int(disagree)
        else:
            inside += 1
            inside_bad += int(disagree)
    return outside_bad, inside, inside_bad


def test_float32_agrees_outside_the_band_on_the_algzoo_model(m22_path) -> None:  # type: ignore[no-untyped-def]
    result = exact_check(load_weights(m22_path))
    band = band_of(result)
    rng = np.random.default_rng(0)
    near = critical_points(result, OFFSETS, (1e-3, 57.0))
    near32 = near.astype(np.float32).astype(np.float64)  # exactly representable inputs
    gaussian = rng.standard_normal((1500, 2))  # not representable: exercises the input rounding
    outside_bad, inside, inside_bad = float32_disagreements(result, band, np.concatenate([near, near32, gaussian]))
    assert outside_bad == 0
    assert inside_bad > 0  # the sampling does reach points where float32 really differs: the test has teeth
    assert inside < len(near) * 2  # and the band is not everything
    assert band.measure.upper < mpf(10) ** -5  # about 5e-7: small against the error rate 7.7e-5


def test_float32_agrees_outside_the_band_on_handcrafted_and_planted() -> None:
    rng = np.random.default_rng(1)
    for weights in (handcrafted_2_2(), planted_network([tent_of_kind("flip", F(-1, 2), F(1, 4), -1)]).weights):
        result = exact_check(weights)
        band = band_of(result)
        xs = np.concatenate([critical_points(result, OFFSETS[::2], (1.0, 3e4)), rng.standard_normal((500, 2))])
        outside_bad, _, _ = float32_disagreements(result, band, xs)
        assert outside_bad == 0


def test_float32_error_rate_lies_in_the_stated_interval(m22_path) -> None:  # type: ignore[no-untyped-def]
    """The headline: |float32 error rate - exact| <= U. Monte Carlo on the real model (10^6 Gaussian
    inputs, 6 standard errors of slack) lands inside [exact - U, exact + U]."""
    from verify.sampling import sample_error_rate

    weights = load_weights(m22_path)
    result = exact_check(weights)
    assert result.error is not None and result.float32_uncertain is not None
    estimate = sample_error_rate(weights, 1_000_000, seed=3)
    slack = 6 * math.sqrt(float(result.error.value) / 1_000_000)
    low = float(result.error.lower - result.float32_uncertain.upper) - slack
    high = float(result.error.upper + result.float32_uncertain.upper) + slack
    assert low <= estimate.rate <= high


# -- (2) a simulated low-precision format --------------------------------------------------------------
def round_bits(a: np.ndarray, bits: int) -> np.ndarray:
    """Round to `bits` significant bits, to nearest, ties to even (exponent unbounded)."""
    mantissa, exponent = np.frexp(a)
    return np.ldexp(np.rint(mantissa * 2.0**bits), exponent - bits)


def rounded_dot(terms: list[np.ndarray], bits: int, rng: np.random.Generator) -> np.ndarray:
    """Round each product, then add in a random order, rounding every partial sum."""
    order = rng.permutation(len(terms))
    total = round_bits(terms[order[0]], bits)
    for k in order[1:]:
        total = round_bits(total + round_bits(terms[k], bits), bits)
    return total


def simulated_predictions(weights: ModelWeights, xs: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    w_hi = weights.w_hi.astype(np.float64)[:, 0]
    w_hh, w_oh = weights.w_hh.astype(np.float64), weights.w_oh.astype(np.float64)
    d = len(w_hi)
    x_hat = round_bits(xs, bits)
    h = np.zeros((len(xs), d))
    for t in range(xs.shape[1]):
        pre = np.empty_like(h)
        for i in range(d):
            terms = [h[:, j] * w_hh[i, j] for j in range(d)] + [x_hat[:, t] * w_hi[i]]
            pre[:, i] = rounded_dot(terms, bits, rng)
        h = np.maximum(pre, 0.0)
    logits = np.stack([rounded_dot([h[:, j] * w_oh[k, j] for j in range(d)], bits, rng) for k in range(2)], axis=1)
    return (logits[:, 1] > logits[:, 0]).astype(int), x_hat


def check_simulated(weights: ModelWeights, bits: int, rng: np.random.Generator, gaussian: int) -> tuple[int, int]:
    """Outside-band disagreements must be 0; returns (inside disagreements, points) for the caller."""
    result = exact_check(weights)
    band = band_of(result, toy_format(bits))
    xs = np.concatenate([critical_points(result, OFFSETS[::2], (1.0,)), rng.standard_normal((gaussian, 2))])
    inside_bad = 0
    for _ in range(2):  # two random summation orders
        predicted, x_hat = simulated_predictions(weights, xs, bits, rng)
        for x64, xh, p in zip(xs, x_hat, predicted):
            x = (F(float(x64[0])), F(float(x64[1])))
            if x[0] == x[1]:
                continue
            disagree = p != exact_prediction(result, x) or target(float(xh[0]), float(xh[1])) != target(*x)
            if band.certain(x):
                assert not disagree, (x, bits)
            else:
                inside_bad += int(disagree)
    return inside_bad, len(xs)


@pytest.mark.parametrize("bits", [10, 12])
def test_simulated_low_precision_agrees_outside_the_band(bits: int, m22_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(bits)
    inside_bad, _ = check_simulated(load_weights(m22_path), bits, rng, gaussian=600)
    assert inside_bad > 0
    check_simulated(handcrafted_2_2(), bits, rng, gaussian=200)


MODERATE = st.one_of(st.integers(-16, 16).map(lambda k: k / 4), st.floats(-4, 4, width=32))


@st.composite
def moderate_networks(draw: st.DrawFn) -> ModelWeights:
    d = draw(st.integers(1, 4))
    return weights_of([draw(MODERATE) for _ in range(d)], [[draw(MODERATE) for _ in range(d)] for _ in range(d)],
                      [[draw(MODERATE) for _ in range(d)] for _ in range(2)], path="<random>")


@examples(default=5, long=300)
@given(moderate_networks(), st.integers(0, 2**32 - 1))
def test_simulated_band_on_random_networks(weights: ModelWeights, seed: int) -> None:
    check_simulated(weights, 10, np.random.default_rng(seed), gaussian=150)


# -- the band's own consistency ------------------------------------------------------------------------
def test_band_measure_matches_its_membership_by_monte_carlo(m22_path) -> None:  # type: ignore[no-untyped-def]
    """With 8-bit rounding the band is wide; the share of Gaussian points it holds matches its measure."""
    result = exact_check(load_weights(m22_path))
    band = band_of(result, toy_format(8))
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((3000, 2))
    inside = sum(not band.certain((F(float(a)), F(float(b)))) for a, b in xs)
    share = inside / len(xs)
    measure = float(band.measure.value)
    assert 0.01 < measure < 0.5  # wide enough for the comparison to mean something
    assert abs(share - measure) < 5 * math.sqrt(measure * (1 - measure) / len(xs))


def test_sectors_agree_with_the_pointwise_predicate(m22_path) -> None:  # type: ignore[no-untyped-def]
    """Each sector's flag is the band predicate at any direction inside it, and sectors tile the plane."""
    result = exact_check(load_weights(m22_path))
    band = band_of(result, toy_format(9))
    total_lower = sum((s.measure.lower for s in band.sectors), mpf(0))
    total_upper = sum((s.measure.upper for s in band.sectors), mpf(0))
    assert total_lower <= 1 <= total_upper + mpf(10) ** -40
    rng = np.random.default_rng(6)
    for theta in rng.uniform(0, 2 * math.pi, 500):
        x = (F(math.cos(theta)), F(math.sin(theta)))
        containing = [s for s in band.sectors if _strictly_between(s.start, x, s.end)]
        assert len(containing) == 1
        assert containing[0].uncertain == (not band.certain(x))


def _strictly_between(start, x, end) -> bool:  # type: ignore[no-untyped-def]
    """x strictly inside the counter-clockwise sector from start to end (narrower than pi here)."""
    return (start[0] * x[1] - start[1] * x[0]) > 0 and (x[0] * end[1] - x[1] * end[0]) > 0


def test_region_band_implies_the_pointwise_bound(m22_path) -> None:  # type: ignore[no-untyped-def]
    """The region-wide bound is looser than the bound evaluated at the point itself."""
    result = exact_check(load_weights(m22_path))
    band = band_of(result, toy_format(12))
    rng = np.random.default_rng(7)
    for a, b in rng.standard_normal((150, 2)):
        x = (F(float(a)), F(float(b)))
        if band.certain(x):
            assert prediction_certain_at(result.network, x, toy_format(12))


def test_report_carries_the_uncertain_measure(m22_path) -> None:  # type: ignore[no-untyped-def]
    result = exact_check(load_weights(m22_path))
    report = build_report(result)
    entry = report["float32_uncertain_measure"]
    assert entry is not None and entry["method"] == "float32-rounding-bound"
    assert 0 < entry["lower"] <= entry["value"] <= entry["upper"] < 1e-5
    assert float(band_of(result, FLOAT64).measure.upper) < entry["upper"] * 1e-6  # float64: 2^29 times narrower


def test_float_formats() -> None:
    assert FLOAT32.gamma(3) == F(3, 2**24 - 3)
    assert F(float(np.finfo(np.float32).max)) == FLOAT32.max_finite
    assert F(float(np.finfo(np.float64).max)) == FLOAT64.max_finite
    assert F(float(np.finfo(np.float32).smallest_subnormal)) == 2 * FLOAT32.underflow
