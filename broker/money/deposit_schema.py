"""What a deposit into a partner's fund may be: one schema for the API's request body and
the portal's form (where the amount is typed in yuan and handed over in fen)."""

from __future__ import annotations

from marshmallow import fields, validate

from broker.money.ledger import MAX_AMOUNT_FEN
from broker.platform.input_schema import InputSchema

_TEXT = validate.Length(max=120)


class DepositIn(InputSchema):
    amount_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={"description": "Whole fen (100 fen = 1 yuan)", "example": 5_000_000},
    )
    reference = fields.String(
        load_default="", validate=_TEXT, metadata={"description": "Bank or receipt reference", "example": "BANK-0042"}
    )
    donor = fields.String(load_default="", validate=_TEXT, metadata={"example": "爱心企业 星辰科技有限公司"})
    memo = fields.String(load_default="", validate=validate.Length(max=2000))
