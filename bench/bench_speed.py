"""Benchmark: the exact check against sampling to 1% relative error, and against a frozen baseline.

One table per run. Rows: the bundled AlgZoo M_{2,2}, every bundled zoo model (models/*.pth,
n <= 3), the trained bench models under bench/models/ (d up to 32, n <= 3), then region
enumeration alone for the n = 4 and n = 5 bench models, then the whole `verify check` process
on M_{2,2} against `python -c "import torch"`.

Columns, all measured in this run (times are the minimum of --repeats runs, in process):
- exact (s): `check_model` end to end (regions, claims, measures, counterexamples);
- sampling to 1% (s): samples for a 1% relative standard error on the exact error rate p,
  N = (1 - p) / (0.01^2 p), times the float32 model's samples/s measured on 2^20 samples;
- crossover: the relative standard error sampling reaches in the exact check's time,
  sqrt((1 - p) / (p * rate * exact_s));
- vs baseline: baseline time / time now, from bench/baseline_speed.json (today's code before
  the hot-path rewrite, frozen once; its date and load average are printed).

    python bench/bench_speed.py [--repeats 3] [--budget 300] [--only NAME ...]
    python bench/bench_speed.py --write-baseline   # only when freezing a new baseline
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget, RegionSearch
from verify.check.sampling import sample_error_rate
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.smt.solver import SolverStats

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline_speed.json"
ALGZOO_2_2 = "models/algzoo/2nd_argmax_2_2.pth"
BENCH_N3 = ["bench/models/speed_5_3.pth", "bench/models/speed_8_3.pth", "bench/models/speed_16_3.pth",
            "bench/models/speed_32_2.pth", "bench/models/speed_32_3.pth"]
BENCH_ENUM = ["bench/models/speed_4_4.pth", "bench/models/speed_2_5.pth"]
SAMPLE_PROBE = 1 << 20


def exact_models() -> list[str]:
    zoo = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "models").glob("*.pth"))
    return [ALGZOO_2_2] + [p for p in zoo if load_weights(str(ROOT / p)).seq_len <= 3] + BENCH_N3


def timed_check(path: str, repeats: int, budget: float) -> dict[str, object]:
    weights = load_weights(str(ROOT / path))
    times, result = [], None
    for k in range(repeats):
        start = time.perf_counter()
        result = check_model(weights, CheckOptions(budget=Budget(time_budget=budget)))
        times.append(time.perf_counter() - start)
        if times[-1] > 20 and k == 0:
            break  # a long check is timed once: the load's noise is small against it
    assert result is not None
    row: dict[str, object] = {
        "model": path, "d": weights.hidden_size, "n": weights.seq_len, "regions": len(result.regions),
        "complete": result.search.complete, "checks": result.stats.checks, "exact_s": min(times),
        "verdict": result.verdict.word,
        "error": float(result.error.value) if result.error is not None else None,
    }
    p = row["error"]
    if isinstance(p, float) and 0 < p < 1:
        probe = sample_error_rate(weights, SAMPLE_PROBE, seed=1)
        rate = probe.samples_per_second
        n1 = (1 - p) / (0.01**2 * p)
        row["sampling_s"] = n1 / rate
        row["crossover"] = math.sqrt((1 - p) / (p * rate * min(times)))
    return row


def timed_enumeration(path: str, repeats: int, budget: float) -> dict[str, object]:
    network = ExactRNN.from_weights(load_weights(str(ROOT / path)))
    times, regions, checks, complete = [], 0, 0, False
    for k in range(repeats):
        stats = SolverStats()
        search = RegionSearch(network, stats, budget=Budget(time_budget=budget))
        start = time.perf_counter()
        regions = sum(1 for _ in search.run())
        times.append(time.perf_counter() - start)
        checks, complete = stats.checks, search.state.complete
        if times[-1] > 20 and k == 0:
            break
    return {"model": path + " (enumeration)", "d": network.hidden_size, "n": network.seq_len, "regions": regions,
            "complete": complete, "checks": checks, "exact_s": min(times)}


def process_times(repeats: int) -> dict[str, object]:
    """Whole-process wall time of `verify check` on M_{2,2} and of `python -c "import torch"`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def best(argv: list[str]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.perf_counter() - start)
        return min(times)

    check = best([sys.executable, "-m", "verify", "check", ALGZOO_2_2, "-q"])
    torch = best([sys.executable, "-c", "import torch"])
    return {"model": "process: verify check " + ALGZOO_2_2, "exact_s": check, "torch_s": torch}


def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=300.0, help="time budget (s) per check")
    parser.add_argument("--only", nargs="*", default=None, help="substrings of the model paths to run")
    parser.add_argument("--write-baseline", action="store_true", help="freeze this run as bench/baseline_speed.json")
    args = parser.parse_args()
    keep = (lambda p: any(s in p for s in args.only)) if args.only else (lambda p: True)
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() and not args.write_baseline else None
    load = os.getloadavg()
    rows = [timed_check(p, args.repeats, args.budget) for p in exact_models() if keep(p)]
    rows += [timed_enumeration(p, args.repeats, args.budget) for p in BENCH_ENUM if keep(p)]
    process = process_times(args.repeats) if keep("process") else None
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; "
          f"min of {args.repeats} runs")
    if baseline is not None:
        print(f"baseline: {baseline['date']}, commit {baseline['commit']}, load {baseline['load']}")
    print("| model | d | n | regions | solver checks | exact (s) | sampling to 1% (s) | crossover rel. error | "
          "baseline (s) | vs baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    base = {} if baseline is None else {r["model"]: r for r in baseline["rows"]}
    for r in rows:
        b = base.get(r["model"])
        b_s = None if b is None else b["exact_s"]
        b_text = "-" if b is None else f"{b_s:.3g}" + ("" if b.get("complete", True) else " (incomplete)")
        ratio = "-" if b is None else f"{b_s / r['exact_s']:.1f}x" + ("" if b.get("complete", True) else " (at least)")
        regions = f"{r['regions']}" + ("" if r["complete"] else " (partial)")
        print(f"| {r['model']} | {r['d']} | {r['n']} | {regions} | {r['checks']} | {r['exact_s']:.3g} | "
              f"{fmt(r.get('sampling_s'), '.3g')} | {fmt(r.get('crossover'), '.2%')} | {b_text} | {ratio} |")
    if process is not None:
        b = base.get(process["model"])
        print(f"| {process['model']} | | | | | {process['exact_s']:.3g} | `import torch`: {process['torch_s']:.3g} | "
              f"{process['exact_s'] / process['torch_s']:.2f}x torch | {fmt(None if b is None else b['exact_s'], '.3g')} | "
              f"{'-' if b is None else format(b['exact_s'] / process['exact_s'], '.1f') + 'x'} |")
        rows.append(process)
    if args.write_baseline:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        BASELINE.write_text(json.dumps({
            "date": datetime.date.today().isoformat(), "commit": commit.stdout.strip(),
            "load": f"{load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end", "rows": rows,
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
