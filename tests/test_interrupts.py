"""Issue 9 #4 (CLI side): SIGINT / SIGTERM stop the whole run, say "interrupted", keep the partial
reports and exit 130 / 143, for `verify check` (one or several models) and `verify ci`.

Each test runs the real `verify` in a subprocess on a random d = 10, n = 3 network whose check
takes far longer than the test (its time budget is 600 s), waits until the progress bar shows
that the search is running, sends the signal once, and checks what came out. Nothing depends on
how fast the machine is: the signal is sent only after the run visibly started, and the run
could not have finished on its own for minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from junitparser import JUnitXml

ROOT = Path(__file__).resolve().parent.parent
STARTUP_LIMIT = 120.0  # seconds to wait for the progress bar (imports on a loaded machine)
EXIT_LIMIT = 15.0  # seconds from the signal to the exit: "within a few seconds", with room for a busy machine


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random d = 10, n = 3 state dict: hundreds of regions, many seconds to check."""
    g = torch.Generator().manual_seed(0)
    d, n = 10, 3
    state = {"rnn.weight_ih_l0": torch.randn(d, 1, generator=g),
             "rnn.weight_hh_l0": torch.randn(d, d, generator=g) / d ** 0.5,
             "linear.weight": torch.randn(n, d, generator=g)}
    path = tmp_path_factory.mktemp("slow") / "slow_10_3.pth"
    torch.save(state, path)
    return path


def interrupt(argv: list[str], signum: int, cwd: Path) -> tuple[int, str, str, float]:
    """Run `verify ARGV`, send `signum` once the progress bar moves; (exit code, stdout, stderr, seconds to exit)."""
    proc = subprocess.Popen([sys.executable, "-m", "verify", *argv], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None and proc.stdout is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen = b""
    start = time.monotonic()
    while b"solver checks" not in seen:  # the progress bar has shown at least one region
        assert proc.poll() is None, (proc.returncode, seen.decode(errors="replace"))
        assert time.monotonic() - start < STARTUP_LIMIT, "the check never showed progress"
        time.sleep(0.1)
        seen += proc.stderr.read() or b""
    sent = time.monotonic()
    proc.send_signal(signum)
    os.set_blocking(proc.stderr.fileno(), True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out.decode(), (seen + err).decode(errors="replace"), time.monotonic() - sent


def test_sigint_stops_a_multi_model_check_and_keeps_the_partial_reports(slow_model: Path, tmp_path: Path) -> None:
    report, junit = tmp_path / "out.json", tmp_path / "junit.xml"
    code, out, err, seconds = interrupt(
        ["check", str(slow_model), str(slow_model), "--time-budget", "600", "--progress",
         "--json", str(report), "--junit", str(junit)], signal.SIGINT, tmp_path)
    assert code == 130, (code, err)
    assert "Traceback" not in err and seconds < EXIT_LIMIT, (seconds, err)
    assert "interrupted (SIGINT)" in err and "1 model(s) not checked" in err
    assert "INTERRUPTED" in out
    assert "of 10:00]" in err  # the progress bar shows elapsed time against the 600 s budget
    reports = json.loads(report.read_text())
    assert isinstance(reports, list) and len(reports) == 1  # the second model never started
    assert reports[0]["interrupted"] is True and reports[0]["complete"] is False
    assert reports[0]["verdict"] in ("unknown", "refuted")  # never "proved"
    assert reports[0]["undecided"]
    suite = [case for s in JUnitXml.fromfile(str(junit)) for case in s]
    assert len(suite) == 2
    assert "interrupted" in junit.read_text() and "<skipped" in junit.read_text()


def test_sigterm_exits_143_with_an_interrupted_report(slow_model: Path, tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    code, out, err, seconds = interrupt(
        ["check", str(slow_model), "--time-budget", "600", "--progress", "--json", str(report)],
        signal.SIGTERM, tmp_path)
    assert code == 143, (code, err)
    assert "Traceback" not in err and seconds < EXIT_LIMIT
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["verdict"] != "proved"
    assert "interrupted (SIGTERM)" in data["stop_reason"]


def test_sigint_stops_verify_ci_and_writes_its_reports(slow_model: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "verify.toml"
    manifest.write_text(f'[defaults]\ntime_budget = 600\n\n[[model]]\npath = "{slow_model}"\nverdict = "refuted"\n\n'
                        f'[[model]]\npath = "{ROOT / "models" / "handcrafted_2_2.pth"}"\nverdict = "proved"\n')
    report, junit = tmp_path / "ci.json", tmp_path / "ci.xml"
    code, out, err, seconds = interrupt(
        ["ci", str(manifest), "--progress", "--json", str(report), "--junit", str(junit)], signal.SIGINT, tmp_path)
    assert code == 130, (code, out, err)
    assert "Traceback" not in err and seconds < EXIT_LIMIT
    assert "INTERRUPTED" in out and "1 not checked" in out
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["passed"] is False and len(data["entries"]) == 1
    assert data["entries"][0]["interrupted"] is True
    text = junit.read_text()
    assert 'type="interrupted"' in text and "<skipped" in text


def _children(pid: int) -> set[int]:
    """The live child processes of `pid`, read from /proc (Linux)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields: state, ppid, ...
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
def test_sigint_with_jobs_keeps_finished_subtrees_and_leaves_no_worker(tmp_path: Path) -> None:
    """Issue 9 #4: with --jobs 2, SIGINT exits 130 within seconds, keeps every region already
    reported by the progress bar, and no worker process outlives the parent."""
    g = torch.Generator().manual_seed(1)
    d, n = 16, 3  # a random d = 16, n = 3 net: hundreds of regions, a minute or more of solver time
    model = tmp_path / "slow_16_3.pth"
    torch.save({"rnn.weight_ih_l0": torch.randn(d, 1, generator=g),
                "rnn.weight_hh_l0": torch.randn(d, d, generator=g) / d ** 0.5,
                "linear.weight": torch.randn(n, d, generator=g)}, model)
    report = tmp_path / "out.json"
    proc = subprocess.Popen([sys.executable, "-m", "verify", "check", str(model), "--jobs", "2", "--progress",
                             "--time-budget", "600", "--json", str(report)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen, shown, start = b"", 0, time.monotonic()
    while shown == 0:  # wait until at least one subtree has finished and its regions are shown
        assert proc.poll() is None, (proc.returncode, seen.decode(errors="replace"))
        assert time.monotonic() - start < STARTUP_LIMIT, "no subtree finished in time"
        time.sleep(0.1)
        seen += proc.stderr.read() or b""
        counts = [int(part.split()[-1]) for part in seen.decode(errors="replace").replace("\r", "\n").split(" regions")[:-1]
                  if part.split() and part.split()[-1].isdigit()]
        shown = max(counts, default=0)
    workers = _children(proc.pid)
    assert workers, "--jobs 2 started no worker process"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    os.set_blocking(proc.stderr.fileno(), True)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    seconds = time.monotonic() - sent
    assert proc.returncode == 130, (proc.returncode, err.decode(errors="replace"))
    assert seconds < EXIT_LIMIT and b"Traceback" not in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["verdict"] != "proved" and data["error_rate"] is None
    assert len(data["regions"]) >= shown  # finished subtrees are kept, not thrown away
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "a worker outlived the interrupted parent"
