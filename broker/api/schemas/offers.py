"""Schemas of offers (a partner's inbox), partner answers and disbursements."""

from __future__ import annotations

import json
import re
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates
from werkzeug.datastructures import FileStorage

from broker.api.schemas.common import PageArgs
from broker.api.schemas.texts import Said, Text, TextList
from broker.money.disbursement_kinds import (
    DELIVERED_BY_MAX,
    DISBURSEMENT_KINDS,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_SESSION_MINUTES,
    NAME_MAX,
    NOTES_MAX,
    REFERENCE_MAX,
    UNIT_MAX,
    quantity,
)
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.referral import wording
from broker.referral.assessment import MAX_AMOUNT_FEN
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
    status_reason = fields.String(
        allow_none=True, metadata={"description": "A status code (see `status_note`) or a person's own words"}
    )
    status_note = Text(convert=wording.status_note, attribute="status_reason")
    category = fields.String()
    kind = fields.String(
        metadata={
            "description": "money (paid out, pledged from your fund on accepting), service (sessions) or in_kind "
            "(goods); only money moves in the ledger."
        }
    )
    urgency = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    accepted_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    respond_by = fields.DateTime()
    community = fields.String()
    household = fields.String(metadata={"description": "The family's name only if it consented; else 张** (English)"})
    household_name = Text(metadata={"description": "The same for people: 张**家 / 张** household"})
    description = fields.String()
    reasons = fields.List(Said(), metadata={"description": "Why your organisation was asked, as sentences"})
    reason_texts = TextList(attribute="reasons", metadata={"description": "Why your organisation was asked"})
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


class _DisbursementBase(InputSchema):
    kind = fields.String(
        validate=validate.OneOf(DISBURSEMENT_KINDS),
        metadata={"description": "Optional: cash, service or in_kind — must match the offer's kind when sent."},
    )
    reference = fields.String(
        load_default="",
        validate=validate.Length(max=REFERENCE_MAX),
        metadata={
            "description": "Voucher, transfer or delivery-note number; unique per partner (a repeat is a 409 "
            "`duplicate_reference` naming the first disbursement).",
            "example": "BANK-20261201",
        },
    )


class DisbursementIn(_DisbursementBase):
    """Money paid out (an offer whose request names an amount)."""

    amount_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={"description": "Fen paid out, at most what remains of what you accepted.", "example": 100000},
    )


