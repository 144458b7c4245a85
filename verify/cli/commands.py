"""The subcommands. Each module registers its own; add new commands to `COMMAND_MODULES`.

Plain imports (no import strings): the command modules import only `verify.cli.common`, never
`verify.cli.main`, so the CLI has no import cycle. Importing a command module costs little: it
needs only what its parser shows; what its handler needs (training, manifests, SMT-LIB replay,
ONNX, reports) is imported in the handler, so `verify check` never loads the other commands'
dependencies (tests/test_startup_imports.py).
"""

from __future__ import annotations

import argparse
from types import ModuleType

from verify.cli import check, ci, encode, export, replay, sample, train, vnncomp

COMMAND_MODULES: tuple[ModuleType, ...] = (check, sample, encode, replay, export, train, ci, vnncomp)


def register_all(sub: "argparse._SubParsersAction[argparse.ArgumentParser]",
                 common: argparse.ArgumentParser | None = None) -> None:
    """Register every command; `common` (--version, -q, -v) becomes a parent of each one's parser.

    A command module's `register(sub)` calls `sub.add_parser(...)`; the parent is added here by
    wrapping `add_parser`, so modules owned elsewhere (encode, replay) need no change.
    """
    if common is not None:
        original = sub.add_parser

        def add_parser(name: str, **kwargs):  # type: ignore[no-untyped-def]
            kwargs["parents"] = [*kwargs.get("parents", []), common]
            return original(name, **kwargs)

        sub.add_parser = add_parser  # type: ignore[method-assign]
    for module in COMMAND_MODULES:
        module.register(sub)
