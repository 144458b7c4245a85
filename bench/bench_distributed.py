"""Regions per second with the subtrees in this process and on a local Dask cluster of 1 and 2
worker processes, and Dask's scheduling overhead per task (empty tasks). Prints a table.

    python bench/bench_distributed.py [MODEL]      (default models/trained_4_3.pth)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from verify.check.distributed import Scheduler, SubtreeRegions
from verify.check.pipeline import CheckOptions, check_model
from verify.formats import load_weights

EMPTY_TASKS = 500


def _noop(i: int) -> int:
    return i


def main() -> None:
    from distributed import Client, LocalCluster

    model = Path(sys.argv[1] if len(sys.argv) > 1 else "models/trained_4_3.pth")
    weights = load_weights(model)
    options = CheckOptions(estimate_samples=0)
    print(f"{model.name}: subtrees run where, regions, seconds, regions/s")
    for label, scheduler in [("this process", None), ("local:1", Scheduler(None, 1)), ("local:2", Scheduler(None, 2))]:
        source = SubtreeRegions(scheduler, split_jobs=2)
        start = time.perf_counter()
        result = check_model(weights, options, region_source=source)
        seconds = time.perf_counter() - start
        print(f"  {label:13s} {len(result.regions):6d} {seconds:8.2f} {len(result.regions) / seconds:8.1f}"
              + ("  (includes starting the cluster)" if scheduler else ""))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            client.gather(client.map(_noop, range(10)))  # warm
            start = time.perf_counter()
            client.gather(client.map(_noop, range(EMPTY_TASKS), pure=False))
            per_task = (time.perf_counter() - start) / EMPTY_TASKS
    print(f"scheduling overhead: {1000 * per_task:.2f} ms per empty task ({EMPTY_TASKS} tasks, 2 workers)")


if __name__ == "__main__":
    main()
