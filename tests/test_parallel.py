"""Issue 5: `--jobs N` splits the region search over processes with byte-identical verdicts."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from verify.check.pipeline import CheckOptions, StopFlag, check_model
from verify.check.claims import Verdict
from verify.cli.main import main
from verify.corpus.handcrafted import handcrafted_2_2, weights_of
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.check.parallel import (ParallelRegions, SubtreeResult, SubtreeTask, merge, region_source, run_subtree,
                             split_prefixes, worker_count)
from verify.check.regions import Budget
from verify.smt.solver import SolverStats

M22 = "models/algzoo/2nd_argmax_2_2.pth"
HANDCRAFTED = "models/handcrafted_2_2.pth"
TIMING_SECTIONS = ("solver", "timing")  # the only sections allowed to differ between runs


def verdict_sections(path: Path) -> str:
    report = json.loads(path.read_text())
    for key in TIMING_SECTIONS:
        report.pop(key)
    return json.dumps(report, indent=2)


def run_json(model: str, out: Path, *extra: str) -> tuple[int, str]:
    stderr = io.StringIO()
    code = main(["check", model, "--json", str(out), *extra], stdout=io.StringIO(), stderr=stderr)
    assert code in (0, 1, 3), stderr.getvalue()
    return code, verdict_sections(out)


def random_model_file(tmp_path: Path, d: int, n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    w = weights_of(rng.standard_normal(d), rng.standard_normal((d, d)), rng.standard_normal((n, d)))
    path = tmp_path / f"random_{d}_{n}_{seed}.pth"
    torch.save(w.state_dict(), path)
    return str(path)


@pytest.mark.parametrize("model", [M22, HANDCRAFTED])
def test_jobs_2_is_byte_identical_on_bundled_and_algzoo_models(model: str, tmp_path: Path) -> None:
    code1, one = run_json(model, tmp_path / "one.json")
    code2, two = run_json(model, tmp_path / "two.json", "--jobs", "2")
    assert code1 == code2
    assert one == two


def test_jobs_2_and_3_are_byte_identical_on_a_model_with_many_regions(tmp_path: Path) -> None:
    model = random_model_file(tmp_path, 3, 3, seed=1)
    _, one = run_json(model, tmp_path / "one.json")
    _, two = run_json(model, tmp_path / "two.json", "--jobs", "2")
    _, three = run_json(model, tmp_path / "three.json", "--jobs", "3")
    report = json.loads(one)
    assert len(report["regions"]) >= 10  # enough regions that the split really has several subtrees
    assert [r["index"] for r in report["regions"]] == list(range(len(report["regions"])))
    assert one == two == three


def test_split_prefixes_partition_the_regions_in_search_order() -> None:
    """Oracle: every region's pattern starts with exactly one prefix, and prefix order is search order."""
    rng = np.random.default_rng(1)
    w = weights_of(rng.standard_normal(3), rng.standard_normal((3, 3)), rng.standard_normal((3, 3)))
    sequential = check_model(w, CheckOptions())
    net = ExactRNN.from_weights(w)
    split = split_prefixes(net, 2, SolverStats())
    patterns = [tuple(b for step in o.region.pattern for b in step) for o in sequential.regions]
    owners = [[k for k, p in enumerate(split) if pat[: len(p)] == p] for pat in patterns]
    assert all(len(o) == 1 for o in owners)
    assert [o[0] for o in owners] == sorted(o[0] for o in owners)
    assert set(o[0] for o in owners) == set(range(len(split)))  # no empty (infeasible) subtree


def test_region_budget_with_jobs_is_never_proved(tmp_path: Path) -> None:
    code, text = run_json(HANDCRAFTED, tmp_path / "b.json", "--jobs", "2", "--max-regions", "2")
    report = json.loads(text)
    assert code == 3 and report["verdict"] == "unknown"
    assert len(report["regions"]) == 2 and not report["complete"]  # 4 regions by hand: the first 2 are kept
    _, sequential = run_json(HANDCRAFTED, tmp_path / "s.json", "--max-regions", "2")
    assert text == sequential


