"""Exact cone geometry and certified Gaussian measures.

Lives here: `measure` (Measure, an enclosure [lower, upper], and the local mpmath precision; the
bottom of this package), `lp` (an exact simplex), `planar` (2-D cones: rays, angles, deepest
points), `solid` (n-D cones: double description, solid angles by Girard), `moments` (certified Gaussian
second moments E[(a.x)^2 ; C] of cones, n = 2, 3: the exact MSE of the median claim), `cones`
(the dispatch).
May import: `verify.core`.
"""

from verify.geometry.cones import cone_measure
from verify.geometry.measure import Measure, working_precision

__all__ = ["Measure", "cone_measure", "working_precision"]
