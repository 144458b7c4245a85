"""What every command shares: the I/O pair, exit codes, the argparse parser class and option types.

Imported by the command modules and by `verify.cli.main`; it imports nothing of the CLI itself,
so the commands never import the entry point (no cycle).
"""


from __future__ import annotations

import argparse
import math
import signal
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Callable, Sequence, TextIO

from verify.core.errors import InputError


class ExitCode(IntEnum):
    """Every exit status of every command (see EXIT_CODES_HELP and each command's epilog)."""

    PROVED = 0  # or: the command succeeded, every manifest entry passed
    REFUTED = 1  # or: a regression, a disagreement
    BAD_INPUT = 2
    UNKNOWN = 3
    SIGINT = 128 + signal.SIGINT  # 130
    SIGTERM = 128 + signal.SIGTERM  # 143
    BROKEN_PIPE = 128 + 13  # 141, as a Unix tool killed by SIGPIPE

EXIT_CODES_HELP = """exit codes:
  0    success (for a check: proved)
  1    a finding: refuted, a regression, a disagreement (see the command's description)
  2    bad input or usage: one line on stderr, never a traceback
  3    unknown (a budget ran out or the solver could not decide; never "proved")
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM
  141  stdout was closed early (e.g. piped into head); nothing more is printed"""

CHECK_EXIT_CODES = """exit codes:
  0    proved (every model)
  1    refuted (a counterexample exists); with several models the worst verdict wins:
       refuted over unknown over proved
  2    bad input or usage, or an output that cannot be written: one line on stderr, never a traceback
  3    unknown (a budget ran out or the solver could not decide; never "proved")
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM; no further model is checked and the
       partial reports are written, marked interrupted
  141  stdout was closed early (e.g. piped into head); nothing more is printed"""

MAX_SECONDS = 1e6  # ~11.6 days; larger finite values overflow timers (use --no-time-budget for none)


class UsageError(InputError):
    """Bad command-line usage."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


@dataclass
class Io:
    """Where a command writes; `verbosity` is -1 (-q), 0 or 1 (-v)."""

    stdout: TextIO
    stderr: TextIO
    verbosity: int = 0

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)


Command = Callable[[argparse.Namespace, Io], int]


def common_options(*, verbosity: bool = True) -> argparse.ArgumentParser:
    """Options every command takes: --version, -q, -v (a parent parser; -q/-v on commands only)."""
    from verify import __version__

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--version", action="version", version=f"verify {__version__}")
    if not verbosity:
        return parent
    loud = parent.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                      help="print less: one line per model (errors still go to stderr)")
    loud.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1,
                      help="print more: every counterexample shown and every note")
    return parent


def positive_seconds(option: str, value: float | None) -> float | None:
    """A finite, positive number of seconds not above MAX_SECONDS (bad input otherwise)."""
    if value is None:
        return None
    if not math.isfinite(value) or not value > 0:
        raise InputError(f"{option} must be positive and finite (seconds), got {value:g}")
    if value > MAX_SECONDS:
        raise InputError(f"{option} must be at most {MAX_SECONDS:g} seconds, got {value:g}")
    return value


def count_arg(text: str) -> int:
    """An argparse type for counts written as integers or integer-valued floats (`1e5`)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count: {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} (a whole number, e.g. 100000 or 1e5)")
    return int(value)


def repo_models_dir() -> Path:
    """`models/` in the working directory, else beside the package (editable install)."""
    here = Path.cwd() / "models"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "models"


def bundled_models() -> list[Path]:
    folder = repo_models_dir()
    models = sorted(folder.glob("*.pth"))
    if not models:
        raise InputError(f"no MODEL given and no bundled models found in {folder}")
    return models


def exit_code_for(verdict_word: str) -> ExitCode:
    return {"proved": ExitCode.PROVED, "refuted": ExitCode.REFUTED, "unknown": ExitCode.UNKNOWN}[verdict_word]


def worst_exit_code(codes: Sequence[int]) -> ExitCode:
    """Several verdicts: refuted over unknown over proved."""
    if ExitCode.REFUTED in codes:
        return ExitCode.REFUTED
    if ExitCode.UNKNOWN in codes:
        return ExitCode.UNKNOWN
    return ExitCode.PROVED


def one_line(exc: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(exc).split())
