"""Errors that the CLI turns into one line and exit code 2 (bad input or usage)."""


class InputError(Exception):
    """A model file or an option the harness cannot accept; the message is one line for users."""
