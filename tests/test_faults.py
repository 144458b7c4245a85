"""Solver faults, every call in turn: whatever call of a run fails (Z3 unknown, a query timeout,
the time budget running out mid-query, an interrupt), no report may say "proved" or give an
exact error rate, a counterexample must be real, and nothing may be dropped silently.

The oracle for each model is the fault-free run (itself checked against hand derivations and
exact scans elsewhere); the fault double is tests/fault_harness.py.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from mpmath import mpf

from tests.conftest import M22_PATH, long_run
from tests.fault_harness import KINDS, Fault, count_checks, install
from verify.check.pipeline import CheckOptions, CheckResult, check_model
from verify.check.claims import Verdict
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.check.parallel import region_source
from verify.check.regions import Budget, parse_pattern
from verify.render.json_report import build_report

BUDGET_S = 100_000.0  # on the fault's fake clock: only the "budget" fault spends it


def n3_model() -> ModelWeights:
    """d = 1, n = 3, logits = h_3 * (1, -1, 1/2) with h_3 >= 0: the first maximal logit is always
    index 0 (for h_3 = 0 all tie), so the model is right exactly when x0 is the 2nd largest input,
    which has probability 1/3 by symmetry: error 2/3 (hand derivation)."""
    return weights_of([1.0], [[-0.5]], [[1.0], [-1.0], [0.5]], path="n3_d1")


MODELS = {"handcrafted": handcrafted_2_2, "m22": lambda: load_weights(M22_PATH), "n3": n3_model}


@lru_cache(maxsize=None)
def baseline(name: str) -> tuple[CheckResult, int]:
    """The fault-free run and its number of solver checks."""
    with pytest.MonkeyPatch.context() as patch:
        counter = count_checks(patch)
        result = check_model(MODELS[name](), options(Fault(0, "unknown")))
    return result, counter.calls


def options(fault: Fault) -> CheckOptions:
    return CheckOptions(budget=Budget(time_budget=BUDGET_S, clock=fault.clock), timeout_ms=None, estimate_samples=0)


def bits(pattern: tuple[tuple[bool, ...], ...]) -> tuple[bool, ...]:
    return tuple(b for step in pattern for b in step)


def assert_sound(result: CheckResult, name: str, fault: Fault | None) -> None:
    """The invariants every faulty run must keep, against the fault-free run."""
    base, _ = baseline(name)
    report = build_report(result)
    assert result.verdict is not Verdict.PROVED and report["verdict"] in ("unknown", "refuted")
    assert result.error is None and report["error_rate"] is None  # never an exact rate
    assert result.error_strict is None and result.tie is None
    if not result.search.complete:
        assert result.float32_uncertain is None  # the band needs every region
    if result.verdict is Verdict.REFUTED:
        assert base.verdict is Verdict.REFUTED  # a refutation is never invented
    assert result.undecided_regions, "an undecided run names what it left undecided"
    bound = result.error_lower_bound
    assert bound is not None and base.error is not None
    assert bound.lower <= bound.upper and bound.lower <= base.error.upper  # a true lower bound
    assert report["error_rate_lower_bound"] is not None
    for cex in result.counterexamples:  # every counterexample is wrong in exact arithmetic
        x = cex.x_exact
        logits = result.network.logits(x)
        assert result.claim.well_defined(x)
        assert max(range(len(logits)), key=lambda i: (logits[i], -i)) != result.claim.expected(x)
    # Nothing dropped silently: every region of the fault-free run was found (with the same
    # pattern) or lies below a subtree named undecided.
    found = {bits(o.region.pattern) for o in result.regions}
    prefixes = [parse_pattern(p) for p in result.undecided_regions]
    for outcome in base.regions:
        pattern = bits(outcome.region.pattern)
        assert pattern in found or any(pattern[: len(p)] == p for p in prefixes), outcome.region.pattern_text
    if fault is not None and fault.kind == "interrupt":
        assert result.interrupted and report["interrupted"] is True
        assert result.search.stop_reason == "interrupted (test)" and not result.search.complete
    elif fault is not None and fault.kind == "budget":
        assert not result.interrupted and result.search.stop_reason == f"time budget of {BUDGET_S:g} s reached"
    elif fault is not None:
        # A lone unknown or query timeout does not end the search: every region is still found.
        assert not result.interrupted
        assert len(result.regions) >= len(base.regions) - 1 or result.search.undecided_prefixes


def ks(name: str, stride: int) -> list[int]:
    """Every call of the fault-free run (in the long profile), else every `stride`-th plus the last."""
    _, calls = baseline(name)
    if long_run() or stride == 1:
        return list(range(1, calls + 1))
    return sorted(set(range(1, calls + 1, stride)) | {calls})


CASES = [
    (name, kind, stride)
    for name, strides in (("handcrafted", {"unknown": 1, "interrupt": 1, "timeout": 3, "budget": 3}),
                          ("m22", {"unknown": 1, "interrupt": 2, "timeout": 5, "budget": 5}),
                          ("n3", {"unknown": 9, "interrupt": 17, "timeout": 23, "budget": 23}))
    for kind, stride in strides.items()
]


@pytest.mark.parametrize("name,kind,stride", CASES)
def test_a_fault_on_any_call_never_proves_nor_gives_an_exact_rate(name: str, kind: str, stride: int) -> None:
    assert kind in KINDS
    for k in ks(name, stride):
        with pytest.MonkeyPatch.context() as patch:
            fault = install(patch, Fault(k, kind))
            result = check_model(MODELS[name](), options(fault), stop=fault.flag)
        assert fault.fired, f"call {k} of {baseline(name)[1]} never came"
        assert_sound(result, name, fault)


def test_the_fault_free_runs_are_the_oracles() -> None:
    """The oracles themselves: proved with error 0, M_{2,2}'s published rate, the n = 3 model's 2/3
    (hand derivation: see n3_model), all complete."""
    hand, _ = baseline("handcrafted")
    assert hand.verdict is Verdict.PROVED and hand.error is not None and hand.error.upper == 0
    m22, _ = baseline("m22")
    assert m22.verdict is Verdict.REFUTED and m22.error is not None
    published = mpf("7.74314917800279097910995646168e-5")  # the README's exact rate (exact_2d scans)
    assert abs(m22.error.value - published) < mpf(10) ** -33
    n3, _ = baseline("n3")
    assert n3.verdict is Verdict.REFUTED and n3.error is not None
    assert abs(n3.error.value - mpf(2) / 3) < mpf(10) ** -40
    for result in (hand, m22, n3):
        assert result.search.complete and not result.undecided_regions and result.error_lower_bound is None


@pytest.mark.parametrize("name", ["m22", "n3"])
def test_faults_with_two_jobs(name: str) -> None:
    """--jobs 2: forked workers inherit the patched door (each process counts its own calls). A run
    where some call failed anywhere is unsound-proof; a run where none failed equals the oracle."""
    base, calls = baseline(name)
    stride = 1 if long_run() or name == "m22" else 11
    for kind in ("unknown", "timeout"):
        for k in range(1, calls + 1, stride if kind == "unknown" else 3 * stride):
            with pytest.MonkeyPatch.context() as patch:
                fault = install(patch, Fault(k, kind))
                result = check_model(MODELS[name](), options(fault), stop=fault.flag, region_source=region_source(2))
            if result.stats.unknowns == 0:
                assert result.verdict is base.verdict and result.error == base.error
                continue
            assert_sound(result, name, None)
