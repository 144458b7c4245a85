"""The human proof report, an appendix a paper could print, rendered from the JSON report (so
both always say the same): summary and picture first, then the misclassified cones, the
counterexamples, the standardized weights and the regions; a search cut short says what it
covered, what it found and what remains.
"""

from __future__ import annotations

from typing import Any, Sequence

from verify.render.digest import (
    MAX_REGIONS_LISTED, UNDECIDED_SHOWN, coverage_of, misclassified_by_measure, summarize_regions, summarize_undecided,
)
from verify.render.glossary import (
    EXACT_RULE, MARGIN_GLOSS, PATTERN_GLOSS, RATE_GLOSS, STRICT_GLOSS, TIE_GLOSS, region_id, show_float, show_value,
)
from verify.render.rate import estimate_value_words, lower_bound_words, measure_words, sampled_share_words

MAX_ROWS = 50  # misclassified cones and counterexamples listed in report.md (all are in report.json)


def _cell(text: str) -> str:
    """A table cell: '|' escaped so that a pattern like 10|01 does not split the row."""
    return text.replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [_row(head), "|" + "---|" * len(head)] + [_row(r) for r in rows]


def _point(values: Sequence[str]) -> str:
    return "(" + ", ".join(show_value(v) for v in values) + ")"


def _pattern(text: str) -> str:
    return f"`{text}`" if text else "(root)"


def certainty_words(report: dict[str, Any]) -> str:
    """The error rate with how sure it is: exact with its enclosure, a certified lower bound, or an estimate."""
    if report["error_rate"] is not None:
        m = report["error_rate"]
        kind = "certified" if m["method"].startswith("certified") else "exact"
        return f"**{measure_words(m)}**, {kind} (a rigorous enclosure; {m['method']})"
    words = []
    bound = report.get("error_rate_lower_bound")
    if bound is not None and bound["upper"] > 0:
        words.append(f"**{lower_bound_words(bound)}** (a certified lower bound: the misclassified cones found so "
                     "far; the search is incomplete)")
    elif bound is not None:
        words.append("no certified lower bound above 0 (the search is incomplete and the misclassified cones "
                     "found, if any, have no certified measure)")
    est = report.get("error_rate_estimate")
    if est:
        words.append(f"ESTIMATE {estimate_value_words(est)} (1 standard error; {est['method']} over "
                     f"{est['samples']:,} samples of the {est['model']} model; not exact, not a bound)")
    return "; ".join(words) or "not computed (search incomplete or no certified method)"


def _summary(report: dict[str, Any], picture: str | None) -> list[str]:
    model, claim = report["model"], report["claim"]
    lines = [f"# Proof report ({claim['name']}): {model['path']}", "", "## Summary", ""]
    if report.get("interrupted"):
        lines += [f"**INTERRUPTED** ({report['stop_reason']}): this report is partial; nothing was proved.", ""]
    lines += [f"**Verdict: {report['verdict'].upper()}** — {report['verdict_reason']}.", "",
              f"**Error rate**: {certainty_words(report)}. {RATE_GLOSS}", ""]
    if picture:
        lines += [f"![The input space divided into regions, coloured by outcome]({picture})", "",
                  f"*Figure: {_caption(report)}*", ""]
    search = "search complete" if report["complete"] else "search INCOMPLETE: " + report["stop_reason"]
    lines += [
        f"- Claim ({claim['name']}): {claim['statement']}.",
        f"- Model: M_{{{model['hidden_size']},{model['seq_len']}}}, hidden size {model['hidden_size']}, sequence "
        f"length {model['seq_len']}, {model['n_params']} parameters, sha256 `{model['sha256']}`.",
    ]
    tie = report["tie_measure"]
    if tie is not None and tie["upper"] > 0:
        lines.append(f"- Tie measure: {measure_words(tie, ratio=False)}. {TIE_GLOSS}")
        lines.append(f"- Strict error rate: {measure_words(report['error_rate_strict'])}. {STRICT_GLOSS}")
    elif tie is not None:
        lines.append(f"- Tie measure: 0 exactly (no cone where two logits tie for the top), so the strict error "
                     "rate equals the error rate.")
    lines.append(f"- Regions: {len(report['regions'])} ({search}); solver {report['solver']['name']} "
                 f"{report['solver']['version']}, {report['solver']['checks']} checks, {report['timing']['seconds']:.3f} s.")
    if report.get("float32_uncertain_measure") is not None:
        lines.append(f"- float32 uncertain measure: {measure_words(report['float32_uncertain_measure'], ratio=False)}: "
                     "inside these bands around the decision rays and the diagonal, float32 rounding could change the "
                     "prediction, so PyTorch's error rate lies within this distance of the exact one.")
    lines += [f"- Note: {note}" for note in report.get("notes", [])]
    return lines + [""]


