"""Benchmark: relu-verify's exact check against Marabou on the same bundled models and queries.

For each model, `verify check` (exact, Z3 over rationals) gives the verdict, its wall time and its
solver time. Marabou (maraboupy, when installed: `pip install -e '.[peers]'`) gets the VNN-LIB 1.0
benchmark folder that `verify export --vnnlib-version 1.0` writes, once per margin setting, and
decides each query in a child process that is killed (SIGKILL: it ignores SIGTERM while solving)
after `--timeout` seconds, since Marabou does not keep its own timeout. The child writes a
VNN-COMP result file; each `sat` witness is then checked by `verify.formats.vnncomp_result`
(what `verify vnncomp-check` runs): does it satisfy the property as written, and is it
misclassified, in exact arithmetic and in float32? Marabou's model verdict is what its answers
claim: refuted if any query is sat, proved if all are unsat, else unknown.

    python bench/bench_peers.py [--timeout 20] [--margins 1e-3 1e-6 1e-6:1e-3] [--models M.pth ...]

A margin setting is EPS (inputs and logits) or IN:OUT. Prints Markdown tables (docs/peers.md).
The machine's load changes the times (not the verdicts of finished queries); the header says it.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "models").glob("*.pth")) + [
    "models/algzoo/2nd_argmax_2_2.pth"]
DEFAULT_MARGINS = ["1e-3", "1e-6", "1e-6:1e-3"]
GRACE_S = 2.0


@dataclass(frozen=True)
class ExactRun:
    verdict: str
    wall_s: float
    solve_s: float
    total_s: float
    pieces: dict[str, bool]  # ordering slug -> a counterexample of positive measure exists there
    listed_all: bool  # every counterexample is in the report (else an unlisted ordering is "?")

    def answer(self, slug: str) -> str:
        """The exact answer on one ordering, as a VNN-COMP verdict (positive-measure witnesses only)."""
        if slug in self.pieces:
            return "sat" if self.pieces[slug] else "sat (measure 0)"
        return "unsat" if self.listed_all and self.verdict != "unknown" else "?"


@dataclass(frozen=True)
class PeerRun:
    query: str
    answer: str  # sat / unsat / timeout (killed) / error ...
    wall_s: float
    solve_s: float | None
    property_exact: bool | None = None
    misclassified_exact: bool | None = None
    misclassified_float32: bool | None = None


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def verify_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "verify", *args]


def run_exact(model: str, work: Path) -> ExactRun:
    report = work / (Path(model).stem + ".json")
    start = time.perf_counter()
    done = subprocess.run(verify_cmd("check", model, "--json", str(report), "-q"), cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1, 3):
        return ExactRun(f"error ({done.stderr.strip()[:60]})", wall, float("nan"), float("nan"), {}, False)
    data = json.loads(report.read_text())
    pieces: dict[str, bool] = {}
    for cex in data["counterexamples"]:
        slug = cex["piece"].replace(" > ", "_gt_").replace(" ", "_")
        pieces[slug] = pieces.get(slug, False) or not cex["measure_zero"]
    return ExactRun(data["verdict"], wall, float(data["solver"]["seconds"]), float(data["timing"]["seconds"]),
                    pieces, data["counterexamples_total"] == len(data["counterexamples"]))


def export(model: str, folder: Path, margin: str) -> Path:
    inp, _, out = margin.partition(":")
    args = ["export", model, "--vnnlib", str(folder), "--vnnlib-version", "1.0", "--margin", inp, "--samples", "200"]
    if out:
        args += ["--output-margin", out]
    subprocess.run(verify_cmd(*args), cwd=ROOT, check=True, capture_output=True, text=True)
    return folder


def marabou_worker(onnx: str, prop: str, result: str, stats: str, timeout: float) -> int:
    """In the child: solve one query, write a VNN-COMP result file and Marabou's own solve time."""
    from decimal import Decimal

    from maraboupy import Marabou

    net = Marabou.read_onnx(onnx)
    options = Marabou.createOptions(verbosity=0, timeoutInSeconds=int(timeout))
    answer, values, statistics = net.solve(options=options, propertyFilename=prop, verbose=False)
    lines = [answer if answer in ("sat", "unsat") else "timeout" if statistics.hasTimedOut() else "unknown"]
    if answer == "sat":
        xs = [f"(X_{i} {Decimal(values[v])})" for i, v in enumerate(net.inputVars[0].flatten())]
        ys = [f"(Y_{j} {Decimal(values[v])})" for j, v in enumerate(net.outputVars[0].flatten())]
        lines.append("(" + "\n ".join(xs + ys) + ")")  # Decimal(float): the double's exact value
    Path(result).write_text("\n".join(lines) + "\n")
    Path(stats).write_text(json.dumps({"solve_s": statistics.getTotalTimeInMicro() / 1e6}))
    return 0


