"""A complete search whose cones are not all measured: the error rate is the certified interval.

The model always answers index 0, so by symmetry its 2nd-argmax error rate is exactly
E = 1 - P(x0 is the 2nd largest of 3) = 2/3 (hand derivation; ties have measure zero). A fault
makes chosen cones come back unmeasured (as when the quadrature gives up). The cones of a
complete search split R^3, so with W the true mass of the missing misclassified cones and C that
of the missing correct ones, what the measured cones leave is W + C and the interval must be
[E - W, E + C] when a misclassified cone is missing, and exactly E when only correct ones are.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from mpmath import mpf

import verify.check.pipeline as pipeline
from verify.check.claims import Verdict
from verify.check.pipeline import CheckOptions, check_model
from verify.corpus.handcrafted import weights_of
from verify.geometry.measure import working_precision

E = Fraction(2, 3)
SLACK = mpf("1e-50")  # the enclosures are about 1e-60 wide


def always_zero():  # noqa: ANN201
    # h_t = relu(x_t - h_{t-1}/2) >= 0 and logits w * h with w0 > w1 > w2 >= 0: index 0 always
    # wins (all logits tie at h = 0, and a tie goes to the first index)
    return weights_of([[1.0]], [[-0.5]], [[1.0], [0.5], [0.25]], path="always_zero_1_3")


def faulted(monkeypatch: pytest.MonkeyPatch, drop: list[object]):  # noqa: ANN201
    """check_model where every cone whose measure equals one in `drop` comes back unmeasured."""
    inner = pipeline._measured

    def measured(grown, n):  # noqa: ANN001, ANN202
        geometry, measure = inner(grown, n)
        return (geometry, None) if measure is not None and measure in drop else (geometry, measure)

    monkeypatch.setattr(pipeline, "_measured", measured)
    return check_model(always_zero(), CheckOptions(estimate_samples=0))


@pytest.fixture(scope="module")
def clean():  # noqa: ANN201
    return check_model(always_zero(), CheckOptions(estimate_samples=0))


def test_the_unfaulted_rate_is_the_hand_value(clean) -> None:  # noqa: ANN001
    assert clean.verdict is Verdict.REFUTED and clean.search.complete
    assert all(m is not None for m in clean.cone_measures)
    with working_precision():
        assert clean.error.lower <= mpf(2) / 3 <= clean.error.upper and clean.error.upper - clean.error.lower < SLACK


def _sum(result, drop, correct: bool) -> mpf:  # noqa: ANN001
    with working_precision():
        return sum((m.value for c, m in zip(result.cones, result.cone_measures) if m in drop and c.correct == correct),
                   mpf(0))


@pytest.mark.parametrize("which", ["wrong", "correct", "both"])
def test_missing_cones_give_the_interval_e_minus_w_to_e_plus_c(monkeypatch: pytest.MonkeyPatch, clean,  # noqa: ANN001
                                                                which: str) -> None:
    wrong = next(m for c, m in zip(clean.cones, clean.cone_measures) if not c.correct and m.value > 0)
    right = next(m for c, m in zip(clean.cones, clean.cone_measures) if c.correct and m.value > 0)
    drop = {"wrong": [wrong], "correct": [right], "both": [wrong, right]}[which]
    w, c = _sum(clean, drop, correct=False), _sum(clean, drop, correct=True)
    result = faulted(monkeypatch, drop)
    assert result.verdict is Verdict.REFUTED and result.search.complete  # the verdict does not move
    assert sum(m is None for m in result.cone_measures) >= len(drop)
    error = result.error
    with working_precision():
        truth = mpf(2) / 3
        if which == "correct":  # every misclassified cone is measured: still exact, not widened
            assert abs(error.lower - truth) < SLACK and abs(error.upper - truth) < SLACK
        else:
            assert w > 0
            assert abs(error.lower - (truth - w)) < SLACK, (error, w)
            assert abs(error.upper - (truth + c)) < SLACK, (error, c)
            assert error.lower <= truth <= error.upper
    if which != "correct":  # the report says why the rate is an interval
        assert any("without a certified measure" in note for note in result.notes)
