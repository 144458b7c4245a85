"""--scheduler: the subtrees on a Dask cluster of worker processes give the report of --jobs 1;
a worker killed during the run changes nothing; without Dask, one line naming the extra.
Work stealing (a task hands the rest of its subtree back after a NODE budget, never a time
slice here) gives the same report, wherever the splits fall."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from verify.check.distributed import Scheduler, SubtreeRegions
from verify.check.parallel import HUNGRY_TASKS, ParallelRegions, SplitPolicy, SplitRule, rest_of_subtree, rule_for
from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget
from verify.cli.main import main
from verify.formats import load_weights
from verify.render.json_report import build_report

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
M22 = ROOT / "models" / "algzoo" / "2nd_argmax_2_2.pth"
M23 = ROOT / "models" / "trained_2_3.pth"  # a trained n = 3 model
HANDCRAFTED = ROOT / "models" / "handcrafted_2_2.pth"  # exactly right everywhere: proved, or unknown if cut short
OPTIONS = CheckOptions(estimate_samples=0)


def _verdict_sections(report: dict[str, Any]) -> str:
    report = dict(report)
    report.pop("timing")
    report.pop("solver")
    return json.dumps(report, sort_keys=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes (not threads), reached through their scheduler's tcp address."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        with Client(local) as client:
            yield local, client


@pytest.mark.parametrize("model", [M22, M23], ids=["M_2_2", "trained_2_3"])
def test_two_worker_processes_give_the_sequential_report_byte_for_byte(cluster: Any, model: Path) -> None:
    local, client = cluster
    weights = load_weights(model)
    sequential = build_report(check_model(weights, OPTIONS))
    source = SubtreeRegions(Scheduler(local.scheduler_address), split_jobs=2)
    spread = build_report(check_model(weights, OPTIONS, region_source=source))
    assert source.computed > 1  # really split
    assert len(set(client.run(os.getpid).values())) == 2
    assert _verdict_sections(spread) == _verdict_sections(sequential)


def test_a_worker_killed_during_the_run_changes_nothing(cluster: Any) -> None:
    local, client = cluster
    weights = load_weights(M23)
    sequential = build_report(check_model(weights, OPTIONS))
    victims = list(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(regions: int, checks: int) -> None:  # after the first subtree comes back, mid-run
        if not killed:
            killed.append(victims[0])
            os.kill(victims[0], signal.SIGKILL)

    source = SubtreeRegions(Scheduler(local.scheduler_address), split_jobs=2, on_region=kill_one)
    spread = build_report(check_model(weights, OPTIONS, region_source=source))
    assert killed
    assert _verdict_sections(spread) == _verdict_sections(sequential)
    assert source.computed == 13  # every subtree once: none lost, none counted twice


def test_the_command_with_a_local_cluster_matches_jobs_1(tmp_path: Path) -> None:
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main(["check", str(M22), "--json", str(one)], io.StringIO(), io.StringIO()) == 1
    err = io.StringIO()
    assert main(["check", str(M22), "--scheduler", "local:2", "--json", str(two)], io.StringIO(), err) == 1, err.getvalue()
    assert _verdict_sections(json.loads(two.read_text())) == _verdict_sections(json.loads(one.read_text()))


def test_without_dask_one_line_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    err = io.StringIO()
    assert main(["check", str(M22), "--scheduler", "local:2"], io.StringIO(), err) == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and "'distributed'" in lines[0]


@pytest.mark.parametrize("text", ["local:0", "local:x", "somewhere", "tcp://"])
def test_a_bad_scheduler_is_one_line_exit_2(text: str) -> None:
    err = io.StringIO()
    assert main(["check", str(M22), "--scheduler", text], io.StringIO(), err) == 2
    assert len(err.getvalue().strip().splitlines()) == 1


# -- work stealing: subtrees split further after a node budget ------------------------------------

def test_the_rest_of_a_subtree_is_the_pending_inactive_branches_deepest_first() -> None:
    """By hand: below prefix 1 (d = 2, n = 3), after the region 11|10|01, a depth-first search
    still has to visit the inactive branch of every later decision that went active, deepest
    first: 11|10|00 (depth 5), 11|0 (depth 2), 10 (depth 1). Inactive decisions leave nothing."""
    path = (True, True, True, False, False, True)
    assert rest_of_subtree(path, 1) == ((True, True, True, False, False, False), (True, True, False), (True, False))
    assert rest_of_subtree(path, 3) == ((True, True, True, False, False, False),)
    assert rest_of_subtree(path, 6) == ()  # the region itself: nothing left below it
    assert rest_of_subtree((False, False), 0) == ()


def test_a_split_rule_fires_on_nodes_or_seconds_and_the_policy_picks_the_short_one_for_hungry_workers() -> None:
    assert not SplitRule().due(10**9, 1e9)  # no limit: never
    assert SplitRule(nodes=5).due(5, 0.0) and not SplitRule(nodes=5).due(4, 1e9)
    assert SplitRule(seconds=2.0).due(0, 2.0) and not SplitRule(seconds=2.0).due(10**9, 1.9)
    busy, hungry = SplitRule(nodes=100), SplitRule(nodes=1)
    policy = SplitPolicy(busy, hungry)
    workers = 4
    assert rule_for(policy, HUNGRY_TASKS * workers - 1, workers) is hungry  # fewer than HUNGRY_TASKS per worker out
    assert rule_for(policy, HUNGRY_TASKS * workers, workers) is busy
    assert rule_for(busy, 0, workers) is busy and rule_for(None, 0, workers) is None


@pytest.mark.parametrize("model", [M22, M23], ids=["M_2_2", "trained_2_3"])
@pytest.mark.parametrize("nodes", [1, 4, 9])
def test_stealing_in_this_process_gives_the_sequential_report_at_every_node_budget(model: Path, nodes: int) -> None:
    weights = load_weights(model)
    sequential = _verdict_sections(build_report(check_model(weights, OPTIONS)))
    source = SubtreeRegions(None, split=SplitRule(nodes=nodes), split_steps=1)
    stolen = build_report(check_model(weights, OPTIONS, region_source=source))
    if nodes == 1:  # a split after every region: more tasks than the two first-step subtrees and regions
        assert source.computed > len(check_model(weights, OPTIONS).regions) > 2
    assert _verdict_sections(stolen) == sequential


@pytest.mark.parametrize("regions", [1, 3, 5])
def test_stealing_keeps_the_meaning_of_max_regions(regions: int) -> None:
    weights = load_weights(M23)
    options = CheckOptions(estimate_samples=0, budget=Budget(max_regions=regions))
    sequential = build_report(check_model(weights, options))
    source = SubtreeRegions(None, split=SplitRule(nodes=1), split_steps=1)
    stolen = build_report(check_model(weights, options, region_source=source))
    assert len(stolen["regions"]) == regions
    assert _verdict_sections(stolen) == _verdict_sections(sequential)


def test_stealing_keeps_the_meaning_of_the_deadline() -> None:
    """A fake clock jumps past the deadline once the first split part is back: every later task
    stops at once, naming the time budget; what was found is the sequential search's first
    region, the rest is undecided, and nothing claims completeness."""
    weights = load_weights(M23)
    now = [0.0]
    options = CheckOptions(estimate_samples=0, budget=Budget(time_budget=100.0, clock=lambda: now[0]))
    sequential = check_model(weights, CheckOptions(estimate_samples=0))

    def late(regions: int, checks: int) -> None:
        now[0] = 1000.0

    source = SubtreeRegions(None, split=SplitRule(nodes=1), split_steps=1, on_region=late)
    result = check_model(weights, options, region_source=source)
    assert [o.region.pattern for o in result.regions] == [sequential.regions[0].region.pattern]
    assert not result.search.complete and result.search.stop_reason == "time budget of 100 s reached"
    assert result.verdict.name != "PROVED" and result.error is None
    assert result.undecided_regions  # the other first-step subtree and the split part's frontier


@pytest.mark.parametrize("split", [SplitRule(nodes=1), SplitPolicy(busy=SplitRule(nodes=8), hungry=SplitRule(nodes=1))],
                         ids=["nodes", "policy"])
def test_stealing_with_local_processes_gives_the_sequential_report(split: Any) -> None:
    """--jobs N (a process pool): a coarse first split (one step) refined by node budgets (which
    one a task gets under the policy depends on timing; the report may not)."""
    weights = load_weights(M23)
    sequential = build_report(check_model(weights, OPTIONS))
    source = ParallelRegions(2, cpus=2, split=split, split_steps=1)
    stolen = build_report(check_model(weights, OPTIONS, region_source=source))
    assert _verdict_sections(stolen) == _verdict_sections(sequential)


@pytest.mark.parametrize("model", [M22, M23], ids=["M_2_2", "trained_2_3"])
def test_stealing_on_two_worker_processes_gives_the_sequential_report(cluster: Any, model: Path) -> None:
    local, _ = cluster
    weights = load_weights(model)
    sequential = build_report(check_model(weights, OPTIONS))
    source = SubtreeRegions(Scheduler(local.scheduler_address), split=SplitRule(nodes=1), split_steps=1)
    stolen = build_report(check_model(weights, OPTIONS, region_source=source))
    assert source.computed > len(sequential["regions"])  # every region a task of its own, and empty branches
    assert _verdict_sections(stolen) == _verdict_sections(sequential)


def test_stealing_with_a_worker_killed_mid_split_changes_nothing(cluster: Any) -> None:
    local, client = cluster
    weights = load_weights(M23)
    sequential = build_report(check_model(weights, OPTIONS))
    unkilled = SubtreeRegions(None, split=SplitRule(nodes=1), split_steps=1)
    check_model(weights, OPTIONS, region_source=unkilled)
    victims = list(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(regions: int, checks: int) -> None:  # once the first split part is back: mid-split
        if not killed:
            killed.append(victims[0])
            os.kill(victims[0], signal.SIGKILL)

    source = SubtreeRegions(Scheduler(local.scheduler_address), split=SplitRule(nodes=1), split_steps=1,
                            on_region=kill_one)
    stolen = build_report(check_model(weights, OPTIONS, region_source=source))
    assert killed
    assert _verdict_sections(stolen) == _verdict_sections(sequential)
    assert source.computed == unkilled.computed  # every part once: none lost, none counted twice


# -- the scheduler vanishing ----------------------------------------------------------------------

# `verify check` that, once its first subtree file is durable, waits (its Dask loop blocked) until
# the test has SIGKILLed the scheduler: the loss lands mid-run whatever the machine's speed.
PAUSE_AFTER_FIRST_SAVE = """
import sys, time
from pathlib import Path
from verify.check import checkpoint
from verify.cli.main import main
marker, go = Path(sys.argv[1]), Path(sys.argv[2])
real = checkpoint.Checkpoint.save
def save(self, *args):
    real(self, *args)
    if not marker.exists():
        marker.write_text("saved")
        while not go.exists():
            time.sleep(0.05)
