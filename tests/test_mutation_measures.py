"""Issue 18 #4: exact linear algebra behind the cone geometry, by hand."""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import pytest

from verify.core.linear import Constraint, Op, ge, gt
from verify.geometry.measure import method_for, zero
from verify.geometry.planar import deepest_point, normalized_slack
from verify.geometry.solid import extreme_rays, project_out


def test_projection_onto_the_complement_of_a_skew_plane() -> None:
    """span{(1,1,0), (0,1,1)} has normal (1,-1,1); v = (1,0,0) projects to (v.n / n.n) n = (1,-1,1)/3.
    The Gram matrix [[2,1],[1,2]] is not diagonal, so the elimination is exercised."""
    assert project_out((F(1), F(0), F(0)), [(F(1), F(1), F(0)), (F(0), F(1), F(1))]) == (F(1, 3), F(-1, 3), F(1, 3))
    # a vector in the plane projects to 0; the normal to itself
    assert project_out((F(1), F(2), F(1)), [(F(1), F(1), F(0)), (F(0), F(1), F(1))]) == (0, 0, 0)
    assert project_out((F(2), F(-2), F(2)), [(F(1), F(1), F(0)), (F(0), F(1), F(1))]) == (2, -2, 2)


def test_projection_in_four_dimensions_with_three_basis_vectors() -> None:
    """Basis (1,1,0,0), (0,1,1,0), (0,0,1,1): its complement is spanned by n = (1,-1,1,-1);
    e1 = (1,0,0,0) projects to (e1.n / n.n) n = n / 4."""
    basis = [(F(1), F(1), F(0), F(0)), (F(0), F(1), F(1), F(0)), (F(0), F(0), F(1), F(1))]
    assert project_out((F(1), F(0), F(0), F(0)), basis) == (F(1, 4), F(-1, 4), F(1, 4), F(-1, 4))


def test_ge_keeps_its_coefficients() -> None:
    c = ge((F(1), F(-2)))
    assert c.coeffs == (1, -2) and c.op is Op.GE


# -- deepest_point without its float64 guess: the exact walk from the box corner alone ---------------

def _chain_4d() -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    e = [tuple(F(int(i == j)) for j in range(4)) for i in range(4)]
    return tuple(gt(tuple(a - b for a, b in zip(e[i], e[i + 1]))) for i in range(3)), (F(1), F(1, 3), F(-1, 3), F(-1))


# (constraints, n, start, deepest): max t with t <= (a . x) / |a|_1 for each normal a, in the box
#  - x0 > 0, x1 > 0: max min(x0, x1) at (1, 1);
#  - x0 < 0, x1 > 0 (the second quadrant): (-1, 1), whatever the start's magnitudes;
#  - x0 < 0, x1 < 0, x0 > x1: x1 = -1 and -x0 = (x0 - x1) / 2 = (x0 + 1) / 2, so x0 = -1/3 (t = 1/3);
#  - the chain x0 > x1 > x2 > x3 in R^4: (1, 1/3, -1/3, -1).
HAND = [
    ((gt((F(1), F(0))), gt((F(0), F(1)))), 2, (F(1, 1000), F(5)), (F(1), F(1))),
    ((gt((F(-1), F(0))), gt((F(0), F(1)))), 2, (F(-1, 1000), F(5)), (F(-1), F(1))),
    ((gt((F(-1), F(0))), gt((F(0), F(-1))), gt((F(1), F(-1)))), 2, (F(-1, 10), F(-3)), (F(-1, 3), F(-1))),
    (_chain_4d()[0], 4, (F(3), F(2), F(1), F(0)), _chain_4d()[1]),
]


@pytest.mark.parametrize("case", range(len(HAND)))
@pytest.mark.parametrize("guess", ["none", "singular"])
def test_deepest_point_without_a_usable_float_guess(case: int, guess: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The float walk is only a speed-up: with no guess, or a guess whose rows are singular in
    exact arithmetic, the exact walk from the box corner given by the start's signs finds the
    same optimum (worked out by hand above)."""
    import verify.geometry.planar as planar

    constraints, n, start, want = HAND[case]
    assert planar.deepest_point(constraints, n, start) == want  # with the float guess
    bad = None if guess == "none" else [0] * (n + 1)  # one row repeated: no vertex at all
    monkeypatch.setattr(planar, "float_basis", lambda *args, **kwargs: bad)
    assert planar.deepest_point(constraints, n, start) == want
    assert normalized_slack(want, constraints) > 0


def test_method_labels_per_dimension() -> None:
    assert method_for(2) == "exact-angle" and method_for(3) == "exact-solid-angle"
    z = zero("exact-solid-angle")
    assert z.method == "exact-solid-angle" and z.lower == 0 and z.upper == 0


def test_a_cone_without_interior_has_no_deepest_point() -> None:
    """x0 > x1 and x1 > x0: every point has slack min((x0 - x1)/2, (x1 - x0)/2) <= 0, best 0 on the
    diagonal; a best slack of exactly 0 is no interior point."""
    assert deepest_point((gt((F(1), F(-1))), gt((F(-1), F(1)))), 2, (F(1), F(1))) is None
    assert deepest_point((), 2, (F(1), F(1))) is None  # no constraint: all of R^2


def _cube_cone(n: int) -> list[Constraint]:
    """x0 >= |x_i| for i = 1..n-1: the cone over an (n-1)-cube, whose extreme rays are its 2^(n-1)
    vertices (1, +-1, ..., +-1)."""
    rows = []
    for i in range(1, n):
        for s in (1, -1):
            rows.append(Constraint(tuple(F(1) if k == 0 else F(-s) if k == i else F(0) for k in range(n)), Op.GE))
    return rows


def test_extreme_rays_of_a_cube_cone_and_giving_up_past_the_ray_limit() -> None:
    rays = extreme_rays(_cube_cone(4), 4)
    assert rays is not None
    assert sorted(rays) == sorted((F(1),) + signs for signs in itertools.product((F(-1), F(1)), repeat=3))
    # R^6: 32 extreme rays, over the 16 that the double description keeps in high dimension
    assert extreme_rays(_cube_cone(6), 6) is None