def run_marabou(folder: Path, onnx: str, prop: str, timeout: float) -> tuple[str, float, float | None, Path]:
    result, stats = folder / (Path(prop).stem + ".result"), folder / (Path(prop).stem + ".stats.json")
    for old in (result, stats):
        old.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--marabou-worker", onnx, prop, str(result), str(stats),
               str(timeout)]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        child.wait(timeout=timeout + GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        return "timeout (killed)", time.perf_counter() - start, None, result
    wall = time.perf_counter() - start
    if child.returncode != 0 or not result.exists():
        why = f"signal {-child.returncode}" if child.returncode < 0 else f"exit {child.returncode}"
        return f"error ({why})", wall, None, result
    solve = json.loads(stats.read_text())["solve_s"] if stats.exists() else None
    return result.read_text().split()[0], wall, solve, result


def check_witness(result: Path, onnx: Path, prop: Path, cache: dict[str, Any]) -> tuple[bool, bool | None, bool | None]:
    from verify.core.claim import claim_from_name
    from verify.formats import load_weights
    from verify.formats.vnncomp_result import check_witness as check, read_result
    from verify.formats.vnnlib_read import read_property

    if str(onnx) not in cache:
        cache[str(onnx)] = load_weights(onnx)
    weights = cache[str(onnx)]
    found = check(read_result(result), read_property(prop), weights, claim_from_name("2nd-argmax", weights.seq_len))
    return found.real, found.exact.misclassified, found.float32.misclassified


def peer_verdict(runs: list[PeerRun]) -> str:
    answers = [r.answer for r in runs]
    if "sat" in answers:
        return "refuted"
    return "proved" if all(a == "unsat" for a in answers) else "unknown"


def yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "**no**")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--marabou-worker", nargs=5, metavar=("ONNX", "VNNLIB", "RESULT", "STATS", "TIMEOUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per Marabou query before the kill (default 20)")
    parser.add_argument("--margins", nargs="+", default=DEFAULT_MARGINS, help="EPS or IN:OUT per setting")
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    args = parser.parse_args()
    if args.marabou_worker:
        onnx, prop, result, stats, timeout = args.marabou_worker
        return marabou_worker(onnx, prop, result, stats, float(timeout))

    have_marabou = version("maraboupy") != "not installed"
    load_before = os.getloadavg()
    print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
          f"{os.cpu_count()} logical CPUs; python {platform.python_version()}")
    print(f"versions: relu-verify {version('relu-verify')}, z3-solver {version('z3-solver')}, "
          f"maraboupy {version('maraboupy')}, torch {version('torch')}, onnxruntime {version('onnxruntime')}")
    print(f"Marabou: per-query kill after {args.timeout:g} s (+{GRACE_S:g} s grace); margins {', '.join(args.margins)}")
    print(f"load average at start: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    if not have_marabou:
        print("maraboupy is not installed (pip install -e '.[peers]'): only verify check is timed")

    summary: list[list[str]] = []
    details: list[list[str]] = []
    cache: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as tmp:
        work = Path(tmp)
        for model in args.models:
            exact = run_exact(model, work)
            row = [f"`{model}`", exact.verdict, f"{exact.wall_s:.2f}", f"{exact.solve_s:.3f}"]
            for margin in args.margins if have_marabou else []:
                folder = export(model, work / f"{Path(model).stem}@{margin.replace(':', '_')}", margin)
                runs: list[PeerRun] = []
                with (folder / "instances.csv").open() as handle:
                    instances = list(csv.reader(handle))
                for onnx, prop, _ in instances:
                    answer, wall, solve, result = run_marabou(folder, onnx, prop, args.timeout)
                    checked: tuple[bool | None, bool | None, bool | None] = (None, None, None)
                    if answer == "sat":
                        checked = check_witness(result, folder / onnx, folder / prop, cache)
                    runs.append(PeerRun(Path(prop).stem, answer, wall, solve, *checked))
                    slug = Path(prop).stem.split("_", 2)[2]
                    details.append([f"`{Path(model).stem}`", margin, slug.replace("_gt_", ">"), exact.answer(slug),
                                    answer, f"{wall:.2f}", "-" if solve is None else f"{solve:.3f}",
                                    yes_no(checked[0]), yes_no(checked[1]), yes_no(checked[2])])
                verdict = peer_verdict(runs)
                sat = [r for r in runs if r.answer == "sat"]
                false = sum(1 for r in sat if r.misclassified_exact is False)
                unsat = [r for r in runs if r.answer == "unsat"]
                missed = sum(1 for r in unsat if exact.answer(r.query.split("_", 2)[2]) == "sat")
                killed = sum(1 for r in runs if r.answer.startswith("timeout"))
                mark = "" if verdict in (exact.verdict, "unknown") else " **WRONG**"
                row.append(f"{verdict}{mark}: {len(sat)} sat ({false} false), {len(unsat)} unsat ({missed} missed), "
                           f"{killed} killed; {sum(r.wall_s for r in runs):.0f} s")
            summary.append(row)
            print(f"  done {model}", file=sys.stderr)

    load_after = os.getloadavg()
    print(f"load average at end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}\n")
    head = ["model", "verify check (exact)", "wall s", "Z3 s"] + (
        [f"Marabou @ {m}" for m in args.margins] if have_marabou else [])
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in summary:
        print("| " + " | ".join(row) + " |")
    if details:
        print()
        cols = ["model", "margin", "ordering", "exact", "Marabou", "wall s", "solve s",
                "witness satisfies the file (exact)", "misclassified (exact)", "misclassified (float32)"]
        print("| " + " | ".join(cols) + " |")
        print("|" + " --- |" * len(cols))
        for row in details:
            print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
