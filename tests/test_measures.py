"""Measures, exact 2-D geometry, linear forms and solid angles, unit by unit (issue 18).

Every expected value is derived by hand (angles of the unit circle and the octant: pi/4,
pi/2, 1/8 of the sphere, ...) or by mpmath at a higher precision than the code under test,
never read off the code. Enclosures must hold the truth AND be narrow: a width bound of
1e-50 (the code carries 60 digits) catches an enclosure that is sound but useless, and the
containment catches one whose ends were swapped. These tests are fast on purpose: they are
the test subset the mutation run (bench/mutation.sh) uses for these modules.
"""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from mpmath import iv, mp, mpf

from verify.geometry.planar import cross2, extreme_rays_2d, line_rays_in_cone_2d, normalize_ray, normals, ray_in_closed_cone
from verify.core.linear import Constraint, Op, dot, format_fraction, ge, gt, is_zero, sub, unit
from verify.smt.smtlib import smt_constraint, smt_disjunction, smt_rational, smt_term
from verify.geometry import cone_measure
from verify.geometry.measure import ZERO, Measure, digits, from_interval, total
from verify.geometry.planar import angle_between, cone_measure_2d, ray_angle
from verify.geometry.solid import (cone_geometry, extreme_rays, geometry_measure, girard_area, gram_det,
                                 interior_angle, project_out, rank, wedge_angle)

WIDTH = mpf(10) ** -50  # the code carries 60 digits; any honest enclosure here is far narrower


def truth(expr: str) -> mpf:
    """An independent value, evaluated at 80 digits (more than the code under test uses)."""
    exact = re.sub(r"(\d+)", r"mpf(\1)", expr)  # integer literals as mpf: 1/6 is never a float
    with mp.workdps(80):
        return mp.mpf(eval(exact, {"mpf": mp.mpf, "pi": mp.pi, "atan": mp.atan}))


def assert_encloses(measure: Measure, expected: mpf) -> None:
    """The measure holds the truth, in the right order, and is narrow."""
    assert measure.lower <= expected <= measure.upper
    assert measure.lower <= measure.value <= measure.upper
    assert 0 <= measure.upper - measure.lower < WIDTH
    assert measure.radius == (measure.upper - measure.lower) / 2


def interval_encloses(value: object, expected: mpf) -> None:
    assert value.a <= expected <= value.b  # type: ignore[attr-defined]
    assert value.b - value.a < WIDTH  # type: ignore[attr-defined]


def cone(*rows: tuple[int, ...], op: Op = Op.GT) -> list[Constraint]:
    return [Constraint(tuple(F(v) for v in r), op) for r in rows]


# -- Measure and its sums -----------------------------------------------------------------------------
def test_measure_value_and_radius_lie_between_its_bounds() -> None:
    m = Measure(mpf(1) / 8, mpf(3) / 8, "exact-angle")
    assert m.value == mpf(1) / 4 and m.radius == mpf(1) / 8
    assert m.lower <= m.value <= m.upper


def test_measure_sum_adds_lower_to_lower_and_upper_to_upper() -> None:
    a, b = Measure(mpf(1), mpf(2), "exact-angle"), Measure(mpf(3), mpf(5), "exact-angle")
    s = a + b
    assert (s.lower, s.upper, s.method) == (4, 7, "exact-angle")
    mixed = a + Measure(mpf(0), mpf(1), "exact-solid-angle")
    assert (mixed.lower, mixed.upper, mixed.method) == (1, 3, "mixed")
    assert (Measure(mpf(0), mpf(1), "exact-solid-angle") + a).method == "mixed"


def test_total_is_exactly_zero_when_empty_and_keeps_the_common_method() -> None:
    empty = total([])
    assert empty == ZERO and empty.lower == 0 and empty.upper == 0 and empty.method == "exact-angle"
    parts = [Measure(mpf(k), mpf(k) + 1, "exact-solid-angle") for k in (1, 2, 3)]
    s = total(parts)
    assert (s.lower, s.upper, s.method) == (6, 9, "exact-solid-angle")
    assert total(iter(parts[:1])) == parts[0]
    assert total([parts[0], Measure(mpf(0), mpf(0), "exact-angle")]).method == "mixed"


def test_from_interval_keeps_the_ends_in_order() -> None:
    m = from_interval(iv.mpf([1, 2]), "m")
    assert (m.lower, m.upper, m.method) == (1, 2, "m")


def test_digits_prints_fixed_point() -> None:
    assert digits(mpf(1) / 3, 5) == "0.33333"
    assert digits(mpf("7.74314917800279e-5"), 5) == "0.000077431"
    assert digits(mpf(1) / 7) == "0.14285714285714285714"  # 20 significant digits by default


