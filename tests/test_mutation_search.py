"""The region search, the Z3 door and the claims, against fresh exact-2-D results (issue 18 #4).

The exact-2-D checks (hand-derived wedges, angles, rays, cone partitions) run here on results
computed inside each test; see tests/test_mutation_fresh.py for why.
"""

from __future__ import annotations

from tests.test_mutation_fresh import (test_diagonal_rays_fresh, test_handcrafted_fresh,  # noqa: F401
                                       test_on_a_fresh_algzoo_result, test_region_angles_fresh)
