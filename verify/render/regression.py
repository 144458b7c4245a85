"""Reports of a regression check (the median task): JSON, terminal summary, Markdown, HTML.

The same outer shape as a classification report (model, claim, verdict, regions, solver, timing),
so that JUnit, the CI table and scripts find what they look for; the claim carries
`"kind": "regression"` and its eps, and in place of an error rate the report gives the exact
worst case, the MSE (exact enclosure or a labelled ESTIMATE) and AlgZoo's RMSE.
"""

from __future__ import annotations

import base64
import html
from fractions import Fraction
from typing import Any

from mpmath import mp

from verify import __version__
from verify.check.regression import RegressionResult
from verify.core.linear import format_fraction
from verify.geometry.measure import digits, working_precision
from verify.render.json_report import SCHEMA_VERSION, measure_json, vector_json



def _moment_json(measure: Any) -> dict[str, Any] | None:
    """A certified mean squared error (or one cone's share of it): a measure's fields without "1 in N",
    which belongs to probabilities."""
    data = measure_json(measure)
    if data is not None:
        data.pop("one_in", None)
    return data

def _fraction_json(value: Fraction | None) -> dict[str, Any] | None:
    return None if value is None else {"exact": format_fraction(value), "value": float(value)}


def _reason(result: RegressionResult) -> str:
    eps = format_fraction(result.eps)
    if result.verdict.word == "proved":
        return (f"every region decided: the exact worst case {format_fraction(result.worst or Fraction(0))} <= eps {eps} "
                "(exact LPs over rationals on every cone)")
    if result.verdict.word == "refuted":
        tail = "; the search did not finish (the worst case may be larger)" if not result.complete else ""
        return (f"the exact worst case {format_fraction(result.worst or Fraction(0))} > eps {eps}, attained at the "
                f"counterexample{tail}")
    return result.search.stop_reason or "some regions were left undecided"


def _rmse_json(result: RegressionResult) -> dict[str, Any] | None:
    bounds = result.rmse
    if bounds is None:
        return None
    with working_precision():
        lower, upper = bounds
        return {"value": float((lower + upper) / 2), "lower_exact": digits(lower, 20), "upper_exact": digits(upper, 20),
                "exact": digits((lower + upper) / 2, 20), "error_bound": mp.nstr((upper - lower) / 2, 3)}


