"""`verify train [--task TASK]`: train an AlgZoo RNN (any task; median: a ScalarRNN on squared error) with AlgZoo's recipe, save it with a model card, optionally check it.

Exit codes: 0 trained (and, with --check, proved), 1 refuted, 3 unknown, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from verify.cli.common import ExitCode, Io, count_arg, exit_code_for
from verify.core.claim import CLAIM_NAMES, DEFAULT_CLAIM, claim_from_name
from verify.core.errors import InputError

# verify.corpus.training and the progress bar are imported by the handler: `verify check` never loads them.


MAX_SEED = 2**64 - 1  # torch.manual_seed's range
TRAIN_EXIT_CODES = """exit codes:
  0    trained (and, with --check, proved)
  1    with --check: refuted
  2    bad input or usage, or the output cannot be written: one line on stderr
  3    with --check: unknown (a budget ran out)"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("train", help="train an AlgZoo task RNN (AlgZoo recipe, reproducible on the CPU)",
                       epilog=TRAIN_EXIT_CODES)
    p.add_argument("--hidden-size", type=int, required=True, metavar="D", help="hidden neurons d")
    p.add_argument("--seq-len", type=int, required=True, metavar="N", help="sequence length n (>= 2)")
    p.add_argument("--task", choices=sorted(CLAIM_NAMES), default=DEFAULT_CLAIM,
                   help="the task, one of the claims (default 2nd-argmax; argmedian needs an odd --seq-len, "
                        "argoutlier at least 3; median trains a one-output ScalarRNN with squared error)")
    p.add_argument("--eps", metavar="E", default=None,
                   help="median with --check: the tolerance checked and recorded in the card (default 1/10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the initial weights and the data")
    p.add_argument("--sequences", type=count_arg, default=1 << 20, metavar="K",
                   help="training sequences (steps = K / batch size; default 2^20)")
    p.add_argument("--out", required=True, metavar="FILE.pth", help="state dict to write; the card goes to FILE.json")
    p.add_argument("--batch-size", type=count_arg, default=1024, help="sequences per step (AlgZoo: 1024)")
    p.add_argument("--eval-samples", type=count_arg, default=1 << 20, metavar="M",
                   help="Gaussian inputs for the sampled accuracy in the card (default 2^20)")
    p.add_argument("--check", action="store_true",
                   help="then run the exact check and record its verdict and error rate in the card")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(handler=run_train)


class _Bar:
    """The training steps on the one progress bar, the loss every 64 steps."""

    def __init__(self, enabled: bool, io: Io, desc: str) -> None:
        from verify.render.progress import ProgressBar

        self.bar = ProgressBar(enabled, io.stderr, desc, " steps")

    def __call__(self, step: int, steps: int, loss: float) -> None:
        self.bar.advance(step, steps, f"loss={loss:.4f}" if step % 64 == 0 or step == steps else None)

    def close(self) -> None:
        self.bar.close()


