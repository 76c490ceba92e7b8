"""Schemas of needs assessments: the needs in, each need with the request it became out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from broker.platform.input_schema import InputSchema
from broker.referral.assessment import MAX_AMOUNT_FEN, MAX_NEEDS, MONEY_CATEGORIES
from models.assessment import CATEGORIES, URGENCIES


class NeedIn(InputSchema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES), metadata={"example": "medical"})
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES), metadata={"example": "critical"})
    amount_fen = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={
            "description": "In fen (1 yuan = 100 fen). Required for living, medical, schooling and emergency needs.",
            "example": 3000000,
        },
    )
    description = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"example": "Son (12) in hospital with acute leukaemia; chemotherapy costs not covered."},
    )

    @validates_schema
    def _amount_for_money(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("category") in MONEY_CATEGORIES and data.get("amount_fen") is None:
            raise ValidationError(f"required for {data['category']} needs", field_name="amount_fen")


class AssessmentIn(InputSchema):
    summary = fields.String(load_default="", validate=validate.Length(max=4000))
    needs = fields.List(fields.Nested(NeedIn), required=True, validate=validate.Length(min=1, max=MAX_NEEDS))
    confirm_duplicate = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Record the needs even though one is identical (category, amount, description) to a "
            "request recorded for this household in the last 24 hours; without it that is a 409 "
            "`possible_duplicate` naming the earlier request."
        },
    )


class NeedOut(Schema):
    id = fields.Integer()
    category = fields.String()
    urgency = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    description = fields.String()
    request_id = fields.Integer(allow_none=True)
    request_status = fields.String(allow_none=True)
    routing_state = fields.String(allow_none=True)


class AssessmentOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    assessed_by_id = fields.Integer(allow_none=True)
    summary = fields.String()
    created_at = fields.DateTime()
    needs = fields.List(fields.Nested(NeedOut))


class AssessmentListOut(Schema):
    items = fields.List(fields.Nested(AssessmentOut))
