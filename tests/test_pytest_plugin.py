"""Issue 5: the pytest plugin (`verify_model` fixture, `verify_claim` marker) as a user meets it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Imported here, before any inline run: pytester drops modules first imported during a run,
# and numpy / torch cannot be imported twice in one process.
import verify.check.pipeline  # noqa: F401
import verify.render.junit  # noqa: F401
import verify.check.parallel  # noqa: F401
import verify.render.json_report  # noqa: F401

pytest_plugins = ["pytester"]

M22 = str(Path("models/algzoo/2nd_argmax_2_2.pth").resolve())
HANDCRAFTED = str(Path("models/handcrafted_2_2.pth").resolve())


@pytest.fixture(autouse=True)
def _only_this_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs load the plugin explicitly, whether or not its entry point is installed."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def plugin_args() -> list[str]:
    return ["-p", "verify.ci.pytest_plugin"]


def test_the_entry_point_is_declared() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"]["relu_verify"] == "verify.ci.pytest_plugin"


def test_proved_passes_and_refuted_fails_with_counterexample_and_error_rate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_models=f"""
        def test_handcrafted(verify_model):
            verify_model({HANDCRAFTED!r}).assert_proved()

        def test_algzoo(verify_model):
            verify_model({M22!r}).assert_proved()

        def test_algzoo_refuted(verify_model):
            check = verify_model({M22!r})
            check.assert_refuted()
            check.assert_error_rate_at_most(1 / 12_000)
            assert check.verdict == "refuted" and check.counterexamples
        """
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=2, failed=1)
    text = result.stdout.str()
    assert "test_algzoo FAILED" in text or "FAILED test_models.py::test_algzoo " in text
    result.stdout.fnmatch_lines(["*2nd-argmax REFUTED: error rate 0.0000774314917800279*1 in 12,914.64*"])
    result.stdout.fnmatch_lines(["*counterexample x = (*) -> predicted 0, expected 1*float32-confirmed*"])


def test_the_marker_chooses_the_claim(pytester: pytest.Pytester) -> None:
    # With two inputs the 2nd largest is the smaller one, so a perfect 2nd-argmax model gets
    # the argmax claim wrong on every input with distinct coordinates (error rate exactly 1).
    pytester.makepyfile(
        test_marked=f"""
        import pytest

        @pytest.mark.verify_claim("argmax")
        def test_argmax(verify_model):
            check = verify_model({HANDCRAFTED!r})
            assert check.claim == "argmax"
            check.assert_refuted()
            assert check.error_rate == "1.0" or float(check.error_rate) == 1.0

        @pytest.mark.verify_claim("argmax")
        def test_argmax_proof_fails(verify_model):
            verify_model({HANDCRAFTED!r}).assert_proved()

        def test_default_claim(verify_model):
            assert verify_model({HANDCRAFTED!r}).claim == "2nd-argmax"
        """
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*argmax REFUTED*"])


def test_budget_from_the_marker_gives_unknown_never_proved(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_budget=f"""
        import pytest

        @pytest.mark.verify_claim("2nd-argmax", max_regions=1)
        def test_budget(verify_model):
            verify_model({HANDCRAFTED!r}).assert_proved()
        """
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UNKNOWN (not proved)*region budget of 1 reached*"])


def test_paths_beside_the_test_file_and_bad_models(pytester: pytest.Pytester) -> None:
    sub = pytester.mkdir("sub")
    shutil.copy(HANDCRAFTED, sub / "m.pth")
    (sub / "broken.pth").write_bytes(b"garbage")
    (sub / "test_beside.py").write_text(
        "def test_beside(verify_model):\n"
        "    verify_model('m.pth').assert_proved()\n\n"
        "def test_broken(verify_model):\n"
        "    verify_model('broken.pth').assert_proved()\n"
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*verify_model: *broken.pth: *"])
