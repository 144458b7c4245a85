"""The regression manifest (`verify.toml`): which models to check, for which claim, and what must hold.

Each `[[model]]` entry names a state dict and its acceptance criteria: the expected verdict, an
exact-zero error rate, and certified bounds on the error rate. A criterion on the error rate
passes only on the *certified* enclosure [lower, upper] of the exact measure: `max_error_rate`
needs upper <= max, `min_error_rate` needs lower >= min, `error_rate = 0` needs both ends 0. A
model whose error rate could not be certified (budget ran out, no measure for that n) fails any
error-rate criterion. Median (regression) entries are judged the same way on their exact mean
squared error, with `mse = 0`, `max_mse` and `min_mse` (and may not use the error-rate keys).
The format is documented in docs/manifest.md.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpmath import mpf

from verify.core.claim import CLAIM_NAMES, is_regression
from verify.core.errors import InputError
from verify.geometry.measure import Measure

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

VERDICTS = ("proved", "refuted", "unknown")
DEFAULT_KEYS = ("claim", "max_regions", "time_budget")
RATE_KEYS = ("error_rate", "max_error_rate", "min_error_rate")  # classification claims: the error rate
MSE_KEYS = ("mse", "max_mse", "min_mse")  # the median (regression) claim: the mean squared error
ENTRY_KEYS = DEFAULT_KEYS + ("path", "name", "verdict", *RATE_KEYS, *MSE_KEYS, "sha256", "note")
DEFAULT_MANIFEST = "verify.toml"


@dataclass(frozen=True)
class Expectation:
    """What must hold for one model; `None` = not checked."""

    verdict: str | None = None
    zero_error: bool = False
    max_error_rate: float | None = None
    min_error_rate: float | None = None
    sha256: str | None = None
    regression: bool = False  # the bounds are on the exact MSE (mse / max_mse / min_mse), not an error rate

    @property
    def keys(self) -> tuple[str, str, str]:
        """The manifest keys of the three bounds: (exactly zero, max, min)."""
        return ("mse", "max_mse", "min_mse") if self.regression else ("error_rate", "max_error_rate", "min_error_rate")

    @property
    def quantity(self) -> str:
        return "MSE" if self.regression else "error rate"

    def describe(self) -> str:
        parts = []
        short = "mse" if self.regression else "err"
        if self.zero_error:
            parts.append(f"{short} = 0")
        if self.min_error_rate is not None:
            parts.append(f"{short} >= {self.min_error_rate:g}")
        if self.max_error_rate is not None:
            parts.append(f"{short} <= {self.max_error_rate:g}")
        if self.sha256:
            parts.append(f"sha256 {self.sha256[:8]}")
        return ", ".join(parts) or "-"


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    claim: str
    expect: Expectation
    max_regions: int | None = None
    time_budget: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Manifest:
    path: Path
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Finding:
    """One criterion that failed, in words."""

    criterion: str
    detail: str


@dataclass(frozen=True)
class Outcome:
    """The result of checking one entry against its expectation."""

    entry: Entry
    verdict: str
    error: Measure | None
    regions: int
    seconds: float
    sha256: str
    failures: list[Finding] = field(default_factory=list)
    dims: str = "-"  # "d,n" once the model loaded
    interrupted: bool = False  # the run was stopped by a signal during this entry's check

    @property
    def passed(self) -> bool:
        return not self.failures


MAX_TIME_BUDGET = 1e6  # seconds (~11.6 days), as `verify check --time-budget`


def _number(value: Any, key: str, where: str, *, integer: bool = False) -> float:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value < 0:
        raise InputError(f"{where}: {key} must be a finite non-negative {'integer' if integer else 'number'}, "
                         f"got {value!r}")
    return value


def _rate(table: dict[str, Any], key: str, where: str) -> float | None:
    """An error-rate threshold (a probability, so a finite number in [0, 1]) or an MSE threshold (finite, >= 0)."""
    if key not in table:
        return None
    value = _number(table[key], key, where)
    if key not in MSE_KEYS and value > 1:
        raise InputError(f"{where}: {key} is a probability and must be in [0, 1], got {value!r}")
    return value


def _budget(table: dict[str, Any], key: str, where: str, *, integer: bool) -> Any:
    if key not in table:
        return None
    value = _number(table[key], key, where, integer=integer)
    if value == 0:
        raise InputError(f"{where}: {key} must be positive, got {value!r}")
    if key == "time_budget" and value > MAX_TIME_BUDGET:
        raise InputError(f"{where}: {key} must be at most {MAX_TIME_BUDGET:g} seconds, got {value!r}")
    return value


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(allowed)}")


def _entry(raw: Any, index: int, defaults: dict[str, Any], base: Path) -> Entry:
    where = f"[[model]] #{index + 1}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a table")
    _check_keys(raw, ENTRY_KEYS, where)
    table = {**defaults, **raw}
    if not isinstance(table.get("path"), str) or not table["path"]:
        raise InputError(f"{where}: 'path' (the model file, relative to the manifest) is required")
    where = f"[[model]] {table['path']}"
    claim = table.get("claim", "2nd-argmax")
    if claim not in CLAIM_NAMES:
        raise InputError(f"{where}: claim {claim!r} is not one of {', '.join(CLAIM_NAMES)}")
    verdict = table.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise InputError(f"{where}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    regression = is_regression(claim)
    zero_key, max_key, min_key = MSE_KEYS if regression else RATE_KEYS
    wrong = [k for k in (RATE_KEYS if regression else MSE_KEYS) if k in table]
    if wrong:
        if regression:
            raise InputError(f"{where}: the median claim is judged by its exact mean squared error: use "
                             f"{', '.join(MSE_KEYS)}, not {', '.join(wrong)}")
        raise InputError(f"{where}: {', '.join(wrong)} belong to the median claim; {claim} is judged by its error rate "
                         f"({', '.join(RATE_KEYS)})")
    zero = False
    if zero_key in table:
        if table[zero_key] not in (0, "0"):
            raise InputError(f"{where}: {zero_key} only accepts 0 (exactly zero); use {max_key} / {min_key} "
                             "for a non-zero value")
        zero = True
    high = _rate(table, max_key, where)
    low = _rate(table, min_key, where)
    if high is not None and low is not None and low > high:
        raise InputError(f"{where}: {min_key} {low} is above {max_key} {high}")
    sha = table.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise InputError(f"{where}: sha256 must be 64 lower-case hex digits")
    expect = Expectation(verdict=verdict, zero_error=zero, max_error_rate=high, min_error_rate=low, sha256=sha,
                         regression=regression)
    if expect == Expectation(regression=regression):
        raise InputError(f"{where}: no criterion: give verdict, {zero_key}, {max_key}, {min_key} or sha256")
    note = table.get("note", "")
    if not isinstance(note, str):
        raise InputError(f"{where}: note must be a string")
    name = table.get("name") or Path(table["path"]).stem
    return Entry(
        name=str(name),
        path=(base / table["path"]),
        claim=claim,
        expect=expect,
        max_regions=_budget(table, "max_regions", where, integer=True),
        time_budget=_budget(table, "time_budget", where, integer=False),
        note=note,
    )


def parse_manifest(text: str, path: Path) -> Manifest:
    """Validate the TOML text; model paths are taken relative to the manifest's folder."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    _check_keys(data, ("defaults", "model"), str(path))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError(f"{path}: [defaults] must be a table")
    _check_keys(defaults, DEFAULT_KEYS, f"{path} [defaults]")
    models = data.get("model", [])
    if not isinstance(models, list) or not models:
        raise InputError(f"{path}: no [[model]] entries")
    base = path.parent
    entries = tuple(_entry(raw, i, defaults, base) for i, raw in enumerate(models))
    return Manifest(path=path, entries=entries)


