"""Train an AlgZoo RNN for any task of the claim registry with AlgZoo's recipe, reproducibly on
the CPU, and save it with a model card that names the task.

The median task is a regression: a ScalarRNN (the same RNN, `nn.Linear(d, 1)`) trained with
squared error on the median, AlgZoo's loss for it; its card records the sampled MSE and RMSE.

The recipe (AlgZoo's published facts): bias-free ReLU `nn.RNN` + bias-free `nn.Linear`
(`verify.formats.torch_model.SecondArgmaxRNN`, the same module the checker re-runs counterexamples on),
i.i.d. standard normal inputs, softmax cross-entropy on the task's target position (the claim's
`targets`: 2nd-argmax, argmax, argmedian, argoutlier), AdamW with
weight decay 0.001, learning rate 0.04 / sqrt(D), a linear warm-up then an exponential decay
of the learning rate down to 0.01x, batches of 1024 sequences. The warm-up length is not
among the published facts; ours is `warmup_fraction` of the steps (recorded in the card).

Reproducible: the initial weights and every batch come from seeded `torch.Generator`s, the run
uses deterministic algorithms on one thread, and the global torch settings are restored after.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F

from verify.core.claim import DEFAULT_CLAIM, AnyClaim, claim_from_name, is_regression, regression_claim_from_name
from verify.core.errors import InputError
from verify.formats.torch_model import SecondArgmaxRNN
from verify.core.weights import EXPECTED_NAMES, W_HH, W_HI, W_OH
from verify.check.sampling import SampleEstimate, claim_targets, sample_module_error_rate

MAX_HIDDEN = 1024
MAX_SEQ_LEN = 64


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines the trained weights (with the torch version)."""

    hidden_size: int
    seq_len: int
    seed: int = 0
    sequences: int = 1 << 20
    batch_size: int = 1024
    lr_scale: float = 0.04  # learning rate = lr_scale / sqrt(hidden_size)
    weight_decay: float = 0.001
    warmup_fraction: float = 0.05
    final_lr_factor: float = 0.01
    task: str = DEFAULT_CLAIM  # a claim of the registry (AlgZoo's 2nd argmax by default; median: a regression)
    eval_samples: int = 1 << 20
    eval_seed: int = 1_000_003  # a stream apart from the training batches

    @property
    def claim(self) -> AnyClaim:
        """The task's claim (one line InputError for an unknown task or a length it cannot have)."""
        if is_regression(self.task):
            return regression_claim_from_name(self.task, seq_len=self.seq_len, where=f"--task {self.task}")
        return claim_from_name(self.task, self.seq_len, where=f"--task {self.task}")

    @property
    def regression(self) -> bool:
        return is_regression(self.task)

    @property
    def outputs(self) -> int:
        """Rows of `linear.weight`: one per input (classification), or one (the median ScalarRNN)."""
        return 1 if self.regression else self.seq_len

    @property
    def learning_rate(self) -> float:
        return self.lr_scale / math.sqrt(self.hidden_size)

    @property
    def steps(self) -> int:
        return max(1, math.ceil(self.sequences / self.batch_size))

    @property
    def warmup_steps(self) -> int:
        return max(1, round(self.warmup_fraction * self.steps)) if self.steps > 1 else 0

    def validate(self) -> None:
        checks = [
            (1 <= self.hidden_size <= MAX_HIDDEN, f"--hidden-size must be in 1..{MAX_HIDDEN}, got {self.hidden_size}"),
            (2 <= self.seq_len <= MAX_SEQ_LEN, f"--seq-len must be in 2..{MAX_SEQ_LEN}, got {self.seq_len}"),
            (self.seed >= 0, f"--seed must be non-negative, got {self.seed}"),
            (self.sequences >= 1, f"--sequences must be positive, got {self.sequences}"),
            (self.batch_size >= 1, f"--batch-size must be positive, got {self.batch_size}"),
            (self.eval_samples >= 1, f"--eval-samples must be positive, got {self.eval_samples}"),
            (0 <= self.warmup_fraction < 1, f"warm-up fraction must be in [0, 1), got {self.warmup_fraction}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        _ = self.claim  # raises for a task the sequence length cannot have


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier of the base learning rate at `step` (0-based): linear warm-up, then exponential decay."""
    warm, total = config.warmup_steps, config.steps
    if step < warm:
        return (step + 1) / warm
    span = total - warm  # steps warm .. total-1 decay geometrically, reaching final_lr_factor at the last
    return config.final_lr_factor ** (min(step - warm + 1, span) / span)


@dataclass(frozen=True)
class SampledMse:
    """Monte Carlo mean squared error of a regression model on Gaussian inputs (an ESTIMATE)."""

    samples: int
    mse: float
    standard_error: float
    seconds: float
    seed: int

    @property
    def rmse(self) -> float:
        return math.sqrt(self.mse)

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    state_dict: dict[str, torch.Tensor]  # exactly AlgZoo's three float32 tensors
    final_loss: float  # mean loss over the last ~1% of steps
    seconds: float
    evaluation: SampleEstimate | SampledMse  # accuracy (classification) or MSE (median)


@contextlib.contextmanager
def reproducible_torch() -> Iterator[None]:
    """Deterministic kernels on one thread, with the caller's global settings restored after."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_num_threads(threads)


def initial_module(config: TrainConfig) -> SecondArgmaxRNN:
    """PyTorch's default initialisation, drawn from the seed (inside `reproducible_torch`)."""
    torch.manual_seed(config.seed)
    return SecondArgmaxRNN(config.hidden_size, config.outputs)


def median_targets(x: torch.Tensor) -> torch.Tensor:
    """The median of each row (the mean of the two middle values for an even length), float32."""
    ordered = torch.sort(x, dim=1).values
    n = x.shape[1]
    return ordered[:, n // 2] if n % 2 else (ordered[:, n // 2 - 1] + ordered[:, n // 2]) / 2


def loss_of(module: torch.nn.Module, x: torch.Tensor, config: TrainConfig, claim: AnyClaim) -> torch.Tensor:
    """AlgZoo's loss: squared error on the median (regression), else cross-entropy on the target position."""
    if config.regression:
        return F.mse_loss(module(x)[:, 0], median_targets(x))
    return F.cross_entropy(module(x), claim_targets(x, claim))  # type: ignore[arg-type]


@torch.no_grad()
def sample_module_mse(module: torch.nn.Module, n: int, samples: int, *, seed: int, batch_size: int = 1 << 16) -> SampledMse:
    """Mean squared error of the float32 module against the median, on seeded Gaussian inputs."""
    generator = torch.Generator().manual_seed(seed)
    total, total_sq, done = 0.0, 0.0, 0
    start = time.perf_counter()
    while done < samples:
        size = min(batch_size, samples - done)
        x = torch.randn(size, n, generator=generator, dtype=torch.float32)
        squared = (module(x)[:, 0].double() - median_targets(x).double()) ** 2
        total += float(squared.sum())
        total_sq += float((squared ** 2).sum())
        done += size
    mean = total / done
    spread = math.sqrt(max(0.0, total_sq / done - mean * mean) / done)
    return SampledMse(done, mean, spread, time.perf_counter() - start, seed)


def train(config: TrainConfig, *, on_step: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Run the recipe; `on_step(step, steps, loss)` reports progress (the CLI draws the bar)."""
    config.validate()
    claim = config.claim
    start = time.perf_counter()
    with reproducible_torch():
        module = initial_module(config)
        module.train()
        optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, config))
        data = torch.Generator().manual_seed(config.seed)
        tail = max(1, config.steps // 100)
        recent: list[float] = []
        for step in range(config.steps):
            x = torch.randn(config.batch_size, config.seq_len, generator=data, dtype=torch.float32)
            loss = loss_of(module, x, config, claim)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise InputError(f"training diverged at step {step} (loss {value}); try another --seed")
            if step >= config.steps - tail:
                recent.append(value)
            if on_step is not None:
                on_step(step + 1, config.steps, value)
        module.eval()
        state = {
            W_HI: module.rnn.weight_ih_l0.detach().clone().contiguous(),
            W_HH: module.rnn.weight_hh_l0.detach().clone().contiguous(),
            W_OH: module.linear.weight.detach().clone().contiguous(),
        }
        if config.regression:
            evaluation: SampleEstimate | SampledMse = sample_module_mse(
                module, config.seq_len, config.eval_samples, seed=config.eval_seed)
        else:
            evaluation = sample_module_error_rate(
                module, config.seq_len, config.eval_samples, seed=config.eval_seed, claim=claim  # type: ignore[arg-type]
            )
    return TrainResult(
        config=config,
        state_dict=state,
        final_loss=sum(recent) / len(recent),
        seconds=time.perf_counter() - start,
        evaluation=evaluation,
    )


def state_dict_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """`torch.save` into memory: the archive is named 'archive', so the bytes do not depend on the file name."""
    assert tuple(state) == EXPECTED_NAMES
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def library_versions() -> dict[str, str]:
    import numpy

    from verify import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "relu-verify": __version__}


def command_line(c: TrainConfig, path: Path) -> str:
    """The `verify train` command that rebuilds these bytes (options left at their defaults omitted)."""
    task = "" if c.task == DEFAULT_CLAIM else f" --task {c.task}"
    words = (f"verify train{task} --hidden-size {c.hidden_size} --seq-len {c.seq_len} --seed {c.seed} "
             f"--sequences {c.sequences}")
    default = TrainConfig(c.hidden_size, c.seq_len)
    if c.batch_size != default.batch_size:
        words += f" --batch-size {c.batch_size}"
    if c.eval_samples != default.eval_samples:
        words += f" --eval-samples {c.eval_samples}"
    return f"{words} --out {path}"


def model_card(result: TrainResult, path: Path, sha256: str) -> dict[str, Any]:
    """The JSON card written beside the weights: how they were made and how well they sample."""
    c, ev = result.config, result.evaluation
    d, n, k = c.hidden_size, c.seq_len, c.outputs
    return {
        "name": path.stem,
        "provenance": f"trained by `{command_line(c, path)}` (AlgZoo recipe, CPU)",
        "architecture": f"bias-free ReLU nn.RNN(input_size=1, hidden_size={d}) + bias-free nn.Linear({d}, {k})"
        + (f" (ScalarRNN, read at sequence length {n})" if c.regression else ""),
        "hidden_size": d,
        "seq_len": n,
        "n_params": d + d * d + k * d,
        "tensors": {W_HI: [d, 1], W_HH: [d, d], W_OH: [k, d]},
        "claim": c.claim.name,
        "task": c.task,
        "recipe": {
            "task": f"{c.claim.task}, {n} i.i.d. standard normal inputs",
            "loss": "squared error (MSE) on the median" if c.regression else "softmax cross-entropy",
            "optimizer": "AdamW",
            "weight_decay": c.weight_decay,
            "learning_rate": c.learning_rate,
            "learning_rate_rule": f"{c.lr_scale} / sqrt(hidden_size)",
            "schedule": f"linear warm-up over {c.warmup_steps} steps, then exponential decay to "
            f"{c.final_lr_factor}x at the last step",
            "batch_size": c.batch_size,
            "steps": c.steps,
            "initialisation": "PyTorch defaults drawn after torch.manual_seed(seed)",
            "determinism": "torch.use_deterministic_algorithms(True), 1 thread, seeded torch.Generator",
        },
        "config": asdict(c),
        "seed": c.seed,
        "sequences": c.sequences,
        "final_training_loss": result.final_loss,
        "training_seconds": round(result.seconds, 3),
        **_sampled(ev),
        "sha256": sha256,
        "library_versions": library_versions(),
    }


def _sampled(ev: SampleEstimate | SampledMse) -> dict[str, Any]:
    """The card's sampled quality: accuracy (classification) or MSE and RMSE (median), both estimates."""
    if isinstance(ev, SampledMse):
        return {"sampled_mse": {"value": ev.mse, "standard_error": ev.standard_error, "rmse": ev.rmse,
                                "samples": ev.samples, "seed": ev.seed,
                                "method": "monte-carlo estimate on the float32 model (1 s.e.)"}}
    return {"sampled_accuracy": {"value": 1 - ev.rate, "standard_error": ev.standard_error, "samples": ev.samples,
                                 "errors": ev.errors, "seed": ev.seed,
                                 "method": "monte-carlo estimate on the float32 model (1 s.e. binomial)"}}


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def save(result: TrainResult, path: Path) -> dict[str, Any]:
    """Write FILE.pth (AlgZoo state dict) and FILE.json (model card); return the card."""
    if path.suffix.lower() != ".pth":
        raise InputError(f"{path}: --out must name a .pth file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory")
    blob = state_dict_bytes(result.state_dict)
    sha = hashlib.sha256(blob).hexdigest()
    card = model_card(result, path, sha)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        card_path(path).write_text(json.dumps(card, indent=2) + "\n")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return card
