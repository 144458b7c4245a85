"""SMT: the one door to Z3, the SMT-LIB printer and reader, and replay as the second door.

Lives here: `solver` (every Z3 `check()` of the harness, one context per solver, exact
rationals, unknown never mistaken for an answer), `smtlib` (SMT-LIB 2 spelling of constraints),
`reader` (a whitelisting SMT-LIB reader for untrusted files), `replay` (re-deciding encodings
with cvc5 or Z3 through their own parsers, sharing nothing with `solver`).
May import: `verify.core`.
"""

from verify.smt.solver import Answer, ExactSolver, QueryLimits, SmtQuery, SolverStats, interrupt_active_solvers

# the solvers `replay` re-decides encodings with; named here because `verify replay`'s parser needs
# the names without loading replay itself
SOLVERS = ("cvc5", "z3")

__all__ = ["Answer", "ExactSolver", "QueryLimits", "SOLVERS", "SmtQuery", "SolverStats", "interrupt_active_solvers"]
