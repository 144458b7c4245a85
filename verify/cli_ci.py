"""`verify ci [MANIFEST]`: re-check every model of the manifest and fail on any regression.

Prints one table row per entry as it finishes, then the failures. Exit codes: 0 every entry
passes, 1 at least one fails (a regression, a missing model), 2 the manifest itself is bad.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from mpmath import mp

from verify.cli import Io
from verify.errors import InputError
from verify.manifest import Entry, Finding, Outcome, judge, load_manifest
from verify.measures import WORKING_DPS, Measure, digits

EXIT_PASS = 0
EXIT_REGRESSION = 1
CLAIM_K = {"2nd-argmax": 2, "argmax": 1}


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ci", help="check every model of a manifest (default ./verify.toml); non-zero exit on regression")
    p.add_argument("manifest", nargs="?", metavar="MANIFEST", help="TOML manifest (default: verify.toml here)")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="also write the results as JSON here")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes per model check (default 1)")
    p.set_defaults(handler=run_ci)


def check_entry(entry: Entry, jobs: int = 1) -> Outcome:
    """Load and exactly check one model, then judge it; a model that cannot be loaded is a failure."""
    from verify.analysis import CheckOptions, check_model
    from verify.claims import KthArgmaxClaim
    from verify.loading import load_weights
    from verify.regions import Budget

    start = time.perf_counter()
    try:
        weights = load_weights(entry.path)
        k = CLAIM_K[entry.claim]
        if k > weights.seq_len:
            raise InputError(f"{entry.path}: the {entry.claim} claim needs a sequence length of at least {k}")
    except InputError as exc:
        return Outcome(entry, "-", None, 0, time.perf_counter() - start, "",
                       [Finding("model", " ".join(str(exc).split()))])
    options = CheckOptions(claim=KthArgmaxClaim(k), budget=Budget(entry.max_regions, entry.time_budget))
    source = None
    if jobs > 1:
        from verify.parallel import region_source

        source = region_source(jobs)
    result = check_model(weights, options, region_source=source)
    verdict = result.verdict.word
    failures = judge(entry, verdict, result.error, weights.sha256)
    return Outcome(entry, verdict, result.error, len(result.regions), time.perf_counter() - start,
                   weights.sha256, failures, dims=f"{weights.hidden_size},{weights.seq_len}")


def rate_text(error: Measure | None) -> str:
    if error is None:
        return "not certified"
    if error.lower == 0 and error.upper == 0:
        return "0 exactly"
    value = float(error.value)
    if not value:
        return f"<= {float(error.upper):.3g}"
    return f"{value:.6g} (1 in {1 / value:,.{0 if value < 0.01 else 2}f})"


COLUMNS = ("MODEL", "D,N", "CLAIM", "VERDICT", "ERROR RATE (certified)", "CRITERIA", "REGIONS", "TIME", "RESULT")


def _row(o: Outcome) -> tuple[str, ...]:
    e = o.entry
    expected = e.expect.verdict
    verdict = o.verdict if not expected or expected == o.verdict else f"{o.verdict} (want {expected})"
    return (e.name, o.dims, e.claim, verdict, rate_text(o.error), e.expect.describe(), str(o.regions),
            f"{o.seconds:.1f}s", "PASS" if o.passed else "FAIL")


def _format(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def outcome_json(o: Outcome) -> dict[str, Any]:
    err = None
    if o.error is not None:
        with mp.workdps(WORKING_DPS):
            err = {"value": float(o.error.value), "lower_exact": digits(o.error.lower, 30),
                   "upper_exact": digits(o.error.upper, 30), "method": o.error.method}
    return {
        "name": o.entry.name, "path": str(o.entry.path), "claim": o.entry.claim, "verdict": o.verdict,
        "expected_verdict": o.entry.expect.verdict, "criteria": o.entry.expect.describe(), "error_rate": err,
        "regions": o.regions, "seconds": round(o.seconds, 3), "sha256": o.sha256, "passed": o.passed,
        "failures": [{"criterion": f.criterion, "detail": f.detail} for f in o.failures],
    }


def run_ci(args: argparse.Namespace, io: Io) -> int:
    manifest = load_manifest(args.manifest)
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    widths = [len(c) for c in COLUMNS]
    entries = manifest.entries
    widths[0] = max(widths[0], *(len(e.name) for e in entries))
    widths[2] = max(widths[2], *(len(e.claim) for e in entries))
    widths[3], widths[4] = 21, 26
    widths[5] = max(widths[5], *(len(e.expect.describe()) for e in entries))
    widths[7] = 6
    io.out(f"verify ci: {len(manifest.entries)} model(s) from {manifest.path}")
    io.out(_format(COLUMNS, widths))
    outcomes = []
    for entry in manifest.entries:
        outcome = check_entry(entry, args.jobs)
        outcomes.append(outcome)
        io.out(_format(_row(outcome), widths))
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        for f in o.failures:
            io.out(f"FAIL {o.entry.name}: {f.criterion}: {f.detail}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(
            {"manifest": str(manifest.path), "passed": not failed, "entries": [outcome_json(o) for o in outcomes]},
            indent=2) + "\n")
    total = sum(o.seconds for o in outcomes)
    if failed:
        io.out(f"verify ci: {len(failed)} of {len(outcomes)} model(s) FAILED ({total:.1f} s)")
        return EXIT_REGRESSION
    io.out(f"verify ci: all {len(outcomes)} model(s) pass ({total:.1f} s)")
    return EXIT_PASS
