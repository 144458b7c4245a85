"""Issue 5: `--jobs N` splits the region search over processes with byte-identical verdicts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from verify.analysis import CheckOptions, check_model
from verify.cli import main
from verify.handcrafted import weights_of
from verify.network import ExactRNN
from verify.parallel import region_source, split_prefixes
from verify.solver import SolverStats

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
    assert len(report["regions"]) <= 2 and not report["complete"]


def test_region_source_for_one_job_is_the_sequential_loop() -> None:
    assert region_source(1) is None
    with pytest.raises(ValueError):
        region_source(0)


def test_bad_jobs_is_one_line_exit_2() -> None:
    err = io.StringIO()
    assert main(["check", HANDCRAFTED, "--jobs", "0"], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "--jobs" in err.getvalue()
