"""Issue 3: regions as polyhedral cones in R^n and the exact n = 3 error rate.

Oracles used here never call the region search, the solver or `verify.geometry.solid` unless
the test says it compares two independent implementations: textbook solid angles, hand
derivations (in the docstrings), the Van Oosterom-Strackee triangle formula, brute-force ray
enumeration, a meridian scan of the sphere with the float64 forward pass, and Monte Carlo on
the real float32 PyTorch model.
"""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from mpmath import mp, mpf

from verify.geometry.measure import working_precision

from verify.check.pipeline import CheckOptions, CheckResult, check_model
from verify.check.claims import Verdict
from verify.cli.main import main
from verify.geometry.planar import normalize_ray
from verify.corpus.handcrafted import weights_of
from verify.core.linear import Constraint, Op, dot
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.geometry import cone_measure
from verify.geometry.planar import cone_measure_2d
from verify.core.network import ExactRNN
from verify.check.regions import Budget
from verify.render.json_report import build_report
from verify.render.markdown import render_markdown
from verify.check.sampling import kth_argmax_targets, sample_error_rate
from verify.geometry.solid import cone_geometry, cone_measure_nd, extreme_rays, rank

ALGZOO_2_2 = Path("models/algzoo/2nd_argmax_2_2.pth")
ALGZOO_16_10 = Path("models/algzoo/example_2nd_argmax_16_10.pth")


def gt(*coeffs: int | Fraction) -> Constraint:
    return Constraint(tuple(Fraction(c) for c in coeffs), Op.GT)


def contains(measure, value) -> bool:  # type: ignore[no-untyped-def]
    with mp.workdps(60):
        return measure.lower <= value <= measure.upper and measure.upper - measure.lower < mpf("1e-45")


# -- solid angles of cones whose measure is known ---------------------------------------------

TEXTBOOK = [
    ("positive octant", [gt(1, 0, 0), gt(0, 1, 0), gt(0, 0, 1)], Fraction(1, 8)),
    ("order cone x0 > x1 > x2 (1 of 3! orderings)", [gt(1, -1, 0), gt(0, 1, -1)], Fraction(1, 6)),
    ("B3 chamber x1 > x0 > x2 > 0 (1 of 48 signed orderings)", [gt(-1, 1, 0), gt(1, 0, -1), gt(0, 0, 1)], Fraction(1, 48)),
    ("half-space", [gt(3, -2, 7)], Fraction(1, 2)),
    ("dihedral wedge x0 > 0, x1 > 0", [gt(1, 0, 0), gt(0, 1, 0)], Fraction(1, 4)),
    ("whole space", [], Fraction(1)),
    ("cube face |x0| < x2, |x1| < x2, plus a redundant constraint",
     [gt(1, 0, 1), gt(-1, 0, 1), gt(0, 1, 1), gt(0, -1, 1), gt(1, 1, 5)], Fraction(1, 6)),
    ("empty: x0 > 0 and x0 < 0", [gt(1, 0, 0), gt(-1, 0, 0)], Fraction(0)),
]


@pytest.mark.parametrize("name,constraints,expected", TEXTBOOK, ids=[t[0] for t in TEXTBOOK])
def test_textbook_cones(name: str, constraints: list[Constraint], expected: Fraction) -> None:
    """Measures known by symmetry: congruent cones tiling the sphere (octants, orderings, B3 chambers, cube faces)."""
    measure = cone_measure_nd(constraints, 3)
    assert measure is not None
    assert contains(measure, mpf(expected.numerator) / expected.denominator)


def test_trihedral_cone_matches_the_dihedral_angle_formula() -> None:
    """{x1 > x2 > 2|x0|}: by hand, Omega = alpha + beta + gamma - pi over its dihedral angles,
    arccos(1/sqrt 10) twice and arccos(3/5); its rays are (0,1,0), (+-1,2,2)."""
    cone = [gt(0, 1, -1), gt(-2, 0, 1), gt(2, 0, 1)]
    with mp.workdps(80):  # the oracle above the code's 60 digits (its enclosures are a few ulps wide)
        hand = (2 * mp.acos(1 / mp.sqrt(10)) + mp.acos(mpf(3) / 5) - mp.pi) / (4 * mp.pi)
        assert contains(cone_measure_nd(cone, 3), hand)
    rays = {normalize_ray(r) for r in extreme_rays(cone, 3) or []}
    assert rays == {normalize_ray(tuple(Fraction(v) for v in r)) for r in ((0, 1, 0), (1, 2, 2), (-1, 2, 2))}


