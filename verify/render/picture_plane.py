"""A picture of the input plane (n = 2) that a person reads at a glance.

The disc shows every region as a wedge with a short id (R0, R1, ...), coloured by meaning
(correct, misclassified, tie, unexplored, undecided: `palette`); a table beneath gives each id's
pattern. Slivers too thin to see are magnified in a side panel, each joined to its place on the
disc by a leader line. Floats are fine here: the picture illustrates results computed exactly.
matplotlib is imported only inside the functions that draw, so a check that draws nothing never
loads it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from verify.check.pipeline import CheckResult
from verify.geometry.planar import extreme_rays_2d
from verify.render import palette
from verify.render.glossary import region_id
from verify.render.json_report import error_rate_fields
from verify.render.rate import error_rate_words

THIN_DEG = 3.0  # a misclassified or tie wedge narrower than this gets a magnified inset
MAX_INSETS = 4
LABEL_INSIDE_DEG = 9.0  # a wedge at least this wide carries its id inside the disc
MAX_TABLE_ROWS = 60


def _deg(r: Sequence[object]) -> float:
    return math.degrees(math.atan2(float(r[1]), float(r[0]))) % 360.0  # type: ignore[arg-type]


def span(constraints) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(start, end) in degrees, counter-clockwise, end > start; the whole circle if unconstrained."""
    rays = extreme_rays_2d(constraints)
    if not rays:
        return 0.0, 360.0
    start, end = _deg(rays[0]), _deg(rays[1])
    if end <= start:
        end += 360.0
    return start, end


@dataclass(frozen=True)
class Piece:
    """A wedge to paint: a region's base or one of its cones, with its meaning."""

    start: float
    end: float
    meaning: palette.Meaning
    region: int


def cone_meaning(correct: bool, tied: bool) -> palette.Meaning:
    """Misclassified wins over tie: a wrong tied cone counts in the error rate itself."""
    if not correct:
        return palette.MISCLASSIFIED
    return palette.TIE if tied else palette.CORRECT


def pieces(result: CheckResult) -> list[Piece]:
    """Region bases (correct once decided, else undecided), then their tie and misclassified cones on top."""
    found: list[Piece] = []
    for outcome in result.regions:
        start, end = span(outcome.region.interior())
        decided = outcome.claim.verdict.word != "unknown"
        found.append(Piece(start, end, palette.CORRECT if decided else palette.UNDECIDED, outcome.region.index))
    for outcome in result.regions:
        for cone in outcome.claim.cones:
            meaning = cone_meaning(cone.correct, cone.tied)
            if meaning is not palette.CORRECT:
                start, end = span(cone.constraints)
                found.append(Piece(start, end, meaning, cone.region))
    return found


def _paint(ax: Any, result: CheckResult, painted: list[Piece], *, zoomed: bool) -> None:
    from matplotlib.patches import Circle, Wedge

    if not result.search.complete:
        ax.add_patch(Circle((0, 0), 1.0, facecolor=palette.UNEXPLORED.colour, hatch=palette.UNEXPLORED.hatch,
                            edgecolor="#aaaaaa", lw=0))
    for piece in painted:
        ax.add_patch(Wedge((0, 0), 1.0, piece.start, piece.end, facecolor=piece.meaning.colour,
                           hatch=piece.meaning.hatch, edgecolor="#777777" if piece.meaning.hatch else "none", lw=0))
    if not zoomed:
        for piece in painted:  # a sliver thinner than a pixel still shows, as a thick stroke down its middle
            if piece.meaning is not palette.CORRECT and piece.end - piece.start < THIN_DEG:
                t = math.radians((piece.start + piece.end) / 2)
                ax.plot([0, math.cos(t)], [0, math.sin(t)], color=piece.meaning.colour, lw=3.0, solid_capstyle="butt")
    width = 1.6 if zoomed else 0.9
    for outcome in result.regions:
        if outcome.rays is None:
            continue
        for r in outcome.rays.boundary:
            t = math.radians(_deg(r))
            ax.plot([0, math.cos(t)], [0, math.sin(t)], color=palette.EDGE, lw=width)
        for r in outcome.rays.decision:
            t = math.radians(_deg(r))
            ax.plot([0, math.cos(t)], [0, math.sin(t)], color=palette.DECISION, lw=width + 0.3, ls="--")
    ax.plot([-1, 1], [-1, 1], color=palette.DIAGONAL, lw=width, ls=":")
    ax.add_patch(Circle((0, 0), 1.0, fill=False, edgecolor="#333333", lw=0.8))