def test_a_region_budget_equal_to_the_region_count_means_the_same_with_jobs(tmp_path: Path) -> None:
    """Issue 10 #8: the handcrafted model has exactly 4 regions (by hand: the sign of x0, then
    the sign of x1 - x0); with --max-regions 4 both --jobs 1 and --jobs 2 decide everything."""
    code1, one = run_json(HANDCRAFTED, tmp_path / "one.json", "--max-regions", "4")
    code2, two = run_json(HANDCRAFTED, tmp_path / "two.json", "--max-regions", "4", "--jobs", "2")
    assert code1 == code2 == 0 and one == two


def test_region_source_for_one_job_is_the_sequential_loop() -> None:
    assert region_source(1) is None
    with pytest.raises(ValueError):
        region_source(0)


def test_bad_jobs_is_one_line_exit_2() -> None:
    err = io.StringIO()
    assert main(["check", HANDCRAFTED, "--jobs", "0"], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "--jobs" in err.getvalue()


# -- how many processes (issue 10 #8) --------------------------------------------------------


def test_worker_count_is_capped_by_jobs_subtrees_and_cpus() -> None:
    assert worker_count(1000, 4, 64) == 4
    assert worker_count(1000, 40, 2) == 2
    assert worker_count(3, 40, 64) == 3
    assert worker_count(2, 40, None) == 1  # cpu count unknown: one process


@pytest.mark.parametrize("cpus, expected", [(64, 4), (2, 2)])
def test_jobs_1000_on_a_4_region_model_starts_at_most_one_process_per_subtree(cpus: int, expected: int) -> None:
    """Counted from the outside: the live children of this process while the pool works. At
    s = n = 2 steps each subtree is one of the 4 hand-derived regions, so 4 processes at most."""
    seen: list[int] = []
    source = ParallelRegions(1000, on_region=lambda *_: seen.append(len(multiprocessing.active_children())),
                             cpus=cpus)
    result = check_model(handcrafted_2_2(), CheckOptions(), region_source=source)
    assert result.verdict is Verdict.PROVED and len(result.regions) == 4
    assert seen and max(seen) == expected
    assert len(source.worker_pids) == expected
    assert not any(alive(pid) for pid in source.worker_pids)


def test_jobs_1000_gives_the_sequential_report(tmp_path: Path) -> None:
    code1, one = run_json(HANDCRAFTED, tmp_path / "one.json")
    code2, many = run_json(HANDCRAFTED, tmp_path / "many.json", "--jobs", "1000")
    assert code1 == code2 == 0 and one == many


# -- merge (issue 18: the "complete from the last subtree only" mutant) ------------------------


def subtree_results(weights_path: str = M22) -> tuple[list[SubtreeResult], int]:
    """Every subtree of a real split, each evaluated in this process."""
    net = ExactRNN.from_weights(load_weights(weights_path))
    split = split_prefixes(net, 64, SolverStats())
    results = [run_subtree(SubtreeTask(net, CheckOptions(), p, None)) for p in split]
    return results, len(split[0])


def test_merge_is_complete_only_if_every_subtree_is() -> None:
    results, k = subtree_results()
    assert len(results) == 6 and all(r.evaluated.state.complete for r in results)  # 6 wedges, one each
    assert merge(results, k, Budget()).state.complete
    for broken in (0, 2, len(results) - 1):  # early, middle, last
        copy = [SubtreeResult(r.prefix, r.evaluated, r.stats) for r in results]
        state = replace(results[broken].evaluated.state, complete=False, stop_reason="planted stop")
        copy[broken] = SubtreeResult(results[broken].prefix, replace(results[broken].evaluated, state=state),
                                     results[broken].stats)
        merged = merge(copy, k, Budget())
        assert not merged.state.complete, broken
        assert merged.state.stop_reason == "planted stop"
        assert len(merged.outcomes) == 6


def test_merge_keeps_the_first_regions_in_search_order_under_a_region_budget() -> None:
    results, k = subtree_results()
    sequential = check_model(load_weights(M22), CheckOptions(estimate_samples=0))
    merged = merge(results, k, Budget(max_regions=4))
    assert [o.region.pattern for o in merged.outcomes] == [o.region.pattern for o in sequential.regions[:4]]
    assert [o.region.index for o in merged.outcomes] == [0, 1, 2, 3]
    assert not merged.state.complete and merged.state.stop_reason == "region budget of 4 reached"
    assert all(c.region < 4 for c in merged.cones) and len(merged.cones) == len(merged.cone_measures)
    exact = merge(results, k, Budget(max_regions=6))
    assert exact.state.complete and len(exact.outcomes) == 6


# -- time budget wording (issue 10 #8) -------------------------------------------------------


def test_a_worker_names_the_users_time_budget_not_its_remaining_time() -> None:
    """The parent's deadline is 1.55 s away on the worker's clock; the user asked for 20 s."""
    net = ExactRNN.from_weights(load_weights(M22))
    prefix = split_prefixes(net, 64, SolverStats())[0]
    ticks = iter(range(10**6))
    clock = lambda: float(next(ticks))  # noqa: E731 - one second per reading: the deadline passes mid-search
    options = CheckOptions(budget=Budget(time_budget=20, clock=clock))
    late = run_subtree(SubtreeTask(net, options, prefix, deadline=1.55))
    assert late.evaluated.state.stop_reason == "time budget of 20 s reached"
    assert not late.evaluated.state.complete
    expired = run_subtree(SubtreeTask(net, options, prefix, deadline=-1.0))
    assert expired.evaluated.state.stop_reason == "time budget of 20 s reached" and not expired.evaluated.outcomes


# -- stopping (issue 9 #4): finished subtrees kept, workers terminated and reaped ---------------


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie has exited; only its parent must reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


FINISHING: list[tuple[bool, ...]] = []  # set by a test before the pool forks; the workers inherit it


def first_subtree_only(task: SubtreeTask) -> SubtreeResult:
    """Worker fault: only the subtree listed in FINISHING finishes; every other one hangs."""
    if task.prefix in FINISHING:
        return run_subtree(task)
    time.sleep(600)
    raise AssertionError("a hung worker was not terminated")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers inherit the fault (Linux)")
def test_a_stop_keeps_finished_subtrees_and_reaps_hung_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flag is set when the first subtree's result arrives; the others never finish on their
    own, so the run ends only if the parent terminates them. Nothing here races the machine."""
    weights = load_weights(M22)
    first = split_prefixes(ExactRNN.from_weights(weights), 2, SolverStats())[0]
    monkeypatch.setattr(f"{__name__}.FINISHING", [first])
    monkeypatch.setattr("verify.check.parallel.run_subtree", first_subtree_only)
    sequential = check_model(weights, CheckOptions(estimate_samples=0))
    flag = StopFlag()
    source = ParallelRegions(2, on_region=lambda *_: flag.set("interrupted (test)"), stop=flag, cpus=2)
    start = time.monotonic()
    result = check_model(weights, CheckOptions(estimate_samples=0), stop=flag, region_source=source)
    assert time.monotonic() - start < 60  # a hung worker would hold the run for 600 s
    assert len(source.worker_pids) == 2 and not any(alive(pid) for pid in source.worker_pids)
    assert result.interrupted and result.verdict is not Verdict.PROVED
    assert len(result.regions) == 1  # the first subtree: region 0 of the sequential search
    assert result.regions[0].region.pattern == sequential.regions[0].region.pattern
    assert result.regions[0].claim.verdict == sequential.regions[0].claim.verdict
    assert not result.search.complete and result.search.stop_reason == "interrupted (test)"
    assert len(result.undecided_regions) == 5 and result.error is None


def test_a_stop_before_the_run_starts_no_process() -> None:
    flag = StopFlag()
    flag.set("interrupted (test)")
    source = ParallelRegions(2, stop=flag, cpus=2)
    result = check_model(handcrafted_2_2(), CheckOptions(estimate_samples=0), stop=flag, region_source=source)
    assert source.worker_pids == () and result.regions == [] and result.verdict is Verdict.UNKNOWN


HANG_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
import verify.check.parallel as parallel
from verify.check.pipeline import CheckOptions, check_model
from verify.corpus.handcrafted import handcrafted_2_2

def hang(task):
    time.sleep(600)

parallel.run_subtree = hang
print("started", flush=True)
check_model(handcrafted_2_2(), CheckOptions(), region_source=parallel.ParallelRegions(2, cpus=2))
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_their_parent(tmp_path: Path, signum: int) -> None:
    """A parent killed outright (no handler, no finally) must not leave its workers running."""
    script = tmp_path / "hang.py"
    script.write_text(HANG_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(Path(__file__).resolve().parent.parent)],
                            stdout=subprocess.PIPE)
    workers: list[int] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"started\n"
        start = time.monotonic()
        while len(workers) < 2 and time.monotonic() - start < 60:
            time.sleep(0.1)
            workers = children_of(proc.pid)
        assert len(workers) == 2
        proc.send_signal(signum)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(w) for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for w in workers:  # a failing run must not leave its hung workers behind either
            if alive(w):
                os.kill(w, signal.SIGKILL)


def test_the_merged_reason_counts_the_undecided_queries_of_every_subtree() -> None:
    """Two subtrees each left region queries undecided (2 and 3): the run's reason says 5, not the
    first subtree's 2; a first reason that is not about unknown queries (a budget) is kept as is."""
    from verify.check.parallel import SubtreeResult, merge
    from verify.check.pipeline import EvaluatedRegions
    from verify.check.regions import Budget, SearchState
    from verify.smt.solver import SolverStats

    def undecided(prefix: tuple[bool, ...], unknown: int, reason: str) -> SubtreeResult:
        state = SearchState(complete=False, stop_reason=reason, undecided_prefixes=[str(prefix)], nodes=1,
                            unknown_queries=unknown)
        return SubtreeResult(prefix, EvaluatedRegions([], [], [], state), SolverStats())

    parts = [undecided((True,), 2, "the solver could not decide 2 region queries"),
             undecided((False,), 3, "the solver could not decide 3 region queries")]
    state = merge(parts, 1, Budget()).state
    assert state.stop_reason == "the solver could not decide 5 region queries" and state.unknown_queries == 5
    one = merge([undecided((True,), 1, "the solver could not decide 1 region query")], 1, Budget()).state
    assert one.stop_reason == "the solver could not decide 1 region query"
    budget_first = [undecided((True,), 0, "time budget of 7 s reached"), parts[1]]
    assert merge(budget_first, 1, Budget()).state.stop_reason == "time budget of 7 s reached"


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _pid() -> int:
    return os.getpid()


def test_every_worker_is_dead_before_the_pool_shuts_down_even_one_that_ignores_sigterm() -> None:
    """A worker forked just before its SIGTERM may survive it (it still runs the parent's handler),
    and a terminated idle worker leaves the task queue's lock taken: a survivor then waits on that
    lock for ever, and so would `shutdown(wait=True)`. So `_shut_down` must have killed every worker
    before it shuts the pool down; here the workers ignore SIGTERM outright."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from verify.check.parallel import ParallelRegions

    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"),
                               initializer=_ignore_sigterm)
    assert len({pool.submit(_pid).result(timeout=60) for _ in range(4)}) >= 1
    processes = list(pool._processes.values())  # type: ignore[attr-defined]
    alive_at_shutdown: list[bool] = []
    real_shutdown = pool.shutdown

    def running(pid: int) -> bool:  # from /proc: Process.is_alive() races the pool's own thread over waitpid
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")

    def spy(*args: object, **kwargs: object) -> None:
        alive_at_shutdown.extend(running(p.pid) for p in processes)
        real_shutdown(*args, **kwargs)  # type: ignore[arg-type]

    pool.shutdown = spy  # type: ignore[method-assign]
    ParallelRegions(jobs=2)._shut_down(pool)
    assert alive_at_shutdown and not any(alive_at_shutdown)
    assert not any(running(p.pid) for p in processes)