# -- angles and 2-D cone measures ----------------------------------------------------------------------
@pytest.mark.parametrize("r1, r2, expected", [
    ((1, 0), (0, 1), "pi/2"),
    ((1, 0), (1, 1), "pi/4"),
    ((1, 0), (-1, 1), "3*pi/4"),
    ((1, 0), (-1, 0), "pi"),
    ((1, 0), (-1, -1), "5*pi/4"),
    ((0, 1), (1, 0), "3*pi/2"),
    ((1, 0), (1, -1), "7*pi/4"),
    ((1, 0), (3, 1), "atan(1/3)"),
    ((2, 0), (1, 0), "0"),
    ((0, -1), (0, 1), "pi"),
])
def test_angle_between_is_counter_clockwise(r1: tuple[int, int], r2: tuple[int, int], expected: str) -> None:
    value = angle_between(tuple(map(F, r1)), tuple(map(F, r2)))
    want = truth(expected)
    if want == 0:
        assert value.a <= 0 <= value.b  # type: ignore[attr-defined]
    else:
        interval_encloses(value, want)


def test_ray_angle_is_the_polar_angle() -> None:
    interval_encloses(ray_angle((F(0), F(-1))), truth("3*pi/2"))
    interval_encloses(ray_angle((F(-1), F(0))), truth("pi"))
    interval_encloses(ray_angle((F(1), F(2))), truth("atan(2)"))


@pytest.mark.parametrize("rows, op, expected", [
    ([], Op.GT, "1"),
    ([(1, 0)], Op.GT, "1/2"),
    ([(1, 0)], Op.LT, "1/2"),
    ([(1, 0), (0, 1)], Op.GT, "1/4"),
    ([(1, 0), (0, 1)], Op.LT, "1/4"),
    ([(1, -1), (0, 1)], Op.GT, "1/8"),  # 0 < x1 < x0: the first half of the first quadrant
    ([(3, -1), (0, 1)], Op.GT, "atan(3)/(2*pi)"),
    ([(-1, 2), (1, 1)], Op.GE, "(pi - atan(1/2) - pi/4)/(2*pi)"),  # from (2, 1) round to (-1, 1)
])
def test_cone_measure_2d_is_the_angle_over_two_pi(rows: list[tuple[int, int]], op: Op, expected: str) -> None:
    constraints = cone(*rows, op=op)
    want = truth(expected)
    assert_encloses(cone_measure_2d(constraints), want)
    assert_encloses(cone_measure(constraints, 2), want)  # type: ignore[arg-type]
    assert cone_measure_2d(constraints).method == "exact-angle"


def test_two_d_measures_of_complementary_cones_add_up_to_one() -> None:
    """A wedge and the rest of the plane (split into two wedges) cover the circle exactly once."""
    wedge = cone_measure_2d(cone((5, -2), (-1, 3)))
    rest_a = cone_measure_2d(cone((-5, 2), (-1, 3)))
    rest_b = cone_measure_2d(cone((-1, 3), op=Op.LT))
    s = wedge + rest_a + rest_b
    assert s.lower <= 1 <= s.upper and s.upper - s.lower < WIDTH


# -- solid angles (n >= 3) -----------------------------------------------------------------------------
@pytest.mark.parametrize("rows, n, expected", [
    ([(1, 0, 0)], 3, "1/2"),
    ([(1, 0, 0), (0, 1, 0)], 3, "1/4"),
    ([(1, 0, 0), (0, 1, 0), (0, 0, 1)], 3, "1/8"),
    ([(1, -1, 0), (0, 1, -1)], 3, "1/6"),  # x0 > x1 > x2: one of 6 orderings
    ([(1, -1, 0), (0, 1, -1), (0, 0, 1)], 3, "1/48"),  # x0 > x1 > x2 > 0: one of 3! * 2^3 symmetric cones
    ([(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0)], 4, "1/8"),  # rank 3 inside R^4
    ([(1, -1, 0, 0), (0, 1, -1, 0)], 4, "1/6"),  # rank 2 inside R^4: x0 > x1 > x2 with x3 free
])
def test_cone_measure_in_higher_dimension(rows: list[tuple[int, ...]], n: int, expected: str) -> None:
    """Masses by symmetry: permuting coordinates and flipping signs preserves the Gaussian law."""
    measure = cone_measure(cone(*rows), n)
    assert measure is not None
    assert_encloses(measure, truth(expected))
    assert measure.method == "exact-solid-angle"


