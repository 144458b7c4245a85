"""The human proof report, rendered from the JSON report (so both always say the same)."""

from __future__ import annotations

from typing import Any

from verify.render.rate import measure_words


def _measure(m: dict[str, Any] | None, *, ratio: bool = True) -> str:
    return measure_words(m, ratio=ratio)


def _matrix(name: str, m: dict[str, Any]) -> list[str]:
    rows = m["exact"]
    floats = m["float"]
    lines = [f"**{name}**", "", "| | " + " | ".join(f"col {j}" for j in range(len(rows[0]))) + " |"]
    lines.append("|---" * (len(rows[0]) + 1) + "|")
    for i, (row, frow) in enumerate(zip(rows, floats)):
        cells = [f"{f:.6g}" + (f" (`{e}`)" if len(e) <= 24 else "") for e, f in zip(row, frow)]
        lines.append(f"| row {i} | " + " | ".join(cells) + " |")
    return lines + [""]


def _direction(ray: dict[str, Any]) -> str:
    exact = ", ".join(ray["direction"])
    return f"({exact})" if len(exact) <= 40 else "(" + ", ".join(f"{v:.6g}" for v in ray["direction_float"]) + ")"


def _cone_cells(cone: dict[str, Any] | None) -> str:
    """Solid angle, measure, extreme rays and facet count of an n >= 3 region (its last cells)."""
    if cone is None:
        return "n/a | n/a | too many to compute | n/a"
    solid = cone["solid_angle"]
    angle = f"{solid['steradians'][:22]} | {solid['of_4pi'][:22]}" if solid else "n/a | n/a (rank >= 4)"
    rays = "; ".join(_direction(r) for r in cone["extreme_rays"]) or "-"
    if cone["lineality"]:
        rays += " + span(" + "; ".join("(" + ", ".join(v) + ")" for v in cone["lineality"]) + ")"
    return f"{angle} | {rays} | {len(cone['facets'])}"


