"""`verify replay DIR --solver cvc5|z3`: re-decide bundled SMT-LIB encodings with another solver.

Exit codes: 0 every recorded answer reproduced; 1 any disagreement, missing or extra file or
answer, `unknown` or solver error; 2 bad input (no index.json, solver package missing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.cli import EXIT_REFUTED, Io
from verify.errors import InputError
from verify.replay import SOLVERS, encoding_folders, replay_folder

def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("replay", help="re-decide every query of SMT-LIB encodings with an independent solver")
    p.add_argument("folders", nargs="*", default=["encodings"], metavar="DIR",
                   help="an encodings folder (with index.json) or a folder of them (default encodings/)")
    p.add_argument("--solver", choices=SOLVERS, default="cvc5", help="solver to replay with (default cvc5)")
    p.add_argument("--timeout-ms", type=int, default=10_000, metavar="MS", help="limit per query (default 10000)")
    p.set_defaults(handler=run_replay)

def run_replay(args: argparse.Namespace, io: Io) -> int:
    if args.timeout_ms <= 0:
        raise InputError(f"--timeout-ms must be positive, got {args.timeout_ms}")
    folders = [f for name in args.folders for f in encoding_folders(Path(name))]
    failed = 0
    for folder in folders:
        result = replay_folder(folder, args.solver, timeout_ms=args.timeout_ms)
        head = f"{folder}: {result.files} files, {result.queries} queries, {result.solver} {result.solver_version}"
        if result.ok:
            io.out(f"{head}: every recorded answer reproduced")
            continue
        failed += 1
        io.out(f"{head}: {len(result.problems)} PROBLEM(S)")
        for problem in result.problems:
            io.out(f"  {problem}")
    if failed:
        io.err(f"verify replay: FAILED: {failed} of {len(folders)} folder(s) did not replay to their recorded answers")
        return EXIT_REFUTED
    return 0
