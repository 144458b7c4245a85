"""Claims about the logits, decided exactly on each region by Z3.

A claim splits the input space into *pieces*, open polyhedral cones on which the right
answer is one fixed index (for the k-th-argmax claim: "x_m is the largest input and x_t the
k-th largest" -> target t). On a region the logits are linear, so on a piece the claim is a
set of linear sign conditions. Predictions follow PyTorch's `argmax`: the first maximal
index wins a tie. Inputs with two equal coordinates have no well-defined k-th argmax; they
form a measure-zero set that every claim excludes explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction
from typing import Callable, Sequence

from verify.core.claim import KthArgmaxClaim
from verify.core.linear import Constraint, Op, Vector, is_zero, sub
from verify.check.regions import Region
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SmtQuery, SolverStats


class Verdict(IntEnum):
    """Ordered so that the overall verdict is the worst (max) region verdict."""

    PROVED = 0
    UNKNOWN = 1
    REFUTED = 2

    @property
    def word(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Cone:
    """A region's sub-cone on which the prediction is the constant `predicted` (open constraints)."""

    region: int
    piece: str
    target: int
    predicted: int
    tied: bool  # the maximal logit is shared, identically, with another index on this cone
    constraints: tuple[Constraint, ...]
    witness: tuple[Fraction, ...]  # an exact interior point found by Z3

    @property
    def correct(self) -> bool:
        return self.predicted == self.target


@dataclass(frozen=True)
class Violation:
    """A counterexample on a measure-zero set (a boundary), found by the closed check."""

    region: int
    piece: str
    target: int
    point: tuple[Fraction, ...]


@dataclass
class RegionClaimResult:
    """The claim on one region. `verdict` is REFUTED when a counterexample was proved to exist,
    else UNKNOWN when a query was left undecided, else PROVED. `undecided` says the cones found
    may be incomplete (so the region's error measure is only a lower bound); `stopped` says the
    check gave up early because the run was interrupted or its time budget ran out."""

    region: int
    verdict: Verdict
    cones: list[Cone] = field(default_factory=list)
    boundary_violations: list[Violation] = field(default_factory=list)
    queries: list[SmtQuery] = field(default_factory=list)
    note: str = ""
    undecided: bool = False
    stopped: bool = False


def _violation_terms(logits: Sequence[Vector], target: int) -> list[Constraint] | None:
    """Constraints "index j beats the target" for each j; None if some j beats it identically."""
    terms = []
    for j, row in enumerate(logits):
        if j == target:
            continue
        diff = sub(row, logits[target])
        if is_zero(diff):
            if j < target:
                return None  # identical logits and j comes first: the target always loses
            continue
        terms.append(Constraint(diff, Op.GE if j < target else Op.GT))
    return terms


def _prediction_constraints(logits: Sequence[Vector], p: int) -> tuple[list[Constraint], bool] | None:
    """Open constraints for "argmax = p"; None if p can never be the first maximum here."""
    constraints, tied = [], False
    for j, row in enumerate(logits):
        if j == p:
            continue
        diff = sub(logits[p], row)
        if is_zero(diff):
            if j < p:
                return None
            tied = True
            continue
        constraints.append(Constraint(diff, Op.GT))
    return constraints, tied


