"""A picture of the input plane (n = 2): regions, their rays, decision rays, the diagonal,
and the misclassified slivers, with a magnified inset where a sliver is too thin to see.
Floats are fine here: the picture illustrates results that were computed exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from matplotlib.figure import Figure  # drawn without pyplot: no global backend is chosen or changed
from matplotlib.patches import Wedge

from verify.check.pipeline import CheckResult
from verify.render.json_report import error_rate_fields
from verify.render.rate import error_rate_words
from verify.geometry.planar import extreme_rays_2d


def _deg(r: Sequence[object]) -> float:
    return math.degrees(math.atan2(float(r[1]), float(r[0]))) % 360.0


def _span(constraints) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    rays = extreme_rays_2d(constraints)
    if not rays:
        return 0.0, 360.0
    start, end = _deg(rays[0]), _deg(rays[1])
    if end <= start:
        end += 360.0
    return start, end


def _draw(ax, result: CheckResult, colors, radius: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    for k, outcome in enumerate(result.regions):
        start, end = _span(outcome.region.interior())
        ax.add_patch(Wedge((0, 0), radius, start, end, color=colors(k % 10), alpha=0.35, lw=0))
        mid = math.radians((start + end) / 2)
        ax.text(0.62 * radius * math.cos(mid), 0.62 * radius * math.sin(mid), outcome.region.pattern_text,
                ha="center", va="center", fontsize=7)
    for cone, _ in result.misclassified:
        start, end = _span(cone.constraints)
        ax.add_patch(Wedge((0, 0), radius, start, end, color="red", alpha=0.9, lw=0))
    for outcome in result.regions:
        rays = outcome.rays
        if rays is None:
            continue
        for r in rays.boundary:
            t = math.radians(_deg(r))
            ax.plot([0, radius * math.cos(t)], [0, radius * math.sin(t)], color="black", lw=0.8)
        for r in rays.decision:
            t = math.radians(_deg(r))
            ax.plot([0, radius * math.cos(t)], [0, radius * math.sin(t)], color="red", lw=1.0, ls="--")
    ax.plot([-radius, radius], [-radius, radius], color="gray", lw=0.8, ls=":")


def draw_partition(result: CheckResult, path: Path) -> None:
    """Write the PNG of the partition of the (x0, x1) plane."""
    palette = ["#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada", "#80b1d3", "#fccde5", "#d9d9d9"]

    def colors(k: int) -> str:
        return palette[k % len(palette)]

    fig = Figure(figsize=(7.5, 7.5), dpi=110)
    ax = fig.subplots()
    _draw(ax, result, colors)
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    rate = error_rate_words(error_rate_fields(result), compact=True)
    ax.set_title(f"{Path(result.weights.path).name}: {result.verdict.word}, error rate {rate}\n"
                 "black: region rays, red dashed: decision rays (Delta=0), dotted: x0 = x1, red: misclassified",
                 fontsize=8)
    thin = [(c, m) for c, m in result.misclassified if m is not None and float(m.value) * 360.0 < 3.0]
    corners = [(0.02, 0.62), (0.62, 0.02), (0.02, 0.02), (0.62, 0.62)]
    for k, (cone, _) in enumerate(thin[:4]):
        start, end = _span(cone.constraints)
        mid = math.radians((start + end) / 2)
        width = max(math.radians(end - start), 1e-9)
        half = 6 * width
        cx, cy = 0.9 * math.cos(mid), 0.9 * math.sin(mid)
        inset = ax.inset_axes([*corners[k], 0.36, 0.36])
        _draw(inset, result, colors)
        inset.set_xlim(cx - half, cx + half)
        inset.set_ylim(cy - half, cy + half)
        inset.set_aspect("equal")
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title(f"region {cone.region}: sliver of {end - start:.3g} deg, magnified", fontsize=6)
        ax.indicate_inset_zoom(inset, edgecolor="red")
        for text in list(inset.texts):
            text.remove()
    fig.tight_layout()
    fig.savefig(path)
