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
from verify.check.pipeline import CheckOptions, CheckResult, check_model
from verify.formats.torch_model import Float32Model
from verify.check.float32_band import (FLOAT32, FLOAT64, Bound, Float32Band, FloatFormat, LogitErrors,
                                   prediction_certain_at, toy_format, uncertain_band)
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.core.network import ExactRNN
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.corpus.planted import planted_network, tent_of_kind
from verify.render.json_report import build_report


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
    """The headline, |float32 error rate - exact| <= U, tested where it can fail: paired, on the same
    10^6 Gaussian inputs, float32 and the exact network may disagree (prediction or target) only with
    probability <= U (about 5e-7). An unpaired comparison of two rates would need about 10^11 samples
    to see a band this narrow; the paired count sees it directly. With mean <= 10^6 U < 0.6, the
    chance of 7 or more disagreements is below 1e-5 (Poisson tail), so that is the tolerance."""
    weights = load_weights(m22_path)
    result = exact_check(weights)
    assert result.float32_uncertain is not None
    bound = float(result.float32_uncertain.upper)
    assert 0 < bound < 1e-6
    xs = np.random.default_rng(3).standard_normal((1_000_000, 2))
    x32 = xs.astype(np.float32)
    predicted32 = Float32Model(weights).predict(x32)
    logits = result.network.logits_float64(xs)
    exact = (logits[:, 1] > logits[:, 0]).astype(int)
    close = np.nonzero(np.abs(logits[:, 1] - logits[:, 0]) < 1e-9 * (1 + np.abs(logits).max(axis=1)))[0]
    for i in close:  # float64 can't be trusted this near the decision ray: decide exactly
        exact[i] = exact_prediction(result, (F(float(xs[i, 0])), F(float(xs[i, 1]))))
    target64 = np.where(xs[:, 0] < xs[:, 1], 0, 1)
    target32 = np.where(x32[:, 0] < x32[:, 1], 0, 1)
    disagree = int(np.sum((predicted32 != exact) | (target32 != target64)))
    assert len(xs) * bound < 0.6
    assert disagree <= 6
    # and the float32 error rate itself is the exact one on these samples, up to those disagreements
    wrong32, wrong_exact = int(np.sum(predicted32 != target32)), int(np.sum(exact != target64))
    assert abs(wrong32 - wrong_exact) <= disagree
    sigma = math.sqrt(float(result.error.value) / len(xs))  # type: ignore[union-attr]
    assert abs(wrong_exact / len(xs) - float(result.error.value)) < 5 * sigma  # type: ignore[union-attr]


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


# -- (3) an adversarial rounding of our own, at the band's edges ---------------------------------------
def _sign(v: F) -> int:
    return (v > 0) - (v < 0)


def adversarial_gap(weights: ModelWeights, x: Sequence[F], push: int, u: F) -> F:
    """logit_1 - logit_0 of one float computation under the bound's own error model (every product and
    every partial sum, in index order, times (1 + delta) with |delta| <= u; the input rounded the same
    way), each delta = +-u chosen to push the gap in direction `push`. Exact rationals throughout:
    a realizable float outcome, so wherever it flips the exact prediction a sound band must be uncertain.
    The signs come from the gap's sensitivity to each quantity, by back-propagation on the exact pattern."""
    w_hi = [F(float(v)) for v in weights.w_hi[:, 0]]
    w_hh = [[F(float(v)) for v in row] for row in weights.w_hh]
    w_oh = [[F(float(v)) for v in row] for row in weights.w_oh]
    d, n = len(w_hi), len(x)
    states, h = [], [F(0)] * d  # exact forward pass for the activation pattern
    for t in range(n):
        h = [max(F(0), sum((w_hh[i][j] * h[j] for j in range(d)), F(0)) + w_hi[i] * x[t]) for i in range(d)]
        states.append([v > 0 for v in h])
    sens = [[F(0)] * d for _ in range(n)]  # d gap / d pre-activation (t, i)
    g = [w_oh[1][j] - w_oh[0][j] for j in range(d)]  # d gap / d h_n
    for t in reversed(range(n)):
        sens[t] = [g[i] if states[t][i] else F(0) for i in range(d)]
        g = [sum((w_hh[i][j] * sens[t][i] for i in range(d)), F(0)) for j in range(d)]

    def rounded_dot(terms: list[F], direction: F) -> F:
        def rnd(v: F) -> F:
            return v * (1 + _sign(direction * v) * push * u)
        total = rnd(terms[0])
        for term in terms[1:]:
            total = rnd(total + rnd(term))
        return total

    h = [F(0)] * d
    for t in range(n):
        dx = sum((sens[t][i] * w_hi[i] for i in range(d)), F(0))
        x_hat = x[t] * (1 + _sign(dx * x[t]) * push * u)
        h = [max(F(0), rounded_dot([w_hh[i][j] * h[j] for j in range(d)] + [w_hi[i] * x_hat], sens[t][i]))
             for i in range(d)]
    logit0 = rounded_dot([w_oh[0][j] * h[j] for j in range(d)], F(-1))
    logit1 = rounded_dot([w_oh[1][j] * h[j] for j in range(d)], F(1))
    return logit1 - logit0


