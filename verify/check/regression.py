"""The exact check of a regression model (AlgZoo's median ScalarRNN): worst case, claim, MSE.

A ScalarRNN is the same bias-free ReLU RNN with one output y = w . h_n, read at any length n
(the length comes from the card or --seq-len, not from the weights). On each activation region
(the existing exact search) y is linear in x, and on each median piece (which coordinates are the
middle ones, `MedianClaim.median_pieces`) so is the median: on their intersection, a closed
polyhedral cone, the error y - median = c . x with exact rational c. Hence:

- worst case: max over all x != 0 of |y - median| / max_i |x_i| = the largest, over the cones, of
  max |c . x| on the cone cut by the cube [-1, 1]^n, an exact LP (verify.check.worst_case); the
  maximizing point is the counterexample, re-run in float32 through PyTorch;
- claim: "|y - median| <= eps * max_i |x_i| everywhere" is proved iff the search completed and the
  exact worst case is <= eps, refuted (with the maximizer) as soon as one cone exceeds eps,
  unknown otherwise (a budget ran out, the undecided regions are listed);
- cross-check (optional): Z3 re-decides each cone's bound over exact rationals in homogeneous form,
  "some x in the closed cone has |c . x| > w * max_i |x_i|" (for each sign s: s c . x - w x_i > 0
  and s c . x + w x_i > 0 for every i), which must be UNSAT at the LP's value w;
- MSE under i.i.d. N(0, 1) inputs: the sum over cones of E[(c . x)^2 ; x in C], enclosed by
  verify.geometry.moments (n = 2, 3); for n >= 4, or without it, a labelled Monte Carlo estimate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np
from mpmath import mpf, sqrt

from verify.check.claims import Verdict, grow, region_cone
from verify.check.regions import Budget, Region, RegionSearch, SearchState, GEOMETRY_MAX_N
from verify.check.worst_case import max_abs_on_cube
from verify.core.claim import MedianClaim
from verify.core.linear import Constraint, Op, Vector, sub
from verify.core.network import ExactRNN
from verify.core.weights import ModelWeights
from verify.formats.torch_model import Float32Model
from verify.geometry.measure import Measure, working_precision
from verify.geometry.measure import total as total_measure
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SolverStats


class WorstCaseMismatch(RuntimeError):
    """Z3 found a point above the exact LP's maximum: a harness bug, never a result to report."""


def exceeds(form: Vector, bound: Fraction, n: int) -> list[Constraint]:
    """|form . x| > bound * max_i |x_i| on the side form . x > 0, as homogeneous strict constraints."""
    result = []
    for i in range(n):
        for sign in (1, -1):
            result.append(Constraint(tuple(c - sign * bound * (1 if k == i else 0) for k, c in enumerate(form)), Op.GT))
    return result


def z3_confirms(piece: "PieceError", closed: list[Constraint], n: int, solver: ExactSolver) -> Answer:
    """UNSAT: no x in the closed cone has |c . x| > worst * max|x_i| (both signs); UNKNOWN: undecided."""
    answers = []
    for sign in (1, -1):
        solver.push()
        solver.add_all(closed + exceeds(tuple(sign * c for c in piece.error_form), piece.worst, n))
        answers.append(solver.check())
        solver.pop()
    if Answer.SAT in answers:
        raise WorstCaseMismatch(f"cone [{piece.label}]: Z3 finds |c . x| above the exact LP maximum {piece.worst}")
    return Answer.UNKNOWN if Answer.UNKNOWN in answers else Answer.UNSAT

MOMENT_MAX_N = 3  # exact Gaussian second moments of cones exist for n = 2, 3 (verify.geometry.moments)
DEFAULT_EPS = Fraction(1, 10)  # |y - median| <= eps * max |x_i|: 10% of the largest input (--eps / the card's eps override it)


@dataclass(frozen=True)
class RegressionOptions:
    """What a regression check needs beyond the weights: the sequence length and the tolerance."""

    seq_len: int
    eps: Fraction = DEFAULT_EPS
    claim: MedianClaim = MedianClaim()
    budget: Budget = Budget()
    timeout_ms: int | None = 10_000
    estimate_samples: int = 200_000  # Monte Carlo MSE when no exact one exists (0: none)
    estimate_seed: int = 0
    cross_check: bool = False  # Z3 re-decides every cone's worst case (verify check --cross-check)


