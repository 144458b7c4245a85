"""report.md read as a paper's appendix (issue 17): summary and picture first, misclassified cones by
measure with a witness each, one rule for exact fractions, regions summarized past 50, each notion
explained where it first appears, and every number equal to the JSON's.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget
from verify.cli import main
from verify.formats import load_weights
from verify.render.json_report import build_report
from verify.render.markdown import render_markdown

from tests.conftest import M22_PATH

LOCAL_MIN = Path("models/trained_2_2_local_min.pth")
N3 = Path("models/trained_4_3.pth")  # 70 regions: past the 50 listed in full


def run(*args: str) -> int:
    import io

    return main(list(args), io.StringIO(), io.StringIO())


@pytest.fixture(scope="module")
def m22_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("m22")
    assert run("check", str(M22_PATH), "--report", str(folder)) == 1
    return folder


def table(md: str, heading: str) -> list[list[str]]:
    """The first table under `heading`, as rows of cells (header and rule dropped, '\\|' unescaped)."""
    section = md.split(heading, 1)[1]
    rows = []
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append(cells)
        elif started:
            break
    return rows[2:]


def test_summary_first_with_the_verdict_error_rate_and_picture(m22_folder: Path) -> None:
    md = (m22_folder / "report.md").read_text()
    report = json.loads((m22_folder / "report.json").read_text())
    summary, rest = md.split("## Misclassified cones", 1)
    assert "**Verdict: REFUTED**" in summary and report["error_rate"]["exact"] in summary
    assert "exact (a rigorous enclosure" in summary
    picture = re.search(r"!\[[^\]]+\]\(([^)]+)\)", summary)
    assert picture and picture.group(1) == "partition.png" and (m22_folder / "partition.png").exists()
    assert (m22_folder / "partition.svg").exists()
    assert summary.index("**Verdict") < summary.index("**Error rate**") < summary.index("![")


def test_misclassified_cones_sorted_by_measure_each_with_a_witness(m22_folder: Path) -> None:
    md = (m22_folder / "report.md").read_text()
    report = json.loads((m22_folder / "report.json").read_text())
    rows = table(md, "## Misclassified cones")
    assert len(rows) == len(report["misclassified_cones"]) == 2
    measures = [float(r[5].split(" ")[0]) for r in rows]
    assert measures == sorted(measures, reverse=True)
    by_region = {f"R{c['region']}": c for c in report["misclassified_cones"]}
    for row in rows:
        cone = by_region[row[1]]
        assert float(row[5].split(" ")[0]) == pytest.approx(cone["measure"]["value"], rel=1e-5)
        assert float(row[6]) == pytest.approx(cone["measure"]["value"] * 360, rel=1e-3)  # width in degrees
        shown = [v.strip() for v in row[7].strip("()").split(",")]
        for text, exact in zip(shown, cone["witness"]):  # the witness by the one rule
            assert (float(text.lstrip("≈")) == pytest.approx(float(Fraction(exact)), rel=1e-5)
                    if text.startswith("≈") else Fraction(text) == Fraction(exact))
    # the hand check: 0.0185 deg and 0.00937 deg
    assert float(rows[0][6]) == pytest.approx(0.0185, abs=5e-5) and float(rows[1][6]) == pytest.approx(0.00937, abs=1e-5)


def test_weights_follow_one_stated_rule(m22_folder: Path) -> None:
    md = (m22_folder / "report.md").read_text()
    report = json.loads((m22_folder / "report.json").read_text())
    assert "exact fraction when its numerator and denominator both have at most 6 digits" in md
    std = report["standardized"]
    rows = table(md, "**W_hh**")
    for row, exact_row in zip(rows, std["W_hh"]["exact"]):
        for cell, exact in zip(row[1:], exact_row):
            value = cell.split(" (")[0]
            f = Fraction(exact)
            short = len(str(abs(f.numerator))) <= 6 and len(str(f.denominator)) <= 6
            if short:
                assert Fraction(value) == f
            else:
                assert value.startswith("≈") and float(value[1:]) == pytest.approx(float(f), rel=5e-6)
    w_hi = table(md, "**W_hi**")[0][1:]
    assert [c.split(" (")[0] for c in w_hi] == ["1", "-1"]  # standardized input weights are exactly +-1


def test_the_handcrafted_model_shows_every_weight_exactly(tmp_path: Path) -> None:
    """W_hi = (1, -1), W_hh = [[-1, 1], [1, -1]], W_oh = [[1, -1], [-1, 1]]: all short, all exact."""
    assert run("check", "models/handcrafted_2_2.pth", "--report", str(tmp_path)) == 0
    md = (tmp_path / "report.md").read_text()
    weights = md.split("## Standardized weights", 1)[1].split("## Regions", 1)[0]
    cells = [c.split(" (")[0] for name in ("**W_hh**", "**W_oh**") for row in table(weights, name) for c in row[1:]]
    assert cells == ["-1", "1", "1", "-1", "1", "-1", "-1", "1"]
    assert "≈" not in weights.split("Every exact value is in report.json.", 1)[1]


def test_pattern_notation_is_explained_before_the_first_pattern(m22_folder: Path) -> None:
    md = (m22_folder / "report.md").read_text()
    gloss = md.index("A pattern such as 10|01 says which hidden neurons are active")
    first_pattern = md.index("`10\\|")
    assert gloss < first_pattern
    assert md.count("A pattern such as") == 1


def test_tie_measure_and_strict_rate_are_explained_where_they_appear() -> None:
    report = build_report(check_model(load_weights(str(LOCAL_MIN))))
    md = render_markdown(report)
    tie_line = next(line for line in md.splitlines() if line.startswith("- Tie measure:"))
    strict_line = next(line for line in md.splitlines() if line.startswith("- Strict error rate:"))
    assert report["tie_measure"]["exact"] in tie_line and "probability that two logits are equal and maximal" in tie_line
    assert report["error_rate_strict"]["exact"] in strict_line and "every such tie also counts as an error" in strict_line


def test_regions_past_fifty_are_summarized_and_listed_in_json(tmp_path: Path) -> None:
    result = check_model(load_weights(str(N3)))
    report = build_report(result)
    assert len(report["regions"]) > 50
    md = render_markdown(report)
    section = md.split("## Regions", 1)[1]
    counts = {v: sum(1 for r in report["regions"] if r["verdict"] == v) for v in ("proved", "refuted")}
    assert f"{len(report['regions'])} regions ({counts['proved']} proved, {counts['refuted']} refuted)" in section
    rows = table(section, "largest by measure")
    expected = sorted(report["regions"], key=lambda r: -r["measure"]["value"])[:10]
    assert [r[0] for r in rows] == [f"R{r['index']}" for r in expected]
    assert "solid angle (sr)" in section and "extreme rays" in section
    for row, region in zip(rows, expected):
        assert float(row[4]) == pytest.approx(float(region["cone"]["solid_angle"]["steradians"]), rel=1e-5)
    assert sum(1 for line in section.splitlines() if line.startswith("| R")) == 10


def test_a_partial_run_says_what_it_covered_found_and_left(tmp_path: Path) -> None:
    """M_{2,2} stopped after 2 regions: covered = their exact measure, found, remains = subtrees in full."""
    result = check_model(load_weights(str(M22_PATH)), CheckOptions(budget=Budget(max_regions=2)))
    report = build_report(result)
    md = render_markdown(report)
    coverage = md.split("## Coverage of an incomplete search", 1)[1].split("## Misclassified cones", 1)[0]
    assert f"total measure {report['coverage']['measure']['exact']}" in coverage
    assert f"**Found**: {report['counterexamples_total']} counterexample(s)" in coverage
    assert f"**Remains**: {len(report['undecided'])} undecided subtree(s)" in coverage
    for prefix in report["undecided"]:
        assert f"`{prefix.replace('|', chr(92) + '|')}`" in coverage or prefix == ""
    assert "..." not in coverage.replace("... and", "")


def test_a_large_partial_run_summarizes_undecided_subtrees_without_cutting_them() -> None:
    """A report shaped like M_{16,10}'s under a budget (d = 16, n = 10): long prefixes, grouped by step."""
    d, n = 16, 10
    step = "1010100000111000"
    undecided = ["|".join([step] * 9 + ["1" * k + "0"]) for k in range(15)] + ["0", "10"]
    report = build_report(check_model(load_weights(str(M22_PATH)), CheckOptions(budget=Budget(max_regions=1))))
    report["model"].update(hidden_size=d, seq_len=n)
    report["undecided"] = undecided
    md = render_markdown(report)
    coverage = md.split("## Coverage of an incomplete search", 1)[1].split("## Misclassified cones", 1)[0]
    groups = table(coverage, "**Remains**")
    assert groups[0] == ["0", "2", "1 to 2"] and groups[1] == ["9", "15", "145 to 159"]
    largest = table(coverage, "The 10 largest")
    assert [r[1] for r in largest] == ["1", "2"] + [str(145 + k) for k in range(8)]
    assert all(len(line) < 400 for line in coverage.splitlines())
    assert "...\n" not in coverage and "... and 7 more" in coverage
