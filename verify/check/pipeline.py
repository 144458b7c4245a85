"""The whole check of one model: regions -> claim -> measures -> counterexamples.

Produces a `CheckResult`, pure data that the report writers render. The verdict is
"proved" only if the region search completed and every region's claim was decided UNSAT
(no counterexample) by Z3 over exact rationals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

from verify.check.claims import Cone, RegionClaimResult, Verdict, check_region
from verify.core.claim import Claim, KthArgmaxClaim, mismatch
from verify.core.errors import InputError
from verify.check.float32_band import float32_uncertain_measure
from verify.check.counterexamples import Counterexample, confirm, interior_point
from verify.formats.torch_model import Float32Model
from verify.geometry.planar import extreme_rays_2d, line_rays_in_cone_2d
from verify.core.linear import Vector, sub
from verify.core.weights import ModelWeights
from verify.geometry import cone_measure
from mpmath import mpf

from verify.geometry.measure import Measure, method_for, total, working_precision
from verify.core.network import ExactRNN
from verify.check.regions import Budget, Region, RegionSearch, SearchState
from verify.check.sampling import SampleEstimate, sample_error_rate
from verify.geometry.integer_cone import GrowingCone
from verify.geometry.solid import (MAX_CERTIFIED_RANK, ConeGeometry, geometry_measure, geometry_of, rank,
                                   measured_cone)
from verify.smt.solver import ExactSolver, QueryLimits, SolverStats, interrupt_active_solvers
from verify.check.standardize import Standardized, standardize


class StopFlag:
    """Why a run must stop, set from a signal handler's helper thread or any other thread.

    `set` records the first reason and interrupts every running Z3 check, so the search stops
    at once; everything already decided is kept and the verdict can no longer be "proved".
    """

    def __init__(self) -> None:
        self._reason: str | None = None
        self._signal: int | None = None

    def set(self, reason: str, signal_number: int | None = None) -> None:
        if self._reason is None:
            self._reason = reason
            self._signal = signal_number
        interrupt_active_solvers()

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def signal_number(self) -> int | None:
        return self._signal

    def __call__(self) -> str | None:
        """The `should_stop` form: the reason, or None while the run may go on."""
        return self._reason


@dataclass(frozen=True)
class CheckOptions:
    claim: Claim = KthArgmaxClaim(2)
    budget: Budget = Budget()
    collect_queries: bool = False
    timeout_ms: int | None = 10_000  # per query; None: up to the remaining time budget
    max_counterexamples: int = 50
    estimate_samples: int = 100_000  # Monte Carlo estimate when no exact error rate exists (0: none)
    estimate_seed: int = 0
    cross_check: bool = False  # Z3 re-decides every region query of the search (exact geometry decides)


@dataclass(frozen=True)
class RegionRays:
    """Exact directions on a 2-D region: its boundary, where Delta = 0, and the diagonal."""

    boundary: tuple[Vector, ...]
    decision: tuple[Vector, ...]
    diagonal: tuple[Vector, ...]


@dataclass
class RegionOutcome:
    region: Region
    claim: RegionClaimResult
    measure: Measure | None
    rays: RegionRays | None
    geometry: ConeGeometry | None = None  # n >= 3: exact extreme rays and facets (None if too many rays)
    # one per cone of `claim.cones`, computed once here so that renderers only read them
    cone_measures: tuple[Measure | None, ...] = ()
    cone_geometries: tuple[ConeGeometry | None, ...] = ()  # n >= 3 (else all None)


@dataclass(frozen=True)
class CheckResult:
    """Everything one check found, built once by `check_model`; renderers only read it."""

    weights: ModelWeights
    network: ExactRNN
    standardized: Standardized
    claim: Claim
    verdict: Verdict
    regions: list[RegionOutcome]
    cones: list[Cone]
    cone_measures: list[Measure | None]
    counterexamples: list[Counterexample]
    search: SearchState
    stats: SolverStats
    seconds: float
    error: Measure | None = None
    tie: Measure | None = None
    error_strict: Measure | None = None
    error_estimate: SampleEstimate | None = None  # only when there is no exact error rate; never exact
    float32_uncertain: Measure | None = None  # where float32 rounding may differ (n = 2; float32_bounds.py)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped by a StopFlag: never "proved"
    counterexamples_total: int = 0  # misclassified cones + boundary violations found, before the cap
    error_lower_bound: Measure | None = None  # search or a region undecided: misclassified cones found so far
    undecided_regions: list[str] = field(default_factory=list)  # patterns of regions/subtrees not decided

    @property
    def misclassified(self) -> list[tuple[Cone, Measure | None]]:
        return [(c, m) for c, m in zip(self.cones, self.cone_measures) if not c.correct]

    def cone_geometry(self, cone: Cone) -> ConeGeometry | None:
        """The geometry stored for `cone` by its region's outcome (n >= 3; None if not computed)."""
        for outcome in self.regions:
            if outcome.region.index == cone.region:
                for own, geometry in zip(outcome.claim.cones, outcome.cone_geometries):
                    if own == cone:
                        return geometry
        return None


