"""Receipts (签收): how the family confirms a disbursement, and the reconciliation report."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from broker.api.schemas.money import PeriodArgs
from broker.platform.input_schema import InputSchema

# A photo of up to ~7 MB fits the request limit once base64-encoded.
MAX_IMAGE_CHARS = 10_000_000


def decode_image(value: str) -> bytes:
    """The bytes of a base64 image, bare or as a ``data:image/…;base64,`` URL (a canvas's)."""
    text = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("not base64 (send the image as base64 or a data: URL)") from None


class ReceiptIn(InputSchema):
    method = fields.String(
        required=True,
        validate=validate.OneOf(("signature", "photo", "code")),
        metadata={"description": "signature: drawn on screen; photo: the signed slip; code: the SMS code."},
    )
    image = fields.String(
        validate=validate.Length(min=1, max=MAX_IMAGE_CHARS),
        metadata={"description": "signature / photo: the image as base64 or a data: URL (PNG, JPEG, WebP, HEIC)."},
    )
    code = fields.String(
        validate=validate.Regexp(r"^\d{6}$", error="six digits"),
        metadata={"description": "code: the six digits sent to the family's phone.", "example": "042917"},
    )

    @validates_schema
    def _what_the_method_needs(self, data: dict, **_kw: Any) -> None:
        if data.get("method") == "code":
            if "code" not in data:
                raise ValidationError("the code sent to the family", field_name="code")
            if "image" in data:
                raise ValidationError("not with a code", field_name="image")
        elif data.get("method") in ("signature", "photo"):
            if "image" not in data:
                raise ValidationError("the signature or photo", field_name="image")
            if "code" in data:
                raise ValidationError("only with method code", field_name="code")
            data["image"] = decode_image(data["image"]) if isinstance(data["image"], str) else data["image"]


class ReceiptOut(Schema):
    id = fields.Integer(required=True)
    disbursement_id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    household_id = fields.Integer(required=True)
    method = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    has_image = fields.Boolean(required=True)


class CodeSentOut(Schema):
    disbursement_id = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True)
    phone_hint = fields.String(required=True, metadata={"example": "138****8000"})


class ReconciliationArgs(PeriodArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class ReconRowOut(Schema):
    partner_id = fields.Integer(required=True)
    partner = fields.String(required=True)
    fund = fields.String(required=True)
    receipt_within_days = fields.Integer(required=True)
    planned_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    paid_count = fields.Integer(required=True)
    received_fen = fields.Integer(required=True)
    received_count = fields.Integer(required=True)
    unreceived_fen = fields.Integer(required=True)
    overdue_count = fields.Integer(required=True)


class ReconTotalsOut(Schema):
    planned_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    paid_count = fields.Integer(required=True)
    received_fen = fields.Integer(required=True)
    received_count = fields.Integer(required=True)
    unreceived_fen = fields.Integer(required=True)
    overdue_count = fields.Integer(required=True)


class ReconciliationOut(Schema):
    date_from = fields.Date(allow_none=True, data_key="from")
    date_to = fields.Date(allow_none=True, data_key="to")
    rows = fields.List(fields.Nested(ReconRowOut), required=True)
    totals = fields.Nested(ReconTotalsOut, required=True)
