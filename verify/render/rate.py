"""The one wording of error rates and other Gaussian measures, for every renderer.

Every place that shows a measure (the terminal summary, JUnit, Markdown, the CI table, the
pictures) words it here, from the report's measure JSON, so that one rule changes in one place:
exactly 0 is "0 exactly"; a certified value is its digits with the enclosure's half-width and
"1 in N"; a lower bound says "at least"; a Monte Carlo value says "ESTIMATE"; nothing known is
"not computed". `compact=True` gives the same words with 6 significant digits for tables and titles.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

NOT_COMPUTED = "not computed"
NOT_KNOWN = "not known"  # an incomplete search that found no misclassified cone of positive measure
NO_LOWER_BOUND = "no certified lower bound"  # ... that found such cones but cannot measure them
EXACT_ZERO = "0 exactly"


def measure_words(m: dict[str, Any] | None, *, ratio: bool = True, compact: bool = False) -> str:
    """A certified measure: '0 exactly', 'X (+- b), 1 in N' (compact: 'X (1 in N)'), or 'not computed'."""
    if m is None:
        return NOT_COMPUTED
    if m["upper"] == 0:
        return EXACT_ZERO
    one_in = m.get("one_in")
    if compact:
        value = m["value"]
        if not value:
            return f"<= {m['upper']:.3g}"
        return f"{value:.6g}" + (f" (1 in {one_in:,.{0 if value < 0.01 else 2}f})" if ratio and one_in else "")
    text = f"{m['exact']} (+- {m['error_bound']})"
    return text + (f", 1 in {one_in:,.2f}" if ratio and one_in else "")


def lower_bound_words(m: dict[str, Any], *, compact: bool = False) -> str:
    """An incomplete search's bound; "at least 0" is true but says nothing, so it is "not known".
    compact: 6 significant digits rounded down, so that the shorter bound is still a bound."""
    if m["upper"] == 0:
        return NOT_KNOWN
    if compact:
        exact = Decimal(m["lower_exact"])
        quantum = Decimal(1).scaleb(exact.adjusted() - 5)
        return f"at least {exact.quantize(quantum, rounding=ROUND_FLOOR).normalize():g}"
    return f"at least {m['lower_exact']}"


def estimate_value_words(estimate: dict[str, Any]) -> str:
    return f"{estimate['value']:.6g} +- {estimate['standard_error']:.2g}"


def estimate_words(estimate: dict[str, Any], *, compact: bool = False) -> str:
    """A Monte Carlo value, never to be read as exact: 'ESTIMATE v +- se' (compact: 'ESTIMATE ~v')."""
    if compact:
        return f"ESTIMATE ~{estimate['value']:.3g}"
    return f"ESTIMATE {estimate_value_words(estimate)}"


def error_rate_words(report: dict[str, Any], *, compact: bool = False) -> str:
    """A report's error rate in one phrase: certified, else at least the bound, else the estimate."""
    if report.get("error_rate") is not None:
        return measure_words(report["error_rate"], compact=compact)
    if report.get("error_rate_lower_bound") is not None:
        return lower_bound_words(report["error_rate_lower_bound"], compact=compact)
    if report.get("error_rate_estimate"):
        return estimate_words(report["error_rate_estimate"], compact=compact)
    return NOT_COMPUTED


def sampled_share_words(sampled: dict[str, Any]) -> str:
    """A coverage estimate from samples: 'ESTIMATE f +- se of N sampled inputs'; none inside: the rule of three."""
    if sampled["inside"] == 0:
        return (f"none of {sampled['samples']:,} sampled inputs (an ESTIMATE: their share is probably below "
                f"{3 / sampled['samples']:.2g}, the 95% rule of three)")
    return (f"an ESTIMATED {sampled['fraction']:.4g} +- {sampled['standard_error']:.2g} of {sampled['samples']:,} "
            "sampled inputs (not exact)")
