"""A picture of the unit sphere (n = 3): where the model is right, wrong or tied, at a glance.

Two Lambert azimuthal equal-area discs, one per hemisphere around the diagonal (1, 1, 1)/sqrt(3):
equal areas on the sphere get equal areas in the picture, so the share of a colour is the
probability of that outcome. Colours carry meaning (`palette`: correct, misclassified, tie,
unexplored, undecided); thin lines are region edges. The great circles x_i = x_j, where the right
answer changes, are straight lines through the disc centres, drawn and labelled; so are the axes
+-x_k. Thin misclassified slivers are outlined and circled so that they stay visible. Floats are
fine here: the picture illustrates results that were computed exactly. matplotlib is imported
only inside the functions that draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from verify.check.pipeline import CheckResult
from verify.core.linear import Constraint
from verify.geometry.solid import ConeGeometry, cyclic_order
from verify.render import palette
from verify.render.coverage import pattern_key, pattern_keys
from verify.render.json_report import error_rate_fields
from verify.render.rate import error_rate_words

CENTRE = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)
E1 = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
E2 = np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0)
PIXELS = 400
CAPTION = ("Each disc is one half of the sphere of input directions, flattened so that areas are kept: "
           "the share of a colour is the probability of that outcome.")
THIN_MEASURE = 1e-3  # a misclassified cone smaller than this is also circled at its witness


def _frame(sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(axis, e1, e2) of the hemisphere around sign * CENTRE, right-handed seen from outside."""
    return sign * CENTRE, E1, sign * E2


def to_disc(v: np.ndarray, sign: float) -> np.ndarray:
    """Lambert azimuthal equal-area projection of unit vectors (..., 3) to the plane (..., 2)."""
    axis, e1, e2 = _frame(sign)
    z = np.clip(v @ axis, -1.0, 1.0)
    scale = np.sqrt(2.0 / np.maximum(1.0 + z, 1e-12))
    return np.stack([scale * (v @ e1), scale * (v @ e2)], axis=-1)


def from_disc(p: np.ndarray, sign: float) -> np.ndarray:
    """Inverse projection: points of the disc of radius sqrt(2) to unit vectors."""
    axis, e1, e2 = _frame(sign)
    rho2 = np.sum(p * p, axis=-1, keepdims=True)
    z = 1.0 - rho2 / 2.0
    s = np.sqrt(np.clip(1.0 - rho2 / 4.0, 0.0, None))
    return s * p[..., :1] * e1 + s * p[..., 1:] * e2 + z * axis


def _inside(constraints: Sequence[Constraint], v: np.ndarray) -> np.ndarray:
    if not constraints:
        return np.ones(v.shape[0], dtype=bool)
    normals = np.array([[float(a) for a in c.positive_normal()] for c in constraints])
    return np.all(v @ normals.T >= 0.0, axis=1)


def region_labels(result: CheckResult, v: np.ndarray) -> np.ndarray:
    """Index of the region holding each point (-1: on a boundary or in a region not searched),
    from the float64 activation pattern: one forward pass instead of one test per region."""
    index = {pattern_key(b for step in o.region.pattern for b in step): k for k, o in enumerate(result.regions)}
    return np.array([index.get(key, -1) for key in pattern_keys(result.network, v)])


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[k : k + 2], 16) / 255.0 for k in (1, 3, 5))  # type: ignore[return-value]


def meaning_image(result: CheckResult, v: np.ndarray) -> np.ndarray:
    """An RGB colour per unit vector by meaning: unexplored, undecided, correct, tie or misclassified."""
    labels = region_labels(result, v)
    image = np.tile(np.array(_rgb(palette.UNEXPLORED.colour)), (v.shape[0], 1))
    for k, outcome in enumerate(result.regions):
        members = np.nonzero(labels == k)[0]
        decided = outcome.claim.verdict.word != "unknown"
        image[members] = _rgb(palette.CORRECT.colour if decided else palette.UNDECIDED.colour)
        for meaning in (palette.TIE, palette.MISCLASSIFIED):  # misclassified wins: painted last
            for cone in outcome.claim.cones:
                wrong = not cone.correct
                if (meaning is palette.MISCLASSIFIED) == wrong and (wrong or cone.tied):
                    image[members[_inside(cone.constraints, v[members])]] = _rgb(meaning.colour)
    return image


