"""The policy rule language: a small, safe expression language over household facts.

A rule is parsed once (a hand-written tokenizer and recursive-descent parser, no
``eval``), type-checked as it is parsed, and compiled two ways that must agree:

* a Python predicate over one household's facts (:class:`Facts`), for the policy
  package and its "why";
* a SQLAlchemy boolean expression over the ``households`` table (columns, and an
  EXISTS subquery for ``receives``), for scanning the whole registry.

Grammar (lowest precedence first)::

    rule       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum | ["not"] "in" list]
    sum        := product (("+" | "-") product)*
    product    := unary ("*" unary)*
    unary      := "-" unary | atom
    atom       := NUMBER ["yuan" | "fen"] | STRING | "true" | "false"
                | FIELD | PARAMETER | FUNCTION "(" [rule ("," rule)*] ")" | "(" rule ")"
    list       := "[" [literal ("," literal)*] "]"

Numbers are integers, in fen where they are money (``111000``); ``1100 yuan`` and
``1100.50 yuan`` are written-out yuan, converted to fen; ``_`` may group digits
(``111_000``). Strings use double or single quotes. Comparisons do not chain: write
``a < b and b < c``. Every error names its column in the rule."""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, String, and_, cast, exists, false, literal, not_, or_, true

from broker.policy.fields import BOOL, FIELDS, FUNCTIONS, INT, PARAMETERS, STR
from models import Household, HouseholdBenefit

MAX_DEPTH = 60
KEYWORDS = {"and", "or", "not", "in", "true", "false"}
UNITS = {"yuan": 100, "fen": 1}
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
TYPE_NAMES = {INT: "a number", BOOL: "a true/false condition", STR: "a string"}


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