@dataclass(frozen=True)
class PieceError:
    """One closed cone (a region cut by a median piece): the error form and its worst case there."""

    label: str
    error_form: Vector  # y - median = error_form . x on this cone
    worst: Fraction  # max |error_form . x| on the cone ∩ [-1, 1]^n
    worst_point: tuple[Fraction, ...]
    constraints: tuple[Constraint, ...]  # open: region interior and the piece
    second_moment: Measure | None  # E[(c . x)^2 ; x in cone], x ~ N(0, I); None: not available


@dataclass(frozen=True)
class RegressionRegion:
    """An activation region, its output form and the median pieces that meet it."""

    region: Region
    output: Vector  # y = output . x on the region
    pieces: tuple[PieceError, ...]

    @property
    def worst(self) -> Fraction:
        return max((p.worst for p in self.pieces), default=Fraction(0))


@dataclass(frozen=True)
class Float32Check:
    """The maximizer re-run through the real float32 PyTorch model."""

    x_float32: tuple[float, ...]
    y_float32: float
    median_float32: float
    ratio_float32: float  # |y - median| / max |x_i| at the float32 point, in float64 from float32 values
    confirmed: bool  # the float32 model also exceeds eps there


@dataclass(frozen=True)
class MseEstimate:
    """A Monte Carlo estimate of the MSE (never exact): mean of (y - median)^2 over samples."""

    value: float
    standard_error: float
    samples: int
    seed: int


@dataclass(frozen=True)
class RegressionResult:
    """Everything one regression check found; renderers only read it."""

    weights: ModelWeights
    network: ExactRNN  # the scalar model (one output row)
    seq_len: int
    claim: MedianClaim
    eps: Fraction
    verdict: Verdict
    regions: tuple[RegressionRegion, ...]
    worst: Fraction | None  # exact worst case over the cones decided (the global one iff complete)
    worst_point: tuple[Fraction, ...] | None
    worst_region: int | None
    float32: Float32Check | None
    mse: Measure | None  # exact enclosure (complete search, n <= 3, every cone's moment known)
    mse_estimate: MseEstimate | None  # otherwise a labelled estimate
    search: SearchState
    stats: SolverStats
    seconds: float
    notes: tuple[str, ...] = ()
    interrupted: bool = False
    undecided_regions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return self.search.complete and not self.interrupted and not self.undecided_regions

    @property
    def rmse(self) -> tuple[mpf, mpf] | None:
        """[lower, upper] of sqrt(MSE), from the MSE's enclosure."""
        if self.mse is None:
            return None
        with working_precision():
            return sqrt(max(self.mse.lower, mpf(0))), sqrt(self.mse.upper)


def search_network(network: ExactRNN, n: int) -> ExactRNN:
    """The scalar model as the region search reads it: the search takes the sequence length from
    the output rows, so the one output row is repeated n times (every "logit" is y)."""
    return ExactRNN(w_hi=network.w_hi, w_hh=network.w_hh, w_oh=tuple(network.w_oh[0] for _ in range(n)))


def _second_moment(constraints: tuple[Constraint, ...], n: int, form: Vector) -> Measure | None:
    if n > MOMENT_MAX_N:
        return None
    try:
        from verify.geometry.moments import cone_second_moment
    except ImportError:  # the moments module is not there: the MSE falls back to a labelled estimate
        return None
    return cone_second_moment(constraints, n, form)


def evaluate_region(region: Region, claim: MedianClaim, n: int) -> RegressionRegion:
    """Every median piece that meets the region: its exact error form and exact worst case."""
    output = region.logits[0]
    base = region_cone(region) if region.cone is not None or n <= GEOMETRY_MAX_N else None
    rows = [c.positive_normal() for c in region.constraints]
    pieces = []
    for piece in claim.median_pieces(n):
        if base is not None and grow(base, piece.constraints) is None:
            continue  # the piece misses the region's interior
        form = sub(output, piece.median)
        cone_rows = rows + [c.positive_normal() for c in piece.constraints]
        optimum = max_abs_on_cube(form, cone_rows)
        constraints = tuple(region.interior()) + piece.constraints
        pieces.append(PieceError(piece.label, form, optimum.value, optimum.point, constraints,
                                 _second_moment(constraints, n, form)))
    return RegressionRegion(region, output, tuple(pieces))


