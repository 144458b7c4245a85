"""The pictures (issue 17): colour by meaning, checked against the network itself; insets outside the
disc with leader lines and readable titles; short ids on the disc and patterns in a table; the
unexplored part shown and in the legend; the sphere's axes, great circles and caption; a palette
that stays distinct under colour blindness; PNG and SVG; matplotlib loaded only to draw.

Oracles: a float64 forward pass written here (numpy), the published M_{2,2} figures, and colour
science (Machado et al. 2009 simulation matrices, CIE Lab) computed here.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from verify.check.pipeline import CheckOptions, CheckResult, check_model
from verify.check.regions import Budget
from verify.formats import load_weights
from verify.render import palette
from verify.render.picture_plane import draw_partition, partition_figure, pieces
from verify.render.picture_sphere import CAPTION, meaning_image, sphere_figure

from tests.conftest import M22_PATH

LOCAL_MIN = "models/trained_2_2_local_min.pth"
D8 = "models/trained_8_2.pth"
N3 = "models/trained_2_3.pth"


def forward(result: CheckResult, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logits, pattern bits) of the RNN by its definition in float64, from the loaded weights."""
    w = result.weights
    w_hi, w_hh, w_oh = (np.asarray(m, dtype=np.float64) for m in (w.w_hi.reshape(-1), w.w_hh, w.w_oh))
    h = np.zeros((xs.shape[0], w_hh.shape[0]))
    bits = []
    for t in range(xs.shape[1]):
        pre = h @ w_hh.T + np.outer(xs[:, t], w_hi)
        bits.append(pre > 0)
        h = np.maximum(pre, 0.0)
    return h @ w_oh.T, np.concatenate(bits, axis=1)


def oracle_meaning(result: CheckResult, xs: np.ndarray) -> np.ndarray:
    """'misclassified' (first argmax is not the 2nd largest), 'tie' (right, top logit shared), 'correct'."""
    logits, _ = forward(result, xs)
    predicted = np.argmax(logits, axis=1)
    target = np.argsort(-xs, axis=1, kind="stable")[:, 1]
    top = np.sort(logits, axis=1)
    tied = top[:, -1] == top[:, -2]
    return np.where(predicted != target, "misclassified", np.where(tied, "tie", "correct"))


def plane_meaning(result: CheckResult, degrees: np.ndarray) -> np.ndarray:
    """The meaning the picture paints at each angle: the last piece drawn that covers it, else unexplored."""
    found = np.full(degrees.shape, "unexplored", dtype=object)
    for piece in pieces(result):
        inside = ((degrees - piece.start) % 360.0) < (piece.end - piece.start)
        found[inside] = piece.meaning.key
    return found


@pytest.fixture(scope="module")
def m22() -> CheckResult:
    return check_model(load_weights(str(M22_PATH)))


@pytest.fixture(scope="module")
def local_min() -> CheckResult:
    return check_model(load_weights(LOCAL_MIN))


def test_plane_colours_mean_what_the_network_does(local_min: CheckResult) -> None:
    """The stuck model has correct, misclassified and tied wedges; the painted meaning at 200,000 random
    angles agrees with the float64 network except within rounding of a boundary."""
    rng = np.random.default_rng(3)
    degrees = rng.uniform(0.0, 360.0, 200_000)
    xs = np.stack([np.cos(np.radians(degrees)), np.sin(np.radians(degrees))], axis=1)
    painted = plane_meaning(local_min, degrees)
    expected = oracle_meaning(local_min, xs)
    assert set(expected) == {"correct", "misclassified", "tie"}
    assert np.mean(painted == expected) > 0.9999


def test_the_painted_error_of_m22_is_the_published_one(m22: CheckResult) -> None:
    wrong = sum(p.end - p.start for p in pieces(m22) if p.meaning is palette.MISCLASSIFIED)
    assert wrong / 360.0 == pytest.approx(7.7431e-5, abs=1e-9)  # published: about 1 in 13,000


def test_a_partial_run_paints_unexplored_exactly_where_no_region_was_found(tmp_path: Path) -> None:
    result = check_model(load_weights(D8), CheckOptions(budget=Budget(max_regions=8)))
    assert not result.search.complete and len(result.regions) == 8
    degrees = np.random.default_rng(5).uniform(0.0, 360.0, 100_000)
    xs = np.stack([np.cos(np.radians(degrees)), np.sin(np.radians(degrees))], axis=1)
    _, bits = forward(result, xs)
    found = {tuple(b for step in o.region.pattern for b in step) for o in result.regions}
    in_found = np.array([tuple(row) in found for row in bits])
    unexplored = plane_meaning(result, degrees) == "unexplored"
    assert 0.2 < np.mean(unexplored) < 0.9
    assert np.mean(unexplored == ~in_found) > 0.9999
    fig = partition_figure(result)
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("unexplored" in t for t in legend) and any("correct" in t for t in legend)


def test_insets_sit_beside_the_disc_with_leader_lines_and_readable_titles(m22: CheckResult) -> None:
    from matplotlib.patches import ConnectionPatch

    fig = partition_figure(m22)
    fig.canvas.draw()
    main = max(fig.axes, key=lambda ax: len(ax.patches))
    insets = [ax for ax in fig.axes if "sliver" in ax.get_title()]
    assert len(insets) == 2
    disc = main.get_window_extent()
    for inset in insets:
        box = inset.get_window_extent()
        assert box.x0 > disc.x1 - 1  # in the side panel, not on the disc
        assert inset.title.get_fontsize() >= 9
    titles = " ".join(ax.get_title() for ax in insets)
    # the hand-checked slivers: 0.00937 deg (2.60e-5) and 0.0185 deg (5.14e-5)
    assert "0.0094 deg, measure 2.6e-05" in titles and "0.019 deg, measure 5.1e-05" in titles
    assert sum(isinstance(a, ConnectionPatch) for a in fig.artists) == 2