def test_band_edges_point_by_point_against_the_worst_case_and_an_adversary(m22_path) -> None:  # type: ignore[no-untyped-def]
    """Across each decision ray of AlgZoo's M_{2,2}, on a line from 3 band half-widths on one side to 3 on
    the other (steps of 1/20 half-width):
    (a) every point the band calls certain has its pointwise worst-case bound (the logits' error bounds
        evaluated at the point itself, summed over the two logits) below the exact logit gap, so the
        worst case lies just outside the band; a band narrowed to the larger of the two logits' bounds
        (about half) calls points certain where the summed bound still exceeds the gap;
    (b) every point where our adversarial float32 computation predicts otherwise than the exact network
        is in the band, and the adversary does flip points beyond 1/5 of the half-width: the band is at
        most 5 times a realized worst case (measured: the adversary reaches 1/4 to 3/10 of it here)."""
    weights = load_weights(m22_path)
    result = exact_check(weights)
    band = band_of(result)
    u = FLOAT32.unit_roundoff
    reach = []
    for outcome in result.regions:
        rb = next(b for b in band.bands if b.region.index == outcome.region.index)
        for ray in outcome.rays.decision:  # type: ignore[union-attr]
            r = (F(ray[0]), F(ray[1]))
            perp = (-r[1], r[0])
            # where |gap . (r + s perp)| = slack . |r|: the band's half-width along perp, to first order
            half = dot_(rb.slack, (abs(r[0]), abs(r[1]))) / abs(dot_(rb.gap, perp))
            assert 0 < half < F(1, 10**5)
            flipped_at = []
            for k in range(-60, 61):
                s = half * F(k, 20)
                x = (r[0] + s * perp[0], r[1] + s * perp[1])
                exact = dot_(rb.gap, x)
                if exact == 0:
                    continue
                certain = band.certain(x)
                if abs(k) != 20:  # the edge is where the summed bound says (to first order: skip the edge itself)
                    assert certain == (abs(k) > 20), (ray, k)
                if certain:
                    assert prediction_certain_at(result.network, x), (ray, k)
                flipped = _sign(adversarial_gap(weights, x, -_sign(exact), u)) != _sign(exact)
                if flipped:
                    assert not certain, (ray, k)
                    flipped_at.append(abs(s) / half)
            assert flipped_at, ray
            reach.append(max(flipped_at))
    assert len(reach) == 2
    assert all(F(1, 5) <= q <= 1 for q in reach), reach


def dot_(a: Sequence[F], b: Sequence[F]) -> F:
    return sum((p * q for p, q in zip(a, b)), F(0))


# -- the matrix form of the bounds against the Fraction form ------------------------------------------
def _add(*bounds: Bound) -> Bound:
    n = len(bounds[0].lin)
    return Bound(tuple(sum((b.lin[k] for b in bounds), F(0)) for k in range(n)), sum((b.const for b in bounds), F(0)))


def _scale(bound: Bound, factor: F) -> Bound:
    return Bound(tuple(factor * v for v in bound.lin), factor * bound.const)


def _combine(weights: Sequence[F], bounds: Sequence[Bound], n: int) -> Bound:
    """sum_j |w_j| * bound_j."""
    terms = [_scale(b, abs(w)) for w, b in zip(weights, bounds) if w != 0]
    return _add(*terms) if terms else Bound(tuple(F(0) for _ in range(n)), F(0))


def _hidden_maps(network: "ExactRNN", pattern: Sequence[Sequence[bool]]) -> list[tuple[tuple[F, ...], ...]]:
    """H_1..H_n with h_t = H_t x on the region of `pattern` (rows: neurons, columns: inputs)."""
    n, d = network.seq_len, network.hidden_size
    h = tuple(tuple(F(0) for _ in range(n)) for _ in range(d))
    maps = []
    for t in range(n):
        pre = tuple(tuple(sum((network.w_hh[i][j] * h[j][k] for j in range(d)), F(0))
                          + (network.w_hi[i] if k == t else 0) for k in range(n)) for i in range(d))
        h = tuple(pre[i] if pattern[t][i] else tuple(F(0) for _ in range(n)) for i in range(d))
        maps.append(h)
    return maps