def _arc(a: Sequence[object], b: Sequence[object], steps: int = 48) -> np.ndarray:
    """Points of the great-circle arc between two rays, as unit vectors."""
    u = np.array([float(x) for x in a])
    w = np.array([float(x) for x in b])
    u, w = u / np.linalg.norm(u), w / np.linalg.norm(w)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    pts = (1 - t) * u + t * w
    return pts / np.linalg.norm(pts, axis=1, keepdims=True)


def outline(geometry: ConeGeometry | None) -> list[np.ndarray]:
    """Edges of a cone's spherical polygon (empty if the cone has no polygon: rank < 3 or too many rays)."""
    if geometry is None or not geometry.full_dimensional or geometry.rank != 3:
        return []
    polygon = cyclic_order(geometry)
    return [_arc(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]


def _stripes(points: np.ndarray, image: np.ndarray, mask: np.ndarray) -> None:
    """Hatch the pixels of `mask` with diagonal stripes, as the legend's hatch shows unexplored."""
    stripe = ((points[:, 0] + points[:, 1]) * 14.0 % 1.0) < 0.3
    image[mask & stripe, :3] = _rgb("#aaaaaa")


def _draw_disc(ax: Any, result: CheckResult, sign: float, edges: list[np.ndarray], red_edges: list[np.ndarray]) -> None:
    from matplotlib.patches import Circle

    radius = np.sqrt(2.0)
    grid = np.linspace(-radius, radius, PIXELS)
    px, py = np.meshgrid(grid, grid[::-1])
    points = np.stack([px.ravel(), py.ravel()], axis=1)
    on_disc = np.sum(points * points, axis=1) <= 2.0
    v = from_disc(points, sign)
    image = np.ones((points.shape[0], 4))
    image[:, 3] = 0.0
    image[on_disc, :3] = meaning_image(result, v[on_disc])
    image[on_disc, 3] = 1.0
    unexplored = np.zeros(points.shape[0], dtype=bool)
    unexplored[on_disc] = np.all(image[on_disc, :3] == np.array(_rgb(palette.UNEXPLORED.colour)), axis=1)
    _stripes(points, image, unexplored)
    ax.imshow(image.reshape(PIXELS, PIXELS, 4), extent=(-radius, radius, -radius, radius), interpolation="nearest")
    for group, colour, width in ((edges, "#444444", 0.4), (red_edges, "#8a3200", 0.8)):
        for edge in group:
            keep = edge @ (sign * CENTRE) >= -1e-9  # an arc shorter than pi meets the hemisphere in one piece
            if keep.any():
                xy = to_disc(edge[keep], sign)
                ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=width)
    great_circles(ax, sign, radius)
    for cone, measure in zip(result.cones, result.cone_measures):
        small = measure is None or float(measure.value) < THIN_MEASURE
        if not small or (cone.correct and not cone.tied):
            continue
        witness = np.array([float(x) for x in cone.witness])
        witness = witness / np.linalg.norm(witness)
        if witness @ (sign * CENTRE) >= 0:
            x, y = to_disc(witness[None, :], sign)[0]
            if cone.correct:  # a small tie cone: a yellow square
                ax.plot(x, y, marker="s", markersize=7, markerfacecolor=palette.TIE.colour, markeredgecolor="black",
                        mew=0.8, zorder=4)
            else:
                ax.plot(x, y, marker="o", markersize=7, markerfacecolor="none", markeredgecolor="#8a3200", mew=1.0)
    axis_marks(ax, sign)
    ax.add_patch(Circle((0, 0), radius, fill=False, color="black", lw=1.0))
    ax.set_xlim(-1.12 * radius, 1.12 * radius)
    ax.set_ylim(-1.12 * radius, 1.12 * radius)
    ax.set_aspect("equal")
    ax.axis("off")
    label = "x0 + x1 + x2 > 0" if sign > 0 else "x0 + x1 + x2 < 0"
    ax.set_title(f"half with {label}", fontsize=12)


