"""The `verify` command: one module per command, shared parts in `common`, the entry point in `main`.

`main(argv, stdout, stderr)` is a plain function for tests; `console_main()` is the script.
The command modules import `common`, never `main`. May import: everything.
"""

from verify.cli.main import console_main, main

__all__ = ["console_main", "main"]
