"""The exact-2-D checks of tests/test_exact_2d.py, each on a result computed inside the test.

Why: test_exact_2d.py shares its CheckResults through module-scoped fixtures, so a mutation
tool that records which test calls which function (mutmut 3) credits the whole run to the first
test that built the fixture, and never runs the others against a mutant: their assertions
(hand-derived rays, angles, cone partitions, published wedges) went unused. Here each of those
assertions runs on a fresh result, so every one of them is attributed to the code it checks.
The assertions and their oracles are those of test_exact_2d.py; nothing is copied from verify/.
"""

from __future__ import annotations

from typing import Callable

import pytest

from tests import test_exact_2d as exact
from verify.check.pipeline import CheckOptions, CheckResult, check_model
from verify.corpus.handcrafted import handcrafted_2_2
from verify.formats import load_weights

OPTIONS = CheckOptions(estimate_samples=0)


def algzoo() -> CheckResult:
    return check_model(load_weights(exact.ALGZOO_2_2), OPTIONS)


def handcrafted() -> CheckResult:
    return check_model(handcrafted_2_2(), OPTIONS)


ON_ALGZOO: list[Callable[[CheckResult], None]] = [
    exact.test_algzoo_is_refuted_with_six_regions_and_two_slivers,
    exact.test_published_wedge_coefficients,
    exact.test_error_rate_matches_independent_angular_scan,
    exact.test_error_rate_is_printed_with_enough_precision,
    exact.test_cones_partition_each_region,
    exact.test_rays_are_exact,
    exact.test_counterexamples_are_wrong_in_exact_arithmetic,
]


@pytest.mark.parametrize("check", ON_ALGZOO, ids=lambda f: f.__name__[len("test_"):])
def test_on_a_fresh_algzoo_result(check: Callable[[CheckResult], None]) -> None:
    check(algzoo())


def test_handcrafted_fresh() -> None:
    exact.test_handcrafted_is_proved_with_error_exactly_zero(handcrafted())


def test_region_angles_fresh() -> None:
    exact.test_region_angles_sum_to_two_pi(algzoo(), handcrafted())


def test_diagonal_rays_fresh() -> None:
    exact.test_diagonal_rays_are_the_diagonal_by_the_exact_forward_pass(algzoo(), handcrafted())
