"""Issue 18 #4, the confirm group's survivors: what check_model does with what the search found,
and what the counterexample checks re-derive from the network alone.

Three kinds of expectation, all independent of the code under test:
- a synthetic search (a `region_source` returning hand-made regions, cones and measures): the
  error rate, its label and the notes follow by hand from those few numbers;
- tiny integer networks whose forward pass is written here in Fractions;
- real checks of small models, compared with facts about the cones (a geometry's rays lie in
  its own cone, a region's mass is its cones' sum) rather than with stored outputs.
"""

from __future__ import annotations

from fractions import Fraction as F
from types import SimpleNamespace

import pytest
from mpmath import mpf

import verify.check.counterexamples as cx
import verify.check.pipeline as pipeline
from verify.check.claims import Verdict, witness_signs
from verify.check.counterexamples import WitnessMismatch, check_witness, confirm, interior_point
from verify.check.pipeline import CheckOptions, EvaluatedRegions, check_model, evaluate_region, evaluate_regions
from verify.check.regions import RegionSearch, SearchState
from verify.core.claim import KthArgmaxClaim
from verify.core.errors import InputError
from verify.core.network import ExactRNN
from verify.corpus.handcrafted import weights_of
from verify.formats import load_weights
from verify.formats.torch_model import Float32Model
from verify.geometry.measure import Measure
from verify.geometry.solid import geometry_measure
from verify.smt.solver import SolverStats

M22 = "models/algzoo/2nd_argmax_2_2.pth"
# the method labels of an empty sum, as documented in geometry/measure.py for each n
LABEL = {3: "exact-solid-angle", 4: "certified-quadrature-4d", 5: "certified-quadrature-5d"}


# -- a synthetic search: check_model's arithmetic on hand-made measures --------------------------

def _weights(n: int):  # type: ignore[no-untyped-def]
    """Any n-output model: the synthetic source never looks at it (one neuron, logits w_i h)."""
    return weights_of([[1.0]], [[0.5]], [[1.0 / (i + 1)] for i in range(n)], path=f"synthetic_{n}")


def _m(v: float) -> Measure:
    return Measure(mpf(v), mpf(v), "synthetic")


def _cone(region: int, piece: str, *, correct: bool, tied: bool = False):  # type: ignore[no-untyped-def]
    return SimpleNamespace(region=region, piece=piece, target=0, predicted=0 if correct else 1, tied=tied,
                           correct=correct, constraints=(f"c{region}{piece}",))


def _outcome(index: int, cones, *, violations=(), undecided=False, measure=0.5):  # type: ignore[no-untyped-def]
    region = SimpleNamespace(index=index, pattern=((index,),), pattern_text=f"p{index}")
    verdict = Verdict.UNKNOWN if undecided else (Verdict.PROVED if all(c.correct for c in cones) else Verdict.REFUTED)
    claim = SimpleNamespace(verdict=verdict, undecided=undecided, boundary_violations=list(violations), cones=cones)
    return SimpleNamespace(region=region, claim=claim, measure=None if measure is None else _m(measure))


def synthetic(n: int, outcomes, measures, *, complete=True, prefixes=(), max_counterexamples=0,  # type: ignore[no-untyped-def]
              monkeypatch=None):
    """check_model on a search that 'found' `outcomes` with `measures` (one per cone, in order).

    With `monkeypatch`, confirm and interior_point are replaced by recorders and the calls are
    returned too."""
    cones = [c for o in outcomes for c in o.claim.cones]
    state = SearchState(complete=complete, undecided_prefixes=list(prefixes))
    calls: list[dict] = []
    if monkeypatch is not None:
        monkeypatch.setattr(pipeline, "interior_point", lambda cone, n: ("inside", cone.region, cone.piece))
        monkeypatch.setattr(pipeline, "confirm", lambda x, **kw: calls.append({"x": x, **kw}) or SimpleNamespace(x=x))
    result = check_model(_weights(n), CheckOptions(estimate_samples=0, max_counterexamples=max_counterexamples),
                         region_source=lambda net, opts, stats: EvaluatedRegions(outcomes, cones, list(measures), state))
    return (result, calls) if monkeypatch is not None else result


@pytest.mark.parametrize("n", [3, 4, 5])
def test_a_correct_complete_search_has_zero_rates_labelled_by_n(n: int) -> None:
    result = synthetic(n, [_outcome(0, [_cone(0, "a", correct=True), _cone(0, "b", correct=True)])],
                       [_m(0.25), _m(0.75)])
    assert result.verdict is Verdict.PROVED
    for rate in (result.error, result.tie, result.error_strict):
        assert rate is not None and rate.lower == rate.upper == 0 and rate.method == LABEL[n]