def region_rays_2d(region: Region) -> RegionRays:
    delta = sub(region.logits[1], region.logits[0])
    diagonal = (Fraction(1), Fraction(-1))
    return RegionRays(
        boundary=tuple(extreme_rays_2d(region.interior())),
        decision=tuple(line_rays_in_cone_2d(delta, region.constraints)),
        diagonal=tuple(line_rays_in_cone_2d(diagonal, region.constraints)),
    )


@dataclass
class EvaluatedRegions:
    """Every region found, its claim result and measures, in search order, plus the search state."""

    outcomes: list[RegionOutcome]
    cones: list[Cone]
    cone_measures: list[Measure | None]
    state: SearchState


RegionSource = Callable[[ExactRNN, CheckOptions, SolverStats], EvaluatedRegions]


def evaluate_region(
    region: Region,
    options: CheckOptions,
    stats: SolverStats,
    *,
    limits: QueryLimits | None = None,
    should_stop: Callable[[], str | None] | None = None,
    on_query: Callable[[], None] | None = None,
    solver: ExactSolver | None = None,
) -> RegionOutcome:
    """The claim, the measure and the rays of one region (the unit of work a search yields).

    `solver`: the worker's one Z3 solver for claims (a fresh one per region if None)."""
    n = region.n
    claim_result = check_region(
        region, options.claim, stats, collect_queries=options.collect_queries,
        limits=limits if limits is not None else QueryLimits(timeout_ms=options.timeout_ms),
        should_stop=should_stop, on_query=on_query, solver=solver,
    )
    if n >= 3:
        # every cone's geometry comes from the cone grown once (search path, then the claim's cuts)
        geometry = claim_result.geometry
        measured = [_measured(grown, n) if grown is not None else measured_cone(cone.constraints, n)
                    for grown, cone in zip(claim_result.grown, claim_result.cones)]
        measure = _region_measure(geometry, [m for _, m in measured], n)
        return RegionOutcome(region, claim_result, measure, None, geometry,
                             cone_measures=tuple(m for _, m in measured), cone_geometries=tuple(g for g, _ in measured))
    rays = region_rays_2d(region) if n == 2 else None
    return RegionOutcome(region, claim_result, cone_measure(region.interior(), n), rays,
                         cone_measures=tuple(cone_measure(cone.constraints, n) for cone in claim_result.cones),
                         cone_geometries=tuple(None for _ in claim_result.cones))


def _region_measure(geometry: ConeGeometry | None, pieces: list[Measure | None], n: int) -> Measure | None:
    """The region's Gaussian mass. For n >= 4, where each cone costs certified quadrature, it is the
    sum of its claim cones' masses: they split the region (the claim's pieces cover R^n up to the
    measure-zero ties between inputs, and each piece of the region is cut by the predicted index),
    so the region is not integrated a second time. For n <= 3 its own closed form."""
    if n >= 4 and pieces and all(m is not None for m in pieces):
        return total(pieces, method_for(n))  # type: ignore[arg-type]
    return None if geometry is None else geometry_measure(geometry)


def _measured(grown: GrowingCone, n: int) -> tuple[ConeGeometry | None, Measure | None]:
    """`measured_cone` of the same constraints, from the grown cone: no geometry past the certified rank."""
    if n > MAX_CERTIFIED_RANK and rank(grown.normals) > MAX_CERTIFIED_RANK:
        return None, None
    geometry = geometry_of(grown)
    return geometry, None if geometry is None else geometry_measure(geometry)