checkpoint.Checkpoint.save = save
sys.exit(main(sys.argv[3:]))
"""


def _wait_for(path: Path, process: "subprocess.Popen[bytes]", seconds: float = 120.0) -> None:
    """Poll for `path` (a generous bound: only a broken run takes that long)."""
    end = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, f"exited early with {process.returncode}"
        assert time.monotonic() < end, f"{path.name} never appeared"
        time.sleep(0.1)


def _dask(*args: str, log: Path) -> "subprocess.Popen[bytes]":
    """`dask scheduler` / `dask worker` (the same entry points, run by this Python)."""
    module = {"scheduler": "distributed.cli.dask_scheduler", "worker": "distributed.cli.dask_worker"}[args[0]]
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", module, *args[1:]], stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_scheduler_vanishing_ends_unknown_keeps_the_checkpoint_and_resumes(tmp_path: Path) -> None:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        address_file = tmp_path / "scheduler.json"
        scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                          "--scheduler-file", str(address_file), log=tmp_path / "scheduler.log")
        processes.append(scheduler)
        _wait_for(address_file, scheduler)
        time.sleep(0.2)  # the file is written in one go, but give its writer a moment to close it
        address = json.loads(address_file.read_text())["address"]
        processes.append(_dask("worker", address, "--nthreads", "1", "--no-dashboard", log=tmp_path / "worker.log"))
        folder, marker, go = tmp_path / "ck", tmp_path / "saved", tmp_path / "go"
        run = subprocess.Popen([sys.executable, "-c", PAUSE_AFTER_FIRST_SAVE, str(marker), str(go), "check",
                                str(HANDCRAFTED), "--scheduler", address, "--checkpoint", str(folder),
                                "--json", str(tmp_path / "lost.json")], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
        processes.append(run)
        _wait_for(marker, run)
        scheduler.kill()
        scheduler.wait(timeout=30)
        go.write_text("go")
        out, err = run.communicate(timeout=120)  # bounded: the client gives the scheduler up within seconds
        assert run.returncode == 3, err.decode()[-3000:]
        assert "Traceback" not in err.decode() and len(err.decode().strip().splitlines()) <= 1, err.decode()[-3000:]
        verdict = [line for line in out.decode().splitlines() if "verdict:" in line]
        assert len(verdict) == 1 and "UNKNOWN" in verdict[0] and "the Dask scheduler was lost" in verdict[0]
        lost = json.loads((tmp_path / "lost.json").read_text())
        assert lost["verdict"] == "unknown"
        kept = list(folder.glob("weights-*/subtree-*.json"))  # the model's own folder
        assert len(kept) >= 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    full, resumed = tmp_path / "full.json", tmp_path / "resumed.json"
    assert main(["check", str(HANDCRAFTED), "--json", str(full)], io.StringIO(), io.StringIO()) == 0
    err_io = io.StringIO()
    code = main(["check", str(HANDCRAFTED), "--checkpoint", str(folder), "--resume", "--json", str(resumed)],
                io.StringIO(), err_io)
    assert code == 0, err_io.getvalue()
    assert _verdict_sections(json.loads(resumed.read_text())) == _verdict_sections(json.loads(full.read_text()))
    assert len(list(folder.glob("weights-*/subtree-*.json"))) > len(kept)
