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


def register_all(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