def regression_report(result: RegressionResult) -> dict[str, Any]:
    """The JSON report of a regression check."""
    weights, n = result.weights, result.seq_len
    regions = []
    for outcome in result.regions:
        regions.append({
            "index": outcome.region.index,
            "pattern": outcome.region.pattern_text,
            "output": vector_json(outcome.output),
            "worst_case": _fraction_json(outcome.worst),
            "pieces": [{
                "piece": p.label,
                "error_form": vector_json(p.error_form),
                "worst_case": _fraction_json(p.worst),
                "worst_point": vector_json(p.worst_point),
                "second_moment": _moment_json(p.second_moment),
            } for p in outcome.pieces],
        })
    counterexamples = []
    if result.verdict.word == "refuted" and result.worst_point is not None and result.float32 is not None:
        f32 = result.float32
        counterexamples.append({
            "region": result.worst_region,
            "x_exact": vector_json(result.worst_point),
            "x": list(f32.x_float32),
            "x_float32": list(f32.x_float32),
            "ratio_exact": format_fraction(result.worst or Fraction(0)),
            "y_float32": f32.y_float32,
            "median_float32": f32.median_float32,
            "ratio_float32": f32.ratio_float32,
            "float32_confirmed": f32.confirmed,
            "measure_zero": False,
        })
    estimate = result.mse_estimate
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "relu-verify", "version": __version__},
        "model": {"path": weights.path, "sha256": weights.sha256, "hidden_size": weights.hidden_size, "seq_len": n,
                  "outputs": 1, "n_params": weights.n_params, "architecture": "ScalarRNN (one output)"},
        "claim": {"name": result.claim.name, "kind": "regression", "k": None, "task": result.claim.task,
                  "statement": result.claim.statement, "eps": format_fraction(result.eps), "eps_value": float(result.eps)},
        "verdict": result.verdict.word,
        "verdict_reason": _reason(result),
        "complete": result.search.complete,
        "interrupted": result.interrupted,
        "stop_reason": result.search.stop_reason,
        "undecided": list(result.undecided_regions),
        "worst_case": None if result.worst is None else {
            **(_fraction_json(result.worst) or {}),
            "exact_over_all_inputs": result.complete,
            "point_exact": vector_json(result.worst_point or ()),
            "region": result.worst_region,
            "meaning": "max over x != 0 of |y(x) - median(x)| / max_i |x_i|",
        },
        "mse": _moment_json(result.mse),
        "rmse": _rmse_json(result),
        "mse_estimate": None if estimate is None else {
            "value": estimate.value, "standard_error": estimate.standard_error, "samples": estimate.samples,
            "seed": estimate.seed, "rmse": estimate.value ** 0.5,
            "method": "monte-carlo ESTIMATE on the exact weights in float64 (1 s.e.), not a bound"},
        "error_rate": None,
        "error_rate_lower_bound": None,
        "error_rate_estimate": None,
        "regions": regions,
        "counterexamples_total": len(counterexamples),
        "counterexamples": counterexamples,
        "notes": list(result.notes),
        "search": {"regions": result.search.regions, "nodes": result.search.nodes},
        "solver": {"name": result.stats.solver_name(), "version": result.stats.solver_version(),
                   "checks": result.stats.checks, "unknowns": result.stats.unknowns,
                   "seconds": round(result.stats.seconds, 6)},
        "timing": {"seconds": round(result.seconds, 6)},
    }


def is_regression_report(report: dict[str, Any]) -> bool:
    return report.get("claim", {}).get("kind") == "regression"


def worst_words(report: dict[str, Any]) -> str:
    """The worst case in one phrase: exact, or a lower bound when the search did not finish."""
    worst = report["worst_case"]
    if worst is None:
        return "not computed"
    text = f"{worst['exact']} (~{worst['value']:.6g})"
    return text if worst["exact_over_all_inputs"] else f"at least {text} (search incomplete)"


def mse_words(report: dict[str, Any]) -> str:
    """The MSE and AlgZoo's RMSE: an exact enclosure, else a labelled ESTIMATE."""
    mse, rmse, est = report["mse"], report["rmse"], report["mse_estimate"]
    if mse is not None and mse["upper"] == 0:
        return "0 exactly, RMSE 0 exactly"
    if mse is not None:
        return (f"{mse['exact']} (+- {mse['error_bound']}, {mse['method']}), RMSE {rmse['exact']} "
                f"(+- {rmse['error_bound']})")
    if est is not None:
        return (f"ESTIMATE {est['value']:.6g} +- {est['standard_error']:.2g} ({est['samples']:,} samples), "
                f"RMSE ESTIMATE ~{est['rmse']:.4g}")
    return "not computed"


def regression_summary_lines(report: dict[str, Any], verbosity: int = 0) -> list[str]:
    model, claim = report["model"], report["claim"]
    head = f"{model['path']}: {report['verdict'].upper()} (median, eps {claim['eps']})" + (
        " - INTERRUPTED" if report.get("interrupted") else "")
    if verbosity < 0:
        return [head]
    lines = [
        f"{model['path']}: median ScalarRNN M_{{{model['hidden_size']},{model['seq_len']}}}, {model['n_params']} params, "
        f"sha256 {model['sha256'][:12]}",
        f"  verdict: {report['verdict'].upper()} (median, |y - median| <= {claim['eps']} * max|x_i|) - "
        f"{report['verdict_reason']}",
        f"  regions: {len(report['regions'])}, solver checks: {report['solver']['checks']}, "
        f"{report['timing']['seconds']:.2f} s",
        f"  worst case |y - median| / max|x_i|: {worst_words(report)}",
        f"  MSE (N(0,1) inputs): {mse_words(report)}",
    ]
    for cex in report["counterexamples"]:
        confirmed = "float32-confirmed" if cex["float32_confirmed"] else "NOT reproduced in float32"
        lines.append(f"  counterexample: x = {cex['x_float32']} -> y {cex['y_float32']:.6g}, median "
                     f"{cex['median_float32']:.6g}, float32 ratio {cex['ratio_float32']:.6g} ({confirmed})")
    if report["undecided"]:
        lines.append(f"  undecided: {', '.join(report['undecided'][:5])}" + (" ..." if len(report["undecided"]) > 5 else ""))
    if verbosity > 0:
        lines += [f"  note: {note}" for note in report["notes"]]
    return lines


