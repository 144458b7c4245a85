"""Issue 2: the SMT-LIB 2 encodings are current and replay to the recorded answers."""

from __future__ import annotations

import json
from pathlib import Path

import z3

from verify.analysis import CheckOptions, check_model
from verify.loading import load_weights
from verify.smtlib_export import write_encodings

ENCODINGS = Path("encodings")


def replay_with_z3_text_frontend(text: str) -> list[str]:
    """Feed the file to Z3's own SMT-LIB parser (not the term builder that produced the answers)."""
    ctx = z3.Context()
    output = z3.Z3_eval_smtlib2_string(ctx.ref(), text)
    return [line.strip() for line in output.splitlines() if line.strip() in ("sat", "unsat", "unknown")]


def test_bundled_encodings_are_up_to_date(tmp_path: Path) -> None:
    for model in sorted(Path("models").glob("*.pth")):
        folder = ENCODINGS / model.stem
        assert (folder / "index.json").exists(), f"run `verify encode` to create {folder}"
        result = check_model(load_weights(model), CheckOptions(collect_queries=True))
        fresh = tmp_path / model.stem
        write_encodings(result, fresh)
        stored = json.loads((folder / "index.json").read_text())
        regenerated = json.loads((fresh / "index.json").read_text())
        stored.pop("model"), regenerated.pop("model")
        assert stored == regenerated
        for entry in regenerated["regions"]:
            assert (folder / entry["file"]).read_text().splitlines()[1:] == (fresh / entry["file"]).read_text().splitlines()[1:]


def test_every_query_replays_to_its_recorded_answer() -> None:
    indexes = sorted(ENCODINGS.glob("*/index.json"))
    assert indexes
    for index_path in indexes:
        index = json.loads(index_path.read_text())
        for entry in index["regions"]:
            text = (index_path.parent / entry["file"]).read_text()
            assert replay_with_z3_text_frontend(text) == entry["expected"]


def test_algzoo_queries_replay(tmp_path: Path) -> None:
    result = check_model(load_weights("models/algzoo/2nd_argmax_2_2.pth"), CheckOptions(collect_queries=True))
    index = write_encodings(result, tmp_path)
    answers = [a for e in index["regions"] for a in e["expected"]]
    assert "sat" in answers and "unsat" in answers
    for entry in index["regions"]:
        assert replay_with_z3_text_frontend((tmp_path / entry["file"]).read_text()) == entry["expected"]
