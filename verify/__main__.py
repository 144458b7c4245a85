"""`python -m verify` is the `verify` console script."""

from verify.cli import console_main

console_main()