def evaluate_regions(
    network: ExactRNN,
    options: CheckOptions,
    stats: SolverStats,
    *,
    prefix: Sequence[bool] = (),
    on_region: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], str | None] | None = None,
) -> EvaluatedRegions:
    """Search the regions (below `prefix`, if given) and evaluate each one as it is found.

    A region whose claim Z3 could not fully decide stays in the list, marked undecided, and the
    search goes on; an interrupt or the time budget running out stops it at once.
    """
    budget = options.budget
    search = RegionSearch(
        network, stats, budget=budget, prefix=prefix, should_stop=should_stop, timeout_ms=options.timeout_ms,
        decider="both" if options.cross_check else "geometry",
    )
    solver: ExactSolver | None = None
    outcomes: list[RegionOutcome] = []
    cones: list[Cone] = []
    cone_measures: list[Measure | None] = []

    def progress() -> None:
        if on_region is not None:
            on_region(len(outcomes), stats.checks)

    for region in search.run():
        limits = QueryLimits(options.timeout_ms, search.deadline, budget.clock)
        if solver is None:  # one Z3 context for every claim of this search (the worker)
            solver = ExactSolver(network.seq_len, stats, limits=limits)
        outcome = evaluate_region(region, options, stats, limits=limits, should_stop=should_stop, on_query=progress,
                                  solver=solver)
        outcomes.append(outcome)
        cones.extend(outcome.claim.cones)
        cone_measures.extend(outcome.cone_measures)
        progress()
        if outcome.claim.stopped:
            reason = should_stop() if should_stop is not None else None
            search.stop(reason or (budget.time_reason() if limits.expired() else "interrupted"))
    return EvaluatedRegions(outcomes, cones, cone_measures, search.state)


