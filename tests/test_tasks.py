"""The AlgZoo task zoo: every classification claim of the registry against independent oracles.

Oracles are written here, never taken from the code under test: order statistics by sorting,
the farthest-from-the-mean input by exact rational arithmetic, an exact forward pass over
Fractions, an angular scan for n = 2, Monte Carlo (>= 1e6 samples, 5 sigma) for n = 3, and rates
derived by hand from the symmetry of the Gaussian law.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.check.pipeline import CheckOptions, check_model
from verify.check.claims import Verdict
from verify.core.claim import CLAIM_NAMES, ArgmedianClaim, ArgoutlierClaim, KthArgmaxClaim, claim_from_name
from verify.core.errors import InputError
from verify.corpus.handcrafted import weights_of
from verify.formats import load_weights

ROOT = Path(__file__).resolve().parent.parent
M43 = ROOT / "models" / "trained_4_3.pth"


# ---- oracles -------------------------------------------------------------------------------

def median_position(x: list[Fraction]) -> int:
    return sorted(range(len(x)), key=lambda i: x[i])[len(x) // 2]


def outlier_position(x: list[Fraction]) -> int:
    mean = sum(x, Fraction(0)) / len(x)
    far = [abs(v - mean) for v in x]
    return far.index(max(far))  # the first index, as torch.argmax


def exact_logits(w_hi: list[Fraction], w_hh: list[list[Fraction]], w_oh: list[list[Fraction]],
                 x: list[Fraction]) -> list[Fraction]:
    h = [Fraction(0)] * len(w_hi)
    for xt in x:
        h = [max(Fraction(0), sum((w_hh[i][j] * h[j] for j in range(len(h))), Fraction(0)) + w_hi[i] * xt)
             for i in range(len(h))]
    return [sum((row[j] * h[j] for j in range(len(h))), Fraction(0)) for row in w_oh]


def first_max(values: list[Fraction]) -> int:
    return values.index(max(values))


def rational_weights(weights):  # type: ignore[no-untyped-def]
    return ([Fraction(float(v)) for v in weights.w_hi[:, 0]],
            [[Fraction(float(v)) for v in row] for row in weights.w_hh],
            [[Fraction(float(v)) for v in row] for row in weights.w_oh])


def numpy_predictions(weights, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    w_hi, w_hh, w_oh = (np.asarray(a, dtype=np.float64) for a in (weights.w_hi, weights.w_hh, weights.w_oh))
    h = np.zeros((x.shape[0], w_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.maximum(h @ w_hh.T + x[:, t:t + 1] @ w_hi.T, 0.0)
    return (h @ w_oh.T).argmax(axis=1)


def monte_carlo(weights, target_of, samples: int = 1_000_000, seed: int = 12345) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    x = np.random.default_rng(seed).standard_normal((samples, weights.seq_len))
    wrong = numpy_predictions(weights, x) != target_of(x)
    rate = float(wrong.mean())
    return rate, math.sqrt(max(rate * (1 - rate), 1e-12) / samples)


def np_median_targets(x: np.ndarray) -> np.ndarray:
    return np.argsort(x, axis=1)[:, x.shape[1] // 2]


def np_outlier_targets(x: np.ndarray) -> np.ndarray:
    return np.abs(x - x.mean(axis=1, keepdims=True)).argmax(axis=1)


def exact_rate(weights, claim: str):  # type: ignore[no-untyped-def]
    result = check_model(weights, CheckOptions(claim=claim_from_name(claim, weights.seq_len), estimate_samples=0))
    assert result.error is not None and result.error.method in ("exact-angle", "exact-solid-angle")
    return result, float(result.error.value), float(result.error.radius)


# ---- the registry --------------------------------------------------------------------------

def test_the_registry_names_every_task() -> None:
    from verify.core.claim import CLASSIFICATION_CLAIMS, REGRESSION_CLAIMS

    assert set(CLAIM_NAMES) == {"2nd-argmax", "argmax", "argmedian", "argoutlier", "median"}
    assert set(CLASSIFICATION_CLAIMS) == {"2nd-argmax", "argmax", "argmedian", "argoutlier"}
    assert REGRESSION_CLAIMS == ("median",)
    assert claim_from_name("argmax") == KthArgmaxClaim(1)
    assert isinstance(claim_from_name("argmedian", 5), ArgmedianClaim)
    assert isinstance(claim_from_name("argoutlier", 3), ArgoutlierClaim)
    for name in CLASSIFICATION_CLAIMS:
        assert claim_from_name(name).name == name


@pytest.mark.parametrize("name,n,words", [("argmedian", 4, "odd sequence length"), ("argmedian", 2, "odd"),
                                          ("argoutlier", 2, "at least 3"), ("argmax", 0, "at least 1")])
def test_a_length_the_task_cannot_have_is_one_line(name: str, n: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        claim_from_name(name, n, where="m.pth")
    message = str(info.value)
    assert message.startswith(f"m.pth: the {name} claim") and words in message and "\n" not in message


@pytest.mark.parametrize("name,n", [("argmedian", 3), ("argmedian", 5), ("argoutlier", 3), ("argoutlier", 4),
                                    ("argoutlier", 5), ("argmax", 4)])
def test_pieces_cover_random_points_once_with_the_oracles_answer(name: str, n: int) -> None:
    """Each generic point lies in exactly one piece, whose target is the oracle's answer."""
    claim = claim_from_name(name, n)
    pieces = claim.pieces(n)
    oracle = {"argmedian": median_position, "argoutlier": outlier_position,
              "argmax": lambda x: first_max(list(x))}[name]
    rng = random.Random(n * 31 + len(name))
    for _ in range(300):
        x = [Fraction(rng.randint(-10**6, 10**6), rng.randint(1, 1000)) for _ in range(n)]
        inside = [p for p in pieces if all(c.holds(x) for c in p.constraints)]
        assert len(inside) == 1, (x, [p.label for p in inside])
        assert inside[0].target == oracle(x) == claim.expected(x)
        assert claim.well_defined(x)
        assert int(claim.targets(np.array([[float(v) for v in x]]))[0]) == oracle(x)