def check_region(
    region: Region,
    claim: KthArgmaxClaim,
    stats: SolverStats,
    *,
    collect_queries: bool = False,
    timeout_ms: int | None = 10_000,
    limits: QueryLimits | None = None,
    should_stop: Callable[[], str | None] | None = None,
    on_query: Callable[[], None] | None = None,
) -> RegionClaimResult:
    """Decide the claim on one region exactly; return its positive-measure cones and witnesses.

    A query Z3 leaves undecided never turns into an answer: the region is marked `undecided`
    and the other queries go on, unless the run was interrupted or out of time (`stopped`).
    """
    n = region.n
    limits = limits if limits is not None else QueryLimits(timeout_ms=timeout_ms)
    result = RegionClaimResult(region=region.index, verdict=Verdict.PROVED)
    closed_region = list(region.constraints)
    open_region = list(region.interior())
    # Two incremental solvers hold the region once (its interior, its closure); each query
    # only pushes its own few constraints, which matters when a region has hundreds.
    solvers = {}
    for key, base in (("open", open_region), ("closed", closed_region)):
        solvers[key] = ExactSolver(n, stats, limits=limits)
        for c in base:
            solvers[key].add(c)

    def ask(name: str, constraints: list[Constraint], any_of: list[Constraint] | None = None, *,
            closed: bool = False) -> tuple[Answer, tuple[Fraction, ...] | None]:
        """One query on the region; its answer and, when SAT, Z3's exact witness point."""
        if result.stopped:
            return Answer.UNKNOWN, None
        solver = solvers["closed" if closed else "open"]
        solver.push()
        for c in constraints:
            solver.add(c)
        if any_of is not None:
            solver.add_any(any_of)
        answer = solver.check()
        point = solver.model_point() if answer is Answer.SAT else None
        solver.pop()
        if collect_queries:
            result.queries.append(
                SmtQuery(
                    name=f"region {region.pattern_text} {name}",
                    n=n,
                    constraints=tuple((closed_region if closed else open_region) + constraints),
                    any_of=tuple(any_of) if any_of is not None else None,
                    expected=answer,
                )
            )
        if answer is Answer.UNKNOWN:
            result.undecided = True
            stop_reason = should_stop() if should_stop is not None else None
            if stop_reason or limits.expired() or solver.last_reason == "interrupted":
                result.stopped = True
                result.note = stop_reason or ("interrupted" if solver.last_reason == "interrupted" else "time budget")
            elif not result.note:
                result.note = f"solver unknown ({solver.last_reason})"
        if on_query is not None:
            on_query()
        return answer, point

    refuted = False
    for piece in claim.pieces(n):
        order = list(piece.constraints)
        interior, interior_point = ask(f"[{piece.label}] interior", order)
        if interior is not Answer.SAT:
            continue  # UNSAT: the piece misses the region; UNKNOWN: recorded as undecided
        beats = _violation_terms(region.logits, piece.target)
        if beats is None:
            violated, boundary_point = Answer.SAT, interior_point
        else:
            # Closed region (its boundary included), inputs strictly ordered, some j beats t.
            violated, boundary_point = ask(f"[{piece.label}] violation", order, beats, closed=True)
        if violated is Answer.UNKNOWN:
            continue
        if violated is Answer.UNSAT:
            _, tied = _prediction_constraints(region.logits, piece.target) or ([], False)
            result.cones.append(
                Cone(region.index, piece.label, piece.target, piece.target, tied, tuple(open_region + order),
                     _point(interior_point))
            )
            continue
        # A violation point exists (a proven counterexample); now split the piece by prediction.
        refuted = True
        found_open_violation = False
        for p in range(n):
            prediction = _prediction_constraints(region.logits, p)
            if prediction is None:
                continue
            extra, tied = prediction
            cone = open_region + order + extra
            answer, point = ask(f"[{piece.label}] argmax=x{p}", order + extra)
            if answer is Answer.SAT:
                result.cones.append(Cone(region.index, piece.label, piece.target, p, tied, tuple(cone), _point(point)))
                if p != piece.target:
                    found_open_violation = True
        if not found_open_violation:
            result.boundary_violations.append(Violation(region.index, piece.label, piece.target, _point(boundary_point)))
    if refuted:
        result.verdict = Verdict.REFUTED
    elif result.undecided:
        result.verdict = Verdict.UNKNOWN
    return result


def _point(point: tuple[Fraction, ...] | None) -> tuple[Fraction, ...]:
    """A SAT answer's witness (always present: Z3 gives a model with every SAT answer)."""
    if point is None:
        raise RuntimeError("a satisfiable query came back without a witness point")
    return point
