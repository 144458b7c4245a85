"""Counterexample witnesses (issue 9 #5) and their float32 confirmation (issue 18 #1).

Expectations come from hand derivations (small linear programs solved on paper, forward
passes of 2-neuron networks done by hand) and from the planted networks' construction.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from verify.check.pipeline import CheckOptions, check_model
from verify.check.claims import Cone
from verify.core.claim import KthArgmaxClaim, first_argmax
from verify.check.counterexamples import THIN_SLACK, Counterexample, confirm, interior_point
from verify.formats.torch_model import Float32Model
from verify.geometry.planar import deepest_point, normalized_slack
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.core.linear import Constraint, Op, gt
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.geometry.lp import maximize
from verify.core.network import ExactRNN
from verify.corpus.planted import PlantedNetwork, Tent, planted_network

M22 = "models/algzoo/2nd_argmax_2_2.pth"
CLAIM = KthArgmaxClaim(2)


def run_confirm(weights: ModelWeights, x: tuple[F, ...], constraints: tuple[Constraint, ...] = (),
                measure_zero: bool = False) -> Counterexample:
    return confirm(x, region=0, piece="test", network=ExactRNN.from_weights(weights), model=Float32Model(weights),
                   claim=CLAIM, measure_zero=measure_zero, constraints=constraints)


# -- the exact LP and the deepest point ------------------------------------------------------


def test_lp_optimum_of_a_hand_solved_program() -> None:
    """max x + y s.t. x <= 2, y <= 3, x + 2y <= 6: the optimum is (2, 2) with value 4 (by hand:
    at x = 2 the third row allows y <= 2, and no other vertex does better)."""
    rows = [(F(1), F(0)), (F(0), F(1)), (F(1), F(2)), (F(-1), F(0)), (F(0), F(-1))]
    bounds = [F(2), F(3), F(6), F(0), F(0)]
    result = maximize((F(1), F(1)), rows, bounds, tight=[3, 4])  # from the origin
    assert result.optimal and result.point == (F(2), F(2)) and result.value == 4


def test_deepest_point_of_the_positive_quadrant_is_the_diagonal() -> None:
    """max min(x0, x1) over the box: (1, 1), normalized slack 1."""
    constraints = (gt((F(1), F(0))), gt((F(0), F(1))))
    assert deepest_point(constraints, 2, (F(1, 1000), F(5))) == (F(1), F(1))
    assert normalized_slack((F(1), F(1)), constraints) == 1


def test_deepest_point_of_a_thin_wedge_solved_by_hand() -> None:
    """Wedge 0 < K x1 < x0. Unit normals (0, 1) and (1, -K)/(1 + K); at the optimum x0 = 1 and
    both slacks equal t: x1 = t and (1 - K t)/(1 + K) = t, so t = 1/(1 + 2K)."""
    k = F(10**6)
    constraints = (gt((F(0), F(1))), gt((F(1), -k)))
    start = (F(1), F(1, 10**9))  # a point hugging the x1 = 0 edge, like a solver witness can
    t = 1 / (1 + 2 * k)
    assert deepest_point(constraints, 2, start) == (F(1), t)
    assert normalized_slack((F(1), t), constraints) == t
    assert normalized_slack(start, constraints) < t / 100  # the start point was far shallower


def test_deepest_point_in_four_dimensions_solved_by_hand() -> None:
    """x0 > x1 > x2 > x3 in the box: unit normals (e_i - e_{i+1})/2; the three gaps are equal
    and span x0 - x3 = 2, so x = (1, 1/3, -1/3, -1) with slack (2/3)/2 = 1/3. (In R^4 the extreme
    ray method gives up; before the LP the witness was Z3's point, often near an edge.)"""
    e = [tuple(F(int(i == j)) for j in range(4)) for i in range(4)]
    constraints = tuple(gt(tuple(a - b for a, b in zip(e[i], e[i + 1]))) for i in range(3))
    point = deepest_point(constraints, 4, (F(3), F(2, 1), F(2) - F(1, 10**6), F(0)))
    assert point == (F(1), F(1, 3), F(-1, 3), F(-1))
    assert normalized_slack(point, constraints) == F(1, 3)


def test_interior_point_prefers_the_deepest_point_over_the_witness() -> None:
    k = F(1000)
    constraints = (gt((F(0), F(1))), Constraint((F(-1), k), Op.LT))  # 0 < x1 and x0 - K x1 > 0
    cone = Cone(0, "p", 1, 0, False, constraints, (F(1), F(1, 10**12)))
    assert interior_point(cone, 2) == (F(1), 1 / (1 + 2 * k))


# -- on AlgZoo's M_{2,2}: witnesses inside the two slivers, float32-confirmed -----------------


def test_m22_witnesses_lie_deep_inside_their_slivers_and_are_float32_confirmed() -> None:
    """Each sliver's angle is 2 pi times its measure (the two add up to the published error rate,
    checked in test_exact_2d). A witness deep inside stays misclassified, by the exact forward
    pass, when turned by 40% of its sliver's angle either way; a point near an edge would not."""
    weights = load_weights(M22)
    result = check_model(weights, CheckOptions(estimate_samples=0))
    net = result.network
    wrong = [(c, m) for c, m in zip(result.cones, result.cone_measures) if not c.correct]
    assert len(wrong) == 2
    for cone, measure in wrong:
        assert measure is not None
        angle = F(2) * F(314159, 100000) * F(str(measure.lower))
        x = interior_point(cone, 2)
        assert max(abs(v) for v in x) == 1
        cex = confirm(x, region=cone.region, piece=cone.piece, network=net, model=Float32Model(weights),
                      claim=CLAIM, measure_zero=False, constraints=cone.constraints)
        assert cex.float32_confirmed and not cex.thin
        perpendicular = (-x[1], x[0])
        for turn in (F(2, 5) * angle, -F(2, 5) * angle, F(0)):
            y = tuple(a + turn * p for a, p in zip(x, perpendicular))
            target = 1 if y[0] > y[1] else 0
            assert first_argmax(net.logits(y)) != target, turn
        for turn in (F(11, 10) * angle, -F(11, 10) * angle):  # a whole sliver away: outside, on one side
            y = tuple(a + turn * p for a, p in zip(x, perpendicular))
            assert y[0] == y[1] or first_argmax(net.logits(y)) == (1 if y[0] > y[1] else 0), turn
        x32 = cex.x_float32_exact  # the float32 point itself is wrong in exact arithmetic too
        assert first_argmax(net.logits(x32)) != (1 if x32[0] > x32[1] else 0)


# -- thin cones --------------------------------------------------------------------------------


def thin_planted() -> PlantedNetwork:
    """A tent of half-width 2^-22 and height 2 at slope 2^-10: the model is wrong on a wedge of
    slopes narrower than 2^-21 around 2^-10 (phi(t) = 1 - t - 2^23 tent(t) < 0 only where the
    tent exceeds 1 - t, i.e. well inside [m - 2^-22, m + 2^-22]). Every weight is a short dyadic."""
    m, half = F(1, 2**10), F(1, 2**22)
    return planted_network([Tent(m - half, m + half, F(2**23), -1)], path="<thin planted>")


def test_a_planted_thin_cone_is_marked_thin() -> None:
    """Any x with max |x_i| = 1 in a wedge of angle theta is within sqrt(2) * theta / 2 of its
    edges, so its L1-normalized slack is at most that: below 2^-20 for these wedges."""
    planted = thin_planted()
    wedge_angles = [q - p for p, q in planted.wrong_slopes(1)]  # slope widths bound the angle near slope 2^-10
    assert wedge_angles and all(w < F(1, 2**21) for w in wedge_angles)
    result = check_model(planted.weights, CheckOptions(estimate_samples=0))
    net, model = result.network, Float32Model(planted.weights)
    wrong = [c for c in result.cones if not c.correct]
    assert wrong
    for cone in wrong:
        cex = confirm(interior_point(cone, 2), region=cone.region, piece=cone.piece, network=net, model=model,
                      claim=CLAIM, measure_zero=False, constraints=cone.constraints)
        assert cex.thin and cex.slack is not None and 0 < cex.slack < THIN_SLACK


def test_a_wide_cone_is_not_thin_and_a_boundary_point_is() -> None:
    quadrant = (gt((F(1), F(0))), gt((F(1), F(-1))))  # x0 > 0, x0 > x1: a 135-degree wedge
    wide = run_confirm(handcrafted_2_2(), (F(1), F(-1, 2)), quadrant)
    assert not wide.thin and wide.slack == F(3, 4)  # by hand: min(1 / 1, (1 + 1/2) / 2)
    boundary = run_confirm(handcrafted_2_2(), (F(1), F(1, 2)), measure_zero=True)
    assert boundary.thin


def test_a_cone_the_float32_point_leaves_is_thin() -> None:
    """The wedge x1 < x0 < (1 + 2^-40) x1 around (1, 1): rounding to float32 lands on the diagonal."""
    eps = F(1, 2**40)
    constraints = (gt((F(1), F(-1))), gt((F(-1), 1 + eps)))
    x = (1 + eps / 2, F(1))
    cex = run_confirm(handcrafted_2_2(), x, constraints)
    assert cex.x_float32 == (1.0, 1.0) and cex.thin


# -- float32 confirmation (issue 18 #1) -------------------------------------------------------


def test_a_point_float32_classifies_correctly_is_not_confirmed() -> None:
    """Handcrafted M_{2,2} at x = (1, 1/2), by hand: h1 = relu(1, -1) = (1, 0);
    h2 = relu(-1 + 1/2, 1 - 1/2) = (0, 1/2); logits = (-1/2, 1/2): predicts 1, the smaller input."""
    cex = run_confirm(handcrafted_2_2(), (F(1), F(1, 2)))
    assert cex.logits_float32 == (-0.5, 0.5)
    assert cex.predicted_float32 == 1 and cex.expected == 1
    assert cex.float32_confirmed is False


def test_a_wrong_point_with_a_strict_float32_winner_is_confirmed() -> None:
    """Output rows swapped: logits (1/2, -1/2) at x = (1, 1/2), predicts 0, the target is 1."""
    swapped = weights_of([1.0, -1.0], [[-1.0, 1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, -1.0]])
    cex = run_confirm(swapped, (F(1), F(1, 2)))
    assert cex.logits_float32 == (0.5, -0.5) and cex.float32_confirmed is True


def test_a_tie_in_the_float32_logits_is_not_confirmed() -> None:
    """W_hi = (1, 2^-30), W_hh = 0, W_oh = [[1, 1], [1, 0]]: at x = (1, 1/2), h2 = (1/2, 2^-31) and
    the exact logits are (1/2 + 2^-31, 1/2), a strict (wrong) win for 0; float32 rounds 1/2 + 2^-31
    to 1/2, so PyTorch sees the tie (1/2, 1/2) and answers 0 by its tie-break: an accident of rounding."""
    rounded_tie = weights_of([1.0, 2.0**-30], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    cex = run_confirm(rounded_tie, (F(1), F(1, 2)))
    assert cex.logits_float32 == (0.5, 0.5)
    assert cex.predicted_exact == 0 and cex.predicted_float32 == 0 and cex.expected == 1
    assert cex.float32_confirmed is False


def test_a_tie_the_exact_network_shares_is_the_models_answer() -> None:
    """Equal output rows: logits (s, s) identically, in exact arithmetic too; the model really
    answers 0 everywhere (torch.argmax's first index), which is wrong at x = (1, 1/2)."""
    tied = weights_of([1.0, -1.0], [[-1.0, 1.0], [1.0, -1.0]], [[1.0, 1.0], [1.0, 1.0]])
    cex = run_confirm(tied, (F(1), F(1, 2)))
    assert cex.logits_float32 == (0.5, 0.5)  # h2 = (0, 1/2) as in the handcrafted model, both rows sum it
    assert cex.predicted_float32 == 0 and cex.expected == 1
    assert cex.float32_confirmed is True


@pytest.mark.parametrize("x", [(F(1), F(1)), (F(1), 1 + F(1, 2**30))])
def test_tied_float32_inputs_are_not_confirmed(x: tuple[F, F]) -> None:
    """x0 = x1 (exactly, or after rounding to float32) has no 2nd argmax: nothing to confirm,
    even where the model's float32 logits have a strict winner. By hand, with W_hh = 0:
    h2 = relu(W_hi x1) = (1, 0) and logits = (1, 0): predicts 0, strictly."""
    strict_first = weights_of([1.0, -1.0], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
    cex = run_confirm(strict_first, x)
    assert cex.x_float32 == (1.0, 1.0) and cex.logits_float32 == (1.0, 0.0)
    assert cex.float32_confirmed is False


def test_a_point_beyond_float32_range_is_scaled_onto_its_ray_first() -> None:
    """A solver point (2^200, 2^199) overflows float32; on its ray, (1, 1/2) is the same input up
    to scale, and the handcrafted model is right there (logits (-1/2, 1/2) by hand: h1 = (1, 0),
    h2 = relu(-1 + 1/2, 1 - 1/2))."""
    cex = run_confirm(handcrafted_2_2(), (F(2) ** 200, F(2) ** 199), measure_zero=True)
    assert cex.x_exact == (F(1), F(1, 2)) and cex.x_float32 == (1.0, 0.5)
    assert cex.logits_float32 == (-0.5, 0.5) and cex.float32_confirmed is False
