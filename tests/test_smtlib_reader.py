"""issue 10 #2: the SMT-LIB reader that decides what `verify replay` lets a solver see."""

from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.smt.replay import run_cvc5, run_z3
from verify.smt.reader import (
    MAX_DEPTH, Atom, AtomKind, ScriptRefused, SList, parse_script, read_sexprs, render,
)


def test_tokens_strings_quoted_symbols_comments_and_lines() -> None:
    text = ('; head comment\n'
            '(set-info :source "a ; b ( ""quoted"" )\nsecond line")\n'
            '(declare-const |x y)(z| Real) ; trailing (set-option :x 1)\n'
            '(assert (> |x y)(z| 2.50))\n'
            '(push 3) (check-sat) (pop 3)\n')
    script = parse_script(text)
    assert [(c.name, c.line) for c in script.commands] == [
        ("set-info", 2), ("declare-const", 4), ("assert", 5), ("push", 6), ("check-sat", 6), ("pop", 6)]
    assert script.comments == ((1, " head comment"), (4, " trailing (set-option :x 1)"))
    info = script.commands[0].args
    assert info == (Atom(AtomKind.KEYWORD, "source", 2),
                    Atom(AtomKind.STRING, 'a ; b ( "quoted" )\nsecond line', 2))
    assert script.commands[1].args[0] == Atom(AtomKind.SYMBOL, "x y)(z", 4)
    assert script.commands[2].text() == "(assert (> |x y)(z| 2.50))"
    assert script.commands[0].text() == '(set-info :source "a ; b ( ""quoted"" )\nsecond line")'


def test_literal_kinds() -> None:
    (expr,), _ = read_sexprs("(f 0 17 0.5 12.0 #x1F #b101 :key sym-bol! \"s\")")
    assert isinstance(expr, SList)
    assert [(a.kind, a.value) for a in expr.items if isinstance(a, Atom)] == [
        (AtomKind.SYMBOL, "f"), (AtomKind.NUMERAL, "0"), (AtomKind.NUMERAL, "17"), (AtomKind.DECIMAL, "0.5"),
        (AtomKind.DECIMAL, "12.0"), (AtomKind.HEXADECIMAL, "#x1F"), (AtomKind.BINARY, "#b101"),
        (AtomKind.KEYWORD, "key"), (AtomKind.SYMBOL, "sym-bol!"), (AtomKind.STRING, "s")]


def test_smuggling_through_strings_symbols_and_comments_stays_inert() -> None:
    """Text that looks like a forbidden command inside a string, quoted symbol or comment is not a command."""
    text = ('(set-info :source "x"")(set-option :regular-output-channel ""out.txt"")(echo """)\n'
            '(set-info :notes |)(echo "unsat")(|)\n'
            '; (echo "unsat")\n'
            '(check-sat)\n')
    script = parse_script(text)
    assert [c.name for c in script.commands] == ["set-info", "set-info", "check-sat"]
    # re-rendered text keeps the payload inside its literal, where no solver treats it as a command
    assert parse_script("\n".join(c.text() for c in script.commands)) .commands[0].args == script.commands[0].args


@pytest.mark.parametrize("text, line, reason", [
    ("(check-sat", 1, "unbalanced '(' (never closed)"),
    ("(check-sat))", 1, "unbalanced ')'"),
    ('\n(set-info :a "open\n', 2, "unterminated string literal"),
    ("(assert |open)\n", 1, "unterminated quoted symbol |...|"),
    ("(assert |a\\b|)", 1, "a backslash inside a quoted symbol"),
    ("(assert #z1)", 1, "not an SMT-LIB token: '#z1'"),
    ("(assert 1x)", 1, "not an SMT-LIB token: '1x'"),
    ("\n\ncheck-sat", 3, "not a command: check-sat"),
    ("()", 1, "not a command: ()"),
    ("((check-sat))", 1, "not a command: ((check-sat))"),
    ("(push 1001)", 1, "malformed (push ...): (push 1001)"),
    ("(push " + "9" * 5000 + ")", 1, "malformed (push ...)"),
    ("(pop x)", 1, "malformed (pop ...): (pop x)"),
    ("(check-sat x0)", 1, "malformed (check-sat ...): (check-sat x0)"),
    ("(assert)", 1, "malformed (assert ...): (assert)"),
    ("(set-logic)", 1, "malformed (set-logic ...): (set-logic)"),
    ("(set-info source)", 1, "malformed (set-info ...)"),
    ("(|set-option| :regular-output-channel \"x\")", 1, "command (set-option ...) is not allowed"),
])
def test_malformed_or_forbidden_scripts_are_refused_with_their_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ScriptRefused) as caught:
        parse_script(text)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_nesting_is_bounded_without_recursion() -> None:
    deep = "(assert " + "(not " * MAX_DEPTH + "true" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ScriptRefused, match="nested deeper"):
        parse_script(deep)
    shallow = "(assert " + "(not " * (MAX_DEPTH - 2) + "true" + ")" * (MAX_DEPTH - 1)
    assert parse_script(shallow).commands[0].name == "assert"


@st.composite
def scripts(draw: st.DrawFn) -> str:
    """Whitelisted QF_LRA scripts: symbols (some quoted), comments, set-info strings, nested push/pop."""
    names = ["x", "|y z|", "|(w)|"]
    lines = ["; generated", "(set-logic QF_LRA)", '(set-info :source "gen ""q"" ; (echo x)")']
    lines += [f"(declare-const {name} Real)" for name in names]
    depth = 0
    for _ in range(draw(st.integers(1, 12))):
        step = draw(st.sampled_from(["assert", "assert", "push", "pop", "check-sat", "comment"]))
        if step == "assert":
            terms = [f"(* {draw(st.integers(-3, 3))}.0 {name})" for name in names]
            op = draw(st.sampled_from(["<", "<=", ">", ">=", "="]))
            lines.append(f"(assert ({op} (+ {' '.join(terms)}) {draw(st.integers(-2, 2))}.0))")
        elif step == "push":
            levels = draw(st.integers(1, 2))
            depth += levels
            lines.append(f"(push {levels})")
        elif step == "pop" and depth:
            levels = draw(st.integers(1, depth))
            depth -= levels
            lines.append(f"(pop {levels})")
        elif step == "comment":
            lines.append("; (set-option :regular-output-channel \"no\")")
        else:
            lines.append("(check-sat)")
    lines.append("(check-sat)")
    return "\n".join(lines) + "\n"


def z3_text_frontend(text: str) -> list[str]:
    """Oracle: Z3's own SMT-LIB front end on the raw text (safe here: the generator writes only whitelisted commands)."""
    context = z3.Context()  # kept alive for the call: a temporary would be freed under Z3's feet
    output = z3.Z3_eval_smtlib2_string(context.ref(), text)
    return [line for line in output.split() if line in ("sat", "unsat", "unknown")]


@settings(max_examples=60, deadline=None)
@given(scripts())
def test_replay_runners_agree_with_z3s_own_front_end(text: str) -> None:
    expected = z3_text_frontend(text)
    assert run_z3(text, 10_000) == expected
    assert run_cvc5(text, 10_000) == expected


def test_render_quotes_only_what_needs_it() -> None:
    assert render(SList((Atom(AtomKind.SYMBOL, "assert", 1), Atom(AtomKind.SYMBOL, "a b", 1)), 1)) == "(assert |a b|)"
    assert render(Atom(AtomKind.STRING, 'say "hi"', 1)) == '"say ""hi"""'
    assert render(Atom(AtomKind.KEYWORD, "named", 1)) == ":named"
