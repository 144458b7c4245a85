"""A small SMT-LIB 2 reader, so that `verify replay` decides what a solver may see.

An encodings folder is untrusted input: an SMT-LIB script can tell a solver to write files
(`set-option :regular-output-channel`), print text that looks like an answer (`echo`), read
other files (`include`), and more. Replay therefore reads every script here first, with a
reader of its own (strings, quoted symbols, comments, numerals and decimals), refuses any
command outside a small whitelist, and hands solvers only the commands it parsed, re-rendered
one at a time, so that no difference between this reader and a solver's can smuggle a command.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Union

# Commands a replay script may hold: declarations, assertions, scopes, check-sat (and comments).
ALLOWED_COMMANDS = (
    "set-logic", "set-info", "declare-fun", "declare-const", "define-fun",
    "assert", "push", "pop", "check-sat", "exit",
)
MAX_DEPTH = 256  # far deeper than any encoding; keeps rendering and the solvers' parsers shallow
MAX_SCOPE_LEVELS = 1000  # a (push n) beyond this is refused rather than looped over

_SYMBOL_CHARS = re.escape("~!@$%^&*_-+=<>.?/")
_SIMPLE_SYMBOL = re.compile(rf"[A-Za-z{_SYMBOL_CHARS}][0-9A-Za-z{_SYMBOL_CHARS}]*")
_ATOM = re.compile(
    rf"(?P<decimal>(?:0|[1-9][0-9]*)\.[0-9]+)|(?P<numeral>0|[1-9][0-9]*)|(?P<hexadecimal>#x[0-9A-Fa-f]+)"
    rf"|(?P<binary>#b[01]+)|:(?P<keyword>[0-9A-Za-z{_SYMBOL_CHARS}]+)|(?P<symbol>{_SIMPLE_SYMBOL.pattern})"
)
_TOKEN = re.compile(
    r'(?P<space>[ \t\r\f\v]+)|(?P<newline>\n)|;(?P<comment>[^\n]*)|(?P<open>\()|(?P<close>\))'
    r'|"(?P<string>[^"]*(?:""[^"]*)*)"|\|(?P<quoted>[^|\\]*)\||(?P<atom>[^ \t\r\n\f\v();"|]+)'
)


class AtomKind(enum.Enum):
    SYMBOL = "symbol"
    KEYWORD = "keyword"
    NUMERAL = "numeral"
    DECIMAL = "decimal"
    HEXADECIMAL = "hexadecimal"
    BINARY = "binary"
    STRING = "string"


_KINDS = {kind.value: kind for kind in AtomKind}


@dataclass(frozen=True)
class Atom:
    """A token: `value` is a symbol's name (unquoted), a string's contents (unescaped), else the text."""

    kind: AtomKind
    value: str
    line: int


@dataclass(frozen=True)
class SList:
    items: tuple["SExpr", ...]
    line: int


SExpr = Union[Atom, SList]


@dataclass(frozen=True)
class Command:
    """One top-level command: its name, the whole expression, and the line it starts on."""

    name: str
    expr: SList
    line: int

    @property
    def args(self) -> tuple[SExpr, ...]:
        return self.expr.items[1:]

    def text(self) -> str:
        return render(self.expr)


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...]
    comments: tuple[tuple[int, str], ...]  # (line, text after ';')


class ScriptRefused(ValueError):
    """The script is malformed or holds a command replay does not run; `line` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def read_sexprs(text: str) -> tuple[list[SExpr], list[tuple[int, str]]]:
    """Every top-level S-expression and every comment of `text`; raises ScriptRefused if malformed."""
    top: list[SExpr] = []
    comments: list[tuple[int, str]] = []
    stack: list[tuple[int, list[SExpr]]] = []  # (line of '(', items so far)
    position, line, size = 0, 1, len(text)
    while position < size:
        match = _TOKEN.match(text, position)
        if match is None:
            raise ScriptRefused(line, _unreadable(text[position:]))
        position = match.end()
        kind = match.lastgroup
        item: SExpr
        if kind == "space":
            continue
        if kind == "newline":
            line += 1
            continue
        if kind == "comment":
            comments.append((line, match["comment"]))
            continue
        if kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise ScriptRefused(line, f"nested deeper than {MAX_DEPTH} levels")
            stack.append((line, []))
            continue
        if kind == "close":
            if not stack:
                raise ScriptRefused(line, "unbalanced ')'")
            start, items = stack.pop()
            item = SList(tuple(items), start)
        elif kind == "string":
            item = Atom(AtomKind.STRING, match["string"].replace('""', '"'), line)
            line += match["string"].count("\n")
        elif kind == "quoted":
            item = Atom(AtomKind.SYMBOL, match["quoted"], line)
            line += match["quoted"].count("\n")
        else:
            item = _atom(match["atom"], line)
        (stack[-1][1] if stack else top).append(item)
    if stack:
        raise ScriptRefused(stack[-1][0], "unbalanced '(' (never closed)")
    return top, comments


