"""Budgets and interruptions: the run ends "unknown" (never "proved"), exit 3, and still writes
its partial report (JSON, Markdown) saying why it stopped."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import verify.regions
from tests.conftest import examples
from tests.test_property import networks
from verify.analysis import CheckOptions, check_model
from verify.cli import main
from verify.handcrafted import handcrafted_2_2
from verify.loading import ModelWeights
from verify.regions import Budget

REPO = Path(__file__).resolve().parent.parent


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def handcrafted_file(folder: Path) -> Path:
    path = folder / "handcrafted.pth"
    torch.save(handcrafted_2_2().state_dict(), path)
    return path


def assert_partial_report(folder: Path, json_file: Path, reason: str) -> dict:
    report = json.loads(json_file.read_text())
    assert report["verdict"] == "unknown"
    assert report["complete"] is False
    assert reason in report["stop_reason"]
    assert report["undecided"], "an incomplete search names the subtrees it left"
    assert report["error_rate"] is None  # no exact error rate from an incomplete search
    assert report["float32_uncertain_measure"] is None
    in_folder = json.loads((folder / "report.json").read_text())
    assert in_folder["verdict"] == "unknown" and in_folder["stop_reason"] == report["stop_reason"]
    markdown = (folder / "report.md").read_text()
    assert "UNKNOWN" in markdown and "INCOMPLETE" in markdown
    return report


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_region_budget_on_a_correct_model_is_unknown(budget: int, tmp_path: Path) -> None:
    """The handcrafted model is proved with its 4 regions; any smaller budget must say unknown."""
    path = handcrafted_file(tmp_path)
    assert run_cli("check", str(path))[0] == 0
    code, out, err = run_cli("check", str(path), "--max-regions", str(budget), "--report", str(tmp_path / "r"),
                             "--json", str(tmp_path / "r.json"))
    assert code == 3 and err == ""
    assert "UNKNOWN" in out and "PROVED" not in out
    report = assert_partial_report(tmp_path / "r", tmp_path / "r.json", "region budget")
    assert len(report["regions"]) == budget
    assert all(r["verdict"] == "proved" for r in report["regions"])  # each region found is fine; the rest unknown


class FakeClock:
    """perf_counter for the region search only: every reading is one second later than the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


def test_time_budget_on_a_correct_model_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deterministic clock (no wall-clock race): the budget of 3 s runs out after a few steps."""
    monkeypatch.setattr(verify.regions, "time", types.SimpleNamespace(perf_counter=FakeClock().perf_counter))
    path = handcrafted_file(tmp_path)
    code, out, _ = run_cli("check", str(path), "--time-budget", "3", "--report", str(tmp_path / "r"),
                           "--json", str(tmp_path / "r.json"))
    assert code == 3 and "PROVED" not in out
    report = assert_partial_report(tmp_path / "r", tmp_path / "r.json", "time budget")
    assert len(report["regions"]) < 4


def test_real_time_budget_on_the_16_neuron_model(m16_path: Path, tmp_path: Path) -> None:
    """M_{16,10} has far too many regions: any short budget ends the run, which must not say proved."""
    code, out, _ = run_cli("check", str(m16_path), "--time-budget", "0.5", "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] in ("unknown", "refuted") and report["complete"] is False
    assert code == {"unknown": 3, "refuted": 1}[report["verdict"]]
    assert "time budget" in report["stop_reason"] and "PROVED" not in out


def test_should_stop_hook_gives_unknown() -> None:
    calls = []

    def stop_after_three() -> str | None:
        calls.append(1)
        return "interrupted (Ctrl-C)" if len(calls) > 3 else None

    result = check_model(handcrafted_2_2(), should_stop=stop_after_three)
    assert result.verdict.word == "unknown"
    assert not result.search.complete and result.search.stop_reason == "interrupted (Ctrl-C)"
    assert result.error is None and result.float32_uncertain is None


@examples(default=8, long=300)
@given(networks(max_hidden=5), st.data())
def test_region_budget_never_proves_an_unfinished_search(weights: ModelWeights, data: st.DataObject) -> None:
    full = check_model(weights, CheckOptions(estimate_samples=0))
    regions = len(full.regions)
    if regions < 2:
        return
    budget = data.draw(st.integers(1, regions - 1))
    partial = check_model(weights, CheckOptions(budget=Budget(max_regions=budget), estimate_samples=0))
    assert partial.verdict.word != "proved" and not partial.search.complete
    assert len(partial.regions) == budget
    # The regions found are the first ones of the full search, with the same verdicts.
    assert [o.region.pattern for o in partial.regions] == [o.region.pattern for o in full.regions[:budget]]
    if partial.verdict.word == "refuted":
        assert full.verdict.word == "refuted"  # counterexamples found early are real
    if full.verdict.word == "proved":
        assert partial.verdict.word == "unknown"


def test_sigint_writes_a_partial_report(m16_path: Path, tmp_path: Path) -> None:
    """Ctrl-C on a real process: it stops the search, writes the report and exits 3 (or 1 if a
    counterexample was already found), never 0."""
    command = [sys.executable, "-m", "verify", "check", str(m16_path.resolve()), "--progress",
               "--time-budget", "300", "--report", str(tmp_path / "r"), "--json", str(tmp_path / "r.json")]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert process.stderr is not None
        first = process.stderr.read(1)  # the progress bar appears once the check (and its handler) started
        assert first, "the process ended before the check began"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    report = json.loads((tmp_path / "r.json").read_text())
    assert "interrupted" in report["stop_reason"] and report["complete"] is False
    assert report["verdict"] in ("unknown", "refuted")
    assert process.returncode == {"unknown": 3, "refuted": 1}[report["verdict"]]
    assert (tmp_path / "r" / "report.json").exists() and (tmp_path / "r" / "report.md").exists()
    assert b"Traceback" not in err
