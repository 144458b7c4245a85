"""--checkpoint / --resume: a run killed mid-way, resumed, reports what an uninterrupted run reports;
a corrupted or truncated subtree file is redone; another claim's checkpoint is refused. With
work stealing a split subtree's finished part is saved with its frontier, each child in a file
of its own: a run killed mid-split resumes to the same report."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mpmath import mp, mpf

from verify.check.checkpoint import decode, encode
from verify.check.distributed import SubtreeRegions
from verify.check.parallel import SplitRule
from verify.check.pipeline import CheckOptions, check_model
from verify.cli.main import main
from verify.formats import load_weights
from verify.geometry.measure import Measure

ROOT = Path(__file__).resolve().parent.parent
M23 = ROOT / "models" / "trained_2_3.pth"  # d = 2, n = 3: 13 regions, 13 subtrees with one job

# Fault injection: the run SIGKILLs itself right after its third subtree file is durable.
KILLER = """
import os, signal, sys
from verify.check import checkpoint
from verify.cli.main import main
real = checkpoint.Checkpoint.save
count = [0]
def save(self, *args):
    real(self, *args)
    count[0] += 1
    if count[0] == 3:
        os.kill(os.getpid(), signal.SIGKILL)
checkpoint.Checkpoint.save = save
sys.exit(main(sys.argv[1:]))
"""

# The same, with a coarse first split (one step) and a split after every region (a node budget).
SPLITTING_KILLER = KILLER.replace("sys.exit(", """from verify.check import distributed, parallel
real_source = distributed.SubtreeRegions
def splitting(*args, **kwargs):
    return real_source(*args, **kwargs, split=parallel.SplitRule(nodes=1), split_steps=1)
