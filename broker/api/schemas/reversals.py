"""What a reversal (红冲) looks like on the wire."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.platform.input_schema import InputSchema
from broker.referral.reversals import REASON_MAX
from models.reversal import REVERSAL_STATUSES

_TEXT = [validate.Length(max=REASON_MAX)]


class ReversalIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=[*_TEXT, validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "录入金额错误：应为 700 元，误录为 7000 元"},
    )


class DecisionIn(InputSchema):
    note = fields.String(load_default="", validate=_TEXT, metadata={"description": "Why (required to reject)."})


class ReversalListArgs(InputSchema):
    status = fields.String(load_default="pending", validate=validate.OneOf([*REVERSAL_STATUSES, "all"]))


class ReversalOut(Schema):
    id = fields.Integer()
    disbursement_id = fields.Integer()
    amount_fen = fields.Integer()
    reason = fields.String()
    status = fields.String(metadata={"description": "pending, approved or rejected"})
    proposed_by_id = fields.Integer()
    proposed_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()
    transaction_id = fields.Integer(allow_none=True, metadata={"description": "The reversal's ledger transaction."})


class ReversalListOut(Schema):
    items = fields.List(fields.Nested(ReversalOut))
