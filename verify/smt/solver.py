"""The one door to the SMT solver: every Z3 `check()` in the harness happens here.

Queries are conjunctions of exact linear constraints (plus at most one disjunction). Each
query has a fixed seed and a per-query time limit (`QueryLimits`: a fixed cap and/or an absolute
deadline); Z3's `unknown` is reported as `Answer.UNKNOWN`, never mistaken for an answer, with
its cause in `ExactSolver.last_reason`. Incremental use (push/pop) serves the region search;
every query can also be written out as standalone SMT-LIB 2 for replay.

`interrupt_active_solvers()` stops every running check of this process at once (from a signal
handler's helper thread or any other thread); Z3's own Ctrl-C handler is switched off so that
a SIGINT always reaches Python instead of silently turning one check into "unknown".
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Callable, Sequence

import z3

from verify.core.by_object import ByObject
from verify.core.linear import Constraint, Op, coprime_integers

SOLVER_SEED = 0
NO_TIMEOUT_MS = 2**32 - 1  # Z3's own "no limit"

# Every ExactSolver alive in this process, so that an interrupt can reach the running check.
_LIVE: "weakref.WeakSet[ExactSolver]" = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def interrupt_active_solvers() -> None:
    """Interrupt every Z3 check running in this process; later checks on these solvers return
    UNKNOWN at once. Safe from any thread (Z3's context interrupt is meant for that)."""
    with _LIVE_LOCK:
        solvers = list(_LIVE)
    for solver in solvers:
        solver.interrupt()


class Answer(str, Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class QueryLimits:
    """How long one query may run: at most `timeout_ms`, and never past `deadline` on `clock`.

    Both None: no limit. A deadline that has passed makes a query UNKNOWN without asking Z3.
    """

    timeout_ms: int | None = 10_000
    deadline: float | None = None
    clock: Callable[[], float] = time.monotonic

    def next_ms(self) -> int | None:
        """Milliseconds the next query may take (None: unlimited; 0: the deadline has passed)."""
        limit = self.timeout_ms
        if self.deadline is not None:
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                return 0
            remaining_ms = max(1, int(min(remaining, 1e9) * 1000))
            limit = remaining_ms if limit is None else min(limit, remaining_ms)
        return None if limit is None else max(1, int(limit))

    def expired(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline


@dataclass
class SolverStats:
    """Counts every check so reports and benchmarks can state the solver work done."""

    checks: int = 0
    seconds: float = 0.0
    unknowns: int = 0

    @staticmethod
    def solver_name() -> str:
        return "z3"

    @staticmethod
    def solver_version() -> str:
        return z3.get_version_string()


def _term(coeffs: Sequence[Fraction], xs: Sequence[z3.ArithRef]) -> z3.ArithRef:
    ctx = xs[0].ctx
    terms = [z3.RealVal(f"{c.numerator}/{c.denominator}", ctx) * x for c, x in zip(coeffs, xs) if c != 0]
    return z3.Sum(terms) if terms else z3.RealVal(0, ctx)


def primitive(coeffs: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """The same homogeneous constraint with coprime integer coefficients (a positive rescaling).

    Products of float32 weights have long dyadic tails; scaling them away keeps the numbers
    the solver's simplex works with small, which is where its time goes on deep regions.
    """
    if all(c == 0 for c in coeffs):
        return tuple(coeffs)
    return tuple(Fraction(v) for v in coprime_integers(coeffs))


def to_z3(constraint: Constraint, xs: Sequence[z3.ArithRef]) -> z3.BoolRef:
    term = _term(primitive(constraint.coeffs), xs)
    zero = z3.RealVal(0, xs[0].ctx)
    return {
        Op.GT: term > zero,
        Op.GE: term >= zero,
        Op.LT: term < zero,
        Op.LE: term <= zero,
        Op.EQ: term == zero,
    }[constraint.op]


def integer_text(constraint: Constraint) -> str:
    """SMT-LIB 2 of the constraint with its coprime integer coefficients (the same half-space):
    the text `smt_constraint` prints for `primitive(coeffs)`, spelled from the integers directly."""
    terms = [f"(* {v}.0 x{i})" if v > 0 else f"(* (- {-v}.0) x{i})"
             for i, v in enumerate(coprime_integers(constraint.coeffs)) if v]
    body = "0.0" if not terms else terms[0] if len(terms) == 1 else "(+ " + " ".join(terms) + ")"
    return f"({constraint.op.value} {body} 0.0)"


class ExactSolver:
    """An incremental Z3 solver over real variables x0..x_{n-1}, with exact rational models."""

    def __init__(self, n: int, stats: SolverStats, *, timeout_ms: int | None = 10_000,
                 limits: QueryLimits | None = None) -> None:
        self.n = n
        self.stats = stats
        self.limits = limits if limits is not None else QueryLimits(timeout_ms=timeout_ms)
        self.last_reason = ""  # why the last check answered UNKNOWN ("timeout", "interrupted", ...)
        self._interrupted = False
        self._timeout_set: int | None = None
        self._point: tuple[Fraction, ...] | None = None  # the model of the last SAT answer
        self._terms: dict[tuple[tuple[Fraction, ...], Op], z3.BoolRef] = {}
        # A context of its own: Z3's models depend on the history of the context they live
        # in, so a shared global context made witness points vary with what ran before
        # (another model, another test, a worker's earlier subtree under --jobs).
        self._ctx = z3.Context()
        self.xs = [z3.Real(f"x{i}", self._ctx) for i in range(n)]
        self._decls = {f"x{i}": x for i, x in enumerate(self.xs)}
        # by object: the claim's pieces are the same objects for every region (core.by_object)
        self._texts: ByObject[Constraint, str] = ByObject(4096)
        self._declared = False  # the variables are declared to the solver's own parser (direct parses)
        # read the model of every SAT answer (for model_point); a solver whose answers alone are
        # used turns this off: reading a model costs more than a small check
        self.read_models = True
        self._solver = z3.SolverFor("QF_LRA", ctx=self._ctx)
        self._solver.set("random_seed", SOLVER_SEED)
        self._solver.set("ctrl_c", False)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def interrupt(self) -> None:
        """Stop the running check (if any) and answer UNKNOWN to every later one."""
        self._interrupted = True
        self._ctx.interrupt()

    def _cancelled(self, exc: z3.Z3Exception) -> None:
        """An interrupt that lands between checks cancels the next Z3 call ("push canceled"):
        harmless once interrupted, since every later check answers UNKNOWN; otherwise re-raised."""
        if not self._interrupted:
            raise exc

    def push(self) -> None:
        if self._interrupted:
            return
        try:
            self._solver.push()
        except z3.Z3Exception as exc:
            self._cancelled(exc)

    def pop(self) -> None:
        if self._interrupted:
            return
        try:
            self._solver.pop()
        except z3.Z3Exception as exc:
            self._cancelled(exc)

    def add(self, constraint: Constraint) -> None:
        if self._interrupted:
            return
        try:
            self._add(constraint)
        except z3.Z3Exception as exc:
            self._cancelled(exc)

    def _add(self, constraint: Constraint) -> None:
        # Deep regions repeat constraints (e.g. identical neurons); Z3 shares equal terms anyway,
        # so building each distinct one once only saves the Python-side construction.
        key = (constraint.coeffs, constraint.op)
        term = self._terms.get(key)
        if term is None:
            term = self._terms[key] = to_z3(constraint, self.xs)
        self._solver.add(term)

    def add_any(self, constraints: Sequence[Constraint]) -> None:
        """Assert that at least one of the constraints holds."""
        if self._interrupted:
            return
        try:
            self._add_any(constraints)
        except z3.Z3Exception as exc:
            self._cancelled(exc)

    def _add_any(self, constraints: Sequence[Constraint]) -> None:
        self._solver.add(z3.Or([to_z3(c, self.xs) for c in constraints]) if constraints else z3.BoolVal(False, self._ctx))

    def _text(self, constraint: Constraint) -> str:
        return self._texts.get(constraint, integer_text)

    def _parse(self, assertions: Sequence[str], *, direct: bool = False) -> None:
        if self._interrupted:
            return
        try:
            script = "".join(f"(assert {a})" for a in assertions)
            if direct:
                # the solver parses the text itself: no AST vector through Python (half the cost);
                # the variables are declared in its first script and stay declared
                if not self._declared:
                    script = "".join(f"(declare-fun {name} () Real)" for name in self._decls) + script
                    self._declared = True
                self._solver.from_string(script)
            else:
                self._solver.add(z3.parse_smt2_string(script, decls=self._decls, ctx=self._ctx))
        except z3.Z3Exception as exc:
            self._cancelled(exc)

    def add_all(self, constraints: Sequence[Constraint], any_of: Sequence[Constraint] | None = None, *,
                answers_only: bool = False) -> None:
        """Assert every constraint (and, with `any_of`, that at least one of those holds), built in
        one parse of SMT-LIB 2 text (far fewer API calls than building terms one by one).

        `answers_only`: the solver parses the text itself (faster). Its models are then never to
        be read: the same calls the term path makes are what keeps witness points reproducible."""
        assertions = [self._text(c) for c in constraints]
        if any_of is not None:
            assertions.append(f"(or {' '.join(self._text(c) for c in any_of)} false)")
        if assertions:
            self._parse(assertions, direct=answers_only)

    def add_any_of_all(self, groups: Sequence[tuple[Sequence[Constraint], Sequence[Constraint]]],
                       also: Sequence[Constraint] = ()) -> None:
        """Assert that for some group (all_of, any_of) every all_of and at least one any_of holds,
        and every constraint of `also`, in one parse (for answers only, as
        `add_all(answers_only=True)`)."""
        parts = []
        for all_of, any_of in groups:
            inner = " ".join(self._text(c) for c in all_of)
            choice = " ".join(self._text(c) for c in any_of)
            parts.append(f"(and {inner} (or {choice} false))")
        self._parse([self._text(c) for c in also] + [f"(or {' '.join(parts)} false)"], direct=True)

    def check(self) -> Answer:
        """Decide the asserted constraints; UNKNOWN (never a guess) on timeout or interrupt.

        With `read_models` False, the answer only: `model_point()` then has no point to give."""
        return self._check()

    def point_check(self) -> tuple[Fraction, ...] | None:
        """Z3's point for asserted constraints already known to be satisfiable (a witness re-derived
        after the run's answers are in), or None if Z3 does not answer SAT this time. It decides
        nothing: its caller has an exact point of its own to fall back on."""
        return self._point if self._check(read_model=True) is Answer.SAT else None

    def _check(self, *, read_model: bool | None = None) -> Answer:
        read_model = self.read_models if read_model is None else read_model
        if self._interrupted:
            return self._unknown("interrupted")
        limit = self.limits.next_ms()
        if limit == 0:
            return self._unknown("deadline")
        wanted = NO_TIMEOUT_MS if limit is None else limit
        start = time.perf_counter()
        self._point = None
        try:
            if wanted != self._timeout_set:
                self._solver.set("timeout", wanted)
                self._timeout_set = wanted
            result = self._solver.check()
            if result == z3.sat and read_model:  # now: an interrupt landing later would cancel it
                self._point = self._read_point()
        except z3.Z3Exception as exc:
            self._cancelled(exc)
            self.stats.seconds += time.perf_counter() - start
            self.stats.checks += 1
            return self._unknown("interrupted")
        self.stats.seconds += time.perf_counter() - start
        self.stats.checks += 1
        if self._interrupted:
            return self._unknown("interrupted")
        if result == z3.sat:
            return Answer.SAT
        if result == z3.unsat:
            return Answer.UNSAT
        return self._unknown(self._solver.reason_unknown() or "unknown")

    def _unknown(self, reason: str) -> Answer:
        self.stats.unknowns += 1
        self.last_reason = reason
        return Answer.UNKNOWN

    def model_point(self) -> tuple[Fraction, ...]:
        """The exact rational point of the last SAT answer (unconstrained variables are 0)."""
        if self._point is None:
            raise RuntimeError("model_point() without a SAT answer")
        return self._point

    def _read_point(self) -> tuple[Fraction, ...]:
        model = self._solver.model()
        point = []
        for x in self.xs:
            value = model.eval(x, model_completion=True)
            point.append(Fraction(value.as_fraction()))
        return tuple(point)


def decide(
    n: int,
    constraints: Sequence[Constraint],
    stats: SolverStats,
    *,
    any_of: Sequence[Constraint] | None = None,
    timeout_ms: int | None = 10_000,
) -> tuple[Answer, tuple[Fraction, ...] | None]:
    """One standalone query: the conjunction of `constraints` (and one of `any_of`, if given)."""
    solver = ExactSolver(n, stats, timeout_ms=timeout_ms)
    for constraint in constraints:
        solver.add(constraint)
    if any_of is not None:
        solver.add_any(any_of)
    answer = solver.check()
    return answer, (solver.model_point() if answer is Answer.SAT else None)


@dataclass(frozen=True)
class SmtQuery:
    """A standalone SMT-LIB 2 query with the answer the harness obtained for it."""

    name: str
    n: int
    constraints: tuple[Constraint, ...]
    any_of: tuple[Constraint, ...] | None
    expected: Answer
    comment: str = ""
    extra_header: tuple[str, ...] = field(default_factory=tuple)