def render_markdown(report: dict[str, Any]) -> str:
    model, claim = report["model"], report["claim"]
    lines = [
        f"# Proof report: {model['path']}",
        "",
        f"**Verdict: {report['verdict'].upper()}** — {report['verdict_reason']}.",
        "",
        f"- Claim ({claim['name']}): {claim['statement']}.",
        f"- Model: hidden size {model['hidden_size']}, sequence length {model['seq_len']}, "
        f"{model['n_params']} parameters, sha256 `{model['sha256']}`.",
        f"- Regions: {len(report['regions'])} ({'search complete' if report['complete'] else 'search INCOMPLETE: ' + report['stop_reason']}); "
        f"solver {report['solver']['name']} {report['solver']['version']}, {report['solver']['checks']} checks, "
        f"{report['timing']['seconds']:.3f} s.",
        f"- Error rate under i.i.d. standard normal inputs: {_measure(report['error_rate'])}.",
        f"- Tie measure (maximal logit shared identically): {_measure(report['tie_measure'], ratio=False)}; "
        f"strict error rate (ties count as errors): {_measure(report['error_rate_strict'])}.",
    ]
    if report.get("interrupted"):
        lines.insert(3, f"**INTERRUPTED** ({report['stop_reason']}): this report is partial; nothing was proved.")
        lines.insert(4, "")
    if report["error_rate"] is None and report.get("error_rate_lower_bound"):
        bound = report["error_rate_lower_bound"]
        lines.append(f"- Error rate is **at least** {bound['lower_exact']} (search incomplete: the misclassified "
                     "cones found so far; the undecided regions may add more).")
    if report["error_rate"] is None and report.get("error_rate_estimate"):
        est = report["error_rate_estimate"]
        lines.append(f"- Error rate ESTIMATE (not exact, not a bound): {est['value']:.6g} +- {est['standard_error']:.2g} "
                     f"(1 standard error; {est['method']}, {est['samples']:,} samples on the {est['model']} model).")
    if report.get("float32_uncertain_measure") is not None:
        lines.append(
            f"- float32 uncertain measure (rounding could flip the prediction): "
            f"{_measure(report['float32_uncertain_measure'], ratio=False)}."
        )
    if report["undecided"]:
        lines.append(f"- Undecided subtrees (pattern prefixes): {', '.join(report['undecided'][:20])}"
                     + (" ..." if len(report["undecided"]) > 20 else ""))
    for note in report.get("notes", []):
        lines.append(f"- Note: {note}")
    lines += ["", "## Standardized weights", "",
              "Each neuron rescaled by s_i = |W_hi[i]| (exactly the same logits); classes give sign and |w| vs 1.", ""]
    std = report["standardized"]
    for name in ("W_hi", "W_hh", "W_oh"):
        lines += _matrix(name, std[name])
        lines += [f"classes: `{std['classes'][name]}`", ""]
    if std["zero_input_neurons"]:
        lines += [f"Neurons with input weight 0 (not rescaled): {std['zero_input_neurons']}", ""]
    lines += ["## Regions", ""]
    two_d = model["seq_len"] == 2
    if two_d:
        lines += ["| # | pattern | verdict | measure (angle / 2pi) | a0 | a1 | boundary rays (deg) | decision ray (deg) |",
                  "|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["| # | pattern | verdict | solid angle (sr) | measure (of 4pi) | extreme rays | facets |",
                  "|---|---|---|---|---|---|---|"]
    for r in report["regions"]:
        m = r["measure"]
        measure = f"{m['exact'][:22]}" if m else "n/a"
        if two_d:
            c = r["coefficients"]
            rays = r.get("rays", {})
            bnd = ", ".join(x["angle_deg"][:12] for x in rays.get("boundary", []))
            dec = ", ".join(x["angle_deg"][:16] for x in rays.get("decision", [])) or "-"
            a0 = f"{c['a0_float']:.9g}" + (f" (`{c['a0']}`)" if len(c["a0"]) < 40 else "")
            a1 = f"{c['a1_float']:.9g}" + (f" (`{c['a1']}`)" if len(c["a1"]) < 40 else "")
            lines.append(f"| {r['index']} | `{r['pattern']}` | {r['verdict']} | {measure} | {a0} | {a1} | {bnd} | {dec} |")
        else:
            lines.append(f"| {r['index']} | `{r['pattern']}` | {r['verdict']} | {_cone_cells(r.get('cone'))} |")
    if two_d:
        lines += ["", "On each region Delta = logit_1 - logit_0 = a0*x0 - a1*x1. Exact rays:", ""]
        for r in report["regions"]:
            rays = r.get("rays", {})
            for kind in ("boundary", "decision", "diagonal"):
                for ray in rays.get(kind, []):
                    lines.append(f"- region {r['index']} {kind}: direction ({', '.join(ray['direction'])}), "
                                 f"angle {ray['angle_rad']} rad = {ray['angle_deg']} deg")
    lines += ["", "## Misclassified cones", ""]
    if not report["misclassified_cones"]:
        lines.append("None.")
    for c in report["misclassified_cones"]:
        lines.append(f"- region {c['region']}, {c['piece']}: predicts x{c['predicted']} instead of x{c['target']}; "
                     f"measure {_measure(c['measure'])}")
    lines += ["", "## Counterexamples (re-run on the real PyTorch model in float32)", ""]
    cexs = report["counterexamples"]
    total = report.get("counterexamples_total", len(cexs))
    if total > len(cexs):
        lines += [f"Showing {len(cexs)} of {total} counterexamples (raise `--max-counterexamples` to list more).", ""]
    if any(c.get("thin") and not c["measure_zero"] for c in cexs):
        lines += ["*thin*: the cone is too thin for a float32 witness: no float32 point can be trusted to lie "
                  "inside it, so the exact point `x exact` is the counterexample and float32 says little.", ""]
    if not cexs:
        lines.append("None.")
    else:
        lines += ["| region | x (float32) | expected | predicted (float32) | logits (float32) | float32 confirmed | x exact |",
                  "|---|---|---|---|---|---|---|"]
        for c in report["counterexamples"]:
            x = ", ".join(f"{v:.9g}" for v in c["x_float32"])
            logits = ", ".join(f"{v:.6g}" for v in c["logits_float32"])
            exact = ", ".join(c["x_exact"])
            exact = exact if len(exact) < 80 else exact[:77] + "..."
            zero = " (boundary only, measure zero)" if c["measure_zero"] else (
                " (thin: cone too thin for a float32 witness)" if c.get("thin") else "")
            lines.append(f"| {c['region']} | ({x}) | {c['expected']} | {c['predicted']} | ({logits}) | "
                         f"{'yes' if c['float32_confirmed'] else 'no'}{zero} | ({exact}) |")
    lines.append("")
    return "\n".join(lines)
