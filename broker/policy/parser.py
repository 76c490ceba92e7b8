"""The rule language's parser: a hand-written recursive-descent parser (no ``eval``)
that type-checks a rule as it reads it.

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
from collections.abc import Callable

from broker.policy.fields import BOOL, FIELDS, FUNCTIONS, INT, PARAMETERS, STR
from broker.policy.syntax import (
    Arith,
    BoolOp,
    Call,
    Compare,
    FieldRef,
    In,
    Literal,
    Neg,
    Node,
    Not,
    ParamRef,
    RuleError,
    Token,
    tokenize,
)

MAX_DEPTH = 60
KEYWORDS = {"and", "or", "not", "in", "true", "false"}
UNITS = {"yuan": 100, "fen": 1}
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
TYPE_NAMES = {INT: "a number", BOOL: "a true/false condition", STR: "a string"}


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
