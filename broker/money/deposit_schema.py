"""What a deposit into a partner's fund may be: one schema for the API's request body and
the portal's form (where the amount is typed in yuan and handed over in fen)."""

from __future__ import annotations

from marshmallow import fields, validate

from broker.money.ledger import MAX_AMOUNT_FEN
from broker.money.restrictions import MAX_REGIONS, PROGRAMME_LENGTH
from broker.platform.input_schema import InputSchema
from models.assessment import CATEGORIES

_TEXT = validate.Length(max=120)


class RestrictionIn(InputSchema):
    """What the donor restricted the money to; an empty list leaves that side open. Grid
    codes must exist; the last day may not be in the past (checked in the domain)."""

    categories = fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)),
        load_default=list,
        validate=validate.Length(max=len(CATEGORIES)),
        metadata={"description": "Need categories the money may pay for", "example": ["medical"]},
    )
    regions = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=MAX_REGIONS),
        metadata={
            "description": (
                "Grid or region codes (a district, street or community: every grid below it) "
                "of the households it may reach"
            ),
            "example": [],
        },
    )
    programme = fields.String(
        load_default="", validate=validate.Length(max=PROGRAMME_LENGTH), metadata={"example": "大病救助专项基金"}
    )
    expires_on = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "The last day it may be offered"}
    )


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
    restriction = fields.Nested(
        RestrictionIn,
        load_default=None,
        allow_none=True,
        metadata={"description": "Leave out (or null) for unrestricted money (定向/专项: restricted)"},
    )