distributed.SubtreeRegions = splitting
sys.exit(""")


def _report(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text())
    report.pop("timing")  # wall-clock seconds
    report.pop("solver")  # solver statistics: checks and seconds differ with the split
    return report


def _model_folder(root: Path) -> Path:
    """The one model's folder under `--checkpoint root` (weights-<hash>)."""
    folders = [p for p in root.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith("weights-"), folders
    return folders[0]


def _run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["check", *argv], io.StringIO(), err)
    return code, err.getvalue()


def test_mpf_and_rationals_survive_the_json_exactly() -> None:
    with mp.workprec(400):
        third = mpf(1) / 3  # 400 bits: more than the default precision could carry
    measure = Measure(third, third + mpf(2) ** -390, "girard")
    back = decode(json.loads(json.dumps(encode(measure))))
    assert back.lower._mpf_ == third._mpf_ and back.upper._mpf_ == measure.upper._mpf_
    from fractions import Fraction
    assert decode(json.loads(json.dumps(encode((Fraction(-7, 3), [Fraction(1, 10**30)]))))) == (
        Fraction(-7, 3), [Fraction(1, 10**30)])


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_report(tmp_path: Path) -> None:
    full = tmp_path / "full.json"
    assert _run(str(M23), "--json", str(full))[0] == 1  # refuted
    folder = tmp_path / "ck"
    killed = subprocess.run([sys.executable, "-c", KILLER, "check", str(M23), "--checkpoint", str(folder),
                             "--json", str(tmp_path / "never.json")], cwd=ROOT, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -9
    assert len(list(_model_folder(folder).glob("subtree-*.json"))) == 3 and not (tmp_path / "never.json").exists()
    resumed = tmp_path / "resumed.json"
    code, err = _run(str(M23), "--checkpoint", str(folder), "--resume", "--json", str(resumed))
    assert code == 1, err
    assert _report(resumed) == _report(full)
    assert len(list(_model_folder(folder).glob("subtree-*.json"))) == 13  # every subtree now saved


def test_corrupted_and_truncated_files_are_redone_never_trusted(tmp_path: Path) -> None:
    weights = load_weights(M23)
    folder = tmp_path / "ck"
    first = SubtreeRegions(None, folder)
    reference = check_model(weights, CheckOptions(estimate_samples=0), region_source=first)
    assert first.computed == 13 and first.resumed == 0
    files = sorted(folder.glob("subtree-*.json"))
    files[0].write_bytes(files[0].read_bytes()[:-40])  # truncated
    text = files[1].read_text()
    files[2].write_text(text.replace('"q":"', '"q":"1', 1))  # another subtree's body, edited: hash mismatch
    again = SubtreeRegions(None, folder, resume=True)
    result = check_model(weights, CheckOptions(estimate_samples=0), region_source=again)
    assert again.resumed == 11 and again.computed == 2
    assert result.verdict == reference.verdict and result.error == reference.error
    assert [o.region.pattern for o in result.regions] == [o.region.pattern for o in reference.regions]
    assert result.cones == reference.cones


def test_resume_refuses_another_claims_checkpoint_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    assert _run(str(M23), "--checkpoint", str(folder), "--json", str(tmp_path / "a.json"))[0] == 1
    code, err = _run(str(M23), "--checkpoint", str(folder), "--resume", "--claim", "argmax")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "another model, claim or options" in err
    code, err = _run(str(M23), "--checkpoint", str(folder))  # no --resume: never overwritten silently
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--resume" in err


def _bodies(folder: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text())["body"] for p in folder.glob("subtree-*.json")}


def test_sigkill_mid_split_then_resume_gives_the_uninterrupted_report(tmp_path: Path) -> None:
    full = tmp_path / "full.json"
    assert _run(str(M23), "--json", str(full))[0] == 1
    folder = tmp_path / "ck"
    killed = subprocess.run([sys.executable, "-c", SPLITTING_KILLER, "check", str(M23), "--checkpoint", str(folder),
                             "--json", str(tmp_path / "never.json")], cwd=ROOT, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    folder = _model_folder(folder)
    bodies = _bodies(folder)
    assert len(bodies) == 3
    split = [b for b in bodies.values() if b["frontier"]]
    assert split  # the first subtree was split after its first region: its part and frontier are on disk
    for body in split:
        assert len(body["evaluated"]["f"]["outcomes"]) == 1
        assert all(child.startswith(body["prefix"]) and len(child) > len(body["prefix"]) for child in body["frontier"])
    resumed = tmp_path / "resumed.json"
    code, err = _run(str(M23), "--checkpoint", str(folder.parent), "--resume", "--json", str(resumed))
    assert code == 1, err
    assert _report(resumed) == _report(full)
    parts = _bodies(folder)  # the resumed run (no node budget) finished each remaining child whole
    assert set(bodies) <= set(parts) and len(parts) > 3


def test_a_corrupted_split_part_is_redone_and_its_children_still_read_back(tmp_path: Path) -> None:
    weights = load_weights(M23)
    options = CheckOptions(estimate_samples=0)
    folder = tmp_path / "ck"
    first = SubtreeRegions(None, folder, split=SplitRule(nodes=1), split_steps=1)
    reference = check_model(weights, options, region_source=first)
    files = {p.name: p for p in folder.glob("subtree-*.json")}
    assert first.resumed == 0 and first.computed == len(files) > len(reference.regions)
    # a first-step subtree (one bit per neuron, d = 2): split, with a frontier
    top = sorted(name for name in files if len(name) == len("subtree-10.json"))
    assert len(top) == 2 and all(_bodies(folder)[name]["frontier"] for name in top)
    files[top[0]].write_bytes(files[top[0]].read_bytes()[:-10])  # truncated
    again = SubtreeRegions(None, folder, resume=True, split=SplitRule(nodes=1))
    result = check_model(weights, options, region_source=again)
    # redone with the same node budget it splits the same way: its children are read back
    assert again.computed == 1 and again.resumed == len(files) - 1
    assert _report_of(result) == _report_of(reference)
    whole = SubtreeRegions(None, folder, resume=True, split=None)  # without stealing: all read back
    assert _report_of(check_model(weights, options, region_source=whole)) == _report_of(reference)
    assert whole.computed == 0


def test_a_frontier_outside_its_subtree_is_not_trusted(tmp_path: Path) -> None:
    weights = load_weights(M23)
    options = CheckOptions(estimate_samples=0)
    folder = tmp_path / "ck"
    reference = check_model(weights, options, region_source=SubtreeRegions(None, folder, split=SplitRule(nodes=1),
                                                                          split_steps=1))
    from verify.check.checkpoint import Checkpoint, run_key
    from verify.core.network import ExactRNN

    net = ExactRNN.from_weights(weights)
    store = Checkpoint.open(folder, run_key(net, options), 1, resume=True)
    name = next(p for p, b in _bodies(folder).items() if b["frontier"])
    prefix = tuple(ch == "1" for ch in name[len("subtree-"):-len(".json")])
    saved = store.load(prefix)
    assert saved is not None and saved.frontier
    store.save(prefix, saved.evaluated, saved.stats, ((not prefix[0],) + prefix[1:] + (True,),))  # a sibling's
    assert store.load(prefix) is None
    again = SubtreeRegions(None, folder, resume=True, split=SplitRule(nodes=1))
    assert _report_of(check_model(weights, options, region_source=again)) == _report_of(reference)
    assert again.computed == 1


def _report_of(result: Any) -> str:
    from verify.render.json_report import build_report

    report = build_report(result)
    report.pop("timing")
    report.pop("solver")
    return json.dumps(report, sort_keys=True)


M22 = ROOT / "models" / "algzoo" / "2nd_argmax_2_2.pth"


def test_several_models_share_one_checkpoint_folder_each_in_its_own_and_each_resumes(tmp_path: Path) -> None:
    full = tmp_path / "full.json"
    assert _run(str(M23), str(M22), "--json", str(full))[0] == 1
    folder = tmp_path / "ck"
    killed = subprocess.run([sys.executable, "-c", KILLER, "check", str(M23), str(M22), "--checkpoint", str(folder),
                             "--json", str(tmp_path / "never.json")], cwd=ROOT, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -9  # in the first model, after its third subtree
    first = _model_folder(folder)
    assert len(list(first.glob("subtree-*.json"))) == 3
    resumed = tmp_path / "resumed.json"
    code, err = _run(str(M23), str(M22), "--checkpoint", str(folder), "--resume", "--json", str(resumed))
    assert code == 1, err
    want = json.loads(full.read_text())
    got = json.loads(resumed.read_text())
    for report in want + got:
        report.pop("timing"), report.pop("solver")
    assert got == want
    folders = sorted(p for p in folder.iterdir() if p.is_dir())
    assert len(folders) == 2 and first in folders
    assert sorted(len(list(f.glob("subtree-*.json"))) for f in folders) == [6, 13]  # every subtree of each
    # resumed again, in the other order, with nothing left to do: both read back whole
    again = tmp_path / "again.json"
    assert _run(str(M22), str(M23), "--checkpoint", str(folder), "--resume", "--json", str(again))[0] == 1
    both = json.loads(again.read_text())
    for report in both:
        report.pop("timing"), report.pop("solver")
    assert both == want[::-1]


def test_a_fresh_run_refuses_a_folder_with_anything_in_it_before_any_model_runs(tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, err = _run(str(M23), str(M22), "--checkpoint", str(folder), "--json", str(tmp_path / "r.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--resume" in err
    assert not (tmp_path / "r.json").exists()
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    code, err = _run(str(M23), "--checkpoint", str(not_a_folder), "--resume")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not a folder" in err
