"""Checks inside other people's CI: the regression manifest (`verify.toml`) and the pytest plugin.

`pytest_plugin` is loaded by pytest's entry point and imports pytest; it is not imported here.
May import: `verify.render`, `verify.check` and everything below them.
"""

from verify.ci.manifest import Entry, Finding, Manifest, Outcome, judge, load_manifest

__all__ = ["Entry", "Finding", "Manifest", "Outcome", "judge", "load_manifest"]
