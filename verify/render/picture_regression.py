"""The picture of a median (regression) check: how far y is from the median, direction by direction.

y and the median are positively homogeneous, so the ratio |y(u) - median(u)| / max_i |u_i| depends
on the direction of u only: the circle (n = 2) or the sphere (n = 3) of directions shows all of it.
A sequential colormap (with a colour bar) gives the ratio; the directions where it exceeds eps,
which make the claim false, are hatched in the palette's misclassified colour; the exact worst
case is starred and labelled. For n = 2 the region rays and the hatched arcs come from exact
cones (the eps condition is linear on each cone: `verify.check.regression.exceeds`); for n = 3 a
pixel is hatched only inside a region whose exact worst case exceeds eps. Floats serve display
only. matplotlib is imported only inside the functions that draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from verify.check.claims import grow, region_cone
from verify.check.regression import RegressionResult, exceeds
from verify.core.linear import Constraint
from verify.geometry.integer_cone import GrowingCone
from verify.geometry.solid import default_max_rays, geometry_of
from verify.render import palette
from verify.render.coverage import pattern_key, pattern_keys
from verify.render.glossary import region_id
from verify.render.picture_plane import span
from verify.render.picture_sphere import axis_marks, from_disc, great_circles, outline, to_disc

COLORMAP = "viridis"  # sequential, colour-blind safe, and far from the misclassified vermillion
WRONG = palette.MISCLASSIFIED.colour
WRONG_HATCH = "////"
STEP_DEG = 0.25  # n = 2: each exact wedge is painted in sub-wedges at most this wide
PIXELS = 400  # n = 3: pixels across each disc


@dataclass(frozen=True)
class Arc:
    """An arc of the circle of directions (degrees, counter-clockwise, end > start)."""

    start: float
    end: float
    region: int
    form: tuple[float, ...]  # the cone's error form y - median = form . x, rounded for display


def ratio_at(form: Sequence[float], degrees: np.ndarray) -> np.ndarray:
    """|form . u| / max_i |u_i| for u at each angle (display floats)."""
    t = np.radians(degrees)
    u = np.stack([np.cos(t), np.sin(t)], axis=-1)
    return np.abs(u @ np.asarray(form, dtype=float)) / np.max(np.abs(u), axis=-1)


def cone_arcs(result: RegressionResult) -> list[Arc]:
    """Every region cut by its median pieces, as an arc with its error form (n = 2)."""
    return [Arc(*span(p.constraints), o.region.index, tuple(float(c) for c in p.error_form))
            for o in result.regions for p in o.pieces]


def _nonempty(constraints: Sequence[Constraint], n: int) -> bool:
    return grow(GrowingCone.whole_space(n, default_max_rays(n)), constraints) is not None


def exceed_arcs(result: RegressionResult) -> list[Arc]:
    """The arcs where |y - median| > eps * max_i |x_i|, exactly: on a cone with error form c that is
    s c . x > eps |x_i| for every i and one sign s, a cone again (n = 2)."""
    found = []
    for outcome in result.regions:
        for piece in outcome.pieces:
            if piece.worst <= result.eps:
                continue
            for sign in (1, -1):
                cut = list(piece.constraints) + exceeds(tuple(sign * c for c in piece.error_form), result.eps, 2)
                if _nonempty(cut, 2):
                    found.append(Arc(*span(cut), outcome.region.index, tuple(float(c) for c in piece.error_form)))
    return found


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k : k + 2], 16) / 255.0 for k in (1, 3, 5)])


def _hatch_unexplored(image: np.ndarray, px: np.ndarray, py: np.ndarray, mask: np.ndarray) -> None:
    """Grey with diagonal grey stripes where the search never reached, as the legend's hatch shows."""
    stripe = ((px + py) * 14.0 % 1.0) < 0.3
    image[mask, :3] = _rgb(palette.UNEXPLORED.colour)
    image[mask & stripe, :3] = _rgb("#aaaaaa")


def _scale(result: RegressionResult) -> float:
    """The colour bar's top: the worst case or eps, whichever is larger (1 if both are 0)."""
    top = float(max(result.worst or Fraction(0), result.eps))
    return top if top > 0 else 1.0


def _title(result: RegressionResult) -> str:
    worst = "not computed" if result.worst is None else f"{float(result.worst):.4g}"
    if result.worst is not None and not result.complete:
        worst = f"at least {worst}"
    status = "" if result.complete else " (search incomplete)"
    return (f"{Path(result.weights.path).name} (task: median): {result.verdict.word}{status}, "
            f"worst |y - median| / max|x_i| = {worst}, eps = {float(result.eps):.4g}")


