"""Why a rule's clause holds or not for one household, as a code with parameters that
reads as a person would say it ("Monthly income per person ¥360, below the local
minimum-living line ¥1,110"): the field, the relation that actually holds, the
household's value, the threshold and its name. The sentences are in
:mod:`broker.policy.wording`; nothing here is English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.policy.evaluation import Facts, _compile_python
from broker.policy.fields import BOOL, FIELDS, PARAMETERS
from broker.policy.syntax import Arith, BoolOp, Call, Compare, FieldRef, Literal, Node, Not, ParamRef
from broker.policy.wording import OPERATOR_NAMES, TEXTS, condition

NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

Reason = dict[str, Any]


def reason(node: Node, facts: Facts, params: Mapping[str, Any], source: str = "") -> Reason:
    """The reason for one term of a rule, said truthfully whichever way it went."""
    holds = bool(_compile_python(node, params)(facts))
    if isinstance(node, Not) and isinstance(node.operand, Call | FieldRef | ParamRef):
        return reason(node.operand, facts, params, source)
    if isinstance(node, Call):
        policy = node.args[0].value
        code = "policy.why.receives" if holds else "policy.why.not_receives"
        return {"code": code, "params": {"policy": _policy_name(policy)}}
    if isinstance(node, FieldRef | ParamRef) and node.type == BOOL:
        return _yes_no(node.name, holds, facts)
    if isinstance(node, Compare):
        said = _compare(node, facts, params, holds)
        if said is not None:
            return said
    if isinstance(node, BoolOp):
        parts = [(p, bool(_compile_python(p, params)(facts))) for p in node.operands]
        if node.op == "or":
            # holding: the first way it holds is why; failing: every way failed
            chosen = [p for p, ok in parts if ok][:1] if holds else [p for p, _ok in parts]
        else:
            chosen = [p for p, _ok in parts] if holds else [p for p, ok in parts if not ok]
        return _join([reason(p, facts, params, source) for p in chosen])
    return {"code": "policy.why.rule", "params": {"rule": " ".join(source[node.start : node.end].split())}}


def _policy_name(code: str) -> dict[str, Any] | str:
    key = f"policy.name.{code}"
    return {"code": key} if key in TEXTS else code


def _join(reasons: list[Reason]) -> Reason:
    if len(reasons) == 1:
        return reasons[0]
    return {"code": "policy.why.both", "params": {"first": reasons[0], "rest": _join(reasons[1:])}}


def _yes_no(name: str, holds: bool, facts: Facts) -> Reason:
    if name == "serious_illness" and holds and facts.conditions:
        conditions = [condition(c) for c in sorted(facts.conditions)]
        return {"code": "policy.why.yes_with.serious_illness", "params": {"conditions": conditions}}
    code = f"policy.why.{'yes' if holds else 'no'}.{name}"
    if code not in TEXTS:
        return {"code": "policy.why.rule", "params": {"rule": name}}
    return {"code": code}


def _threshold(node: Node, params: Mapping[str, Any]) -> tuple[Any, dict[str, Any] | None, bool] | None:
    """The threshold's value, its name if it is a named line (or a multiple of one),
    and whether it is money; None if the rule's right side is something else."""
    if isinstance(node, Literal) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value, None, False
    if isinstance(node, ParamRef):
        param = PARAMETERS[node.name]
        return params[node.name], {"code": f"policy.param.{node.name}"}, param.money
    if isinstance(node, Arith) and node.op == "*":
        line, factor = (node.left, node.right) if isinstance(node.left, ParamRef) else (node.right, node.left)
        if isinstance(line, ParamRef) and isinstance(factor, Literal) and isinstance(factor.value, int):
            value = _compile_python(node, params)(Facts({}))
            name = {
                "code": "policy.param.times",
                "params": {"factor": factor.value, "line": {"code": f"policy.param.{line.name}"}},
            }
            return value, name, PARAMETERS[line.name].money
    return None


def _compare(node: Compare, facts: Facts, params: Mapping[str, Any], holds: bool) -> Reason | None:
    op, field_node, other = node.op, node.left, node.right
    if not isinstance(field_node, FieldRef) and isinstance(other, FieldRef):
        op, field_node, other = FLIPPED[op], other, field_node
    if not isinstance(field_node, FieldRef) or field_node.type == BOOL:
        return None
    threshold = _threshold(other, params)
    if threshold is None:
        return None
    limit, name, money = threshold
    field = FIELDS[field_node.name]
    value = int(facts.values[field.name])
    if name is None and not field.money and limit == 0 and op in (">", "!="):
        some = f"policy.why.{'some' if holds else 'none'}.{field.name}"
        if some in TEXTS:
            return {"code": some, "params": {"count": value}}
    actual = OPERATOR_NAMES[op if holds else NEGATED[op]]
    out: dict[str, Any] = {"field": {"code": f"policy.field.{field.name}"}}
    money = money or field.money
    out["value_fen" if money else "value"] = value
    out["limit_fen" if money else "limit"] = limit
    if name is not None:
        out["threshold"] = name
        family = "line"
    else:
        family = "amount" if money else "count"
    out["operator"] = op
    return {"code": f"policy.why.{family}.{actual}", "params": out}
