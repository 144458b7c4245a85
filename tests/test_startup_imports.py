"""Issue 12: `verify check M_{2,2} -q` imports only what the check needs, and exits without teardown.

The whole process should cost little more than `import torch` (bench/bench_speed.py measures
it; no test asserts a time). Here a fresh interpreter runs the `verify` command and reports which
modules it imported: the other commands' dependencies (training, manifests, SMT-LIB replay, ONNX,
Dask, reports and pictures) stay out unless their option or command is used, and the check's
output and exit code are those of the refuted M_{2,2}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
M22 = "models/algzoo/2nd_argmax_2_2.pth"  # relative: the summary names the model as given

# Runs `python -m verify ARGS...` in this interpreter and writes sorted(sys.modules) to the file
# named by the first argument at exit (an atexit handler: the command may skip the teardown, never those).
RECORDER = """
import atexit, json, runpy, sys
record, sys.argv = sys.argv[1], ["verify", *sys.argv[2:]]

def write_modules():
    with open(record, "w") as handle:
        json.dump(sorted(sys.modules), handle)

atexit.register(write_modules)
runpy.run_module("verify", run_name="__main__", alter_sys=True)
"""

# Runs `python -m verify ARGS...` (after `plain` or `profiled`, a cProfile profiler watching) with an
# object that writes the file named by the first argument when the interpreter's teardown frees it.
TEARDOWN_PROBE = """
import runpy, sys

class Probe:
    def __init__(self, path):
        self.path, self.open = path, open

    def __del__(self):
        with self.open(self.path, "w") as handle:
            handle.write("torn down")

probe = Probe(sys.argv[1])
if sys.argv[2] == "profiled":
    import cProfile
    cProfile.Profile().enable()
sys.argv = ["verify", *sys.argv[3:]]
runpy.run_module("verify", run_name="__main__", alter_sys=True)
"""

# Imported by the other commands or options only; none of them is needed to check a state dict.
ABSENT = (
    "matplotlib", "onnx", "onnxruntime", "dask", "distributed", "cvc5", "maraboupy", "tomllib",
    "concurrent.futures.process",  # the process pool of --jobs N
    "verify.ci", "verify.ci.manifest",
    "verify.corpus", "verify.corpus.training", "verify.corpus.planted",
    "verify.check.parallel", "verify.check.distributed", "verify.check.checkpoint",
    "verify.formats.onnx_in", "verify.formats.onnx_out", "verify.formats.vnnlib", "verify.formats.vnnlib_read",
    "verify.formats.vnncomp_result",
    "verify.render.html", "verify.render.markdown", "verify.render.junit", "verify.render.encodings",
    "verify.render.picture_plane", "verify.render.picture_sphere", "verify.render.picture_regression",
    "verify.smt.replay", "verify.smt.reader",
)


def run_recorded(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `verify ARGV` in a fresh interpreter from the repository root; its result and its modules."""
    record = tmp_path / "modules.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", RECORDER, str(record), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return done, set(json.loads(record.read_text()))


def test_a_plain_check_imports_none_of_the_other_commands_dependencies(tmp_path: Path) -> None:
    done, modules = run_recorded(tmp_path, "check", M22, "-q")
    assert done.returncode == 1, done.stderr  # refuted
    assert done.stdout == f"{M22}: REFUTED (2nd-argmax)\n" and done.stderr == ""
    # the recorder saw the real command: the CLI, the exact check, Z3 and torch were all loaded
    assert {"verify.cli.main", "verify.cli.check", "verify.check.pipeline", "z3", "torch"} <= modules
    loaded = sorted(name for name in ABSENT if name in modules)
    assert loaded == [], f"imported by `verify check` without being needed: {loaded}"
    # no submodule of an absent package either (e.g. matplotlib.pyplot, onnx.helper)
    packages = ("matplotlib", "onnx", "onnxruntime", "dask", "distributed", "verify.ci", "verify.corpus")
    assert sorted(m for m in modules if any(m.startswith(p + ".") for p in packages)) == []


def test_the_lazy_modules_still_load_when_their_option_asks(tmp_path: Path) -> None:
    """Control: the recorder does see lazily imported modules; --report and --junit pull in the
    HTML / Markdown renderers, the JUnit writer and matplotlib for the n = 2 partition picture."""
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    done, modules = run_recorded(tmp_path, "check", M22, "-q", "--report", str(report), "--junit", str(junit))
    assert done.returncode == 1, done.stderr
    assert {"verify.render.html", "verify.render.markdown", "verify.render.junit", "matplotlib"} <= modules
    assert (report / "report.html").is_file() and (report / "report.md").is_file() and junit.is_file()


def test_every_command_still_registers_without_importing_its_dependencies() -> None:
    """`verify --help` lists every command (their modules register cheaply); replay's solver choices
    are the replay module's own."""
    from verify.cli.main import build_parser
    from verify.cli.replay import SOLVERS as CLI_SOLVERS
    from verify.smt.replay import SOLVERS

    assert CLI_SOLVERS == SOLVERS
    names = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert names == {"check", "sample", "encode", "replay", "export", "train", "ci", "vnncomp-check"}


def test_the_command_skips_the_interpreters_teardown_unless_a_profiler_watches(tmp_path: Path) -> None:
    """console_main ends with os._exit after flushing and the atexit handlers (freeing torch's
    modules costs ~0.4 s); with a profiler set it exits normally, so the profiler can report."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for mode in ("plain", "profiled"):
        probe = tmp_path / mode
        done = subprocess.run([sys.executable, "-c", TEARDOWN_PROBE, str(probe), mode, "check", M22, "-q"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert (done.returncode, done.stdout, done.stderr) == (1, f"{M22}: REFUTED (2nd-argmax)\n", "")
        assert probe.exists() == (mode == "profiled"), mode


def test_a_live_thread_keeps_the_normal_exit() -> None:
    """A normal exit joins the other threads (a Dask cluster, a process pool's manager): while one
    runs, the command must not leave with os._exit."""
    from verify.cli.main import _must_tear_down

    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert _must_tear_down()
    finally:
        release.set()
        worker.join()
