"""Issue 11: the layering of verify/ is a contract that `lint-imports` (import-linter) enforces.

The contract lives in pyproject.toml. Besides checking that this checkout keeps it, the tests
break a copy of the package on purpose (an upward import, a cycle inside a sub-package, a flat
module outside the layers) and require the tool to fail, so a contract that checks nothing
cannot pass here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the package under `root` (its own pyproject.toml), no cache written."""
    pytest.importorskip("importlinter")
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_this_checkout_keeps_the_contracts() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "verify", tmp_path / "verify", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_an_upward_import_breaks_the_layers(copy: Path) -> None:
    _append(copy / "verify" / "core" / "linear.py", "from verify.render.text import summary_lines  # upward")
    run = lint_imports(copy)
    assert run.returncode != 0
    assert "verify/ imports run downward only BROKEN" in run.stdout
    assert "verify.core.linear -> verify.render.text" in run.stdout


def test_an_import_between_independent_siblings_breaks_the_layers(copy: Path) -> None:
    _append(copy / "verify" / "geometry" / "measure.py", "import verify.smt.smtlib  # sideways")
    run = lint_imports(copy)
    assert run.returncode != 0 and "verify/ imports run downward only BROKEN" in run.stdout


def test_a_cycle_inside_a_sub_package_breaks_the_acyclic_contract(copy: Path) -> None:
    # regions is imported by pipeline; importing pipeline back closes a cycle within verify.check
    _append(copy / "verify" / "check" / "regions.py", "import verify.check.pipeline  # cycle")
    run = lint_imports(copy)
    assert run.returncode != 0
    assert "no import cycles inside a sub-package BROKEN" in run.stdout
    assert "verify/ imports run downward only KEPT" in run.stdout


def test_a_flat_module_outside_the_layers_breaks_the_contract(copy: Path) -> None:
    (copy / "verify" / "stray.py").write_text('"""A module in no layer."""\n')
    run = lint_imports(copy)
    assert run.returncode != 0 and "verify/ imports run downward only BROKEN" in run.stdout
