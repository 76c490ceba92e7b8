"""Schemas of consent records: what a member (or a minor's guardian) agreed to, and
its withdrawal."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.texts import Text
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.registry import consent_records
from broker.registry.consents import PURPOSES
from models.partners import PARTNER_KINDS

_ID = validate.Range(min=1, max=MAX_ID)


class ConsentIn(InputSchema):
    member_id = fields.Integer(
        required=True, validate=_ID, metadata={"description": "The member the consent is about."}
    )
    purpose = fields.String(
        required=True,
        validate=validate.OneOf(PURPOSES),
        metadata={
            "description": "share_with_partners (their names reach partners), public_notice (named in a "
            "public notice), sms (messages to the family), points (family volunteer points), "
            "volunteer_contact (volunteers may contact them)."
        },
    )
    guardian_member_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=_ID,
        metadata={"description": "Required for a minor: the adult member of the household who agrees for them."},
    )
    partner_kinds = fields.List(
        fields.String(validate=validate.OneOf(PARTNER_KINDS)),
        load_default=list,
        validate=validate.Length(max=len(PARTNER_KINDS)),
        metadata={"description": "share_with_partners only: the kinds of partner it covers (empty: every kind)."},
    )
    evidence = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Where the signed consent form is: its number or file reference."},
    )


class WithdrawIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=consent_records.REASON_MAX),
        metadata={"description": "Why the family withdraws it (goes on the record)."},
    )


class ConsentOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    member_id = fields.Integer(allow_none=True, metadata={"description": "null: the head, from before records"})
    guardian_member_id = fields.Integer(allow_none=True)
    purpose = fields.String()
    partner_kinds = fields.List(fields.String())
    evidence = fields.String(metadata={"description": "The reference as recorded"})
    evidence_note = Text(convert=consent_records.evidence_text, attribute="evidence")
    has_photo = fields.Function(lambda c: bool(c.evidence_token))
    recorded_by = fields.String()
    recorded_at = fields.DateTime()
    current = fields.Function(lambda c: c.withdrawn_at is None)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_by = fields.String(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
