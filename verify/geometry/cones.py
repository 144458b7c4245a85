"""`cone_measure(constraints, n)`: the Gaussian measure of an open polyhedral cone, by dimension."""

from __future__ import annotations

from typing import Sequence

from verify.core.linear import Constraint
from verify.geometry.measure import Measure
from verify.geometry.planar import cone_measure_2d
from verify.geometry.solid import cone_measure_nd


def cone_measure(constraints: Sequence[Constraint], n: int) -> Measure | None:
    """The Gaussian measure of an open cone with non-empty interior, or None without a certified method."""
    if n == 2:
        return cone_measure_2d(constraints)
    return cone_measure_nd(constraints, n)
