"""Budgets and interruptions: the run ends "unknown" (never "proved"), exit 3, and still writes
its partial report (JSON, Markdown) saying why it stopped.

No verdict here depends on the machine's speed: time budgets run on an injected clock, and the
one real-time test (M_{16,10}, far too big to finish) holds at any speed. Signals on a real
process are tested in tests/test_interrupts.py; solver faults in tests/test_faults.py."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import verify.cli.check
from tests.conftest import examples
from tests.test_property import networks
from verify.check.pipeline import CheckOptions, StopFlag, check_model
from verify.cli.main import main
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.core.weights import ModelWeights
from verify.check.regions import Budget



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


class SteppingClock:
    """A clock for the search only: every reading is one second later than the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_time_budget_on_a_correct_model_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake clock injected through Budget (no wall-clock race): a budget of 3 s ends the run
    after a few clock readings, whatever the machine's speed."""
    monkeypatch.setattr(verify.cli.check, "Budget", functools.partial(Budget, clock=SteppingClock()))
    path = handcrafted_file(tmp_path)
    code, out, _ = run_cli("check", str(path), "--time-budget", "3", "--report", str(tmp_path / "r"),
                           "--json", str(tmp_path / "r.json"))
    assert code == 3 and "PROVED" not in out
    report = assert_partial_report(tmp_path / "r", tmp_path / "r.json", "time budget of 3 s reached")
    assert len(report["regions"]) < 4


def test_real_time_budget_on_the_16_neuron_model(m16_path: Path, tmp_path: Path) -> None:
    """M_{16,10} has far too many regions: any short budget ends the run, which must not say proved."""
    code, out, _ = run_cli("check", str(m16_path), "--time-budget", "0.5", "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] in ("unknown", "refuted") and report["complete"] is False
    assert code == {"unknown": 3, "refuted": 1}[report["verdict"]]
    assert "time budget" in report["stop_reason"] and "PROVED" not in out


def test_a_stop_flag_keeps_the_finished_regions_and_never_proves() -> None:
    """The flag is set once two regions are done (a deterministic stand-in for Ctrl-C): the search
    stops before a third, keeps both, and says interrupted; no exact rate."""
    flag = StopFlag()

    def progress(regions: int, checks: int) -> None:
        if regions >= 2:
            flag.set("interrupted (Ctrl-C)")

    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), on_region=progress, stop=flag)
    assert result.verdict.word == "unknown" and result.interrupted
    assert len(result.regions) == 2 and all(o.claim.verdict.word == "proved" for o in result.regions)
    assert not result.search.complete and result.search.stop_reason == "interrupted (Ctrl-C)"
    assert result.error is None and result.float32_uncertain is None
    assert result.error_lower_bound is not None and result.error_lower_bound.upper == 0


def with_live_first_neuron(weights: ModelWeights) -> ModelWeights:
    """Neuron 0 gets input weight 1 if it had 0: its sign at step 0 is that of x0, so the
    network has at least two regions (x0 > 0 and x0 < 0)."""
    w_hi = weights.w_hi.copy()
    if w_hi[0, 0] == 0:
        w_hi[0, 0] = 1.0
    return weights_of(w_hi, weights.w_hh, weights.w_oh, path="<random>")


@examples(default=8, long=300)
@given(networks(max_hidden=5).map(with_live_first_neuron), st.data())
def test_region_budget_never_proves_an_unfinished_search(weights: ModelWeights, data: st.DataObject) -> None:
    full = check_model(weights, CheckOptions(estimate_samples=0))
    regions = len(full.regions)
    assert regions >= 2  # by construction: no vacuous example
    budget = data.draw(st.integers(1, regions - 1))
    partial = check_model(weights, CheckOptions(budget=Budget(max_regions=budget), estimate_samples=0))
    assert partial.verdict.word != "proved" and not partial.search.complete
    assert len(partial.regions) == budget and partial.error is None
    # The regions found are the first ones of the full search, with the same verdicts.
    assert [o.region.pattern for o in partial.regions] == [o.region.pattern for o in full.regions[:budget]]
    assert [o.claim.verdict for o in partial.regions] == [o.claim.verdict for o in full.regions[:budget]]
    if partial.verdict.word == "refuted":
        assert full.verdict.word == "refuted"  # counterexamples found early are real
    if full.verdict.word == "proved":
        assert partial.verdict.word == "unknown"
    # A budget of all the regions completes: no region N + 1 exists.
    exact = check_model(weights, CheckOptions(budget=Budget(max_regions=regions), estimate_samples=0))
    assert exact.search.complete and exact.verdict is full.verdict and exact.error == full.error