def test_rank_four_and_five_are_certified_and_rank_six_is_not() -> None:
    """Orthants by symmetry: 1/16 and 1/32 by quadrature (geometry/orthant.py); no method for rank 6."""
    for n in (4, 5):
        orthant = cone_measure(cone(*[tuple(int(i == j) for j in range(n)) for i in range(n)]), n)
        assert orthant is not None and orthant.method == f"certified-quadrature-{n}d"
        assert orthant.lower <= mpf(1) / 2**n <= orthant.upper and orthant.upper - orthant.lower < mpf("1e-12")
    assert cone_measure(cone(*[tuple(int(i == j) for j in range(6)) for i in range(6)]), 6) is None


def test_empty_open_cone_has_measure_exactly_zero() -> None:
    m = cone_measure([Constraint((F(0), F(0), F(0)), Op.GT)], 3)
    assert m is not None and m.lower == 0 and m.upper == 0


def test_spherical_pieces_by_hand() -> None:
    e = [unit(3, i) for i in range(3)]
    interval_encloses(wedge_angle(e[0], e[1]), truth("pi/2"))
    interval_encloses(wedge_angle((F(1), F(0), F(0)), (F(1), F(1), F(0))), truth("pi/4"))
    interval_encloses(interior_angle(e[0], e[2], e[1]), truth("pi/2"))
    interval_encloses(girard_area([e[0], e[1], e[2]]), truth("pi/2"))  # an octant: 4 pi / 8
    # the triangle (1,0,0), (1,1,0), (1,1,1): angles pi/2 at (1,1,0), pi/3 at (1,1,1), pi/4 at (1,0,0)
    tri = [(F(1), F(0), F(0)), (F(1), F(1), F(0)), (F(1), F(1), F(1))]
    interval_encloses(interior_angle(tri[0], tri[1], tri[2]), truth("pi/2"))
    interval_encloses(interior_angle(tri[1], tri[2], tri[0]), truth("pi/3"))
    interval_encloses(interior_angle(tri[2], tri[0], tri[1]), truth("pi/4"))
    interval_encloses(girard_area(tri), truth("pi/12"))


def test_exact_linear_algebra_by_hand() -> None:
    assert rank([(F(1), F(2), F(3)), (F(2), F(4), F(6))]) == 1
    assert rank([(F(1), F(0), F(0)), (F(0), F(1), F(0)), (F(1), F(1), F(0))]) == 2
    assert rank([]) == 0
    assert gram_det([(F(1), F(0), F(0)), (F(1), F(2), F(0))]) == 4  # area of the parallelogram, squared
    assert project_out((F(1), F(2), F(3)), [(F(0), F(0), F(1))]) == (1, 2, 0)


def test_cone_geometry_of_the_octant_and_a_wedge_with_lineality() -> None:
    octant = cone_geometry(cone((1, 0, 0), (0, 1, 0), (0, 0, 1)), 3)
    assert octant is not None and octant.full_dimensional and octant.rank == 3
    assert set(octant.rays) == {unit(3, i) for i in range(3)}
    assert len(octant.facets) == 3 and octant.lineality == ()
    wedge = cone_geometry(cone((1, 0, 0), (0, 1, 0)), 3)  # x2 free: a line of lineality
    assert wedge is not None and wedge.rank == 2 and len(wedge.lineality) == 1
    assert all(dot(r, wedge.lineality[0]) == 0 for r in wedge.rays)
    m = geometry_measure(wedge)
    assert m is not None
    assert_encloses(m, mpf(1) / 4)
    assert extreme_rays(cone((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)), 3) is not None
    redundant = cone_geometry(cone((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)), 3)
    assert redundant is not None and len(redundant.facets) == 3  # x0 + x1 + x2 > 0 is implied


# -- exact 2-D geometry ---------------------------------------------------------------------------------
def test_normalize_and_cross() -> None:
    assert normalize_ray((F(2), F(-4))) == (F(1, 2), F(-1))
    assert normalize_ray((F(-3), F(1))) == (F(-1), F(1, 3))
    with pytest.raises(ValueError):
        normalize_ray((F(0), F(0)))
    assert cross2((F(1), F(0)), (F(0), F(1))) == 1 and cross2((F(0), F(1)), (F(1), F(0))) == -1
    assert cross2((F(2), F(3)), (F(5), F(7))) == 2 * 7 - 3 * 5


def test_normals_read_every_constraint_as_nonnegative() -> None:
    rows = [Constraint((F(2), F(0)), Op.GT), Constraint((F(1), F(0)), Op.GE), Constraint((F(0), F(3)), Op.LT),
            Constraint((F(0), F(0)), Op.GT)]
    assert normals(rows) == [(F(1), F(0)), (F(0), F(-1))]


