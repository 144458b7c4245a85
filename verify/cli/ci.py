"""`verify ci [MANIFEST]`: re-check every model of the manifest and fail on any regression.

Prints one table row per entry as it finishes, then the failures. Exit codes: 0 every entry
passes, 1 at least one fails (a regression, a missing model), 2 the manifest or an option is bad,
130 / 143 interrupted by SIGINT / SIGTERM (the rows done so far and the JSON / JUnit files are
written, marked interrupted; no further model is checked).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.cli.common import ExitCode, Io, count_arg
from verify.cli.run import Progress, SignalStop, run_check_model
from verify.core.errors import InputError
from verify.render.json_report import measure_json
from verify.render.rate import measure_words
from verify.geometry.measure import working_precision, Measure, digits

if TYPE_CHECKING:  # the manifest (tomllib, verify.ci) is imported by the handlers: `verify check` never loads it
    from verify.ci.manifest import Entry, Outcome

CI_EXIT_CODES = """exit codes:
  0    every entry meets every criterion
  1    at least one entry failed (a regression, or a missing or unreadable model file)
  2    the manifest or an option is bad: one line on stderr, never a traceback
  130  interrupted by SIGINT (143: SIGTERM); rows done so far, --json and --junit are written"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ci", help="check every model of a manifest (default ./verify.toml); non-zero exit on regression",
                       description="Re-check every model of a TOML manifest against its expected verdict and "
                                   "error-rate thresholds (docs/manifest.md).", epilog=CI_EXIT_CODES)
    p.add_argument("manifest", nargs="?", metavar="MANIFEST", help="TOML manifest (default: verify.toml here)")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="also write the results as JSON here")
    p.add_argument("--junit", metavar="FILE",
                   help="write JUnit XML: one test case per entry, a <failure> per unmet criterion")
    p.add_argument("--jobs", type=count_arg, default=1, metavar="N", help="worker processes per model check (default 1)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr for each model (default: when stderr is a terminal)")
    p.set_defaults(handler=run_ci)


def check_entry(entry: Entry, jobs: int = 1, *, stop: SignalStop | None = None,
                progress: Progress | None = None) -> Outcome:
    """Load and exactly check one model, then judge it; a model that cannot be loaded is a failure."""
    from verify.check.pipeline import CheckOptions
    from verify.ci.manifest import Finding, Outcome, judge
    from verify.core.claim import claim_from_name
    from verify.formats import load_weights
    from verify.check.regions import Budget
    from verify.core.claim import is_regression

    if is_regression(entry.claim):  # the median task: exact worst case, eps verdict, exact MSE
        from verify.cli.tasks import check_regression_entry

        return check_regression_entry(entry, stop=stop, progress=progress)
    start = time.perf_counter()
    try:
        weights = load_weights(entry.path)
        claim = claim_from_name(entry.claim, weights.seq_len, where=str(entry.path), outputs=int(weights.w_oh.shape[0]))
    except InputError as exc:
        return Outcome(entry, "-", None, 0, time.perf_counter() - start, "",
                       [Finding("model", " ".join(str(exc).split()))])
    options = CheckOptions(claim=claim, budget=Budget(entry.max_regions, entry.time_budget),
                           timeout_ms=None)
    result = run_check_model(weights, options, jobs=jobs, progress=progress, stop=None if stop is None else stop.flag)
    verdict = result.verdict.word
    failures = judge(entry, verdict, result.error, weights.sha256)
    if result.interrupted:
        failures = [Finding("interrupted", result.search.stop_reason or "interrupted"), *failures]
    return Outcome(entry, verdict, result.error, len(result.regions), time.perf_counter() - start,
                   weights.sha256, failures, dims=f"{weights.hidden_size},{weights.seq_len}",
                   interrupted=result.interrupted)


def rate_text(error: Measure | None, claim: str = "") -> str:
    """The table's certified error rate, or for the median task its certified mean squared error
    (an uncertified one is not shown here: the criteria judge it)."""
    if _regression(claim):
        return "MSE " + measure_words(measure_json(error), ratio=False, compact=True)
    return measure_words(measure_json(error), compact=True)


def _regression(claim: str) -> bool:
    from verify.core.claim import is_regression

    return bool(claim) and is_regression(claim)


COLUMNS = ("MODEL", "D,N", "CLAIM", "VERDICT", "ERROR RATE or MSE (certified)", "CRITERIA", "REGIONS", "TIME", "RESULT")


def _row(o: Outcome) -> tuple[str, ...]:
    e = o.entry
    expected = e.expect.verdict
    verdict = o.verdict if not expected or expected == o.verdict else f"{o.verdict} (want {expected})"
    return (e.name, o.dims, e.claim, verdict, rate_text(o.error, e.claim), e.expect.describe(), str(o.regions),
            f"{o.seconds:.1f}s", "PASS" if o.passed else "FAIL")