def test_d8_disc_carries_short_ids_and_the_table_every_pattern() -> None:
    result = check_model(load_weights(D8))
    fig = partition_figure(result)
    main = max(fig.axes, key=lambda ax: len(ax.patches))
    on_disc = [t.get_text() for t in main.texts]
    assert on_disc and all(re.fullmatch(r"R\d+|[+-]x[01]|x0 = x1|[A-D]", t) for t in on_disc), on_disc
    ids = {t for t in on_disc if t.startswith("R")}
    assert ids == {f"R{o.region.index}" for o in result.regions}  # every wedge labelled, none twice
    cells = [c.get_text().get_text() for ax in fig.axes for table in ax.tables for c in table.get_celld().values()]
    assert {o.region.pattern_text for o in result.regions} <= set(cells)
    assert len(result.regions[0].region.pattern_text) == 17  # 16 bits and a bar, kept off the disc


def test_png_and_svg_are_written(m22: CheckResult, tmp_path: Path) -> None:
    png, svg = tmp_path / "p.png", tmp_path / "p.svg"
    draw_partition(m22, png, svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "R0" in svg.read_text()


def test_sphere_colours_mean_what_the_network_does() -> None:
    result = check_model(load_weights(N3))
    v = np.random.default_rng(9).standard_normal((30_000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    colours = meaning_image(result, v)
    names = {tuple(round(c * 255) for c in (int(m.colour[1:3], 16) / 255, int(m.colour[3:5], 16) / 255,
                                            int(m.colour[5:7], 16) / 255)): m.key for m in palette.MEANINGS}
    painted = np.array([names[tuple(round(c * 255) for c in rgb)] for rgb in colours])
    expected = oracle_meaning(result, v)
    assert {"correct", "misclassified"} <= set(expected)
    assert np.mean(painted == expected) > 0.999
    # the share of each colour is the probability of that outcome: misclassified ~ the exact error rate
    assert np.mean(painted == "misclassified") == pytest.approx(float(result.error.value), abs=0.015)  # type: ignore[union-attr]


def test_sphere_marks_axes_and_great_circles_and_has_one_plain_caption() -> None:
    result = check_model(load_weights(N3))
    fig = sphere_figure(result)
    texts = [t for ax in fig.axes for t in ax.texts] + list(fig.texts)
    words = [t.get_text() for t in texts]
    for k in range(3):
        assert f"+x{k}" in words and f"-x{k}" in words
    for label in ("x0 = x1", "x1 = x2", "x0 = x2"):
        assert words.count(label) == 2  # one per disc
    axis_labels = [t for t in texts if re.fullmatch(r"[+-]x\d", t.get_text())]
    assert all(t.get_fontsize() >= 11 for t in axis_labels)
    assert CAPTION in words and CAPTION.count(".") == 1 and CAPTION.endswith(".")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("correct" == t for t in legend) and any("misclassified" == t for t in legend)


# -- colour-blind safety: the meanings stay apart under simulated colour vision deficiency ---------------

MACHADO = {  # Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(hex_colour: str, matrix: list[list[float]] | None) -> np.ndarray:
    srgb = np.array([int(hex_colour[k : k + 2], 16) / 255.0 for k in (1, 3, 5)])
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        lin = np.clip(np.array(matrix) @ lin, 0.0, 1.0)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", [None, *MACHADO])
def test_meaning_colours_stay_distinct_under_colour_blindness(vision: str | None) -> None:
    matrix = MACHADO[vision] if vision else None
    colours = [palette.CORRECT, palette.MISCLASSIFIED, palette.TIE, palette.UNDECIDED]
    for i, a in enumerate(colours):
        for b in colours[i + 1 :]:
            delta = float(np.linalg.norm(_lab(a.colour, matrix) - _lab(b.colour, matrix)))
            assert delta > 20, (vision, a.key, b.key, delta)
    assert palette.UNEXPLORED.hatch and palette.UNDECIDED.hatch  # the greys also differ in pattern


def test_matplotlib_is_loaded_only_to_draw() -> None:
    code = ("import sys, verify.cli.check, verify.render.files, verify.render.html, verify.render.markdown, "
            "verify.render.picture_plane, verify.render.picture_sphere; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_magnified_sliver_is_centred_on_the_cone(m22: CheckResult) -> None:
    """Each inset's view contains its sliver's mid ray (the leader line points at what it magnifies)."""
    fig = partition_figure(m22)
    insets = [ax for ax in fig.axes if "sliver" in ax.get_title()]
    for inset in insets:
        (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        angle = math.degrees(math.atan2(cy, cx)) % 360
        region = int(re.search(r"in R(\d+)", inset.get_title()).group(1))  # type: ignore[union-attr]
        cone = next(c for c in m22.cones if c.region == region and not c.correct)
        from verify.render.picture_plane import span

        start, end = span(cone.constraints)
        assert (angle - start) % 360 < (end - start) + 1e-9


def test_the_colour_blindness_check_can_fail() -> None:
    """Control: classic red against green collapses under deuteranopia in the same simulation."""
    normal = float(np.linalg.norm(_lab("#d62728", None) - _lab("#2ca02c", None)))
    deutan = float(np.linalg.norm(_lab("#d62728", MACHADO["deuteranopia"]) - _lab("#2ca02c", MACHADO["deuteranopia"])))
    assert normal > 60 and deutan < 20