def _label_regions(ax: Any, result: CheckResult) -> None:
    """Ids inside wide wedges; narrow ones outside the rim, staggered so neighbours do not collide."""
    outside: list[tuple[float, str]] = []
    for outcome in result.regions:
        start, end = span(outcome.region.interior())
        mid = math.radians((start + end) / 2)
        label = region_id(outcome.region.index)
        if end - start >= LABEL_INSIDE_DEG:
            ax.text(0.62 * math.cos(mid), 0.62 * math.sin(mid), label, ha="center", va="center", fontsize=11,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        else:
            outside.append(((start + end) / 2, label))
    for angle, spread, label in zip(*_fan([a for a, _ in sorted(outside)]), [lab for _, lab in sorted(outside)]):
        t, u = math.radians(angle), math.radians(spread)
        ax.plot([math.cos(t), 1.08 * math.cos(u)], [math.sin(t), 1.08 * math.sin(u)], color="#555555", lw=0.6)
        ax.text(1.15 * math.cos(u), 1.15 * math.sin(u), label, ha="center", va="center", fontsize=9)


def _fan(angles: list[float], gap: float = 6.0) -> tuple[list[float], list[float]]:
    """Label angles for sorted wedge angles: at least `gap` degrees apart, each cluster centred on its wedges."""
    spread: list[float] = []
    clusters: list[list[int]] = []
    for k, angle in enumerate(angles):
        if spread and angle < spread[-1] + gap:
            spread.append(spread[-1] + gap)
            clusters[-1].append(k)
        else:
            spread.append(angle)
            clusters.append([k])
    for members in clusters:
        shift = sum(spread[k] - angles[k] for k in members) / len(members)
        for k in members:
            spread[k] -= shift
    return angles, spread


def _axes_marks(ax: Any) -> None:
    for text, (x, y) in (("+x0", (1.0, 0.0)), ("-x0", (-1.0, 0.0)), ("+x1", (0.0, 1.0)), ("-x1", (0.0, -1.0))):
        ax.annotate(text, (x, y), xytext=(x * 1.36, y * 1.36),
                    fontsize=10, ha="center", va="center", color="#333333")
    ax.plot([-1.0, 1.0], [-1.0, 1.0], color=palette.DIAGONAL, lw=0.8, ls=":")
    ax.text(1.04, 1.04, "x0 = x1", fontsize=10, color=palette.DIAGONAL, ha="left", va="bottom")


@dataclass(frozen=True)
class Sliver:
    start: float
    end: float
    meaning: palette.Meaning
    region: int
    measure: float | None


def slivers(result: CheckResult) -> list[Sliver]:
    """Misclassified and tie cones too thin to see at full scale, by angle."""
    found = []
    for outcome in result.regions:
        for cone, measure in zip(outcome.claim.cones, outcome.cone_measures):
            meaning = cone_meaning(cone.correct, cone.tied)
            start, end = span(cone.constraints)
            if meaning is not palette.CORRECT and end - start < THIN_DEG:
                found.append(Sliver(start, end, meaning, cone.region, None if measure is None else float(measure.value)))
    return sorted(found, key=lambda s: s.start)


def _inset(fig: Any, ax: Any, main: Any, result: CheckResult, painted: list[Piece], sliver: Sliver, tag: str,
           depth: int) -> None:
    """Inset `tag` magnifies `sliver`; `depth` counts earlier slivers close by, whose markers sit further out."""
    from matplotlib.patches import ConnectionPatch

    mid = math.radians((sliver.start + sliver.end) / 2)
    width = max(math.radians(sliver.end - sliver.start), 1e-9)
    radius = 0.9 - 0.25 * (depth % 3)
    cx, cy = radius * math.cos(mid), radius * math.sin(mid)
    half = 6 * width * radius
    _paint(ax, result, painted, zoomed=True)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#333333")
    kind = "misclassified" if sliver.meaning is palette.MISCLASSIFIED else "tie"
    measure = "" if sliver.measure is None else f", measure {sliver.measure:.2g}"
    ax.set_title(f"{tag}: {kind} sliver in {region_id(sliver.region)}, magnified\n"
                 f"{sliver.end - sliver.start:.2g} deg{measure}", fontsize=10)
    main.plot(cx, cy, marker="o", markersize=14, markerfacecolor="none", markeredgecolor="#333333", mew=1.2)
    side = -1.0 if depth % 2 else 1.0
    main.annotate(tag, (cx, cy), xytext=(cx - side * 0.13 * math.sin(mid), cy + side * 0.13 * math.cos(mid)), fontsize=11,
                  fontweight="bold", ha="center", va="center")
    fig.add_artist(ConnectionPatch(xyA=(cx, cy), coordsA=main.transData, xyB=(0.0, 0.5), coordsB=ax.transAxes,
                                   color="#333333", lw=0.8, ls="-"))


def _legend(fig: Any, result: CheckResult, painted: list[Piece], anchor: Any) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    present = {p.meaning.key for p in painted}
    if not result.search.complete:
        present.add(palette.UNEXPLORED.key)
    handles = [Patch(facecolor=m.colour, hatch=m.hatch, edgecolor="#777777", label=m.label)
               for m in palette.MEANINGS if m.key in present or m.key in ("correct", "misclassified")]
    handles += [Line2D([], [], color=palette.EDGE, lw=1.0, label="region boundary"),
                Line2D([], [], color=palette.DECISION, lw=1.3, ls="--", label="decision ray (Delta = 0)"),
                Line2D([], [], color=palette.DIAGONAL, lw=1.0, ls=":", label="x0 = x1 (right answer changes)")]
    anchor.legend(handles=handles, loc="upper left", fontsize=10, frameon=False, ncol=1)


def _region_rows(result: CheckResult) -> list[list[str]]:
    rows = []
    for outcome in result.regions:
        start, end = span(outcome.region.interior())
        cones = outcome.claim.cones
        wrong = sum(1 for c in cones if not c.correct)
        ties = sum(1 for c in cones if c.correct and c.tied)
        if outcome.claim.verdict.word == "unknown":
            outcome_text = "undecided"
        else:
            outcome_text = ("correct" if not wrong else f"{wrong} misclassified cone(s)") + (
                f", {ties} tie cone(s)" if ties else "")
        rows.append([region_id(outcome.region.index), outcome.region.pattern_text, f"{end - start:.4g}", outcome_text])
    return rows


def table_groups(rows: list[list[str]]) -> int:
    """Side-by-side column groups of the pattern table: more for many rows, fewer for long patterns."""
    longest = max((len(r[1]) for r in rows), default=0)
    most = 3 if longest <= 20 else 2 if longest <= 40 else 1
    return min(most, max(1, math.ceil(len(rows) / 10)))


def _table(ax: Any, rows: list[list[str]], total: int) -> None:
    ax.axis("off")
    if not rows:
        ax.text(0.0, 1.0, "no region found before the search stopped", fontsize=10, va="top")
        return
    groups = table_groups(rows)
    per = math.ceil(len(rows) / groups)
    head = ["id", "pattern (active neurons per step)", "angle (deg)", "outcome"]
    for g in range(groups):
        chunk = rows[g * per : (g + 1) * per]
        table = ax.table(cellText=chunk, colLabels=head, loc="upper left", cellLoc="left",
                         bbox=[g / groups, 1.0 - (len(chunk) + 1) / (per + 1), 1.0 / groups - 0.01, (len(chunk) + 1) / (per + 1)])
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        for (r, c), cell in table.get_celld().items():
            cell.set_edgecolor("#cccccc")
            if c == 1 and r > 0:
                cell.get_text().set_fontfamily("monospace")
            if r == 0:
                cell.get_text().set_fontweight("bold")
        widths = [0.08, 0.42, 0.14, 0.36]
        for (r, c), cell in table.get_celld().items():
            cell.set_width(widths[c] * (1.0 / groups - 0.01))
    if total > len(rows):
        ax.text(0.0, -0.02, f"... and {total - len(rows)} more regions (all in report.json)", fontsize=9,
                transform=ax.transAxes, va="top")


def partition_figure(result: CheckResult) -> Any:
    """The matplotlib Figure (no pyplot, no backend chosen) of the partition of the (x0, x1) plane."""
    from matplotlib.figure import Figure

    painted = pieces(result)
    thin = slivers(result)[:MAX_INSETS]
    rows = _region_rows(result)[:MAX_TABLE_ROWS]
    groups = table_groups(rows)
    table_rows = math.ceil(max(len(rows), 1) / groups) + 1
    table_height = 0.3 * table_rows + 0.4
    fig = Figure(figsize=(13.5, 8.6 + table_height), dpi=100)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.55, 1.0], height_ratios=[8.6, table_height], wspace=0.08, hspace=0.05,
                            left=0.03, right=0.97, top=0.86, bottom=0.02)
    main = fig.add_subplot(grid[0, 0])
    _paint(main, result, painted, zoomed=False)
    _label_regions(main, result)
    _axes_marks(main)
    main.set_xlim(-1.42, 1.42)
    main.set_ylim(-1.42, 1.42)
    main.set_aspect("equal")
    main.axis("off")
    slots = max(len(thin), 2)
    side = grid[0, 1].subgridspec(slots + 1, 1, height_ratios=[1.0] * slots + [0.75], hspace=0.45)
    for k, sliver in enumerate(thin):
        inset = fig.add_subplot(side[k, 0])
        close = sum(1 for other in thin[:k] if abs(other.start - sliver.start) < 5.0)
        _inset(fig, inset, main, result, painted, sliver, "ABCD"[k], close)
    anchor = fig.add_subplot(side[-1, 0])
    anchor.axis("off")
    _legend(fig, result, painted, anchor)
    if not thin:
        anchor.text(0.0, 1.35, "no sliver too thin to see: nothing magnified", fontsize=9, transform=anchor.transAxes)
    _table(fig.add_subplot(grid[1, :]), rows, len(result.regions))
    rate = error_rate_words(error_rate_fields(result), compact=True)
    status = "" if result.search.complete else f" (search incomplete: {len(result.regions)} regions found)"
    fig.suptitle(f"{Path(result.weights.path).name} ({result.claim.name}): {result.verdict.word}{status}, error rate {rate}\n"
                 "The (x0, x1) input plane: each wedge is a region (id Rk, pattern in the table), coloured by outcome",
                 fontsize=12)
    return fig


def draw_partition(result: CheckResult, *paths: Path) -> None:
    """Write the picture of the (x0, x1) plane to each path, in the format its suffix names (.png, .svg)."""
    fig = partition_figure(result)
    for path in paths:
        fig.savefig(path, metadata={"Date": None} if Path(path).suffix == ".svg" else None)

