"""Evaluating a rule in Python: the facts a rule sees of one household, and the rule's
tree compiled into a predicate over them (the policy package and its "why")."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import object_session

from broker.policy.fields import BOOL, FIELDS, STR
from broker.policy.syntax import Arith, BoolOp, Call, Compare, FieldRef, In, Literal, Neg, Node, Not, ParamRef
from broker.registry import region_tree
from models import Grid

# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Facts:
    """What a rule sees of one household: its fact columns, the policy codes of the
    benefits it already receives, and its members' recorded conditions (for the "why"
    of a serious illness, never for the verdict)."""

    values: Mapping[str, Any]
    benefits: frozenset[str] = field(default_factory=frozenset)
    conditions: frozenset[str] = field(default_factory=frozenset)
    county: str | None = None  # the grid's district or county in the region tree: whose figures and policies apply

    @classmethod
    def of(cls, household: Any, benefits: Any = None, county: str | None = None) -> Facts:
        """Read the facts of a Household (or any row with the same attribute names);
        ``benefits`` defaults to the household's ``benefits`` relationship, ``county`` to
        the district its grid lies in (pass it when the region tree is at hand)."""
        if benefits is None:
            benefits = [b.policy_code for b in household.benefits]
        conditions = {c for m in getattr(household, "members", None) or () for c in (m.conditions or [])}
        if county is None:
            grid = getattr(household, "grid", None)
            session = object_session(grid) if isinstance(grid, Grid) else None
            county = region_tree.county_of(session, grid) if session is not None else getattr(grid, "district", None)
        return cls(
            {name: getattr(household, name) for name in FIELDS}, frozenset(benefits), frozenset(conditions), county
        )


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
        if node.type == STR:
            return lambda f: f.values[name]
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
