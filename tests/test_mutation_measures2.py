"""Exact geometry helpers of the measures, one at a time (issue 18's measures group).

Expectations come from code written for the tests (tests/exact_oracles.py: a Leibniz determinant,
a Gauss-Jordan inverse, brute-force extreme rays; vertex enumeration here) or from cones drawn by hand; none is read from the code under test.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest
from mpmath import iv, mpf

from tests.exact_oracles import determinant, extreme_rays, inverse
from verify.core.linear import Constraint, Op
from verify.geometry import lp
from verify.geometry.measure import interval, working_precision
from verify.geometry.planar import extreme_rays_2d
from verify.geometry.solid import _int_det, _Scaled, gram_det, measured_cone


def test_integer_determinant_against_the_permutation_expansion() -> None:
    """Random integer matrices of size 1 to 5, a third of them with zeros down the first columns
    (row swaps, and a column with no pivot at all)."""
    rng = np.random.default_rng(0)
    for trial in range(150):
        size = int(rng.integers(1, 6))
        m = [[int(v) for v in rng.integers(-4, 5, size)] for _ in range(size)]
        if trial % 3 == 0:
            for i in range(size - 1):
                m[i][0] = 0  # only the last row has a first-column pivot: a swap is needed
        if trial % 7 == 0 and size > 1:
            for row in m:
                row[1] = 0  # a zero column: det 0
        assert _int_det(m) == determinant([[F(v) for v in row] for row in m]), m


def test_integer_determinant_of_hand_matrices() -> None:
    assert _int_det([[0, 1], [1, 0]]) == -1  # one swap
    assert _int_det([[0, 0, 1], [0, 1, 0], [1, 0, 0]]) == -1
    assert _int_det([[2, 3], [4, 6]]) == 0
    assert _int_det([[0, 2], [0, 5]]) == 0  # no pivot in the first column
    assert _int_det([[7]]) == 7


def test_gram_determinant_against_the_permutation_expansion() -> None:
    """Gram matrices of random rational vectors (some zero, some dependent), built here."""
    rng = np.random.default_rng(1)
    for trial in range(120):
        n = int(rng.integers(1, 5))
        k = int(rng.integers(1, n + 2))
        vectors = [[F(int(v), int(rng.integers(1, 4))) for v in rng.integers(-3, 4, n)] for _ in range(k)]
        if trial % 4 == 0:
            vectors[0] = [F(0)] * n  # a zero vector first: its diagonal entry is 0, a swap is tried
        if trial % 5 == 0 and k > 1:
            vectors[-1] = [2 * v for v in vectors[0]]  # dependent
        gram = [[sum((a * b for a, b in zip(u, v)), F(0)) for v in vectors] for u in vectors]
        assert gram_det(vectors) == determinant(gram), vectors


def test_gram_determinant_by_hand() -> None:
    assert gram_det([[F(1), F(0)], [F(1), F(1)]]) == 1  # unit square sheared: area 1
    assert gram_det([[F(1, 2), F(0), F(0)], [F(0), F(3), F(0)]]) == F(9, 4)  # (1/2 * 3)^2
    assert gram_det([[F(1), F(2)], [F(2), F(4)]]) == 0


def test_scaled_vectors_over_one_denominator() -> None:
    s = _Scaled((F(1, 2), F(1, 3), F(2)))
    assert s.den == 6 and s.ints == (3, 2, 12)
    t = _Scaled((F(4), F(-1)))
    assert t.den == 1 and t.ints == (4, -1)


# ---- 2-D cones: their two boundary rays, counter-clockwise, largest |coordinate| 1 ----------------

def ge(a: F, b: F) -> Constraint:
    return Constraint((F(a), F(b)), Op.GE)


@pytest.mark.parametrize("constraints, expected", [
    # 3x - y >= 0 and y >= 0: between (1, 0) and (1, 3), i.e. (1/3, 1) scaled; counter-clockwise from (1, 0)
    ([ge(3, -1), ge(0, 1)], [(F(1), F(0)), (F(1, 3), F(1))]),
    ([ge(0, 1), ge(3, -1)], [(F(1), F(0)), (F(1, 3), F(1))]),
    # -x - 2y >= 0 and x >= 0: from (0, -1) counter-clockwise to (1, -1/2)... is the wedge x >= 0, y <= -x/2
    ([ge(-1, -2), ge(1, 0)], [(F(0), F(-1)), (F(1), F(-1, 2))]),
    # half-planes: y >= 0 starts at (1, 0); y <= 0 (written -2y >= 0) starts at (-1, 0)
    ([ge(0, 1)], [(F(1), F(0)), (F(-1), F(0))]),
    ([ge(0, -2)], [(F(-1), F(0)), (F(1), F(0))]),
    # x >= 0 written twice at two scales: starts at (0, -1)
    ([ge(5, 0), ge(1, 0)], [(F(0), F(-1)), (F(0), F(1))]),
])
def test_extreme_rays_2d_by_hand(constraints, expected) -> None:  # type: ignore[no-untyped-def]
    assert extreme_rays_2d(constraints) == expected


def test_the_whole_plane_has_no_boundary_ray() -> None:
    assert extreme_rays_2d([]) == [] and extreme_rays_2d([ge(0, 0)]) == []


# ---- intervals of rationals ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [F(1, 3), F(-7, 2), F(10 ** 30 + 1, 3 ** 40), F(0)])
def test_interval_of_a_rational_encloses_it_tightly(value: F) -> None:
    with working_precision():
        box = interval(value)
        lo, hi = mpf(box.a), mpf(box.b)
        # lo <= p / q <= hi, checked without division: q lo <= p <= q hi (exact at this precision)
        assert lo * value.denominator <= value.numerator <= hi * value.denominator
        assert hi - lo <= abs(mpf(value.numerator) / value.denominator) * mpf(2) ** -150


def test_interval_of_a_binary_fraction_is_a_point() -> None:
    with working_precision():
        box = interval(F(-7, 2))
        assert box.a == box.b == iv.mpf(-3.5)


# ---- the exact LP: the rank-one inverse update and whole walks ------------------------------------

def test_replacing_a_row_updates_the_inverse_exactly() -> None:
    rng = np.random.default_rng(2)
    checked = 0
    while checked < 60:
        size = int(rng.integers(1, 5))
        b = [[F(int(v)) for v in rng.integers(-3, 4, size)] for _ in range(size)]
        inv = inverse(b)
        if inv is None:
            continue
        k = int(rng.integers(0, size))
        row = [F(int(v), int(rng.integers(1, 3))) for v in rng.integers(-3, 4, size)]
        replaced = [list(r) for r in b]
        replaced[k] = row
        expected = inverse(replaced)
        if expected is None:
            with pytest.raises(ValueError):
                lp._replace_row(inv, k, row)
        else:
            assert lp._replace_row(inv, k, row) == expected
        checked += 1


def test_maximize_walks_from_the_far_corner_of_a_box_to_the_vertex_maximum() -> None:
    """max (1, 2, 3) . z on -1 <= z_i <= 1 and z0 + z1 + z2 <= 2, from the vertex (-1, -1, -1). By
    hand: the sum allows two coordinates at 1 and the third at 0; giving way on the cheapest, z0,
    is best: z = (0, 1, 1), value 5 (against 4 for (1, 0, 1) and 3 for (1, 1, 0))."""
    rows = [[F(int(i == j)) for j in range(3)] for i in range(3)] + [[-F(int(i == j)) for j in range(3)] for i in range(3)]
    rows.append([F(1), F(1), F(1)])
    bounds = [F(1)] * 6 + [F(2)]
    result = lp.maximize([F(1), F(2), F(3)], rows, bounds, [3, 4, 5])
    assert result.optimal and result.point == (F(0), F(1), F(1)) and result.value == 5


def test_maximize_against_vertex_enumeration_on_random_polytopes() -> None:
    """Random rows cut the box [-1, 1]^n (n = 2, 3); the walk starts at the corner (-1, ..., -1)
    whenever every random row holds there; its value is the largest over all vertices, found by
    solving every choice of n rows here."""
    rng = np.random.default_rng(3)
    done = 0
    while done < 40:
        n = int(rng.integers(2, 4))
        box = [[F(int(i == j)) for j in range(n)] for i in range(n)] + [[-F(int(i == j)) for j in range(n)] for i in range(n)]
        extra = [[F(int(v)) for v in rng.integers(-3, 4, n)] for _ in range(int(rng.integers(1, 4)))]
        rows = box + extra
        corner = [F(-1)] * n
        bounds = [F(1)] * (2 * n) + [sum((a * c for a, c in zip(r, corner)), F(0)) + int(rng.integers(0, 4)) for r in extra]
        objective = [F(int(v)) for v in rng.integers(-4, 5, n)]
        best = None
        for chosen in itertools.combinations(range(len(rows)), n):
            inv = inverse([rows[i] for i in chosen])
            if inv is None:
                continue
            z = [sum((inv[r][k] * bounds[chosen[k]] for k in range(n)), F(0)) for r in range(n)]
            if all(sum((a * v for a, v in zip(row, z)), F(0)) <= b for row, b in zip(rows, bounds)):
                value = sum((c * v for c, v in zip(objective, z)), F(0))
                best = value if best is None else max(best, value)
        result = lp.maximize(objective, rows, bounds, list(range(n, 2 * n)))
        assert result.optimal and result.value == best
        assert all(sum((a * v for a, v in zip(row, result.point)), F(0)) <= b for row, b in zip(rows, bounds))
        done += 1


# ---- measured_cone: geometry and measure together, or neither past the certified rank -------------

def test_measured_cone_of_an_orthant_and_past_the_certified_rank() -> None:
    octant = [Constraint(tuple(F(int(i == j)) for j in range(3)), Op.GT) for i in range(3)]
    geometry, measure = measured_cone(octant, 3)
    assert geometry is not None and measure is not None
    assert measure.lower <= mpf(1) / 8 <= measure.upper and measure.upper - measure.lower < 1e-50
    six = [Constraint(tuple(F(int(i == j)) for j in range(6)), Op.GT) for i in range(6)]
    assert measured_cone(six, 6) == (None, None)  # rank 6: no certified method, no geometry computed
    empty = [Constraint((F(1), F(0)), Op.GT), Constraint((F(-1), F(0)), Op.GT)]
    geometry, measure = measured_cone(empty, 2)
    assert measure is not None and measure.lower == measure.upper == 0


def test_grown_cone_geometry_has_rays_and_facets_with_largest_coordinate_one() -> None:
    """The cone 2x - y >= 0, 3y - z >= 0, z >= 0 in R^3, grown one integer row at a time: its rays,
    written with largest |coordinate| 1, are (1, 0, 0), (1/2, 1, 0) and (1/6, 1/3, 1), by hand
    (each solves two of the rows with equality and the third strictly); its facets are the rows,
    scaled the same way."""
    from verify.geometry.integer_cone import GrowingCone
    from verify.geometry.solid import geometry_of

    cone = GrowingCone.whole_space(3, 4096)
    for row in ((2, -1, 0), (0, 3, -1), (0, 0, 1)):
        cone = cone.add(row)
    geometry = geometry_of(cone)
    assert geometry is not None and geometry.full_dimensional
    assert set(geometry.rays) == {(F(1), F(0), F(0)), (F(1, 2), F(1), F(0)), (F(1, 6), F(1, 3), F(1))}
    assert set(geometry.facets) == {(F(1), F(-1, 2), F(0)), (F(0), F(1), F(-1, 3)), (F(0), F(0), F(1))}


# ---- the ends of an Arb ball, rounded outward ------------------------------------------------------

def _exact(value: mpf) -> F:
    sign, man, exp, _ = value._mpf_  # (-1)^sign * man * 2^exp, exactly
    return (-1) ** sign * F(int(man)) * F(2) ** int(exp)


def _ball_part(value) -> F:  # type: ignore[no-untyped-def]
    man, exp = value.man_exp()  # an Arb midpoint or radius: a signed mantissa times 2^exp
    return F(int(man)) * F(2) ** int(exp)


@pytest.mark.parametrize("mid, rad", [
    (F(1), F(1, 1024)),  # a wide ball: both ends exact at 203 bits
    (F(1, 2), F(1024)),  # the radius far larger than the midpoint (its exponent the larger)
    (F(-3), F(1, 8)),  # negative ends
    (1 + F(1, 2 ** 100), F(1024)),  # a midpoint of 101 bits: its exponent far below the radius's
])
def test_ball_ends_are_mid_minus_and_plus_rad(mid: F, rad: F) -> None:
    from flint import arb

    from verify.geometry.measure import ball_ends

    from flint import ctx

    old = ctx.prec
    ctx.prec = 300  # the midpoint exact (101 bits at most here)
    try:
        ball = arb(mid.numerator) / mid.denominator + arb(0, rad.numerator) / rad.denominator
    finally:
        ctx.prec = old
    lower, upper = ball_ends(ball)
    r = _ball_part(ball.rad())
    assert r >= rad and _ball_part(ball.mid()) == mid  # the ball holds [mid - rad, mid + rad] (Arb may widen the radius)
    assert _exact(lower) == mid - r and _exact(upper) == mid + r


def test_ball_ends_round_outward_when_the_ends_need_more_bits() -> None:
    """mid = -(1 + 2^-300) needs 301 bits, more than the 203 kept: the lower end must round toward
    minus infinity (below the exact end), the upper end toward plus infinity."""
    from flint import arb, ctx

    from verify.geometry.measure import ball_ends

    exact_mid = -(1 + F(1, 2 ** 300))
    old = ctx.prec
    ctx.prec = 400
    try:
        ball = -(1 + arb(2) ** -300) + arb(0, 1) * arb(2) ** -350  # radius about 2^-350
    finally:
        ctx.prec = old
    assert _ball_part(ball.mid()) == exact_mid
    r = _ball_part(ball.rad())
    lower, upper = ball_ends(ball)
    assert _exact(lower) <= exact_mid - r < exact_mid + r <= _exact(upper)
    assert _exact(lower) < exact_mid - r and _exact(upper) > exact_mid + r  # rounded: not exact at 203 bits


def test_measured_cone_without_geometry_has_no_measure(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """When the double description gives up (its ray cap), there is neither geometry nor measure."""
    import verify.geometry.solid as solid

    monkeypatch.setattr(solid, "cone_geometry", lambda constraints, n: None)
    octant = [Constraint(tuple(F(int(i == j)) for j in range(3)), Op.GT) for i in range(3)]
    assert solid.measured_cone(octant, 3) == (None, None)


# ---- the method label of a sum ---------------------------------------------------------------------

def test_the_label_of_a_sum_by_hand() -> None:
    from verify.geometry.measure import combined_method

    q4, q5 = "certified-quadrature-4d", "certified-quadrature-5d"
    assert combined_method("exact-angle", "exact-angle") == "exact-angle"
    assert combined_method("exact-solid-angle", q4) == q4 and combined_method(q4, "exact-solid-angle") == q4
    assert combined_method(q4, q5) == q5 and combined_method(q5, q4) == q5
    assert combined_method("exact-solid-angle", q5) == q5
    assert combined_method("exact-angle", "exact-solid-angle") == "mixed"
    assert combined_method("exact-angle", q4) == "mixed" and combined_method("mixed", q4) == "mixed"


# ---- geometry_of a grown cone is cone_geometry of its constraints -----------------------------------

@pytest.mark.parametrize("n", [3, 4])
def test_a_grown_cones_geometry_is_the_rational_double_descriptions(n: int) -> None:
    """Two implementations (integer, grown one row at a time; rational, all rows at once) must give
    the same rays in the same order, the same lineality and facets: random integer rows, 1 to n + 2
    of them (fewer than n leave a lineality space; a repeated row is added once, as the search does)."""
    from verify.geometry.integer_cone import GrowingCone
    from verify.geometry.solid import cone_geometry, geometry_of

    rng = np.random.default_rng(n)
    compared = 0
    while compared < 25:
        rows = [tuple(int(v) for v in rng.integers(-3, 4, n)) for _ in range(int(rng.integers(1, n + 3)))]
        if rng.random() < 0.2:
            rows.append(rows[0])
        if any(not any(r) for r in rows):
            continue
        rows = [tuple(v // math.gcd(*r) for v in r) for r in rows]  # add() takes primitive rows ...
        cone = GrowingCone.whole_space(n, 4096)
        for r in rows:
            if not cone.has(r):  # ... each once, as the search adds them
                cone = cone.add(r)
        constraints = [Constraint(tuple(F(v) for v in r), Op.GE) for r in rows]
        expected = cone_geometry(constraints, n)
        if expected is None or not expected.full_dimensional:
            continue
        assert geometry_of(cone) == expected, rows
        compared += 1


def test_float_basis_guesses_the_optimal_tight_rows_of_a_box_lp() -> None:
    """max (1, 2, 3) . z on -1 <= z_i <= 1, z0 + z1 + z2 <= 2, from the corner (-1, -1, -1) (rows 3,
    4, 5 tight): the optimum (0, 1, 1) (see the walk above) makes rows 1 (z1 <= 1), 2 (z2 <= 1) and
    6 (the sum) tight; the float walk's guess must name exactly those."""
    rows = [[F(int(i == j)) for j in range(3)] for i in range(3)] + [[-F(int(i == j)) for j in range(3)] for i in range(3)]
    rows.append([F(1), F(1), F(1)])
    guess = lp.float_basis([F(1), F(2), F(3)], rows, [F(1)] * 6 + [F(2)], [3, 4, 5])
    assert guess is not None and sorted(guess) == [1, 2, 6]


