"""Enumerate the activation regions of a bias-free ReLU RNN by depth-first search.

The search keeps an explicit stack (no recursion: depth is d*n decisions, thousands for big
networks) and visits the active branch before the inactive one at every decision.

Walking the steps t = 0..n-1 and neurons i = 0..d-1 in order, each decision "neuron i is
active at step t" adds the linear constraint c . x > 0 (inactive: c . x < 0) where c . x is
the neuron's pre-activation, linear in x given the decisions above it. Z3 (incremental
push/pop, exact rationals) prunes branches whose open cone is empty, so every leaf is a
region with non-empty interior. Boundaries (c . x = 0) have measure zero; on them both
branches give the same value, so closed regions cover the whole input space.

Which branches are empty is decided by exact geometry by default: the search grows each path's
closed cone one constraint at a time (verify.geometry.integer_cone, integer double description),
and a branch is non-empty exactly when one of its parent's generators lies strictly on its side.
The cone reached at a leaf is kept with the region, so its rays, facets and measure are computed
once. `decider="z3"` asks Z3 instead (incremental push/pop, exact rationals, as before), and
`decider="both"` (`--cross-check`) asks both and raises `DeciderMismatch` if they ever disagree.

A query Z3 cannot decide (a timeout) leaves its subtree undecided and the search goes on; an
interrupt or a spent budget stops it. Either way the search is then not `complete`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterator, Sequence

from verify.core.linear import Constraint, Op, Vector, common_denominator
from verify.core.network import ExactRNN, Matrix
from verify.geometry.integer_cone import GrowingCone, primitive_int
from verify.geometry.solid import default_max_rays
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SolverStats, primitive

DECIDERS = ("geometry", "z3", "both")
GEOMETRY_MAX_N = 5  # past this many inputs a cone's extreme rays can explode: "geometry" means Z3


class DeciderMismatch(RuntimeError):
    """Exact geometry and Z3 disagree on a region query: a harness bug, never a result to report."""

Pattern = tuple[tuple[bool, ...], ...]


def pattern_text(bits: Sequence[bool], d: int) -> str:
    """'10|01' style text: one group of d bits per step, '1' = active."""
    chars = "".join("1" if b else "0" for b in bits)
    return "|".join(chars[k : k + d] for k in range(0, len(chars), d)) if chars else ""


def parse_pattern(text: str) -> tuple[bool, ...]:
    return tuple(ch == "1" for ch in text if ch in "01")


def unknown_queries_reason(count: int) -> str:
    """The stop reason of a search whose only gaps are region queries the solver left undecided."""
    return f"the solver could not decide {count} region quer{'y' if count == 1 else 'ies'}"


@dataclass(frozen=True)
class Region:
    """One activation pattern with non-empty interior: an open polyhedral cone in R^n."""

    index: int
    pattern: Pattern
    constraints: tuple[Constraint, ...]  # closed form (>= 0 / <= 0); the interior is their strict form
    logits: Matrix  # logit_k(x) = logits[k] . x on this region
    d: int
    # the closed cone grown along the search path (None when Z3 alone decided the search)
    cone: GrowingCone | None = field(default=None, compare=False, repr=False)
    # found under --cross-check: what exact geometry decides about this region, Z3 re-decides
    cross_check: bool = field(default=False, compare=False, repr=False)

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
    """Limits on a search; `None` means unlimited.

    `time_budget` is the user's budget in seconds (stop reasons name it); `deadline_at`, when
    given, is the absolute `clock()` reading at which to stop instead of start + time_budget
    (a worker's share of its parent's budget). `clock` is injectable so tests need no real time.
    """

    max_regions: int | None = None
    time_budget: float | None = None
    deadline_at: float | None = None
    clock: Callable[[], float] = time.monotonic

    def deadline(self, start: float) -> float | None:
        if self.deadline_at is not None:
            return self.deadline_at
        return None if self.time_budget is None else start + self.time_budget

    def time_reason(self) -> str:
        if self.time_budget is None:
            return "time budget reached"
        return f"time budget of {self.time_budget:g} s reached"

    def region_reason(self) -> str:
        return f"region budget of {self.max_regions} reached"


@dataclass
class SearchState:
    """What the search has done so far; filled in while regions are yielded."""

    complete: bool = False
    stop_reason: str = ""
    undecided_prefixes: list[str] = field(default_factory=list)
    nodes: int = 0
    regions: int = 0
    unknown_queries: int = 0  # region queries Z3 could not decide (their subtrees are undecided)


@dataclass(frozen=True)
class _PreActivation:
    """A neuron's input at step t as a linear form in x: exact, as integers times D^-(t+1)
    (D: the weights' common denominator), and as coprime integers (its direction)."""

    coeffs: Vector
    scaled: tuple[int, ...]  # coeffs * D^(t+1), the neuron's output form at the next step if active
    direction: tuple[int, ...]


@dataclass(frozen=True)
class _Node:
    """Visit the node at `depth`, reached by appending `decision` (bit, scaled output form,
    constraint, its pre-activation's direction)."""

    depth: int
    decision: tuple[bool, tuple[int, ...], Constraint | None, tuple[int, ...] | None] | None


@dataclass(frozen=True)
class _Inactive:
    """After the active branch at `depth`: pop its scope (if pushed), then try the inactive one."""

    depth: int
    form: _PreActivation
    forced: bool | None
    active: Answer | None


@dataclass(frozen=True)
class _Pop:
    """Close the solver scope of a finished branch."""


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
        timeout_ms: int | None = 10_000,
        decider: str = "geometry",
    ) -> None:
        if decider not in DECIDERS:
            raise ValueError(f"decider must be one of {DECIDERS}, not {decider!r}")
        self.net = network
        self.stats = stats
        self.budget = budget
        self.prefix = tuple(prefix)
        self.state = SearchState()
        self._should_stop = should_stop
        self._timeout_ms = timeout_ms
        self.deadline: float | None = None  # absolute, on budget.clock; set when run() starts
        self._stopped = False
        # The current path: one (bit, output form, constraint or None) per decision. Output forms
        # of step t are integers, h_(t+1) * D^(t+1): Python ints instead of Fractions.
        self._bits: list[bool] = []
        self._forms: list[tuple[int, ...]] = []
        self._constraints: list[Constraint | None] = []
        self._live: dict[int, list[tuple[int, tuple[int, ...]]]] = {}  # step t -> nonzero entries of h_t on the path
        self._memo: dict[int, dict[int, _PreActivation]] = {}  # step t -> pre-activation by identical-row class
        weights = [*network.w_hi, *(v for row in network.w_hh for v in row), *(v for row in network.w_oh for v in row)]
        self._den = common_denominator(weights)  # a power of two for float32 weights
        self._a_hi = [int(w * self._den) for w in network.w_hi]
        self._a_hh = [[int(w * self._den) for w in row] for row in network.w_hh]
        self._a_oh = [[int(w * self._den) for w in row] for row in network.w_oh]
        self._row_class = _row_classes(network)
        # Directions asserted strictly on the path: primitive form -> depth of its first decision.
        self._signs: dict[tuple[Fraction, ...], int] = {}
        if decider == "geometry" and network.seq_len > GEOMETRY_MAX_N:
            decider = "z3"
        self.decider = decider
        self._use_geometry = decider != "z3"
        self._use_z3 = decider != "geometry"
        # _cones[k]: the closed cone of the first k decisions (geometry deciders only)
        self._cones: list[GrowingCone] = []

    # -- budget -----------------------------------------------------------------------------
    def _time_is_up(self) -> bool:
        return self.deadline is not None and self.budget.clock() >= self.deadline

    def _out_of_budget(self) -> bool:
        if self._stopped:
            return True
        reason = ""
        if self._should_stop is not None:
            reason = self._should_stop() or ""
        if not reason and self._time_is_up():
            reason = self.budget.time_reason()
        if reason:
            self.stop(reason)
        return self._stopped

    def stop(self, reason: str) -> None:
        """Ask the search to stop at its next step (e.g. an interrupt, or the time budget ran out)."""
        if not self._stopped:
            self._stopped = True
            self.state.stop_reason = reason

    def _undecided(self, bits: Sequence[bool], note: str = "") -> None:
        d = self.net.hidden_size
        self.state.undecided_prefixes.append(pattern_text(bits, d) + (f" ({note})" if note else ""))

    def _unknown(self, solver: "ExactSolver | _NoSolver", bits: Sequence[bool]) -> None:
        """A region query came back unknown: an interrupt or the budget stops the search, a
        query timeout only leaves this subtree undecided."""
        if self._out_of_budget():
            self._undecided(bits)
            return
        self.state.unknown_queries += 1
        self._undecided(bits, f"solver unknown: {solver.last_reason}")

    # -- search -----------------------------------------------------------------------------
    def run(self) -> Iterator[Region]:
        n, d = self.net.seq_len, self.net.hidden_size
        self.deadline = self.budget.deadline(self.budget.clock())
        limits = QueryLimits(self._timeout_ms, self.deadline, self.budget.clock)
        solver: ExactSolver | _NoSolver = ExactSolver(n, self.stats, limits=limits) if self._use_z3 else _NoSolver()
        if self._use_geometry:
            self._cones = [GrowingCone.whole_space(n, default_max_rays(n))]
        stack: list[_Node | _Inactive | _Pop] = [_Node(0, None)]
        while stack:
            frame = stack.pop()
            if isinstance(frame, _Pop):
                solver.pop()
            elif isinstance(frame, _Inactive):
                self._inactive(solver, frame, stack)
            else:
                self._enter(frame)
                region = self._node(solver, frame.depth, stack)
                if region is not None:
                    yield region
        if not self._stopped and not self.state.undecided_prefixes:
            self.state.complete = True
        elif not self.state.stop_reason:
            self.state.stop_reason = unknown_queries_reason(self.state.unknown_queries)

    def _truncate(self, depth: int) -> None:
        """Forget the decisions at `depth` and below (the path backs up to that node)."""
        del self._cones[depth + 1 :]
        if not self._use_z3:
            del self._bits[depth:], self._forms[depth:], self._constraints[depth:]
            return
        for constraint in self._constraints[depth:]:
            if constraint is not None:
                key = _direction(constraint.coeffs, constraint.op is Op.GE)
                if self._signs.get(key, -1) >= depth:
                    del self._signs[key]
        del self._bits[depth:], self._forms[depth:], self._constraints[depth:]

    def _enter(self, node: _Node) -> None:
        keep = node.depth - (1 if node.decision is not None else 0)
        self._truncate(keep)
        if node.decision is not None:
            bit, form, constraint, direction = node.decision
            self._bits.append(bit)
            self._forms.append(form)
            self._constraints.append(constraint)
            if self._use_geometry:
                cone = self._cones[keep]
                if direction is not None:
                    normal = direction
                    if not bit:
                        normal = tuple(-v for v in normal)
                    if not cone.has(normal):
                        cone = cone.add(normal)
                self._cones.append(cone)
            if constraint is not None and self._use_z3:
                self._signs.setdefault(_direction(constraint.coeffs, constraint.op is Op.GE), keep)

    def _decide(self, solver: "ExactSolver | _NoSolver", pre: _PreActivation, positive: bool) -> Answer:
        """Is the current open cone non-empty with c . x > 0 (positive) or < 0? Geometry and/or Z3."""
        c = pre.coeffs
        z3_answer = None
        if self._use_z3:
            form = c if positive else tuple(-v for v in c)
            implied = self._implied(form)
            z3_answer = implied if implied is not None else solver.check()
            if not self._use_geometry:
                return z3_answer
        above, below = self._cones[-1].sides(pre.direction)
        answer = Answer.SAT if (above if positive else below) else Answer.UNSAT
        if z3_answer is not None and z3_answer is not Answer.UNKNOWN and z3_answer is not answer:
            raise DeciderMismatch(
                f"region {pattern_text(self._bits, self.net.hidden_size)}: geometry says {answer.value}, "
                f"Z3 says {z3_answer.value} for {'>' if positive else '<'} 0 of {[str(v) for v in c]}"
            )
        return answer

    def _implied(self, c: Vector) -> Answer | None:
        """The answer to "c . x > 0" on the current (non-empty, open) cone when the path already
        asserts c or -c strictly up to a positive factor; None when Z3 must decide."""
        if _direction(c, True) in self._signs:
            return Answer.SAT
        if _direction(c, False) in self._signs:
            return Answer.UNSAT
        return None

    def _hidden(self, t: int) -> list[tuple[int, ...]]:
        """h_t * D^t as integer linear forms in x on the current path (the outputs of step t - 1)."""
        d = self.net.hidden_size
        return self._forms[(t - 1) * d : t * d] if t > 0 else []

    def _pre_activation(self, t: int, i: int) -> _PreActivation:
        """Neuron i's pre-activation at step t on the current path, as a linear form in x.

        The nonzero entries of h_t are listed once per step (at its first neuron, which every
        path through the step visits first), so a neuron costs O(active neurons), not O(d).
        Integer arithmetic: with h_t * D^t held as integers, D W_hh (h_t D^t) + D W_hi D^t e_t is
        the pre-activation times D^(t+1); its exact Fractions are made once, by one division each."""
        if i == 0:
            self._live[t] = [(j, v) for j, v in enumerate(self._hidden(t)) if any(v)]
            self._memo[t] = {}
        known = self._memo[t].get(self._row_class[i])
        if known is not None:
            return known
        n = self.net.seq_len
        row = self._a_hh[i]
        acc = [0] * n
        for j, v in self._live.get(t, []):
            w = row[j]
            if w:
                for k in range(n):
                    acc[k] += w * v[k]
        acc[t] += self._a_hi[i] * self._den**t
        scaled = tuple(acc)
        den = self._den ** (t + 1)
        pre = _PreActivation(tuple(Fraction(v, den) for v in scaled), scaled, primitive_int(scaled))
        self._memo[t][self._row_class[i]] = pre
        return pre

    def _node(self, solver: "ExactSolver | _NoSolver", depth: int, stack: list[_Node | _Inactive | _Pop]) -> Region | None:
        n, d = self.net.seq_len, self.net.hidden_size
        if self._out_of_budget():
            self._undecided(self._bits)
            return None
        self.state.nodes += 1
        if depth == n * d:
            if self.budget.max_regions is not None and self.state.regions >= self.budget.max_regions:
                # A region beyond the budget exists: the search is not complete.
                self.stop(self.budget.region_reason())
                self._undecided(self._bits)
                return None
            return self._leaf()
        t, i = divmod(depth, d)
        pre = self._pre_activation(t, i)
        c = pre.coeffs
        forced = self.prefix[depth] if depth < len(self.prefix) else None
        if not any(pre.scaled):
            # Pre-activation identically 0: the neuron outputs 0 everywhere; no constraint.
            if forced is not True:
                stack.append(_Node(depth + 1, (False, pre.scaled, None, None)))
            return None
        if forced is False:
            stack.append(_Inactive(depth, pre, forced, None))
            return None
        solver.push()
        solver.add(Constraint(c, Op.GT))
        active = self._decide(solver, pre, True)
        stack.append(_Inactive(depth, pre, forced, active))
        if active is Answer.SAT:
            stack.append(_Node(depth + 1, (True, pre.scaled, Constraint(c, Op.GE), pre.direction)))
        elif active is Answer.UNKNOWN:
            self._unknown(solver, self._bits + [True])
        return None

    def _inactive(self, solver: "ExactSolver | _NoSolver", frame: _Inactive, stack: list[_Node | _Inactive | _Pop]) -> None:
        if frame.active is not None:
            solver.pop()
        if frame.forced is True:
            return
        self._truncate(frame.depth)
        if self._out_of_budget():
            self._undecided(self._bits + [False])
            return
        pre = frame.form
        c = pre.coeffs
        solver.push()
        solver.add(Constraint(c, Op.LT))
        stack.append(_Pop())
        if frame.active is Answer.UNSAT:
            # The parent's open cone is non-empty and misses c . x > 0, so it meets c . x < 0.
            answer = Answer.SAT
        else:
            answer = self._decide(solver, pre, False)
        if answer is Answer.SAT:
            stack.append(_Node(frame.depth + 1, (False, (0,) * len(c), Constraint(c, Op.LE), pre.direction)))
        elif answer is Answer.UNKNOWN:
            self._unknown(solver, self._bits + [False])

    def _leaf(self) -> Region:
        n, d = self.net.seq_len, self.net.hidden_size
        h = self._hidden(n)  # h_n * D^n: the logits come out times D^(n+1)
        den = self._den ** (n + 1)
        logits: Matrix = tuple(
            tuple(Fraction(sum(row[j] * h[j][k] for j in range(d) if row[j]), den) for k in range(n))
            for row in self._a_oh
        )
        bits = self._bits
        pattern: Pattern = tuple(tuple(bits[s * d : (s + 1) * d]) for s in range(n))
        constraints = tuple(c for c in self._constraints if c is not None)
        region = Region(index=self.state.regions, pattern=pattern, constraints=constraints, logits=logits, d=d,
                        cone=self._cones[-1] if self._use_geometry else None,
                        cross_check=self._use_geometry and self._use_z3)
        self.state.regions += 1
        return region


class _NoSolver:
    """Stands in for the solver when geometry alone decides: scopes and constraints are no-ops."""

    last_reason = ""

    def push(self) -> None:
        pass

    def pop(self) -> None:
        pass

    def add(self, constraint: Constraint) -> None:
        pass


def _direction(coeffs: Sequence[Fraction], positive: bool) -> tuple[Fraction, ...]:
    """The ray {x : coeffs . x > 0} (or < 0) as coprime integer coefficients, up to a positive factor."""
    form = primitive(coeffs)
    return form if positive else tuple(-v for v in form)


def _row_classes(network: ExactRNN) -> list[int]:
    """For each neuron, the first neuron with the same input weight and recurrent row: such
    neurons have the same pre-activation at every step on every path."""
    first: dict[tuple[tuple[int, int], ...], int] = {}
    classes = []
    for i, row in enumerate(network.w_hh):
        key = tuple((v.numerator, v.denominator) for v in (network.w_hi[i], *row))
        classes.append(first.setdefault(key, i))
    return classes
