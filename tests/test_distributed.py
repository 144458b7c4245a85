"""--scheduler: the subtrees on a Dask cluster of worker processes give the report of --jobs 1;
a worker killed during the run changes nothing; without Dask, one line naming the extra.
Work stealing (a task hands the rest of its subtree back after a NODE budget, never a time
slice here) gives the same report, wherever the splits fall."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from verify.check.distributed import Scheduler, SubtreeRegions
from verify.check.parallel import ParallelRegions, SplitRule, rest_of_subtree
from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Budget
from verify.cli.main import main
from verify.formats import load_weights
from verify.render.json_report import build_report

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
M22 = ROOT / "models" / "algzoo" / "2nd_argmax_2_2.pth"
M23 = ROOT / "models" / "trained_2_3.pth"  # a trained n = 3 model
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


def test_stealing_with_local_processes_gives_the_sequential_report() -> None:
    """--jobs N (a process pool): a coarse first split (one step) refined by a node budget."""
    weights = load_weights(M23)
    sequential = build_report(check_model(weights, OPTIONS))
    source = ParallelRegions(2, cpus=2, split=SplitRule(nodes=1), split_steps=1)
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
