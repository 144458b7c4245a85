"""SMT-LIB 2 encodings of every region query, replayable by any SMT solver.

One file per region: first the region's interior query (expected sat), then each claim
query as a (push 1) ... (pop 1) block, its expected answer in a comment and in index.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verify.analysis import CheckResult
from verify.linear import smt_constraint, smt_disjunction
from verify.solver import Answer, SmtQuery


def region_script(result: CheckResult, index: int) -> tuple[str, list[str]]:
    outcome = result.regions[index]
    region = outcome.region
    n = region.n
    head = SmtQuery(
        name=f"region {region.pattern_text} interior",
        n=n,
        constraints=region.interior(),
        any_of=None,
        expected=Answer.SAT,
    )
    expected: list[str] = []
    lines = [
        f"; model sha256 {result.weights.sha256} ({result.weights.path})",
        f"; region {region.index}, activation pattern {region.pattern_text} (steps separated by |, 1 = active)",
        f"; claim {result.claim.name}: {result.claim.statement}",
        "(set-logic QF_LRA)",
    ]
    lines += [f"(declare-const x{i} Real)" for i in range(n)]
    blocks = [head] + list(outcome.claim.queries)
    for query in blocks:
        expected.append(query.expected.value)
        lines.append(f"; query: {query.name}; expected: {query.expected.value}")
        lines.append("(push 1)")
        lines += [f"(assert {smt_constraint(c)})" for c in query.constraints]
        if query.any_of is not None:
            lines.append(f"(assert {smt_disjunction(query.any_of)})")
        lines.append("(check-sat)")
        lines.append("(pop 1)")
    lines.append("(exit)")
    return "\n".join(lines) + "\n", expected


def write_encodings(result: CheckResult, out_dir: Path) -> dict[str, Any]:
    """Write one .smt2 file per region and an index.json with the expected answers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("region_*.smt2"):
        old.unlink()
    entries = []
    for k, outcome in enumerate(result.regions):
        text, expected = region_script(result, k)
        name = f"region_{k:04d}_{outcome.region.pattern_text.replace('|', '-')}.smt2"
        (out_dir / name).write_text(text)
        entries.append({"file": name, "pattern": outcome.region.pattern_text, "expected": expected})
    index = {
        "model": result.weights.path,
        "sha256": result.weights.sha256,
        "claim": result.claim.name,
        "verdict": result.verdict.word,
        "complete": result.search.complete,
        "logic": "QF_LRA",
        "regions": entries,
    }
    (out_dir / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return index
