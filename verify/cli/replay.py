"""`verify replay DIR --solver cvc5|z3`: re-decide bundled SMT-LIB encodings with another solver.

Exit codes: 0 every recorded answer reproduced; 1 any file refused by the command whitelist,
disagreement, missing or extra file or answer, `unknown` or solver error; 2 bad input (no
index.json, solver package missing). A refused file is a failed replay (1), like any other
tampered or broken file, and the rest of the folder is still replayed and reported.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.cli.common import ExitCode, Io
from verify.core.errors import InputError
from verify.smt import SOLVERS
MAX_TIMEOUT_MS = 86_400_000  # one day; solvers take the limit as a 32-bit count of milliseconds
REPLAY_EXIT_CODES = """exit codes:
  0    every recorded answer reproduced
  1    a file refused (a command outside the whitelist, or not SMT-LIB), a disagreement,
       a missing or extra file or answer, `unknown` or a solver error: one line per problem
  2    bad input or usage (no index.json, solver package missing): one line on stderr"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("replay", help="re-decide every query of SMT-LIB encodings with an independent solver",
                       description="Read every .smt2 file of an encodings folder, refuse any file with a command "
                                   "other than set-logic, set-info, declare-fun, declare-const, define-fun, "
                                   "assert, push, pop, check-sat and exit (before any solver sees it), decide "
                                   "each (check-sat) with cvc5 or Z3, and compare with the recorded answers.",
                       epilog=REPLAY_EXIT_CODES)
    p.add_argument("folders", nargs="*", default=["encodings"], metavar="DIR",
                   help="an encodings folder (with index.json) or a folder of them (default encodings/)")
    p.add_argument("--solver", choices=SOLVERS, default="cvc5", help="solver to replay with (default cvc5)")
    p.add_argument("--timeout-ms", type=int, default=10_000, metavar="MS", help="limit per query (default 10000)")
    p.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace, io: Io) -> int:
    from verify.smt.replay import encoding_folders, replay_folder

    if not 0 < args.timeout_ms <= MAX_TIMEOUT_MS:
        raise InputError(f"--timeout-ms must be between 1 and {MAX_TIMEOUT_MS}, got {args.timeout_ms}")
    folders = [f for name in args.folders for f in encoding_folders(Path(name))]
    failed = 0
    for folder in folders:
        result = replay_folder(folder, args.solver, timeout_ms=args.timeout_ms)
        head = f"{folder}: {result.files} files, {result.queries} queries, {result.solver} {result.solver_version}"
        if result.ok:
            if getattr(io, "verbosity", 0) >= 0:
                io.out(f"{head}: every recorded answer reproduced")
            continue
        failed += 1
        io.out(f"{head}: {len(result.problems)} PROBLEM(S)")
        for problem in result.problems:
            io.out(f"  {problem}")
    if failed:
        io.err(f"verify replay: FAILED: {failed} of {len(folders)} folder(s) did not replay to their recorded answers")
        return ExitCode.REFUTED
    return 0
