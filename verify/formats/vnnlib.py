"""The claim's violation queries as VNN-LIB 2.0 property files, one per input ordering.

A claim piece is an open order cone ("x0 > x1 > rest": the right answer is one index t). Its
violation query asks for an input in the cone whose first maximal logit is not at t: some j
with Y_j >= Y_t (j < t, which torch.argmax prefers on a tie) or Y_j > Y_t (j > t). The network
has no biases, so its logits are positively homogeneous, and the order and the argmax do not
change under positive scaling: the query has a solution in R^n exactly when it has one in the
box [-1, 1]^n. So each file is: the box, the strict order of the piece, the disjunction.
Files use VNN-LIB 2.0 (`declare-network`), the form read by the `vnnlib` parser that
VNN-COMP's scorer uses; the network input is X [1, n] and the output Y [1, n], the names of
the ONNX graph that `verify export --onnx` writes. `instances.csv` pairs them VNN-COMP style.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from verify.core.claim import ClaimPiece, KthArgmaxClaim
from verify.core.linear import Constraint, Op
from verify.core.weights import ModelWeights

BOX = 1.0
INSTANCE_TIMEOUT_S = 300


@dataclass(frozen=True)
class VnnlibProperty:
    """One written property file and the piece of the claim it encodes."""

    path: Path
    piece: ClaimPiece


def x(i: int) -> str:
    return f"X[0,{i}]"


def y(i: int) -> str:
    return f"Y[0,{i}]"


def _float(value: float) -> str:
    return repr(float(value))


def order_atom(constraint: Constraint) -> str:
    """`x_a - x_b > 0` as `(> X[0,a] X[0,b])` (the form every order constraint of a piece has)."""
    plus = [i for i, c in enumerate(constraint.coeffs) if c == 1]
    minus = [i for i, c in enumerate(constraint.coeffs) if c == -1]
    nonzero = [i for i, c in enumerate(constraint.coeffs) if c != 0]
    if constraint.op is not Op.GT or len(plus) != 1 or len(minus) != 1 or len(nonzero) != 2:
        raise ValueError(f"not an order constraint x_a > x_b: {constraint}")
    return f"(> {x(plus[0])} {x(minus[0])})"


def violation_atoms(n: int, target: int) -> list[str]:
    """Some other logit beats the target under torch.argmax's first-index rule."""
    return [f"({'>=' if j < target else '>'} {y(j)} {y(target)})" for j in range(n) if j != target]


def property_text(weights: ModelWeights, claim: KthArgmaxClaim, piece: ClaimPiece) -> str:
    n = weights.seq_len
    lines = [
        f"; relu-verify: violation of the {claim.name} claim on the input ordering {piece.label}",
        f"; model {weights.path} (sha256 {weights.sha256 or 'in memory'}), M_{{{weights.hidden_size},{n}}}",
        f"; claim: {claim.statement}",
        f"; on this ordering the answer is index {piece.target}; sat = a counterexample exists (refuted),",
        "; unsat = none on this ordering. Box [-1,1]^n loses nothing: the network has no biases,",
        "; so its logits scale with x and neither the order nor the argmax changes under scaling.",
        "(vnnlib-version <2.0>)",
        "",
        "(declare-network f",
        f"    (declare-input X float32 [1,{n}])",
        f"    (declare-output Y float32 [1,{n}])",
        ")",
        "",
        f"; input box [{-BOX}, {BOX}]^{n}",
    ]
    lines += [f"(assert (and (>= {x(i)} {_float(-BOX)}) (<= {x(i)} {_float(BOX)})))" for i in range(n)]
    lines.append(f"; input ordering {piece.label} (strict)")
    lines += [f"(assert {order_atom(c)})" for c in piece.constraints]
    atoms = violation_atoms(n, piece.target)
    lines.append(f"; violation: argmax(Y) != {piece.target}")
    lines.append(f"(assert {atoms[0]})" if len(atoms) == 1 else f"(assert (or {' '.join(atoms)}))")
    return "\n".join(lines) + "\n"


def slug(label: str) -> str:
    return label.replace(" > ", "_gt_").replace(" ", "_")


def write_properties(
    weights: ModelWeights,
    claim: KthArgmaxClaim,
    out_dir: Path,
    *,
    onnx_path: Path | None = None,
) -> list[VnnlibProperty]:
    """One .vnnlib file per piece of the claim, and instances.csv when the ONNX file is known."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("prop_*.vnnlib"):
        old.unlink()
    written = []
    for k, piece in enumerate(claim.pieces(weights.seq_len)):
        path = out_dir / f"prop_{k:03d}_{slug(piece.label)}.vnnlib"
        path.write_text(property_text(weights, claim, piece))
        written.append(VnnlibProperty(path, piece))
    if onnx_path is not None:
        write_instances(out_dir, onnx_path, [p.path for p in written])
    return written


def write_instances(out_dir: Path, onnx_path: Path, properties: Sequence[Path]) -> Path:
    """VNN-COMP's instances.csv: network, property, timeout in seconds (paths relative to out_dir)."""
    onnx_rel = os.path.relpath(onnx_path.resolve(), out_dir.resolve())
    rows = [f"{onnx_rel},{p.name},{INSTANCE_TIMEOUT_S}" for p in properties]
    target = out_dir / "instances.csv"
    target.write_text("\n".join(rows) + "\n")
    return target
