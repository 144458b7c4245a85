"""Command-line interface: `verify check | sample | encode | ...`.

Exit codes: 0 proved (or command succeeded), 1 refuted (or a regression), 2 bad input or usage
(one line on stderr, never a traceback), 3 unknown, 130 interrupted by SIGINT, 143 by SIGTERM.
`main()` is a plain function so tests call it directly. `console_main()` (the `verify` script)
also ends quietly when stdout is a closed pipe (`verify check | head`): like Unix tools killed by
SIGPIPE, it exits 141 (128 + SIGPIPE) with nothing on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TextIO

from verify.errors import InputError

EXIT_PROVED = 0
EXIT_REFUTED = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143
EXIT_BROKEN_PIPE = 128 + 13  # 141, as a Unix tool killed by SIGPIPE

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


class _Parser(argparse.ArgumentParser):
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
    return Path(__file__).resolve().parent.parent / "models"


def bundled_models() -> list[Path]:
    folder = repo_models_dir()
    models = sorted(folder.glob("*.pth"))
    if not models:
        raise InputError(f"no MODEL given and no bundled models found in {folder}")
    return models


def exit_code_for(verdict_word: str) -> int:
    return {"proved": EXIT_PROVED, "refuted": EXIT_REFUTED, "unknown": EXIT_UNKNOWN}[verdict_word]


def worst_exit_code(codes: Sequence[int]) -> int:
    """Several verdicts: refuted over unknown over proved."""
    if EXIT_REFUTED in codes:
        return EXIT_REFUTED
    if EXIT_UNKNOWN in codes:
        return EXIT_UNKNOWN
    return EXIT_PROVED


def build_parser() -> argparse.ArgumentParser:
    from verify.cli_commands import register_all

    parser = _Parser(prog="verify", description="Exact SMT-backed verification of tiny bias-free ReLU RNNs.",
                     parents=[common_options(verbosity=False)])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    register_all(sub, common_options())
    return parser


def one_line(exc: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    io = Io(stdout or sys.stdout, stderr or sys.stderr)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(list(argv) if argv is not None else None)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if not getattr(args, "handler", None):
            commands = ", ".join(sorted(parser._subparsers._group_actions[0].choices))  # type: ignore[union-attr]
            raise UsageError(f"verify: a command is required: {commands} (see --help)")
        io.verbosity = int(getattr(args, "verbosity", 0) or 0)
        return int(args.handler(args, io))
    except InputError as exc:
        io.err(_prefixed(one_line(exc)))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        io.err("verify: interrupted")
        return EXIT_SIGINT


def _prefixed(message: str) -> str:
    """'verify: error: ...', or 'verify check: error: ...' when the message names its command."""
    if message.startswith("verify"):
        head, sep, rest = message.partition(": ")
        words = head.split(" ")
        if sep and words[0] == "verify" and len(words) <= 2:
            return f"{head}: error: {rest}"
    return f"verify: error: {message}"


def console_main() -> None:
    """The `verify` script: main(), and a quiet exit 141 when stdout is a closed pipe."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = EXIT_BROKEN_PIPE
    if code == EXIT_BROKEN_PIPE or _stdout_broken():
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE if code in (EXIT_PROVED, EXIT_REFUTED, EXIT_UNKNOWN) else code
    sys.exit(code)


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


def now() -> float:
    return time.perf_counter()
