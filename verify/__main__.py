"""`python -m verify` is the `verify` console script."""

from verify.cli.main import console_main

console_main()
