"""Issue 4: `verify train` - AlgZoo's recipe, reproducible on the CPU, loadable by AlgZoo-style code,
and its trained models' exact check agrees with Monte Carlo on an independently built module."""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from verify.cli.main import main
from verify.corpus.training import TrainConfig, lr_factor, state_dict_bytes, train

TINY = dict(hidden_size=2, seq_len=2, sequences=16 * 1024, eval_samples=4096)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


class AlgZooStyleRNN(nn.Module):
    """Written here from the published architecture, not imported from verify."""

    def __init__(self, hidden_size: int, seq_len: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden_size, nonlinearity="relu", bias=False, batch_first=True)
        self.linear = nn.Linear(hidden_size, seq_len, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x[..., None])
        return self.linear(out[:, -1])


def numpy_logits(state: dict[str, torch.Tensor], x: np.ndarray) -> np.ndarray:
    """The recurrence of CONTEXT.md in float64 numpy."""
    w_hi, w_hh, w_oh = (state[k].double().numpy() for k in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "linear.weight"))
    h = np.zeros((x.shape[0], w_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.maximum(h @ w_hh.T + x[:, t : t + 1] @ w_hi.T, 0)
    return h @ w_oh.T


def mc_error(module: nn.Module, n: int, samples: int, seed: int) -> float:
    """Error of the 2nd argmax on fresh Gaussian inputs (numpy stream, apart from training's torch streams)."""
    x = np.random.default_rng(seed).standard_normal((samples, n)).astype(np.float32)
    with torch.no_grad():
        predicted = module(torch.from_numpy(x)).argmax(dim=1).numpy()
    second = np.argsort(-x, axis=1, kind="stable")[:, 1]
    return float(np.mean(predicted != second))


def test_same_seed_gives_the_same_bytes_whatever_the_global_torch_state() -> None:
    first = train(TrainConfig(seed=7, **TINY))
    torch.manual_seed(12345)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        before = torch.get_rng_state().clone()
        second = train(TrainConfig(seed=7, **TINY))
        assert torch.equal(torch.get_rng_state(), before), "training must not move the global RNG"
        assert torch.get_num_threads() == 2 and not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.set_num_threads(threads)
    assert state_dict_bytes(first.state_dict) == state_dict_bytes(second.state_dict)
    assert first.final_loss == second.final_loss
    assert (first.evaluation.errors, first.evaluation.samples) == (second.evaluation.errors, second.evaluation.samples)
    other = train(TrainConfig(seed=8, **TINY))
    assert not torch.equal(first.state_dict["rnn.weight_hh_l0"], other.state_dict["rnn.weight_hh_l0"])


def test_cli_twice_writes_identical_files(tmp_path: Path) -> None:
    args = ["--hidden-size", "3", "--seq-len", "2", "--seed", "4", "--sequences", "8192", "--eval-samples", "2048"]
    for name in ("a", "b"):
        code, out, err = run("train", *args, "--out", str(tmp_path / name / "model.pth"))
        assert code == 0, err
    a, b = (tmp_path / n / "model.pth" for n in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    card = json.loads((tmp_path / "a" / "model.json").read_text())
    assert card["sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()


def test_learning_rate_schedule_matches_the_recipe() -> None:
    config = TrainConfig(hidden_size=9, seq_len=2, sequences=100 * 1024)
    assert config.steps == 100 and config.warmup_steps == 5
    assert math.isclose(config.learning_rate, 0.04 / 3)
    factors = [lr_factor(s, config) for s in range(config.steps)]
    assert factors[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])  # linear warm-up
    assert factors[-1] == pytest.approx(0.01)  # down to 0.01x at the last step
    ratios = [b / a for a, b in zip(factors[4:], factors[5:])]
    assert max(ratios) == pytest.approx(min(ratios)) and ratios[0] < 1  # exponential decay


def test_trained_file_loads_into_an_algzoo_style_module_and_the_check_agrees_with_monte_carlo(tmp_path: Path) -> None:
    out = tmp_path / "m22.pth"
    code, text, err = run("train", "--hidden-size", "2", "--seq-len", "2", "--seed", "1", "--sequences", "100000",
                          "--out", str(out), "--eval-samples", "200000")
    assert code == 0, err
    assert "wrote" in text and "samples/s" in text
    state = torch.load(out, weights_only=True)
    assert list(state) == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "linear.weight"]
    assert [tuple(t.shape) for t in state.values()] == [(2, 1), (2, 2), (2, 2)]
    assert all(t.dtype == torch.float32 for t in state.values())
    module = AlgZooStyleRNN(2, 2)
    module.load_state_dict(state, strict=True)  # exactly the three tensors, no biases
    x = np.random.default_rng(0).standard_normal((1000, 2))
    with torch.no_grad():
        got = module(torch.from_numpy(x.astype(np.float32))).double().numpy()
    assert np.allclose(got, numpy_logits(state, x), atol=1e-4)

    # Card: sampled accuracy with its binomial standard error, versions, sha256.
    card = json.loads(out.with_suffix(".json").read_text())
    acc = card["sampled_accuracy"]
    assert acc["samples"] == 200000
    assert math.isclose(acc["standard_error"], math.sqrt(acc["value"] * (1 - acc["value"]) / acc["samples"]))
    assert card["library_versions"]["torch"] == torch.__version__
    assert card["recipe"]["optimizer"] == "AdamW" and card["recipe"]["weight_decay"] == 0.001

    # The exact check vs Monte Carlo on the independent module: 400k samples, 5 standard errors.
    code, text, _ = run("check", str(out), "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == (0 if report["verdict"] == "proved" else 1)
    exact = report["error_rate"]["value"]
    samples = 400_000
    sampled = mc_error(module, 2, samples, seed=99)
    sigma = math.sqrt(max(exact * (1 - exact), 1e-6) / samples)
    assert abs(sampled - exact) <= 5 * sigma, (sampled, exact)
    # and vs the card's own (training-side) estimate
    assert abs((1 - acc["value"]) - exact) <= 5 * max(acc["standard_error"], 1e-6)


def test_check_flag_records_the_verdict_in_the_card(tmp_path: Path) -> None:
    out = tmp_path / "m.pth"
    code, text, _ = run("train", "--hidden-size", "2", "--seq-len", "2", "--seed", "3", "--sequences", "20000",
                        "--eval-samples", "50000", "--out", str(out), "--check")
    # Independent expectation: this short run leaves a poor model; Monte Carlo on an AlgZoo-style module
    # finds it wrong on a large fraction of inputs (far above any float32 rounding effect), so the exact
    # check must refute it: verdict "refuted", exit code 1.
    module = AlgZooStyleRNN(2, 2)
    module.load_state_dict(torch.load(out, weights_only=True), strict=True)
    sampled = mc_error(module, 2, 100_000, seed=5)
    assert sampled > 0.05, sampled
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["expected_verdict"] == "refuted"
    assert code == 1
    assert "REFUTED" in text
    low, high = (float(v) for v in card["expected_error_rate_bounds"])
    se = math.sqrt(sampled * (1 - sampled) / 100_000)
    assert low <= high and low - 5 * se <= sampled <= high + 5 * se


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--hidden-size", "0", "--seq-len", "2"], "--hidden-size"),
        (["--hidden-size", "2", "--seq-len", "1"], "--seq-len"),
        (["--hidden-size", "2", "--seq-len", "2", "--sequences", "0"], "--sequences"),
        (["--hidden-size", "2", "--seq-len", "2", "--seed", "-1"], "--seed"),
        (["--hidden-size", "two", "--seq-len", "2"], "invalid int"),
    ],
)
def test_bad_options_are_one_line_exit_2(tmp_path: Path, argv: list[str], words: str) -> None:
    code, out, err = run("train", *argv, "--out", str(tmp_path / "m.pth"))
    assert code == 2 and words in err and err.count("\n") == 1, err
    assert not (tmp_path / "m.pth").exists()


def test_bad_output_paths_are_one_line_exit_2(tmp_path: Path) -> None:
    base = ["train", "--hidden-size", "2", "--seq-len", "2", "--sequences", "1024", "--eval-samples", "64"]
    code, _, err = run(*base, "--out", str(tmp_path / "m.txt"))
    assert code == 2 and ".pth" in err and err.count("\n") == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(*base, "--out", str(blocker / "m.pth"))
    assert code == 2 and "cannot write" in err and err.count("\n") == 1
