"""Command-line interface: `verify check | sample | encode | ...`.

Exit codes: 0 proved (or command succeeded), 1 refuted, 2 bad input or usage, 3 unknown.
`main()` is a plain function so tests call it directly; bad input is one line on stderr.
"""

from __future__ import annotations

import argparse
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


class UsageError(InputError):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


@dataclass
class Io:
    stdout: TextIO
    stderr: TextIO

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)


Command = Callable[[argparse.Namespace, Io], int]


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


def build_parser() -> argparse.ArgumentParser:
    from verify import __version__
    from verify.cli_commands import register_all

    parser = _Parser(prog="verify", description="Exact SMT-backed verification of tiny bias-free ReLU RNNs.")
    parser.add_argument("--version", action="version", version=f"verify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    io = Io(stdout or sys.stdout, stderr or sys.stderr)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(list(argv) if argv is not None else None)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if not getattr(args, "handler", None):
            raise UsageError("verify: a command is required: " + ", ".join(sorted(parser._subparsers._group_actions[0].choices)))  # type: ignore[union-attr]
        return int(args.handler(args, io))
    except InputError as exc:
        io.err(f"verify: error: {' '.join(str(exc).split())}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        io.err("verify: interrupted")
        return 130


def console_main() -> None:
    sys.exit(main())


def now() -> float:
    return time.perf_counter()
