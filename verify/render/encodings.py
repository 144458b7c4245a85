"""SMT-LIB 2 encodings of every region query, replayable by any SMT solver.

One file per region: first the region's interior query (expected sat), then each claim
query as a (push 1) ... (pop 1) block, its expected answer in a comment and in index.json.
The files name the model by a label the caller chooses (the CLI: its path relative to the
repository root) and its sha256, never by an absolute path, so that regenerating them on
another machine or in another checkout gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from verify.check.pipeline import CheckResult
from verify.smt.smtlib import smt_constraint, smt_disjunction
from verify.smt.solver import Answer, SmtQuery


def default_label(result: CheckResult) -> str:
    """The model file's name alone: no folder of the machine that wrote the encodings."""
    return PurePath(result.weights.path).name


def region_script(result: CheckResult, index: int, model_label: str | None = None) -> tuple[str, list[str]]:
    """The SMT-LIB 2 text of region `index` and the expected answer of each of its (check-sat)."""
    label = default_label(result) if model_label is None else model_label
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
        f"; model sha256 {result.weights.sha256} ({label})",
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


def write_encodings(result: CheckResult, out_dir: Path, *, model_label: str | None = None) -> dict[str, Any]:
    """Write one .smt2 file per region and an index.json with the expected answers.

    `model_label` names the model in index.json and in every header (default: its file name).
    """
    label = default_label(result) if model_label is None else model_label
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("region_*.smt2"):
        old.unlink()
    entries = []
    for k, outcome in enumerate(result.regions):
        text, expected = region_script(result, k, label)
        name = f"region_{k:04d}_{outcome.region.pattern_text.replace('|', '-')}.smt2"
        (out_dir / name).write_text(text)
        entries.append({"file": name, "pattern": outcome.region.pattern_text, "expected": expected})
    index = {
        "model": label,
        "sha256": result.weights.sha256,
        "claim": result.claim.name,
        "verdict": result.verdict.word,
        "complete": result.search.complete,
        "logic": "QF_LRA",
        "regions": entries,
    }
    (out_dir / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return index