def great_circles(ax: Any, sign: float, radius: float) -> None:
    """The planes x_i = x_j: diameters of each disc, labelled at one end."""
    for i, j in ((0, 1), (1, 2), (0, 2)):
        normal = np.zeros(3)
        normal[i], normal[j] = 1.0, -1.0
        direction = np.cross(normal, CENTRE)
        direction /= np.linalg.norm(direction)
        xy = to_disc(np.array([direction, -direction]), sign)
        ax.plot(xy[:, 0], xy[:, 1], color="#222222", lw=1.0, ls=(0, (4, 3)))
        end = xy[0] * 1.07
        ax.text(end[0], end[1], f"x{i} = x{j}", fontsize=10, ha="center", va="center", color="#222222",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})


def axis_marks(ax: Any, sign: float) -> None:
    """The axes +-x_k that fall on this half, as white dots with bold labels above the colours."""
    for k in range(3):
        for s in (1.0, -1.0):
            axis = np.zeros(3)
            axis[k] = s
            if axis @ (sign * CENTRE) > 0:
                x, y = to_disc(axis[None, :], sign)[0]
                ax.plot(x, y, marker="o", markersize=9, markerfacecolor="white", markeredgecolor="black", mew=1.2,
                        zorder=5)
                ax.annotate(f"{'+' if s > 0 else '-'}x{k}", (x, y), xytext=(0, 11), textcoords="offset points",
                            fontsize=12, fontweight="bold", ha="center", va="bottom", zorder=6,
                            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "black", "lw": 0.6})


def _legend(fig: Any, result: CheckResult) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    keys = {"correct", "misclassified"}
    if any(c.tied and c.correct for c in result.cones):
        keys.add("tie")
    if not result.search.complete:
        keys.add("unexplored")
    if any(o.claim.verdict.word == "unknown" for o in result.regions):
        keys.add("undecided")
    handles = [Patch(facecolor=m.colour, hatch=m.hatch, edgecolor="#777777", label=m.label)
               for m in palette.MEANINGS if m.key in keys]
    handles += [Line2D([], [], color="#444444", lw=0.6, label="region edge"),
                Line2D([], [], color="#222222", lw=1.0, ls=(0, (4, 3)), label="x_i = x_j (right answer changes)"),
                Line2D([], [], marker="o", color="none", markeredgecolor="#8a3200",
                       label=f"misclassified cone under {THIN_MEASURE:g} (circled)")]
    if "tie" in keys:
        handles.append(Line2D([], [], marker="s", color="none", markerfacecolor=palette.TIE.colour,
                              markeredgecolor="black", label=f"tie cone under {THIN_MEASURE:g} (marked)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=10, frameon=False, bbox_to_anchor=(0.5, 0.06))


def sphere_figure(result: CheckResult) -> Any:
    """The matplotlib Figure (no pyplot, no backend chosen) of the sphere of input directions."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 7.4), dpi=100)
    axes = fig.subplots(1, 2, gridspec_kw={"left": 0.02, "right": 0.98, "top": 0.86, "bottom": 0.2, "wspace": 0.05})
    edges = [e for o in result.regions for e in outline(o.geometry)]
    red_edges = [e for c, _ in result.misclassified for e in outline(result.cone_geometry(c))]
    for ax, sign in zip(axes, (1.0, -1.0)):
        _draw_disc(ax, result, sign, edges, red_edges)
    rate = error_rate_words(error_rate_fields(result), compact=True)
    status = "" if result.search.complete else " (search incomplete)"
    fig.suptitle(f"{Path(result.weights.path).name} ({result.claim.name}): {result.verdict.word}{status}, "
                 f"{len(result.regions)} regions, "
                 f"error rate {rate}", fontsize=13)
    _legend(fig, result)
    fig.text(0.5, 0.02, CAPTION, ha="center", va="bottom", fontsize=10, wrap=True)
    return fig


def draw_sphere(result: CheckResult, *paths: Path) -> None:
    """Write the picture of the sphere to each path, in the format its suffix names (.png, .svg)."""
    fig = sphere_figure(result)
    for path in paths:
        fig.savefig(path, metadata={"Date": None} if Path(path).suffix == ".svg" else None)
