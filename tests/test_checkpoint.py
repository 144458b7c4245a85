"""--checkpoint / --resume: a run killed mid-way, resumed, reports what an uninterrupted run reports;
a corrupted or truncated subtree file is redone; another claim's checkpoint is refused."""

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


def _report(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text())
    report.pop("timing")  # wall-clock seconds
    report.pop("solver")  # solver statistics: checks and seconds differ with the split
    return report


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
    assert len(list(folder.glob("subtree-*.json"))) == 3 and not (tmp_path / "never.json").exists()
    resumed = tmp_path / "resumed.json"
    code, err = _run(str(M23), "--checkpoint", str(folder), "--resume", "--json", str(resumed))
    assert code == 1, err
    assert _report(resumed) == _report(full)
    assert len(list(folder.glob("subtree-*.json"))) == 13  # every subtree now saved


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
