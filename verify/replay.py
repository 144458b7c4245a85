"""Re-decide an encodings folder (verify.smtlib_export) with an independent SMT solver.

Each .smt2 file is handed, as text, to the solver's own SMT-LIB 2 front end (cvc5's
InputParser, or Z3's `eval_smtlib2_string`), so nothing of the harness's term builder or of
its Z3 door (verify.solver) is shared with the replay. Every (check-sat) answer is compared
with the answer recorded in index.json and in the file's own `; query: ...; expected: ...`
comments; the recorded answers are also checked to support the recorded verdict. Anything
else (a missing or extra file or answer, `unknown`, a solver error) is a problem, never a pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from verify.errors import InputError

SOLVERS = ("cvc5", "z3")
ANSWERS = ("sat", "unsat", "unknown")
QUERY_COMMENT = re.compile(r"^; query: (?P<name>.*); expected: (?P<expected>\w+)\s*$")


@dataclass
class FolderReplay:
    """What one folder's replay found; `problems` empty means every answer agreed."""

    folder: Path
    solver: str
    solver_version: str
    files: int = 0
    queries: int = 0
    problems: list[str] = field(default_factory=list)

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
    """Every (check-sat) answer of the script, from cvc5's own SMT-LIB parser."""
    cvc5 = _import_cvc5()
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("incremental", "true")
    solver.setOption("tlimit-per", str(timeout_ms))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "replay")
    output: list[str] = []
    while True:
        command = parser.nextCommand()
        if command.isNull():
            break
        output.extend(_answer_lines(command.invoke(solver, symbols)))
    return output


def run_z3(text: str, timeout_ms: int) -> list[str]:
    """Every (check-sat) answer of the script, from Z3's own SMT-LIB front end (fresh context)."""
    import z3

    context = z3.Context()
    output = z3.Z3_eval_smtlib2_string(context.ref(), f"(set-option :timeout {int(timeout_ms)})\n" + text)
    return _answer_lines(output)


def _answer_lines(output: str) -> list[str]:
    """The check-sat answers in a solver's printed output; an (error ...) line is raised."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("(error"):
            raise RuntimeError(line)
    return [line for line in lines if line in ANSWERS]


RUNNERS: dict[str, Callable[[str, int], list[str]]] = {"cvc5": run_cvc5, "z3": run_z3}


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
    found = []
    for line in text.splitlines():
        match = QUERY_COMMENT.match(line)
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
    run = RUNNERS[solver]
    report = FolderReplay(folder, solver, solver_version(solver))
    listed = [entry["file"] for entry in index["regions"]]
    if not listed:
        report.problems.append("index.json lists no region files")
    for extra in sorted({p.name for p in folder.glob("*.smt2")} - set(listed)):
        report.problems.append(f"EXTRA {extra}: a .smt2 file that index.json does not list")
    all_names: list[tuple[str, str]] = []
    for entry in index["regions"]:
        name, expected = entry["file"], [str(a) for a in entry["expected"]]
        path = folder / name
        if Path(name).name != name or not path.is_file():
            report.problems.append(f"MISSING {name}: listed in index.json but not in {folder}")
            continue
        report.files += 1
        text = path.read_text()
        declared = declared_queries(text)
        all_names += declared
        if [e for _, e in declared] != expected:
            report.problems.append(f"MISMATCH {name}: the file's query comments expect {[e for _, e in declared]}, "
                                   f"index.json {expected}")
        try:
            answers = run(text, timeout_ms)
        except Exception as exc:  # noqa: BLE001 - any solver failure is a loud problem, not a pass
            report.problems.append(f"ERROR {name}: {solver} failed: {' '.join(str(exc).split())[:200]}")
            continue
        report.queries += len(answers)
        if len(answers) != len(expected):
            report.problems.append(f"COUNT {name}: {solver} gave {len(answers)} answers, index.json expects {len(expected)}")
        for k, (got, want) in enumerate(zip(answers, expected)):
            if got != want:
                label = declared[k][0] if k < len(declared) else f"query {k}"
                report.problems.append(f"DISAGREE {name} query {k} ({label}): recorded {want}, {solver} says {got}")
    report.problems += _verdict_problems(index, all_names)
    return report


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
