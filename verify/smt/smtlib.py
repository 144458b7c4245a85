"""SMT-LIB 2 spelling of exact linear constraints: the one printer the Z3 door and the encodings share.

Rationals are written as decimals divided (`(/ 3.0 4.0)`), so every query is QF_LRA and any
SMT solver reads it back to the same exact values.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Sequence

from verify.core.linear import Constraint


def smt_rational(value: Fraction) -> str:
    """SMT-LIB 2 spelling of an exact rational, e.g. (- (/ 3 4))."""
    magnitude = abs(value)
    if magnitude.denominator == 1:
        body = f"{magnitude.numerator}.0"
    else:
        body = f"(/ {magnitude.numerator}.0 {magnitude.denominator}.0)"
    return f"(- {body})" if value < 0 else body


def smt_term(coeffs: Sequence[Fraction]) -> str:
    terms = [f"(* {smt_rational(c)} x{i})" for i, c in enumerate(coeffs) if c != 0]
    if not terms:
        return "0.0"
    return terms[0] if len(terms) == 1 else "(+ " + " ".join(terms) + ")"


def smt_constraint(constraint: Constraint) -> str:
    return f"({constraint.op.value} {smt_term(constraint.coeffs)} 0.0)"


def smt_disjunction(constraints: Iterable[Constraint]) -> str:
    parts = [smt_constraint(c) for c in constraints]
    if not parts:
        return "false"
    return parts[0] if len(parts) == 1 else "(or " + " ".join(parts) + ")"
