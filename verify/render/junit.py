"""JUnit XML for CI services: one test case per model x claim, built from the JSON reports.

proved -> a passing case; refuted -> <failure> whose message names a counterexample and the
error rate; unknown -> <error> (the check did not finish, which must not pass as green);
a model that could not be loaded -> <error> with the one-line input error; an interrupted run
-> the model being checked is an <error type="interrupted"> (its partial report is not a pass),
models not reached are <skipped message="interrupted ...">, and the suite carries the property
`interrupted` with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from verify.render.rate import error_rate_words
from verify.render.regression import is_regression_report, mse_words, worst_words

SUITE_NAME = "relu-verify"


@dataclass(frozen=True)
class JunitCase:
    """One model x claim: either a finished report or the error that stopped it."""

    model: str
    claim: str
    report: dict[str, Any] | None = None
    error: str = ""
    interrupted: bool = False  # the run stopped before this model was checked


def error_rate_text(report: dict[str, Any]) -> str:
    """The error rate, or for a regression (median) report its worst case and MSE."""
    if is_regression_report(report):
        return f"worst case {worst_words(report)}, eps {report['claim']['eps']}; MSE {mse_words(report)}"
    return f"error rate {error_rate_words(report)}"


def counterexample_text(cex: dict[str, Any]) -> str:
    x = ", ".join(repr(v) for v in cex["x_float32"])
    confirmed = "float32-confirmed" if cex["float32_confirmed"] else "NOT reproduced in float32"
    if "ratio_exact" in cex:  # a regression counterexample: the exact maximizer of |y - median| / max|x_i|
        return (f"x = ({x}) -> |y - median| / max|x_i| = {cex['ratio_exact']} exactly, {cex['ratio_float32']:.6g} "
                f"in float32, region {cex['region']}, {confirmed}")
    where = " (on a boundary, measure zero)" if cex.get("measure_zero") else ""
    return (f"x = ({x}) -> predicted {cex['predicted']}, expected {cex['expected']}, "
            f"region {cex['region']}, {confirmed}{where}")


def failure_message(report: dict[str, Any]) -> str:
    """One line for the CI summary: the first counterexample and the error rate."""
    cexs = report["counterexamples"]
    head = f"{report['claim']['name']} REFUTED: {error_rate_text(report)}"
    if cexs:
        head += f"; counterexample {counterexample_text(cexs[0])}"
    return head


def failure_details(report: dict[str, Any]) -> str:
    lines = [failure_message(report), f"verdict reason: {report['verdict_reason']}",
             f"model sha256 {report['model']['sha256']}"]
    lines += [f"counterexample {k}: {counterexample_text(c)}" for k, c in enumerate(report["counterexamples"])]
    for cone in report.get("misclassified_cones", [])[:20]:
        measure = cone["measure"]["exact"] if cone["measure"] else "not measured"
        lines.append(f"misclassified cone in region {cone['region']} [{cone['piece']}]: predicted "
                     f"{cone['predicted']} instead of {cone['target']}, measure {measure}")
    return "\n".join(lines)


def _case_element(case: JunitCase) -> ET.Element:
    stem = Path(case.model).stem
    element = ET.Element("testcase", {"classname": f"verify.{stem}", "name": case.claim, "file": case.model})
    report = case.report
    if report is None and case.interrupted:
        element.set("time", "0")
        ET.SubElement(element, "skipped", {"message": "interrupted before this model was checked"})
        return element
    if report is None:
        element.set("time", "0")
        error = ET.SubElement(element, "error", {"type": "InputError", "message": case.error})
        error.text = case.error
        return element
    element.set("time", f"{report['timing']['seconds']:.3f}")
    verdict = report["verdict"]
    if report.get("interrupted") and verdict != "refuted":
        message = f"{case.claim} INTERRUPTED (not proved): {report['stop_reason']}; {error_rate_text(report)}"
        error = ET.SubElement(element, "error", {"type": "interrupted", "message": message})
        error.text = message
    elif verdict == "refuted":
        failure = ET.SubElement(element, "failure", {"type": "refuted", "message": failure_message(report)})
        failure.text = failure_details(report)
    elif verdict == "unknown":
        message = f"{case.claim} UNKNOWN (not proved): {report['verdict_reason']}; {error_rate_text(report)}"
        error = ET.SubElement(element, "error", {"type": "unknown", "message": message})
        undecided = report.get("undecided", [])
        error.text = message + (f"\nundecided subtrees: {', '.join(undecided[:20])}" if undecided else "")
    out = ET.SubElement(element, "system-out")
    out.text = (f"verdict {verdict}; {len(report['regions'])} regions; {error_rate_text(report)}; "
                f"solver {report['solver']['name']} {report['solver']['version']}, {report['solver']['checks']} checks")
    return element


def _suite(elements: Sequence[ET.Element], seconds: float, interrupted: str | None) -> ET.ElementTree:
    """Wrap test cases in <testsuites><testsuite>, counting what each element holds."""
    kinds = [next((child.tag for child in e if child.tag in ("failure", "error", "skipped")), "") for e in elements]
    counts = {"tests": str(len(elements)), "failures": str(kinds.count("failure")), "errors": str(kinds.count("error")),
              "skipped": str(kinds.count("skipped")), "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE_NAME, **counts})
    if interrupted:
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", {"name": "interrupted", "value": interrupted})
    suite.extend(elements)
    ET.indent(root)
    return ET.ElementTree(root)


def build_junit(cases: Sequence[JunitCase], interrupted: str | None = None) -> ET.ElementTree:
    seconds = sum(c.report["timing"]["seconds"] for c in cases if c.report is not None)
    return _suite([_case_element(c) for c in cases], seconds, interrupted)


def ci_case(name: str, path: str, claim: str, seconds: float, failures: Sequence[tuple[str, str]],
            summary: str, *, interrupted: bool = False, not_run: bool = False) -> ET.Element:
    """One `verify ci` manifest entry: pass, <failure> per unmet criterion, or interrupted."""
    element = ET.Element("testcase", {"classname": f"verify.ci.{name}", "name": claim, "file": path,
                                      "time": f"{seconds:.3f}"})
    if not_run:
        ET.SubElement(element, "skipped", {"message": "interrupted before this model was checked"})
        return element
    if interrupted:
        error = ET.SubElement(element, "error", {"type": "interrupted", "message": f"{claim} INTERRUPTED: {summary}"})
        error.text = summary
    elif failures:
        text = "; ".join(f"{criterion}: {detail}" for criterion, detail in failures)
        failure = ET.SubElement(element, "failure", {"type": "regression", "message": text})
        failure.text = "\n".join(f"{criterion}: {detail}" for criterion, detail in failures)
    out = ET.SubElement(element, "system-out")
    out.text = summary
    return element


def build_ci_junit(elements: Sequence[ET.Element], seconds: float, interrupted: str | None = None) -> ET.ElementTree:
    return _suite(elements, seconds, interrupted)


def to_text(tree: ET.ElementTree) -> str:
    return ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=False).join(
        ["<?xml version='1.0' encoding='utf-8'?>\n", "\n"])


def write_junit(cases: Sequence[JunitCase], path: Path, interrupted: str | None = None) -> None:
    """Write the XML; a failed write is a one-line InputError (exit 2)."""
    from verify.render.files import write_text

    write_text(path, to_text(build_junit(cases, interrupted)), "--junit")