def _random_cone(rng: np.random.Generator, n: int, m: int) -> list[Constraint]:
    return [gt(*(int(v) for v in rng.integers(-9, 10, size=n))) for _ in range(m)]


def _oosterom(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> mpf:
    """Solid angle of the triangle cone(a, b, c) (Van Oosterom and Strackee, 1983)."""
    a, b, c = (list(map(mpf, v)) for v in (a, b, c))
    na, nb, nc = (mp.sqrt(sum(x * x for x in v)) for v in (a, b, c))
    det = mp.matrix([a, b, c]).T
    triple = abs(mp.det(det))

    def d(u, v):  # type: ignore[no-untyped-def]
        return sum(x * y for x, y in zip(u, v))

    return 2 * mp.atan2(triple, na * nb * nc + d(a, b) * nc + d(a, c) * nb + d(b, c) * na)


def test_girard_agrees_with_van_oosterom_strackee_on_random_cones() -> None:
    """Two unrelated formulas: Girard's angle sum (the code) and a fan of Van Oosterom-Strackee
    triangles, with the rays put in order by their float angle around the centre (the test)."""
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(300):
        cone = _random_cone(rng, 3, int(rng.integers(3, 7)))
        geometry = cone_geometry(cone, 3)
        if geometry is None or not geometry.full_dimensional or geometry.rank != 3:
            continue
        rays = [np.array([float(v) for v in r]) for r in geometry.rays]
        rays = [r / np.linalg.norm(r) for r in rays]
        centre = sum(rays)
        e1 = rays[0] - centre * (rays[0] @ centre) / (centre @ centre)
        e2 = np.cross(centre / np.linalg.norm(centre), e1)
        ordered = sorted(rays, key=lambda r: math.atan2(r @ e2, r @ e1))
        with mp.workdps(40):
            fan = sum(_oosterom(ordered[0], ordered[k], ordered[k + 1]) for k in range(1, len(ordered) - 1))
            measure = cone_measure_nd(cone, 3)
            assert measure is not None
            # the floats of the test's own rays limit it to about 1e-15
            assert abs(fan / (4 * mp.pi) - measure.value) < mpf("1e-13")
        checked += 1
    assert checked > 30


def _null_vector(rows: list[tuple[Fraction, ...]], n: int) -> tuple[Fraction, ...]:
    """The generalised cross product of n - 1 rows: signed (n-1)-minors (zero if dependent)."""
    def det(m: list[list[Fraction]]) -> Fraction:
        if len(m) == 1:
            return m[0][0]
        return sum(((-1) ** j * m[0][j] * det([row[:j] + row[j + 1:] for row in m[1:]]) for j in range(len(m))),
                   Fraction(0))

    return tuple((-1) ** k * det([list(r[:k] + r[k + 1:]) for r in rows]) for k in range(n))


@pytest.mark.parametrize("n", [3, 4])
def test_extreme_rays_match_brute_force_enumeration(n: int) -> None:
    """Brute force: every n - 1 constraints' common line, kept if it satisfies all constraints."""
    rng = np.random.default_rng(10 + n)
    checked = 0
    for _ in range(60 if n == 3 else 25):
        cone = _random_cone(rng, n, int(rng.integers(n, n + 4)))
        geometry = cone_geometry(cone, n)
        assert geometry is not None
        normals = [c.positive_normal() for c in cone]
        if rank(normals) < n:
            continue  # has lineality: brute force over n - 1 normals does not apply
        brute = set()
        for rows in itertools.combinations(normals, n - 1):
            r = _null_vector(list(rows), n)
            if all(v == 0 for v in r):
                continue
            for s in (r, tuple(-v for v in r)):
                if all(dot(a, s) >= 0 for a in normals):
                    brute.add(normalize_ray(s))
        if geometry.full_dimensional:
            assert set(geometry.rays) == brute
            # facets: exactly the constraints that hold n - 1 independent extreme rays
            for a in normals:
                tight = [r for r in brute if dot(a, r) == 0]
                assert (normalize_ray(a) in geometry.facets) == (rank(tight) == n - 1)
            checked += 1
    assert checked >= 10


def test_a_cone_and_its_complement_pieces_sum_to_one() -> None:
    """{a_i > 0 for all i} and, for each j, {a_i > 0 for i < j, a_j < 0} partition R^3 (up to measure 0)."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        cone = _random_cone(rng, 3, int(rng.integers(1, 6)))
        pieces = [cone] + [cone[:j] + [Constraint(tuple(-v for v in cone[j].coeffs), Op.GT)] for j in range(len(cone))]
        measures = [cone_measure_nd(p, 3) for p in pieces]
        with mp.workdps(120):  # sums of 60-digit ends without rounding
            assert sum(m.lower for m in measures) <= 1 <= sum(m.upper for m in measures)  # type: ignore[union-attr]


def test_rank_two_cones_measure_their_dihedral_angle() -> None:
    """{a . x > 0, b . x > 0} is a wedge times a line: its mass is (pi - angle(a, b)) / (2 pi)."""
    rng = np.random.default_rng(6)
    for _ in range(30):
        a, b = (tuple(int(v) for v in rng.integers(-9, 10, size=3)) for _ in range(2))
        if rank([tuple(map(Fraction, a)), tuple(map(Fraction, b))]) < 2:
            continue
        geometry = cone_geometry([gt(*a), gt(*b)], 3)
        assert geometry is not None and geometry.rank == 2 and len(geometry.lineality) == 1
        assert all(dot(r, geometry.lineality[0]) == 0 for r in geometry.rays)
        with mp.workdps(60):
            cos = mpf(int(dot(a, b))) / (mp.sqrt(int(dot(a, a))) * mp.sqrt(int(dot(b, b))))
            assert contains(cone_measure_nd([gt(*a), gt(*b)], 3), (mp.pi - mp.acos(cos)) / (2 * mp.pi))


def test_other_dimensions() -> None:
    """n = 2 agrees with the separate 2-D code; n = 4 with rank <= 3 equals its 3-D section; rank 4 is
    certified by quadrature (the orthant of R^4: 1/16 by symmetry)."""
    rng = np.random.default_rng(8)
    for _ in range(30):
        cone = _random_cone(rng, 2, int(rng.integers(1, 4)))
        if cone_geometry(cone, 2).full_dimensional:  # type: ignore[union-attr]
            m2, mn = cone_measure_2d(cone), cone_measure_nd(cone, 2)
            assert mn is not None and abs(m2.value - mn.value) < mpf("1e-50")
    octant = [gt(1, 0, 0), gt(0, 1, 0), gt(0, 0, 1)]
    lifted = [gt(*c.coeffs, 0) for c in octant]
    assert contains(cone_measure_nd(lifted, 4), mpf(1) / 8)
    orthant = cone_measure_nd(lifted + [gt(0, 0, 0, 1)], 4)
    assert contains(orthant, mpf(1) / 16) and orthant.method == "certified-quadrature-4d"  # type: ignore[union-attr]
    geometry = cone_geometry(lifted + [gt(0, 0, 0, 1)], 4)
    assert geometry is not None and len(geometry.rays) == 4 and len(geometry.facets) == 4


# -- handcrafted sequence-length-3 models whose error rate is derived by hand -------------------

# Six neurons: p = ReLU(x_t), q = ReLU(-x_t), and two delay lines copying them one step later, so
# after the third input h_3 = (x2+, x2-, x1+, x1-, x0+, x0-) and the logits may be any linear map of
# these: any combination of the inputs x_i = x_i+ - x_i- and of |x_i| = x_i+ + x_i-.
W_HI = [1, -1, 0, 0, 0, 0]
W_HH = [[0] * 6, [0] * 6, [1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0]]


def smallest_magnitude_model() -> ModelWeights:
    """logits = (-|x0|, -|x1|, -|x2|): predicts the coordinate of smallest magnitude.

    By hand: let x_i have the smallest magnitude. Every other x_j has |x_j| > |x_i|, so x_j > x_i
    exactly when x_j > 0. Hence x_i is the median (the 2nd largest of three) exactly when the other
    two have opposite signs. Signs are independent of magnitudes and each is +- with probability
    1/2, so the accuracy is 1/2 and the error rate is exactly 1/2.
    """
    return weights_of(W_HI, W_HH, [[0, 0, 0, 0, -1, -1], [0, 0, -1, -1, 0, 0], [-1, -1, 0, 0, 0, 0]],
                      path="smallest_magnitude_3")


def threshold_model() -> ModelWeights:
    """logits = (0, -(|x0| + |x1| + |x2|), x2 - 2|x0|): predicts x2 where x2 > 2|x0|, else x0.

    By hand (the 2nd largest of three is the median): accuracy = P(x2 median, x2 > 2|x0|)
    + P(x0 median) - P(x0 median, x2 > 2|x0|). On {x2 > 2|x0|}, x2 > x0, so there x2 is the median
    iff x1 > x2 (S1 = {x1 > x2 > 2|x0|}) and x0 is the median iff x1 < x0 (S2 = {x0 > x1,
    x2 > 2|x0|}). Solid angles from dihedral angles (Omega = sum - pi; dihedral = pi - angle of
    inward normals): S1 has normals (0,1,-1), (-2,0,1), (2,0,1): Omega1 = 2 arccos(1/sqrt 10)
    + arccos(3/5) - pi. S2 has normals (1,-1,0), (-2,0,1), (2,0,1): two dihedral angles add to pi,
    so Omega2 = arccos(3/5). Accuracy = 1/3 + (Omega1 - Omega2) / (4 pi) = 1/12 + arctan(3) / (2 pi)
    (arccos(1/sqrt 10) = arctan 3), so the error rate is 11/12 - arctan(3) / (2 pi) = 0.71787...
    """
    return weights_of(W_HI, W_HH, [[0] * 6, [-1] * 6, [1, -1, 0, 0, -2, -2]], path="threshold_3")


@pytest.fixture(scope="module")
def smallest_magnitude() -> CheckResult:
    return check_model(smallest_magnitude_model())


@pytest.fixture(scope="module")
def threshold() -> CheckResult:
    return check_model(threshold_model())


def test_smallest_magnitude_model_has_error_one_half(smallest_magnitude: CheckResult) -> None:
    result = smallest_magnitude
    assert result.verdict is Verdict.REFUTED and result.search.complete
    assert result.error is not None and contains(result.error, mpf(1) / 2)
    # the regions are the 8 orthants (signs of the three inputs): 1/8 each, rays +-e_i
    assert len(result.regions) == 8
    for outcome in result.regions:
        assert contains(outcome.measure, mpf(1) / 8)
        geometry = outcome.geometry
        assert geometry is not None and geometry.rank == 3 and len(geometry.facets) == 3
        assert sorted(sorted(abs(v) for v in r) for r in geometry.rays) == [[0, 0, 1]] * 3
    assert result.counterexamples and all(c.float32_confirmed for c in result.counterexamples)


def test_threshold_model_has_the_hand_derived_error(threshold: CheckResult) -> None:
    assert threshold.verdict is Verdict.REFUTED and threshold.search.complete
    with mp.workdps(80):  # the oracle above the code's 60 digits
        hand = mpf(11) / 12 - mp.atan(3) / (2 * mp.pi)
    assert threshold.error is not None and contains(threshold.error, hand)
    assert threshold.tie is not None and threshold.tie.upper == 0
    for c in threshold.counterexamples:
        net = threshold.network
        x = c.x_exact
        predicted = 2 if x[2] > 2 * abs(x[0]) else 0  # the hand reading of the logits
        assert net.logits(x)[predicted] == max(net.logits(x)) and predicted != sorted(range(3), key=lambda i: -x[i])[1]


# -- a real (trained) float32 model ---------------------------------------------------------------


def quick_train(hidden: int, seq_len: int, *, seed: int, steps: int) -> ModelWeights:
    """A few hundred AdamW steps of the AlgZoo task: a genuine float32 model in about a second."""
    from verify.formats.torch_model import SecondArgmaxRNN

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        module = SecondArgmaxRNN(hidden, seq_len)
        optimiser = torch.optim.AdamW(module.parameters(), lr=0.04 / hidden**0.5, weight_decay=0.001)
        for _ in range(steps):
            x = torch.randn(1024, seq_len, generator=generator)
            loss = torch.nn.functional.cross_entropy(module(x), kth_argmax_targets(x, 2))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    state = module.state_dict()
    return weights_of(state["rnn.weight_ih_l0"].numpy(), state["rnn.weight_hh_l0"].numpy(),
                      state["linear.weight"].numpy(), path=f"trained_{hidden}_{seq_len}_seed{seed}")


@pytest.fixture(scope="module")
def trained() -> CheckResult:
    return check_model(quick_train(3, 3, seed=0, steps=150))


def _wrong_float64(net: ExactRNN, xs: np.ndarray) -> np.ndarray:
    predicted = np.argmax(net.logits_float64(xs), axis=1)
    return predicted != np.argsort(-xs, axis=1, kind="stable")[:, 1]


def meridian_scan_error(net: ExactRNN, *, meridians: int = 1024, cells: int = 2048, bisections: int = 52) -> float:
    """Misclassified fraction of the sphere from the float64 forward pass alone.

    Along each of `meridians` half great circles (about a generic axis) labels are taken on a
    grid of `cells` polar angles and every change of label is located by bisection; a meridian
    then contributes int wrong(theta) sin(theta) d theta exactly from its arc ends, and the
    meridians are summed by the (periodic) midpoint rule. Its error: O(h^2) in the meridian
    spacing where arcs appear or vanish, and pieces narrower than one cell are missed.
    """
    q, _ = np.linalg.qr(np.array([[0.3, 0.8, -0.5], [0.9, -0.2, 0.4], [0.1, 0.5, 0.85]]))
    phi = (np.arange(meridians) + 0.5) * (2 * np.pi / meridians)
    theta = (np.arange(cells) + 0.5) * (np.pi / cells)

    def points(ph: np.ndarray, th: np.ndarray) -> np.ndarray:
        return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1) @ q.T

    grid_phi, grid_theta = np.meshgrid(phi, theta, indexing="ij")
    wrong = _wrong_float64(net, points(grid_phi.ravel(), grid_theta.ravel())).reshape(meridians, cells)
    total = 2.0 * wrong[:, 0].sum()  # a meridian wrong throughout contributes int_0^pi sin = 2
    i, k = np.nonzero(wrong[:, 1:] != wrong[:, :-1])
    lo, hi, ph, start = theta[k], theta[k + 1], phi[i], wrong[i, k]
    for _ in range(bisections):
        mid = (lo + hi) / 2
        same = _wrong_float64(net, points(ph, mid)) == start
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    total += np.sum(np.where(start, -1.0, 1.0) * (np.cos((lo + hi) / 2) + 1.0))
    return float(total / (2 * meridians))  # (1 / 4 pi) * (2 pi / meridians) * sum


def test_trained_model_exact_error_matches_a_meridian_scan(trained: CheckResult) -> None:
    assert trained.error is not None and trained.search.complete
    assert trained.error.upper - trained.error.lower < mpf("1e-40")
    # tolerance: the scan converged to within 1.5e-6 at this resolution on such models; 1e-5 is
    # still 30 times tighter than the Monte Carlo test below
    assert abs(meridian_scan_error(trained.network) - float(trained.error.value)) < 1e-5


def test_trained_model_exact_error_matches_monte_carlo_on_float32(trained: CheckResult) -> None:
    estimate = sample_error_rate(trained.weights, 1 << 21, seed=777)
    exact = float(trained.error.value)  # type: ignore[union-attr]
    sigma = math.sqrt(exact * (1 - exact) / estimate.samples)
    assert abs(estimate.rate - exact) < 5 * sigma  # 5 standard errors: false alarm below 1e-6


def test_region_solid_angles_sum_to_four_pi(trained: CheckResult, threshold: CheckResult) -> None:
    for result in (trained, threshold):
        assert all(o.measure is not None for o in result.regions)
        with mp.workdps(60):
            lower = sum(o.measure.lower for o in result.regions)  # type: ignore[union-attr]
            upper = sum(o.measure.upper for o in result.regions)  # type: ignore[union-attr]
            assert lower <= 1 <= upper and upper - lower < mpf("1e-40")


def test_cones_partition_each_region(trained: CheckResult) -> None:
    for outcome in trained.regions:
        parts = [m for c, m in zip(trained.cones, trained.cone_measures) if c.region == outcome.region.index]
        with mp.workdps(60):
            lower = sum(m.lower for m in parts)  # type: ignore[union-attr]
            upper = sum(m.upper for m in parts)  # type: ignore[union-attr]
            assert lower <= outcome.measure.upper + mpf("1e-45")  # type: ignore[union-attr]
            assert outcome.measure.lower <= upper + mpf("1e-45")  # type: ignore[union-attr]


def test_region_rays_and_facets_are_exact(trained: CheckResult) -> None:
    """Each extreme ray lies in the closed region (exact check) and on >= 2 facets; facets hold >= 2 rays;
    the mid-point of the rays has the region's activation pattern in the exact forward pass."""
    net = trained.network
    for outcome in trained.regions:
        geometry = outcome.geometry
        assert geometry is not None and geometry.full_dimensional
        if geometry.rank < 3:
            continue
        for r in geometry.rays:
            assert outcome.region.contains(r)
            assert sum(1 for a in geometry.facets if dot(a, r) == 0) >= 2
        for a in geometry.facets:
            assert sum(1 for r in geometry.rays if dot(a, r) == 0) == 2
        centre = tuple(sum(r[k] for r in geometry.rays) for k in range(3))
        assert net.pattern(centre) == outcome.region.pattern


def test_counterexamples_are_wrong_in_exact_arithmetic_and_float32(trained: CheckResult) -> None:
    assert trained.verdict is Verdict.REFUTED and trained.counterexamples
    net = trained.network
    for c in trained.counterexamples:
        if c.measure_zero:
            continue
        x = c.x_exact
        target = sorted(range(3), key=lambda i: -x[i])[1]
        logits = net.logits(x)
        assert logits.index(max(logits)) != target
        assert c.float32_confirmed  # interior points of cones, far from every boundary


def test_n3_report_table_and_picture(trained: CheckResult, tmp_path: Path) -> None:
    report = build_report(trained)
    assert report["error_rate"]["method"] == "exact-solid-angle" and report["error_rate_estimate"] is None
    assert len(report["error_rate"]["exact"].replace(".", "").lstrip("0")) >= 15
    for region in report["regions"]:
        cone = region["cone"]
        assert cone["extreme_rays"] and cone["solid_angle"] is not None
        sr = float(cone["solid_angle"]["steradians"])
        assert abs(sr - 4 * math.pi * region["measure"]["value"]) < 1e-12
    text = render_markdown(report)
    assert "solid angle (sr)" in text and "extreme rays" in text
    assert all(c["rays"] for c in report["misclassified_cones"])
    from verify.render.files import write_report_dir

    written = write_report_dir(trained, report, tmp_path)
    png = tmp_path / "partition.png"
    assert png in written and png.stat().st_size > 10_000


def test_sphere_projection_is_equal_area() -> None:
    """Lambert's projection: a polar cap of height h has area 2 pi h on the sphere and pi rho^2 on
    the disc; uniform points on the sphere land uniformly (by area) on the two discs."""
    from verify.render.picture_sphere import CENTRE, from_disc, to_disc

    rng = np.random.default_rng(4)
    v = rng.standard_normal((200_000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    upper = v[v @ CENTRE >= 0]
    p = to_disc(upper, 1.0)
    assert np.allclose(from_disc(p, 1.0), upper, atol=1e-9)
    rho = np.linalg.norm(p, axis=1)
    for r in (0.5, 1.0, 1.3):
        assert abs(np.mean(rho <= r) - r * r / 2) < 0.01  # disc area share pi r^2 / (2 pi)


# -- sequence length 4: exact verdicts and rays, the error rate by certified quadrature ------------------


@pytest.mark.parametrize("n", [4, 5])
def test_a_model_that_always_answers_zero_is_wrong_exactly_n_minus_one_over_n(n: int) -> None:
    """By hand: with one hidden neuron the logits are w_out * h with h >= 0; with w_out's largest
    entry first, torch.argmax answers 0 whether h > 0 or h = 0 (all logits tie). The 2nd largest
    input is at position 0 with probability 1/n by exchangeability, so the error rate is exactly
    (n - 1) / n, whatever the rank-n cones of the regions look like."""
    out = [[1.0]] + [[0.5 - 0.25 * k] for k in range(n - 1)]
    weights = weights_of([[1.0]], [[-0.5]], out, path=f"always_zero_1_{n}")
    result = check_model(weights, CheckOptions(estimate_samples=0))
    assert result.search.complete and result.error is not None
    assert result.error.method == f"certified-quadrature-{n}d"
    truth = mpf(n - 1) / n
    assert result.error.lower <= truth <= result.error.upper and result.error.upper - result.error.lower < mpf("1e-10")


def test_sequence_length_four_gives_a_certified_rate_that_sampling_confirms() -> None:
    """Rank-4 cones are measured by certified quadrature: the report's rate is labelled
    certified-quadrature-4d and agrees with an independent float64 sample of the exact network."""
    rng = np.random.default_rng(1)
    weights = weights_of([[1.0]], [[-0.5]], rng.standard_normal((4, 1)), path="random_1_4")
    result = check_model(weights)
    assert result.verdict is Verdict.REFUTED and result.search.complete
    assert result.error is not None and result.error_estimate is None
    assert result.error.method == "certified-quadrature-4d" and result.error.upper - result.error.lower < mpf("1e-11")
    xs = np.random.default_rng(2).standard_normal((400_000, 4))
    independent = float(np.mean(_wrong_float64(result.network, xs)))
    exact = float(result.error.value)
    assert abs(exact - independent) < 5 * math.sqrt(exact * (1 - exact) / len(xs))
    for outcome in result.regions:
        geometry = outcome.geometry
        assert geometry is not None and geometry.rank == 4 and outcome.measure is not None
        assert all(outcome.region.contains(r) for r in geometry.rays)
        assert rank(list(geometry.rays)) == 4
    with working_precision():
        total = sum((o.measure.upper for o in result.regions), mpf(0))  # type: ignore[union-attr]
        low = sum((o.measure.lower for o in result.regions), mpf(0))  # type: ignore[union-attr]
    assert low <= 1 <= total
    report = build_report(result)
    assert report["error_rate"]["method"] == "certified-quadrature-4d" and report["error_rate_estimate"] is None
    for c in result.counterexamples:  # wrong in exact arithmetic (the two largest inputs are distinct)
        order = sorted(range(4), key=lambda i: -c.x_exact[i])
        assert c.x_exact[order[0]] > c.x_exact[order[1]] > c.x_exact[order[2]]
        logits = result.network.logits(c.x_exact)
        assert logits.index(max(logits)) != order[1]


# -- sequence length 2 is unchanged -----------------------------------------------------------------


def test_sequence_length_two_is_unchanged() -> None:
    """The n = 2 path (angles, 2-D rays) is still used, and its answer is the published one;
    the generic cone code, run on the same regions, agrees with it."""
    result = check_model(load_weights(ALGZOO_2_2))
    assert result.verdict is Verdict.REFUTED and len(result.regions) == 6
    assert result.error is not None and result.error.method == "exact-angle"
    assert 12_914.0 < 1 / result.error.value < 12_915.3  # "about 1 in 12,914.64"
    for outcome in result.regions:
        assert outcome.geometry is None and outcome.rays is not None
        generic = cone_measure_nd(outcome.region.interior(), 2)
        assert generic is not None and abs(generic.value - outcome.measure.value) < mpf("1e-50")  # type: ignore[union-attr]
        assert cone_measure(outcome.region.interior(), 2).method == "exact-angle"


# -- budgets --------------------------------------------------------------------------------------


def test_time_budget_never_proves_and_estimates_instead(trained: CheckResult) -> None:
    partial = check_model(trained.weights, CheckOptions(budget=Budget(max_regions=3)))
    assert not partial.search.complete and partial.verdict is not Verdict.PROVED
    assert partial.error is None and partial.error_estimate is not None
    estimate, exact = partial.error_estimate, float(trained.error.value)  # type: ignore[union-attr]
    assert abs(estimate.rate - exact) < 5 * math.sqrt(exact * (1 - exact) / estimate.samples)
    report = build_report(partial)
    assert report["error_rate"] is None and report["error_rate_estimate"]["method"] == "monte-carlo estimate"
    assert "ESTIMATE" in render_markdown(report)


def test_check_has_a_default_time_budget_that_can_be_lifted(tmp_path: Path) -> None:
    from verify.cli.check import DEFAULT_TIME_BUDGET

    assert 0 < DEFAULT_TIME_BUDGET <= 600
    for bad in (["--time-budget", "0"], ["--query-timeout", "-1"], ["--time-budget", "nan"]):
        err = _Capture()
        assert main(["check", str(ALGZOO_2_2), *bad], stdout=_Capture(), stderr=err) == 2
        assert len(err.text.strip().splitlines()) == 1
    out = _Capture()
    assert main(["check", str(ALGZOO_2_2), "--no-time-budget", "--json", str(tmp_path / "r.json")],
                stdout=out, stderr=_Capture()) == 1
    assert json.loads((tmp_path / "r.json").read_text())["complete"] is True


class _Capture:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_model_too_large_to_enumerate_ends_unknown_within_a_time_budget(tmp_path: Path) -> None:
    """M_{16,10} (432 parameters) with a time budget that runs out at once: a partial report, exit 3,
    never "proved", and a labelled Monte Carlo estimate near the published accuracy of about 95.3%."""
    out = tmp_path / "r.json"
    code = main(["check", str(ALGZOO_16_10), "--time-budget", "0.001", "--json", str(out)],
                stdout=_Capture(), stderr=_Capture())
    report = json.loads(out.read_text())
    assert code == 3 and report["verdict"] == "unknown" and report["complete"] is False
    assert "time budget" in report["stop_reason"] and report["undecided"]
    assert report["error_rate"] is None
    estimate = report["error_rate_estimate"]
    assert estimate["method"] == "monte-carlo estimate" and abs(estimate["value"] - 0.047) < 0.01


def test_model_too_large_to_enumerate_ends_after_its_region_budget(tmp_path: Path) -> None:
    """M_{16,10}, one region (the argmax claim: 10 order pieces instead of 90, to keep the test short)."""
    out = tmp_path / "r.json"
    code = main(["check", str(ALGZOO_16_10), "--claim", "argmax", "--max-regions", "1", "--query-timeout", "0.5",
                 "--json", str(out)], stdout=_Capture(), stderr=_Capture())
    report = json.loads(out.read_text())
    assert code in (1, 3) and (code == 1) == (report["verdict"] == "refuted")
    assert report["verdict"] != "proved" and report["complete"] is False and report["stop_reason"]
    assert len(report["regions"]) == 1 and report["regions"][0]["verdict"] in ("unknown", "refuted")
    assert report["error_rate"] is None and report["error_rate_estimate"]["method"] == "monte-carlo estimate"
