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
