"""Benchmark: the exact check against sampling to 1% relative error, and against a frozen baseline.

One table per run. Rows: the bundled AlgZoo M_{2,2}, every bundled zoo model (models/*.pth,
n <= 3), the trained bench models under bench/models/ (d up to 32, n <= 3), then region
enumeration alone for the n = 4 and n = 5 bench models, then the whole `verify check` process
on M_{2,2} against `python -c "import torch"`.

Columns, all measured in this run (times are the minimum of --repeats runs, in process):
- exact (s): `check_model` end to end (regions, claims, measures, counterexamples), wall clock;
- CPU (s): the same run's CPU time (`time.process_time`), which a loaded machine disturbs less;
- sampling to 1% (s): samples for a 1% relative standard error on the exact error rate p,
  N = (1 - p) / (0.01^2 p), times the float32 model's samples/s measured on 2^20 samples;
- crossover: the relative standard error sampling reaches in the exact check's time,
  sqrt((1 - p) / (p * rate * exact_s));
- vs baseline: baseline time / time now, from bench/baseline_speed.json (today's code before
  the hot-path rewrite, frozen once; its date and load average are printed);
- the last row, the whole `verify check` process against `python -c "import torch"`: the two
  commands interleaved for max(--repeats, 7) rounds, the MEDIAN of each (minimum in brackets), the
  ratio of the medians and the range of the per-round ratios (the baseline's row was a minimum);
- with --against DIR (a checkout of the baseline commit, e.g. `git archive 6815458 | tar -x -C
  DIR`): that code's CPU time on the same model, measured in this run by a subprocess, and the
  ratio of CPU times: old and new back to back at the same load.

    python bench/bench_speed.py [--repeats 3] [--budget 300] [--only NAME ...] [--against DIR]
    python bench/bench_speed.py --write-baseline   # only when freezing a new baseline
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
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


# The same measurement in another checkout (--against): CPU seconds of the check or enumeration.
OTHER_CODE = """
import sys, time
from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget, RegionSearch
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.smt.solver import SolverStats
path, kind, repeats, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
weights = load_weights(path)
best = None
for k in range(repeats):
    start = time.process_time()
    if kind == "check":
        complete = check_model(weights, CheckOptions(budget=Budget(time_budget=budget))).search.complete
    else:
        search = RegionSearch(ExactRNN.from_weights(weights), SolverStats(), budget=Budget(time_budget=budget))
        sum(1 for _ in search.run())
        complete = search.state.complete
    spent = time.process_time() - start
    best = spent if best is None else min(best, spent)
    if spent > 20:
        break