def tokenize(source: str) -> list[Token]:
    """Split a rule into tokens; a character the language does not know is an error at
    its column."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
        elif c.isdigit():
            j = i
            while j < n and (source[j].isdigit() or source[j] == "_"):
                j += 1
            if j < n and source[j] == "." and j + 1 < n and source[j + 1].isdigit():
                j += 1
                while j < n and source[j].isdigit():
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
class Arith(Node):
    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


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


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def at_keyword(self, word: str) -> bool:
        return self.tok.kind == "NAME" and self.tok.text == word

    def advance(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def error(self, message: str, at: int | None = None) -> RuleError:
        return RuleError(message, self.source, self.tok.start if at is None else at)

    def expect_op(self, text: str, what: str) -> Token:
        if not self.at("OP", text):
            raise self.error(f"expected {text!r} {what}, found {self.describe(self.tok)}")
        return self.advance()

    @staticmethod
    def describe(t: Token) -> str:
        return "the end of the rule" if t.kind == "EOF" else repr(t.text)

    def require_type(self, node: Node, want: str, context: str) -> None:
        if node.type != want:
            raise self.error(
                f"{context} needs {TYPE_NAMES[want]}, but {self.text(node)!r} is {TYPE_NAMES[node.type]}",
                node.start,
            )

    def text(self, node: Node) -> str:
        return self.source[node.start : node.end]

    # grammar
    def parse(self) -> Node:
        if self.at("EOF"):
            raise self.error("the rule is empty")
        node = self.parse_or()
        if not self.at("EOF"):
            t = self.tok
            hint = ""
            if t.kind == "OP" and t.text in COMPARISONS:
                hint = " (comparisons do not chain: write a < b and b < c)"
            elif t.kind in ("NAME", "NUMBER", "STRING") or self.at("OP", "("):
                hint = " (missing 'and' / 'or' before it?)"
            raise self.error(f"unexpected {self.describe(t)}{hint}")
        self.require_type(node, BOOL, "a rule")
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the rule nests deeper than {MAX_DEPTH} levels")

    def parse_or(self) -> Node:
        return self._bool_chain("or", self.parse_and)

    def parse_and(self) -> Node:
        return self._bool_chain("and", self.parse_not)

    def _bool_chain(self, word: str, sub: Callable[[], Node]) -> Node:
        first = sub()
        operands = [first]
        while self.at_keyword(word):
            self.advance()
            operands.append(sub())
        if len(operands) == 1:
            return first
        for operand in operands:
            self.require_type(operand, BOOL, f"'{word}'")
        return BoolOp(operands[0].start, operands[-1].end, BOOL, word, tuple(operands))

    def parse_not(self) -> Node:
        if self.at_keyword("not"):
            t = self.advance()
            self.enter()
            operand = self.parse_not()
            self.depth -= 1
            self.require_type(operand, BOOL, "'not'")
            return Not(t.start, operand.end, BOOL, operand)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_sum()
        if self.at("OP") and self.tok.text in COMPARISONS:
            op = self.advance().text
            right = self.parse_sum()
            if op in ("<", "<=", ">", ">="):
                self.require_type(left, INT, f"{op!r}")
                self.require_type(right, INT, f"{op!r}")
            elif left.type != right.type:
                raise self.error(
                    f"cannot compare {TYPE_NAMES[left.type]} ({self.text(left)!r}) "
                    f"with {TYPE_NAMES[right.type]} ({self.text(right)!r})",
                    left.start,
                )
            return Compare(left.start, right.end, BOOL, op, left, right)
        negated = False
        if self.at_keyword("not") and self.tokens[self.i + 1].kind == "NAME" and self.tokens[self.i + 1].text == "in":
            self.advance()
            negated = True
        if self.at_keyword("in"):
            self.advance()
            items, end = self.parse_list()
            for item in items:
                if item.type != left.type:
                    raise self.error(
                        f"the list mixes types: {self.text(item)!r} is {TYPE_NAMES[item.type]}, "
                        f"{self.text(left)!r} is {TYPE_NAMES[left.type]}",
                        item.start,
                    )
            return In(left.start, end, BOOL, left, tuple(items), negated)
        if negated:
            raise self.error("expected 'in' after 'not'")
        return left

    def parse_list(self) -> tuple[list[Literal], int]:
        self.expect_op("[", "to open the list after 'in'")
        items: list[Literal] = []
        if not self.at("OP", "]"):
            while True:
                node = self.parse_unary()
                if isinstance(node, Neg) and isinstance(node.operand, Literal):
                    node = Literal(node.start, node.end, INT, -node.operand.value)
                if not isinstance(node, Literal):
                    raise self.error("a list after 'in' holds only numbers, strings, true or false", node.start)
                items.append(node)
                if self.at("OP", ","):
                    self.advance()
                    continue
                break
        end = self.expect_op("]", "to close the list").end
        return items, end

    def parse_sum(self) -> Node:
        left = self.parse_product()
        while self.at("OP") and self.tok.text in ("+", "-"):
            op = self.advance().text
            right = self.parse_product()
            self.require_type(left, INT, f"{op!r}")
            self.require_type(right, INT, f"{op!r}")
            left = Arith(left.start, right.end, INT, op, left, right)
        return left

    def parse_product(self) -> Node:
        left = self.parse_unary()
        while self.at("OP", "*"):
            self.advance()
            right = self.parse_unary()
            self.require_type(left, INT, "'*'")
            self.require_type(right, INT, "'*'")
            left = Arith(left.start, right.end, INT, "*", left, right)
        return left

    def parse_unary(self) -> Node:
        if self.at("OP", "-"):
            t = self.advance()
            self.enter()
            operand = self.parse_unary()
            self.depth -= 1
            self.require_type(operand, INT, "'-'")
            return Neg(t.start, operand.end, INT, operand)
        return self.parse_atom()

    def parse_atom(self) -> Node:
        t = self.tok
        if t.kind == "NUMBER":
            self.advance()
            return self.number(t)
        if t.kind == "STRING":
            self.advance()
            return Literal(t.start, t.end, STR, t.value)
        if t.kind == "OP" and t.text == "(":
            self.advance()
            self.enter()
            inner = self.parse_or()
            self.depth -= 1
            end = self.expect_op(")", f"to close the '(' at column {t.start + 1}").end
            return _with_span(inner, t.start, end)
        if t.kind == "NAME":
            return self.name()
        if t.kind == "EOF":
            raise self.error("the rule ends too early: a value is missing")
        raise self.error(f"expected a value, found {self.describe(t)}")

    def number(self, t: Token) -> Literal:
        text: str = t.value
        unit = self.tok.text if self.tok.kind == "NAME" and self.tok.text in UNITS else None
        end = t.end
        if unit:
            end = self.advance().end
        if "." in text:
            if unit != "yuan":
                raise self.error(f"{t.text} has decimals: money is whole fen, or write '{t.text} yuan'", t.start)
            whole, _, frac = text.partition(".")
            if len(frac) > 2:
                raise self.error(f"{t.text} yuan has more than two decimals (fen is the smallest unit)", t.start)
            return Literal(t.start, end, INT, int(whole) * 100 + int(frac.ljust(2, "0")))
        return Literal(t.start, end, INT, int(text) * UNITS.get(unit or "fen", 1))

    def name(self) -> Node:
        t = self.advance()
        word = t.text
        if word in ("true", "false"):
            return Literal(t.start, t.end, BOOL, word == "true")
        if word in KEYWORDS:
            raise self.error(f"expected a value, found the keyword {word!r}", t.start)
        if word in UNITS:
            raise self.error(f"'{word}' must follow a number, as in 1100 {word}", t.start)
        if word in FIELDS:
            return FieldRef(t.start, t.end, FIELDS[word].type, word)
        if word in PARAMETERS:
            return ParamRef(t.start, t.end, PARAMETERS[word].type, word)
        if word in FUNCTIONS:
            return self.call(t)
        if self.at("OP", "("):
            raise self.error(f"unknown function {word!r}; known functions: {', '.join(FUNCTIONS)}", t.start)
        known = [*FIELDS, *PARAMETERS, *FUNCTIONS]
        close = difflib.get_close_matches(word, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise self.error(
            f"unknown name {word!r}.{hint} Known fields: {', '.join(FIELDS)}; "
            f"parameters: {', '.join(PARAMETERS)}; functions: {', '.join(FUNCTIONS)}",
            t.start,
        )

    def call(self, name_tok: Token) -> Node:
        arg_types, result, _doc = FUNCTIONS[name_tok.text]
        self.expect_op("(", f"after {name_tok.text}")
        args: list[Node] = []
        if not self.at("OP", ")"):
            while True:
                self.enter()
                args.append(self.parse_or())
                self.depth -= 1
                if self.at("OP", ","):
                    self.advance()
                    continue
                break
        end = self.expect_op(")", f"to close {name_tok.text}(").end
        if len(args) != len(arg_types):
            raise self.error(
                f"{name_tok.text}() takes {len(arg_types)} argument(s), given {len(args)}",
                name_tok.start,
            )
        for arg, want in zip(args, arg_types, strict=True):
            self.require_type(arg, want, f"{name_tok.text}()")
            if not isinstance(arg, Literal):
                raise self.error(f'{name_tok.text}() takes a literal, such as {name_tok.text}("dibao")', arg.start)
        return Call(name_tok.start, end, result, name_tok.text, tuple(args))


def _with_span(node: Node, start: int, end: int) -> Node:
    """The same node, spanning its parentheses too (so that explanations quote them)."""
    return type(node)(**{**{f: getattr(node, f) for f in node.__dataclass_fields__}, "start": start, "end": end})


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Facts:
    """What a rule sees of one household: its fact columns and the policy codes of the
    benefits it already receives."""

    values: Mapping[str, Any]
    benefits: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, household: Any, benefits: Any = None) -> Facts:
        """Read the facts of a Household (or any row with the same attribute names);
        ``benefits`` defaults to the household's ``benefits`` relationship."""
        if benefits is None:
            benefits = [b.policy_code for b in household.benefits]
        return cls({name: getattr(household, name) for name in FIELDS}, frozenset(benefits))


