"""Schemas of offers (a partner's inbox), partner answers and disbursements."""

from __future__ import annotations

import re
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates
from werkzeug.datastructures import FileStorage

from broker.api.schemas.common import PageArgs
from broker.assessment import MAX_AMOUNT_FEN
from broker.input_schema import MAX_ID, InputSchema
from broker.offers import DISBURSEMENT_KINDS
from models.assessment import CATEGORIES
from models.requests import OFFER_STATUSES

Fen = validate.Range(min=1, max=MAX_AMOUNT_FEN)


class OfferListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    partner = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Partner id (admins and auditors)"}
    )


class OfferOut(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    partner = fields.Method("_partner", metadata={"description": "{id, name}"})
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    category = fields.String()
    urgency = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    accepted_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    respond_by = fields.DateTime()
    community = fields.String()
    household = fields.String(metadata={"description": "The family's name only if it consented; else 张**"})
    description = fields.String()
    reasons = fields.List(fields.String())
    created_at = fields.DateTime()

    def _partner(self, item: Any) -> dict:
        return {"id": item.partner_id, "name": item.partner_name}


class AcceptIn(InputSchema):
    amount_fen = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=Fen,
        metadata={"description": "Accept less than offered (fen); default: all of it."},
    )


class RejectIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "Our medical fund is closed until next quarter."},
    )


class OfferCompleteIn(InputSchema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    more_available = fields.Boolean(
        load_default=False,
        metadata={"description": "You can give more for this request: ask you again for what is left."},
    )


class DisbursementIn(InputSchema):
    amount_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_AMOUNT_FEN),
        metadata={"description": "Fen paid out; 0 for goods or a service with no money value recorded."},
    )
    kind = fields.String(required=True, validate=validate.OneOf(DISBURSEMENT_KINDS))
    reference = fields.String(load_default="", validate=validate.Length(max=120), metadata={"example": "BANK-20261201"})


class DisbursementForm(DisbursementIn):
    """The same fields sent as multipart/form-data, with an optional ``evidence`` file."""

    evidence = Upload(load_default=None, metadata={"description": "A receipt or signed delivery note."})

    @validates("evidence")
    def _a_file(self, value: Any, **_kw: Any) -> None:
        if value is not None and not isinstance(value, FileStorage):
            raise ValidationError("must be a file (a multipart file field), not text")

    @pre_load
    def _form_numbers(self, data: Any, **_kw: Any) -> Any:
        value = data.get("amount_fen") if hasattr(data, "get") else None
        if isinstance(value, str) and re.fullmatch(r"\d{1,15}", value.strip()):
            data = {**data, "amount_fen": int(value.strip())}
        return data


class EvidenceOut(Schema):
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class DisbursementOut(Schema):
    id = fields.Integer()
    offer_id = fields.Integer()
    request_id = fields.Integer()
    partner_id = fields.Integer()
    amount_fen = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    evidence = fields.Nested(EvidenceOut, allow_none=True)
    transaction_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class DisbursementListOut(Schema):
    items = fields.List(fields.Nested(DisbursementOut))
