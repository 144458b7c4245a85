"""A picture of the unit sphere (n = 3): regions, region edges and the misclassified set.

Two Lambert azimuthal equal-area discs, one per hemisphere around the diagonal (1, 1, 1)/sqrt(3):
equal areas on the sphere get equal areas in the picture, so the red share of the discs is the
error rate. Great circles through the diagonal (the planes x_i = x_j, where the 2nd argmax
changes) are straight lines through the disc centres. Thin misclassified slivers are also
outlined and marked so that they stay visible. Floats are fine here: the picture illustrates
results that were computed exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.colors
from matplotlib.figure import Figure  # drawn without pyplot: no global backend is chosen or changed
from matplotlib.patches import Circle
import numpy as np

from verify.check.pipeline import CheckResult
from verify.render.json_report import error_rate_fields
from verify.render.rate import error_rate_words
from verify.core.linear import Constraint
from verify.geometry.solid import ConeGeometry, cyclic_order

CENTRE = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)
E1 = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
E2 = np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0)
PALETTE = ["#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada", "#80b1d3", "#fccde5", "#d9d9d9"]
PIXELS = 360


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
    w_hi, w_hh, _ = result.network.float_matrices()
    h = np.zeros((v.shape[0], w_hh.shape[0]))
    bits: list[np.ndarray] = []
    for t in range(v.shape[1]):
        pre = h @ w_hh.T + v[:, t : t + 1] * w_hi[None, :]
        bits.append(pre > 0)
        h = np.maximum(pre, 0.0)
    packed = np.packbits(np.concatenate(bits, axis=1), axis=1)
    keys = np.array([row.tobytes() for row in packed], dtype=object)
    index = {np.packbits(np.array([b for step in o.region.pattern for b in step], dtype=bool)).tobytes(): k
             for k, o in enumerate(result.regions)}
    return np.array([index.get(key, -1) for key in keys])


def _arc(a: Sequence[object], b: Sequence[object], steps: int = 48) -> np.ndarray:
    """Points of the great-circle arc between two rays, as unit vectors."""
    u = np.array([float(x) for x in a])
    w = np.array([float(x) for x in b])
    u, w = u / np.linalg.norm(u), w / np.linalg.norm(w)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    pts = (1 - t) * u + t * w
    return pts / np.linalg.norm(pts, axis=1, keepdims=True)


def _outline(geometry: ConeGeometry | None) -> list[np.ndarray]:
    """Edges of a cone's spherical polygon (empty if the cone has no polygon: rank < 3 or too many rays)."""
    if geometry is None or not geometry.full_dimensional or geometry.rank != 3:
        return []
    polygon = cyclic_order(geometry)
    return [_arc(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]


def _draw_disc(  # type: ignore[no-untyped-def]
    ax, result: CheckResult, sign: float, edges: list[np.ndarray], red_edges: list[np.ndarray]
) -> None:
    radius = np.sqrt(2.0)
    grid = np.linspace(-radius, radius, PIXELS)
    px, py = np.meshgrid(grid, grid[::-1])
    points = np.stack([px.ravel(), py.ravel()], axis=1)
    on_disc = np.sum(points * points, axis=1) <= 2.0
    v = from_disc(points, sign)
    image = np.ones((points.shape[0], 3))
    labels = np.where(on_disc, region_labels(result, v), -1)
    for k in range(len(result.regions)):
        image[labels == k] = matplotlib.colors.to_rgb(PALETTE[k % len(PALETTE)])
    for cone, _ in result.misclassified:
        candidates = np.nonzero(labels == cone.region)[0]
        image[candidates[_inside(cone.constraints, v[candidates])]] = (0.85, 0.0, 0.0)
    ax.imshow(image.reshape(PIXELS, PIXELS, 3), extent=(-radius, radius, -radius, radius))
    for group, colour, width in ((edges, "black", 0.5), (red_edges, "red", 1.2)):
        for edge in group:
            keep = edge @ (sign * CENTRE) >= -1e-9  # an arc shorter than pi meets the hemisphere in one piece
            if keep.any():
                xy = to_disc(edge[keep], sign)
                ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=width)
    for cone, _ in result.misclassified:
        witness = np.array([float(x) for x in cone.witness])
        witness = witness / np.linalg.norm(witness)
        if witness @ (sign * CENTRE) >= 0:
            xy = to_disc(witness[None, :], sign)[0]
            ax.plot(xy[0], xy[1], marker="o", markersize=5, markerfacecolor="none", markeredgecolor="red")
    for i, j in ((0, 1), (1, 2), (0, 2)):  # the planes x_i = x_j: lines through the centre
        normal = np.zeros(3)
        normal[i], normal[j] = 1.0, -1.0
        direction = np.cross(normal, CENTRE)
        direction /= np.linalg.norm(direction)
        xy = to_disc(np.array([direction, -direction]), sign)
        ax.plot(xy[:, 0], xy[:, 1], color="gray", lw=0.8, ls=":")
    for k in range(3):  # the axes, labelled where they fall on this hemisphere
        for s in (1.0, -1.0):
            axis = np.zeros(3)
            axis[k] = s
            if axis @ (sign * CENTRE) > 0:
                xy = to_disc(axis[None, :], sign)[0]
                ax.annotate(f"{'+' if s > 0 else '-'}x{k}", xy, fontsize=7, ha="center", va="center")
    ax.add_patch(Circle((0, 0), radius, fill=False, color="black", lw=0.8))
    ax.set_xlim(-1.05 * radius, 1.05 * radius)
    ax.set_ylim(-1.05 * radius, 1.05 * radius)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    label = "x0 + x1 + x2 > 0" if sign > 0 else "x0 + x1 + x2 < 0"
    ax.set_title(f"hemisphere {label}", fontsize=8)


def draw_sphere(result: CheckResult, path: Path) -> None:
    """Write the PNG of the unit sphere partitioned into regions, misclassified set in red."""
    fig = Figure(figsize=(11, 5.8), dpi=110)
    axes = fig.subplots(1, 2)
    edges = [e for o in result.regions for e in _outline(o.geometry)]
    red_edges = [e for c, _ in result.misclassified for e in _outline(result.cone_geometry(c))]
    for ax, sign in zip(axes, (1.0, -1.0)):
        _draw_disc(ax, result, sign, edges, red_edges)
    rate = error_rate_words(error_rate_fields(result), compact=True)
    fig.suptitle(
        f"{Path(result.weights.path).name}: {result.verdict.word}, {len(result.regions)} regions, error rate {rate}\n"
        "Lambert equal-area discs around (1,1,1); colours: regions (black edges), red: misclassified "
        "(outlined, circled), dotted: x_i = x_j",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path)
