"""`--checkpoint DIR`: each finished subtree of the region search, kept on disk as data.

`--checkpoint DIR` gives every model a folder of its own, `DIR/weights-<hash>` (the first 16 hex
digits of the SHA-256 of its exact weights), so one DIR serves a run of several models and each
resumes on its own. A checkpoint folder holds `manifest.json` (the run key and the split it used) and one
`subtree-<bits>.json` per finished subtree. A subtree that was split further (work stealing)
is saved with its finished part and its `frontier`, the longer prefixes of the rest, each of
which gets a file of its own when it finishes. Every file is written atomically (a temporary
file, fsync, rename, fsync of the folder) and carries the SHA-256 of its own body, so a
truncated or corrupted file is detected and its subtree redone, never trusted.

The run key hashes the exact network weights and every option a subtree's result depends on
(claim, region cap, query timeout, cross-check, query collection). The time budget is not in
it: only subtrees that finished (search complete, every claim decided) are saved, and those do
not depend on it. Results are JSON of exact values (rationals as strings, mpmath numbers as
their exact binary mantissa and exponent), decoded through a fixed list of classes: never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from mpmath import mp, mpf

from verify.check.claims import Cone, RegionClaimResult, Verdict, Violation
from verify.check.pipeline import CheckOptions, EvaluatedRegions, RegionOutcome, RegionRays
from verify.check.regions import Region, SearchState
from verify.core.errors import InputError
from verify.core.linear import Constraint, Op
from verify.core.network import ExactRNN
from verify.geometry.measure import Measure
from verify.geometry.solid import ConeGeometry
from verify.smt.solver import Answer, SmtQuery, SolverStats

FORMAT = 2  # 2: subtree files carry their frontier
MANIFEST = "manifest.json"

_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    RegionOutcome, Region, RegionClaimResult, Cone, Violation, Measure, RegionRays, ConeGeometry, SearchState,
    EvaluatedRegions, SolverStats, SmtQuery, Constraint)}
_ENUMS: dict[str, type[Enum]] = {cls.__name__: cls for cls in (Verdict, Answer, Op)}
# caches of work already done, not results: rebuilt lazily or unused after a region is evaluated
_SKIPPED = {("Region", "cone"), ("RegionClaimResult", "grown"), ("RegionClaimResult", "geometry")}


class CorruptCheckpoint(ValueError):
    """A checkpoint file that cannot be trusted (truncated, edited, or not ours)."""


def encode(value: Any) -> Any:
    """Exact JSON data for a subtree result (the inverse of `decode`)."""
    if isinstance(value, Enum):  # first: Answer is also a str, Verdict an int
        return {"enum": type(value).__name__, "name": value.name}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, Fraction):
        return {"q": str(value)}
    if isinstance(value, mpf):
        sign, man, exp, bc = value._mpf_
        return {"mpf": [sign, str(man), exp, bc]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise TypeError(f"cannot checkpoint a {name}")
        return {"dc": name, "f": {f.name: encode(getattr(value, f.name)) for f in fields(value)
                                  if (name, f.name) not in _SKIPPED}}
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value `encode` wrote; anything else is a CorruptCheckpoint."""
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise CorruptCheckpoint("unexpected value")
    try:
        if "q" in data:
            return Fraction(data["q"])
        if "tuple" in data:
            return tuple(decode(v) for v in data["tuple"])
        if "float" in data:
            return float.fromhex(data["float"])
        if "mpf" in data:
            sign, man, exp, bc = data["mpf"]
            return mp.make_mpf((int(sign), int(man), int(exp), int(bc)))  # exact: no rounding
        if "enum" in data:
            return _ENUMS[data["enum"]][data["name"]]
        if "dc" in data:
            cls = _CLASSES[data["dc"]]
            return cls(**{k: decode(v) for k, v in data["f"].items()})
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise CorruptCheckpoint(str(exc)) from exc
    raise CorruptCheckpoint("unexpected value")


def run_key(network: ExactRNN, options: CheckOptions) -> str:
    """SHA-256 of the exact weights and of every option a finished subtree depends on."""
    described = {
        "format": FORMAT,
        "w_hi": [str(v) for v in network.w_hi],
        "w_hh": [[str(v) for v in row] for row in network.w_hh],
        "w_oh": [[str(v) for v in row] for row in network.w_oh],
        "claim": options.claim.name,
        "max_regions": options.budget.max_regions,
        "timeout_ms": options.timeout_ms,
        "cross_check": options.cross_check,
        "collect_queries": options.collect_queries,
    }
    return _digest(described)


def model_folder(root: Path, network: ExactRNN) -> Path:
    """The folder under `--checkpoint root` that holds this model's checkpoint."""
    weights = {"w_hi": [str(v) for v in network.w_hi], "w_hh": [[str(v) for v in row] for row in network.w_hh],
               "w_oh": [[str(v) for v in row] for row in network.w_oh]}
    return root / f"weights-{_digest(weights)[:16]}"


def check_root(root: Path, *, resume: bool) -> None:
    """Before any model runs: a fresh run (no --resume) needs an empty or new folder; InputError if not."""
    if root.exists() and not root.is_dir():
        raise InputError(f"--checkpoint {root}: not a folder")
    if not resume and root.is_dir() and any(root.iterdir()):
        raise InputError(f"--checkpoint {root}: already holds a checkpoint; add --resume or use an empty folder")