PICTURE_ALT = "The input directions coloured by |y - median| / max|x_i|, where it exceeds eps hatched"


def picture_caption(report: dict[str, Any]) -> str:
    """What the partition picture shows, in one sentence (the Markdown and HTML captions)."""
    where = "circle" if report["model"]["seq_len"] == 2 else "sphere (two equal-area half discs)"
    return (f"the {where} of input directions coloured by the ratio |y - median| / max|x_i| (colour bar), the "
            f"directions where it exceeds eps = {report['claim']['eps']} hatched in vermillion, the exact worst case "
            "starred.")


def regression_markdown(report: dict[str, Any], picture: str | None = None) -> str:
    """report.md; `picture` is the picture's file name beside it, embedded after the summary table."""
    model, claim = report["model"], report["claim"]
    lines = [
        f"# median regression check: {model['path']}",
        "",
        f"Task: **median** ({claim['task']}); claim: {claim['statement']}, with eps = {claim['eps']}.",
        "",
        "| | |",
        "|---|---|",
        f"| model | ScalarRNN M_{{{model['hidden_size']},{model['seq_len']}}}, {model['n_params']} params, sha256 `{model['sha256'][:12]}` |",
        f"| verdict | **{report['verdict'].upper()}** - {report['verdict_reason']} |",
        f"| worst case max \\|y - median\\| / max \\|x_i\\| | {worst_words(report)} |",
        f"| eps | {claim['eps']} |",
        f"| MSE / RMSE | {mse_words(report)} |",
        f"| regions | {len(report['regions'])} |",
        "",
    ]
    if picture:
        lines += [f"![{PICTURE_ALT}]({picture})", "", f"*Figure: {picture_caption(report)}*", ""]
    if report["counterexamples"]:
        cex = report["counterexamples"][0]
        lines += [f"Counterexample (the exact maximizer): x = ({', '.join(cex['x_exact'])}), exact ratio "
                  f"{cex['ratio_exact']}; float32 ratio {cex['ratio_float32']:.6g} "
                  f"({'confirmed' if cex['float32_confirmed'] else 'not reproduced'} in float32).", ""]
    lines += ["## Regions", "", "| region | pattern | y = . x | worst case | pieces |", "|---|---|---|---|---|"]
    for region in report["regions"]:
        worst = region["worst_case"]
        lines.append(f"| {region['index']} | `{region['pattern']}` | ({', '.join(region['output'])}) | "
                     f"{worst['exact']} (~{worst['value']:.4g}) | {len(region['pieces'])} |")
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def regression_html(report: dict[str, Any], picture_png: bytes | None = None) -> str:
    """A plain page: the Markdown report, escaped, so that --report DIR always has report.html; the
    picture, when given, inlined as a data: URL so that the file stands alone."""
    title = html.escape(f"median regression check: {report['model']['path']}")
    figure = ""
    if picture_png is not None:
        data = base64.b64encode(picture_png).decode("ascii")
        figure = (f'<figure><img id="picture" alt="{html.escape(PICTURE_ALT)}" style="max-width:100%" '
                  f'src="data:image/png;base64,{data}"><figcaption>{html.escape(picture_caption(report))}'
                  "</figcaption></figure>\n")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body>{figure}<pre>{html.escape(regression_markdown(report))}</pre></body></html>\n")
