"""Issue 18 #4: the search group's survivors at df7c31e (1-in-5 sample), killed one by one.

Expectations come from hand derivations written here: the median pieces listed by hand and every
strictly ordered point of a length-n input in exactly one piece with its sorted middle value(s),
medians of small lists by hand, exact distances to the mean in Fractions.
"""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import numpy as np
import pytest

from verify.core.claim import ArgoutlierClaim, MedianClaim, regression_claim_from_name
from verify.core.linear import Op, dot
from verify.core.errors import InputError


def _hand_median(values: list[int]) -> F:
    """The median by hand: sort, take the middle value or the mean of the two middle ones."""
    s = sorted(values)
    if len(s) % 2:
        return F(s[len(s) // 2])
    return F(s[len(s) // 2 - 1] + s[len(s) // 2], 2)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_every_ordered_point_lies_in_exactly_one_median_piece_with_its_median(n: int) -> None:
    pieces = MedianClaim().median_pieces(n)
    # odd n: n choices of the middle, C(n-1, n//2) sets above it; even: n(n-1) ordered middle pairs,
    # C(n-2, n/2-1) sets above the higher one
    want_count = n * len(list(itertools.combinations(range(n - 1), n // 2))) if n % 2 else \
        n * (n - 1) * len(list(itertools.combinations(range(n - 2), n // 2 - 1)))
    assert len(pieces) == want_count
    for c in (c for p in pieces for c in p.constraints):
        assert c.op is Op.GT  # open cones only
    for perm in itertools.permutations(range(1, n + 1)):
        x = [F(v) for v in perm]
        inside = [p for p in pieces if all(c.holds(x) for c in p.constraints)]
        assert len(inside) == 1, (perm, [p.label for p in inside])
        assert dot(inside[0].median, x) == _hand_median(list(perm))


def test_median_piece_labels_by_hand() -> None:
    assert sorted(p.label for p in MedianClaim().median_pieces(3)) == sorted([
        "median x0, above {x1}", "median x0, above {x2}",
        "median x1, above {x0}", "median x1, above {x2}",
        "median x2, above {x0}", "median x2, above {x1}"])
    labels5 = {p.label for p in MedianClaim().median_pieces(5)}
    assert "median x2, above {x0,x4}" in labels5 and "median x0, above {x3,x4}" in labels5
    labels4 = {p.label for p in MedianClaim().median_pieces(4)}
    assert "median (x0+x1)/2, above {x3}" in labels4 and "median (x3+x2)/2, above {x1}" in labels4
    labels6 = {p.label for p in MedianClaim().median_pieces(6)}
    assert "median (x0+x1)/2, above {x2,x5}" in labels6
    for n in (3, 4, 5, 6):
        labels = [p.label for p in MedianClaim().median_pieces(n)]
        assert len(set(labels)) == len(labels)


def test_the_piece_of_a_point_is_named_by_its_middle_and_the_values_above() -> None:
    # x = (4, 1, 3, 2): sorted 1 < 2 < 3 < 4, middle pair x2 = 3 (high) and x3 = 2 (low), x0 above
    x = [F(4), F(1), F(3), F(2)]
    (piece,) = [p for p in MedianClaim().median_pieces(4) if all(c.holds(x) for c in p.constraints)]
    assert piece.label == "median (x2+x3)/2, above {x0}"
    assert piece.median == (0, 0, F(1, 2), F(1, 2))
    # x = (5, 1, 4, 2, 3): middle x4 = 3, above it x0 = 5 and x2 = 4
    x = [F(5), F(1), F(4), F(2), F(3)]
    (piece,) = [p for p in MedianClaim().median_pieces(5) if all(c.holds(x) for c in p.constraints)]
    assert piece.label == "median x4, above {x0,x2}"
    assert piece.median == (0, 0, 0, 0, 1)


@pytest.mark.parametrize("values,want", [
    ([3, 1, 2], F(2)),                 # odd: the middle
    ([1, 2, 3], F(2)),
    ([5, 1, 4, 2], F(3)),              # even: (2 + 4) / 2
    ([4, 1, 3, 2], F(5, 2)),           # (2 + 3) / 2
    ([F(1, 3), F(1, 2)], F(5, 12)),    # n = 2: the mean
    ([6, 1, 5, 2, 4, 3], F(7, 2)),     # n = 6: (3 + 4) / 2
    ([9, 7, 1, 3, 5], F(5)),
])
def test_the_exact_median_by_hand(values: list, want: F) -> None:
    got = MedianClaim().median(values)
    assert got == want and isinstance(got, F)


def test_a_regression_claim_error_without_where_has_no_prefix() -> None:
    with pytest.raises(InputError) as info:
        regression_claim_from_name("nope")
    assert str(info.value).startswith("unknown claim 'nope'")
    with pytest.raises(InputError) as info:
        regression_claim_from_name("median", seq_len=1)
    assert str(info.value).startswith("the median claim needs")
    with pytest.raises(InputError) as info:
        regression_claim_from_name("nope", where="m.pth")
    assert str(info.value).startswith("m.pth: unknown claim")