def finished(evaluated: EvaluatedRegions) -> bool:
    """Worth saving: the subtree's search completed and every region's claim was decided."""
    state = evaluated.state
    return (state.complete and not state.stop_reason and not state.undecided_prefixes
            and not any(o.claim.undecided or o.claim.stopped for o in evaluated.outcomes))


def bits_text(prefix: tuple[bool, ...]) -> str:
    return "".join("1" if b else "0" for b in prefix) or "root"


@dataclass(frozen=True)
class Saved:
    """A subtree read back from a checkpoint."""

    prefix: tuple[bool, ...]
    evaluated: EvaluatedRegions
    stats: SolverStats
    frontier: tuple[tuple[bool, ...], ...] = ()  # a split subtree: the prefixes of the rest


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint folder, bound to one run key."""

    folder: Path
    key: str
    split_jobs: int  # the worker count the split of the first run was sized for (resume reuses it)
    split_steps: int | None = None  # the first run's cap on the split's depth, if any (resume reuses it)

    @classmethod
    def open(cls, folder: Path, key: str, split_jobs: int, *, resume: bool,
             split_steps: int | None = None) -> "Checkpoint":
        """Start a checkpoint, or (resume) continue the one in `folder`; InputError if it is another run's."""
        manifest = folder / MANIFEST
        if manifest.exists():
            if not resume:
                raise InputError(f"--checkpoint {folder}: already holds a checkpoint; add --resume or use an empty folder")
            try:
                body = _read_body(manifest)
            except CorruptCheckpoint as exc:
                raise InputError(f"--checkpoint {folder}: {MANIFEST} is corrupted ({exc}); cannot resume") from exc
            if body.get("key") != key:
                raise InputError(f"--checkpoint {folder}: was written for another model, claim or options; "
                                 "cannot resume")
            jobs, steps = body.get("split_jobs"), body.get("split_steps")
            if not isinstance(jobs, int) or jobs < 1 or not (steps is None or isinstance(steps, int) and steps >= 1):
                raise InputError(f"--checkpoint {folder}: {MANIFEST} has no valid split; cannot resume")
            return cls(folder, key, jobs, steps)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not resume and any(folder.glob("subtree-*.json")):
                raise InputError(f"--checkpoint {folder}: holds subtree files without a manifest; use an empty folder")
            _write_atomic(manifest, {"format": FORMAT, "key": key, "split_jobs": split_jobs,
                                     "split_steps": split_steps})
        except OSError as exc:
            raise InputError(f"--checkpoint {folder}: cannot write ({exc.strerror or exc})") from exc
        return cls(folder, key, split_jobs, split_steps)

    def path(self, prefix: tuple[bool, ...]) -> Path:
        return self.folder / f"subtree-{bits_text(prefix)}.json"

    def save(self, prefix: tuple[bool, ...], evaluated: EvaluatedRegions, stats: SolverStats,
             frontier: tuple[tuple[bool, ...], ...] = ()) -> None:
        """Durably record one finished subtree, or a split one's finished part and its frontier
        (atomic: a reader sees the old file or the whole new one)."""
        _write_atomic(self.path(prefix), {"format": FORMAT, "key": self.key, "prefix": bits_text(prefix),
                                          "evaluated": encode(evaluated), "stats": encode(stats),
                                          "frontier": [bits_text(child) for child in frontier]})

    def load(self, prefix: tuple[bool, ...]) -> Saved | None:
        """The saved subtree, or None if absent, corrupted, truncated or another run's (then it is redone)."""
        path = self.path(prefix)
        if not path.exists():
            return None
        try:
            body = _read_body(path)
            if body.get("key") != self.key or body.get("prefix") != bits_text(prefix):
                raise CorruptCheckpoint("another run's or another subtree's file")
            evaluated, stats = decode(body["evaluated"]), decode(body["stats"])
            if not isinstance(evaluated, EvaluatedRegions) or not isinstance(stats, SolverStats):
                raise CorruptCheckpoint("not a subtree result")
            frontier = _frontier(body["frontier"], prefix)
            if frontier and not evaluated.outcomes:
                raise CorruptCheckpoint("a split subtree without regions")
        except (CorruptCheckpoint, KeyError, OSError):
            return None
        return Saved(prefix, evaluated, stats, frontier) if finished(evaluated) else None


def _frontier(texts: Any, prefix: tuple[bool, ...]) -> tuple[tuple[bool, ...], ...]:
    """The saved frontier: bit strings strictly below `prefix`, else a CorruptCheckpoint."""
    if not isinstance(texts, list) or not all(isinstance(t, str) and t and set(t) <= {"0", "1"} for t in texts):
        raise CorruptCheckpoint("frontier: not a list of bit strings")
    children = tuple(tuple(ch == "1" for ch in text) for text in texts)
    if any(len(child) <= len(prefix) or child[:len(prefix)] != prefix for child in children):
        raise CorruptCheckpoint("frontier: a prefix outside its subtree")
    return children


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _digest(body: Any) -> str:
    return hashlib.sha256(_canonical(body)).hexdigest()


def _read_body(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CorruptCheckpoint(f"unreadable: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("body"), dict):
        raise CorruptCheckpoint("not a checkpoint file")
    body = document["body"]
    if document.get("sha256") != _digest(body):
        raise CorruptCheckpoint("content hash mismatch")
    if body.get("format") != FORMAT:
        raise CorruptCheckpoint(f"format {body.get('format')!r}, expected {FORMAT}")
    return body


def _write_atomic(path: Path, body: dict[str, Any]) -> None:
    data = _canonical({"sha256": _digest(body), "body": body})
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