def _format(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def outcome_json(o: Outcome) -> dict[str, Any]:
    err = None
    if o.error is not None:
        with working_precision():
            err = {"value": float(o.error.value), "lower_exact": digits(o.error.lower, 30),
                   "upper_exact": digits(o.error.upper, 30), "method": o.error.method}
    return {
        "name": o.entry.name, "path": str(o.entry.path), "claim": o.entry.claim, "verdict": o.verdict,
        "expected_verdict": o.entry.expect.verdict, "criteria": o.entry.expect.describe(),
        # the median task's measure is its mean squared error, never an error rate
        "error_rate": None if _regression(o.entry.claim) else err, "mse": err if _regression(o.entry.claim) else None,
        "regions": o.regions, "seconds": round(o.seconds, 3), "sha256": o.sha256, "passed": o.passed,
        "interrupted": o.interrupted,
        "failures": [{"criterion": f.criterion, "detail": f.detail} for f in o.failures],
    }


def _summary(o: Outcome) -> str:
    measure = "" if _regression(o.entry.claim) else "error rate "
    return (f"verdict {o.verdict}; {measure}{rate_text(o.error, o.entry.claim)}; criteria {o.entry.expect.describe()}; "
            f"{o.regions} regions; {o.seconds:.1f} s")


def _junit_text(outcomes: list[Outcome], not_run: list[Entry], interrupted: str | None) -> str:
    from verify.render.junit import build_ci_junit, ci_case, to_text

    elements = [ci_case(o.entry.name, str(o.entry.path), o.entry.claim, o.seconds,
                        [(f.criterion, f.detail) for f in o.failures], _summary(o), interrupted=o.interrupted)
                for o in outcomes]
    elements += [ci_case(e.name, str(e.path), e.claim, 0.0, [], "", not_run=True) for e in not_run]
    return to_text(build_ci_junit(elements, sum(o.seconds for o in outcomes), interrupted))


def _json_text(manifest_path: Path, outcomes: list[Outcome], interrupted: str | None) -> str:
    failed = [o for o in outcomes if not o.passed]
    return json.dumps({"manifest": str(manifest_path), "passed": not failed and not interrupted,
                       "interrupted": interrupted is not None, "stop_reason": interrupted or "",
                       "entries": [outcome_json(o) for o in outcomes]}, indent=2) + "\n"


def run_ci(args: argparse.Namespace, io: Io) -> int:
    from verify.ci.manifest import load_manifest
    from verify.render.files import prepare_file, write_text

    manifest = load_manifest(args.manifest)
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    json_path = Path(args.json_path) if args.json_path else None
    junit_path = Path(args.junit) if getattr(args, "junit", None) else None
    if json_path is not None and junit_path is not None and json_path.resolve() == junit_path.resolve():
        raise InputError(f"--json and --junit name the same file {json_path}")
    for path, option in ((json_path, "--json"), (junit_path, "--junit")):
        if path is not None:
            prepare_file(path, option)
    widths = [len(c) for c in COLUMNS]
    entries = manifest.entries
    widths[0] = max(widths[0], *(len(e.name) for e in entries))
    widths[2] = max(widths[2], *(len(e.claim) for e in entries))
    widths[3], widths[4] = 21, max(26, len(COLUMNS[4]))
    widths[5] = max(widths[5], *(len(e.expect.describe()) for e in entries))
    widths[7] = 6
    quiet = io.verbosity < 0
    if not quiet:
        io.out(f"verify ci: {len(manifest.entries)} model(s) from {manifest.path}")
        io.out(_format(COLUMNS, widths))
    enabled = bool(args.progress if args.progress is not None else io.stderr.isatty())
    outcomes: list[Outcome] = []
    with SignalStop() as stop:
        for entry in manifest.entries:
            if stop.code is not None:
                break
            progress = Progress(enabled, entry.name, entry.time_budget, io.stderr)
            try:
                outcome = check_entry(entry, args.jobs, stop=stop, progress=progress)
            finally:
                progress.close()
            outcomes.append(outcome)
            if not quiet:
                io.out(_format(_row(outcome), widths))
    interrupted = stop.reason if stop.code is not None else None
    not_run = list(manifest.entries[len(outcomes):]) if interrupted else []
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        for f in o.failures:
            io.out(f"FAIL {o.entry.name}: {f.criterion}: {f.detail}")
    if json_path is not None:
        write_text(json_path, _json_text(manifest.path, outcomes, interrupted), "--json")
    if junit_path is not None:
        write_text(junit_path, _junit_text(outcomes, not_run, interrupted), "--junit")
    total = sum(o.seconds for o in outcomes)
    if stop.code is not None:
        io.out(f"verify ci: INTERRUPTED ({interrupted}) after {len(outcomes)} of {len(entries)} model(s); "
               f"{len(not_run)} not checked ({total:.1f} s)")
        return stop.code
    if failed:
        io.out(f"verify ci: {len(failed)} of {len(outcomes)} model(s) FAILED ({total:.1f} s)")
        return ExitCode.REFUTED
    io.out(f"verify ci: all {len(outcomes)} model(s) pass ({total:.1f} s)")
    return ExitCode.PROVED
