"""The terminal summary of one JSON report (a few lines per model; -q: one, -v: more)."""

from __future__ import annotations

from typing import Any

from verify.render.digest import coverage_of, summarize_undecided
from verify.render.rate import (
    NO_LOWER_BOUND, NOT_COMPUTED, NOT_KNOWN, estimate_value_words, estimate_words, lower_bound_words, measure_words,
    sampled_share_words,
)

THIN = "cone too thin for a float32 witness"


def _verdict_line(report: dict[str, Any]) -> str:
    model = report["model"]
    return f"{model['path']}: {report['verdict'].upper()} ({report['claim']['name']})" + (
        " - INTERRUPTED" if report.get("interrupted") else "")


def error_rate_lines(report: dict[str, Any]) -> list[str]:
    err = report["error_rate"]
    cex = report["counterexamples"]
    lines = []
    if err is not None:
        if err["upper"] == 0 and report["verdict"] == "refuted" and cex and all(c["measure_zero"] for c in cex):
            lines.append(f"  error rate: {measure_words(err)} - every violation lies on a boundary ray or plane, a set of "
                         "measure zero (probability 0 under Gaussian inputs)")
        else:
            lines.append(f"  error rate: {measure_words(err)}")
        tie = report["tie_measure"]
        if tie is not None and tie["value"] > 0:
            strict = report["error_rate_strict"]
            strict_text = strict["exact"] if strict is not None else NOT_COMPUTED
            lines.append(f"  tie measure: {tie['exact']} - the probability that the top logit is shared exactly by two "
                         "indices (identically on a cone; torch.argmax then picks the first index)")
            lines.append(f"  strict error rate: {strict_text} - the error rate with ties counted as errors")
        return lines
    bound = report.get("error_rate_lower_bound")
    if bound is not None and bound["upper"] == 0:
        # "at least 0" is true but says nothing: say why there is no positive bound instead
        if any(not c["measure_zero"] for c in cex):
            lines.append(f"  error rate: {NO_LOWER_BOUND} (search incomplete; the misclassified cones "
                         "found have no certified measure here)")
        else:
            lines.append(f"  error rate: {NOT_KNOWN} (search incomplete; no misclassified cone of positive "
                         "measure found so far)")
    elif bound is not None:
        lines.append(f"  error rate: {lower_bound_words(bound)} (search incomplete: the misclassified cones "
                     "found so far; the rest is undecided)")
    if report.get("error_rate_estimate"):
        est = report["error_rate_estimate"]
        words = f"error rate: {estimate_words(est)}" if bound is None else f"  and an ESTIMATE of it: {estimate_value_words(est)}"
        lines.append(f"  {words} ({est['method']}, not exact, not a bound)")
    elif bound is None:
        lines.append(f"  error rate: {NOT_COMPUTED} (search incomplete or no certified method)")
    return lines


def counterexample_text(c: dict[str, Any]) -> str:
    text = f"x = {c['x_float32']} -> predicted {c['predicted']}, expected {c['expected']}"
    if c["measure_zero"]:
        text += " (on a boundary: measure zero)"
    elif c.get("thin"):
        text += f" ({THIN}; the exact point is x_exact in the report)"
    elif not c["float32_confirmed"]:
        text += " (not reproduced in float32)"
    return text


def counterexample_lines(report: dict[str, Any], verbosity: int) -> list[str]:
    cex = report["counterexamples"]
    if not cex:
        return []
    total = report.get("counterexamples_total", len(cex))
    confirmed = sum(1 for c in cex if c["float32_confirmed"])
    thin = sum(1 for c in cex if c.get("thin") and not c["measure_zero"])
    zero = sum(1 for c in cex if c["measure_zero"])
    count = f"{total}" if total == len(cex) else f"{total}, showing {len(cex)} of {total}"
    parts = [f"{confirmed} float32-confirmed"]
    if thin:
        parts.append(f"{thin} in a {THIN}")
    if zero:
        parts.append(f"{zero} on boundaries (measure zero)")
    head = f"  counterexamples: {count} ({', '.join(parts)})"
    if verbosity <= 0:
        return [f"{head}, e.g. {counterexample_text(cex[0])}"]
    return [head] + [f"    region {c['region']} [{c['piece']}]: {counterexample_text(c)}" for c in cex]


def coverage_lines(report: dict[str, Any]) -> list[str]:
    """For an incomplete search: how much of the input space the regions found cover."""
    if report["complete"]:
        return []
    cover = coverage_of(report)
    if cover["measure"] is not None:
        return [f"  covered: {cover['regions']} region(s) of total measure {measure_words(cover['measure'], ratio=False)} "
                "(exact); the rest is unexplored"]
    sampled = cover.get("sampled")
    if sampled:
        return [f"  covered: {cover['regions']} region(s), holding {sampled_share_words(sampled)}"]
    return []


def undecided_lines(report: dict[str, Any], verbosity: int) -> list[str]:
    """The undecided subtrees: by default counted and their depth range given (never a pattern cut
    mid-string; the reports list them); with -v each in full."""
    summary = summarize_undecided(report)
    if not summary.count:
        return []
    low, high = min(summary.fixed_bits), max(summary.fixed_bits)
    depth = f"{low}" if low == high else f"{low} to {high}"
    head = (f"  undecided: {summary.count} region(s)/subtree(s), each a pattern prefix fixing {depth} of "
            f"{summary.total_bits} neuron bits")
    if verbosity <= 0:
        return [head + " (listed in the reports; -v lists them here)"]
    return [head + ":"] + [f"    {p or '(root)'}" for p in report["undecided"]]


def summary_lines(report: dict[str, Any], verbosity: int = 0) -> list[str]:
    """The summary of one model: one line with -q (verbosity -1), a few by default, more with -v."""
    if verbosity < 0:
        return [_verdict_line(report)]
    model = report["model"]
    complete = report["complete"]
    lines = [
        f"{model['path']}: M_{{{model['hidden_size']},{model['seq_len']}}}, {model['n_params']} params, "
        f"sha256 {model['sha256'][:12]}",
        f"  verdict: {report['verdict'].upper()} ({report['claim']['name']}) - {report['verdict_reason']}",
    ]
    if report.get("interrupted"):
        lines.append(f"  INTERRUPTED: {report['stop_reason'] or 'stopped by a signal'}; this report is partial")
    lines.append(
        f"  regions: {len(report['regions'])}{'' if complete else ' (INCOMPLETE: ' + report['stop_reason'] + ')'}, "
        f"solver checks: {report['solver']['checks']}, {report['timing']['seconds']:.2f} s")
    lines += error_rate_lines(report)
    lines += coverage_lines(report)
    lines += counterexample_lines(report, verbosity)
    lines += undecided_lines(report, verbosity)
    if verbosity > 0:
        lines += [f"  note: {note}" for note in report.get("notes", [])]
    return lines
