"""What a reader needs first, digested from the JSON report for the Markdown and HTML reports alike:
misclassified cones by measure, a summary of many regions, the undecided subtrees grouped, coverage.

Everything here reads the report dict only, so every number shown is one of the JSON's numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

MAX_REGIONS_LISTED = 50  # past this, report.md summarizes the regions (the JSON and HTML list all)
LARGEST_SHOWN = 10
UNDECIDED_SHOWN = 10


def _measure_key(m: dict[str, Any] | None) -> float:
    return -1.0 if m is None else float(m["value"])


def misclassified_by_measure(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The misclassified cones, largest measure first (unmeasured last), ties in search order."""
    return sorted(report["misclassified_cones"], key=lambda c: (-_measure_key(c["measure"]), c["region"]))


@dataclass(frozen=True)
class RegionSummary:
    total: int
    by_verdict: tuple[tuple[str, int], ...]
    largest: tuple[dict[str, Any], ...]  # region entries of the JSON, largest measure first
    measured: int  # regions with a certified measure


def summarize_regions(report: dict[str, Any], largest: int = LARGEST_SHOWN) -> RegionSummary:
    regions = report["regions"]
    counts = Counter(r["verdict"] for r in regions)
    ranked = sorted(regions, key=lambda r: (-_measure_key(r["measure"]), r["index"]))
    return RegionSummary(
        total=len(regions),
        by_verdict=tuple(sorted(counts.items())),
        largest=tuple(r for r in ranked[:largest] if r["measure"] is not None),
        measured=sum(1 for r in regions if r["measure"] is not None),
    )


@dataclass(frozen=True)
class UndecidedSummary:
    """Undecided subtrees: the whole steps they all share, then what differs, never a string cut mid-way."""

    count: int
    common_steps: tuple[str, ...]  # the leading steps' patterns shared by every subtree
    rests: tuple[str, ...]  # each subtree's pattern after the common steps ('' if none)
    fixed_bits: tuple[int, ...]  # each subtree's number of decided neuron bits
    total_bits: int  # d * n: a full region pattern

    def by_open_step(self, d: int) -> list[tuple[int, int, int, int]]:
        """(step where the subtree's pattern stops, subtrees, fewest bits fixed, most bits fixed), by step."""
        groups: dict[int, list[int]] = {}
        for bits in self.fixed_bits:
            groups.setdefault(max(bits - 1, 0) // d, []).append(bits)
        return [(step, len(b), min(b), max(b)) for step, b in sorted(groups.items())]

    def shallowest(self, count: int) -> list[int]:
        """Indices of the `count` subtrees with the fewest bits fixed (the largest ones), in that order."""
        return sorted(range(self.count), key=lambda k: (self.fixed_bits[k], k))[:count]


def summarize_undecided(report: dict[str, Any]) -> UndecidedSummary:
    prefixes: list[str] = list(report["undecided"])
    d, n = report["model"]["hidden_size"], report["model"]["seq_len"]
    steps = [p.split("|") if p else [] for p in prefixes]
    common: list[str] = []
    if steps:
        for k in range(min(len(s) for s in steps)):
            column = {s[k] for s in steps}
            # a step is shared only if every subtree has it complete and equal
            if len(column) != 1 or any(len(s[k]) != d for s in steps):
                break
            common.append(steps[0][k])
    rests = tuple("|".join(s[len(common):]) for s in steps)
    fixed = tuple(sum(1 for ch in p if ch in "01") for p in prefixes)
    return UndecidedSummary(len(prefixes), tuple(common), rests, fixed, d * n)


def coverage_of(report: dict[str, Any]) -> dict[str, Any]:
    """The report's coverage entry (older reports lack it: rebuilt from the fields they have)."""
    found = report.get("coverage")
    if found is not None:
        return found
    return {"regions": len(report["regions"]), "complete": report["complete"],
            "measure": report.get("regions_total_measure"), "sampled": None}