def check_model(
    weights: ModelWeights,
    options: CheckOptions = CheckOptions(),
    *,
    on_region: Callable[[int, int], None] | None = None,
    stop: StopFlag | None = None,
    should_stop: Callable[[], str | None] | None = None,
    region_source: "RegionSource | None" = None,
) -> CheckResult:
    """Run the exact check; `on_region(regions_done, checks)` reports progress.

    `region_source` replaces the sequential region loop (e.g. verify.check.parallel's subtree split);
    it must return the same `EvaluatedRegions` that `evaluate_regions` would.
    """
    start = time.perf_counter()
    problem = mismatch(options.claim.name, int(weights.w_oh.shape[0]))
    if problem:  # e.g. a one-output ScalarRNN handed to a classification command (encode, a library caller)
        raise InputError(f"{weights.path}: {problem}")
    if stop is not None:
        should_stop = stop
    network = ExactRNN.from_weights(weights)
    n = network.seq_len
    stats = SolverStats()
    if region_source is None:
        evaluated = evaluate_regions(network, options, stats, on_region=on_region, should_stop=should_stop)
    else:
        evaluated = region_source(network, options, stats)
    outcomes, cones, cone_measures = evaluated.outcomes, evaluated.cones, evaluated.cone_measures
    search_state = evaluated.state
    interrupted = should_stop is not None and should_stop() is not None
    undecided_regions = [p.split(" (")[0] for p in search_state.undecided_prefixes]
    undecided_regions += [o.region.pattern_text for o in outcomes if o.claim.undecided]
    # Every region found and every claim query answered, by Z3, over exact rationals.
    decided = search_state.complete and not undecided_regions and not interrupted
    verdicts = [o.claim.verdict for o in outcomes]
    if Verdict.REFUTED in verdicts:
        verdict = Verdict.REFUTED
    elif decided and all(v is Verdict.PROVED for v in verdicts):
        verdict = Verdict.PROVED
    else:
        verdict = Verdict.UNKNOWN

    model = Float32Model(weights)
    patterns = {o.region.index: o.region.pattern for o in outcomes}
    counterexamples: list[Counterexample] = []
    for cone in cones:
        if cone.correct or len(counterexamples) >= options.max_counterexamples:
            continue
        counterexamples.append(
            confirm(interior_point(cone, n), region=cone.region, piece=cone.piece, network=network,
                    model=model, claim=options.claim, measure_zero=False, constraints=cone.constraints,
                    pattern=patterns[cone.region], predicted=cone.predicted)
        )
    # A boundary point shared by two regions is one violation: count and list it once.
    boundary_points = {v.point for o in outcomes for v in o.claim.boundary_violations}
    listed_points: set[tuple[Fraction, ...]] = set()
    for outcome in outcomes:
        for violation in outcome.claim.boundary_violations:
            if len(counterexamples) >= options.max_counterexamples:
                break
            if violation.point in listed_points:
                continue
            listed_points.add(violation.point)
            counterexamples.append(
                confirm(violation.point, region=violation.region, piece=violation.piece, network=network,
                        model=model, claim=options.claim, measure_zero=True,
                        pattern=outcome.region.pattern, target=violation.target)
            )

    wrong = [m for c, m in zip(cones, cone_measures) if not c.correct]
    method = method_for(n)
    error = tie = error_strict = error_lower_bound = None
    notes: list[str] = []
    if decided and all(m is not None for m in wrong):
        # every misclassified cone is measured (e.g. there is none): the error rate is exact
        error = total((m for m in wrong if m is not None), method)
        if all(o.measure is not None for o in outcomes) and all(m is not None for m in cone_measures):
            tie = total((m for c, m in zip(cones, cone_measures) if c.tied and m is not None), method)
            error_strict = total(
                (m for c, m in zip(cones, cone_measures) if ((not c.correct) or c.tied) and m is not None), method
            )
    elif decided and n <= MAX_CERTIFIED_RANK:
        # some cone's quadrature was not certified: the others bound the rate on both sides, since
        # all the cones of a complete search split R^n, so the missing ones hold at most what is left
        missing = [i for i, m in enumerate(cone_measures) if m is None]
        known = [m for m in cone_measures if m is not None]
        with working_precision():
            rest = max(mpf(0), 1 - sum((m.lower for m in known), mpf(0)))
            found = total((m for m in wrong if m is not None), method)
            wrong_missing = any(not cones[i].correct for i in missing)
            error = Measure(found.lower, found.upper + (rest if wrong_missing else mpf(0)), method)
        notes.append(
            f"{len(missing)} cone(s) without a certified measure (the quadrature gave up): the error rate is "
            "the certified interval [lower, upper] bounding them by what the measured cones leave; cones: "
            + ", ".join(f"{cones[i].region}:{cones[i].piece}" for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        )
    elif not decided:
        error_lower_bound = total((m for m in wrong if m is not None), method)
        notes.append(
            "search incomplete or regions undecided: the error rate is only bounded below by the "
            "misclassified cones found (error_rate_lower_bound)"
        )
    error_estimate = None
    if error is None and options.estimate_samples > 0:
        error_estimate = sample_error_rate(
            weights, options.estimate_samples, seed=options.estimate_seed, claim=options.claim
        )
        notes.append(
            "no exact error rate (search incomplete, or cones of rank >= 6 or not certified by quadrature): "
            f"error_rate_estimate is a Monte Carlo ESTIMATE on the float32 model "
            f"({options.estimate_samples} samples, seed {options.estimate_seed}), not a bound"
        )
    float32_uncertain = None
    if n == 2 and search_state.complete and not interrupted and outcomes:
        float32_uncertain = float32_uncertain_measure(network, [o.region for o in outcomes])
    return CheckResult(
        weights=weights,
        network=network,
        standardized=standardize(network),
        claim=options.claim,
        verdict=verdict,
        regions=outcomes,
        cones=cones,
        cone_measures=cone_measures,
        counterexamples=counterexamples,
        search=search_state,
        stats=stats,
        seconds=time.perf_counter() - start,
        error=error,
        tie=tie,
        error_strict=error_strict,
        error_estimate=error_estimate,
        float32_uncertain=float32_uncertain,
        notes=notes,
        interrupted=interrupted,
        counterexamples_total=sum(1 for c in cones if not c.correct) + len(boundary_points),
        error_lower_bound=error_lower_bound,
        undecided_regions=undecided_regions,
    )