def _caption(report: dict[str, Any]) -> str:
    if report["model"]["seq_len"] == 2:
        return ("the (x0, x1) plane; each wedge is a region (ids Rk, patterns in the Regions table), coloured by "
                "outcome; magnified insets show slivers too thin to see.")
    return ("the sphere of input directions as two equal-area discs, one per half (x0 + x1 + x2 > 0 and < 0); "
            "the share of a colour is the probability of that outcome.")


def _coverage(report: dict[str, Any]) -> list[str]:
    """For a search cut short: what was covered, what was found, what remains."""
    if report["complete"]:
        return []
    cover = coverage_of(report)
    lines = ["## Coverage of an incomplete search", ""]
    if cover["measure"] is not None:
        covered = (f"{cover['regions']} region(s) of total measure {measure_words(cover['measure'], ratio=False)} "
                   "(exact): that share of Gaussian inputs was decided; the rest was not explored")
    elif cover.get("sampled"):
        s = cover["sampled"]
        covered = (f"{cover['regions']} region(s); their measure is not certified for n = {report['model']['seq_len']}, "
                   f"so by sampling ({s['model']}, seed {s['seed']}) they hold {sampled_share_words(s)}")
    else:
        covered = f"{cover['regions']} region(s)"
    lines.append(f"- **Covered**: {covered}.")
    total = report.get("counterexamples_total", len(report["counterexamples"]))
    lines.append(f"- **Found**: {total} counterexample(s) (listed below with their margins) and "
                 f"{len(report['misclassified_cones'])} misclassified cone(s).")
    lines += _undecided(report)
    return lines + [""]


def _undecided(report: dict[str, Any]) -> list[str]:
    summary = summarize_undecided(report)
    if not summary.count:
        return ["- **Remains**: no undecided subtree was recorded."]
    d = report["model"]["hidden_size"]
    lines = [f"- **Remains**: {summary.count} undecided subtree(s) or region(s) of the search, each named by a "
             f"pattern prefix: the neurons' states shown are fixed, the rest is open (a full pattern has "
             f"{summary.total_bits} bits).", "", PATTERN_GLOSS, ""]
    lines += _table(["open from step", "subtrees", "bits fixed"],
                    [[str(step), str(count), str(low) if low == high else f"{low} to {high}"]
                     for step, count, low, high in summary.by_open_step(d)])
    lines.append("")
    if summary.common_steps:
        lines += [f"All of them share their first {len(summary.common_steps)} step(s):", "", "```"]
        lines += [f"step {t}: {step}" for t, step in enumerate(summary.common_steps)]
        lines += ["```", ""]
    shown = summary.shallowest(UNDECIDED_SHOWN)
    after = " after the shared steps" if summary.common_steps else ""
    lines += [f"The {len(shown)} largest (fewest bits fixed), each pattern{after} in full:", ""]
    lines += _table(["#", "bits fixed", "pattern" + after],
                    [[str(k), str(summary.fixed_bits[k]), _pattern(summary.rests[k])] for k in shown])
    if summary.count > len(shown):
        lines += ["", f"... and {summary.count - len(shown)} more (all in report.json, `undecided`)."]
    return lines


