"""The repository stands alone: bundled AlgZoo models match their cards, nothing reads outside it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from verify.formats import load_weights

ROOT = Path(__file__).resolve().parent.parent
ALGZOO = ROOT / "models" / "algzoo"
CARDS = sorted(ALGZOO.glob("*.json"))


def test_both_published_models_are_bundled() -> None:
    names = {p.name for p in ALGZOO.glob("*.pth")}
    assert names == {"2nd_argmax_2_2.pth", "example_2nd_argmax_16_10.pth"}
    assert len(CARDS) == 2


@pytest.mark.parametrize("card_path", CARDS, ids=[p.stem for p in CARDS])
def test_card_matches_its_weights(card_path: Path) -> None:
    card = json.loads(card_path.read_text())
    weights_path = ALGZOO / card["file"]
    assert hashlib.sha256(weights_path.read_bytes()).hexdigest() == card["sha256"]
    assert "MIT No Attribution" in card["license"]
    assert "AlgZoo" in card["source"] and card["published"] and card["this_tool_finds"]
    weights = load_weights(weights_path)
    d, n = card["hidden_size"], card["seq_len"]
    assert (weights.hidden_size, weights.seq_len) == (d, n)
    # d + d^2 + n*d parameters (AlgZoo's parameter count): 10 for M_{2,2}, 432 for M_{16,10}
    assert card["n_params"] == d + d * d + n * d == weights.n_params
    state = weights.state_dict()
    for name, shape in card["tensors"].items():
        assert list(state[name].shape) == shape


def test_nothing_tracked_reads_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "tests", "bench", "docs", "README.md", ".ci", "verify", "verify.toml"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    needle = "../" + "shared"  # spelled apart so this file does not match itself
    offenders = [f for f in tracked if needle in (ROOT / f).read_text(errors="replace")]
    assert offenders == []


def test_no_machine_paths_in_committed_text() -> None:
    """Encodings, cards and docs name files relative to the repository, never this checkout's path."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    texts = [f for f in tracked if f.endswith((".json", ".smt2", ".md", ".toml", ".yml", ".csv", ".vnnlib"))]
    offenders = [f for f in texts if str(ROOT) in (ROOT / f).read_text(errors="replace")]
    assert offenders == []