@pytest.mark.parametrize("n", [3, 4])
def test_an_unfinished_search_bounds_below_by_zero_labelled_by_n(n: int) -> None:
    result = synthetic(n, [_outcome(0, [_cone(0, "a", correct=True)])], [_m(0.5)], complete=False,
                       prefixes=["01|1 (time budget)", "1"])
    assert result.verdict is Verdict.UNKNOWN and result.error is None
    assert result.error_lower_bound is not None and result.error_lower_bound.upper == 0
    assert result.error_lower_bound.method == LABEL[n]
    assert result.undecided_regions == ["01|1", "1"]  # the bare patterns, without the note


def test_a_correct_but_unmeasured_cone_leaves_no_tie_rate() -> None:
    # every misclassified cone (none) is measured, so the error is exactly 0; the tie and strict
    # rates need every cone, and one correct cone has no measure
    result = synthetic(3, [_outcome(0, [_cone(0, "a", correct=True), _cone(0, "b", correct=True, tied=True)])],
                       [_m(0.5), None])
    assert result.error is not None and result.error.upper == 0
    assert result.tie is None and result.error_strict is None


@pytest.mark.parametrize("n", [3, 5])
def test_an_unmeasured_misclassified_cone_brackets_the_rate_by_what_is_left(n: int) -> None:
    # cones: correct 0.5, wrong 0.125 measured, wrong unmeasured (its true mass: 1 - 0.625 at most)
    cones = [_cone(0, "a", correct=True), _cone(0, "b", correct=False), _cone(1, "c", correct=False)]
    result = synthetic(n, [_outcome(0, cones[:2]), _outcome(1, cones[2:])], [_m(0.5), _m(0.125), None])
    assert result.verdict is Verdict.REFUTED
    error = result.error
    assert error is not None and error.lower == mpf(0.125) and error.upper == mpf(0.5)
    assert error.method == LABEL[n]
    assert len(result.notes) == 1
    note = result.notes[0]
    assert note.startswith("1 cone(s) without a certified measure") and "[lower, upper]" in note
    assert note.endswith("cones: 1:c")


def test_only_unmeasured_misclassified_cones_bracket_from_zero() -> None:
    cones = [_cone(0, "a", correct=True), _cone(0, "b", correct=False)]
    result = synthetic(3, [_outcome(0, cones)], [_m(0.75), None])
    assert result.error is not None and result.error.lower == 0 and result.error.upper == mpf(0.25)
    assert result.error.method == LABEL[3]


@pytest.mark.parametrize("missing, listed, more", [(10, 10, False), (11, 10, True)])
def test_the_note_lists_at_most_ten_unmeasured_cones(missing: int, listed: int, more: bool) -> None:
    cones = [_cone(0, "ok", correct=True)] + [_cone(i + 1, f"w{i}", correct=False) for i in range(missing)]
    outcomes = [_outcome(0, cones[:1])] + [_outcome(i + 1, [c]) for i, c in enumerate(cones[1:])]
    result = synthetic(3, outcomes, [_m(0.5)] + [None] * missing)
    assert result.error is not None and result.error.upper == mpf(0.5)
    names = ", ".join(f"{i + 1}:w{i}" for i in range(listed))
    assert result.notes[0].startswith(f"{missing} cone(s) without")
    assert result.notes[0].endswith("cones: " + names + (" ..." if more else ""))


def test_n5_gets_the_bracket_n6_does_not() -> None:
    cones = [_cone(0, "a", correct=True), _cone(0, "b", correct=False)]
    five = synthetic(5, [_outcome(0, cones)], [_m(0.75), None])
    assert five.error is not None and five.error.upper == mpf(0.25)
    six = synthetic(6, [_outcome(0, cones)], [_m(0.75), None])
    assert six.error is None and six.error_lower_bound is None  # past the certified rank: no bracket