def _worst_label(result: RegressionResult) -> str | None:
    if result.worst is None or result.worst_point is None or result.worst == 0:
        return None
    point = ", ".join(f"{float(v):.3g}" for v in result.worst_point)
    head = "worst case" if result.complete else "largest found"
    return f"{head} {float(result.worst):.4g}\nat x = ({point})"


def _colour_bar(fig: Any, ax: Any, result: RegressionResult, cmap: Any, norm: Any) -> None:
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("|y(u) - median(u)| / max_i |u_i|", fontsize=10)
    eps = float(result.eps)
    bar.ax.axhline(eps, color="white", lw=2.6)
    bar.ax.axhline(eps, color="black", lw=1.2, ls="--")
    bar.ax.text(-0.15, eps, f"eps = {eps:.3g}", transform=bar.ax.get_yaxis_transform(), ha="right", va="center",
                fontsize=9, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})


def _legend(fig: Any, result: RegressionResult, extra: list[Any]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = list(extra)
    if result.verdict.word == "refuted":
        handles.append(Patch(facecolor="white", edgecolor=WRONG, hatch=WRONG_HATCH, lw=1.5,
                             label="ratio > eps (the claim fails there)"))
    if _worst_label(result) is not None:
        handles.append(Line2D([], [], marker="*", color="none", markerfacecolor="white", markeredgecolor="black",
                              markersize=14, label="worst-case direction (exact maximizer)" if result.complete
                              else "largest ratio found (exact; the search did not finish)"))
    if not result.complete:
        handles.append(Patch(facecolor=palette.UNEXPLORED.colour, hatch=palette.UNEXPLORED.hatch, edgecolor="#777777",
                             label=palette.UNEXPLORED.label))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=10, frameon=False, bbox_to_anchor=(0.5, 0.0))


# ---- n = 2: the circle of directions ------------------------------------------------------------

def circle_ratio(result: RegressionResult, degrees: np.ndarray) -> np.ndarray:
    """The ratio at each angle from the exact arcs' error forms (display floats); NaN where no region
    found by the search lies (or on a boundary ray)."""
    ratio = np.full(degrees.shape, np.nan)
    for arc in cone_arcs(result):
        inside = ((degrees - arc.start) % 360.0) < (arc.end - arc.start)
        ratio[inside] = ratio_at(arc.form, degrees[inside])
    return ratio


