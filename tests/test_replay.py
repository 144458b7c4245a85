"""Issues 5 and 10: `verify replay` re-decides the SMT-LIB encodings with cvc5 or Z3, fails loudly,
and runs only whitelisted commands, taking answers only from (check-sat)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from verify.smt import replay
from verify.check.pipeline import CheckOptions, check_model
from verify.cli.main import main
from verify.formats import load_weights
from verify.smt.replay import declared_queries, encoding_folders, replay_folder, run_cvc5, run_z3
from verify.render.encodings import write_encodings
from verify.smt.reader import Atom, AtomKind, Command, Script, ScriptRefused, SList

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


# --- issue 10 #2 and #3: a replay that cannot be fooled -------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "encodings"
TAMPERED_FILE = "region_0000_10-10.smt2"
SOLVER_NAMES = ("cvc5", "z3")


def fixture_copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("spelling", ["relative", "absolute"])
def test_an_output_channel_file_is_refused_and_never_written(
        solver: str, spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture points the solver's output at victim.txt and echoes shell code: nothing may be written."""
    folder = fixture_copy("output_channel", tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    if spelling == "absolute":
        path = folder / TAMPERED_FILE
        path.write_text(path.read_text().replace('"victim.txt"', f'"{victim}"'))
    monkeypatch.chdir(tmp_path)  # where a relative output channel would land
    result = replay_folder(folder, solver)
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output_channel", "victim.txt"]
    assert not result.ok and result.queries == 0
    assert any(p.startswith(f"REJECTED {TAMPERED_FILE} line 5: command (set-option ...) is not allowed")
               for p in result.problems), result.problems
    code, out, err = run("replay", str(folder), "--solver", solver)
    assert code == 1 and f"REJECTED {TAMPERED_FILE} line 5" in out and "FAILED" in err
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_an_echoed_answer_is_refused(solver: str, tmp_path: Path) -> None:
    """issue 10 #3: flipped constraint (really sat) with (check-sat) replaced by (echo "unsat")."""
    folder = fixture_copy("echo_unsat", tmp_path)
    result = replay_folder(folder, solver)
    assert not result.ok
    assert any(p.startswith(f"REJECTED {TAMPERED_FILE} line 41: command (echo ...) is not allowed")
               for p in result.problems), result.problems
    assert run("replay", str(folder), "--solver", solver)[0] == 1


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_a_flipped_constraint_with_a_wrong_recorded_answer_is_a_disagreement(solver: str, tmp_path: Path) -> None:
    """The flipped violation query is sat (x = (0, 1): x0 >= 0, x1 > x0, 2 x0 - 2 x1 < 0); unsat is recorded."""
    folder = fixture_copy("flipped_recorded_unsat", tmp_path)
    result = replay_folder(folder, solver)
    assert result.queries == 4
    assert list(result.problems) == [
        f"DISAGREE {TAMPERED_FILE} query 3 (region 10|10 [x1 > x0] violation): recorded unsat, {solver} says sat"
    ]
    code, out, _ = run("replay", str(folder), "--solver", solver)
    assert code == 1 and "DISAGREE" in out


def test_the_tampered_fixtures_differ_from_the_real_encoding_only_where_intended() -> None:
    """Guards the fixtures themselves: each is the bundled handcrafted region 0 with one edit."""
    real = (ENCODINGS / "handcrafted_2_2" / TAMPERED_FILE).read_text().splitlines()
    flipped = (FIXTURES / "flipped_recorded_unsat" / TAMPERED_FILE).read_text().splitlines()
    assert [(a, b) for a, b in zip(real, flipped) if a != b] == [
        ("(assert (> (+ (* 2.0 x0) (* (- 2.0) x1)) 0.0))", "(assert (< (+ (* 2.0 x0) (* (- 2.0) x1)) 0.0))")]
    echoed = (FIXTURES / "echo_unsat" / TAMPERED_FILE).read_text().splitlines()
    assert [(a, b) for a, b in zip(flipped, echoed) if a != b] == [("(check-sat)", '(echo "unsat")')]
    channel = (FIXTURES / "output_channel" / TAMPERED_FILE).read_text().splitlines()
    assert channel[4].startswith("(set-option :regular-output-channel") and channel[:4] + channel[6:] == real


FORBIDDEN = [
    "(set-option :regular-output-channel \"out.txt\")",
    "(set-option :diagnostic-output-channel \"out.txt\")",
    "(set-option :timeout 1)",
    "(set-option :produce-models true)",
    "(echo \"unsat\")",
    "(include \"other.smt2\")",
    "(eval x0)",
    "(get-model)",
    "(get-value (x0))",
    "(get-info :all-statistics)",
    "(get-option :regular-output-channel)",
    "(reset)",
    "(reset-assertions)",
    "(check-sat-assuming ((> x0 0.0)))",
    "(define-fun-rec f ((y Real)) Real y)",
    "(declare-datatype D ((c)))",
    "(simplify x0)",
]


@pytest.mark.parametrize("command", FORBIDDEN)
def test_every_command_outside_the_whitelist_is_refused_before_any_solver_runs(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_of(ENCODINGS / "handcrafted_2_2", tmp_path)
    target = sorted(folder.glob("*.smt2"))[1]
    lines = target.read_text().splitlines()
    lines.insert(7, command)  # after the declarations, before the first query
    target.write_text("\n".join(lines) + "\n")
    ran: list[int] = []

    def spy(script: replay.Script, timeout_ms: int) -> list[str]:
        ran.append(len(script.commands))
        return replay.z3_answers(script, timeout_ms)

    monkeypatch.setitem(replay.RUNNERS, "z3", spy)
    monkeypatch.chdir(tmp_path)
    result = replay_folder(folder, "z3")
    name = command[1:].split()[0].rstrip(")")
    assert [p for p in result.problems if not p.startswith("index.json")] == [
        f"REJECTED {target.name} line 8: command ({name} ...) is not allowed; replay runs only "
        "set-logic, set-info, declare-fun, declare-const, define-fun, assert, push, pop, check-sat, exit; "
        "no solver was run on it"]
    assert len(ran) == 3  # the three untouched files only
    assert not (tmp_path / "out.txt").exists()


def test_a_hand_built_script_with_another_command_is_not_run() -> None:
    """Second guard: the runners themselves refuse a command that parse_script would have refused."""
    echo = SList((Atom(AtomKind.SYMBOL, "echo", 1), Atom(AtomKind.STRING, "unsat", 1)), 1)
    script = Script((Command("echo", echo, 1),), ())
    for runner in (replay.z3_answers, replay.cvc5_answers):
        with pytest.raises(ScriptRefused):
            runner(script, 1000)


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_answers_come_one_per_check_sat(solver: str) -> None:
    """Hand-derived: x > 1 sat; with x < 0 unsat; after the pop, x > 1 and x < 3 sat; then x > 5 in the outer scope."""
    text = """(set-logic QF_LRA)
(declare-const x Real)
(assert (> x 1.0))
(check-sat)
(push 1)
(assert (< x 0.0))
(check-sat)
(pop 1)
(push)
(declare-const y Real)
(assert (and (< x 3.0) (= y x)))
(check-sat)
(pop)
(assert (> x 5.0))
(check-sat)
(exit)
(check-sat)
"""
    runner = run_cvc5 if solver == "cvc5" else run_z3
    assert runner(text, 10_000) == ["sat", "unsat", "sat", "sat"]  # nothing after (exit) is run


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_an_extra_check_sat_is_a_count_problem(solver: str, tmp_path: Path) -> None:
    folder = copy_of(ENCODINGS / "handcrafted_2_2", tmp_path)
    target = sorted(folder.glob("*.smt2"))[0]
    target.write_text(target.read_text().replace("(exit)", "(check-sat)\n(exit)"))
    problems = replay_folder(folder, solver).problems
    assert [p for p in problems if p.startswith("COUNT")] == [
        f"COUNT {target.name}: 5 (check-sat) command(s) answered by {solver}, index.json expects 4 answers"]


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_popping_more_scopes_than_pushed_is_an_error(solver: str) -> None:
    with pytest.raises(Exception):
        (run_cvc5 if solver == "cvc5" else run_z3)("(set-logic QF_LRA)\n(push 1)\n(pop 2)\n(check-sat)\n", 1000)


def test_a_file_that_is_not_utf8_is_unreadable_not_a_traceback(tmp_path: Path) -> None:
    folder = copy_of(ENCODINGS / "handcrafted_2_2", tmp_path)
    target = sorted(folder.glob("*.smt2"))[0]
    target.write_bytes(b"\xff\xfe(check-sat)\n")
    problems = replay_folder(folder, "z3").problems
    assert any(p.startswith(f"UNREADABLE {target.name}") for p in problems), problems


def test_timeout_bounds_are_bad_input() -> None:
    for value in ("0", "-5", "99999999999"):
        code, _, err = run("replay", "encodings", "--timeout-ms", value)
        assert code == 2 and err.count("\n") == 1 and "--timeout-ms" in err, (value, err)


def test_z3_replay_of_the_bundled_encodings_exits_zero() -> None:
    code, out, err = run("replay", str(ENCODINGS), "--solver", "z3")
    assert code == 0, out + err
    assert out.count("every recorded answer reproduced") == len(encoding_folders(ENCODINGS))