def _misclassified(report: dict[str, Any]) -> list[str]:
    lines = ["## Misclassified cones", ""]
    cones = misclassified_by_measure(report)
    if not cones:
        return lines + ["None: no cone of inputs is misclassified.", ""]
    two_d = report["model"]["seq_len"] == 2
    lines += ["Each is a cone of inputs on which the prediction is constant and wrong, largest measure first; "
              "the witness is an exact point inside it (scaled to max |x_i| = 1). " + MARGIN_GLOSS, ""]
    head = ["#", "region", "input order", "expected", "predicted", "measure"]
    head += ["width (deg)"] if two_d else []
    head += ["witness x", "margin"]
    rows = []
    for k, c in enumerate(cones[:MAX_ROWS]):
        m = c["measure"]
        row = [str(k), region_id(c["region"]), c["piece"], f"x{c['target']}",
               f"x{c['predicted']}" + (" (tie)" if c["tied"] else ""), measure_words(m, compact=True)]
        if two_d:
            row.append("n/a" if m is None else show_float(m["value"] * 360.0, 4))
        row += [_point(c["witness"]) if "witness" in c else "see report.json",
                show_float(c["margin"], 4) if "margin" in c else "n/a"]
        rows.append(row)
    lines += _table(head, rows)
    if len(cones) > MAX_ROWS:
        lines += ["", f"Showing the {MAX_ROWS} largest of {len(cones)} misclassified cones (all in report.json)."]
    return lines + [""]


def _counterexamples(report: dict[str, Any]) -> list[str]:
    lines = ["## Counterexamples (re-run on the real PyTorch model in float32)", ""]
    cexs = report["counterexamples"]
    total = report.get("counterexamples_total", len(cexs))
    if total > len(cexs):
        lines += [f"Showing {len(cexs)} of {total} counterexamples (raise `--max-counterexamples` to list more).", ""]
    if not cexs:
        return lines + ["None.", ""]
    if any(c.get("thin") and not c["measure_zero"] for c in cexs):
        lines += ["*thin*: the cone is too thin for a float32 witness: no float32 point can be trusted to lie "
                  "inside it, so the exact point `x exact` is the counterexample and float32 says little.", ""]
    lines += ["x exact is the counterexample (exact rationals, shown by the rule under Standardized weights); "
              "x (float32) is its nearest float32 point, where PyTorch is run. Margin: as above, exact at x exact "
              "and PyTorch's at x (float32) for the same wrong index (negative: float32 gets it right).", ""]
    head = ["#", "region", "x exact", "x (float32)", "expected", "predicted (float32)", "margin (exact)",
            "margin (float32)", "float32 confirmed"]
    rows = []
    for k, c in enumerate(cexs[:MAX_ROWS]):
        note = " (boundary only, measure zero)" if c["measure_zero"] else (
            " (thin: cone too thin for a float32 witness)" if c.get("thin") else "")
        rows.append([str(k), region_id(c["region"]), _point(c["x_exact"]),
                     "(" + ", ".join(show_float(v) for v in c["x_float32"]) + ")",
                     f"x{c['expected']}", f"x{c['predicted']}",
                     show_float(c["margin"], 4) if "margin" in c else "n/a",
                     show_float(c["margin_float32"], 4) if "margin_float32" in c else "n/a",
                     ("yes" if c["float32_confirmed"] else "no") + note])
    lines += _table(head, rows)
    if len(cexs) > MAX_ROWS:
        lines += ["", f"Showing {MAX_ROWS} of the {len(cexs)} listed (all in report.json)."]
    return lines + [""]


CLASSES_INLINE_UP_TO = 4  # hidden sizes up to this show each entry's class beside its value


def _matrix(name: str, exact: list[list[str]], classes: list[list[str]], inline: bool, row_name: str,
            col_name: str = "col") -> list[str]:
    head = [name] + [f"{col_name} {j}" for j in range(len(exact[0]))]
    body = [[f"{row_name} {i}" if row_name else ""] + [show_value(e) + (f" ({c})" if inline else "") for e, c in zip(row, crow)]
            for i, (row, crow) in enumerate(zip(exact, classes))]
    return [f"**{name}**", ""] + _table(head, body) + [""]


