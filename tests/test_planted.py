"""Planted counterexamples: networks whose misclassified wedges are known by construction.

The harness must report exactly the planted wedges (the same rational rays, merged across
region boundaries), their exact angle, "refuted" whenever something was planted (even a
measure-zero touch) and "proved" whenever nothing was.
"""

from __future__ import annotations

import io
import random
from fractions import Fraction as F
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st
from mpmath import mp, mpf

from tests.conftest import examples
from verify.check.pipeline import CheckResult, check_model
from verify.cli.main import main
from verify.geometry.planar import cross2, extreme_rays_2d, normalize_ray
from verify.core.network import ExactRNN
from verify.corpus.planted import (KINDS, PlantedNetwork, Tent, Wedge, all_kinds_examples, neurons_for,
                            planted_network, random_planted, tent_of_kind)

# The oracle (planted.error_rate) sums a few atans at 70 digits: it is within 1e-68 of the truth. The
# harness's rigorous enclosure is about 1e-60 wide, so the slack must be far below that width, or an
# enclosure with its ends swapped would still pass.
SLACK = mpf(10) ** -65
WIDTH = mpf(10) ** -50  # an enclosure wider than this is sound but not what 60-digit intervals give
Ray = tuple[F, F]


def _half(r: Ray) -> int:
    return 0 if (r[1] > 0 or (r[1] == 0 and r[0] > 0)) else 1


def _angle_order(r: Ray) -> tuple[int, F]:
    """A sort key increasing with the polar angle of r in [0, 2 pi), exact."""
    x, y = r
    half = _half(r)
    if half == 1:
        x, y = -x, -y
    # within a half-turn the angle increases as the cotangent x/y decreases (y > 0), or y == 0 first
    return (half, F(-10**30) if y == 0 else -x / y)


def merge(wedges: Sequence[tuple[Ray, Ray]]) -> list[tuple[Ray, Ray]]:
    """Join wedges that share a ray (counter-clockwise end of one = start of the next)."""
    items = sorted(((normalize_ray(a), normalize_ray(b)) for a, b in wedges), key=lambda w: _angle_order(w[0]))
    merged: list[tuple[Ray, Ray]] = []
    for a, b in items:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    if len(merged) > 1 and merged[-1][1] == merged[0][0]:
        merged[0] = (merged[-1][0], merged[0][1])
        merged.pop()
    return sorted(merged, key=lambda w: _angle_order(w[0]))


def harness_wedges(result: CheckResult) -> list[tuple[Ray, Ray]]:
    wedges = []
    for cone, _ in result.misclassified:
        rays = extreme_rays_2d(cone.constraints)
        assert len(rays) == 2
        wedges.append((rays[0], rays[1]))
    return merge(wedges)


def planted_wedges(planted: PlantedNetwork) -> list[tuple[Ray, Ray]]:
    return merge([(w.start, w.end) for w in planted.wedges])


def strictly_inside(x: Sequence[F], wedge: Wedge) -> bool:
    return cross2(wedge.start, x) > 0 and cross2(x, wedge.end) > 0  # planted wedges are narrower than pi


def on_ray(x: Sequence[F], ray: Ray) -> bool:
    return cross2(ray, x) == 0 and (ray[0] * x[0] + ray[1] * x[1]) > 0


def check_against_plan(planted: PlantedNetwork) -> CheckResult:
    result = check_model(planted.weights)
    assert result.search.complete
    assert result.verdict.word == planted.expected_verdict, planted.tents
    assert harness_wedges(result) == planted_wedges(planted), planted.tents
    assert result.error is not None
    exact = planted.error_rate()
    assert 0 <= result.error.lower <= result.error.upper <= 1
    assert result.error.upper - result.error.lower < WIDTH
    with mp.workdps(80):  # the sums at 53 bits could round past a 60-digit enclosure (found by hypothesis)
        assert result.error.lower - SLACK <= exact <= result.error.upper + SLACK
    wedges = planted.wedges
    for cex in result.counterexamples:
        if cex.measure_zero:
            assert any(on_ray(cex.x_exact, r) for r in planted.violation_rays), (cex, planted.tents)
        else:
            assert any(strictly_inside(cex.x_exact, w) for w in wedges), (cex, planted.tents)
    if planted.expected_verdict == "proved":
        assert result.error.upper == 0 and not result.counterexamples
    return result


# -- the construction itself, against the exact forward pass ----------------------------------------
def test_construction_matches_the_exact_forward_pass() -> None:
    """Delta of the built network is x0 * phi(x1 / x0) times one power of two (the output scale)."""
    rng = random.Random(7)
    for seed in range(6):
        planted = random_planted(seed)
        net = ExactRNN.from_weights(planted.weights)
        points = [(F(1), F(0)), (F(0), F(1)), (F(-1), F(0)), (F(0), F(-1))]
        points += [(F(rng.randint(-99, 99), 7), F(rng.randint(-99, 99), 9)) for _ in range(40)]
        ratios = set()
        for x in points:
            logits = net.logits(x)
            got, want = logits[1] - logits[0], planted.delta(x)
            if want == 0:
                assert got == 0
            else:
                ratios.add(got / want)
        assert len(ratios) == 1
        ratio = ratios.pop()
        assert ratio > 0 and ratio.numerator & (ratio.numerator - 1) == 0 and ratio.denominator & (ratio.denominator - 1) == 0


def test_clean_network_is_delta_x0_minus_x1() -> None:
    planted = planted_network([])
    net = ExactRNN.from_weights(planted.weights)
    for x in [(F(3), F(-2)), (F(-5, 2), F(7)), (F(1, 3), F(1, 5))]:
        logits = net.logits(x)
        assert logits[1] - logits[0] == x[0] - x[1]
    assert planted.expected_verdict == "proved" and planted.wedges == []


