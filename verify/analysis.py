"""The whole check of one model: regions -> claim -> measures -> counterexamples.

Produces a `CheckResult`, pure data that the report writers render. The verdict is
"proved" only if the region search completed and every region's claim was decided UNSAT
(no counterexample) by Z3 over exact rationals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from verify.claims import Cone, KthArgmaxClaim, RegionClaimResult, Verdict, check_region
from verify.counterexamples import Counterexample, confirm, interior_point
from verify.float32 import Float32Model
from verify.geometry import extreme_rays_2d, line_rays_in_cone_2d
from verify.linear import Vector, sub
from verify.loading import ModelWeights
from verify.measures import Measure, cone_measure, total
from verify.network import ExactRNN
from verify.regions import Budget, Region, RegionSearch, SearchState
from verify.solver import SolverStats
from verify.standardize import Standardized, standardize


@dataclass(frozen=True)
class CheckOptions:
    claim: KthArgmaxClaim = KthArgmaxClaim(2)
    budget: Budget = Budget()
    collect_queries: bool = False
    timeout_ms: int = 10_000
    max_counterexamples: int = 50


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


@dataclass
class CheckResult:
    weights: ModelWeights
    network: ExactRNN
    standardized: Standardized
    claim: KthArgmaxClaim
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
    notes: list[str] = field(default_factory=list)

    @property
    def misclassified(self) -> list[tuple[Cone, Measure | None]]:
        return [(c, m) for c, m in zip(self.cones, self.cone_measures) if not c.correct]


def region_rays_2d(region: Region) -> RegionRays:
    delta = sub(region.logits[1], region.logits[0])
    diagonal = (Fraction(1), Fraction(-1))
    return RegionRays(
        boundary=tuple(extreme_rays_2d(region.interior())),
        decision=tuple(line_rays_in_cone_2d(delta, region.constraints)),
        diagonal=tuple(line_rays_in_cone_2d(diagonal, region.constraints)),
    )


def check_model(
    weights: ModelWeights,
    options: CheckOptions = CheckOptions(),
    *,
    on_region: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], str | None] | None = None,
) -> CheckResult:
    """Run the exact check; `on_region(regions_done, checks)` reports progress."""
    start = time.perf_counter()
    network = ExactRNN.from_weights(weights)
    n = network.seq_len
    stats = SolverStats()
    search = RegionSearch(
        network, stats, budget=options.budget, should_stop=should_stop, timeout_ms=options.timeout_ms
    )
    outcomes: list[RegionOutcome] = []
    cones: list[Cone] = []
    cone_measures: list[Measure | None] = []
    measured = True
    for region in search.run():
        claim_result = check_region(
            region, options.claim, stats, collect_queries=options.collect_queries, timeout_ms=options.timeout_ms
        )
        measure = cone_measure(region.interior(), n)
        measured = measured and measure is not None
        rays = region_rays_2d(region) if n == 2 else None
        outcomes.append(RegionOutcome(region, claim_result, measure, rays))
        for cone in claim_result.cones:
            cones.append(cone)
            cone_measures.append(cone_measure(cone.constraints, n))
        if on_region is not None:
            on_region(len(outcomes), stats.checks)
        if claim_result.verdict is Verdict.UNKNOWN:
            search.stop("the solver answered unknown on a claim query")

    verdicts = [o.claim.verdict for o in outcomes]
    if Verdict.REFUTED in verdicts:
        verdict = Verdict.REFUTED
    elif search.state.complete and all(v is Verdict.PROVED for v in verdicts):
        verdict = Verdict.PROVED
    else:
        verdict = Verdict.UNKNOWN

    model = Float32Model(weights)
    counterexamples: list[Counterexample] = []
    for cone in cones:
        if cone.correct or len(counterexamples) >= options.max_counterexamples:
            continue
        counterexamples.append(
            confirm(interior_point(cone, n), region=cone.region, piece=cone.piece, network=network,
                    model=model, claim=options.claim, measure_zero=False)
        )
    for outcome in outcomes:
        for violation in outcome.claim.boundary_violations:
            if len(counterexamples) >= options.max_counterexamples:
                break
            counterexamples.append(
                confirm(violation.point, region=violation.region, piece=violation.piece, network=network,
                        model=model, claim=options.claim, measure_zero=True)
            )

    result = CheckResult(
        weights=weights,
        network=network,
        standardized=standardize(network),
        claim=options.claim,
        verdict=verdict,
        regions=outcomes,
        cones=cones,
        cone_measures=cone_measures,
        counterexamples=counterexamples,
        search=search.state,
        stats=stats,
        seconds=0.0,
    )
    if measured and all(m is not None for m in cone_measures) and search.state.complete:
        result.error = total(m for c, m in zip(cones, cone_measures) if not c.correct)  # type: ignore[misc]
        result.tie = total(m for c, m in zip(cones, cone_measures) if c.tied)  # type: ignore[misc]
        result.error_strict = total(
            m for c, m in zip(cones, cone_measures) if (not c.correct) or c.tied  # type: ignore[misc]
        )
    elif not search.state.complete:
        found = [m for c, m in zip(cones, cone_measures) if not c.correct and m is not None]
        if found:
            result.notes.append("search incomplete: the error rate is only bounded below by the cones found")
            result.error = None
    result.seconds = time.perf_counter() - start
    return result
