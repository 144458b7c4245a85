"""`verify check`: the exact check of one or more models, with summary, JSON, Markdown and PNG."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from typing import Any

from verify.analysis import CheckOptions, CheckResult, check_model
from verify.claims import KthArgmaxClaim
from verify.cli import EXIT_REFUTED, EXIT_UNKNOWN, Io, bundled_models, exit_code_for
from verify.errors import InputError
from verify.loading import load_weights
from verify.regions import Budget
from verify.report_json import build_report, dumps

CLAIMS = {"2nd-argmax": 2, "argmax": 1}
DEFAULT_TIME_BUDGET = 300.0  # seconds; a model too large to enumerate ends "unknown" (or "refuted"), never hangs


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("check", help="prove or refute the claim on every region, exactly")
    p.add_argument("models", nargs="*", metavar="MODEL", help="state dict(s); default: the bundled models/")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="write the JSON report here ('-' = stdout)")
    p.add_argument("--report", metavar="DIR", help="write report.json, report.md and partition.png here")
    p.add_argument("--claim", choices=sorted(CLAIMS), default="2nd-argmax", help="claim to check (default 2nd-argmax)")
    p.add_argument("--max-regions", type=int, default=None, metavar="N", help="stop (verdict unknown) after N regions")
    p.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET, metavar="SECONDS",
                   help=f"stop (verdict unknown, partial report) after about this time (default {DEFAULT_TIME_BUDGET:g}; "
                        "a region being checked is finished first); lift it with --no-time-budget")
    p.add_argument("--no-time-budget", action="store_true", help="no time limit: enumerate every region, however long")
    p.add_argument("--query-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="solver time limit per query; a query that hits it is 'unknown' (default 10)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="split the region search over N local processes (same results as 1)")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one test case per model x claim) for CI")
    p.set_defaults(handler=run_check)


def summary_lines(report: dict[str, Any]) -> list[str]:
    model = report["model"]
    lines = [
        f"{model['path']}: M_{{{model['hidden_size']},{model['seq_len']}}}, {model['n_params']} params, "
        f"sha256 {model['sha256'][:12]}",
        f"  verdict: {report['verdict'].upper()} ({report['claim']['name']}) - {report['verdict_reason']}",
        f"  regions: {len(report['regions'])}{'' if report['complete'] else ' (INCOMPLETE: ' + report['stop_reason'] + ')'}, "
        f"solver checks: {report['solver']['checks']}, {report['timing']['seconds']:.2f} s",
    ]
    err = report["error_rate"]
    if err is not None:
        if err["upper"] == 0:
            lines.append("  error rate: 0 exactly")
        else:
            lines.append(f"  error rate: {err['exact']} (+- {err['error_bound']}), 1 in {err['one_in']:,.2f}")
        tie = report["tie_measure"]
        if tie is not None and tie["value"] > 0:
            lines.append(f"  tie measure: {tie['exact']}; strict error rate: {report['error_rate_strict']['exact']}")
    elif report.get("error_rate_estimate"):
        est = report["error_rate_estimate"]
        lines.append(f"  error rate: ESTIMATE {est['value']:.6g} +- {est['standard_error']:.2g} ({est['method']})")
    else:
        lines.append("  error rate: not computed (search incomplete or no certified method)")
    cex = report["counterexamples"]
    if cex:
        confirmed = sum(1 for c in cex if c["float32_confirmed"])
        lines.append(f"  counterexamples: {len(cex)} ({confirmed} float32-confirmed), e.g. x = {cex[0]['x_float32']} "
                     f"-> predicted {cex[0]['predicted']}, expected {cex[0]['expected']}")
    if report["undecided"]:
        short = [p if len(p) <= 48 else p[:45] + "..." for p in report["undecided"][:3]]
        shown = ", ".join(short) + (" ..." if len(report["undecided"]) > 3 else "")
        lines.append(f"  undecided: {len(report['undecided'])} subtree(s): {shown}")
    return lines


class _Progress:
    def __init__(self, enabled: bool, name: str) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(desc=name, unit=" regions", leave=False)

    def __call__(self, regions: int, checks: int) -> None:
        if self.bar is not None:
            self.bar.n = regions
            self.bar.set_postfix(checks=checks, refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_one(path: Path, args: argparse.Namespace, io: Io) -> tuple[CheckResult, dict[str, Any]]:
    weights = load_weights(path)
    for name in ("max_regions", "time_budget", "query_timeout"):
        value = getattr(args, name, None)
        if value is not None and not value > 0:
            raise InputError(f"--{name.replace('_', '-')} must be positive, got {value}")
    time_budget = None if getattr(args, "no_time_budget", False) else getattr(args, "time_budget", None)
    options = CheckOptions(
        claim=KthArgmaxClaim(CLAIMS[args.claim]),
        budget=Budget(max_regions=args.max_regions, time_budget=time_budget),
        timeout_ms=max(1, int(1000 * getattr(args, "query_timeout", 10.0))),
    )
    if options.claim.k > weights.seq_len:
        raise InputError(f"{path}: the {args.claim} claim needs a sequence length of at least {options.claim.k}")
    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    interrupted: list[str] = []

    def on_sigint(signum, frame):  # type: ignore[no-untyped-def]
        interrupted.append("interrupted (Ctrl-C)")

    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    enabled = args.progress if args.progress is not None else io.stderr.isatty()
    progress = _Progress(bool(enabled), path.name)
    try:
        from verify.parallel import region_source

        def stop() -> str | None:
            return interrupted[0] if interrupted else None

        result = check_model(weights, options, on_region=progress, should_stop=stop,
                             region_source=region_source(jobs, on_region=progress, should_stop=stop))
    finally:
        progress.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return result, build_report(result)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def write_outputs(result: CheckResult, report: dict[str, Any], args: argparse.Namespace, io: Io, many: bool) -> None:
    if args.json_path:
        if args.json_path == "-":
            io.out(dumps(report).rstrip())
        else:
            target = Path(args.json_path)
            if many:
                target = target.with_name(f"{target.stem}.{Path(result.weights.path).stem}{target.suffix or '.json'}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dumps(report))
    if args.report:
        from verify.report_files import write_report_dir

        folder = Path(args.report)
        if many:
            folder = folder / Path(result.weights.path).stem
        write_report_dir(result, report, folder)


def run_check(args: argparse.Namespace, io: Io) -> int:
    paths = [Path(p) for p in args.models] or bundled_models()
    worst = 0
    codes = []
    cases: list[Any] = []
    for path in paths:
        try:
            result, report = check_one(path, args, io)
        except InputError as exc:
            if getattr(args, "junit", None):
                _write_junit(args, cases + [(path, None, " ".join(str(exc).split()))])
            raise
        cases.append((path, report, ""))
        write_outputs(result, report, args, io, many=len(paths) > 1)
        if args.json_path != "-":
            for line in summary_lines(report):
                io.out(line)
        codes.append(exit_code_for(report["verdict"]))
    if getattr(args, "junit", None):
        _write_junit(args, cases)
    if EXIT_REFUTED in codes:
        worst = EXIT_REFUTED
    elif EXIT_UNKNOWN in codes:
        worst = EXIT_UNKNOWN
    return worst


def _write_junit(args: argparse.Namespace, cases: list[Any]) -> None:
    from verify.junit import JunitCase, write_junit

    write_junit([JunitCase(str(path), args.claim, report, error) for path, report, error in cases], Path(args.junit))


def load_report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
