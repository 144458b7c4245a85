"""The median check's picture (issue 13): written for n = 2 and 3 only, referenced by report.md and
report.html, stale copies removed, and its misclassified-vermillion pixels present exactly when the
claim is refuted. Oracles: the ratio of `last_input_scalar` derived by hand, and a float64 forward
pass written here, independent of verify.core."""

from __future__ import annotations

import base64
import io
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.check.regions import Budget
from verify.check.regression import RegressionOptions, RegressionResult, check_regression
from verify.cli.main import main
from verify.corpus import last_input_scalar
from verify.formats import load_weights
from verify.render import palette
from verify.render.files import write_regression_report_dir
from verify.render.picture_regression import circle_ratio, disc_data, draw_regression_picture, exceed_arcs
from verify.render.regression import regression_report

HAND_MEDIAN = Path("models/tasks/handcrafted_median_2.pth")
MEDIAN_4_3 = Path("models/tasks/median_4_3.pth")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def checked(weights, n: int, eps: Fraction) -> RegressionResult:  # type: ignore[no-untyped-def]
    return check_regression(weights, RegressionOptions(seq_len=n, eps=eps, estimate_samples=2000))


def float_ratio(weights, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """|y - median| / max|x_i| by a float64 forward pass written here (an oracle for display arrays only)."""
    w_hi, w_hh, w_oh = (np.asarray(a, dtype=np.float64) for a in (weights.w_hi, weights.w_hh, weights.w_oh))
    h = np.zeros((x.shape[0], w_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.maximum(h @ w_hh.T + x[:, t:t + 1] @ w_hi.T, 0.0)
    return np.abs((h @ w_oh.T)[:, 0] - np.median(x, axis=1)) / np.max(np.abs(x), axis=1)


def vermillion_pixels(png: Path) -> int:
    """Pixels within 12/255 per channel of the palette's misclassified colour."""
    from matplotlib.image import imread

    rgb = imread(png)[..., :3]
    target = np.array([int(palette.MISCLASSIFIED.colour[k : k + 2], 16) / 255.0 for k in (1, 3, 5)])
    return int(np.sum(np.all(np.abs(rgb - target) <= 12 / 255, axis=-1)))


@pytest.mark.parametrize("model,n", [(HAND_MEDIAN, 2), (MEDIAN_4_3, 3)])
def test_the_cli_writes_the_picture_for_n2_and_n3_and_both_reports_show_it(tmp_path: Path, model: Path, n: int) -> None:
    folder = tmp_path / "rep"
    code, _, err = run("check", str(model), "--report", str(folder))
    assert code in (0, 1), err
    png, svg = folder / "partition.png", folder / "partition.svg"
    assert png.read_bytes().startswith(b"\x89PNG") and svg.read_text().lstrip().startswith("<?xml")
    assert "](partition.png)" in (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    assert f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode('ascii')}" in html


def test_no_picture_for_n4_and_a_stale_one_is_removed(tmp_path: Path) -> None:
    result = checked(last_input_scalar(), 4, Fraction(1, 10))
    for name in ("partition.png", "partition.svg"):
        (tmp_path / name).write_bytes(b"stale")
    written = write_regression_report_dir(regression_report(result), tmp_path, result)
    assert sorted(p.name for p in written) == ["report.html", "report.json", "report.md"]
    assert not (tmp_path / "partition.png").exists() and not (tmp_path / "partition.svg").exists()
    assert "partition.png" not in (tmp_path / "report.md").read_text()
    assert "data:image/png" not in (tmp_path / "report.html").read_text()
    assert draw_regression_picture(result, tmp_path / "x.png") is False and not (tmp_path / "x.png").exists()


def test_a_stale_picture_is_removed_when_no_result_is_given(tmp_path: Path) -> None:
    result = checked(last_input_scalar(), 2, Fraction(1, 10))
    write_regression_report_dir(regression_report(result), tmp_path, result)
    assert (tmp_path / "partition.png").exists()
    write_regression_report_dir(regression_report(result), tmp_path)
    assert not (tmp_path / "partition.png").exists() and not (tmp_path / "partition.svg").exists()


# The worst case of last_input_scalar is 1 by hand (n = 2: |x1 - x0| / 2 at (1, -1)); n = 3: 2 at
# (1, 1, -1). eps = 1 (n = 2) and 2 (n = 3) hold with equality; the trained median_4_3's worst case
# 0.7425 lies between 7/10 and 3/4.
@pytest.mark.parametrize("case,n,eps,refuted", [
    ("hand", 2, Fraction(0), False),
    ("last", 2, Fraction(1, 10), True),
    ("last", 2, Fraction(1), False),
    ("last", 3, Fraction(2), False),
    ("last", 3, Fraction(19, 10), True),
    ("trained", 3, Fraction(1, 10), True),
    ("trained", 3, Fraction(3, 4), False),
])
def test_vermillion_pixels_appear_exactly_when_refuted(tmp_path: Path, case: str, n: int, eps: Fraction,
                                                       refuted: bool) -> None:
    weights = {"hand": lambda: load_weights(HAND_MEDIAN), "last": last_input_scalar,
               "trained": lambda: load_weights(MEDIAN_4_3)}[case]()
    result = checked(weights, n, eps)
    assert (result.verdict.word == "refuted") is refuted
    png = tmp_path / "p.png"
    draw_regression_picture(result, png)
    count = vermillion_pixels(png)
    assert (count > 0) is refuted, count
    if n == 2:
        assert bool(exceed_arcs(result)) is refuted
    else:
        assert any(disc_data(result, s, 120).exceed.any() for s in (1.0, -1.0)) is refuted


@pytest.mark.parametrize("model,n", [(HAND_MEDIAN, 2), (MEDIAN_4_3, 3)])
def test_an_empty_search_is_all_unexplored_and_never_hatched(tmp_path: Path, model: Path, n: int) -> None:
    """A budget of 0 regions: unknown, nothing decided, so no direction is coloured or hatched."""
    result = check_regression(load_weights(model), RegressionOptions(seq_len=n, budget=Budget(max_regions=0),
                                                                     estimate_samples=0))
    assert result.verdict.word == "unknown" and not result.regions
    if n == 2:
        assert np.all(np.isnan(circle_ratio(result, np.arange(0.0, 360.0, 1.0)))) and not exceed_arcs(result)
    else:
        data = disc_data(result, 1.0, 60)
        assert np.array_equal(data.unexplored, data.on_disc) and not data.exceed.any()
    draw_regression_picture(result, tmp_path / "p.png")
    assert vermillion_pixels(tmp_path / "p.png") == 0


def test_the_n2_arcs_over_eps_are_the_hand_derived_ones() -> None:
    """y = x1, median = (x0 + x1) / 2: the ratio is |tan t - 1| / 2 for |t| <= 45 deg (|cot t - 1| / 2
    up to 90 deg, and so on); it is at most 1/10 exactly on [atan 0.8, atan 1.25] and its antipode,
    so the arcs over eps are the rest of the circle."""
    result = checked(last_input_scalar(), 2, Fraction(1, 10))
    arcs = exceed_arcs(result)
    low, high = math.degrees(math.atan(0.8)), math.degrees(math.atan(1.25))
    assert abs(sum(a.end - a.start for a in arcs) - (360.0 - 2 * (high - low))) < 1e-9
    for angle in np.arange(0.05, 360.0, 0.1):
        inside = any((angle - a.start) % 360.0 < a.end - a.start for a in arcs)
        in_gap = low < angle % 180.0 < high
        assert inside is not in_gap, angle


def test_the_circle_colours_match_an_independent_ratio_scan() -> None:
    weights = last_input_scalar()
    result = checked(weights, 2, Fraction(1, 10))
    degrees = np.arange(0.05, 360.0, 0.1)
    t = np.radians(degrees)
    oracle = float_ratio(weights, np.stack([np.cos(t), np.sin(t)], axis=1))
    assert np.max(np.abs(circle_ratio(result, degrees) - oracle)) < 1e-12


def test_the_sphere_mask_matches_an_independent_forward_pass() -> None:
    """Away from eps (a 1e-9 margin), a pixel is hatched exactly where the oracle ratio exceeds eps."""
    weights = load_weights(MEDIAN_4_3)
    result = checked(weights, 3, Fraction(1, 10))
    from verify.render.picture_sphere import from_disc

    for sign in (1.0, -1.0):
        data = disc_data(result, sign, 150)
        grid = np.linspace(-math.sqrt(2.0), math.sqrt(2.0), 150)
        px, py = np.meshgrid(grid, grid[::-1])
        v = from_disc(np.stack([px.ravel(), py.ravel()], axis=1), sign)[data.on_disc]
        oracle = float_ratio(weights, v)
        hatched = data.exceed[data.on_disc]
        assert not np.any(hatched & (oracle <= 0.1 - 1e-9))
        assert np.mean(hatched[oracle > 0.1 + 1e-9]) > 0.99  # only region-boundary pixels may be left out
        assert np.max(np.abs(data.ratio[data.on_disc] - oracle)) < 1e-9


def test_matplotlib_is_loaded_only_to_draw_the_regression_picture() -> None:
    code = ("import sys, verify.render.files, verify.render.regression, verify.render.picture_regression; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
