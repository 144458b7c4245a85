"""pytest plugin (entry point `pytest11`): exact verification of models inside a test suite.

    def test_model(verify_model):
        verify_model("models/m.pth").assert_proved()

    @pytest.mark.verify_claim("argmax", max_regions=500)
    def test_other(verify_model):
        verify_model("m.pth").assert_proved()

A failure names the verdict, a counterexample (re-run in float32) and the exact error rate.
Nothing heavy is imported until the fixture is used: the plugin loads in every pytest run of
an environment where relu-verify is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from verify.core.claim import CLAIM_NAMES

MARKER = "verify_claim"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name='2nd-argmax', *, max_regions=None, time_budget=None, jobs=1): "
        "the claim (and budget) that the verify_model fixture checks in this test",
    )


@dataclass
class ModelVerification:
    """The outcome of one exact check, with assertions that explain themselves when they fail."""

    path: str
    claim: str
    result: Any  # verify.check.pipeline.CheckResult
    report: dict[str, Any]

    @property
    def verdict(self) -> str:
        return str(self.report["verdict"])

    @property
    def error_rate(self) -> str | None:
        """The exact error rate as a decimal string, or None when it was not computed."""
        err = self.report["error_rate"]
        return None if err is None else str(err["exact"])

    @property
    def counterexamples(self) -> list[dict[str, Any]]:
        return list(self.report["counterexamples"])

    def explain(self) -> str:
        from verify.render.junit import error_rate_text, failure_message

        if self.verdict == "refuted":
            return f"{self.path}: {failure_message(self.report)}"
        if self.verdict == "unknown":
            return (f"{self.path}: {self.claim} UNKNOWN (not proved): {self.report['verdict_reason']}; "
                    f"{error_rate_text(self.report)}")
        return f"{self.path}: {self.claim} PROVED ({self.report['verdict_reason']})"

    def assert_proved(self) -> None:
        if self.verdict != "proved":
            pytest.fail(self.explain(), pytrace=False)

    def assert_refuted(self) -> None:
        if self.verdict != "refuted":
            pytest.fail(f"expected a counterexample, but {self.explain()}", pytrace=False)

    def assert_error_rate_at_most(self, bound: float) -> None:
        """Pass only if the certified upper bound of the exact error rate is <= bound."""
        err = self.report["error_rate"]
        if err is None:
            pytest.fail(f"the error rate was not certified: {self.explain()}", pytrace=False)
        if err["upper"] > bound:
            pytest.fail(f"error rate {err['exact']} exceeds {bound}: {self.explain()}", pytrace=False)


def _resolve(path: str | Path, test_dir: Path) -> Path:
    """As given (relative to the working directory), else relative to the test file."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    beside = test_dir / candidate
    return beside if beside.exists() else candidate


@pytest.fixture(scope="session")
def _verify_model_cache() -> dict[tuple[Any, ...], ModelVerification]:
    return {}


@pytest.fixture
def verify_model(
    request: pytest.FixtureRequest, _verify_model_cache: dict[tuple[Any, ...], ModelVerification]
) -> Callable[..., ModelVerification]:
    """`verify_model(path, *, claim=..., max_regions=..., time_budget=..., jobs=...)` -> ModelVerification."""
    marker = request.node.get_closest_marker(MARKER)
    defaults: dict[str, Any] = {"claim": "2nd-argmax", "max_regions": None, "time_budget": None, "jobs": 1}
    if marker is not None:
        if marker.args:
            defaults["claim"] = marker.args[0]
        unknown = set(marker.kwargs) - set(defaults)
        if unknown:
            raise pytest.UsageError(f"{MARKER}: unknown option(s) {sorted(unknown)}; valid: {sorted(defaults)}")
        defaults.update(marker.kwargs)
    test_dir = Path(str(request.node.path)).parent

    def run(path: str | Path, **options: Any) -> ModelVerification:
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(f"verify_model: unknown option(s) {sorted(unknown)}; valid: {sorted(defaults)}")
        settings = {**defaults, **options}
        claim = settings["claim"]
        if claim not in CLAIM_NAMES:
            raise pytest.UsageError(f"unknown claim {claim!r}; choose one of {', '.join(sorted(CLAIM_NAMES))}")
        return _check(_resolve(path, test_dir), settings, _verify_model_cache)

    return run


def _check(path: Path, settings: dict[str, Any], cache: dict[tuple[Any, ...], ModelVerification]) -> ModelVerification:
    from verify.check.pipeline import CheckOptions, check_model
    from verify.check.regression import check_regression
    from verify.check.task_settings import regression_options
    from verify.core.claim import claim_from_name, is_regression
    from verify.core.errors import InputError
    from verify.render.regression import regression_report
    from verify.formats import load_weights
    from verify.check.parallel import region_source
    from verify.check.regions import Budget
    from verify.render.json_report import build_report

    try:
        weights = load_weights(path)
    except InputError as exc:
        pytest.fail(f"verify_model: {exc}", pytrace=False)
    key = (weights.sha256 or str(path), settings["claim"], settings["max_regions"], settings["time_budget"])
    if key not in cache and is_regression(settings["claim"]):  # the median task (verify.check.regression)
        try:
            regression = regression_options(path, weights, settings["claim"], seq_len=None, eps=None,
                                            budget=Budget(settings["max_regions"], settings["time_budget"]),
                                            timeout_ms=None)
        except InputError as exc:
            pytest.fail(f"verify_model: {exc}", pytrace=False)
        outcome = check_regression(weights, regression)
        cache[key] = ModelVerification(str(path), settings["claim"], outcome, regression_report(outcome))
    if key not in cache:
        try:
            claim = claim_from_name(settings["claim"], weights.seq_len, where=str(path),
                                    outputs=int(weights.w_oh.shape[0]))
        except InputError as exc:
            pytest.fail(f"verify_model: {exc}", pytrace=False)
        options = CheckOptions(claim=claim, budget=Budget(settings["max_regions"], settings["time_budget"]))
        result = check_model(weights, options, region_source=region_source(int(settings["jobs"])))
        cache[key] = ModelVerification(str(path), settings["claim"], result, build_report(result))
    return cache[key]
