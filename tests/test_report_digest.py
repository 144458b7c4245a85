"""The pieces every report shares (issue 17): the exact-fraction rule, the undecided-subtree summary,
region summaries, margins, witnesses and coverage in the JSON, the terminal glosses.

Expected values are derived by hand or from an exact forward pass written here, never copied from
the code under test.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.render.digest import misclassified_by_measure, summarize_regions, summarize_undecided
from verify.render.glossary import show_value, short_fraction
from verify.render.json_report import build_report
from verify.render.rate import lower_bound_words, sampled_share_words
from verify.render.text import summary_lines

from tests.conftest import M22_PATH

LOCAL_MIN = Path("models/trained_2_2_local_min.pth")


def exact_logits(weights: ModelWeights, x: list[Fraction]) -> list[Fraction]:
    """The RNN by its definition, in exact rationals (the test's own oracle)."""
    w_hi = [Fraction(float(v)) for v in weights.w_hi.reshape(-1)]
    w_hh = [[Fraction(float(v)) for v in row] for row in weights.w_hh]
    w_oh = [[Fraction(float(v)) for v in row] for row in weights.w_oh]
    d = len(w_hi)
    h = [Fraction(0)] * d
    for xt in x:
        h = [max(Fraction(0), sum((w_hh[i][j] * h[j] for j in range(d)), Fraction(0)) + w_hi[i] * xt) for i in range(d)]
    return [sum((row[j] * h[j] for j in range(d)), Fraction(0)) for row in w_oh]


def second_largest(x: list[Fraction]) -> int:
    return sorted(range(len(x)), key=lambda i: -x[i])[1]


@pytest.fixture(scope="module")
def m22() -> dict:
    return build_report(check_model(load_weights(str(M22_PATH))))


# -- the one rule for exact fractions ---------------------------------------------------------------

@pytest.mark.parametrize("exact, shown", [
    ("1", "1"), ("-1", "-1"), ("3/4", "3/4"), ("-99999/100000", "-99999/100000"), ("1/1000000", "≈1e-06"),
    ("1/1048576", "≈9.53674e-07"),  # 2^-20: a 7-digit denominator
    ("1234567/2", "≈617284"), ("-14164227/2097152", "≈-6.75403"),
])
def test_a_value_is_exact_only_with_short_numerator_and_denominator(exact: str, shown: str) -> None:
    assert show_value(exact) == shown
    assert short_fraction(exact) == (not shown.startswith("≈"))


def test_a_compact_lower_bound_is_rounded_down_so_it_stays_a_bound() -> None:
    """6 significant digits, always towards zero: 0.1234569 must not become 'at least 0.123457'."""
    assert lower_bound_words({"upper": 1.0, "lower_exact": "0.1234569"}, compact=True) == "at least 0.123456"
    assert lower_bound_words({"upper": 1.0, "lower_exact": "0.00001224371177"}, compact=True) == "at least 0.0000122437"
    assert lower_bound_words({"upper": 0.0, "lower_exact": "0.0"}, compact=True) == "not known"


def test_no_sampled_input_inside_is_said_with_the_rule_of_three() -> None:
    words = sampled_share_words({"samples": 20000, "inside": 0, "fraction": 0.0, "standard_error": 0.0})
    assert "none of 20,000" in words and "0.00015" in words and "+- 0" not in words
    words = sampled_share_words({"samples": 400, "inside": 100, "fraction": 0.25, "standard_error": 0.0217})
    assert "0.25 +- 0.022 of 400" in words and "ESTIMATE" in words


# -- undecided subtrees, summarized without cutting a pattern -----------------------------------------

def test_undecided_subtrees_share_whole_steps_and_keep_their_rest_whole() -> None:
    """d = 2, n = 3 (6 bits). Prefixes by hand: '10|01|1' and '10|01|0' share two whole steps;
    '10|0' shares only the first (its step 1 is partial), so the common part is step 0 alone."""
    report = {"undecided": ["10|01|1", "10|01|0", "10|0"], "model": {"hidden_size": 2, "seq_len": 3}}
    summary = summarize_undecided(report)
    assert summary.count == 3 and summary.total_bits == 6
    assert summary.common_steps == ("10",)
    assert summary.rests == ("01|1", "01|0", "0")
    assert summary.fixed_bits == (5, 5, 3)
    assert summary.by_open_step(2) == [(1, 1, 3, 3), (2, 2, 5, 5)]  # 3 bits: inside step 1; 5 bits: step 2
    assert summary.shallowest(2) == [2, 0]
    report["undecided"] = ["10|01|1", "10|01|0"]
    assert summarize_undecided(report).common_steps == ("10", "01")


def test_no_undecided_subtree_and_a_root_prefix() -> None:
    report = {"undecided": [], "model": {"hidden_size": 2, "seq_len": 2}}
    assert summarize_undecided(report).count == 0
    report["undecided"] = [""]
    summary = summarize_undecided(report)
    assert summary.fixed_bits == (0,) and summary.common_steps == () and summary.rests == ("",)


def test_the_summary_never_cuts_a_pattern_mid_string() -> None:
    d, n = 16, 10
    prefixes = ["|".join(["1010100000111000"] * 9 + ["1" * k]) for k in range(1, 17)]
    report = {"undecided": prefixes, "model": {"hidden_size": d, "seq_len": n}, "complete": False,
              "counterexamples": []}
    from verify.render.text import undecided_lines

    default = undecided_lines(report, 0)
    assert len(default) == 1 and "16 region(s)/subtree(s)" in default[0] and "145 to 160 of 160" in default[0]
    assert "..." not in default[0]
    verbose = undecided_lines(report, 1)
    assert [line.strip() for line in verbose[1:]] == prefixes  # each in full


# -- region summaries and sorting ---------------------------------------------------------------------

def test_misclassified_cones_are_sorted_by_measure_and_regions_summarized(m22: dict) -> None:
    cones = misclassified_by_measure(m22)
    values = [c["measure"]["value"] for c in cones]
    assert values == sorted(values, reverse=True) and len(values) == 2
    # the hand check: slivers of 0.0185 deg and 0.00937 deg
    assert abs(values[0] * 360 - 0.0185) < 0.00005 and abs(values[1] * 360 - 0.00937) < 0.00001
    summary = summarize_regions(m22, largest=3)
    assert summary.total == 6 and dict(summary.by_verdict) == {"proved": 4, "refuted": 2}
    assert [r["measure"]["value"] for r in summary.largest] == sorted(
        (r["measure"]["value"] for r in m22["regions"]), reverse=True)[:3]


# -- JSON additions: witnesses, margins, coverage ---------------------------------------------------

def test_witnesses_lie_in_their_cones_and_margins_match_an_exact_forward_pass(m22: dict) -> None:
    weights = load_weights(str(M22_PATH))
    for cone in m22["misclassified_cones"]:
        x = [Fraction(v) for v in cone["witness"]]
        assert max(abs(v) for v in x) == 1  # scaled to max |x_i| = 1
        logits = exact_logits(weights, x)
        target = second_largest(x)
        assert target == cone["target"]
        assert logits.index(max(logits)) == cone["predicted"] != target
        margin = (logits[cone["predicted"]] - logits[target]) / max(abs(v) for v in x)
        assert Fraction(cone["margin_exact"]) == margin > 0
        assert cone["margin"] == pytest.approx(float(margin), rel=1e-12)
    for cex in m22["counterexamples"]:
        x = [Fraction(v) for v in cex["x_exact"]]
        logits = exact_logits(weights, x)
        target = second_largest(x)
        assert cex["expected_exact"] == target
        assert Fraction(cex["margin_exact"]) == (logits[cex["predicted_exact"]] - logits[target]) / max(abs(v) for v in x)
        f32 = cex["logits_float32"]
        scale = max(abs(v) for v in cex["x_float32"])
        assert cex["margin_float32"] == pytest.approx((f32[cex["predicted_exact"]] - f32[cex["expected"]]) / scale)


def test_coverage_of_a_complete_run_is_the_total_measure(m22: dict) -> None:
    cover = m22["coverage"]
    assert cover["complete"] is True and cover["regions"] == 6 and cover["sampled"] is None
    assert cover["measure"] == m22["regions_total_measure"]
    assert cover["measure"]["lower"] <= 1.0 <= cover["measure"]["upper"]


def test_sampled_coverage_agrees_with_the_exact_measure_of_the_regions_found() -> None:
    """Where no measure is certified (n >= 4), the share of Gaussian inputs inside the regions found is
    sampled. Forced here on M_{2,2} cut after 2 regions, whose exact measure is the oracle (5 sigma)."""
    from verify.render.json_report import coverage_json, measure_json

    result = check_model(load_weights(str(M22_PATH)), CheckOptions(budget=Budget(max_regions=2)))
    assert not result.search.complete and len(result.regions) == 2
    exact = sum(float(o.measure.value) for o in result.regions)  # type: ignore[union-attr]
    cover = coverage_json(result, None)
    sampled = cover["sampled"]
    assert cover["measure"] is None and cover["regions"] == 2
    assert sampled["method"] == "monte-carlo estimate" and sampled["samples"] == 20000
    assert sampled["inside"] == round(sampled["fraction"] * sampled["samples"])
    assert abs(sampled["fraction"] - exact) < 5 * np.sqrt(exact * (1 - exact) / sampled["samples"])
    # with a certified measure nothing is sampled
    measured = coverage_json(result, measure_json(result.regions[0].measure))
    assert measured["sampled"] is None


# -- the terminal summary explains ties and the strict rate, and coverage ------------------------------

def test_the_terminal_summary_glosses_ties_and_the_strict_rate() -> None:
    report = build_report(check_model(load_weights(str(LOCAL_MIN))))
    assert report["tie_measure"]["value"] > 0
    text = "\n".join(summary_lines(report))
    tie_line = next(line for line in text.splitlines() if "tie measure:" in line)
    strict_line = next(line for line in text.splitlines() if "strict error rate:" in line)
    assert report["tie_measure"]["exact"] in tie_line and "torch.argmax then picks the first index" in tie_line
    assert report["error_rate_strict"]["exact"] in strict_line and "ties counted as errors" in strict_line


def test_the_terminal_summary_says_what_a_partial_run_covered() -> None:
    report = build_report(check_model(load_weights(str(M22_PATH)), CheckOptions(budget=Budget(max_regions=2))))
    cover = report["coverage"]["measure"]
    line = next(line for line in summary_lines(report) if "covered:" in line)
    assert "2 region(s)" in line and cover["exact"] in line and "(exact)" in line
    # oracle: two regions of M_{2,2}, each an angle; their sum is below the whole circle
    assert 0 < cover["value"] < 1
    json.dumps(report)  # the additions stay JSON


def test_each_cone_has_its_own_witness_where_a_region_splits_one_ordering_between_wrong_answers() -> None:
    """trained_2_3 has regions where one input ordering is split into cones with different wrong
    answers: each cone's witness must predict that cone's answer (exact forward pass here)."""
    path = "models/trained_2_3.pth"
    report = build_report(check_model(load_weights(path)))
    weights = load_weights(path)
    keys = [(c["region"], c["piece"]) for c in report["misclassified_cones"]]
    assert len(keys) > len(set(keys))  # the case this test is about occurs
    for cone in report["misclassified_cones"]:
        x = [Fraction(v) for v in cone["witness"]]
        logits = exact_logits(weights, x)
        first = max(range(len(logits)), key=lambda i: (logits[i], -i))
        assert first == cone["predicted"] and second_largest(x) == cone["target"]
        assert Fraction(cone["margin_exact"]) == (logits[cone["predicted"]] - logits[cone["target"]]) / max(abs(v) for v in x)