# --------------------------------------------------------------------------- compiling

_PY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}

Evaluator = Callable[[Facts], Any]


def _compile_python(node: Node, params: Mapping[str, Any]) -> Evaluator:
    if isinstance(node, Literal):
        value = node.value
        return lambda _f: value
    if isinstance(node, FieldRef):
        name = node.name
        if node.type == BOOL:
            return lambda f: bool(f.values[name])
        return lambda f: int(f.values[name])
    if isinstance(node, ParamRef):
        value = params[node.name]
        return lambda _f: value
    if isinstance(node, Call):
        code = node.args[0].value  # receives(): the only function
        return lambda f: code in f.benefits
    if isinstance(node, Neg):
        inner = _compile_python(node.operand, params)
        return lambda f: -inner(f)
    if isinstance(node, Not):
        inner = _compile_python(node.operand, params)
        return lambda f: not inner(f)
    if isinstance(node, Arith | Compare):
        fn = _PY_OPS[node.op]
        left, right = _compile_python(node.left, params), _compile_python(node.right, params)
        return lambda f: fn(left(f), right(f))
    if isinstance(node, In):
        left = _compile_python(node.left, params)
        values = [item.value for item in node.items]
        if node.negated:
            return lambda f: left(f) not in values
        return lambda f: left(f) in values
    if isinstance(node, BoolOp):
        parts = [_compile_python(o, params) for o in node.operands]
        if node.op == "and":
            return lambda f: all(p(f) for p in parts)
        return lambda f: any(p(f) for p in parts)
    raise TypeError(f"unknown node {node!r}")