def test_argoutlier_ties_follow_the_first_index_and_are_not_well_defined() -> None:
    claim = ArgoutlierClaim()
    x = [Fraction(-1), Fraction(0), Fraction(1)]  # x0 and x2 equally far from the mean 0
    assert claim.expected(x) == 0 and not claim.well_defined(x)
    assert not any(all(c.holds(x) for c in p.constraints) for p in claim.pieces(3))
    assert int(claim.targets(np.array([[-1.0, 0.0, 1.0]]))[0]) == 0


# ---- argmax, n = 2: handcrafted exactly correct, and an angular scan ---------------------------

def handcrafted_argmax_2_2():  # type: ignore[no-untyped-def]
    """By hand: W_hi = (1, -1) gives h1 = (x0+, x0-) (x+ = max(x, 0), x- = max(-x, 0)).
    W_hh = [[-1, 1], [1, -1]] gives h2 = (ReLU(-x0+ + x0- + x1), ReLU(x0+ - x0- - x1))
    = (ReLU(x1 - x0), ReLU(x0 - x1)) since x0+ - x0- = x0. W_oh = [[-1, 1], [1, -1]] gives
    logit_0 - logit_1 = 2 (h2[1] - h2[0]) = 2 (x0 - x1): logit 0 wins exactly when x0 > x1."""
    return weights_of([1.0, -1.0], [[-1.0, 1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, -1.0]], path="argmax_2_2")


def test_the_handcrafted_argmax_network_is_proved_with_error_zero() -> None:
    weights = handcrafted_argmax_2_2()
    w = rational_weights(weights)
    for x0, x1 in [(3, 1), (1, 3), (-2, -5), (-5, -2), (0, 7), (-7, 0)]:
        x = [Fraction(x0), Fraction(x1)]
        assert first_max(exact_logits(*w, x)) == first_max(x)
    result = check_model(weights, CheckOptions(claim=claim_from_name("argmax", 2), estimate_samples=0))
    assert result.verdict is Verdict.PROVED
    assert result.error is not None and result.error.upper == 0
    refuted = check_model(weights, CheckOptions(claim=claim_from_name("2nd-argmax", 2), estimate_samples=0))
    assert refuted.verdict is Verdict.REFUTED and float(refuted.error.value) == pytest.approx(1.0, abs=1e-12)


def angular_scan(weights, target, steps: int = 36_000) -> float:  # type: ignore[no-untyped-def]
    """Fraction of directions (cell midpoints on the circle) where the exact forward pass is wrong."""
    w = rational_weights(weights)
    wrong = 0
    for i in range(steps):
        angle = 2 * math.pi * (i + 0.5) / steps
        x = [Fraction(math.cos(angle)), Fraction(math.sin(angle))]
        wrong += first_max(exact_logits(*w, x)) != target(x)
    return wrong / steps