# ---- labels and fields of the trivial cones; the LP stopped by its pivot cap -----------------------

@pytest.mark.parametrize("n, label", [(3, "exact-solid-angle"), (4, "certified-quadrature-4d")])
def test_empty_and_whole_cones_carry_the_label_of_their_dimension(n: int, label: str) -> None:
    from verify.geometry.solid import ConeGeometry as solid_geometry
    from verify.geometry.solid import cone_geometry, geometry_measure

    e0 = tuple(F(int(j == 0)) for j in range(n))
    empty = [Constraint(e0, Op.GT), Constraint(tuple(-v for v in e0), Op.GT)]  # x0 > 0 and x0 < 0
    geometry = cone_geometry(empty, n)
    assert geometry is not None and geometry.rays == () and geometry.facets == () and geometry.full_dimensional is False
    zero = cone_geometry([Constraint(tuple(F(0) for _ in range(n)), Op.GT)], n)  # 0 > 0: empty at once
    assert zero == solid_geometry(n, (), (), (), False)
    measure = geometry_measure(geometry)
    assert measure is not None and measure.lower == measure.upper == 0 and measure.method == label
    whole = cone_geometry([], n)
    assert whole is not None and whole.rank == 0
    total = geometry_measure(whole)
    assert total is not None and total.lower == total.upper == 1 and total.method == "exact-solid-angle"