def _paint_circle(ax: Any, result: RegressionResult, cmap: Any, norm: Any) -> None:
    from matplotlib.patches import Circle, Wedge

    grid = np.linspace(-1.0, 1.0, PIXELS)
    px, py = np.meshgrid(grid, grid[::-1])
    ratio = circle_ratio(result, np.degrees(np.arctan2(py, px)) % 360.0)
    image = np.zeros(ratio.shape + (4,))
    known = ~np.isnan(ratio)
    image[known] = cmap(norm(ratio[known]))
    image[~known, 3] = 1.0
    _hatch_unexplored(image, px, py, ~known)
    disc = Circle((0, 0), 1.0, transform=ax.transData)
    ax.imshow(image, extent=(-1, 1, -1, 1), interpolation="bilinear", clip_path=disc)
    for arc in exceed_arcs(result):
        ax.add_patch(Wedge((0, 0), 1.0, arc.start, arc.end, facecolor="none", edgecolor=WRONG, hatch="//", lw=0))
        ax.add_patch(Wedge((0, 0), 1.09, arc.start, arc.end, width=0.06, facecolor=WRONG, edgecolor=WRONG, lw=0.8))
    for outcome in result.regions:
        start, end = span(outcome.region.interior())
        for angle in (start, end):
            t = math.radians(angle)
            ax.plot([0, math.cos(t)], [0, math.sin(t)], color=palette.EDGE, lw=0.9)
        if end - start >= 12.0:
            mid = math.radians((start + end) / 2)
            ax.text(0.55 * math.cos(mid), 0.55 * math.sin(mid), region_id(outcome.region.index), ha="center",
                    va="center", fontsize=10, fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    ax.add_patch(Circle((0, 0), 1.0, fill=False, edgecolor="#333333", lw=0.8))
    ax.plot([-1, 1], [-1, 1], color=palette.DIAGONAL, lw=0.9, ls=":")
    ax.text(1.02, 1.02, "x0 = x1", fontsize=9, color="#222222", ha="left", va="bottom")
    for text, (x, y) in (("+x0", (1.0, 0.0)), ("-x0", (-1.0, 0.0)), ("+x1", (0.0, 1.0)), ("-x1", (0.0, -1.0))):
        ax.text(1.24 * x, 1.24 * y, text, fontsize=10, ha="center", va="center", color="#333333")


def _no_excess_note(ax: Any, result: RegressionResult) -> None:
    if result.verdict.word == "proved":
        ax.text(0.5, 0.02, "no direction has ratio > eps: the claim holds everywhere (decided exactly)",
                transform=ax.transAxes, ha="center", va="bottom", fontsize=10)


def _mark_worst_2d(ax: Any, result: RegressionResult) -> None:
    label = _worst_label(result)
    if label is None or result.worst_point is None:
        return
    x, y = (float(v) for v in result.worst_point)
    t = math.atan2(y, x)
    ax.plot([0, math.cos(t)], [0, math.sin(t)], color="black", lw=1.6)
    ax.plot(math.cos(t), math.sin(t), marker="*", markersize=18, markerfacecolor="white", markeredgecolor="black",
            zorder=6)
    ax.annotate(label, (math.cos(t), math.sin(t)), xytext=(1.45 * math.cos(t), 1.38 * math.sin(t)), fontsize=10,
                ha="center", va="center", arrowprops={"arrowstyle": "-", "color": "#333333", "lw": 0.8},
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#333333", "lw": 0.6}, zorder=7)


def _ratio_curve(ax: Any, result: RegressionResult, top: float) -> None:
    """The ratio against the angle, eps as a line, the > eps arcs shaded: the circle unrolled."""
    for arc in cone_arcs(result):
        angles = np.linspace(arc.start, arc.end, max(2, math.ceil(arc.end - arc.start) * 4))
        for shift in (0.0, -360.0):
            ax.plot(angles + shift, ratio_at(arc.form, angles), color="black", lw=1.2)
    for arc in exceed_arcs(result):
        for shift in (0.0, -360.0):
            ax.axvspan(arc.start + shift, arc.end + shift, facecolor="none", edgecolor=WRONG, hatch=WRONG_HATCH, lw=0)
    ax.axhline(float(result.eps), color="black", ls="--", lw=1.0)
    ax.text(1.005, float(result.eps), f"eps = {float(result.eps):.3g}", transform=ax.get_yaxis_transform(),
            ha="left", va="center", fontsize=9)
    ax.set_xlim(0, 360)
    ax.set_ylim(-0.03 * top, 1.08 * top)
    ax.set_xticks(range(0, 361, 45))
    ax.set_xlabel("direction of (x0, x1), degrees counter-clockwise from +x0", fontsize=10)
    ax.set_ylabel("|y - median| / max|x_i|", fontsize=10)


def circle_figure(result: RegressionResult) -> Any:
    """The matplotlib Figure (no pyplot) of the circle of directions, n = 2."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    cmap, top = colormaps[COLORMAP], _scale(result)
    norm = Normalize(0.0, top)
    fig = Figure(figsize=(10.5, 12.0), dpi=100)
    grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1.0], left=0.1, right=0.92, top=0.92, bottom=0.14, hspace=0.22)
    main = fig.add_subplot(grid[0, 0])
    _paint_circle(main, result, cmap, norm)
    _mark_worst_2d(main, result)
    _no_excess_note(main, result)
    main.set_xlim(-1.75, 1.75)
    main.set_ylim(-1.45, 1.45)
    main.set_aspect("equal")
    main.axis("off")
    _colour_bar(fig, main, result, cmap, norm)
    _ratio_curve(fig.add_subplot(grid[1, 0]), result, top)
    fig.suptitle(_title(result) + "\nThe circle of input directions: each wedge a region (rays exact), coloured by "
                 "the ratio", fontsize=11)
    _legend(fig, result, [Line2D([], [], color=palette.EDGE, lw=1.0, label="region boundary (exact ray)")])
    return fig


# ---- n = 3: the sphere of directions ------------------------------------------------------------

@dataclass(frozen=True)
class DiscData:
    """One hemisphere's pixels: which lie on the disc, the ratio there, which are hatched > eps, and
    which lie in a region the search never reached."""

    on_disc: np.ndarray
    ratio: np.ndarray
    exceed: np.ndarray
    unexplored: np.ndarray


def disc_data(result: RegressionResult, sign: float, pixels: int = PIXELS) -> DiscData:
    """The ratio per pixel (display floats) and the > eps mask, kept inside regions whose exact worst
    case exceeds eps, so a proved claim never shows a hatched pixel."""
    radius = math.sqrt(2.0)
    grid = np.linspace(-radius, radius, pixels)
    px, py = np.meshgrid(grid, grid[::-1])
    points = np.stack([px.ravel(), py.ravel()], axis=1)
    on_disc = np.sum(points * points, axis=1) <= 2.0
    v = from_disc(points, sign)
    ratio = np.zeros(points.shape[0])
    y = result.network.logits_float64(v[on_disc])[:, 0]
    ratio[on_disc] = np.abs(y - np.median(v[on_disc], axis=1)) / np.max(np.abs(v[on_disc]), axis=1)
    index = {pattern_key(b for step in o.region.pattern for b in step): o for o in result.regions}
    keys = pattern_keys(result.network, v[on_disc])
    over = np.array([k in index and index[k].worst > result.eps for k in keys], dtype=bool)
    found = np.array([k in index for k in keys], dtype=bool)
    exceed = np.zeros(points.shape[0], dtype=bool)
    exceed[on_disc] = over & (ratio[on_disc] > float(result.eps))
    unexplored = np.zeros(points.shape[0], dtype=bool)
    if not result.complete:
        unexplored[on_disc] = ~found
    return DiscData(on_disc, ratio, exceed, unexplored)


def _draw_disc(ax: Any, result: RegressionResult, sign: float, cmap: Any, norm: Any, edges: list[np.ndarray]) -> None:
    from matplotlib.patches import Circle

    radius = math.sqrt(2.0)
    data = disc_data(result, sign)
    image = np.zeros((data.on_disc.size, 4))
    image[data.on_disc] = cmap(norm(data.ratio[data.on_disc]))
    grid = np.linspace(-radius, radius, PIXELS)
    px, py = np.meshgrid(grid, grid[::-1])
    stripe = ((px.ravel() - py.ravel()) * 14.0 % 1.0) < 0.22
    _hatch_unexplored(image, px.ravel(), py.ravel(), data.unexplored)
    image[data.exceed & stripe, :3] = _rgb(WRONG)
    ax.imshow(image.reshape(PIXELS, PIXELS, 4), extent=(-radius, radius, -radius, radius), interpolation="nearest")
    if data.exceed.any():  # the > eps set's outline, so that its shape reads through the stripes
        ax.contour(px, py, data.exceed.reshape(PIXELS, PIXELS).astype(float), levels=[0.5], colors=[WRONG],
                   linewidths=1.2)
    for edge in edges:
        keep = edge @ (sign * np.ones(3) / math.sqrt(3.0)) >= -1e-9
        if keep.any():
            xy = to_disc(edge[keep], sign)
            ax.plot(xy[:, 0], xy[:, 1], color="#222222", lw=0.5)
    great_circles(ax, sign, radius)
    label = _worst_label(result)
    if label is not None and result.worst_point is not None:
        w = np.array([float(v) for v in result.worst_point])
        w /= np.linalg.norm(w)
        if w.sum() * sign > 0:
            x, y = to_disc(w[None, :], sign)[0]
            ax.plot(x, y, marker="*", markersize=20, markerfacecolor="white", markeredgecolor="black", zorder=7)
            ax.annotate(label, (x, y), xytext=(0, -30), textcoords="offset points", fontsize=10, ha="center",
                        va="top", zorder=8, bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#333333",
                                                 "lw": 0.6})
    axis_marks(ax, sign)
    ax.add_patch(Circle((0, 0), radius, fill=False, color="black", lw=1.0))
    ax.set_xlim(-1.12 * radius, 1.12 * radius)
    ax.set_ylim(-1.12 * radius, 1.12 * radius)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"half with x0 + x1 + x2 {'>' if sign > 0 else '<'} 0", fontsize=12)


def sphere_figure(result: RegressionResult) -> Any:
    """The matplotlib Figure (no pyplot) of the two hemispheres' equal-area discs, n = 3."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    cmap = colormaps[COLORMAP]
    norm = Normalize(0.0, _scale(result))
    fig = Figure(figsize=(13.5, 7.6), dpi=100)
    axes = fig.subplots(1, 2, gridspec_kw={"left": 0.02, "right": 0.9, "top": 0.86, "bottom": 0.16, "wspace": 0.04})
    edges = [e for o in result.regions for e in outline(geometry_of(region_cone(o.region)))]
    for ax, sign in zip(axes, (1.0, -1.0)):
        _draw_disc(ax, result, sign, cmap, norm, edges)
    _colour_bar(fig, list(axes), result, cmap, norm)
    fig.suptitle(_title(result) + f"\nThe sphere of input directions, {len(result.regions)} regions, each half "
                 "flattened keeping areas, coloured by the ratio", fontsize=11)
    _legend(fig, result, [Line2D([], [], color="#222222", lw=0.6, label="region edge"),
                          Line2D([], [], color="#222222", lw=1.0, ls=(0, (4, 3)),
                                 label="x_i = x_j (the median changes piece)")])
    return fig


def draw_regression_picture(result: RegressionResult, *paths: Path) -> bool:
    """Write the picture (n = 2: circle, n = 3: sphere) to each path by its suffix; False (nothing
    written) for other n."""
    if result.seq_len == 2:
        fig = circle_figure(result)
    elif result.seq_len == 3:
        fig = sphere_figure(result)
    else:
        return False
    for path in paths:
        fig.savefig(path, metadata={"Date": None} if Path(path).suffix == ".svg" else None)
    return True
