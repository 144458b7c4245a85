"""Shared test settings: hypothesis profiles and paths to the bundled AlgZoo models.

Profiles (pick one with `--hypothesis-profile=NAME` or the env var VERIFY_HYPOTHESIS_PROFILE):
- "default": a quick run, so the whole suite stays within a few minutes;
- "ci": the same, derandomized (the same examples every run);
- "long": the soundness campaign, thousands of random networks and hundreds of planted ones.
Tests scale their example counts from the profile with `examples(default, long)`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings
from mpmath import iv, mp

QUICK = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("default", max_examples=20, **QUICK)
settings.register_profile("ci", max_examples=20, derandomize=True, **QUICK)
settings.register_profile("long", max_examples=2000, **QUICK)
settings.load_profile(os.environ.get("VERIFY_HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
ALGZOO = ROOT / "models" / "algzoo"
M22_PATH = ALGZOO / "2nd_argmax_2_2.pth"
M16_PATH = ALGZOO / "example_2nd_argmax_16_10.pth"


TEST_DPS = 60  # digits of the tests' own mpmath arithmetic (oracles, slack sums), as the library's


@pytest.fixture(autouse=True)
def _mpmath_precision() -> Iterator[None]:
    """The tests' own mpmath arithmetic runs at TEST_DPS digits, restored after each test.

    The library sets no global precision (issue 11): it works at its own precision inside
    `verify.geometry.working_precision()`, whatever the caller's (tests/test_precision.py
    checks that), so a test that adds or compares mpmath numbers itself says so here.
    """
    saved = mp.prec, iv.prec
    mp.dps = iv.dps = TEST_DPS
    try:
        yield
    finally:
        mp.prec, iv.prec = saved


def long_run() -> bool:
    """True under the long profile (however it was selected)."""
    return settings.get_current_profile_name() == "long"


def examples(default: int, long: int) -> settings:
    """Settings with a per-test example count: `default` normally, `long` in the long profile."""
    return settings(max_examples=long if long_run() else default)


@pytest.fixture(scope="session")
def m22_path() -> Path:
    assert M22_PATH.exists(), f"{M22_PATH} is bundled with the repository and must exist"
    return M22_PATH


@pytest.fixture(scope="session")
def m16_path() -> Path:
    assert M16_PATH.exists(), f"{M16_PATH} is bundled with the repository and must exist"
    return M16_PATH
