"""The policy rule language: a small, safe expression language over household facts.

A rule is parsed once (:mod:`broker.policy.parser`, over the tokens and tree of
:mod:`broker.policy.syntax`), type-checked as it is parsed, and compiled two ways that
must agree:

* a Python predicate over one household's facts (:class:`Facts`), for the policy
  package and its "why" (:mod:`broker.policy.evaluation`);
* a SQLAlchemy boolean expression over the ``households`` table (columns, and an
  EXISTS subquery for ``receives``), for scanning the whole registry
  (:mod:`broker.policy.rule_sql`).

This module holds the parsed :class:`Rule`, :func:`parse`, and the explanation of a
verdict, clause by clause (:class:`Clause`). Every error names its column in the rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement

from broker.policy import wording
from broker.policy.evaluation import Facts, _compile_python
from broker.policy.parser import _Parser
from broker.policy.reasons import reason
from broker.policy.rule_sql import ReceivesSql, _compile_sql, receives_exists
from broker.policy.syntax import BoolOp, Call, Compare, FieldRef, In, Literal, Node, Not, ParamRef, RuleError, walk

# --------------------------------------------------------------------------- why


@dataclass(frozen=True)
class Clause:
    """One top-level term of a rule, whether it holds for the household, and the values
    that decided it: ``income_per_capita_fen 52000 < dibao_line 111000`` for the rule's
    author, and as a code with parameters for people (:mod:`broker.policy.reasons`)."""

    text: str
    holds: bool
    detail: str
    reason: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The reason in the reader's language."""
        return wording.render(self.reason["code"], self.reason.get("params"))

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "holds": self.holds, "detail": self.detail, **wording.rendered(self.reason)}


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
            Clause(
                self.text(term),
                bool(_compile_python(term, params)(facts)),
                self._detail(term, facts, params),
                reason(term, facts, params, self.source),
            )
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
                # holding: the first way it holds (as the reasons say it); failing: every way
                held = [p for p in parts if self._value(p, facts, params)][:1]
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
