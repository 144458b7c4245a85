"""Issue 18 #4: exact linear algebra behind the cone geometry, by hand."""

from __future__ import annotations

from fractions import Fraction as F

from verify.core.linear import Op, ge
from verify.geometry.solid import project_out


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