def load_manifest(path: str | Path | None) -> Manifest:
    file = Path(path) if path is not None else Path.cwd() / DEFAULT_MANIFEST
    if not file.exists():
        hint = "" if path is not None else " (give MANIFEST, or run from the repository root)"
        raise InputError(f"{file}: no such manifest{hint}")
    if file.is_dir():
        raise InputError(f"{file}: is a directory, not a manifest")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read ({exc})") from None
    return parse_manifest(text, file)


def judge(entry: Entry, verdict: str, error: Measure | None, sha256: str) -> list[Finding]:
    """Every criterion of `entry` that the check's result does not meet (certified bounds only)."""
    expect, failures = entry.expect, []
    if expect.sha256 and sha256 != expect.sha256:
        failures.append(Finding("sha256", f"file sha256 {sha256[:12]} != pinned {expect.sha256[:12]}"))
    if expect.verdict and verdict != expect.verdict:
        failures.append(Finding("verdict", f"verdict {verdict}, expected {expect.verdict}"))
    wants_rate = expect.zero_error or expect.max_error_rate is not None or expect.min_error_rate is not None
    what = expect.quantity
    zero_key, max_key, min_key = expect.keys
    if wants_rate and error is None:
        failures.append(Finding(what, f"{what} not certified (search incomplete or no exact measure)"))
        return failures
    if error is None:
        return failures
    if expect.zero_error and not (error.lower == 0 and error.upper == 0):
        failures.append(Finding(f"{zero_key} = 0", f"{what} in [{_g(error.lower)}, {_g(error.upper)}], not exactly 0"))
    if expect.max_error_rate is not None and not error.upper <= _exact(expect.max_error_rate):
        failures.append(Finding(max_key, f"{what} up to {_g(error.upper)} > {expect.max_error_rate:g}"))
    if expect.min_error_rate is not None and not error.lower >= _exact(expect.min_error_rate):
        failures.append(Finding(min_key, f"{what} from {_g(error.lower)} < {expect.min_error_rate:g}"))
    return failures


def _exact(threshold: float) -> mpf:
    """The threshold as written in decimal (repr round-trips), not its nearest binary double."""
    return mpf(repr(threshold))


def _g(value: mpf) -> str:
    return f"{float(value):.6g}"
