"""A VNN-COMP result file, read as data, and its `sat` witness checked against the exact network.

A result file starts with the verdict (`sat`, `unsat`, `timeout`, `error`, `unknown`; VNN-COMP
2021's `violated` / `holds` are read as sat / unsat). After `sat` comes the witness,

    ((X_0 0.25)
     (X_1 -0.5)
     (Y_0 1.125)
     (Y_1 0.75))

(`X[0,i]` names are read too). Values are decimal numerals, read as the exact rationals they
spell. Nothing in the file is evaluated. As VNN-COMP's validation does, the witness is run
through the network and the property is decided at that point; here twice: in exact rational
arithmetic (the witness as written, the exact network) and in float32 (the witness rounded to
float32, the real PyTorch model, then the property decided exactly on those values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

from verify.core.claim import KthArgmaxClaim, first_argmax
from verify.core.errors import InputError
from verify.core.network import ExactRNN
from verify.core.weights import ModelWeights
from verify.formats.vnnlib_read import SList, Sym, VnnProperty, sexps

MAX_BYTES = 1024 * 1024
STATUSES = {"sat": "sat", "unsat": "unsat", "timeout": "timeout", "error": "error", "unknown": "unknown",
            "violated": "sat", "holds": "unsat"}
_NAME = re.compile(r"^([XY])(?:_(\d+)|\[0,(\d+)\])$")
_NUMERAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class PeerResult:
    """What the other verifier said; `x` (and its own outputs `y`, if given) only for sat."""

    status: str
    x: tuple[Fraction, ...] | None = None
    y: tuple[Fraction, ...] | None = None


@dataclass(frozen=True)
class Reading:
    """The witness in one arithmetic: the input used, the logits, and what holds there."""

    x: tuple[Fraction, ...]
    logits: tuple[Fraction, ...]
    inputs_hold: bool  # the property's input constraints (box, ordering)
    property_holds: bool  # the whole property: the witness is real in this arithmetic
    predicted: int  # first maximal logit, as torch.argmax
    expected: int | None  # the claim's answer; None where it is undefined (tied inputs)

    @property
    def misclassified(self) -> bool | None:
        return None if self.expected is None else self.predicted != self.expected


@dataclass(frozen=True)
class WitnessCheck:
    exact: Reading
    float32: Reading
    claimed_gap: float | None  # max |the peer's Y - the float32 logits|, when it gave Y

    @property
    def real(self) -> bool:
        """The property holds at the witness in exact arithmetic (VNN-COMP's question, answered exactly)."""
        return self.exact.property_holds


def _entry(node: object, where: str) -> tuple[str, int, Fraction]:
    if not (isinstance(node, SList) and len(node.items) == 2 and all(isinstance(i, Sym) for i in node.items)):
        line = getattr(node, "line", 0)
        raise InputError(f"{where} line {line}: expected (NAME VALUE) in the witness")
    name, value = node.items[0].text, node.items[1].text  # type: ignore[union-attr]
    match = _NAME.match(name)
    if not match:
        raise InputError(f"{where} line {node.line}: unknown witness variable {name[:40]!r} (expected X_i or Y_j)")
    if not _NUMERAL.match(value):
        raise InputError(f"{where} line {node.line}: {name} has no decimal value ({value[:40]!r})")
    return match.group(1), int(match.group(2) or match.group(3)), Fraction(value)


def _vector(values: dict[int, Fraction], kind: str, where: str) -> tuple[Fraction, ...]:
    if set(values) != set(range(len(values))):
        missing = min(set(range(max(values) + 1)) - set(values))
        raise InputError(f"{where}: the witness has no {kind}_{missing}")
    return tuple(values[i] for i in range(len(values)))


def parse_result(text: str, where: str = "result") -> PeerResult:
    """Parse a result file's text; a malformed one is a one-line InputError."""
    nodes = sexps(text, where)
    if not nodes or not isinstance(nodes[0], Sym):
        raise InputError(f"{where}: expected a verdict (sat, unsat, timeout, error, unknown) first")
    word = nodes[0].text.lower()
    if word not in STATUSES:
        raise InputError(f"{where} line {nodes[0].line}: unknown verdict {nodes[0].text[:40]!r} "
                         "(expected sat, unsat, timeout, error or unknown)")
    status, rest = STATUSES[word], nodes[1:]
    if status != "sat":
        if rest:
            raise InputError(f"{where} line {rest[0].line}: unexpected text after '{word}'")
        return PeerResult(status)
    if len(rest) == 1 and isinstance(rest[0], SList) and rest[0].items and isinstance(rest[0].items[0], SList):
        rest = list(rest[0].items)  # ((X_0 v) ...) as one list
    if not rest:
        raise InputError(f"{where}: 'sat' without a witness ((X_0 value) ...)")
    found: dict[str, dict[int, Fraction]] = {"X": {}, "Y": {}}
    for node in rest:
        kind, index, value = _entry(node, where)
        if index in found[kind]:
            raise InputError(f"{where} line {node.line}: {kind}_{index} is given twice")
        found[kind][index] = value
    if not found["X"]:
        raise InputError(f"{where}: the witness gives no input X_i")
    y = _vector(found["Y"], "Y", where) if found["Y"] else None
    return PeerResult("sat", _vector(found["X"], "X", where), y)


def read_result(path: Path) -> PeerResult:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{path}: {size} bytes, more than a result file should hold ({MAX_BYTES})")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a result file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    return parse_result(text, str(path))


def _reading(x: Sequence[Fraction], logits: Sequence[Fraction], prop: VnnProperty,
             claim: KthArgmaxClaim) -> Reading:
    return Reading(tuple(x), tuple(logits), prop.inputs_hold(x), prop.holds(x, logits), first_argmax(list(logits)),
                   claim.expected(list(x)) if claim.well_defined(list(x)) else None)


def check_witness(result: PeerResult, prop: VnnProperty, weights: ModelWeights, claim: KthArgmaxClaim) -> WitnessCheck:
    """Decide the property at a sat witness, exactly and in float32 (sizes must match: else InputError)."""
    from verify.formats.torch_model import Float32Model

    if result.status != "sat" or result.x is None:
        raise ValueError("only a sat result has a witness")
    n = weights.seq_len
    if prop.n_inputs != n or prop.n_outputs != n:
        raise InputError(f"the property has {prop.n_inputs} inputs and {prop.n_outputs} outputs, the network {n} and {n}")
    if len(result.x) != n:
        raise InputError(f"the witness gives {len(result.x)} inputs, the network takes {n}")
    if result.y is not None and len(result.y) != n:
        raise InputError(f"the witness gives {len(result.y)} outputs, the network has {n}")
    exact = _reading(result.x, ExactRNN.from_weights(weights).logits(list(result.x)), prop, claim)
    x32 = np.array([float(v) for v in result.x], dtype=np.float32)  # as a float32 runtime is fed
    y32 = Float32Model(weights).logits(x32[None, :])[0]
    as_float32 = _reading([Fraction(float(v)) for v in x32], [Fraction(float(v)) for v in y32], prop, claim)
    gap = None
    if result.y is not None:
        gap = max(abs(float(c) - float(v)) for c, v in zip(result.y, y32))
    return WitnessCheck(exact, as_float32, gap)