def logit_errors_reference(network: "ExactRNN", pattern: Sequence[Sequence[bool]], fmt: FloatFormat = FLOAT32) -> LogitErrors:
    """The error analysis of verify/check/float32_band.py in Python Fractions, term by term as its
    module docstring reads (the code that `logit_errors` replaced): the oracle of the matrix form."""
    n, d = network.seq_len, network.hidden_size
    u, eta = fmt.unit_roundoff, fmt.underflow
    zero = tuple(F(0) for _ in range(n))
    g_pre, g_out = fmt.gamma(d + 2), fmt.gamma(d + 1)
    err = [Bound(zero, F(0)) for _ in range(d)]  # |h_hat_t - h_t|
    magnitudes = []
    maps = _hidden_maps(network, pattern)
    h_abs = [Bound(zero, F(0)) for _ in range(d)]  # bound on |h_t|
    for t in range(n):
        x_t = Bound(tuple(F(1 if k == t else 0) for k in range(n)), F(0))  # |x_t|
        x_hat = Bound(_scale(x_t, 1 + u).lin, eta)  # |fl(x_t)|
        x_err = Bound(_scale(x_t, u).lin, eta)  # |fl(x_t) - x_t|
        h_hat = [_add(h_abs[j], err[j]) for j in range(d)]
        new_err = []
        for i in range(d):
            terms = _add(_combine(network.w_hh[i], h_hat, n), _scale(x_hat, abs(network.w_hi[i])))
            magnitudes.append(terms)
            rounding = _add(_scale(terms, g_pre), Bound(zero, 2 * (d + 2) * eta))
            carried = _add(_combine(network.w_hh[i], err, n), _scale(x_err, abs(network.w_hi[i])))
            new_err.append(_add(rounding, carried))  # ReLU is 1-Lipschitz and exact
        err = new_err
        h_abs = [Bound(tuple(abs(v) for v in maps[t][i]), F(0)) for i in range(d)]
    h_hat = [_add(h_abs[j], err[j]) for j in range(d)]
    errors = []
    for row in network.w_oh:
        terms = _combine(row, h_hat, n)
        magnitudes.append(terms)
        errors.append(_add(_scale(terms, g_out), Bound(zero, 2 * (d + 1) * eta), _combine(row, err, n)))
    return LogitErrors(errors=tuple(errors), magnitudes=tuple(magnitudes))


@examples(default=10, long=300)
@given(moderate_networks(), st.integers(0, 2**32 - 1), st.sampled_from(["float32", "float64", "toy8"]))
def test_the_matrix_bounds_are_the_fraction_bounds_exactly(weights: ModelWeights, seed: int, fmt_name: str) -> None:
    """`logit_errors` (exact rational matrices) must give every bound of `logit_errors_reference`
    (the error analysis in Python Fractions, term by term) exactly, on every activation pattern,
    including dead neurons and zero weights."""
    from verify.check.float32_band import logit_errors
    from verify.core.network import ExactRNN

    fmt = {"float32": FLOAT32, "float64": FLOAT64, "toy8": toy_format(8)}[fmt_name]
    network = ExactRNN.from_weights(weights)
    rng = np.random.default_rng(seed)
    d = network.hidden_size
    for _ in range(4):
        pattern = tuple(tuple(bool(b) for b in rng.integers(0, 2, d)) for _ in range(network.seq_len))
        fast, reference = logit_errors(network, pattern, fmt), logit_errors_reference(network, pattern, fmt)
        assert fast == reference
        assert len(reference.errors) == len(weights.w_oh) and len(reference.magnitudes) == network.seq_len * d + len(weights.w_oh)


def test_strict_membership_is_the_regions_own_strict_test(m22_path) -> None:  # type: ignore[no-untyped-def]
    """The integer strict test (`strict_test`) against `Region.contains(x, strictly=True)` on points inside, outside and on the
    boundary rays of every region of M_{2,2} (boundary points are never strictly inside)."""
    import random

    from verify.geometry.integer_cone import strict_test
    from verify.check.regions import RegionSearch
    from verify.core.network import ExactRNN
    from verify.geometry.planar import extreme_rays_2d
    from verify.smt.solver import SolverStats

    network = ExactRNN.from_weights(load_weights(m22_path))
    regions = list(RegionSearch(network, SolverStats()).run())
    rng = random.Random(3)
    points = [(F(rng.randint(-50, 50), rng.randint(1, 9)), F(rng.randint(-50, 50), rng.randint(1, 9))) for _ in range(300)]
    seen_inside = seen_boundary = 0
    for region in regions:
        inside = strict_test(region.constraints)
        rays = extreme_rays_2d(region.interior())
        for x in points + [tuple(F(v) for v in r) for r in rays]:
            expected = region.contains(x, strictly=True)
            assert inside(x) is expected
            seen_inside += expected
        for r in rays:
            seen_boundary += 1
            assert not inside(tuple(F(v) for v in r))
    assert seen_inside > 0 and seen_boundary > 0


def test_a_stale_matrix_cache_entry_of_a_reused_id_is_never_served(m22_path) -> None:  # type: ignore[no-untyped-def]
    """The network's matrices are cached by id() with the network kept: an entry left by another
    network at the same id (ids are reused once an object dies) must be rebuilt, not served."""
    from verify.check import float32_band
    from verify.core.network import ExactRNN

    net = ExactRNN.from_weights(load_weights(m22_path))
    other = ExactRNN.from_weights(handcrafted_2_2())
    float32_band._MATRICES.entries[(id(net), FLOAT32)] = (other, float32_band._band_matrices(other, FLOAT32))
    pattern = ((True, False), (True, True))
    assert float32_band.logit_errors(net, pattern) == logit_errors_reference(net, pattern)
    assert float32_band.logit_errors(other, pattern) == logit_errors_reference(other, pattern)