def _unreadable(rest: str) -> str:
    if rest.startswith('"'):
        return "unterminated string literal"
    if "\\" in rest[: (rest.find("|", 1) + 1) or None]:
        return "a backslash inside a quoted symbol"
    return "unterminated quoted symbol |...|"


def _atom(token: str, line: int) -> Atom:
    match = _ATOM.fullmatch(token)
    if match is None or match.lastgroup is None:
        raise ScriptRefused(line, f"not an SMT-LIB token: {token[:40]!r}")
    return Atom(_KINDS[match.lastgroup], match[match.lastgroup], line)


def render(expr: SExpr) -> str:
    """SMT-LIB text of a parsed expression (symbols quoted only where needed)."""
    if isinstance(expr, SList):
        return "(" + " ".join(render(item) for item in expr.items) + ")"
    if expr.kind is AtomKind.SYMBOL:
        return expr.value if _SIMPLE_SYMBOL.fullmatch(expr.value) else f"|{expr.value}|"
    if expr.kind is AtomKind.KEYWORD:
        return ":" + expr.value
    if expr.kind is AtomKind.STRING:
        return '"' + expr.value.replace('"', '""') + '"'
    return expr.value


def parse_script(text: str) -> Script:
    """Read a script and refuse it unless every command is whitelisted and well formed."""
    exprs, comments = read_sexprs(text)
    commands = []
    for expr in exprs:
        if not isinstance(expr, SList) or not expr.items:
            raise ScriptRefused(expr.line, f"not a command: {render(expr)[:40]}")
        head = expr.items[0]
        if not isinstance(head, Atom) or head.kind is not AtomKind.SYMBOL:
            raise ScriptRefused(expr.line, f"not a command: {render(expr)[:40]}")
        command = Command(head.value, expr, expr.line)
        _check_command(command)
        commands.append(command)
    return Script(tuple(commands), tuple(comments))


def _check_command(command: Command) -> None:
    name, args = command.name, command.args
    if name not in ALLOWED_COMMANDS:
        raise ScriptRefused(command.line, f"command ({name[:40]} ...) is not allowed; replay runs only "
                            + ", ".join(ALLOWED_COMMANDS))
    kinds = [a.kind if isinstance(a, Atom) else None for a in args]
    well_formed = {
        "set-logic": kinds == [AtomKind.SYMBOL],
        "set-info": len(args) in (1, 2) and kinds[0] is AtomKind.KEYWORD,
        "declare-const": len(args) == 2 and kinds[0] is AtomKind.SYMBOL,
        "declare-fun": len(args) == 3 and kinds[0] is AtomKind.SYMBOL and isinstance(args[1], SList),
        "define-fun": len(args) == 4 and kinds[0] is AtomKind.SYMBOL and isinstance(args[1], SList),
        "assert": len(args) == 1,
        "push": kinds == [] or (kinds == [AtomKind.NUMERAL] and scope_levels(command) <= MAX_SCOPE_LEVELS),
        "pop": kinds == [] or (kinds == [AtomKind.NUMERAL] and scope_levels(command) <= MAX_SCOPE_LEVELS),
        "check-sat": not args,
        "exit": not args,
    }[name]
    if not well_formed:
        raise ScriptRefused(command.line, f"malformed ({name} ...): {command.text()[:60]}")


def scope_levels(command: Command) -> int:
    """How many levels a (push n) / (pop n) opens or closes (1 when n is omitted)."""
    if not command.args:
        return 1
    digits = command.args[0].value  # type: ignore[union-attr]
    return int(digits) if len(digits) <= 9 else MAX_SCOPE_LEVELS + 1
