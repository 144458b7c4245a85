"""The text of the claim's violation queries, VNN-LIB 2.0 (exact) or 1.0 (with margins); stdlib only.

This module imports nothing from relu-verify on purpose: a benchmark folder written by
`verify export --vnnlib DIR` carries a copy of it as `generate_properties.py` (with the
benchmark's parameters appended), so VNN-COMP's tooling can regenerate the properties without
installing this package, byte for byte what the exporter wrote.

A query asks for an input on one ordering of the claim (the k largest positions in order, the
rest below; the right answer is the last of them, `target`) whose first maximal logit is
elsewhere: some j with Y_j >= Y_t (j < t, torch.argmax's first index wins a tie) or
Y_j > Y_t (j > t). Logits of a bias-free network scale with x, so the box [-1, 1]^n loses
nothing. VNN-LIB 1.0 has no strict comparisons, so the 1.0 form shrinks the query instead: each
ordering constraint becomes `(>= (- X_a X_b) input_margin)` and each violation atom
`(>= (- Y_j Y_t) output_margin)` (ties j < t included). Every point of a margin query is a
point of the exact query, never the other way: a margin query's `unsat` proves nothing about
counterexamples thinner than the margins.
"""

from __future__ import annotations

import decimal
import itertools
import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Sequence

BOX = 1.0
VERSIONS = ("1.0", "2.0")


@dataclass(frozen=True)
class Ordering:
    """One piece of the claim: `top` holds the k largest positions, largest first."""

    n: int
    top: tuple[int, ...]

    @property
    def target(self) -> int:
        return self.top[-1]

    @property
    def rest(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.n) if j not in self.top)

    @property
    def label(self) -> str:
        return " > ".join(f"x{a}" for a in self.top) + (" > rest" if self.rest else "")

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """x_a > x_b for each listed (a, b): consecutive top positions, then the last above the rest."""
        chain = tuple(zip(self.top, self.top[1:]))
        return chain + tuple((self.top[-1], j) for j in self.rest)

    @property
    def slug(self) -> str:
        return self.label.replace(" > ", "_gt_").replace(" ", "_")


def orderings(n: int, k: int) -> list[Ordering]:
    """Every ordering of the k-th-argmax claim, in `itertools.permutations` order."""
    if not 1 <= k <= n:
        raise ValueError(f"the claim needs 1 <= k <= n, got k={k}, n={n}")
    return [Ordering(n, top) for top in itertools.permutations(range(n), k)]


