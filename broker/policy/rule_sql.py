"""A rule translated into SQL: a boolean expression over the ``households`` table
(columns, and an EXISTS subquery for ``receives``) that gives the same verdict as the
Python predicate (:mod:`broker.policy.evaluation`), for scanning the whole registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, String, and_, cast, exists, false, literal, not_, or_, true

from broker.policy.evaluation import _PY_OPS
from broker.policy.fields import BOOL, FIELDS, INT, STR
from broker.policy.syntax import Arith, BoolOp, Call, Compare, FieldRef, In, Literal, Neg, Node, Not, ParamRef
from models import Household, HouseholdBenefit


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
        value = params[node.name]
        if isinstance(value, ColumnElement):
            return value  # a county's figure, chosen per household (broker.policy.counties)
        return literal(value, _sql_type(node.type))
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
