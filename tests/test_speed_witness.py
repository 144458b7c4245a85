"""Refuted regions on the worker's solver, witnesses computed only when read (issue 12).

The oracles: the exact network (ExactRNN, Fractions) for where a witness lies and what it is
predicted; Z3 asked afresh, in the order the previous design asked a refuted region's own
solver (each piece's interior, then its prediction splits), for which point a witness must be;
pickling and reading order, which must not change a point.
"""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest

from tests.conftest import ROOT
from verify.check import claims as claims_module
from verify.check.claims import Cone, _DeferredPoint, check_region, witness_signs
from verify.check.pipeline import CheckOptions, check_model
from verify.check.regions import Region, RegionSearch
from verify.core.claim import KthArgmaxClaim, first_argmax
from verify.core.linear import Constraint, Op
from verify.core.network import ExactRNN
from verify.formats import load_weights
from verify.smt.solver import Answer, ExactSolver, SolverStats

MODEL = ROOT / "models" / "trained_2_3.pth"  # n = 3, 13 regions, refuted


def _claim_cones(decider: str = "geometry") -> tuple[ExactRNN, list[Region], list[list[Cone]]]:
    net = ExactRNN.from_weights(load_weights(str(MODEL)))
    regions = list(RegionSearch(net, SolverStats(), decider=decider).run())
    claim = KthArgmaxClaim(2)
    solver = ExactSolver(net.seq_len, SolverStats())  # one worker's solver for every region
    return net, regions, [check_region(r, claim, SolverStats(), solver=solver).cones for r in regions]


def _deferred(cones: list[Cone]) -> bool:
    return any(isinstance(c.__dict__["witness"], _DeferredPoint) for c in cones)


def test_witnesses_lie_inside_their_cones_with_their_predicted_class() -> None:
    net, regions, per_region = _claim_cones()
    assert any(_deferred(cones) for cones in per_region)  # the model has refuted regions
    for region, cones in zip(regions, per_region):
        for cone in cones:
            x = cone.witness
            assert all(c.holds(x) for c in cone.constraints)  # strictly inside (open constraints)
            assert net.pattern(x) == region.pattern
            assert first_argmax(net.logits(x)) == cone.predicted


def test_a_deferred_witness_is_the_point_the_regions_own_fresh_solver_gives() -> None:
    """Oracle: the previous design's queries, asked here in a fresh solver, in its order."""
    net, regions, per_region = _claim_cones()
    claim = KthArgmaxClaim(2)
    checked = 0
    for region, cones in zip(regions, per_region):
        refuted = sorted({c.piece for c in cones if not c.correct}, key=[p.label for p in claim.pieces(3)].index)
        if not refuted or not _deferred(cones):
            continue
        solver = ExactSolver(3, SolverStats())
        solver.add_all(list(region.interior()))
        expected: dict[tuple[str, int], tuple[Fraction, ...]] = {}
        pieces = claim.pieces(3)
        last = max(k for k, p in enumerate(pieces) if p.label in refuted)
        for piece in pieces[: last + 1]:
            order = list(piece.constraints)
            solver.push(), solver.add_all(order)
            assert solver.check() in (Answer.SAT, Answer.UNSAT)
            solver.pop()
            if piece.label not in refuted:
                continue
            for p in range(3):
                extra: list[Constraint] | None = []
                for j in range(3):  # "argmax = p", the first maximum winning a tie
                    diff = tuple(a - b for a, b in zip(region.logits[p], region.logits[j]))
                    if j == p or (not any(diff) and j > p):
                        continue  # identical logits after p: p still comes first
                    if not any(diff):
                        extra = None  # identical logits before p: p is never the argmax
                        break
                    extra.append(Constraint(diff, Op.GT))
                if extra is None:
                    continue
                solver.push(), solver.add_all(order + extra)
                if solver.check() is Answer.SAT:
                    expected[(piece.label, p)] = solver.model_point()
                solver.pop()
        for cone in cones:
            if (cone.piece, cone.predicted) in expected and cone.piece in refuted:
                assert cone.witness == expected[(cone.piece, cone.predicted)]
                checked += 1
    assert checked > 0


def test_reading_order_and_pickling_do_not_change_a_point() -> None:
    _, _, forward = _claim_cones()
    _, _, backward = _claim_cones()
    first = [c.witness for cones in forward for c in cones]
    last = [c.witness for cones in reversed(backward) for c in reversed(cones)][::-1]
    assert first == last
    _, _, fresh = _claim_cones()
    sent = pickle.loads(pickle.dumps([c for cones in fresh for c in cones]))  # as --jobs workers send them
    assert [type(c.__dict__["witness"]) for c in sent] == [tuple] * len(sent)
    assert [c.witness for c in sent] == first
    assert sent == [c for cones in forward for c in cones]


def test_signs_read_from_geometry_are_the_witness_signs() -> None:
    _, _, per_region = _claim_cones()
    known = 0
    for cone in (c for cones in per_region for c in cones):
        signs = witness_signs(cone)
        if signs is not None:
            known += 1
            assert signs == tuple(1 if v > 0 else -1 for v in cone.witness)  # reading resolves it
            assert witness_signs(cone) is None  # resolved: a plain point now
    assert known > 0


def test_an_unanswered_replay_falls_back_to_an_exact_interior_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExactSolver, "point_check", lambda self: None)  # e.g. an interrupt
    net, regions, per_region = _claim_cones()
    for region, cones in zip(regions, per_region):
        for cone in cones:
            assert all(c.holds(cone.witness) for c in cone.constraints)
            assert net.pattern(cone.witness) == region.pattern


def test_check_model_reads_no_witness_it_does_not_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """With one counterexample listed, at most the regions of that one are replayed."""
    runs: list[int] = []
    real = claims_module._WitnessReplay._run
    monkeypatch.setattr(claims_module._WitnessReplay, "_run", lambda self: runs.append(1) or real(self))
    result = check_model(load_weights(str(MODEL)), CheckOptions(max_counterexamples=1, estimate_samples=0))
    refuted = {c.region for c in result.cones if not c.correct}
    assert len(refuted) > 1 and len(runs) <= 1


def test_cross_check_asks_z3_for_the_prediction_splits_and_catches_a_lie(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: geometry that finds every prediction split empty is caught by Z3."""
    net = ExactRNN.from_weights(load_weights(str(MODEL)))
    regions = list(RegionSearch(net, SolverStats(), decider="both").run())
    assert all(r.cross_check for r in regions)
    real_grow = claims_module.grow
    pieces = {tuple(p.constraints) for p in KthArgmaxClaim(2).pieces(3)}
    monkeypatch.setattr(claims_module, "grow",
                        lambda cone, cs: real_grow(cone, cs) if tuple(cs) in pieces or cone is None else None)
    with pytest.raises(ValueError, match="Z3 says sat"):
        for region in regions:
            check_region(region, KthArgmaxClaim(2), SolverStats())