def test_a_walk_stopped_by_its_pivot_cap_returns_a_feasible_point_not_called_optimal() -> None:
    """The box LP of the walk above, with room for one pivot only: the point is still a vertex of
    the feasible set (every row holds), its value is objective . point, and it is not optimal
    (below 5, the optimum by hand)."""
    rows = [[F(int(i == j)) for j in range(3)] for i in range(3)] + [[-F(int(i == j)) for j in range(3)] for i in range(3)]
    rows.append([F(1), F(1), F(1)])
    bounds = [F(1)] * 6 + [F(2)]
    objective = [F(1), F(2), F(3)]
    result = lp.maximize(objective, rows, bounds, [3, 4, 5], max_pivots=1)
    assert result.optimal is False
    assert len(result.point) == 3 and all(sum((a * v for a, v in zip(row, result.point)), F(0)) <= b
                                          for row, b in zip(rows, bounds))
    assert result.value == sum((c * v for c, v in zip(objective, result.point)), F(0)) < 5
    assert result.point != (F(-1), F(-1), F(-1))  # one pivot moved it off the start


def _unit_max(v) -> tuple[F, ...]:  # type: ignore[no-untyped-def]
    scale = max(abs(x) for x in v)
    return tuple(F(x) / scale for x in v)


@pytest.mark.parametrize("n", [3, 4])
def test_the_rational_double_description_against_brute_force_rays_and_facets(n: int) -> None:
    """Random cones with redundant rows (repeats, positive combinations of two rows): the extreme
    rays are exactly the brute-force ones, and the facets exactly the rows tight on n - 1
    independent rays (both compared up to positive scaling)."""
    from verify.geometry.lp import rank
    from verify.geometry.solid import cone_geometry

    rng = np.random.default_rng(10 + n)
    compared = 0
    while compared < 40:
        normals = [tuple(int(v) for v in rng.integers(-3, 4, n)) for _ in range(int(rng.integers(n, n + 4)))]
        normals.append(tuple(a + b for a, b in zip(normals[0], normals[1])))  # redundant
        normals.append(normals[-2])  # repeated
        normals = [normals[i] for i in rng.permutation(len(normals))]  # redundant rows early, too
        if any(not any(a) for a in normals):
            continue
        geometry = cone_geometry([Constraint(tuple(F(v) for v in a), Op.GE) for a in normals], n)
        if geometry is None or not geometry.full_dimensional or geometry.lineality:
            continue
        rays = {_unit_max(r) for r in extreme_rays(normals, n)}
        assert {_unit_max(r) for r in geometry.rays} == rays, normals
        assert len(geometry.rays) == len(rays)  # no ray listed twice
        facets = {_unit_max(a) for a in normals
                  if rank([r for r in rays if sum(F(x) * y for x, y in zip(a, r)) == 0]) == n - 1}
        assert {_unit_max(a) for a in geometry.facets} == facets, normals
        compared += 1