class ServiceSessionIn(_DisbursementBase):
    """A session of a service (counselling, job support): no money moves."""

    date = fields.Date(required=True, metadata={"description": "The day of the session.", "example": "2026-12-01"})
    hours = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=MAX_SESSION_MINUTES // 60, min_inclusive=False),
        metadata={"description": "Its length in hours, in whole minutes (1.5 = 90 min); at most 24.", "example": 1.5},
    )
    delivered_by = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=DELIVERED_BY_MAX), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"description": "Who gave the session.", "example": "王老师（心理咨询师）"},
    )
    notes = fields.String(load_default="", validate=validate.Length(max=NOTES_MAX))

    @post_load
    def _minutes(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        minutes = data.pop("hours") * 60
        if abs(minutes - round(minutes)) > 1e-6:
            raise ValidationError("in whole minutes, e.g. 0.5, 0.75 or 1.5", field_name="hours")
        data["minutes"] = round(minutes)
        data["session_date"] = data.pop("date")
        return data


class ItemIn(InputSchema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=NAME_MAX), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "大米"},
    )
    quantity = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=int(MAX_QUANTITY), min_inclusive=False),
        metadata={"description": "Above 0, at most three decimals.", "example": 10},
    )
    unit = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=UNIT_MAX), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "kg"},
    )

    @post_load
    def _number(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        try:
            data["quantity"] = quantity(data["quantity"])
        except ValueError as exc:
            raise ValidationError(str(exc), field_name="quantity") from None
        return data


class ItemDeliveryIn(_DisbursementBase):
    """Goods handed over (an in-kind offer): no money moves."""

    items = fields.List(fields.Nested(ItemIn), required=True, validate=validate.Length(min=1, max=MAX_ITEMS))
    notes = fields.String(load_default="", validate=validate.Length(max=NOTES_MAX))


class _FormFields:
    """The multipart/form-data variant: strings become numbers, ``items`` is JSON text, and
    an optional ``evidence`` file rides along."""

    evidence = Upload(load_default=None, metadata={"description": "A receipt or signed delivery note."})

    @validates("evidence")
    def _a_file(self, value: Any, **_kw: Any) -> None:
        if value is not None and not isinstance(value, FileStorage):
            raise ValidationError("must be a file (a multipart file field), not text")

    @pre_load
    def _form_values(self, data: Any, **_kw: Any) -> Any:
        if not hasattr(data, "get"):
            return data
        data = dict(data)
        value = data.get("amount_fen")
        if isinstance(value, str) and re.fullmatch(r"\d{1,15}", value.strip()):
            data["amount_fen"] = int(value.strip())
        items = data.get("items")
        if isinstance(items, str):
            try:
                data["items"] = json.loads(items)
            except ValueError:
                raise ValidationError("a JSON list of {name, quantity, unit}", field_name="items") from None
        return data


class DisbursementForm(_FormFields, DisbursementIn):
    """Money, sent as multipart/form-data with an optional ``evidence`` file."""


class ServiceSessionForm(_FormFields, ServiceSessionIn):
    """A session, sent as multipart/form-data with an optional ``evidence`` file."""


class ItemDeliveryForm(_FormFields, ItemDeliveryIn):
    """Goods, sent as multipart/form-data (``items`` as JSON text) with an optional ``evidence`` file."""


class AnyDisbursementForm(_DisbursementBase):
    """How the multipart/form-data body is documented: which fields apply follows the
    offer's kind (money: amount_fen; service: date, hours, delivered_by, notes; in_kind:
    items as JSON text, notes), with an optional ``evidence`` file for any kind."""

    amount_fen = fields.Integer(validate=validate.Range(min=1, max=MAX_AMOUNT_FEN))
    date = fields.Date()
    hours = fields.Float(validate=validate.Range(min=0, max=MAX_SESSION_MINUTES // 60, min_inclusive=False))
    delivered_by = fields.String(validate=validate.Length(min=1, max=DELIVERED_BY_MAX))
    notes = fields.String(validate=validate.Length(max=NOTES_MAX))
    items = fields.String(metadata={"description": 'JSON text: [{"name": "大米", "quantity": 10, "unit": "kg"}]'})
    evidence = Upload(metadata={"description": "A receipt or signed delivery note."})


# The body each kind of offer takes, as JSON and as multipart/form-data.
DISBURSEMENT_BODIES = {
    "money": (DisbursementIn, DisbursementForm),
    "service": (ServiceSessionIn, ServiceSessionForm),
    "in_kind": (ItemDeliveryIn, ItemDeliveryForm),
}


class EvidenceOut(Schema):
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class ItemOut(Schema):
    name = fields.String()
    quantity = fields.Raw(metadata={"type": "number"})
    unit = fields.String()


class DisbursementOut(Schema):
    id = fields.Integer()
    offer_id = fields.Integer()
    request_id = fields.Integer()
    partner_id = fields.Integer()
    amount_fen = fields.Integer(metadata={"description": "Money paid out; 0 for a service session or goods."})
    kind = fields.String(metadata={"description": "cash, service or in_kind"})
    reference = fields.String()
    date = fields.Date(attribute="session_date", allow_none=True, metadata={"description": "Service: the day."})
    hours = fields.Method("_hours", allow_none=True, metadata={"type": "number", "description": "Service: length."})
    delivered_by = fields.String(metadata={"description": "Service: who gave the session."})
    notes = fields.String()
    items = fields.List(fields.Nested(ItemOut), allow_none=True, metadata={"description": "Goods handed over."})
    evidence = fields.Nested(EvidenceOut, allow_none=True)
    transaction_id = fields.Integer(allow_none=True, metadata={"description": "The ledger transaction (money only)."})
    created_at = fields.DateTime()

    def _hours(self, row: Any) -> float | None:
        return None if row.minutes is None else round(row.minutes / 60, 2)


class DisbursementListOut(Schema):
    items = fields.List(fields.Nested(DisbursementOut))
