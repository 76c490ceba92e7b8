"""Schemas of mobile grid members and their leads: what the API answers. What a reporter
or a caseworker sends is defined once in :mod:`broker.community.lead_schema`."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from broker.api.schemas.common import PageArgs
from broker.api.schemas.receipts import MAX_IMAGE_CHARS, decode_image
from broker.community.lead_schema import CloseIn, LeadIn, LeadVisitIn, ReporterIn
from models.leads import LEAD_STATES

__all__ = ["CloseIn", "LeadVisitIn", "ReporterIn"]


class LeadApiIn(LeadIn):
    photo = fields.String(
        validate=validate.Length(min=1, max=MAX_IMAGE_CHARS),
        metadata={"description": "An optional photo, as base64 or a data: URL (JPEG, PNG, WebP, HEIC)."},
    )

    @post_load
    def _photo(self, data: dict, **_kw: Any) -> dict:
        if "photo" in data:
            data["photo"] = decode_image(data["photo"])
        return data


class ReporterOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    phone = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "courier, neighbour or other"})
    organisation = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class LeadOut(Schema):
    """A lead. A reporter reads what it reported and what came of it (status, when);
    the household found and the reporter's details are for caseworkers and oversight."""

    id = fields.Integer(required=True)
    address = fields.String(required=True)
    community = fields.String(required=True)
    grid = fields.String(allow_none=True, metadata={"description": "The grid's code, once located."})
    seen = fields.String(required=True)
    urgency = fields.String(required=True, metadata={"description": "normal, urgent or critical"})
    has_photo = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"description": "new, visited or closed"})
    status_label = fields.String(required=True, metadata={"description": "The status in the reader's language."})
    close_reason = fields.String(allow_none=True, metadata={"description": "Why it was closed (a code)."})
    reported_at = fields.DateTime(required=True)
    handled_at = fields.DateTime(allow_none=True, metadata={"description": "When it was visited or closed."})
    household_id = fields.Integer(allow_none=True, metadata={"description": "Not shown to reporters."})
    visit_id = fields.Integer(allow_none=True, metadata={"description": "Not shown to reporters."})
    reporter = fields.Nested(ReporterOut, metadata={"description": "Not shown to reporters."})


class LeadListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(LEAD_STATES))
