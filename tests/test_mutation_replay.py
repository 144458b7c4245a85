"""Issue 18 #4: replay on hand-written SMT-LIB scripts and folders, answers worked out by hand.

x > 0 with x < 0 is unsat; x >= 0 with x <= 0 is sat (x = 0); scopes undo what they added.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.core.errors import InputError
from verify.smt.replay import (_verdict_problems, cvc5_answers, encoding_folders, read_index, replay_folder,
                           z3_answers)
from verify.smt.reader import MAX_DEPTH, MAX_SCOPE_LEVELS, ScriptRefused, parse_script, scope_levels

SCOPES = """(set-logic QF_LRA)
(declare-const x Real)
(assert (> x 0))
(check-sat)
(push 2)
(declare-const y Real)
(assert (< x 0))
(assert (> y 0))
(check-sat)
(pop 2)
(check-sat)
(push 1)
(define-fun z () Real (- x))
(assert (> z 0))
(check-sat)
(pop 1)
(assert (>= x 1))
(check-sat)
(exit)
(check-sat)
"""
SCOPES_ANSWERS = ["sat", "unsat", "sat", "unsat", "sat"]


@pytest.mark.parametrize("runner", [z3_answers, cvc5_answers], ids=["z3", "cvc5"])
def test_answers_follow_scopes_and_stop_at_exit(runner) -> None:  # type: ignore[no-untyped-def]
    assert runner(parse_script(SCOPES), 10_000) == SCOPES_ANSWERS


@pytest.mark.parametrize("runner", [z3_answers, cvc5_answers], ids=["z3", "cvc5"])
def test_a_declaration_popped_with_its_scope_is_gone(runner) -> None:  # type: ignore[no-untyped-def]
    text = "(set-logic QF_LRA)\n(push 1)\n(declare-const y Real)\n(pop 1)\n(assert (> y 0))\n(check-sat)\n"
    with pytest.raises(Exception):
        runner(parse_script(text), 10_000)


def test_z3_refuses_to_pop_more_than_is_open() -> None:
    with pytest.raises(RuntimeError, match=r"\(pop 2\) with only 1 open scope"):
        z3_answers(parse_script("(set-logic QF_LRA)\n(push 1)\n(pop 2)\n"), 10_000)
    assert z3_answers(parse_script("(set-logic QF_LRA)\n(push 1)\n(pop 1)\n(check-sat)\n"), 10_000) == ["sat"]


@pytest.mark.parametrize("index,names,want", [
    ({"verdict": "proved", "complete": True}, [("r a violation", "unsat")], []),
    ({"verdict": "proved", "complete": False}, [("r a violation", "unsat")],
     ["index.json says proved but the search was not complete"]),
    ({"verdict": "proved"}, [], ["index.json says proved but the search was not complete"]),
    ({"verdict": "proved", "complete": True}, [("r a violation", "sat"), ("r b interior", "sat")],
     ["index.json says proved but some violation query is not recorded unsat"]),
    ({"verdict": "proved", "complete": True}, [("r a interior", "sat")], []),  # only violations count
    ({"verdict": "refuted"}, [("r a violation", "unsat")], ["index.json says refuted but no violation query is recorded sat"]),
    ({"verdict": "refuted"}, [("r a interior", "sat")], ["index.json says refuted but no violation query is recorded sat"]),
    ({"verdict": "refuted"}, [("r a violation", "sat")], []),
    ({"verdict": "refuted"}, [("r [p] argmax=x0", "sat")], []),
    ({"verdict": "unknown"}, [("r a violation", "sat")], []),
])
def test_verdict_problems_by_hand(index: dict, names: list[tuple[str, str]], want: list[str]) -> None:  # type: ignore[type-arg]
    assert _verdict_problems(index, names) == want


UNSAT_FILE = """; query: r0 [a] violation; expected: unsat
(set-logic QF_LRA)
(declare-const x Real)
(push 1)
(assert (> x 0))
(assert (< x 0))
(check-sat)
(pop 1)
; query: r0 [a] interior; expected: sat
(push 1)
(assert (> x 0))
(check-sat)
(pop 1)
"""


def folder_with(tmp_path: Path, files: dict[str, str], entries: list[dict], **extra: object) -> Path:  # type: ignore[type-arg]
    folder = tmp_path / "enc"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "index.json").write_text(json.dumps({"regions": entries, **extra}))
    return folder


@pytest.mark.parametrize("solver", ["z3", "cvc5"])
def test_a_hand_written_folder_replays_clean(solver: str, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"a.smt2": UNSAT_FILE, "b.smt2": UNSAT_FILE},
                         [{"file": "a.smt2", "expected": ["unsat", "sat"]},
                          {"file": "b.smt2", "expected": ["unsat", "sat"]}], verdict="proved", complete=True)
    replay = replay_folder(folder, solver)
    assert replay.problems == () and replay.ok
    assert (replay.files, replay.queries, replay.solver) == (2, 4, solver)


def test_every_kind_of_problem_is_named(tmp_path: Path) -> None:
    wrong_answers = UNSAT_FILE.replace("(assert (< x 0))", "(assert (>= x 1))")  # first query now sat
    folder = folder_with(
        tmp_path,
        {"a.smt2": UNSAT_FILE, "extra.smt2": UNSAT_FILE, "d.smt2": wrong_answers, "m.smt2": UNSAT_FILE,
         "bad.smt2": "(set-option :regular-output-channel \"x\")\n"},
        [{"file": "a.smt2", "expected": ["unsat", "sat", "sat"]},   # COUNT and MISMATCH
         {"file": "gone.smt2", "expected": []},                       # MISSING
         {"file": "../a.smt2", "expected": []},                       # not a plain name: MISSING
         {"file": "d.smt2", "expected": ["unsat", "sat"]},            # DISAGREE on query 0
         {"file": "bad.smt2", "expected": []}],                       # REJECTED
        verdict="unknown")
    problems = replay_folder(folder, "z3").problems
    heads = sorted(p.split(" ")[0] + " " + p.split(" ")[1] for p in problems)
    assert heads == ["COUNT a.smt2:", "DISAGREE d.smt2", "EXTRA extra.smt2:", "EXTRA m.smt2:", "MISMATCH a.smt2:",
                     "MISSING ../a.smt2:", "MISSING gone.smt2:", "REJECTED bad.smt2"]
    disagree = next(p for p in problems if p.startswith("DISAGREE"))
    assert disagree == "DISAGREE d.smt2 query 0 (r0 [a] violation): recorded unsat, z3 says sat"
    assert replay_folder(folder, "z3").files == 3  # a, d and bad were read


def test_an_empty_index_is_a_problem_and_a_bad_solver_is_bad_input(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {}, [])
    assert replay_folder(folder, "z3").problems == ("index.json lists no region files",)
    with pytest.raises(InputError, match="unknown solver"):
        replay_folder(folder, "yices")


@pytest.mark.parametrize("content", ["[]", "{\"regions\": [{\"file\": 1, \"expected\": []}]}",
                                     "{\"regions\": [{\"file\": \"a\"}]}", "{\"regions\": {}}", "not json"])
def test_malformed_indexes_are_bad_input(content: str, tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text(content)
    with pytest.raises(InputError):
        read_index(tmp_path)


def test_encoding_folders_finds_the_folder_or_its_children(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        encoding_folders(tmp_path / "nope")
    with pytest.raises(InputError, match="no index.json"):
        encoding_folders(tmp_path)
    for name in ("b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.json").write_text("{}")
    assert encoding_folders(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    assert encoding_folders(tmp_path / "a") == [tmp_path / "a"]


def test_index_problems_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no index\.json \(not an encodings folder"):
        read_index(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(InputError, match=r"not readable JSON \(Expecting property name enclosed in double quotes"):
        read_index(tmp_path)
    (tmp_path / "index.json").write_text("[]")
    with pytest.raises(InputError, match=r"expected an object with a 'regions' list"):
        read_index(tmp_path)


def test_a_replay_names_its_folder_and_solver_version(tmp_path: Path) -> None:
    import z3

    folder = folder_with(tmp_path, {"a.smt2": UNSAT_FILE}, [{"file": "a.smt2", "expected": ["unsat", "sat"]}])
    replay = replay_folder(folder, "z3")
    assert replay.folder == folder and replay.solver_version == z3.get_version_string()


def test_an_unreadable_file_has_no_answers_and_says_why(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {}, [{"file": "a.smt2", "expected": ["unsat", "sat"]}])
    (folder / "a.smt2").write_bytes(b"(set-logic QF_LRA)\n; \xff\xfe\n")
    replay = replay_folder(folder, "z3")
    assert replay.queries == 0 and replay.files == 1
    assert len(replay.problems) == 1 and replay.problems[0].startswith("UNREADABLE a.smt2: 'utf-8' codec")


def test_a_solver_failure_is_an_error_problem_with_the_solvers_words(tmp_path: Path) -> None:
    text = "(set-logic QF_LRA)\n(declare-const x Real)\n(assert (> y 0))\n(check-sat)\n"  # y undeclared
    folder = folder_with(tmp_path, {"a.smt2": text}, [{"file": "a.smt2", "expected": []}])
    problems = replay_folder(folder, "z3").problems
    assert len(problems) == 1 and problems[0].startswith("ERROR a.smt2: z3 failed: ")
    assert "y" in problems[0][len("ERROR a.smt2: z3 failed: "):]
    assert len(problems[0]) <= len("ERROR a.smt2: z3 failed: ") + 200


def test_lines_count_the_newlines_inside_quoted_symbols() -> None:
    with pytest.raises(ScriptRefused) as caught:
        parse_script("(set-logic QF_LRA)\n(declare-const |a\nb| Real)\n(get-model)\n")
    assert caught.value.line == 4  # (get-model) is on line 4: the quoted symbol spans lines 2-3


def test_too_deep_nesting_names_its_line() -> None:
    with pytest.raises(ScriptRefused) as caught:
        parse_script("(set-logic QF_LRA)\n(assert " + "(" * (MAX_DEPTH + 5))
    assert caught.value.line == 2


@pytest.mark.parametrize("text", ["(set-info :status)", "(set-info :status sat)", "(declare-fun f () Real)",
                                  "(declare-const x Real)"])
def test_allowed_command_shapes_are_read(text: str) -> None:
    assert [c.name for c in parse_script(text).commands] == [text[1:].split(" ")[0]]


@pytest.mark.parametrize("text", ["(declare-const 1 Real)", "(set-info 1 2)", "(declare-fun 1 () Real)"])
def test_declarations_need_a_symbol_first(text: str) -> None:
    with pytest.raises(ScriptRefused):
        parse_script(text)


@pytest.mark.parametrize("runner", [z3_answers, cvc5_answers], ids=["z3", "cvc5"])
def test_a_bare_push_is_one_level(runner) -> None:  # type: ignore[no-untyped-def]
    text = ("(set-logic QF_LRA)\n(declare-const x Real)\n(assert (> x 0))\n(push)\n(assert (< x 0))\n"
            "(check-sat)\n(pop 1)\n(check-sat)\n")
    assert runner(parse_script(text), 10_000) == ["unsat", "sat"]


def test_scope_levels_up_to_the_limit_are_read() -> None:
    assert scope_levels(parse_script("(push)").commands[0]) == 1
    assert scope_levels(parse_script("(pop 7)").commands[0]) == 7
    for name in ("push", "pop"):
        parse_script(f"({name} {MAX_SCOPE_LEVELS})")
        with pytest.raises(ScriptRefused):
            parse_script(f"({name} {MAX_SCOPE_LEVELS + 1})")
        with pytest.raises(ScriptRefused):
            parse_script(f"({name} 1234567890123)")


def test_cvc5_undecided_is_unknown_never_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check-sat cvc5 leaves undecided (neither sat nor unsat: a timeout, a resource limit) is
    replayed as "unknown". A test double of the cvc5 door answers undecided on every check."""
    import cvc5

    import verify.smt.replay as replay

    class Undecided:
        def isSat(self) -> bool:
            return False

        def isUnsat(self) -> bool:
            return False

    class UndecidedSolver(cvc5.Solver):  # a real solver (its parser needs one) that never decides
        def checkSat(self):  # type: ignore[no-untyped-def]
            return Undecided()

    class Door:  # the module as replay imports it, with the undecided solver
        def __getattr__(self, name: str) -> object:
            return UndecidedSolver if name == "Solver" else getattr(cvc5, name)

    monkeypatch.setattr(replay, "_import_cvc5", lambda: Door())
    assert cvc5_answers(parse_script(SCOPES), 10_000) == ["unknown"] * len(SCOPES_ANSWERS)
