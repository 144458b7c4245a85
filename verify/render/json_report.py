"""The machine-readable proof report (schema in docs/report-schema.md).

Exact values travel as strings ("p/q" rationals, long decimals); floats are added beside
them for convenience only. Timing lives under "solver" and "timing" so that the verdict
sections of two runs can be compared byte for byte.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any, Sequence

from mpmath import mp, mpf

from verify import __version__
from verify.check.pipeline import CheckResult, RegionOutcome
from verify.check.claims import Cone
from verify.check.counterexamples import Counterexample
from verify.core.network import ExactRNN
from verify.core.linear import Constraint, format_fraction
from verify.geometry.measure import Measure, digits, method_for, working_precision
from verify.geometry.measure import total as sum_measures
from verify.geometry.planar import normalize_ray, ray_angle
from verify.render.coverage import sampled_coverage
from verify.check.sampling import SampleEstimate
from verify.geometry.solid import ConeGeometry

SCHEMA_VERSION = 1
SIGNIFICANT = 30


def _float_down(value: mpf) -> float:
    f = float(value)
    return math.nextafter(f, -math.inf) if mpf(f) > value else f


def _float_up(value: mpf) -> float:
    f = float(value)
    return math.nextafter(f, math.inf) if mpf(f) < value else f


def measure_json(measure: Measure | None) -> dict[str, Any] | None:
    if measure is None:
        return None
    with working_precision():
        value = measure.value
        one_in = None if value == 0 else float(1 / value)
        return {
            "value": float(value),
            "exact": digits(value, SIGNIFICANT),
            "lower": _float_down(measure.lower),
            "upper": _float_up(measure.upper),
            "lower_exact": digits(measure.lower, SIGNIFICANT),
            "upper_exact": digits(measure.upper, SIGNIFICANT),
            "error_bound": mp.nstr(measure.radius, 3) if measure.radius else "0",
            "one_in": one_in,
            "method": measure.method,
        }


def vector_json(v: Sequence[Fraction]) -> list[str]:
    return [format_fraction(x) for x in v]


def ray_json(r: Sequence[Fraction]) -> dict[str, Any]:
    entry: dict[str, Any] = {"direction": vector_json(r), "direction_float": [float(x) for x in r]}
    if len(r) == 2:
        angle = ray_angle(r)
        with working_precision():
            mid = (mpf(angle.a) + mpf(angle.b)) / 2
            entry["angle_rad"] = digits(mid, SIGNIFICANT)
            entry["angle_deg"] = digits(mid * 180 / mp.pi, SIGNIFICANT)
    return entry


def constraint_json(c: Constraint) -> str:
    terms = " + ".join(f"({format_fraction(a)})*x{i}" for i, a in enumerate(c.coeffs) if a != 0) or "0"
    return f"{terms} {c.op.value} 0"


def region_json(outcome: RegionOutcome) -> dict[str, Any]:
    region = outcome.region
    entry: dict[str, Any] = {
        "index": region.index,
        "pattern": region.pattern_text,
        "verdict": outcome.claim.verdict.word,
        "measure": measure_json(outcome.measure),
        "constraints": [constraint_json(c) for c in region.constraints],
        "coefficients": {"logits": [vector_json(row) for row in region.logits]},
    }
    if region.n == 2:
        delta = [region.logits[1][k] - region.logits[0][k] for k in range(2)]
        a0, a1 = delta[0], -delta[1]
        entry["coefficients"].update(
            {"a0": format_fraction(a0), "a1": format_fraction(a1), "a0_float": float(a0), "a1_float": float(a1)}
        )
    if outcome.rays is not None:
        entry["rays"] = {
            "boundary": [ray_json(r) for r in outcome.rays.boundary],
            "decision": [ray_json(r) for r in outcome.rays.decision],
            "diagonal": [ray_json(r) for r in outcome.rays.diagonal],
        }
    if outcome.geometry is not None:
        entry["cone"] = geometry_json(outcome.geometry, outcome.measure)
    if outcome.claim.note:
        entry["note"] = outcome.claim.note
    return entry


def geometry_json(geometry: ConeGeometry, measure: Measure | None) -> dict[str, Any]:
    """n >= 3: the closed cone = cone(extreme_rays) + span(lineality), its facets and solid angle."""
    solid = None
    if measure is not None:
        with working_precision():
            solid = {"steradians": digits(measure.value * 4 * mp.pi, SIGNIFICANT),
                     "of_4pi": digits(measure.value, SIGNIFICANT)}
    return {
        "rank": geometry.rank,
        "extreme_rays": [ray_json(r) for r in geometry.rays],
        "lineality": [vector_json(v) for v in geometry.lineality],
        "facets": [vector_json(a) for a in geometry.facets],
        "solid_angle": solid,
    }


def estimate_json(estimate: SampleEstimate | None) -> dict[str, Any] | None:
    """A Monte Carlo estimate, labelled as such: never an exact value or a bound."""
    if estimate is None:
        return None
    return {
        "value": estimate.rate,
        "standard_error": estimate.standard_error,
        "samples": estimate.samples,
        "errors": estimate.errors,
        "seed": estimate.seed,
        "method": "monte-carlo estimate",
        "model": "float32 PyTorch",
    }


def error_rate_fields(result: CheckResult) -> dict[str, Any]:
    """The report's three error-rate entries (certified, lower bound, estimate), for `rate.error_rate_words`."""
    return {"error_rate": measure_json(result.error),
            "error_rate_lower_bound": measure_json(result.error_lower_bound),
            "error_rate_estimate": estimate_json(result.error_estimate)}


