"""The README's commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path


def readme_commands() -> list[str]:
    blocks = re.findall(r"```\n(.*?)\n```", Path("README.md").read_text(), flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_starts_with_two_commands() -> None:
    setup_and_check, setup_and_test = readme_commands()
    assert "verify check" in setup_and_check and "pip install" in setup_and_check
    assert "pytest" in setup_and_test and "pip install" in setup_and_test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, setup_and_test = readme_commands()
    assert setup_and_test in Path(".ci/run").read_text().splitlines()