def test_each_cone_and_boundary_point_is_confirmed_against_its_own_region(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wrong0, wrong1 = _cone(0, "b", correct=False), _cone(1, "c", correct=False)
    shared, other, third = (F(1), F(0), F(0)), (F(0), F(1), F(0)), (F(0), F(0), F(1))
    v = lambda region, piece, point, target: SimpleNamespace(region=region, piece=piece, point=point, target=target)  # noqa: E731
    outcomes = [
        _outcome(0, [_cone(0, "a", correct=True), wrong0], violations=[v(0, "a", shared, 2)]),
        # the shared point again (listed once), then a point of its own after it
        _outcome(1, [wrong1], violations=[v(1, "c", shared, 2), v(1, "c", other, 1), v(1, "d", third, 0)]),
    ]
    result, calls = synthetic(3, outcomes, [_m(0.5), _m(0.25), _m(0.25)], max_counterexamples=50,
                              monkeypatch=monkeypatch)
    assert result.counterexamples_total == 2 + 3  # two misclassified cones, three distinct points
    assert len(result.counterexamples) == len(calls) == 5
    cone_calls, point_calls = calls[:2], calls[2:]
    for call, cone, pattern in zip(cone_calls, (wrong0, wrong1), (((0,),), ((1,),))):
        assert call["x"] == ("inside", cone.region, cone.piece)
        assert call["measure_zero"] is False and call["constraints"] == cone.constraints
        assert call["pattern"] == pattern and call["predicted"] == 1
        assert call.get("target") is None
    assert [c["x"] for c in point_calls] == [shared, other, third]
    assert [c["target"] for c in point_calls] == [2, 1, 0]
    assert [c["pattern"] for c in point_calls] == [((0,),), ((1,),), ((1,),)]
    assert all(c["measure_zero"] is True and c.get("predicted") is None for c in point_calls)


@pytest.mark.parametrize("claim", [KthArgmaxClaim(1), KthArgmaxClaim(2)])
def test_a_one_output_model_is_refused_for_a_classification_claim(claim: KthArgmaxClaim) -> None:
    one = weights_of([[1.0]], [[0.5]], [[1.0]], path="one_output")
    with pytest.raises(InputError) as caught:
        check_model(one, CheckOptions(claim=claim, estimate_samples=0))
    assert "one_output" in str(caught.value) and claim.name in str(caught.value)


# -- the integer forward pass and the witness checks, against a Fraction forward pass -------------

def forward(net: ExactRNN, x):  # type: ignore[no-untyped-def]
    """The exact pass written out: (pre-activations per step, logits), in Fractions."""
    h = [F(0)] * net.hidden_size
    pres = []
    for xt in x:
        pre = [sum((w * hj for w, hj in zip(row, h)), F(0)) + a * xt for row, a in zip(net.w_hh, net.w_hi)]
        pres.append(pre)
        h = [max(v, F(0)) for v in pre]
    return pres, [sum((w * hj for w, hj in zip(row, h)), F(0)) for row in net.w_oh]


def proportional(ints, exact) -> bool:  # type: ignore[no-untyped-def]
    """ints = c * exact for one c > 0."""
    scale = next((F(a) / b for a, b in zip(ints, exact) if b != 0), None)
    return (scale is None or scale > 0) and all(F(a) == (scale or 0) * b for a, b in zip(ints, exact))


# one neuron, h_t = relu(h_{t-1} + x_t), logits (h, -h): at x = (1, 0) every pre-activation is 1
UNIT = weights_of([[1.0]], [[1.0]], [[1.0], [-1.0]], path="unit")
MIXED = weights_of([[0.5], [-0.25]], [[0.5, -1.0], [0.75, 0.25]], [[1.0, -0.5], [-0.25, 1.0], [0.5, 0.5]], path="mixed")


@pytest.mark.parametrize("weights, x", [
    (UNIT, (F(1), F(0))),
    (UNIT, (F(1, 3), F(-1, 3))),
    (MIXED, (F(1, 3), F(-2, 7), F(5, 2))),
    (MIXED, (F(1), F(1), F(-1))),
])
def test_the_integer_pass_is_a_positive_multiple_of_the_exact_pass(weights, x) -> None:  # type: ignore[no-untyped-def]
    net = ExactRNN.from_weights(weights)
    pres, logits = cx._IntegerNetwork(net).run(x)
    want_pres, want_logits = forward(net, x)
    assert len(pres) == len(want_pres)
    for got, want in zip(pres, want_pres):
        assert proportional(got, want)
    assert proportional(logits, want_logits)


def test_the_integer_form_is_built_once_per_network() -> None:
    net = ExactRNN.from_weights(MIXED)
    assert cx._integer_network(net) is cx._integer_network(net)


def test_a_cached_form_of_another_network_under_the_same_id_is_not_used(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    net, other = ExactRNN.from_weights(UNIT), ExactRNN.from_weights(weights_of([[1.0]], [[1.0]], [[-1.0], [1.0]]))
    monkeypatch.setitem(cx._INTEGER.entries, (id(net), None), (other, cx._IntegerNetwork(other)))  # as if `other` had died
    x = (F(1), F(0))
    assert proportional(cx._integer_network(net).run(x)[1], forward(net, x)[1])


def test_a_pre_activation_of_exactly_one_unit_is_active() -> None:
    net = ExactRNN.from_weights(UNIT)
    x = (F(1), F(0))  # pre-activations 1, 1; logits (1, -1): predicted 0
    check_witness(x, net, ((True,), (True,)), predicted=0)  # no WitnessMismatch
    with pytest.raises(WitnessMismatch):
        check_witness(x, net, ((True,), (True,)), predicted=1)


def test_a_boundary_point_may_sit_on_an_inactive_neurons_zero_but_not_above_it() -> None:
    net = ExactRNN.from_weights(UNIT)
    # x = (0, 1): pre-activations 0 then 1, logits (1, -1): in the closure of (inactive, active)
    check_witness((F(0), F(1)), net, ((False,), (True,)), predicted=None, target=1)
    # x = (1, 0): the first pre-activation is 1 > 0, so not in the closure of an inactive neuron
    with pytest.raises(WitnessMismatch):
        check_witness((F(1), F(0)), net, ((False,), (True,)), predicted=None, target=1)


def _confirm_unit(x, **kw):  # type: ignore[no-untyped-def]
    return confirm(x, region=0, piece="p", network=ExactRNN.from_weights(UNIT), model=Float32Model(UNIT),
                   claim=KthArgmaxClaim(2), **kw)


def test_confirm_checks_a_cone_witness_prediction_and_a_boundary_target() -> None:
    x = (F(1), F(0))  # predicted 0 by the hand pass above
    ok = _confirm_unit(x, measure_zero=False, pattern=((True,), (True,)), predicted=0)
    assert ok.predicted_exact == 0
    with pytest.raises(WitnessMismatch):  # the cone says 1: a harness bug
        _confirm_unit(x, measure_zero=False, pattern=((True,), (True,)), predicted=1)
    assert _confirm_unit(x, measure_zero=True, pattern=((True,), (True,)), target=1).measure_zero
    with pytest.raises(WitnessMismatch):  # a boundary witness predicted its own target
        _confirm_unit(x, measure_zero=True, pattern=((True,), (True,)), target=0)


# -- real checks: what evaluate_region stores and how check_model finds it ------------------------

def always_zero():  # type: ignore[no-untyped-def]
    # h_t = relu(x_t - h_{t-1}/2), logits (1, 1/2, 1/4) h: n = 3, index 0 always wins
    return weights_of([[1.0]], [[-0.5]], [[1.0], [0.5], [0.25]], path="always_zero_1_3")


@pytest.fixture(scope="module")
def three():  # type: ignore[no-untyped-def]
    return check_model(always_zero(), CheckOptions(estimate_samples=0))


def _inside_closed(geometry, cone) -> bool:  # type: ignore[no-untyped-def]
    normals = [c.positive_normal() for c in cone.constraints]
    return all(sum((a * r for a, r in zip(nv, ray)), F(0)) >= 0 for nv in normals for ray in geometry.rays)


def test_each_cone_geometry_is_its_own_cones(three) -> None:  # type: ignore[no-untyped-def]
    assert three.regions and any(len(o.claim.cones) >= 2 for o in three.regions)
    for cone in three.cones:
        geometry = three.cone_geometry(cone)
        assert geometry is not None and geometry.n == 3 and geometry.full_dimensional
        assert _inside_closed(geometry, cone)
    # a cone no region holds has no geometry
    stranger = next(iter(three.cones))
    from dataclasses import replace
    assert three.cone_geometry(replace(stranger, region=10**6)) is None


def test_a_cone_not_grown_by_the_search_is_measured_from_its_constraints(monkeypatch, three) -> None:  # type: ignore[no-untyped-def]
    region = three.regions[0].region
    grown = evaluate_region(region, CheckOptions(), SolverStats())
    real = pipeline.check_region

    def without_grown(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        result.grown = [None] * len(result.cones)
        return result

    monkeypatch.setattr(pipeline, "check_region", without_grown)
    plain = evaluate_region(region, CheckOptions(), SolverStats())
    assert len(plain.cone_measures) == len(grown.cone_measures) >= 1
    for a, b in zip(plain.cone_measures, grown.cone_measures):
        assert a is not None and b is not None and a.lower <= b.upper and b.lower <= a.upper
    for cone, geometry in zip(plain.claim.cones, plain.cone_geometries):
        assert geometry is not None and _inside_closed(geometry, cone)


def test_a_cone_without_geometry_has_no_measure(monkeypatch, three) -> None:  # type: ignore[no-untyped-def]
    outcome = evaluate_region(three.regions[0].region, CheckOptions(), SolverStats())
    grown = next(g for g in outcome.claim.grown if g is not None)
    monkeypatch.setattr(pipeline, "geometry_of", lambda cone: None)
    assert pipeline._measured(grown, 3) == (None, None)


def test_a_two_input_region_stores_no_cone_geometry() -> None:
    net = ExactRNN.from_weights(load_weights(M22))
    for region in RegionSearch(net, SolverStats()).run():
        outcome = evaluate_region(region, CheckOptions(), SolverStats())
        assert outcome.cone_geometries == tuple(None for _ in outcome.claim.cones)
        assert len(outcome.cone_measures) == len(outcome.claim.cones)


def test_a_deferred_witness_with_known_signs_is_not_computed() -> None:
    net = ExactRNN.from_weights(load_weights(M22))
    cones = [c for region in RegionSearch(net, SolverStats()).run()
             for c in evaluate_region(region, CheckOptions(), SolverStats()).claim.cones if not c.correct]
    deferred = [c for c in cones if witness_signs(c) is not None]
    assert deferred
    for cone in deferred:
        point = interior_point(cone, 2)
        assert witness_signs(cone) is not None  # still deferred: no Z3 replay was run
        for c in cone.constraints:
            assert sum((a * v for a, v in zip(c.positive_normal(), point)), F(0)) > 0


# -- evaluate_regions: the search and the worker's one solver get the run's settings --------------

def test_the_search_gets_the_runs_stats_and_the_cross_check_decider(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[object, dict]] = []

    class Spy(RegionSearch):
        def __init__(self, network, stats, **kw):  # type: ignore[no-untyped-def]
            seen.append((stats, kw))
            super().__init__(network, stats, **kw)

    monkeypatch.setattr(pipeline, "RegionSearch", Spy)
    net = ExactRNN.from_weights(load_weights(M22))
    for cross, decider in ((True, "both"), (False, "geometry")):
        stats = SolverStats()
        evaluated = evaluate_regions(net, CheckOptions(cross_check=cross, estimate_samples=0), stats)
        assert evaluated.state.complete and len(evaluated.outcomes) == 6  # M_{2,2}: 6 regions
        assert seen[-1][0] is stats and seen[-1][1]["decider"] == decider


def test_one_solver_with_the_runs_query_timeout_serves_every_region(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    made: list[object] = []
    real = pipeline.ExactSolver

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, n, stats, **kw):  # type: ignore[no-untyped-def]
            made.append(kw.get("limits"))
            super().__init__(n, stats, **kw)

    monkeypatch.setattr(pipeline, "ExactSolver", Spy)
    evaluated = evaluate_regions(ExactRNN.from_weights(load_weights(M22)), CheckOptions(timeout_ms=4321), SolverStats())
    assert len(evaluated.outcomes) == 6 and len(made) == 1
    assert made[0] is not None and made[0].timeout_ms == 4321


def _exact(v: mpf) -> F:
    return F(int(v.man)) * F(2) ** int(v.exp)


def test_a_four_input_regions_mass_is_its_cones_sum_not_a_second_integration() -> None:
    # h_t = relu(x_t - h_{t-1}/2), logits (1, 1/2, 1/4, 1/8) h; the fourth region found has 3 cones
    net = ExactRNN.from_weights(weights_of([[1.0]], [[-0.5]], [[1.0], [0.5], [0.25], [0.125]], path="az4"))
    search = iter(RegionSearch(net, SolverStats()).run())
    region = [next(search) for _ in range(4)][-1]
    outcome = evaluate_region(region, CheckOptions(), SolverStats())
    assert outcome.geometry is not None and all(m is not None for m in outcome.cone_measures)
    pieces = list(outcome.cone_measures)
    assert outcome.measure is not None and outcome.measure.method == LABEL[4]
    # binary interval ends add exactly: compare as Fractions, not rounded floats
    assert _exact(outcome.measure.lower) == sum(_exact(m.lower) for m in pieces)
    assert _exact(outcome.measure.upper) == sum(_exact(m.upper) for m in pieces)
    own = geometry_measure(outcome.geometry)  # the region integrated on its own: the same mass
    assert own is not None and own.lower <= outcome.measure.upper and outcome.measure.lower <= own.upper
