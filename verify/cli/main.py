"""Command-line interface: `verify check | sample | encode | ...`.

Exit codes: 0 proved (or command succeeded), 1 refuted (or a regression), 2 bad input or usage
(one line on stderr, never a traceback), 3 unknown, 130 interrupted by SIGINT, 143 by SIGTERM.
`main()` is a plain function so tests call it directly. `console_main()` (the `verify` script)
also ends quietly when stdout is a closed pipe (`verify check | head`): like Unix tools killed by
SIGPIPE, it exits 141 (128 + SIGPIPE) with nothing on stderr, and it skips the interpreter's
teardown when nothing needs it (`_exit`: freeing torch's modules one by one takes ~0.4 s).
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from typing import NoReturn, Sequence, TextIO

from verify.cli.commands import register_all
from verify.cli.common import ExitCode, Io, UsageError, Parser, common_options, one_line
from verify.core.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="verify", description="Exact SMT-backed verification of tiny bias-free ReLU RNNs.",
                     parents=[common_options(verbosity=False)])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    register_all(sub, common_options())
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
            commands = ", ".join(sorted(parser._subparsers._group_actions[0].choices))  # type: ignore[union-attr]
            raise UsageError(f"verify: a command is required: {commands} (see --help)")
        io.verbosity = int(getattr(args, "verbosity", 0) or 0)
        return int(args.handler(args, io))
    except InputError as exc:
        io.err(_prefixed(one_line(exc)))
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        io.err("verify: interrupted")
        return ExitCode.SIGINT


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
        code = ExitCode.BROKEN_PIPE
    except OSError as exc:  # stdout cannot take the output (a full disk): one line, exit 2
        code = _write_failed(exc)
    if code == ExitCode.BROKEN_PIPE or _stdout_broken():
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = ExitCode.BROKEN_PIPE if code in (ExitCode.PROVED, ExitCode.REFUTED, ExitCode.UNKNOWN) else code
    _exit(int(code))


def _exit(code: int) -> NoReturn:
    """End the process with `code`; without the interpreter's teardown when nothing needs it.

    Python frees every module at exit; with torch loaded that alone took about 0.4 s here, a fifth
    of a whole `verify check` of M_{2,2}. By now every file the command wrote is closed, so: run
    the atexit handlers (as a normal exit does), flush stdout and stderr, and leave with os._exit.
    The normal exit is kept whenever something may still need it (`_must_tear_down`)."""
    if _must_tear_down():
        sys.exit(code)
    atexit._run_exitfuncs()  # what a normal exit runs first: torch's, logging's, multiprocessing's handlers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # a closed pipe was already answered with 141
            pass
        except (OSError, ValueError) as exc:  # output lost: never a silent success
            if stream is sys.stdout and code != ExitCode.BROKEN_PIPE:
                code = _write_failed(exc)
    os._exit(code)


def _write_failed(exc: Exception) -> int:
    """Standard output could not be written: one line on stderr, exit 2; stdout is pointed at
    /dev/null so that no later flush complains again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    try:
        sys.stderr.write(f"verify: error: cannot write the output: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return int(ExitCode.BAD_INPUT)


def _must_tear_down() -> bool:
    """A normal exit is needed: another thread still runs (a normal exit joins it: a Dask cluster, a
    process pool's manager), a child process of multiprocessing lives, or a tracer or profiler
    watches the run (coverage, `python -m cProfile`: they report after the command returns)."""
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return True
    if threading.active_count() > 1:
        return True
    multiprocessing = sys.modules.get("multiprocessing")  # never started a child unless imported
    return multiprocessing is not None and bool(multiprocessing.active_children())


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False
