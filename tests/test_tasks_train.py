"""`verify train --task TASK`: each classification task trains on its own targets, deterministically,
and the card, the reports and the check name the task."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from verify.cli.main import main
from verify.corpus.training import TrainConfig, train

SMALL = dict(hidden_size=8, seq_len=3, sequences=256 * 1024, eval_samples=20_000)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def float_predictions(state: dict[str, torch.Tensor], x: np.ndarray) -> np.ndarray:
    """An independent float64 forward pass of the saved tensors."""
    w_hi, w_hh, w_oh = (state[k].double().numpy() for k in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "linear.weight"))
    h = np.zeros((x.shape[0], w_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.maximum(h @ w_hh.T + x[:, t:t + 1] @ w_hi.T, 0.0)
    return (h @ w_oh.T).argmax(axis=1)


ORACLES = {
    "argmax": lambda x: x.argmax(axis=1),
    "argmedian": lambda x: np.argsort(x, axis=1)[:, x.shape[1] // 2],
    "argoutlier": lambda x: np.abs(x - x.mean(axis=1, keepdims=True)).argmax(axis=1),
}


@pytest.mark.parametrize("task", sorted(ORACLES))
def test_each_task_trains_on_its_own_target(task: str) -> None:
    """A short run (256 steps) learns its task well above chance (1/3) and far better than the other tasks."""
    result = train(TrainConfig(task=task, **SMALL))  # type: ignore[arg-type]
    x = np.random.default_rng(5).standard_normal((50_000, 3))
    predicted = float_predictions(result.state_dict, x)
    accuracy = {name: float((predicted == oracle(x)).mean()) for name, oracle in ORACLES.items()}
    assert accuracy[task] > 0.8, accuracy
    assert all(accuracy[task] > accuracy[other] + 0.2 for other in ORACLES if other != task), accuracy
    # The card's sampled accuracy is the same task's (on other samples): close to the oracle's.
    assert abs((1 - result.evaluation.rate) - accuracy[task]) < 0.03


def test_training_a_task_is_deterministic() -> None:
    config = TrainConfig(task="argoutlier", hidden_size=3, seq_len=3, sequences=8 * 1024, eval_samples=1024)
    a, b = train(config), train(config)
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)


@pytest.mark.parametrize("argv,words", [
    (("--task", "argmedian", "--seq-len", "4"), "odd sequence length"),
    (("--task", "argoutlier", "--seq-len", "2"), "at least 3"),
])
def test_a_task_the_length_cannot_have_is_exit_2_in_one_line(tmp_path: Path, argv: tuple[str, ...], words: str) -> None:
    code, _, err = run("train", "--hidden-size", "2", *argv, "--out", str(tmp_path / "m.pth"))
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.pth").exists()


def test_the_card_and_the_check_name_the_task(tmp_path: Path) -> None:
    out = tmp_path / "outlier.pth"
    code, text, err = run("train", "--task", "argoutlier", "--hidden-size", "3", "--seq-len", "3",
                          "--sequences", "16384", "--eval-samples", "4096", "--out", str(out), "--check")
    assert code in (0, 1), err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["task"] == "argoutlier" and card["claim"] == "argoutlier"
    assert "--task argoutlier" in card["provenance"] and "farthest from the mean" in card["recipe"]["task"]
    assert "argoutlier" in text
    assert card["expected_verdict"] in ("refuted", "proved")
    # The recorded verdict is the argoutlier check's: re-checking with that claim agrees.
    code2, _, _ = run("check", str(out), "--claim", "argoutlier", "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["claim"]["name"] == "argoutlier" and report["claim"]["task"].startswith("position of the input")
    assert report["verdict"] == card["expected_verdict"]
    assert card["expected_error_rate"] == (report["error_rate"]["exact"] if report["error_rate"]["upper"] != 0 else "0")