@pytest.mark.parametrize("rows, op, expected", [
    ([(1, 0), (0, 1)], Op.GT, [(1, 0), (0, 1)]),
    ([(0, 1), (1, 0)], Op.GT, [(1, 0), (0, 1)]),
    ([(1, 0), (0, 1)], Op.LT, [(-1, 0), (0, -1)]),
    ([(0, 1)], Op.GT, [(1, 0), (-1, 0)]),  # upper half-plane: from (1, 0) counter-clockwise to (-1, 0)
    ([(0, 1)], Op.LT, [(-1, 0), (1, 0)]),
    ([(1, -1), (0, 1)], Op.GT, [(1, 0), (1, 1)]),
    ([], Op.GT, []),
])
def test_extreme_rays_2d_counter_clockwise(rows: list[tuple[int, int]], op: Op, expected: list[tuple[int, int]]) -> None:
    assert extreme_rays_2d(cone(*rows, op=op)) == [tuple(map(F, r)) for r in expected]


def test_line_rays_in_a_cone() -> None:
    quadrant = cone((1, 0), (0, 1))
    assert line_rays_in_cone_2d((F(1), F(-1)), quadrant) == [(F(1), F(1))]  # x0 = x1 meets it on (1, 1)
    assert line_rays_in_cone_2d((F(1), F(1)), quadrant) == []  # x0 = -x1 misses its interior
    assert line_rays_in_cone_2d((F(1), F(-1)), []) == [(F(1), F(1)), (F(-1), F(-1))]
    assert line_rays_in_cone_2d((F(0), F(1)), quadrant) == []  # x1 = 0 is only its edge
    assert line_rays_in_cone_2d((F(0), F(1)), quadrant, strictly=False) == [(F(1), F(0))]
    assert line_rays_in_cone_2d((F(0), F(0)), quadrant) == []
    assert ray_in_closed_cone((F(1), F(0)), quadrant) and not ray_in_closed_cone((F(-1), F(1)), quadrant)


# -- linear forms -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("op, at_minus, at_zero, at_plus", [
    (Op.GT, False, False, True), (Op.GE, False, True, True), (Op.LT, True, False, False),
    (Op.LE, True, True, False), (Op.EQ, False, True, False),
])
def test_constraint_holds(op: Op, at_minus: bool, at_zero: bool, at_plus: bool) -> None:
    c = Constraint((F(2), F(-3)), op)
    assert c.holds((F(0), F(1))) is at_minus  # 2*0 - 3*1 = -3
    assert c.holds((F(3), F(2))) is at_zero  # 6 - 6 = 0
    assert c.holds((F(1), F(0))) is at_plus


def test_constraint_open_closed_and_normal() -> None:
    c = Constraint((F(1), F(2)), Op.GE)
    assert c.strict().op is Op.GT and c.closed() == c
    assert Constraint((F(1), F(2)), Op.LT).closed().op is Op.LE
    assert Constraint((F(1), F(2)), Op.LE).strict().op is Op.LT
    assert Constraint((F(1), F(2)), Op.EQ).strict().op is Op.EQ
    assert Constraint((F(1), F(-2)), Op.LT).positive_normal() == (F(-1), F(2))
    assert Constraint((F(1), F(-2)), Op.LE).positive_normal() == (F(-1), F(2))
    assert Constraint((F(1), F(-2)), Op.GT).positive_normal() == (F(1), F(-2))
    assert gt([F(1)]).op is Op.GT and ge([F(1)]).op is Op.GE


def test_vectors_and_smt_spelling() -> None:
    assert dot((F(1), F(2)), (F(3), F(-4))) == -5 and dot((), ()) == 0
    assert sub((F(1), F(2)), (F(3), F(-4))) == (F(-2), F(6))
    assert is_zero((F(0), F(0))) and not is_zero((F(0), F(1, 10**30)))
    assert unit(3, 1) == (F(0), F(1), F(0))
    assert smt_rational(F(-3, 4)) == "(- (/ 3.0 4.0))" and smt_rational(F(5)) == "5.0" and smt_rational(F(0)) == "0.0"
    assert smt_term((F(0), F(0))) == "0.0"
    assert smt_term((F(2), F(0))) == "(* 2.0 x0)"
    assert smt_term((F(1), F(-1, 2))) == "(+ (* 1.0 x0) (* (- (/ 1.0 2.0)) x1))"
    assert smt_constraint(Constraint((F(1), F(0)), Op.LE)) == "(<= (* 1.0 x0) 0.0)"
    assert smt_disjunction([]) == "false"
    one = Constraint((F(1), F(0)), Op.GT)
    assert smt_disjunction([one]) == "(> (* 1.0 x0) 0.0)"
    assert smt_disjunction([one, one]) == "(or (> (* 1.0 x0) 0.0) (> (* 1.0 x0) 0.0))"
    assert format_fraction(F(6, 3)) == "2" and format_fraction(F(-1, 3)) == "-1/3"