def random_network(seed: int, d: int, n: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return weights_of(rng.standard_normal(d), rng.standard_normal((d, d)), rng.standard_normal((n, d)),
                      path=f"random_{seed}")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_argmax_error_rates_of_n2_models_agree_with_an_angular_scan(seed: int) -> None:
    """Random M_{3,2}: every wrong set is a union of arcs whose ends are region or decision rays
    (at most 2 per region each), and the scan misjudges only the cells those rays cut."""
    weights = random_network(seed, 3, 2)
    result, rate, radius = exact_rate(weights, "argmax")
    steps = 20_000
    scanned = angular_scan(weights, lambda x: first_max(x), steps)
    assert radius < 1e-20 and 0.01 < rate < 0.99  # a real mix of right and wrong directions
    assert abs(scanned - rate) <= (4 * len(result.regions) + 4) / steps, (scanned, rate)


# ---- argmedian and argoutlier, n = 3 -------------------------------------------------------

def last_input_sign_network():  # type: ignore[no-untyped-def]
    """Planted: W_hh = 0 and W_hi = (1, -1), so h3 = (x2+, x2-); logits (x2+, x2-, 0) predict 0
    when x2 > 0 and 1 when x2 < 0. Wrong set known by symmetry for both tasks: the answer a is
    x0, x1 or x2 with probability 1/3 each; P(x2 > 0, a = x2) = 1/6 (the sign of x2 is independent
    of which input is the median, and the outlier is unchanged by x -> -x), so
    P(x2 > 0, a = x0) = (1/2 - 1/6) / 2 = 1/6 (x0 <-> x1), likewise P(x2 < 0, a = x1) = 1/6:
    right with probability 1/3, wrong with probability exactly 2/3."""
    return weights_of([1.0, -1.0], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
                      path="last_input_sign_2_3")


@pytest.mark.parametrize("claim", ["argmedian", "argoutlier"])
def test_a_planted_network_has_the_hand_derived_error_two_thirds(claim: str) -> None:
    weights = last_input_sign_network()
    result, rate, radius = exact_rate(weights, claim)
    assert result.verdict is Verdict.REFUTED
    assert abs(rate - 2 / 3) <= radius + 1e-25
    mc, se = monte_carlo(weights, np_median_targets if claim == "argmedian" else np_outlier_targets)
    assert abs(mc - 2 / 3) <= 5 * se


@pytest.mark.parametrize("claim,targets", [("argmedian", np_median_targets), ("argoutlier", np_outlier_targets),
                                           ("argmax", lambda x: x.argmax(axis=1))])
def test_exact_n3_rates_of_a_trained_model_agree_with_monte_carlo(claim, targets) -> None:  # type: ignore[no-untyped-def]
    """trained_4_3 (a 2nd-argmax model) under each task: exact rate within 5 sigma of 1e6 samples."""
    weights = load_weights(M43)
    result, rate, radius = exact_rate(weights, claim)
    assert result.verdict is Verdict.REFUTED and radius < 1e-20
    mc, se = monte_carlo(weights, targets)
    assert abs(mc - rate) <= 5 * se, (claim, mc, se, rate)


def test_argmedian_is_the_2nd_argmax_claim_for_three_inputs() -> None:
    weights = load_weights(M43)
    _, median_rate, _ = exact_rate(weights, "argmedian")
    _, second_rate, _ = exact_rate(weights, "2nd-argmax")
    assert median_rate == second_rate


@pytest.mark.parametrize("claim", ["argmax", "argmedian", "2nd-argmax"])
def test_a_one_output_regression_model_meets_a_classification_claim_in_one_line(tmp_path: Path, claim: str) -> None:
    import io

    import torch

    from verify.cli.main import main

    path = tmp_path / "median_4_3.pth"
    torch.save({"rnn.weight_ih_l0": torch.ones(4, 1), "rnn.weight_hh_l0": torch.zeros(4, 4),
                "linear.weight": torch.ones(1, 4)}, path)
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(path), "--claim", claim], stdout=out, stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err.getvalue()
    assert "1 output" in lines[0] and "regression" in lines[0] and "classification" in lines[0]


def test_the_vnnlib_export_writes_argmedian_orderings_and_refuses_argoutlier(tmp_path: Path) -> None:
    import io

    from verify.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["export", str(M43), "--claim", "argoutlier", "--vnnlib", str(tmp_path / "o")], stdout=out, stderr=err)
    assert code == 2 and len(err.getvalue().strip().splitlines()) == 1 and "argoutlier" in err.getvalue()
    code = main(["export", str(M43), "--claim", "argmedian", "--vnnlib", str(tmp_path / "m")],
                stdout=io.StringIO(), stderr=io.StringIO())
    files = sorted(p.name for p in (tmp_path / "m" / "vnnlib").iterdir())
    # n = 3, median = 2nd largest: one property per ordered choice of the top two, 3 * 2 = 6.
    assert code == 0 and len(files) == 6
