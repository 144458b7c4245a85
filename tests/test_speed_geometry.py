"""Exact geometry that replaced solver calls on the hot path (issue 12), against Z3 and the old code.

The oracles are independent of the code under test: Z3 deciding each open cone over the
rationals (`decide`), the search run with Z3 as its decider (the design before issue 12), and
the rational double description of verify.geometry.solid (`cone_geometry`) for rays and facets.
"""

from __future__ import annotations

import json
from fractions import Fraction
from io import StringIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from verify.check.regions import DeciderMismatch, RegionSearch
from verify.cli.main import main
from verify.core.linear import Constraint, Op
from verify.core.network import ExactRNN
from verify.geometry.integer_cone import GrowingCone, integer_direction
from verify.geometry.solid import cone_geometry, geometry_of
from verify.smt.solver import Answer, SolverStats, decide

# small dyadic weights, zeros and repeats included: dead neurons, identical rows, ties
WEIGHT = st.sampled_from([Fraction(v, 4) for v in range(-8, 9)])
VECTOR3 = st.tuples(*[st.integers(-4, 4)] * 3).filter(any)


def networks(max_d: int = 3) -> st.SearchStrategy[ExactRNN]:
    @st.composite
    def build(draw: st.DrawFn) -> ExactRNN:
        d = draw(st.integers(1, max_d))
        n = draw(st.integers(2, 3))
        w_hi = tuple(draw(WEIGHT) for _ in range(d))
        w_hh = tuple(tuple(draw(WEIGHT) for _ in range(d)) for _ in range(d))
        w_oh = tuple(tuple(draw(WEIGHT) for _ in range(d)) for _ in range(n))
        return ExactRNN(w_hi, w_hh, w_oh)

    return build()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_geometry_search_finds_exactly_the_regions_z3_finds(net: ExactRNN) -> None:
    by_z3 = list(RegionSearch(net, SolverStats(), decider="z3").run())
    search = RegionSearch(net, SolverStats(), decider="geometry")
    by_geometry = list(search.run())
    assert search.state.complete
    assert [(r.pattern, r.constraints, r.logits) for r in by_geometry] == [
        (r.pattern, r.constraints, r.logits) for r in by_z3
    ]
    for region in by_geometry:  # the cone kept with each region is the region's own cone
        assert geometry_of(region.cone) == cone_geometry(region.interior(), net.seq_len)


@settings(max_examples=60, deadline=None)
@given(st.lists(VECTOR3, min_size=1, max_size=7))
def test_grown_cone_decides_emptiness_and_geometry_like_z3_and_the_rational_method(normals: list) -> None:
    """Cut R^3 by a . x > 0 one normal at a time: each step's emptiness is Z3's answer, and the
    geometry of every non-empty cone equals the rational double description's, ray order included."""
    cone = GrowingCone.whole_space(3, 4096)
    constraints: list[Constraint] = []
    for a in normals:
        c = Constraint(tuple(Fraction(v) for v in a), Op.GT)
        answer, _ = decide(3, constraints + [c], SolverStats())
        direction = integer_direction(c.coeffs)
        above, _ = cone.sides(direction)
        assert above == (answer is Answer.SAT)
        if not above:
            return
        constraints.append(c)
        if not cone.has(direction):
            cone = cone.add(direction)
        assert geometry_of(cone) == cone_geometry(constraints, 3)
        point = cone.interior_point()
        assert all(c.holds(tuple(Fraction(v) for v in point)) for c in constraints)  # strictly inside


def test_cross_check_runs_both_deciders_and_reports_the_same() -> None:
    """`verify check --cross-check`: same report (apart from solver statistics and timing) as the
    default run on the bundled n = 3 model, with more solver checks (Z3 re-decides the search)."""
    reports = {}
    for extra in ([], ["--cross-check"]):
        out = StringIO()
        code = main(["check", str(ROOT / "models" / "trained_2_3.pth"), "--json", "-", "-q", *extra], stdout=out, stderr=StringIO())
        assert code == 1  # refuted
        reports[bool(extra)] = json.loads(out.getvalue())
    plain, crossed = reports[False], reports[True]
    assert crossed["solver"]["checks"] > plain["solver"]["checks"]
    for report in (plain, crossed):
        report.pop("solver"), report.pop("timing")
    assert plain == crossed


def test_cross_check_catches_a_geometry_that_lies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: a geometry that calls every branch non-empty is caught by Z3 at once."""
    net = ExactRNN((Fraction(1), Fraction(-1)), ((Fraction(-1), Fraction(1)), (Fraction(1), Fraction(-1))),
                   ((Fraction(1), Fraction(-1)), (Fraction(-1), Fraction(1))))
    monkeypatch.setattr(GrowingCone, "sides", lambda self, c: (True, True))
    with pytest.raises(DeciderMismatch):
        list(RegionSearch(net, SolverStats(), decider="both").run())
