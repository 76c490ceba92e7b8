"""The rule language's words and tree: the tokenizer, the syntax tree a rule is parsed
into (each node typed and spanning its text in the rule), and :class:`RuleError`, which
names the column of whatever cannot be read (see :mod:`broker.policy.parser`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class RuleError(ValueError):
    """A rule that cannot be read: the message, and where in the rule (0-based offset;
    1-based line and column within the rule text)."""

    def __init__(self, message: str, source: str, offset: int) -> None:
        self.message = message
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        before = source[: self.offset]
        self.line = before.count("\n") + 1
        self.column = self.offset - (before.rfind("\n") + 1) + 1
        super().__init__(f"column {self.column}: {message}" if self.line == 1 else self.where() + f": {message}")

    def where(self) -> str:
        return f"line {self.line} column {self.column}" if self.line > 1 else f"column {self.column}"

    def pointer(self) -> str:
        """The rule line with a caret under the error, for terminals and logs."""
        text = self.source.split("\n")[self.line - 1]
        return f"{text}\n{' ' * (self.column - 1)}^"


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER, STRING, NAME, OP, EOF
    text: str
    start: int
    end: int
    value: Any = None


_SINGLE = frozenset("<>()[],+-*")


def _is_digit(c: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes '²' and '٣', which ``int`` refuses."""
    return "0" <= c <= "9"


def tokenize(source: str) -> list[Token]:
    """Split a rule into tokens; a character the language does not know is an error at
    its column."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
        elif _is_digit(c):
            j = i
            while j < n and (_is_digit(source[j]) or source[j] == "_"):
                j += 1
            if j < n and source[j] == "." and j + 1 < n and _is_digit(source[j + 1]):
                j += 1
                while j < n and _is_digit(source[j]):
                    j += 1
            text = source[i:j]
            if text.endswith("_") or "__" in text:
                raise RuleError(f"malformed number {text!r}", source, i)
            if j < n and (source[j].isalpha() or source[j] == "_"):
                raise RuleError(f"a number runs into a name at {text}{source[j]!r}: put a space between", source, j)
            tokens.append(Token("NUMBER", text, i, j, text.replace("_", "")))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            tokens.append(Token("NAME", source[i:j], i, j))
            i = j
        elif c in "\"'":
            j, chars = i + 1, []
            while True:
                if j >= n or source[j] == "\n":
                    raise RuleError("string is not closed: add the closing quote", source, i)
                if source[j] == "\\" and j + 1 < n and source[j + 1] in (c, "\\"):
                    chars.append(source[j + 1])
                    j += 2
                    continue
                if source[j] == c:
                    break
                chars.append(source[j])
                j += 1
            tokens.append(Token("STRING", source[i : j + 1], i, j + 1, "".join(chars)))
            i = j + 1
        elif source.startswith(("<=", ">=", "==", "!="), i):
            tokens.append(Token("OP", source[i : i + 2], i, i + 2))
            i += 2
        elif c in _SINGLE:
            tokens.append(Token("OP", c, i, i + 1))
            i += 1
        elif c == "=":
            raise RuleError("use == to compare, not =", source, i)
        elif c == "&" or c == "|":
            raise RuleError(f"use 'and' / 'or' instead of {c!r}", source, i)
        elif c == "!":
            raise RuleError("use 'not' instead of '!'", source, i)
        else:
            raise RuleError(f"unexpected character {c!r}", source, i)
    tokens.append(Token("EOF", "", n, n))
    return tokens


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Node:
    start: int
    end: int
    type: str

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class FieldRef(Node):
    name: str


@dataclass(frozen=True)
class ParamRef(Node):
    name: str


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Node):
    """An operator between two operands (the shared shape of Arith and Compare)."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Arith(Binary):
    pass


@dataclass(frozen=True)
class Compare(Binary):
    pass


@dataclass(frozen=True)
class In(Node):
    left: Node
    items: tuple[Literal, ...]
    negated: bool

    def children(self) -> tuple[Node, ...]:
        return (self.left, *self.items)


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children():
        yield from walk(child)
