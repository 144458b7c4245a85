"""The subcommands. Each module registers its own; add new commands to `COMMAND_MODULES`."""

from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES = (
    "verify.cli_check",
    "verify.cli_sample",
    "verify.cli_encode",
    "verify.cli_replay",
    "verify.cli_export",
    "verify.cli_train",
    "verify.cli_ci",
)


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
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
