"""Read a VNN-LIB property as data and decide it at a point in exact rational arithmetic.

Used to validate another verifier's witness (`verify vnncomp-check`). The file is untrusted: it is
tokenized and parsed here (nothing is evaluated), and only this subset is accepted, which covers
VNN-LIB 1.0 and the 2.0 files `verify export` writes:

    (declare-const X_i Real) / (declare-const Y_j Real)                        1.0 scalars
    (vnnlib-version <2.0>), (declare-network N (declare-input X float32 [1,n])
                                               (declare-output Y float32 [1,m]))   2.0, names X[0,i]
    (assert F)   F: (and F ...) (or F ...) (>= T T) (<= T T) (> T T) (< T T) (= T T)
                 T: decimal numeral, variable, (+ T ...), (- T ...), (* T ...) with one non-constant factor

Numerals become exact `Fraction`s of the decimal text. Anything else is a one-line InputError
naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence, Union

from verify.core.errors import InputError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 200
COMPARISONS = (">=", "<=", ">", "<", "=")
_SCALAR = re.compile(r"^([XY])_(\d+)$")
_TENSOR = re.compile(r"^([XY])\[0,(\d+)\]$")
_NUMERAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SHAPE = re.compile(r"^\[1,(\d+)\]$")


@dataclass(frozen=True)
class Sym:
    """A token that is not a parenthesis, and the line it stood on."""

    text: str
    line: int


Sexp = Union[Sym, "SList"]


@dataclass(frozen=True)
class SList:
    items: tuple[Sexp, ...]
    line: int


@dataclass(frozen=True)
class Linear:
    """sum(coeffs[var] * var) + constant; a var is ("X", i) or ("Y", j)."""

    coeffs: tuple[tuple[tuple[str, int], Fraction], ...]
    constant: Fraction

    def value(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> Fraction:
        total = self.constant
        for (kind, index), coeff in self.coeffs:
            total += coeff * (x[index] if kind == "X" else y[index])
        return total

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for (kind, _), c in self.coeffs if c != 0)


@dataclass(frozen=True)
class Atom:
    op: str
    lhs: Linear
    rhs: Linear


@dataclass(frozen=True)
class Junction:
    op: str  # "and" / "or"
    args: tuple["Formula", ...]


Formula = Union[Atom, Junction]


@dataclass(frozen=True)
class VnnProperty:
    """The assertions of one property over inputs X (n) and outputs Y (m)."""

    n_inputs: int
    n_outputs: int
    assertions: tuple[Formula, ...]
    version: str  # "1.0" or "2.0"

    def holds(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
        return all(_holds(f, x, y) for f in self.assertions)

    def inputs_hold(self, x: Sequence[Fraction]) -> bool:
        """The assertions that mention no output (box, ordering) at x."""
        return all(_holds(f, x, ()) for f in self.assertions if "Y" not in _kinds(f))

    def outputs_hold(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
        return all(_holds(f, x, y) for f in self.assertions if "Y" in _kinds(f))


def _kinds(f: Formula) -> frozenset[str]:
    if isinstance(f, Atom):
        return f.lhs.kinds | f.rhs.kinds
    return frozenset().union(*(_kinds(a) for a in f.args))


def _holds(f: Formula, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
    if isinstance(f, Junction):
        results = (_holds(a, x, y) for a in f.args)
        return all(results) if f.op == "and" else any(results)
    a, b = f.lhs.value(x, y), f.rhs.value(x, y)
    return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "=": a == b}[f.op]


# ---------------------------------------------------------------- tokens and s-expressions


def tokens(text: str) -> list[tuple[str, int]]:
    """Parentheses and maximal runs of other non-blank characters; `;` comments dropped."""
    result: list[tuple[str, int]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.split(";", 1)[0]
        for token in re.findall(r"[()]|[^\s()]+", line):
            result.append((token, number))
    return result


def sexps(text: str, where: str) -> list[Sexp]:
    """The top-level s-expressions (an explicit stack: no recursion on untrusted depth)."""
    stack: list[tuple[int, list[Sexp]]] = [(0, [])]
    for token, line in tokens(text):
        if token == "(":
            if len(stack) > MAX_DEPTH:
                raise InputError(f"{where} line {line}: nested deeper than {MAX_DEPTH}")
            stack.append((line, []))
        elif token == ")":
            if len(stack) == 1:
                raise InputError(f"{where} line {line}: unbalanced ')'")
            start, items = stack.pop()
            stack[-1][1].append(SList(tuple(items), start))
        else:
            stack[-1][1].append(Sym(token, line))
    if len(stack) != 1:
        raise InputError(f"{where} line {stack[-1][0]}: '(' is never closed")
    return stack[0][1]


# ---------------------------------------------------------------- the property


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where
        self.declared: dict[str, set[int]] = {"X": set(), "Y": set()}
        self.shapes: dict[str, int] = {}
        self.version = "1.0"

    def bad(self, node: Sexp, why: str) -> InputError:
        return InputError(f"{self.where} line {node.line}: {why}")

    def head(self, node: Sexp) -> str:
        if isinstance(node, SList) and node.items and isinstance(node.items[0], Sym):
            return node.items[0].text
        raise self.bad(node, "expected (command ...)")

    def command(self, node: Sexp) -> Formula | None:
        name = self.head(node)
        items = node.items  # type: ignore[union-attr]
        if name == "declare-const":
            self.declare_const(node, items)
            return None
        if name == "vnnlib-version":
            if len(items) != 2 or not isinstance(items[1], Sym) or items[1].text != "<2.0>":
                raise self.bad(node, "only (vnnlib-version <2.0>) is read")
            self.version = "2.0"
            return None
        if name == "declare-network":
            self.declare_network(node, items)
            return None
        if name == "assert":
            if len(items) != 2:
                raise self.bad(node, "(assert F) takes one formula")
            return self.formula(items[1])
        raise self.bad(node, f"command ({name[:40]} ...) is not supported")

    def declare_const(self, node: Sexp, items: tuple[Sexp, ...]) -> None:
        if len(items) != 3 or not all(isinstance(i, Sym) for i in items[1:]):
            raise self.bad(node, "expected (declare-const NAME Real)")
        name, sort = items[1].text, items[2].text  # type: ignore[union-attr]
        match = _SCALAR.match(name)
        if sort != "Real" or not match:
            raise self.bad(node, f"only (declare-const X_i Real) and (declare-const Y_j Real) are read, got {name[:40]} {sort[:20]}")
        index = int(match.group(2))
        if index in self.declared[match.group(1)]:
            raise self.bad(node, f"{name} is declared twice")
        self.declared[match.group(1)].add(index)

    def declare_network(self, node: Sexp, items: tuple[Sexp, ...]) -> None:
        if self.shapes:
            raise self.bad(node, "only one declare-network is read")
        for part in items[2:]:
            kind = self.head(part)
            fields = part.items  # type: ignore[union-attr]
            if kind not in ("declare-input", "declare-output") or len(fields) != 4 or \
                    not all(isinstance(f, Sym) for f in fields):
                raise self.bad(part, "expected (declare-input X float32 [1,n]) or (declare-output Y float32 [1,n])")
            name, dtype, shape = (f.text for f in fields[1:])  # type: ignore[union-attr]
            expected = "X" if kind == "declare-input" else "Y"
            match = _SHAPE.match(shape)
            if name != expected or dtype != "float32" or not match:
                raise self.bad(part, f"expected ({kind} {expected} float32 [1,n])")
            if name in self.shapes:
                raise self.bad(part, f"{name} is declared twice")
            self.shapes[name] = int(match.group(1))

    def variable(self, sym: Sym) -> tuple[str, int]:
        match = (_TENSOR if self.version == "2.0" else _SCALAR).match(sym.text)
        if not match:
            raise self.bad(sym, f"unknown symbol {sym.text[:40]!r}")
        kind, index = match.group(1), int(match.group(2))
        size = self.shapes.get(kind) if self.version == "2.0" else None
        known = index < size if size is not None else index in self.declared[kind]
        if not known:
            raise self.bad(sym, f"{sym.text[:40]} is not declared")
        return kind, index

    def term(self, node: Sexp) -> Linear:
        if isinstance(node, Sym):
            if _NUMERAL.match(node.text):
                return Linear((), Fraction(node.text))
            return Linear(((self.variable(node), Fraction(1)),), Fraction(0))
        name = self.head(node)
        args = [self.term(a) for a in node.items[1:]]
        if not args:
            raise self.bad(node, f"({name[:20]}) needs arguments")
        if name == "+":
            return _sum(args)
        if name == "-":
            if len(args) == 1:
                return _scale(args[0], Fraction(-1))
            return _sum([args[0]] + [_scale(a, Fraction(-1)) for a in args[1:]])
        if name == "*":
            product = Linear((), Fraction(1))
            for arg in args:
                if product.coeffs and arg.coeffs:
                    raise self.bad(node, "a product of two variables is not linear")
                product = _scale(arg, product.constant) if not product.coeffs else _scale(product, arg.constant)
            return product
        raise self.bad(node, f"unknown operator {name[:40]!r}")

    def formula(self, node: Sexp) -> Formula:
        name = self.head(node)
        args = node.items[1:]  # type: ignore[union-attr]
        if name in ("and", "or"):
            if not args:
                raise self.bad(node, f"({name}) needs arguments")
            return Junction(name, tuple(self.formula(a) for a in args))
        if name in COMPARISONS:
            if len(args) != 2:
                raise self.bad(node, f"({name} A B) takes two terms")
            return Atom(name, self.term(args[0]), self.term(args[1]))
        raise self.bad(node, f"unknown formula ({name[:40]} ...)")

    def sizes(self) -> tuple[int, int]:
        if self.version == "2.0":
            if set(self.shapes) != {"X", "Y"}:
                raise InputError(f"{self.where}: a VNN-LIB 2.0 file needs (declare-network ...) with input X and output Y")
            return self.shapes["X"], self.shapes["Y"]
        if self.shapes:
            raise InputError(f"{self.where}: declare-network without (vnnlib-version <2.0>)")
        for kind in ("X", "Y"):
            indices = self.declared[kind]
            if not indices or indices != set(range(len(indices))):
                raise InputError(f"{self.where}: {kind}_0 .. {kind}_(k-1) must all be declared")
        return len(self.declared["X"]), len(self.declared["Y"])


def _sum(parts: Sequence[Linear]) -> Linear:
    coeffs: dict[tuple[str, int], Fraction] = {}
    constant = Fraction(0)
    for part in parts:
        constant += part.constant
        for var, c in part.coeffs:
            coeffs[var] = coeffs.get(var, Fraction(0)) + c
    return Linear(tuple(sorted(coeffs.items())), constant)


def _scale(part: Linear, factor: Fraction) -> Linear:
    return Linear(tuple((v, c * factor) for v, c in part.coeffs), part.constant * factor)


def parse_property(text: str, where: str = "property") -> VnnProperty:
    """Parse VNN-LIB text (see the module docstring for the subset read)."""
    reader = _Reader(where)
    assertions = []
    for node in sexps(text, where):
        found = reader.command(node)
        if found is not None:
            assertions.append(found)
    n, m = reader.sizes()
    if not assertions:
        raise InputError(f"{where}: no assertions")
    return VnnProperty(n, m, tuple(assertions), reader.version)


def read_property(path: Path) -> VnnProperty:
    """Read and parse a property file; a missing, huge or non-UTF-8 file is a one-line InputError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{path}: {size} bytes, more than a property file should hold ({MAX_BYTES})")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a VNN-LIB file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    return parse_property(text, str(path))
