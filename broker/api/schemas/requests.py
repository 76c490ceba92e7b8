"""Schemas of aid requests: the list, the detail with offers and timeline, the actions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.api.schemas.texts import Said, Text, TextList
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.referral import wording
from broker.referral.assessment import MAX_AMOUNT_FEN
from models.assessment import CATEGORIES
from models.partners import PARTNER_KINDS
from models.requests import REQUEST_STATUSES, REVOKE_REASONS, ROUTING_STATES


class RequestListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    routing_state = fields.String(
        validate=validate.OneOf(ROUTING_STATES),
        metadata={"description": "`unmatched`: the requests no partner could take, for the caseworker to act on."},
    )
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    grid = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "Grid code"})
    household = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Household id"})


class PartnerRef(Schema):
    id = fields.Integer()
    name = fields.String()


class RequestOfferOut(Schema):
    id = fields.Integer()
    partner = fields.Nested(PartnerRef)
    status = fields.String()
    status_reason = fields.String(
        allow_none=True, metadata={"description": "A status code (see `status_note`) or a person's own words"}
    )
    status_note = Text(convert=wording.status_note, attribute="status_reason")
    amount_fen = fields.Integer(allow_none=True)
    accepted_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    respond_by = fields.DateTime()
    rank = fields.Integer()
    reasons = fields.List(Said(), metadata={"description": "Why this partner was asked, as sentences"})
    reason_texts = TextList(attribute="reasons", metadata={"description": "Why this partner was asked"})
    delivery_attempts = fields.Integer()
    more_available = fields.Boolean()


class TimelineEventOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    actor_name = Text(metadata={"description": "Who acted: a user's name (no code) or the broker's process"})
    event = fields.String(metadata={"example": "request.routed"})
    event_name = Text(convert=wording.event, attribute="event", metadata={"description": "What happened, for people"})
    details = fields.Dict()
    amounts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "The money this event is about, once: offered_fen, accepted_fen, paid_fen or released_fen."
        },
    )


class RequestSummaryOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    grid_id = fields.Integer()
    need_id = fields.Integer()
    category = fields.String()
    urgency = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    funded_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    description = fields.String()
    status = fields.String(metadata={"description": "FHIR ServiceRequest status: " + ", ".join(REQUEST_STATUSES)})
    status_reason = fields.String(
        allow_none=True, metadata={"description": "A status code (see `status_note`) or a person's own words"}
    )
    status_note = Text(convert=wording.status_note, attribute="status_reason")
    routing_state = fields.String(metadata={"description": "Where routing stands: " + ", ".join(ROUTING_STATES)})
    routing_reasons = fields.Dict(
        allow_none=True,
        metadata={
            "description": "Why no partner could take it (unmatched): a code, the gap, each partner left out, "
            "and what a policy holds back (held), if anything."
        },
    )
    routing_note = Text(
        convert=wording.unmatched_text,
        attribute="routing_reasons",
        metadata={"description": "Why no partner could take it (unmatched)"},
    )
    routing_excluded = TextList(
        convert=wording.excluded_texts,
        attribute="routing_reasons",
        metadata={"description": "Each partner left out and why (unmatched)"},
    )
    auto_retry = fields.Boolean()
    routing_round = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class HoldPolicyRef(Schema):
    code = fields.String(metadata={"example": "medical_aid"})
    version = fields.String()
    name = fields.String(metadata={"example": "医疗救助"})
    name_en = fields.String(metadata={"example": "Medical assistance"})


class HoldApplicationRef(Schema):
    id = fields.Integer()
    status = fields.String()


class PolicyHoldOut(Schema):
    id = fields.Integer()
    policy = fields.Nested(HoldPolicyRef)
    amount_fen = fields.Integer(metadata={"description": "What the policy is expected to pay of the need, fen"})
    status = fields.String(
        metadata={
            "description": "held (charities are not offered it while the application is undecided), covered "
            "(the application was approved), released (rejected or withdrawn: routed to charities), overridden "
            "(the caseworker routed the need in full)"
        }
    )
    application = fields.Nested(
        HoldApplicationRef,
        allow_none=True,
        metadata={"description": "The application it waits for, or that decided it"},
    )
    reason = fields.String(metadata={"description": "The caseworker's reason for an override"})
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    note = Text(metadata={"description": "What the hold means now"})


class RequestOut(RequestSummaryOut):
    held_from = fields.String(allow_none=True)
    policy_held_fen = fields.Integer(
        metadata={"description": "Held back for government policies while their applications are undecided"}
    )
    policy_covered_fen = fields.Integer(metadata={"description": "Covered by approved government policies"})
    policy_holds = fields.List(
        fields.Nested(PolicyHoldOut), metadata={"description": "Policy before charity: what policies hold or cover"}
    )
    offers = fields.List(fields.Nested(RequestOfferOut))
    timeline = fields.List(fields.Nested(TimelineEventOut))


class RequestTimelineOut(Schema):
    id = fields.Integer()
    status = fields.String()
    timeline = fields.List(fields.Nested(TimelineEventOut))


class RevokeIn(InputSchema):
    reason_code = fields.String(
        required=True,
        validate=validate.OneOf(REVOKE_REASONS),
        metadata={"description": "Why the request is withdrawn.", "example": "family_moved"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class RequestPatchIn(InputSchema):
    auto_retry = fields.Boolean(
        required=True,
        metadata={"description": "Route again by itself when a partner or fund that could take it appears."},
    )


class ReferIn(InputSchema):
    partner_id = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "An organisation on file (adapter `manual`)."},
    )
    organisation = fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"description": "Or the organisation's name: a light partner record is made for it when new."},
    )
    kind = fields.String(load_default="social_org", validate=validate.OneOf(PARTNER_KINDS))
    contact = fields.String(load_default="", validate=validate.Length(max=120))
    amount_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={
            "description": "For a money request: what the organisation is asked for (default: what is uncovered)."
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ReferralOutcomeIn(InputSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("accepted", "declined", "completed")))
    amount_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={"description": "For money: what the organisation took on (default: all referred)."},
    )
    paid_fen = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
        metadata={"description": "For money, on completion: what it paid the family."},
    )
    reference = fields.String(load_default="", validate=validate.Length(max=100))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class HoldIn(InputSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class PolicyOverrideIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={
            "description": "Why the need cannot wait for the policy's decision (recorded on the timeline).",
            "example": "化疗下周开始，医院要求先交押金",
        },
    )


class CompleteIn(InputSchema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
