"""Schemas of aid requests: the list, the detail with offers and timeline, the actions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.input_schema import MAX_ID, InputSchema
from models.assessment import CATEGORIES
from models.requests import REQUEST_STATUSES


class RequestListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
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
    status_reason = fields.String(allow_none=True)
    amount_fen = fields.Integer(allow_none=True)
    accepted_fen = fields.Integer()
    disbursed_fen = fields.Integer()
    respond_by = fields.DateTime()
    rank = fields.Integer()
    reasons = fields.List(fields.String())
    delivery_attempts = fields.Integer()


class TimelineEventOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    event = fields.String(metadata={"example": "request.routed"})
    details = fields.Dict()


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
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    routing_round = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class RequestOut(RequestSummaryOut):
    held_from = fields.String(allow_none=True)
    offers = fields.List(fields.Nested(RequestOfferOut))
    timeline = fields.List(fields.Nested(TimelineEventOut))


class RequestTimelineOut(Schema):
    id = fields.Integer()
    status = fields.String()
    timeline = fields.List(fields.Nested(TimelineEventOut))


class CancelIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "The family moved to another city."},
    )


class HoldIn(InputSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class CompleteIn(InputSchema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