print(best, complete)
"""


def other_cpu(directory: str, path: str, kind: str, repeats: int, budget: float) -> tuple[float, bool] | None:
    """CPU seconds of the same check in the checkout `directory` (None if it failed to run)."""
    env = dict(os.environ, PYTHONPATH=directory)
    done = subprocess.run([sys.executable, "-c", OTHER_CODE, str(ROOT / path), kind, str(repeats), str(budget)],
                          cwd=directory, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    seconds, complete = done.stdout.split()
    return float(seconds), complete == "True"


def timed_check(path: str, repeats: int, budget: float) -> dict[str, object]:
    weights = load_weights(str(ROOT / path))
    times, cpu, result = [], [], None
    for k in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = check_model(weights, CheckOptions(budget=Budget(time_budget=budget)))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if times[-1] > 20 and k == 0:
            break  # a long check is timed once: the load's noise is small against it
    assert result is not None
    row: dict[str, object] = {
        "model": path, "d": weights.hidden_size, "n": weights.seq_len, "regions": len(result.regions),
        "complete": result.search.complete, "checks": result.stats.checks, "exact_s": min(times),
        "cpu_s": min(cpu),
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
    times, cpu, regions, checks, complete = [], [], 0, 0, False
    for k in range(repeats):
        stats = SolverStats()
        search = RegionSearch(network, stats, budget=Budget(time_budget=budget))
        start, start_cpu = time.perf_counter(), time.process_time()
        regions = sum(1 for _ in search.run())
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        checks, complete = stats.checks, search.state.complete
        if times[-1] > 20 and k == 0:
            break
    return {"model": path + " (enumeration)", "d": network.hidden_size, "n": network.seq_len, "regions": regions,
            "complete": complete, "checks": checks, "exact_s": min(times), "cpu_s": min(cpu)}


PROCESS_ROUNDS = 7  # at least this many interleaved rounds for the whole-process row


def process_times(repeats: int) -> dict[str, object]:
    """Whole-process wall time of `verify check` on M_{2,2} and of `python -c "import torch"`.

    The two commands alternate (torch, check, torch, check, ...) for max(repeats, 7) rounds, so a
    burst of load hits both alike; the row reports the MEDIAN of each (one noisy run cannot decide
    the ratio) and the minimum beside it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    commands = {"torch": [sys.executable, "-c", "import torch"],
                "check": [sys.executable, "-m", "verify", "check", ALGZOO_2_2, "-q"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    rounds = max(repeats, PROCESS_ROUNDS)
    load = os.getloadavg()[0]
    for _ in range(rounds):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[name].append(time.perf_counter() - start)
    check, torch = times["check"], times["torch"]
    return {"model": "process: verify check " + ALGZOO_2_2, "exact_s": statistics.median(check),
            "torch_s": statistics.median(torch), "exact_min_s": min(check), "torch_min_s": min(torch),
            "ratios": sorted(c / t for c, t in zip(check, torch)), "rounds": rounds,
            "load": f"{load:.2f} before, {os.getloadavg()[0]:.2f} after"}


def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=300.0, help="time budget (s) per check")
    parser.add_argument("--only", nargs="*", default=None, help="substrings of the model paths to run")
    parser.add_argument("--write-baseline", action="store_true", help="freeze this run as bench/baseline_speed.json")
    parser.add_argument("--against", metavar="DIR", default=None,
                        help="a checkout of the baseline commit: its CPU time on the same models, in this run")
    args = parser.parse_args()
    keep = (lambda p: any(s in p for s in args.only)) if args.only else (lambda p: True)
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() and not args.write_baseline else None
    load = os.getloadavg()
    rows = [timed_check(p, args.repeats, args.budget) for p in exact_models() if keep(p)]
    rows += [timed_enumeration(p, args.repeats, args.budget) for p in BENCH_ENUM if keep(p)]
    if args.against is not None:
        for r in rows:
            path = str(r["model"]).replace(" (enumeration)", "")
            kind = "enumeration" if str(r["model"]).endswith("(enumeration)") else "check"
            r["old_cpu"] = other_cpu(args.against, path, kind, args.repeats, args.budget)
    process = process_times(args.repeats) if keep("process") else None
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; "
          f"min of {args.repeats} runs")
    if baseline is not None:
        print(f"baseline: {baseline['date']}, commit {baseline['commit']}, load {baseline['load']}")
    print("| model | d | n | regions | solver checks | exact (s) | CPU (s) | sampling to 1% (s) | crossover rel. error | "
          "baseline (s) | vs baseline | old code CPU (s) | vs old code (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = {} if baseline is None else {r["model"]: r for r in baseline["rows"]}
    for r in rows:
        b = base.get(r["model"])
        b_s = None if b is None else b["exact_s"]
        b_text = "-" if b is None else f"{b_s:.3g}" + ("" if b.get("complete", True) else " (incomplete)")
        ratio = "-" if b is None else f"{b_s / r['exact_s']:.1f}x" + ("" if b.get("complete", True) else " (at least)")
        regions = f"{r['regions']}" + ("" if r["complete"] else " (partial)")
        old = r.get("old_cpu")
        old_text = "-" if old is None else f"{old[0]:.3g}" + ("" if old[1] else " (incomplete)")
        old_ratio = "-" if old is None else f"{old[0] / r['cpu_s']:.1f}x" + ("" if old[1] else " (at least)")
        print(f"| {r['model']} | {r['d']} | {r['n']} | {regions} | {r['checks']} | {r['exact_s']:.3g} | "
              f"{r['cpu_s']:.3g} | {fmt(r.get('sampling_s'), '.3g')} | {fmt(r.get('crossover'), '.2%')} | {b_text} | "
              f"{ratio} | {old_text} | {old_ratio} |")
    if process is not None:
        b = base.get(process["model"])
        print(f"| {process['model']} | | | | | {process['exact_s']:.3g} (min {process['exact_min_s']:.3g}) | | "
              f"`import torch`: {process['torch_s']:.3g} (min {process['torch_min_s']:.3g}) | "
              f"{process['exact_s'] / process['torch_s']:.2f}x torch (medians of {process['rounds']} interleaved runs; "
              f"per-round ratios {process['ratios'][0]:.2f}-{process['ratios'][-1]:.2f}; load {process['load']}) | "
              f"{fmt(None if b is None else b['exact_s'], '.3g')} | "
              f"{'-' if b is None else format(b['exact_s'] / process['exact_s'], '.1f') + 'x'} | | |")
        rows.append(process)
    if args.write_baseline:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        BASELINE.write_text(json.dumps({
            "date": datetime.date.today().isoformat(), "commit": commit.stdout.strip(),
            "load": f"{load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end", "rows": rows,
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