def _sql_type(node_type: str) -> Any:
    return {INT: BigInteger(), BOOL: Boolean(), STR: String()}[node_type]


ReceivesSql = Callable[[str], ColumnElement]


def receives_exists(code: str) -> ColumnElement:
    """``receives(code)`` as a correlated EXISTS over ``household_benefits``."""
    return (
        exists()
        .where(HouseholdBenefit.household_id == Household.id, HouseholdBenefit.policy_code == code)
        .correlate(Household)
    )


def _compile_sql(node: Node, params: Mapping[str, Any], receives: ReceivesSql, *, arith: bool = False) -> ColumnElement:
    def sub(child: Node, *, arith: bool = False) -> ColumnElement:
        return _compile_sql(child, params, receives, arith=arith)

    if isinstance(node, Literal):
        if node.type == BOOL:
            return true() if node.value else false()
        return literal(node.value, _sql_type(node.type))
    if isinstance(node, FieldRef):
        column = FIELDS[node.name].column()
        # Counts are 32-bit on PostgreSQL; arithmetic runs in 64 bits, like the Python side.
        return cast(column, BigInteger) if arith else column
    if isinstance(node, ParamRef):
        return literal(params[node.name], _sql_type(node.type))
    if isinstance(node, Call):
        return receives(node.args[0].value)
    if isinstance(node, Neg):
        return -sub(node.operand, arith=True)
    if isinstance(node, Not):
        return not_(sub(node.operand))
    if isinstance(node, Arith):
        return _PY_OPS[node.op](sub(node.left, arith=True), sub(node.right, arith=True))
    if isinstance(node, Compare):
        return _PY_OPS[node.op](sub(node.left).self_group(), sub(node.right).self_group())
    if isinstance(node, In):
        left = sub(node.left)
        values = [item.value for item in node.items]
        return left.not_in(values) if node.negated else left.in_(values)
    if isinstance(node, BoolOp):
        parts = [sub(o) for o in node.operands]
        return and_(*parts) if node.op == "and" else or_(*parts)
    raise TypeError(f"unknown node {node!r}")


# --------------------------------------------------------------------------- why


@dataclass(frozen=True)
class Clause:
    """One top-level term of a rule, whether it holds for the household, and the values
    that decided it: ``income_per_capita_fen 52000 < dibao_line 111000``."""

    text: str
    holds: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "holds": self.holds, "detail": self.detail}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


# --------------------------------------------------------------------------- Rule


