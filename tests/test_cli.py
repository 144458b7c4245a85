"""Issue 2: the CLI as a user meets it: exit codes, one-line errors, report files."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli.main import main

ALGZOO_2_2 = "models/algzoo/2nd_argmax_2_2.pth"
HANDCRAFTED = "models/handcrafted_2_2.pth"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_handcrafted_exits_zero() -> None:
    code, out, err = run("check", HANDCRAFTED)
    assert code == 0, err
    assert "PROVED" in out and "error rate: 0 exactly" in out


def test_algzoo_exits_one_and_writes_every_report(tmp_path: Path) -> None:
    code, out, _ = run("check", ALGZOO_2_2, "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "rep"))
    assert code == 1
    assert "REFUTED" in out and "1 in 12,914" in out
    report = json.loads((tmp_path / "r.json").read_text())
    for key in ("model", "claim", "verdict", "error_rate", "regions", "counterexamples", "standardized", "solver"):
        assert key in report
    assert set(report["model"]) >= {"path", "sha256", "hidden_size", "seq_len", "n_params"}
    assert report["model"]["n_params"] == 10
    assert report["verdict"] == "refuted"
    err = report["error_rate"]
    assert err["lower"] <= err["value"] <= err["upper"]
    assert len(err["exact"].replace("0.", "", 1).lstrip("0")) >= 15
    for region in report["regions"]:
        assert {"pattern", "rays", "coefficients", "verdict", "measure"} <= set(region)
    for cex in report["counterexamples"]:
        assert {"x", "x_exact", "logits_float32", "expected", "predicted", "float32_confirmed"} <= set(cex)
        assert cex["float32_confirmed"] is True
    assert report["solver"]["checks"] > 0 and report["solver"]["name"] == "z3"
    folder = tmp_path / "rep"
    assert json.loads((folder / "report.json").read_text())["verdict"] == "refuted"
    md = (folder / "report.md").read_text()
    assert "Verdict: REFUTED" in md and "Standardized weights" in md and "Counterexamples" in md
    assert (folder / "partition.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_model_runs_the_bundled_models() -> None:
    """models/*.pth: the handcrafted model is proved and the 7 trained ones are refuted (their cards and
    verify.toml say so, each backed by Monte Carlo in test_manifest), so the worst verdict is refuted: 1."""
    expected = {path.name: json.loads(path.with_suffix(".json").read_text())["expected_verdict"]
                for path in sorted(Path("models").glob("*.pth"))}
    assert sorted(expected.values()) == ["proved"] + ["refuted"] * 7
    code, out, err = run("check", "-q")
    assert code == 1, err
    verdicts = {Path(line.split(":")[0]).name: line.split(": ")[1].split(" ")[0].lower() for line in out.splitlines()}
    assert verdicts == expected


@pytest.mark.parametrize(
    "argv",
    [
        ("check", "does/not/exist.pth"),
        ("check", "README.md"),
        ("check", HANDCRAFTED, "--max-regions", "0"),
        ("check", HANDCRAFTED, "--claim", "median"),
        ("sample", HANDCRAFTED, "-n", "0"),
        ("frobnicate",),
        (),
    ],
)
def test_bad_input_is_one_line_and_exit_two(argv: tuple[str, ...]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert re.match(r"verify( [a-z]+)?: error: ", err) and err.count("error:") == 1 and "Traceback" not in err


def test_sample_reports_an_estimate() -> None:
    code, out, _ = run("sample", ALGZOO_2_2, "-n", "200000", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["samples"] == 200000 and data["method"] == "monte-carlo estimate"
    assert 0 <= data["rate"] < 1e-3


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "verify", "check", HANDCRAFTED], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "PROVED" in proc.stdout