def _weights(report: dict[str, Any]) -> list[str]:
    std = report["standardized"]
    inline = report["model"]["hidden_size"] <= CLASSES_INLINE_UP_TO
    lines = ["## Standardized weights", "",
             "Each neuron i is rescaled by s_i = |W_hi[i]|, which gives exactly the same logits and makes every "
             "input weight +1 or -1. " + EXACT_RULE, ""]
    lines.append("Beside each value, its class: sign and |w| against 1 (e.g. `-<1`)." if inline else
                 "Each entry's class (sign and |w| against 1) is in report.json (`standardized.classes`).")
    lines.append("")
    w_hi = std["W_hi"]["exact"]
    lines += _matrix("W_hi", [[row[0] for row in w_hi]], [[row[0] for row in std["classes"]["W_hi"]]], inline, "",
                     "neuron")
    lines += _matrix("W_hh", std["W_hh"]["exact"], std["classes"]["W_hh"], inline, "to neuron", "from")
    lines += _matrix("W_oh", std["W_oh"]["exact"], std["classes"]["W_oh"], inline, "logit", "neuron")
    if std["zero_input_neurons"]:
        lines += [f"Neurons with input weight 0 (not rescaled): {std['zero_input_neurons']}", ""]
    return lines


def _region_row(r: dict[str, Any], two_d: bool) -> list[str]:
    m = r["measure"]
    row = [region_id(r["index"]), _pattern(r["pattern"]), r["verdict"], measure_words(m, ratio=False, compact=True)]
    if two_d:
        c, rays = r["coefficients"], r.get("rays", {})
        bnd = " to ".join(show_float(float(x["angle_deg"]), 8) for x in rays.get("boundary", [])) or "whole plane"
        dec = ", ".join(show_float(float(x["angle_deg"]), 10) for x in rays.get("decision", [])) or "-"
        return row + [bnd, dec, show_value(c["a0"]), show_value(c["a1"])]
    cone = r.get("cone")
    if cone is None:
        return row + ["n/a", "too many to compute", "n/a"]
    solid = cone["solid_angle"]
    rays = "; ".join(_point(x["direction"]) for x in cone["extreme_rays"]) or "-"
    if cone["lineality"]:
        rays += " + span(" + "; ".join(_point(v) for v in cone["lineality"]) + ")"
    return row + [show_float(float(solid["steradians"])) if solid else "n/a (rank >= 4)", rays, str(len(cone["facets"]))]


def _regions(report: dict[str, Any], pattern_glossed: bool) -> list[str]:
    two_d = report["model"]["seq_len"] == 2
    lines = ["## Regions", ""]
    if not pattern_glossed:
        lines += [PATTERN_GLOSS, ""]
    if two_d:
        head = ["id", "pattern", "verdict", "measure (angle / 2pi)", "from - to (deg)", "decision ray (deg)", "a0", "a1"]
        lines += ["On each region Delta = logit_1 - logit_0 = a0*x0 - a1*x1: the model says x1 is the 2nd largest "
                  "where Delta > 0. Exact ray directions are in report.json (`regions[].rays`).", ""]
    else:
        head = ["id", "pattern", "verdict", "measure (of 4pi)", "solid angle (sr)", "extreme rays", "facets"]
    regions = report["regions"]
    if len(regions) <= MAX_REGIONS_LISTED:
        return lines + _table(head, [_region_row(r, two_d) for r in regions]) + [""]
    summary = summarize_regions(report)
    counts = ", ".join(f"{count} {verdict}" for verdict, count in summary.by_verdict)
    lines += [f"{summary.total} regions ({counts}); {summary.measured} with a certified measure. The full list is in "
              "report.json (`regions`) and in report.html.", ""]
    if summary.largest:
        lines += [f"The {len(summary.largest)} largest by measure:", ""]
        lines += _table(head, [_region_row(r, two_d) for r in summary.largest])
    return lines + [""]


def render_markdown(report: dict[str, Any], picture: str | None = None) -> str:
    """report.md; `picture` is the picture's file name beside it, embedded in the summary when given."""
    lines = _summary(report, picture)
    coverage = _coverage(report)
    lines += coverage
    lines += _misclassified(report)
    lines += _counterexamples(report)
    lines += _weights(report)
    lines += _regions(report, pattern_glossed=bool(coverage) and bool(report["undecided"]))
    return "\n".join(lines).rstrip() + "\n"
