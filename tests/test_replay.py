"""Issue 5: `verify replay` re-decides the SMT-LIB encodings with cvc5 and fails loudly."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from verify.analysis import CheckOptions, check_model
from verify.cli import main
from verify.loading import load_weights
from verify.replay import declared_queries, encoding_folders, replay_folder, run_cvc5, run_z3
from verify.smtlib_export import write_encodings

ENCODINGS = Path("encodings")
M22 = "models/algzoo/2nd_argmax_2_2.pth"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def m22_encodings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The refuted AlgZoo model's encodings: they hold sat violation queries, unlike the bundled ones."""
    folder = tmp_path_factory.mktemp("enc") / "m22"
    write_encodings(check_model(load_weights(M22), CheckOptions(collect_queries=True)), folder)
    return folder


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def test_cvc5_agrees_with_z3_on_every_bundled_encoding() -> None:
    folders = encoding_folders(ENCODINGS)
    assert folders
    for folder in folders:
        index = json.loads((folder / "index.json").read_text())
        for entry in index["regions"]:
            text = (folder / entry["file"]).read_text()
            # both solvers read the file with their own SMT-LIB front ends
            assert run_cvc5(text, 10_000) == run_z3(text, 10_000) == entry["expected"]
        assert replay_folder(folder, "cvc5").ok


def test_cli_replay_of_the_bundled_encodings_exits_zero() -> None:
    code, out, err = run("replay", str(ENCODINGS), "--solver", "cvc5")
    assert code == 0, out + err
    assert "every recorded answer reproduced" in out


def test_cvc5_and_z3_replay_a_refuted_model(m22_encodings: Path) -> None:
    index = json.loads((m22_encodings / "index.json").read_text())
    assert index["verdict"] == "refuted"
    answers = [a for e in index["regions"] for a in e["expected"]]
    assert "sat" in answers and "unsat" in answers
    for solver in ("cvc5", "z3"):
        result = replay_folder(m22_encodings, solver)
        assert result.ok, result.problems
        assert result.queries == len(answers)


def test_a_query_changed_to_another_answer_is_caught(m22_encodings: Path, tmp_path: Path) -> None:
    """Corrupt one unsat query so that it becomes sat: drop its last assertion (the violation)."""
    folder = copy_of(m22_encodings, tmp_path)
    index = json.loads((folder / "index.json").read_text())
    entry = next(e for e in index["regions"] if "unsat" in e["expected"])
    path = folder / entry["file"]
    lines = path.read_text().splitlines()
    block = [i for i, line in enumerate(lines) if line.startswith("; query:") and line.endswith("expected: unsat")][0]
    check = next(i for i in range(block, len(lines)) if lines[i] == "(check-sat)")
    assert lines[check - 1].startswith("(assert")
    del lines[check - 1]
    path.write_text("\n".join(lines) + "\n")
    for solver in ("cvc5", "z3"):
        problems = replay_folder(folder, solver).problems
        assert any(p.startswith(f"DISAGREE {entry['file']}") and f"{solver} says sat" in p for p in problems), problems
    code, out, err = run("replay", str(folder), "--solver", "cvc5")
    assert code == 1 and "DISAGREE" in out and "FAILED" in err


def test_an_edited_expected_answer_is_caught(tmp_path: Path) -> None:
    folder = copy_of(encoding_folders(ENCODINGS)[0], tmp_path)
    index = json.loads((folder / "index.json").read_text())
    first = index["regions"][0]
    first["expected"][0] = "unsat" if first["expected"][0] == "sat" else "sat"
    (folder / "index.json").write_text(json.dumps(index))
    problems = replay_folder(folder, "cvc5").problems
    assert any(p.startswith("DISAGREE") for p in problems)
    assert any(p.startswith("MISMATCH") for p in problems)  # the file's own comments disagree too


def test_missing_extra_and_truncated_files_are_caught(tmp_path: Path) -> None:
    folder = copy_of(encoding_folders(ENCODINGS)[0], tmp_path)
    files = sorted(folder.glob("*.smt2"))
    files[0].unlink()
    shutil.copy(files[1], folder / "region_9999_stray.smt2")
    text = files[2].read_text()
    files[2].write_text(text[: text.rindex("(check-sat)")] + "(exit)\n")
    problems = replay_folder(folder, "cvc5").problems
    assert any(p.startswith(f"MISSING {files[0].name}") for p in problems)
    assert any(p.startswith("EXTRA region_9999_stray.smt2") for p in problems)
    assert any(p.startswith(f"COUNT {files[2].name}") for p in problems)
    assert run("replay", str(folder))[0] == 1


def test_a_verdict_the_answers_do_not_support_is_caught(m22_encodings: Path, tmp_path: Path) -> None:
    folder = copy_of(m22_encodings, tmp_path)
    index = json.loads((folder / "index.json").read_text())
    index["verdict"] = "proved"
    (folder / "index.json").write_text(json.dumps(index))
    problems = replay_folder(folder, "z3").problems
    assert any("says proved" in p for p in problems)


def test_solver_errors_are_problems_not_passes(tmp_path: Path) -> None:
    folder = copy_of(encoding_folders(ENCODINGS)[0], tmp_path)
    target = sorted(folder.glob("*.smt2"))[0]
    target.write_text(target.read_text().replace("(declare-const x1 Real)", ""))  # undeclared symbol
    for solver in ("cvc5", "z3"):
        assert any(p.startswith(f"ERROR {target.name}") for p in replay_folder(folder, solver).problems)


def test_query_comments_are_read() -> None:
    text = "; query: region 10|10 [x0 > x1] violation; expected: unsat\n(check-sat)\n"
    assert declared_queries(text) == [("region 10|10 [x0 > x1] violation", "unsat")]


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    for argv in (["replay", str(tmp_path)], ["replay", str(tmp_path / "nope")], ["replay", "encodings", "--solver", "yices"]):
        code, _, err = run(*argv)
        assert code == 2 and err.count("\n") == 1, (argv, err)
    (tmp_path / "index.json").write_text("{not json")
    code, _, err = run("replay", str(tmp_path))
    assert code == 2 and "index.json" in err
