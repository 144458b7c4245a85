"""`verify check`: the exact check of one or more models, with summary, JSON, Markdown and PNG.

Every output path is validated before the first model is checked; a write that fails later is
still exit 2 with one line. SIGINT / SIGTERM stop the whole run (the solver is interrupted,
no further model starts), the partial reports are written and the exit code is 130 / 143.

Each model is checked for its task (verify.cli.tasks.task_for: --claim, else its card, else its
shape); a one-output ScalarRNN goes to the regression check (verify.check.regression, --eps,
--seq-len), every other model to the classification pipeline.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from fractions import Fraction
from typing import Any, Sequence

from verify.check.pipeline import CheckOptions, CheckResult
from verify.core.claim import CLAIM_NAMES, DEFAULT_CLAIM, claim_from_name
from verify.cli.common import CHECK_EXIT_CODES, Io, bundled_models, count_arg, exit_code_for, positive_seconds, worst_exit_code
from verify.cli.run import Progress, SignalStop, run_check_model
from verify.cli.tasks import parse_eps, regression_options, task_for, wants_regression
from verify.core.errors import InputError
from verify.formats import load_weights
from verify.check.regions import Budget
from verify.render.files import (REPORT_FILES, prepare_file, prepare_folder, unique_names, write_regression_report_dir,
                                 write_report_dir, write_text)
from verify.render.json_report import build_report, dumps
from verify.render.regression import is_regression_report, regression_report, regression_summary_lines
from verify.render.text import summary_lines as classification_summary_lines

DEFAULT_TIME_BUDGET = 300.0  # seconds; a model too large to enumerate ends "unknown" (or "refuted"), never hangs
DEFAULT_MAX_COUNTEREXAMPLES = 50

__all__ = ["DEFAULT_TIME_BUDGET", "register", "run_check", "summary_lines", "check_one"]


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("check", help="prove or refute the claim on every region, exactly", epilog=CHECK_EXIT_CODES,
                       description="Prove or refute the claim on every activation region, exactly (Z3 over rationals).")
    p.add_argument("models", nargs="*", metavar="MODEL", help="state dict(s) or .onnx; default: the bundled models/")
    p.add_argument("--json", dest="json_path", metavar="FILE",
                   help="write the JSON report here ('-' = stdout, then no summary); one model: one object, "
                        "several models: one JSON array of reports, in the order given")
    p.add_argument("--report", metavar="DIR",
                   help="write report.json, report.md, report.html and (n = 2, 3) partition.png/.svg here (several models: one sub-folder "
                        "each, named by file stem, 'stem-2' ... when stems repeat)")
    p.add_argument("--claim", choices=sorted(CLAIM_NAMES), default=None,
                   help="claim to check (default: the task in the model's card FILE.json, else median for a one-output "
                        "model and 2nd-argmax otherwise)")
    p.add_argument("--eps", metavar="E", default=None,
                   help="median claim: prove |y - median| <= E * max|x_i| for every input; E exact (0.05, 1e-3, 1/20; "
                        "default: the card's eps, else 1/10)")
    p.add_argument("--seq-len", type=int, default=None, metavar="N",
                   help="median claim: the sequence length a one-output ScalarRNN is read at (default: the card's)")
    p.add_argument("--max-regions", type=count_arg, default=None, metavar="N", help="stop (verdict unknown) after N regions")
    p.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET, metavar="SECONDS",
                   help=f"stop (verdict unknown, partial report) after about this time (default {DEFAULT_TIME_BUDGET:g}); "
                        "lift it with --no-time-budget")
    p.add_argument("--no-time-budget", action="store_true", help="no time limit: enumerate every region, however long")
    p.add_argument("--query-timeout", type=float, default=None, metavar="SECONDS",
                   help="cap on the solver time of one query (default: up to the remaining time budget); a query "
                        "that hits it leaves its region undecided and the search goes on")
    p.add_argument("--max-counterexamples", type=count_arg, default=DEFAULT_MAX_COUNTEREXAMPLES, metavar="N",
                   help=f"list at most N counterexamples (default {DEFAULT_MAX_COUNTEREXAMPLES}); the total found is "
                        "always reported")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr: regions, solver checks, elapsed / budget (default: when stderr "
                        "is a terminal)")
    p.add_argument("--jobs", type=count_arg, default=1, metavar="N",
                   help="split the region search over N local processes (same results as 1)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="run the subtrees on Dask: local:N (a local cluster of N worker processes) or a scheduler "
                        "address such as tcp://HOST:8786 (needs the extra 'distributed'; same results as --jobs 1)")
    p.add_argument("--checkpoint", metavar="DIR",
                   help="write each finished subtree here, durably (one sub-folder per model, named by the hash of "
                        "its weights); see --resume")
    p.add_argument("--resume", action="store_true",
                   help="with --checkpoint: continue the run saved there (refused if model, claim or options differ)")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one test case per model x claim) for CI")
    p.add_argument("--cross-check", action="store_true",
                   help="Z3 re-decides every region query that exact geometry decides (slower; any disagreement "
                        "stops the run as an internal error)")
    p.set_defaults(handler=run_check)


@dataclass(frozen=True)
class CheckSettings:
    """The validated options of one `verify check` run (shared by every model)."""

    claim: str | None  # None: each model's own task (verify.cli.tasks.task_for)
    max_regions: int | None
    time_budget: float | None
    query_timeout: float | None
    max_counterexamples: int
    jobs: int
    cross_check: bool = False
    scheduler: str | None = None
    checkpoint: str | None = None
    resume: bool = False
    eps: Fraction | None = None  # median claim only; None: the card's, else the default
    seq_len: int | None = None  # median claim only; None: the card's

    @property
    def timeout_ms(self) -> int | None:
        return None if self.query_timeout is None else max(1, round(1000 * self.query_timeout))

    @property
    def parallel(self) -> bool:
        return self.jobs > 1 or self.scheduler is not None or self.checkpoint is not None

    def options(self, claim: str | None = None) -> CheckOptions:
        """The classification options, for `claim` (default: the one asked for, else 2nd-argmax)."""
        timeout_ms = self.timeout_ms
        return CheckOptions(
            claim=claim_from_name(claim or self.claim or DEFAULT_CLAIM),
            budget=Budget(max_regions=self.max_regions, time_budget=self.time_budget),
            timeout_ms=timeout_ms,  # type: ignore[arg-type]  # None: up to the remaining time budget
            max_counterexamples=self.max_counterexamples,
            cross_check=self.cross_check,
        )


def settings_from(args: argparse.Namespace) -> CheckSettings:
    """Validate every option before any work (bad values are exit 2, one line)."""
    max_regions = getattr(args, "max_regions", None)
    if max_regions is not None and max_regions < 1:
        raise InputError(f"--max-regions must be positive, got {max_regions}")
    no_budget = getattr(args, "no_time_budget", False)
    time_budget = positive_seconds("--time-budget", getattr(args, "time_budget", DEFAULT_TIME_BUDGET))
    query_timeout = positive_seconds("--query-timeout", getattr(args, "query_timeout", None))
    cap = getattr(args, "max_counterexamples", DEFAULT_MAX_COUNTEREXAMPLES)
    if cap < 0:
        raise InputError(f"--max-counterexamples must be 0 or more, got {cap}")
    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    scheduler = getattr(args, "scheduler", None)
    checkpoint = getattr(args, "checkpoint", None)
    resume = getattr(args, "resume", False)
    if scheduler is not None:
        from verify.check.distributed import Scheduler, require_dask

        Scheduler.parse(scheduler)
        require_dask()
    elif checkpoint is not None and jobs > 1:  # --jobs N with a checkpoint runs on a local Dask cluster
        from verify.check.distributed import require_dask

        require_dask()
    if resume and checkpoint is None:
        raise InputError("--resume needs --checkpoint DIR")
    if checkpoint is not None:
        from verify.check.checkpoint import check_root

        check_root(Path(checkpoint), resume=resume)
    eps_text = getattr(args, "eps", None)
    eps = None if eps_text is None else parse_eps(eps_text)
    seq_len = getattr(args, "seq_len", None)
    if seq_len is not None and not 2 <= seq_len <= 64:
        raise InputError(f"--seq-len must be in 2..64, got {seq_len}")
    claim = getattr(args, "claim", None)
    if claim is not None and not wants_regression(claim) and (eps is not None or seq_len is not None):
        raise InputError(f"--eps and --seq-len belong to the median claim, not to {claim}")
    return CheckSettings(claim=claim, max_regions=max_regions, time_budget=None if no_budget else time_budget,
                         query_timeout=query_timeout, max_counterexamples=cap, jobs=jobs,
                         cross_check=getattr(args, "cross_check", False), scheduler=scheduler,
                         checkpoint=checkpoint, resume=resume, eps=eps, seq_len=seq_len)


def summary_lines(report: dict[str, Any], verbosity: int = 0) -> list[str]:
    """The terminal summary of a classification or a regression report."""
    if is_regression_report(report):
        return regression_summary_lines(report, verbosity)
    return classification_summary_lines(report, verbosity)


def check_one(path: Path, args: argparse.Namespace, io: Io, stop: SignalStop | None = None,
              settings: CheckSettings | None = None) -> tuple[Any, dict[str, Any]]:
    """Load and check one model for its task; `stop` (if given) is the run's stop flag.

    Returns the result (a CheckResult, or a RegressionResult for the median claim) and its report."""
    settings = settings or settings_from(args)
    weights = load_weights(path)
    name = task_for(path, weights, settings.claim)
    enabled = args.progress if getattr(args, "progress", None) is not None else io.stderr.isatty()
    if wants_regression(name):
        return _check_regression(path, weights, name, settings, enabled, io, stop)
    claim_from_name(name, weights.seq_len, where=str(path), outputs=int(weights.w_oh.shape[0]))
    if settings.eps is not None or settings.seq_len is not None:
        raise InputError(f"{path}: --eps and --seq-len belong to the median claim; this model is checked for {name}")
    options = settings.options(name)
    progress = Progress(bool(enabled), path.name, settings.time_budget, io.stderr)
    try:
        if settings.scheduler is not None or settings.checkpoint is not None:
            result = _check_on_subtrees(weights, options, settings, progress, None if stop is None else stop.flag)
        else:
            result = run_check_model(weights, options, jobs=settings.jobs, progress=progress,
                                     stop=None if stop is None else stop.flag)
    finally:
        progress.close()
    return result, build_report(result)


def _check_regression(path: Path, weights: Any, name: str, settings: CheckSettings, enabled: Any, io: Io,
                      stop: SignalStop | None) -> tuple[Any, dict[str, Any]]:
    """The median claim: the exact worst case, the eps verdict and the MSE (verify.check.regression)."""
    from verify.check.regression import check_regression

    options = regression_options(path, weights, name, seq_len=settings.seq_len, eps=settings.eps,
                                 budget=Budget(max_regions=settings.max_regions, time_budget=settings.time_budget),
                                 timeout_ms=settings.timeout_ms)
    if settings.cross_check:  # Z3 re-decides every cone's worst case
        from dataclasses import replace

        options = replace(options, cross_check=True)
    if settings.parallel:
        raise InputError(f"{path}: --jobs, --scheduler and --checkpoint are not supported for the median claim")
    progress = Progress(bool(enabled), path.name, settings.time_budget, io.stderr)
    try:
        result = check_regression(weights, options, on_region=progress, should_stop=None if stop is None else stop.flag)
    finally:
        progress.close()
    return result, regression_report(result)


def _check_on_subtrees(weights: Any, options: CheckOptions, settings: CheckSettings, progress: Progress,
                       flag: Any) -> CheckResult:
    """--scheduler / --checkpoint: the subtrees on Dask (or here, --jobs 1 without --scheduler), saved if asked."""
    from verify.check.checkpoint import model_folder
    from verify.check.distributed import Scheduler, SubtreeRegions
    from verify.check.pipeline import check_model
    from verify.core.network import ExactRNN

    scheduler = Scheduler.parse(settings.scheduler) if settings.scheduler is not None else None
    if scheduler is None and settings.jobs > 1:
        scheduler = Scheduler(None, settings.jobs)
    jobs = settings.jobs
    if scheduler is not None:  # about 8 subtrees per worker; a remote cluster's size is not known here
        jobs = scheduler.local_workers or max(jobs, 8)
    folder = model_folder(Path(settings.checkpoint), ExactRNN.from_weights(weights)) if settings.checkpoint else None
    source = SubtreeRegions(scheduler, folder, resume=settings.resume, split_jobs=jobs,
                            on_region=progress, stop=flag)
    return check_model(weights, options, on_region=progress, stop=flag, region_source=source)


@dataclass(frozen=True)
class Outputs:
    """Where this run writes; every path was validated before the first check."""

    json_path: Path | None
    json_stdout: bool
    report: Path | None
    junit: Path | None
    folder_names: tuple[str, ...]


def prepare_outputs(args: argparse.Namespace, paths: Sequence[Path]) -> Outputs:
    json_arg = getattr(args, "json_path", None)
    json_path = Path(json_arg) if json_arg and json_arg != "-" else None
    report = Path(args.report) if getattr(args, "report", None) else None
    junit = Path(args.junit) if getattr(args, "junit", None) else None
    files = [(p, o) for p, o in ((json_path, "--json"), (junit, "--junit")) if p is not None]
    if json_path is not None and junit is not None and json_path.resolve() == junit.resolve():
        raise InputError(f"--json and --junit name the same file {json_path}")
    for path, option in files:
        prepare_file(path, option)
    if report is not None:
        prepare_folder(report, "--report")
        for path, option in files:
            if path.resolve().parent == report.resolve() and path.name in REPORT_FILES:
                raise InputError(f"{option} {path}: would be overwritten by --report {report}")
    return Outputs(json_path, json_arg == "-", report, junit, tuple(unique_names(paths)))


def json_document(reports: list[dict[str, Any]], many: bool) -> str:
    """One report: the object; several models: one JSON array (also for '-')."""
    return dumps(reports[0]) if not many and reports else json.dumps(reports, indent=2) + "\n"


def run_check(args: argparse.Namespace, io: Io) -> int:
    settings = settings_from(args)
    paths = [Path(p) for p in args.models] or bundled_models()
    outputs = prepare_outputs(args, paths)
    many = len(paths) > 1
    reports: list[dict[str, Any]] = []
    cases: list[Any] = []
    codes: list[int] = []
    with SignalStop() as stop:
        for path, folder_name in zip(paths, outputs.folder_names):
            if stop.code is not None:
                break
            try:
                result, report = check_one(path, args, io, stop, settings)
            except InputError as exc:
                if outputs.junit is not None:
                    _write_junit(args, outputs.junit, cases + [(path, None, " ".join(str(exc).split()))], stop)
                raise
            reports.append(report)
            cases.append((path, report, ""))
            if outputs.json_path is not None:  # rewritten after each model: an interrupt keeps what is done
                write_text(outputs.json_path, json_document(reports, many), "--json")
            if outputs.report is not None:
                folder = outputs.report / folder_name if many else outputs.report
                if is_regression_report(report):
                    write_regression_report_dir(report, folder, result)
                else:
                    write_report_dir(result, report, folder)
            if not outputs.json_stdout:
                for line in summary_lines(report, io.verbosity):
                    io.out(line)
            codes.append(exit_code_for(report["verdict"]))
        skipped = paths[len(cases):] if stop.code is not None else []
    if outputs.json_stdout:
        io.out(json_document(reports, many).rstrip())
    if outputs.junit is not None:
        _write_junit(args, outputs.junit, cases + [(p, None, "") for p in skipped], stop)
    if stop.code is not None:
        left = f"; {len(skipped)} model(s) not checked" if skipped else ""
        io.err(f"verify check: {stop.reason}: stopped{left}; partial reports written")
        return stop.code
    return worst_exit_code(codes)


def _write_junit(args: argparse.Namespace, path: Path, cases: list[Any], stop: SignalStop) -> None:
    from verify.render.junit import JunitCase, write_junit

    write_junit([JunitCase(str(p), report["claim"]["name"] if report is not None else (args.claim or DEFAULT_CLAIM),
                           report, error, interrupted=report is None and not error)
                 for p, report, error in cases], path, interrupted=stop.reason)
