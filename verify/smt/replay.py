"""Re-decide an encodings folder (verify.render.encodings) with an independent SMT solver.

An encodings folder is untrusted: every .smt2 file is first read by verify.smt.reader and
refused unless it holds only whitelisted commands (declarations, assertions, push/pop,
check-sat), so no file can make a solver write, print or read anything. The parsed commands
are then given to cvc5 or Z3 through their own SMT-LIB parsers (nothing of the harness's term
builder or of its Z3 door, verify.smt.solver, is shared), and the answers are taken only from the
solver's result for each (check-sat), one per command. Each is compared with the answer
recorded in index.json and in the file's own `; query: ...; expected: ...` comments; the
recorded answers are also checked to support the recorded verdict. Anything else (a refused,
missing or extra file, a missing or extra answer, `unknown`, a solver error) is a problem,
never a pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from verify.core.errors import InputError
from verify.smt import SOLVERS
from verify.smt.reader import ALLOWED_COMMANDS, Command, Script, ScriptRefused, parse_script, scope_levels

ANSWERS = ("sat", "unsat", "unknown")
QUERY_COMMENT = re.compile(r"^; query: (?P<name>.*); expected: (?P<expected>\w+)\s*$")


@dataclass(frozen=True)
class FolderReplay:
    """What one folder's replay found; `problems` empty means every answer agreed."""

    folder: Path
    solver: str
    solver_version: str
    files: int
    queries: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def solver_version(solver: str) -> str:
    if solver == "cvc5":
        return _import_cvc5().__version__
    import z3

    return z3.get_version_string()


def _import_cvc5() -> Any:
    try:
        import cvc5
    except ImportError:
        raise InputError("replay with cvc5 needs the 'cvc5' package (pip install 'relu-verify[ecosystem]')") from None
    return cvc5


def run_cvc5(text: str, timeout_ms: int) -> list[str]:
    """The answer of every (check-sat) of a script, decided by cvc5; refused scripts raise ScriptRefused."""
    return cvc5_answers(parse_script(text), timeout_ms)


def run_z3(text: str, timeout_ms: int) -> list[str]:
    """The answer of every (check-sat) of a script, decided by Z3; refused scripts raise ScriptRefused."""
    return z3_answers(parse_script(text), timeout_ms)


def cvc5_answers(script: Script, timeout_ms: int) -> list[str]:
    """Run a whitelisted script in cvc5, one parsed command at a time through cvc5's own parser.

    Declarations, assertions and scopes are invoked as cvc5 commands (so its symbol table
    follows push/pop); each (check-sat) is a `Solver.checkSat()` call whose result is the answer.
    """
    cvc5 = _import_cvc5()
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("incremental", "true")
    solver.setOption("tlimit-per", str(timeout_ms))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    parser.setIncrementalStringInput(cvc5.InputLanguage.SMT_LIB_2_6, "replay")
    answers: list[str] = []
    for command in script.commands:
        _only_whitelisted(command)
        if command.name == "exit":
            break
        if command.name == "check-sat":
            result = solver.checkSat()
            answers.append("sat" if result.isSat() else "unsat" if result.isUnsat() else "unknown")
            continue
        if command.name == "set-info":
            continue  # informational only; nothing a solver needs
        parser.appendIncrementalStringInput(command.text())
        parsed = parser.nextCommand()
        if parsed.isNull() or parsed.getCommandName() != _CVC5_NAMES.get(command.name, command.name):
            raise RuntimeError(f"line {command.line}: cvc5 read ({command.name} ...) as something else")
        printed = parsed.invoke(solver, symbols).strip()
        if printed:
            raise RuntimeError(f"line {command.line}: {printed}")
    return answers


_CVC5_NAMES = {"declare-const": "declare-fun"}  # cvc5 reports a declare-const as a nullary declare-fun


def z3_answers(script: Script, timeout_ms: int) -> list[str]:
    """Run a whitelisted script in Z3 (fresh context): one `Solver.check()` per (check-sat).

    Each assertion is read by Z3's own SMT-LIB parser (`parse_smt2_string`) together with the
    declarations in scope, and added to a solver whose push/pop follow the script's.
    """
    import z3

    context = z3.Context()
    solver = z3.Solver(ctx=context)
    solver.set("timeout", int(timeout_ms))
    scopes: list[list[str]] = [[]]  # declaration texts per open scope
    pending: list[str] = []  # consecutive assertions, parsed together
    answers: list[str] = []
    for command in script.commands:
        _only_whitelisted(command)
        name = command.name
        if name == "assert":
            pending.append(command.text())
            continue
        if pending:
            solver.add(z3.parse_smt2_string(_z3_declarations(scopes) + "\n".join(pending), ctx=context))
            pending = []
        if name == "exit":
            break
        if name in ("declare-fun", "declare-const", "define-fun"):
            scopes[-1].append(command.text())
            z3.parse_smt2_string(_z3_declarations(scopes), ctx=context)  # a bad declaration fails here
        elif name == "push":
            for _ in range(scope_levels(command)):
                solver.push()
                scopes.append([])
        elif name == "pop":
            levels = scope_levels(command)
            if levels >= len(scopes):
                raise RuntimeError(f"line {command.line}: (pop {levels}) with only {len(scopes) - 1} open scope(s)")
            solver.pop(levels)
            del scopes[len(scopes) - levels:]
        elif name == "check-sat":
            answers.append(str(solver.check()))
    return answers


def _only_whitelisted(command: Command) -> None:
    """A second guard: a Script built by hand (not by parse_script) still runs no other command."""
    if command.name not in ALLOWED_COMMANDS:
        raise ScriptRefused(command.line, f"command ({command.name} ...) is not allowed")


