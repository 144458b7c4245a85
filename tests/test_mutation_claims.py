"""Issue 18 #4: what a claim says (verify.core.claim), against enumerations done by hand.

The pieces of the k-th-argmax claim are listed on paper for small n; every strictly ordered
point must fall in exactly one piece, whose target is the position of its k-th largest
coordinate (read off the point, not computed by the code under test).
"""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import pytest

from verify.core.claim import KthArgmaxClaim, claim_from_name
from verify.core.errors import InputError

# (k, n) -> [(label, target)] in the order of itertools.permutations(range(n), k), written out by hand.
PIECES = {
    (2, 2): [("x0 > x1", 1), ("x1 > x0", 0)],
    (1, 2): [("x0 > rest", 0), ("x1 > rest", 1)],
    (2, 3): [("x0 > x1 > rest", 1), ("x0 > x2 > rest", 2), ("x1 > x0 > rest", 0),
             ("x1 > x2 > rest", 2), ("x2 > x0 > rest", 0), ("x2 > x1 > rest", 1)],
    (1, 3): [("x0 > rest", 0), ("x1 > rest", 1), ("x2 > rest", 2)],
    (3, 3): [("x0 > x1 > x2", 2), ("x0 > x2 > x1", 1), ("x1 > x0 > x2", 2),
             ("x1 > x2 > x0", 0), ("x2 > x0 > x1", 1), ("x2 > x1 > x0", 0)],
}


@pytest.mark.parametrize("k,n", sorted(PIECES))
def test_piece_labels_and_targets_by_hand(k: int, n: int) -> None:
    pieces = KthArgmaxClaim(k).pieces(n)
    assert [(p.label, p.target) for p in pieces] == PIECES[k, n]


@pytest.mark.parametrize("k,n", sorted(PIECES))
def test_every_strict_ordering_lies_in_exactly_the_piece_of_its_kth_largest(k: int, n: int) -> None:
    pieces = KthArgmaxClaim(k).pieces(n)
    for values in itertools.permutations(range(1, n + 1)):  # every strict order of n coordinates
        x = tuple(F(v) for v in values)
        by_size = sorted(range(n), key=lambda i: -values[i])  # positions, largest first
        inside = [p for p in pieces if all(c.holds(x) for c in p.constraints)]
        assert len(inside) == 1, (x, [p.label for p in inside])
        assert inside[0].target == by_size[k - 1]
        assert inside[0].label.startswith(" > ".join(f"x{i}" for i in by_size[:k]))
        # open cones: a tie between neighbours in the top k + 1 leaves the piece
        for a, b in zip(by_size[:k], by_size[1:k + 1]):
            tied = list(x)
            tied[b] = tied[a]
            assert not all(c.holds(tuple(tied)) for c in inside[0].constraints), (x, a, b)


def test_piece_constraints_are_the_strict_chain_below_the_top_k() -> None:
    # "x2 > x0 > rest" for n = 3: x2 - x0 > 0 and x0 - x1 > 0, nothing else.
    piece = KthArgmaxClaim(2).pieces(3)[4]
    assert piece.label == "x2 > x0 > rest"
    assert {(c.coeffs, c.op.name) for c in piece.constraints} == {
        ((F(-1), F(0), F(1)), "GT"), ((F(1), F(-1), F(0)), "GT")}


@pytest.mark.parametrize("k,n", [(2, 1), (3, 2), (0, 3)])
def test_a_claim_that_needs_more_inputs_has_no_pieces(k: int, n: int) -> None:
    with pytest.raises(ValueError, match=f"needs n >= {k}"):
        KthArgmaxClaim(k).pieces(n)


def test_claim_names() -> None:
    assert KthArgmaxClaim(2).name == "2nd-argmax" and KthArgmaxClaim(1).name == "argmax"
    assert KthArgmaxClaim().k == 2  # the default claim is AlgZoo's task
    assert "2nd largest coordinate" in KthArgmaxClaim(2).statement
    assert "the position of the largest coordinate" in KthArgmaxClaim(1).statement