@dataclass(frozen=True)
class Rule:
    """A parsed, type-checked rule. Compile it with parameter values (see
    :func:`broker.policy.fields.parameter_values`) to evaluate or to filter."""

    source: str
    ast: Node

    def text(self, node: Node) -> str:
        return " ".join(self.source[node.start : node.end].split())

    def policy_codes(self) -> list[tuple[str, int]]:
        """The policy codes named in ``receives(...)``, with their offsets."""
        return [(n.args[0].value, n.args[0].start) for n in walk(self.ast) if isinstance(n, Call)]

    def fields(self) -> set[str]:
        return {n.name for n in walk(self.ast) if isinstance(n, FieldRef)}

    def predicate(self, params: Mapping[str, Any]) -> Callable[[Facts], bool]:
        """A Python function of :class:`Facts` giving the rule's verdict."""
        fn = _compile_python(self.ast, params)
        return lambda facts: bool(fn(facts))

    def evaluate(self, facts: Facts, params: Mapping[str, Any]) -> bool:
        return self.predicate(params)(facts)

    def sql(self, params: Mapping[str, Any], receives: ReceivesSql = receives_exists) -> ColumnElement[bool]:
        """A boolean SQL expression over ``households`` giving the same verdict.
        ``receives(code)`` is an EXISTS subquery unless the caller joins the benefits
        itself (a whole-registry scan) and passes how to read them."""
        return _compile_sql(self.ast, params, receives)

    def terms(self) -> tuple[Node, ...]:
        """The top-level ``and`` terms (the whole rule if it is not an ``and``)."""
        if isinstance(self.ast, BoolOp) and self.ast.op == "and":
            return self.ast.operands
        return (self.ast,)

    def explain(self, facts: Facts, params: Mapping[str, Any]) -> list[Clause]:
        """Each top-level term with its verdict and the values behind it: the "why" a
        caseworker reads in the policy package."""
        return [
            Clause(self.text(term), bool(_compile_python(term, params)(facts)), self._detail(term, facts, params))
            for term in self.terms()
        ]

    def _value(self, node: Node, facts: Facts, params: Mapping[str, Any]) -> Any:
        return _compile_python(node, params)(facts)

    def _side(self, node: Node, facts: Facts, params: Mapping[str, Any]) -> str:
        if isinstance(node, Literal):
            return self.text(node)
        value = _show(self._value(node, facts, params))
        if isinstance(node, FieldRef | ParamRef):
            return f"{node.name} {value}"
        return f"{self.text(node)} = {value}"

    def _detail(self, node: Node, facts: Facts, params: Mapping[str, Any]) -> str:
        if isinstance(node, Compare):
            return f"{self._side(node.left, facts, params)} {node.op} {self._side(node.right, facts, params)}"
        if isinstance(node, In):
            items = ", ".join(self.text(i) for i in node.items)
            return f"{self._side(node.left, facts, params)} {'not in' if node.negated else 'in'} [{items}]"
        if isinstance(node, FieldRef):
            return f"{node.name}: {_show(self._value(node, facts, params))}"
        if isinstance(node, Call):
            return f"{self.text(node)}: {'yes' if self._value(node, facts, params) else 'no'}"
        if isinstance(node, Not):
            if isinstance(node.operand, Call | FieldRef):
                return self._detail(node.operand, facts, params)
            return f"not ({self._detail(node.operand, facts, params)})"
        if isinstance(node, BoolOp):
            parts = node.operands
            if node.op == "or":
                held = [p for p in parts if self._value(p, facts, params)]
                parts = tuple(held) or parts
            return f" {node.op} ".join(self._detail(p, facts, params) for p in parts)
        return f"{self.text(node)}: {_show(self._value(node, facts, params))}"

    def conjoin_not_receiving(self, codes: list[str]) -> Rule:
        """This rule with ``and not receives(code)`` for each code (a policy's
        ``excludes_if_receiving``), as one rule with a readable source."""
        if not codes:
            return self
        extra = " and ".join(f'not receives("{c}")' for c in codes)
        left = f"({self.source.strip()})" if _needs_parens(self.ast) else self.source.strip()
        return parse(f"{left} and {extra}")


def _needs_parens(node: Node) -> bool:
    return isinstance(node, BoolOp) and node.op == "or"


def parse(source: str) -> Rule:
    """Parse and type-check a rule; raises :class:`RuleError` with the column."""
    if not isinstance(source, str):
        raise RuleError("a rule must be text", "", 0)
    return Rule(source, _Parser(source).parse())