def _matrix_json(matrix: Sequence[Sequence[Fraction]]) -> dict[str, Any]:
    return {
        "exact": [[format_fraction(v) for v in row] for row in matrix],
        "float": [[float(v) for v in row] for row in matrix],
    }


def margin(network: ExactRNN, x: Sequence[Fraction], predicted: int, expected: int) -> Fraction:
    """logit[predicted] - logit[expected] at x over max |x_i|: how wrong, independent of the scale of x."""
    logits = network.logits(x)
    scale = max((abs(v) for v in x), default=Fraction(0))
    return (logits[predicted] - logits[expected]) / scale if scale else Fraction(0)


Listed = dict[tuple[int, str, int], tuple[Fraction, ...]]


def _witnesses(result: CheckResult) -> Listed:
    """The listed counterexample inside each misclassified cone (its deepest point), keyed by (region,
    piece, prediction): one region and piece can hold several cones, one per wrong answer."""
    return {(c.region, c.piece, c.predicted_exact): c.x_exact for c in result.counterexamples if not c.measure_zero}


def cone_witness(result: CheckResult, cone: Cone, listed: Listed) -> tuple[Fraction, ...]:
    """An exact point strictly inside `cone`, scaled to max |x_i| = 1: the listed counterexample, else Z3's witness."""
    point = listed.get((cone.region, cone.piece, cone.predicted))
    if point is not None and not all(c.holds(point) for c in cone.constraints):
        point = None  # a listed point outside this cone (never expected) is not its witness
    return point if point is not None else normalize_ray(cone.witness)


def coverage_json(result: CheckResult, total_measure: dict[str, Any] | None) -> dict[str, Any]:
    """What the search covered: regions and their exact total measure; where that is not measurable
    and the search stopped early, the share of sampled inputs inside the regions found (an estimate)."""
    sampled = None
    if not result.search.complete and total_measure is None:
        found = sampled_coverage(result.network, [[b for step in o.region.pattern for b in step] for o in result.regions])
        sampled = {"samples": found.samples, "inside": found.inside, "fraction": found.fraction,
                   "standard_error": found.standard_error, "seed": found.seed,
                   "method": "monte-carlo estimate", "model": "float64 network"}
    return {"regions": len(result.regions), "complete": result.search.complete, "measure": total_measure,
            "sampled": sampled}