def run_train(args: argparse.Namespace, io: Io) -> int:
    from verify.corpus.training import TrainConfig, card_path, save, train

    out = Path(args.out)
    if out.suffix.lower() != ".pth":
        raise InputError(f"{out}: --out must name a .pth file")
    if args.seed > MAX_SEED:
        raise InputError(f"--seed must be at most {MAX_SEED}, got {args.seed}")
    config = TrainConfig(
        hidden_size=args.hidden_size, seq_len=args.seq_len, seed=args.seed, sequences=args.sequences,
        batch_size=args.batch_size, eval_samples=args.eval_samples, task=args.task,
    )
    config.validate()
    if args.eps is not None and not config.regression:
        raise InputError(f"--eps belongs to the median task, not to {config.task}")
    enabled = args.progress if args.progress is not None else io.stderr.isatty()
    bar = _Bar(bool(enabled), io, f"train {config.task} M_{{{config.hidden_size},{config.seq_len}}}")
    try:
        result = train(config, on_step=bar)
    finally:
        bar.close()
    card = save(result, out)
    io.out(f"wrote {out} (sha256 {card['sha256'][:12]}) and {card_path(out)}")
    io.out(f"  {config.task} M_{{{config.hidden_size},{config.seq_len}}}, {card['n_params']} params, seed {config.seed}: "
           f"{config.steps} steps x {config.batch_size} in {result.seconds:.1f} s, final loss {result.final_loss:.4g}")
    if "sampled_mse" in card:
        mse = card["sampled_mse"]
        io.out(f"  sampled MSE {mse['value']:.6g} +- {mse['standard_error']:.2g}, RMSE {mse['rmse']:.4g} (1 s.e., "
               f"ESTIMATE from {mse['samples']:,} samples, {result.evaluation.samples_per_second:,.0f} samples/s)")
    else:
        acc = card["sampled_accuracy"]
        io.out(f"  sampled accuracy {acc['value']:.6f} +- {acc['standard_error']:.2g} (1 s.e., ESTIMATE from "
               f"{acc['samples']:,} samples, {result.evaluation.samples_per_second:,.0f} samples/s)")
    if not args.check:
        return ExitCode.PROVED
    if config.regression:
        return _check_regression_and_record(out, card, io, config.task, getattr(args, "eps", None))
    return _check_and_record(out, card, io, config.task)


def _check_regression_and_record(out: Path, card: dict[str, Any], io: Io, task: str, eps_text: str | None) -> int:
    """The exact median check of the saved file; its verdict, worst case and MSE go into the card."""
    from verify.check.regression import check_regression
    from verify.check.regions import Budget
    from verify.cli.tasks import parse_eps, regression_options
    from verify.corpus.training import card_path
    from verify.formats import load_weights
    from verify.render.regression import regression_report, regression_summary_lines

    weights = load_weights(out)
    eps = None if eps_text is None else parse_eps(eps_text)
    options = regression_options(out, weights, task, seq_len=card["seq_len"], eps=eps, budget=Budget(), timeout_ms=None)
    report = regression_report(check_regression(weights, options))
    card["eps"] = report["claim"]["eps"]
    card["expected_verdict"] = report["verdict"]
    card["worst_case"] = None if report["worst_case"] is None else report["worst_case"]["exact"]
    mse = report["mse"]
    card["exact_mse"] = None if mse is None else mse["exact"]
    card["exact_mse_bounds"] = None if mse is None else [mse["lower_exact"], mse["upper_exact"]]
    card["exact_rmse"] = None if report["rmse"] is None else report["rmse"]["exact"]
    card["regions"] = len(report["regions"])
    card_path(out).write_text(json.dumps(card, indent=2) + "\n")
    for line in regression_summary_lines(report):
        io.out(line)
    return exit_code_for(report["verdict"])


def _check_and_record(out: Path, card: dict[str, Any], io: Io, task: str) -> int:
    """Run the exact check on the saved file and add its verdict and error rate to the card."""
    from verify.check.pipeline import CheckOptions, check_model
    from verify.cli.check import summary_lines
    from verify.corpus.training import card_path
    from verify.formats import load_weights
    from verify.render.json_report import build_report

    weights = load_weights(out)
    report = build_report(check_model(weights, CheckOptions(claim=claim_from_name(task, weights.seq_len))))
    card["expected_verdict"] = report["verdict"]
    err = report["error_rate"]
    card["expected_error_rate"] = None if err is None else ("0" if err["upper"] == 0 else err["exact"])
    card["expected_error_rate_bounds"] = None if err is None else [err["lower_exact"], err["upper_exact"]]
    card["expected_error_rate_method"] = None if err is None else err["method"]
    card["regions"] = len(report["regions"])
    card_path(out).write_text(json.dumps(card, indent=2) + "\n")
    for line in summary_lines(report):
        io.out(line)
    return exit_code_for(report["verdict"])
