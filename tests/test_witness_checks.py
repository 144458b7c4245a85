"""Issue 11: `confirm` re-derives, in exact arithmetic, that a witness has its region's activation
pattern and its cone's predicted class, and refuses (WitnessMismatch) a witness that does not."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from verify.check.counterexamples import WitnessMismatch, check_witness, confirm, interior_point
from verify.check.pipeline import CheckOptions, check_model
from verify.core.claim import claim_from_name
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.formats.torch_model import Float32Model


@pytest.fixture(scope="module")
def m22(m22_path):  # type: ignore[no-untyped-def]
    weights = load_weights(m22_path)
    return weights, check_model(weights, CheckOptions(claim=claim_from_name("2nd-argmax"), estimate_samples=0))


def _hand_pattern(network: ExactRNN, x: tuple[F, ...]) -> tuple[tuple[bool, ...], ...]:
    """Independent oracle: run the recurrence by hand, h_t = relu(W_hi x_t + W_hh h_{t-1})."""
    h = [F(0)] * network.hidden_size
    bits = []
    for x_t in x:
        pre = [network.w_hi[i] * x_t + sum(network.w_hh[i][j] * h[j] for j in range(len(h))) for i in range(len(h))]
        bits.append(tuple(v > 0 for v in pre))
        h = [max(F(0), v) for v in pre]
    return tuple(bits)


def test_every_reported_witness_passes_and_matches_the_hand_recurrence(m22) -> None:  # type: ignore[no-untyped-def]
    weights, result = m22
    patterns = {o.region.index: o.region.pattern for o in result.regions}
    wrong = [c for c, _ in result.misclassified]
    assert len(wrong) == 2 and len(result.counterexamples) == 2
    for cone, cex in zip(wrong, result.counterexamples):
        assert _hand_pattern(result.network, cex.x_exact) == tuple(tuple(s) for s in patterns[cone.region])
        check_witness(cex.x_exact, result.network, patterns[cone.region], predicted=cone.predicted)


def test_a_witness_from_another_region_is_refused(m22) -> None:  # type: ignore[no-untyped-def]
    weights, result = m22
    cone = next(c for c, _ in result.misclassified)
    mine = next(o.region for o in result.regions if o.region.index == cone.region)
    other = next(o for o in result.regions if o.region.pattern != mine.pattern and o.claim.cones)
    foreign = interior_point(other.claim.cones[0], 2)
    assert _hand_pattern(result.network, foreign) != tuple(tuple(s) for s in mine.pattern)  # the oracle agrees
    with pytest.raises(WitnessMismatch, match="activation pattern"):
        confirm(foreign, region=cone.region, piece=cone.piece, network=result.network, model=Float32Model(weights),
                claim=result.claim, measure_zero=False, constraints=cone.constraints, pattern=mine.pattern,
                predicted=cone.predicted)


def test_a_witness_with_the_wrong_predicted_class_is_refused(m22) -> None:  # type: ignore[no-untyped-def]
    weights, result = m22
    cone = next(c for c, _ in result.misclassified)
    mine = next(o.region for o in result.regions if o.region.index == cone.region)
    x = interior_point(cone, 2)
    assert cone.target != cone.predicted
    with pytest.raises(WitnessMismatch, match="predicted"):
        check_witness(x, result.network, mine.pattern, predicted=cone.target)
    with pytest.raises(WitnessMismatch, match="target"):  # as a boundary point whose target is what it predicts
        check_witness(x, result.network, mine.pattern, predicted=None, target=cone.predicted)
