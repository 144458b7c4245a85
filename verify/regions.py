"""Enumerate the activation regions of a bias-free ReLU RNN by depth-first search.

Walking the steps t = 0..n-1 and neurons i = 0..d-1 in order, each decision "neuron i is
active at step t" adds the linear constraint c . x > 0 (inactive: c . x < 0) where c . x is
the neuron's pre-activation, linear in x given the decisions above it. Z3 (incremental
push/pop, exact rationals) prunes branches whose open cone is empty, so every leaf is a
region with non-empty interior. Boundaries (c . x = 0) have measure zero; on them both
branches give the same value, so closed regions cover the whole input space.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterator, Sequence

from verify.linear import Constraint, Op, Vector, is_zero
from verify.network import ExactRNN, Matrix
from verify.solver import Answer, ExactSolver, SolverStats

Pattern = tuple[tuple[bool, ...], ...]


def pattern_text(bits: Sequence[bool], d: int) -> str:
    """'10|01' style text: one group of d bits per step, '1' = active."""
    chars = "".join("1" if b else "0" for b in bits)
    return "|".join(chars[k : k + d] for k in range(0, len(chars), d)) if chars else ""


def parse_pattern(text: str) -> tuple[bool, ...]:
    return tuple(ch == "1" for ch in text if ch in "01")


@dataclass(frozen=True)
class Region:
    """One activation pattern with non-empty interior: an open polyhedral cone in R^n."""

    index: int
    pattern: Pattern
    constraints: tuple[Constraint, ...]  # closed form (>= 0 / <= 0); the interior is their strict form
    logits: Matrix  # logit_k(x) = logits[k] . x on this region
    d: int

    @property
    def n(self) -> int:
        return len(self.logits)

    @property
    def pattern_text(self) -> str:
        return pattern_text([b for step in self.pattern for b in step], self.d)

    def interior(self) -> tuple[Constraint, ...]:
        return tuple(c.strict() for c in self.constraints)

    def contains(self, x: Sequence[Fraction], *, strictly: bool = False) -> bool:
        return all((c.strict() if strictly else c).holds(x) for c in self.constraints)


@dataclass(frozen=True)
class Budget:
    """Limits on a search; `None` means unlimited."""

    max_regions: int | None = None
    time_budget: float | None = None

    def deadline(self, start: float) -> float | None:
        return None if self.time_budget is None else start + self.time_budget


@dataclass
class SearchState:
    """What the search has done so far; filled in while regions are yielded."""

    complete: bool = False
    stop_reason: str = ""
    undecided_prefixes: list[str] = field(default_factory=list)
    nodes: int = 0
    regions: int = 0


class RegionSearch:
    """Depth-first region enumeration; iterate `run()` to receive regions as they are found."""

    def __init__(
        self,
        network: ExactRNN,
        stats: SolverStats,
        *,
        budget: Budget = Budget(),
        prefix: Sequence[bool] = (),
        should_stop: Callable[[], str | None] | None = None,
        timeout_ms: int = 10_000,
    ) -> None:
        self.net = network
        self.stats = stats
        self.budget = budget
        self.prefix = tuple(prefix)
        self.state = SearchState()
        self._should_stop = should_stop
        self._timeout_ms = timeout_ms
        self._deadline: float | None = None
        self._stopped = False

    # -- budget -----------------------------------------------------------------------------
    def _out_of_budget(self) -> bool:
        if self._stopped:
            return True
        reason = ""
        if self.budget.max_regions is not None and self.state.regions >= self.budget.max_regions:
            reason = f"region budget of {self.budget.max_regions} reached"
        elif self._deadline is not None and time.perf_counter() > self._deadline:
            reason = f"time budget of {self.budget.time_budget:g} s reached"
        elif self._should_stop is not None:
            reason = self._should_stop() or ""
        if reason:
            self._stopped = True
            self.state.stop_reason = reason
        return self._stopped

    def stop(self, reason: str) -> None:
        """Ask the search to stop at its next step (e.g. the claim checker ran out of budget)."""
        if not self._stopped:
            self._stopped = True
            self.state.stop_reason = reason

    # -- search -----------------------------------------------------------------------------
    def run(self) -> Iterator[Region]:
        n, d = self.net.seq_len, self.net.hidden_size
        self._deadline = self.budget.deadline(time.perf_counter())
        solver = ExactSolver(n, self.stats, timeout_ms=self._timeout_ms)
        zero: Vector = tuple(Fraction(0) for _ in range(n))
        h0 = tuple(zero for _ in range(d))
        yield from self._visit(solver, 0, 0, h0, [], [], [])
        if not self._stopped:
            self.state.complete = True

    def _pre_activation(self, t: int, i: int, h: Sequence[Vector]) -> Vector:
        n, d = self.net.seq_len, self.net.hidden_size
        row = self.net.w_hh[i]
        return tuple(
            sum((row[j] * h[j][k] for j in range(d)), Fraction(0)) + (self.net.w_hi[i] if k == t else 0)
            for k in range(n)
        )

    def _visit(
        self,
        solver: ExactSolver,
        t: int,
        i: int,
        h: tuple[Vector, ...],
        outputs: list[Vector],
        bits: list[bool],
        constraints: list[Constraint],
    ) -> Iterator[Region]:
        n, d = self.net.seq_len, self.net.hidden_size
        if self._out_of_budget():
            self.state.undecided_prefixes.append(pattern_text(bits, d))
            return
        self.state.nodes += 1
        if i == d:
            h, outputs, t, i = tuple(outputs), [], t + 1, 0
        if t == n:
            yield self._leaf(bits, constraints, h)
            return
        c = self._pre_activation(t, i, h)
        depth = len(bits)
        forced = self.prefix[depth] if depth < len(self.prefix) else None
        if is_zero(c):
            # Pre-activation identically 0: the neuron outputs 0 everywhere; no constraint.
            if forced is True:
                return
            yield from self._visit(solver, t, i + 1, h, outputs + [tuple(Fraction(0) for _ in c)], bits + [False], constraints)
            return
        zero_form = tuple(Fraction(0) for _ in c)
        active_answer: Answer | None = None
        if forced is not False:
            solver.push()
            solver.add(Constraint(c, Op.GT))
            active_answer = solver.check()
            if active_answer is Answer.SAT:
                yield from self._visit(
                    solver, t, i + 1, h, outputs + [c], bits + [True], constraints + [Constraint(c, Op.GE)]
                )
            elif active_answer is Answer.UNKNOWN:
                self.state.undecided_prefixes.append(pattern_text(bits + [True], d) + " (solver unknown)")
                self.stop("the solver answered unknown on a region query")
            solver.pop()
        if forced is True:
            return
        if self._out_of_budget():
            self.state.undecided_prefixes.append(pattern_text(bits + [False], d))
            return
        solver.push()
        solver.add(Constraint(c, Op.LT))
        if active_answer is Answer.UNSAT:
            # The parent's open cone is non-empty and misses c . x > 0, so it meets c . x < 0.
            inactive_answer = Answer.SAT
        else:
            inactive_answer = solver.check()
        if inactive_answer is Answer.SAT:
            yield from self._visit(
                solver, t, i + 1, h, outputs + [zero_form], bits + [False], constraints + [Constraint(c, Op.LE)]
            )
        elif inactive_answer is Answer.UNKNOWN:
            self.state.undecided_prefixes.append(pattern_text(bits + [False], d) + " (solver unknown)")
            self.stop("the solver answered unknown on a region query")
        solver.pop()

    def _leaf(self, bits: list[bool], constraints: list[Constraint], h: tuple[Vector, ...]) -> Region:
        n, d = self.net.seq_len, self.net.hidden_size
        logits: Matrix = tuple(
            tuple(sum((row[j] * h[j][k] for j in range(d)), Fraction(0)) for k in range(n)) for row in self.net.w_oh
        )
        pattern: Pattern = tuple(tuple(bits[s * d : (s + 1) * d]) for s in range(n))
        region = Region(
            index=self.state.regions, pattern=pattern, constraints=tuple(constraints), logits=logits, d=d
        )
        self.state.regions += 1
        return region