def float32_check(weights: ModelWeights, point: tuple[Fraction, ...], eps: Fraction) -> Float32Check:
    """Run the maximizer's nearest float32 point through PyTorch and measure the ratio there."""
    x32 = np.array([[float(v) for v in point]], dtype=np.float32)
    y = float(Float32Model(weights).logits(x32)[0][0])
    values = x32[0].astype(np.float64)
    median = float(np.median(values))
    scale = float(np.max(np.abs(values)))
    ratio = abs(y - median) / scale if scale > 0 else 0.0
    return Float32Check(tuple(float(v) for v in x32[0]), y, median, ratio, ratio > float(eps))


def estimate_mse(network: ExactRNN, n: int, samples: int, seed: int, claim: MedianClaim) -> MseEstimate:
    """Monte Carlo MSE of the exact weights in float64 (an ESTIMATE, with its standard error)."""
    rng = np.random.default_rng(seed)
    total, total_sq, done = 0.0, 0.0, 0
    while done < samples:
        size = min(1 << 16, samples - done)
        x = rng.standard_normal((size, n))
        squared = (network.logits_float64(x)[:, 0] - claim.targets(x)) ** 2
        total += float(squared.sum())
        total_sq += float((squared ** 2).sum())
        done += size
    mean = total / done
    variance = max(0.0, total_sq / done - mean * mean)
    return MseEstimate(mean, math.sqrt(variance / done), done, seed)


def check_regression(
    weights: ModelWeights,
    options: RegressionOptions,
    *,
    on_region: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], str | None] | None = None,
) -> RegressionResult:
    """Search every region, decide the worst case exactly, judge the eps claim, measure the MSE."""
    start = time.perf_counter()
    n = options.seq_len
    claim = options.claim
    network = ExactRNN.from_weights(weights)
    stats = SolverStats()
    search = RegionSearch(search_network(network, n), stats, budget=options.budget, should_stop=should_stop,
                          timeout_ms=options.timeout_ms)
    regions: list[RegressionRegion] = []
    unconfirmed: list[str] = []
    solver: ExactSolver | None = None
    for region in search.run():
        outcome = evaluate_region(region, claim, n)
        regions.append(outcome)
        if options.cross_check:
            if solver is None:
                solver = ExactSolver(n, stats, limits=QueryLimits(options.timeout_ms, search.deadline,
                                                                  options.budget.clock))
            for piece in outcome.pieces:
                closed = [c.closed() for c in piece.constraints]
                if z3_confirms(piece, closed, n, solver) is not Answer.UNSAT:
                    unconfirmed.append(region.pattern_text)
                    break
        if on_region is not None:
            on_region(len(regions), stats.checks)
    state = search.state
    interrupted = should_stop is not None and should_stop() is not None
    undecided = tuple(p.split(" (")[0] for p in state.undecided_prefixes) + tuple(unconfirmed)
    complete = state.complete and not interrupted and not undecided
    worst = worst_point = worst_region = None
    for outcome in regions:
        for piece in outcome.pieces:
            if worst is None or piece.worst > worst:
                worst, worst_point, worst_region = piece.worst, piece.worst_point, outcome.region.index
    if worst is not None and worst > options.eps:
        verdict = Verdict.REFUTED
    elif complete:
        verdict = Verdict.PROVED
    else:
        verdict = Verdict.UNKNOWN
    notes: list[str] = []
    float32 = None
    if worst_point is not None and worst is not None and worst > 0:
        float32 = float32_check(weights, worst_point, options.eps)
    moments = [p.second_moment for o in regions for p in o.pieces]
    mse = None
    if complete and moments and all(m is not None for m in moments):
        mse = total_measure([m for m in moments if m is not None])
    estimate = None
    if mse is None and options.estimate_samples > 0:
        estimate = estimate_mse(network, n, options.estimate_samples, options.estimate_seed, claim)
        why = ("n >= 4: no closed form for a cone's Gaussian second moment" if n > MOMENT_MAX_N
               else "search incomplete or a cone's second moment not available")
        notes.append(f"no exact MSE ({why}): mse_estimate is a Monte Carlo ESTIMATE on the exact weights in float64 "
                     f"({estimate.samples} samples, seed {estimate.seed}), not a bound")
    if not complete:
        notes.append("search incomplete or interrupted: the worst case is only a lower bound (the largest over the "
                     "regions found)")
    return RegressionResult(
        weights=weights, network=network, seq_len=n, claim=claim, eps=options.eps, verdict=verdict,
        regions=tuple(regions), worst=worst, worst_point=worst_point, worst_region=worst_region, float32=float32,
        mse=mse, mse_estimate=estimate, search=state, stats=stats, seconds=time.perf_counter() - start,
        notes=tuple(notes), interrupted=interrupted, undecided_regions=undecided,
    )
