"""`verify encode`: (re)generate the SMT-LIB 2 encodings of every region query."""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.analysis import CheckOptions, check_model
from verify.cli import Io, bundled_models
from verify.loading import load_weights
from verify.smtlib_export import write_encodings


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("encode", help="write SMT-LIB 2 encodings of every region query")
    p.add_argument("models", nargs="*", metavar="MODEL", help="default: the bundled models/")
    p.add_argument("--out", default="encodings", metavar="DIR", help="output folder (default encodings/)")
    p.set_defaults(handler=run_encode)


def run_encode(args: argparse.Namespace, io: Io) -> int:
    paths = [Path(p) for p in args.models] or bundled_models()
    for path in paths:
        result = check_model(load_weights(path), CheckOptions(collect_queries=True))
        folder = Path(args.out) / path.stem
        index = write_encodings(result, folder)
        io.out(f"{path}: {len(index['regions'])} region files in {folder}")
    return 0
