"""Schemas of follow-up visits (回访): what the caseworker records, and the visit out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.assessments import NeedIn
from broker.platform.input_schema import InputSchema
from broker.referral.followup_visits import MAX_NOTES
from models.followups import FOLLOW_UP_STATUSES, NEED_MET


class FollowUpIn(InputSchema):
    need_met = fields.String(
        required=True,
        validate=validate.OneOf(NEED_MET),
        metadata={"description": "Is the need met: yes, partly or no.", "example": "yes"},
    )
    satisfaction = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "The family's satisfaction, 1 (not at all) to 5 (fully).", "example": 5},
    )
    notes = fields.String(load_default="", validate=validate.Length(max=MAX_NOTES), metadata={"example": "药费已报销"})
    new_need = fields.Nested(
        NeedIn,
        load_default=None,
        allow_none=True,
        metadata={"description": "A new need the visit found: it starts a new needs assessment in the same step."},
    )
    confirm_duplicate = fields.Boolean(
        load_default=False,
        metadata={"description": "Record the new need even if identical to one recorded in the last 24 hours."},
    )


class FollowUpOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    request_id = fields.Integer()
    category = fields.String()
    status = fields.String(metadata={"description": f"One of {', '.join(FOLLOW_UP_STATUSES)}"})
    due_at = fields.DateTime()
    overdue = fields.Boolean(metadata={"description": "Its day has passed and nothing is recorded yet."})
    notified_at = fields.DateTime(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    need_met = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    notes = fields.String()
    new_assessment_id = fields.Integer(allow_none=True)


class FollowUpListOut(Schema):
    items = fields.List(fields.Nested(FollowUpOut))