def _z3_declarations(scopes: list[list[str]]) -> str:
    return "".join(text + "\n" for scope in scopes for text in scope)


RUNNERS: dict[str, Callable[[Script, int], list[str]]] = {"cvc5": cvc5_answers, "z3": z3_answers}


def read_index(folder: Path) -> dict[str, Any]:
    path = folder / "index.json"
    if not path.is_file():
        raise InputError(f"{folder}: no index.json (not an encodings folder written by `verify encode`)")
    try:
        index = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not readable JSON ({' '.join(str(exc).split())})") from None
    regions = index.get("regions") if isinstance(index, dict) else None
    if not isinstance(regions, list) or not all(
        isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("expected"), list) for e in regions
    ):
        raise InputError(f"{path}: expected an object with a 'regions' list of {{file, expected}} entries")
    return index


def declared_queries(text: str) -> list[tuple[str, str]]:
    """(name, expected) of each query, from the `; query: NAME; expected: X` comments."""
    return _declared(parse_script(text))


def _declared(script: Script) -> list[tuple[str, str]]:
    found = []
    for _, comment in script.comments:
        match = QUERY_COMMENT.match(";" + comment)
        if match:
            found.append((match["name"], match["expected"]))
    return found


def _verdict_problems(index: dict[str, Any], names: list[tuple[str, str]]) -> list[str]:
    """Do the recorded answers support the recorded verdict?"""
    verdict = index.get("verdict")
    violations = [expected for name, expected in names if name.endswith(" violation")]
    if verdict == "proved":
        problems = []
        if index.get("complete") is not True:
            problems.append("index.json says proved but the search was not complete")
        if any(e != "unsat" for e in violations):
            problems.append("index.json says proved but some violation query is not recorded unsat")
        return problems
    if verdict == "refuted" and "sat" not in violations and not any("argmax=" in n for n, _ in names):
        return ["index.json says refuted but no violation query is recorded sat"]
    return []


def replay_folder(folder: Path, solver: str = "cvc5", *, timeout_ms: int = 10_000) -> FolderReplay:
    """Replay every region file listed in `folder/index.json` with `solver`."""
    if solver not in RUNNERS:
        raise InputError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    index = read_index(folder)
    version = solver_version(solver)
    problems: list[str] = []
    files = queries = 0
    listed = [entry["file"] for entry in index["regions"]]
    if not listed:
        problems.append("index.json lists no region files")
    for extra in sorted({p.name for p in folder.glob("*.smt2")} - set(listed)):
        problems.append(f"EXTRA {extra}: a .smt2 file that index.json does not list")
    all_names: list[tuple[str, str]] = []
    for entry in index["regions"]:
        name, expected = entry["file"], [str(a) for a in entry["expected"]]
        path = folder / name
        if Path(name).name != name or not path.is_file():
            problems.append(f"MISSING {name}: listed in index.json but not in {folder}")
            continue
        files += 1
        found = _replay_file(path, expected, solver, timeout_ms)
        problems += found.problems
        queries += found.answers
        all_names += found.declared
    problems += _verdict_problems(index, all_names)
    return FolderReplay(folder, solver, version, files, queries, tuple(problems))


@dataclass(frozen=True)
class _FileReplay:
    problems: tuple[str, ...]
    answers: int
    declared: tuple[tuple[str, str], ...]


def _replay_file(path: Path, expected: list[str], solver: str, timeout_ms: int) -> _FileReplay:
    """Read (and maybe refuse) one file, then compare its check-sat answers with `expected`."""
    name = path.name
    try:
        script = parse_script(path.read_text(encoding="utf-8"))
    except ScriptRefused as exc:
        return _FileReplay((f"REJECTED {name} line {exc.line}: {exc.reason}; no solver was run on it",), 0, ())
    except (OSError, UnicodeDecodeError) as exc:
        return _FileReplay((f"UNREADABLE {name}: {' '.join(str(exc).split())[:200]}",), 0, ())
    declared = tuple(_declared(script))
    problems = []
    if [e for _, e in declared] != expected:
        problems.append(f"MISMATCH {name}: the file's query comments expect {[e for _, e in declared]}, "
                        f"index.json {expected}")
    try:
        answers = RUNNERS[solver](script, timeout_ms)
    except Exception as exc:  # noqa: BLE001 - any solver failure is a loud problem, not a pass
        problems.append(f"ERROR {name}: {solver} failed: {' '.join(str(exc).split())[:200]}")
        return _FileReplay(tuple(problems), 0, declared)
    if len(answers) != len(expected):
        problems.append(f"COUNT {name}: {len(answers)} (check-sat) command(s) answered by {solver}, "
                        f"index.json expects {len(expected)} answers")
    for k, (got, want) in enumerate(zip(answers, expected)):
        if got != want:
            label = declared[k][0] if k < len(declared) else f"query {k}"
            problems.append(f"DISAGREE {name} query {k} ({label}): recorded {want}, {solver} says {got}")
    return _FileReplay(tuple(problems), len(answers), declared)


def encoding_folders(path: Path) -> list[Path]:
    """`path` itself if it holds index.json, else its sub-folders that do."""
    if not path.exists():
        raise InputError(f"{path}: no such folder")
    if (path / "index.json").is_file():
        return [path]
    folders = sorted(p.parent for p in path.glob("*/index.json"))
    if not folders:
        raise InputError(f"{path}: no index.json in it or in its sub-folders (run `verify encode` first)")
    return folders