@pytest.mark.parametrize("sign, m", [(-1, F(-1, 2)), (1, F(5, 2)), (-1, F(1, 4)), (1, F(13, 8))])
def test_closed_form_wedge_of_one_flipped_tent(sign: int, m: F) -> None:
    """One flipped tent: its ends solve phi = 0 on the rising and falling pieces, derived here by hand."""
    half = F(1, 4)
    tent = tent_of_kind("flip", m, half, sign)
    a, b, k = tent.a, tent.b, tent.k
    if sign < 0:  # phi = 1 - t - k (t - a) on [a, m], 1 - t - k (b - t) on [m, b]
        p, q = (1 + k * a) / (1 + k), (k * b - 1) / (k - 1)
    else:  # phi = 1 - t + k (t - a) on [a, m], 1 - t + k (b - t) on [m, b]
        p, q = (k * a - 1) / (k - 1), (1 + k * b) / (1 + k)
    planted = planted_network([tent])
    assert planted.wrong_slopes() == [(p, q)]
    result = check_against_plan(planted)
    assert harness_wedges(result) == merge([((F(1), p), (F(1), q)), ((F(-1), -p), (F(-1), -q))])


def test_tie_wedge_is_wrong_on_one_half_only() -> None:
    """A tent of slope 1 ending at t = 1 makes phi identically 0 on [1/2, 1]: Delta = 0 there, so
    torch.argmax picks 0, which is wrong only where x0 > x1 (the right half-plane, 1/2 < t < 1)."""
    planted = planted_network([Tent(F(0), F(1), F(1), -1)])
    assert [planted.phi(t) for t in (F(1, 2), F(3, 4), F(1))] == [0, 0, 0]
    assert planted.wedges == [Wedge((F(1), F(1, 2)), (F(1), F(1)))]
    result = check_against_plan(planted)
    assert all(cone.tied for cone, _ in result.misclassified)


@pytest.mark.parametrize("planted", all_kinds_examples(), ids=lambda p: p.weights.path)
def test_every_kind_of_tent(planted: PlantedNetwork) -> None:
    result = check_against_plan(planted)
    kind = planted.weights.path.split()[1] if " " in planted.weights.path else "clean"
    if kind == "touch":  # reaches Delta = 0 on one ray: refuted, with error rate exactly 0
        assert result.verdict.word == "refuted" and result.error.upper == 0  # type: ignore[union-attr]
        assert result.counterexamples and all(c.measure_zero for c in result.counterexamples)
    elif kind == "flip":
        assert result.verdict.word == "refuted" and result.error.lower > 0  # type: ignore[union-attr]
    else:
        assert result.verdict.word == "proved"


# -- random planted networks ------------------------------------------------------------------------
@st.composite
def planted_networks(draw: st.DrawFn) -> PlantedNetwork:
    tents: list[Tent] = []
    overlap = draw(st.booleans())
    for _ in range(draw(st.integers(0, 3))):
        half = F(1, 2 ** draw(st.integers(1, 5)))
        m = F(draw(st.integers(-64, 64)), 16)
        if abs(1 - m) <= half:
            continue
        if not overlap and any(not (m + half < t.a or t.b < m - half) for t in tents):
            continue
        tents.append(tent_of_kind(draw(st.sampled_from(KINDS)), m, half, -1 if m < 1 else 1))
    if draw(st.booleans()):  # a tent across t = 1 moves the decision ray off the diagonal
        half = F(1, 2 ** draw(st.integers(2, 7)))
        centre = 1 + draw(st.sampled_from([-1, 1])) * half / 2
        tents.append(Tent(centre - half, centre + half, F(draw(st.integers(1, 12)), 4), draw(st.sampled_from([-1, 1]))))
    d = len(neurons_for(tents))
    permutation = draw(st.permutations(range(d)))
    scales = draw(st.lists(st.integers(-6, 6), min_size=d, max_size=d))
    return planted_network(tents, permutation=permutation, scales=scales, output_scale=draw(st.integers(-4, 4)))


@examples(default=6, long=400)
@given(planted_networks())
def test_harness_finds_exactly_the_planted_wedges(planted: PlantedNetwork) -> None:
    result = check_against_plan(planted)
    event(f"verdict {result.verdict.word}, {len(planted.wedges)} planted wedge(s)")


def test_cli_exit_codes_on_planted_files(tmp_path: Path) -> None:
    """End to end through a saved .pth: refuted -> 1 with the wedge angle, proved -> 0."""
    flipped = planted_network([tent_of_kind("flip", F(-1, 2), F(1, 4), -1)])
    clean = planted_network([tent_of_kind("near", F(-1, 2), F(1, 4), -1)])
    for planted, code in ((flipped, 1), (clean, 0)):
        path = tmp_path / f"planted_{code}.pth"
        torch.save(planted.weights.state_dict(), path)
        out, err = io.StringIO(), io.StringIO()
        assert main(["check", str(path), "--json", str(tmp_path / f"r{code}.json")], stdout=out, stderr=err) == code
        import json

        report = json.loads((tmp_path / f"r{code}.json").read_text())
        assert report["verdict"] == planted.expected_verdict
        value = mpf(report["error_rate"]["exact"])
        assert abs(value - planted.error_rate()) < mpf(10) ** -25
        assert np.isclose(report["error_rate"]["value"], float(planted.error_rate()), rtol=1e-12, atol=0)