def build_report(result: CheckResult) -> dict[str, Any]:
    weights, std = result.weights, result.standardized
    n = result.network.seq_len
    misclassified = []
    listed = _witnesses(result)
    for cone, measure in result.misclassified:
        witness = cone_witness(result, cone, listed)
        gap = margin(result.network, witness, cone.predicted, cone.target)
        item: dict[str, Any] = {
            "region": cone.region,
            "piece": cone.piece,
            "target": cone.target,
            "predicted": cone.predicted,
            "tied": cone.tied,
            "measure": measure_json(measure),
            "constraints": [constraint_json(c) for c in cone.constraints],
            "witness": vector_json(witness),
            "witness_float": [float(v) for v in witness],
            "margin_exact": format_fraction(gap),
            "margin": float(gap),
        }
        if n == 2:
            from verify.geometry.planar import extreme_rays_2d

            item["rays"] = [ray_json(r) for r in extreme_rays_2d(cone.constraints)]
        elif n == 3:
            geometry = result.cone_geometry(cone)
            if geometry is not None:
                item["rays"] = [ray_json(r) for r in geometry.rays]
        misclassified.append(item)
    counterexamples, total = shown_counterexamples(result)
    for entry, cex in zip(counterexamples, result.counterexamples):
        entry.update(counterexample_margins(result, cex))
    interrupted = bool(getattr(result, "interrupted", False))
    total_measure = measure_json(
        sum_measures((o.measure for o in result.regions if o.measure is not None), method_for(n))
        if all(o.measure is not None for o in result.regions)
        else None
    )
    if result.verdict.word == "proved":
        reason = "every region was decided UNSAT (no counterexample) by Z3 over exact rationals"
    elif result.verdict.word == "refuted":
        found = f"{total} counterexample(s) found by Z3 over exact rationals"
        if counterexamples and all(c["measure_zero"] for c in counterexamples) and total == len(counterexamples):
            found += " (all on boundaries: the violations have measure zero)"
        reason = found + ("; the run was interrupted before the search finished" if interrupted else "")
    else:
        reason = result.search.stop_reason or "some regions were left undecided"
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "relu-verify", "version": __version__},
        "model": {
            "path": weights.path,
            "sha256": weights.sha256,
            "hidden_size": weights.hidden_size,
            "seq_len": weights.seq_len,
            "n_params": weights.n_params,
        },
        "claim": {"name": result.claim.name, "k": result.claim.k, "task": result.claim.task,
                  "statement": result.claim.statement},
        "verdict": result.verdict.word,
        "verdict_reason": reason,
        "complete": result.search.complete,
        "interrupted": interrupted,
        "stop_reason": result.search.stop_reason,
        "undecided": list(getattr(result, "undecided_regions", None) or result.search.undecided_prefixes),
        "error_rate": measure_json(result.error),
        "error_rate_lower_bound": measure_json(getattr(result, "error_lower_bound", None)),
        "error_rate_estimate": estimate_json(result.error_estimate),
        "error_rate_strict": measure_json(result.error_strict),
        "tie_measure": measure_json(result.tie),
        "float32_uncertain_measure": measure_json(result.float32_uncertain),
        "regions_total_measure": total_measure,
        "regions": [region_json(o) for o in result.regions],
        "misclassified_cones": misclassified,
        "counterexamples_total": total,
        "counterexamples": counterexamples,
        "standardized": {
            "W_hi": _matrix_json([[v] for v in std.network.w_hi]),
            "W_hh": _matrix_json(std.network.w_hh),
            "W_oh": _matrix_json(std.network.w_oh),
            "scales": [format_fraction(s) for s in std.scales],
            "zero_input_neurons": list(std.zero_input_neurons),
            "classes": std.classes(),
        },
        "notes": list(result.notes),
        "coverage": coverage_json(result, total_measure),
        "search": {"regions": result.search.regions, "nodes": result.search.nodes},
        "solver": {
            "name": result.stats.solver_name(),
            "version": result.stats.solver_version(),
            "checks": result.stats.checks,
            "unknowns": result.stats.unknowns,
            "seconds": round(result.stats.seconds, 6),
        },
        "timing": {"seconds": round(result.seconds, 6)},
    }
    return report


def counterexample_json(c: Counterexample) -> dict[str, Any]:
    return {
        "region": c.region,
        "piece": c.piece,
        "x": list(c.x_float32),
        "x_exact": vector_json(c.x_exact),
        "x_float32": list(c.x_float32),
        "logits_float32": list(c.logits_float32),
        "expected": c.expected,
        "predicted": c.predicted_float32,
        "predicted_exact": c.predicted_exact,
        "float32_confirmed": c.float32_confirmed,
        "measure_zero": c.measure_zero,
        "thin": bool(getattr(c, "thin", False)),
    }


def counterexample_margins(result: CheckResult, c: Counterexample) -> dict[str, Any]:
    """Margins of a counterexample: exact at x_exact (the exact network, expected from x_exact), and
    PyTorch's at x_float32 for the same wrong index (negative: float32 prefers the right answer there)."""
    expected_exact = result.claim.expected(c.x_exact)
    gap = margin(result.network, c.x_exact, c.predicted_exact, expected_exact)
    scale = max((abs(v) for v in c.x_float32), default=0.0)
    logits = c.logits_float32
    gap32 = (logits[c.predicted_exact] - logits[c.expected]) / scale if scale else 0.0
    return {"expected_exact": expected_exact, "margin_exact": format_fraction(gap), "margin": float(gap),
            "margin_float32": float(gap32)}


def shown_counterexamples(result: CheckResult) -> tuple[list[dict[str, Any]], int]:
    """The listed counterexamples and the total found before the `--max-counterexamples` cap
    (the pipeline lists and counts a boundary point shared by two regions once)."""
    return [counterexample_json(c) for c in result.counterexamples], result.counterexamples_total


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"