def number(value: float) -> str:
    """A float as a plain decimal (Python's shortest round-trip digits, no exponent: SMT-LIB
    decimals have none, and the `vnnlib` parser refuses `1e-06`)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = format(decimal.Decimal(repr(float(value))), "f")
    return text if "." in text else text + ".0"


def _header(about: dict[str, Any], ordering: Ordering, version: str) -> list[str]:
    lines = [
        f"; relu-verify: violation of the {about['claim']} claim on the input ordering {ordering.label} (VNN-LIB {version})",
        f"; model {about['source']} (sha256 {about['sha256']}), M_{{{about['d']},{ordering.n}}}",
        f"; claim: {about['statement']}",
        f"; on this ordering the answer is index {ordering.target}; sat = a counterexample exists (refuted),",
    ]
    if version == "2.0":
        lines += [
            "; unsat = none on this ordering. Box [-1,1]^n loses nothing: the network has no biases,",
            "; so its logits scale with x and neither the order nor the argmax changes under scaling.",
        ]
    else:
        lines += [
            "; unsat = none with these margins on this ordering, which is NOT a proof of the claim:",
            "; counterexamples thinner than the margins are not asked for. Box [-1,1]^n loses nothing:",
            "; with no biases the logits scale with x, and neither the order nor the argmax changes.",
        ]
    return lines


def text_v2(ordering: Ordering, about: dict[str, Any]) -> str:
    """VNN-LIB 2.0: tensor names X[0,i] / Y[0,j], strict comparisons, the exact query."""
    n, t = ordering.n, ordering.target

    def x(i: int) -> str:
        return f"X[0,{i}]"

    def y(j: int) -> str:
        return f"Y[0,{j}]"

    lines = _header(about, ordering, "2.0") + [
        "(vnnlib-version <2.0>)",
        "",
        "(declare-network f",
        f"    (declare-input X float32 [1,{n}])",
        f"    (declare-output Y float32 [1,{n}])",
        ")",
        "",
        f"; input box [{-BOX}, {BOX}]^{n}",
    ]
    lines += [f"(assert (and (>= {x(i)} {number(-BOX)}) (<= {x(i)} {number(BOX)})))" for i in range(n)]
    lines.append(f"; input ordering {ordering.label} (strict)")
    lines += [f"(assert (> {x(a)} {x(b)}))" for a, b in ordering.pairs]
    atoms = [f"({'>=' if j < t else '>'} {y(j)} {y(t)})" for j in range(n) if j != t]
    lines.append(f"; violation: argmax(Y) != {t}")
    lines.append(f"(assert {atoms[0]})" if len(atoms) == 1 else f"(assert (or {' '.join(atoms)}))")
    return "\n".join(lines) + "\n"


def text_v1(ordering: Ordering, about: dict[str, Any], input_margin: float, output_margin: float) -> str:
    """VNN-LIB 1.0: scalar X_i / Y_j, only >= and <=, strictness replaced by margins (a sub-query)."""
    if not (input_margin > 0 and output_margin > 0):
        raise ValueError("VNN-LIB 1.0 margins must be positive: a zero margin would admit ties")
    n, t = ordering.n, ordering.target
    lines = _header(about, ordering, "1.0") + [
        f"; margins: input ordering differences >= {number(input_margin)}, logit differences >= {number(output_margin)}.",
        "; Every point of this query is a counterexample of the exact claim; its unsat is no proof",
        "; (only relu-verify's exact check, `verify check`, proves the claim).",
        "",
    ]
    lines += [f"(declare-const X_{i} Real)" for i in range(n)]
    lines += [f"(declare-const Y_{j} Real)" for j in range(n)]
    lines += ["", f"; input box [{-BOX}, {BOX}]^{n}"]
    for i in range(n):
        lines += [f"(assert (>= X_{i} {number(-BOX)}))", f"(assert (<= X_{i} {number(BOX)}))"]
    lines.append(f"; input ordering {ordering.label}, each difference at least the input margin")
    lines += [f"(assert (>= (- X_{a} X_{b}) {number(input_margin)}))" for a, b in ordering.pairs]
    atoms = [f"(>= (- Y_{j} Y_{t}) {number(output_margin)})" for j in range(n) if j != t]
    lines.append(f"; violation: some logit beats logit {t} by at least the output margin")
    if len(atoms) == 1:
        lines.append(f"(assert {atoms[0]})")
    else:
        lines.append("(assert (or")
        lines += [f"    (and {atom})" for atom in atoms]
        lines.append("))")
    return "\n".join(lines) + "\n"


def property_text(ordering: Ordering, bench: dict[str, Any]) -> str:
    if bench["version"] == "2.0":
        return text_v2(ordering, bench)
    return text_v1(ordering, bench, bench["input_margin"], bench["output_margin"])


def property_name(index: int, ordering: Ordering) -> str:
    return f"prop_{index:03d}_{ordering.slug}.vnnlib"


def write_properties(folder: str, bench: dict[str, Any]) -> list[str]:
    """Write vnnlib/prop_*.vnnlib and instances.csv under `folder`; return the property paths (relative)."""
    props = os.path.join(folder, "vnnlib")
    os.makedirs(props, exist_ok=True)
    for old in os.listdir(props):
        if old.startswith("prop_") and old.endswith(".vnnlib"):
            os.unlink(os.path.join(props, old))
    written = []
    for index, ordering in enumerate(orderings(bench["n"], bench["k"])):
        relative = "vnnlib/" + property_name(index, ordering)
        with open(os.path.join(folder, relative), "w", encoding="utf-8", newline="\n") as handle:
            handle.write(property_text(ordering, bench))
        written.append(relative)
    rows = [f"{bench['onnx']},{relative},{bench['timeout']}" for relative in written]
    with open(os.path.join(folder, "instances.csv"), "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(rows) + "\n")
    return written


def main(argv: Sequence[str], bench: dict[str, Any], folder: str) -> int:
    """`python generate_properties.py [SEED]`: VNN-COMP's entry point. The properties are fixed (one
    per ordering), so the seed is accepted and ignored: every seed gives the same files."""
    if len(argv) > 1 or (argv and not argv[0].lstrip("-").isdigit()):
        sys.stderr.write("usage: python generate_properties.py [SEED]\n")
        return 2
    written = write_properties(folder, bench)
    sys.stdout.write(f"{len(written)} properties and instances.csv written in {folder}\n")
    return 0