def test_a_zero_row_that_always_holds_is_skipped_not_the_end_of_the_rows() -> None:
    """0 . x >= 0 holds everywhere: the quadrant after it is still cut by both later rows."""
    from verify.geometry.solid import cone_geometry

    geometry = cone_geometry([Constraint((F(0), F(0)), Op.GE), Constraint((F(1), F(0)), Op.GT),
                              Constraint((F(0), F(1)), Op.GT)], 2)
    assert geometry is not None and set(geometry.rays) == {(F(1), F(0)), (F(0), F(1))}


def test_the_ray_cap_of_the_double_description_is_the_one_asked_for() -> None:
    """The square pyramid z >= |x|, z >= |y| has the 4 extreme rays (+-1, +-1, 1):
    a cap of 4 rays keeps it, a cap of 3 gives up (None)."""
    from verify.geometry.solid import cone_geometry

    rows = [(1, 0, 1), (-1, 0, 1), (0, 1, 1), (0, -1, 1)]
    constraints = [Constraint(tuple(F(v) for v in r), Op.GE) for r in rows]
    kept = cone_geometry(constraints, 3, max_rays=4)
    assert kept is not None and len(kept.rays) == 4
    assert cone_geometry(constraints, 3, max_rays=3) is None


# ---- the certified quadrature rejects an integral it cannot trust -------------------------------------

@pytest.mark.parametrize("bad", ["imaginary", "nan"])
def test_an_integral_that_is_not_real_or_not_finite_is_never_a_measure(monkeypatch, bad: str) -> None:  # type: ignore[no-untyped-def]
    """The Gaussian mass of a cone is a real number: an integrand (fault injected here) whose integral
    has an imaginary part away from 0, or is not finite, must leave the cone unmeasured (None) at
    every precision, never give an enclosure."""
    from flint import acb

    import verify.geometry.orthant as orthant

    def integrand(cov):  # type: ignore[no-untyped-def]
        def f(z, analytic):  # type: ignore[no-untyped-def]
            return acb(0, 1) if bad == "imaginary" else acb("nan")
        return f

    monkeypatch.setattr(orthant, "_integrand", integrand)
    rays = [tuple(F(int(i == j)) for j in range(4)) for i in range(4)]
    assert orthant.simplicial_measure(rays) is None