def test_claim_from_name_finds_each_registered_claim() -> None:
    assert claim_from_name("2nd-argmax") == KthArgmaxClaim(2)
    assert claim_from_name("argmax", 1) == KthArgmaxClaim(1)
    assert claim_from_name("2nd-argmax", 2) == KthArgmaxClaim(2)


def test_an_unknown_claim_is_one_line_naming_the_valid_ones() -> None:
    with pytest.raises(InputError) as info:
        claim_from_name("3rd-argmax", 3, where="m.pth")
    assert str(info.value) == ("m.pth: unknown claim '3rd-argmax'; valid claims: 2nd-argmax, argmax, argmedian, "
                               "argoutlier, median")
    with pytest.raises(InputError) as info:
        claim_from_name("mode")
    assert str(info.value) == "unknown claim 'mode'; valid claims: 2nd-argmax, argmax, argmedian, argoutlier, median"


def test_a_sequence_too_short_for_the_claim_is_refused_with_the_length_needed() -> None:
    with pytest.raises(InputError) as info:
        claim_from_name("2nd-argmax", 1, where="short.pth")
    assert str(info.value) == "short.pth: the 2nd-argmax claim needs a sequence length of at least 2"
    with pytest.raises(InputError) as info:
        claim_from_name("2nd-argmax", 1)
    assert str(info.value) == "the 2nd-argmax claim needs a sequence length of at least 2"


# -- the task claims (argmedian, argoutlier), by hand ----------------------------------------------

def test_argoutlier_targets_use_each_rows_own_mean() -> None:
    """Row [0, 1, 10]: mean 11/3, distances 11/3, 8/3, 19/3 -> 2. Row [100, 101, 90]: mean 97,
    distances 3, 4, 7 -> 2 (against the mean of both rows, 50.3, it would be 1)."""
    import numpy as np

    from verify.core.claim import ArgoutlierClaim

    x = np.array([[0, 1, 10], [100, 101, 90]])
    assert ArgoutlierClaim().targets(x).tolist() == [2, 2]
    assert ArgoutlierClaim().targets(x.astype(np.float32)).tolist() == [2, 2]


def test_argoutlier_pieces_are_named_by_side_and_need_three_inputs() -> None:
    from verify.core.claim import ArgoutlierClaim

    pieces = ArgoutlierClaim().pieces(3)
    assert [(p.label, p.target) for p in pieces] == [
        (f"x{t} farthest, {side} the mean", t) for t in range(3) for side in ("above", "below")]
    # x = (0, 0, 3): mean 1, x2 is 2 above it, the others 1 below: only "x2 farthest, above"
    x = (F(0), F(0), F(3))
    assert [p.label for p in pieces if all(c.holds(x) for c in p.constraints)] == ["x2 farthest, above the mean"]
    with pytest.raises(ValueError, match="at least 3"):
        ArgoutlierClaim().pieces(2)
    assert ArgoutlierClaim().length_problem(2) == (
        "the argoutlier claim needs a sequence length of at least 3 (two inputs are always equally far from their mean)")


def test_argmedian_needs_an_odd_length_and_distinct_middle_values() -> None:
    from verify.core.claim import ArgmedianClaim

    claim = ArgmedianClaim()
    with pytest.raises(ValueError, match="odd sequence length"):
        claim.pieces(4)
    assert [p.target for p in claim.pieces(3)] == [1, 2, 0, 2, 0, 1]  # the median of x_a > x_b > x_c is b
    assert claim.well_defined([F(3), F(1), F(2)]) and not claim.well_defined([F(1), F(1), F(0)])
    assert not claim.well_defined([F(1), F(2), F(3), F(4)])
    assert claim.expected([F(3), F(1), F(2)]) == 2
