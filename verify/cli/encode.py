"""`verify encode`: (re)generate the SMT-LIB 2 encodings of every region query.

What is written names each model by its path relative to the repository root (the folder
that holds the bundled `models/`), or by its file name when it lies elsewhere, never by an
absolute path: regenerating `encodings/` in any checkout, on any machine, gives the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.cli.common import Io, bundled_models, repo_models_dir
from verify.core.errors import InputError

ENCODE_EXIT_CODES = """exit codes:
  0    every model's encodings were written
  2    bad input or usage (unreadable model, two models with one folder name, a folder
       that cannot be written): one line on stderr, never a traceback"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("encode", help="write SMT-LIB 2 encodings of every region query",
                       description="Write one SMT-LIB 2 file per region (its interior query and every claim "
                                   "query, with the expected answers) and an index.json, per model, into "
                                   "DIR/<model file stem>/. Replay them with `verify replay`.",
                       epilog=ENCODE_EXIT_CODES)
    p.add_argument("models", nargs="*", metavar="MODEL", help="default: the bundled models/")
    p.add_argument("--out", default="encodings", metavar="DIR", help="output folder (default encodings/)")
    p.set_defaults(handler=run_encode)


def model_label(path: Path, root: Path) -> str:
    """`path` relative to `root` (POSIX separators) if it lies inside it, else its file name."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def run_encode(args: argparse.Namespace, io: Io) -> int:
    from verify.check.pipeline import CheckOptions, check_model
    from verify.formats import load_weights
    from verify.render.encodings import write_encodings

    paths = [Path(p) for p in args.models] or bundled_models()
    out = Path(args.out)
    folders: dict[Path, Path] = {}
    for path in paths:
        folder = out / path.stem
        if folder in folders and folders[folder].resolve() != path.resolve():
            raise InputError(f"{folders[folder]} and {path} would both be encoded into {folder}; "
                             "encode them one at a time with different --out folders")
        folders[folder] = path
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    root = repo_models_dir().parent
    for folder, path in folders.items():
        label = model_label(path, root)
        result = check_model(load_weights(path), CheckOptions(collect_queries=True))
        try:
            index = write_encodings(result, folder, model_label=label)
        except OSError as exc:
            raise InputError(f"cannot write encodings into {folder}: {' '.join(str(exc).split())}") from None
        io.out(f"{label}: {len(index['regions'])} region files in {folder}")
    return 0
