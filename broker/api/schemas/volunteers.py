"""Schemas of volunteers, teams, tasks and their service: what the API answers. What a
volunteer or a leader sends is defined once in :mod:`broker.community.volunteer_schema`."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.api.schemas.money import PeriodArgs
from broker.api.schemas.outcomes import ComparisonOut, PeriodOut
from broker.community.volunteer_schema import TaskIn, VolunteerIn
from broker.platform.input_schema import InputSchema
from models.volunteers import TASK_CANCEL_REASONS, TASK_STATES, VOLUNTEER_STATES

__all__ = ["TaskIn", "VolunteerIn"]


class VolunteerOut(Schema):
    id = fields.Integer(required=True)
    team_id = fields.Integer(required=True)
    team = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(required=True)
    skills = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    availability = fields.String(required=True)
    grids = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"description": "pending, active or rejected"})
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)


class VolunteerListArgs(PageArgs):
    team = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(VOLUNTEER_STATES))


class SignUpDecisionIn(InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    reason = fields.String(validate=validate.Length(max=200))


class CertificatePeriodArgs(PeriodArgs):
    pass


class TeamOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    regions = fields.List(fields.String(), required=True)


class ClaimOut(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    volunteer_id = fields.Integer(required=True)
    volunteer = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "claimed, checked_in, checked_out, confirmed"})
    claimed_at = fields.DateTime(required=True)
    checked_in_at = fields.DateTime(allow_none=True)
    checked_out_at = fields.DateTime(allow_none=True)
    minutes = fields.Integer(allow_none=True)


class TaskOut(Schema):
    id = fields.Integer(required=True)
    team_id = fields.Integer(required=True)
    offer_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    place = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    slots = fields.Integer(required=True)
    claimed = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "open, done or cancelled"})
    first_claim_at = fields.DateTime(
        allow_none=True, metadata={"description": "The earliest claim that stands (a withdrawn one does not)."}
    )
    done_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True, metadata={"description": "Why the leader cancelled it (a code)."})
    claims = fields.List(fields.Nested(ClaimOut), required=True)


class TaskListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TASK_STATES))


class CancelTaskIn(InputSchema):
    reason = fields.String(required=True, validate=validate.OneOf(TASK_CANCEL_REASONS))


class ConfirmIn(InputSchema):
    method = fields.String(
        required=True,
        validate=validate.OneOf(("caseworker", "code", "leader")),
        metadata={
            "description": "caseworker: the family's caseworker records it; code: the volunteer types the "
            "code the family got by SMS; leader: the team's own task, with no family."
        },
    )
    code = fields.String(validate=validate.Regexp(r"^\d{6}$", error="six digits"))


class ServiceRecordOut(Schema):
    id = fields.Integer(required=True)
    volunteer_id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    content = fields.String(required=True)
    place = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True)
    minutes = fields.Integer(required=True)
    method = fields.String(required=True)
    verified_at = fields.DateTime(required=True)


class ConfirmedOut(Schema):
    task = fields.Nested(TaskOut, required=True)
    records = fields.List(fields.Nested(ServiceRecordOut), required=True)


class ServiceCodeSentOut(Schema):
    task_id = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True)
    phone = fields.String(required=True, metadata={"description": "The family's number, masked."})


class FiguresArgs(PeriodArgs):
    district = fields.String(validate=validate.Length(min=1, max=80))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class CommunityRowOut(Schema):
    community = fields.String(required=True)
    teams = fields.Integer(required=True)
    volunteers = fields.Integer(required=True)
    minutes = fields.Integer(required=True)
    person_times = fields.Integer(required=True)


class TotalsOut(Schema):
    teams = fields.Integer(required=True)
    volunteers = fields.Integer(required=True, metadata={"description": "With at least one confirmed service"})
    minutes = fields.Integer(required=True)
    person_times = fields.Integer(required=True, metadata={"description": "Confirmed service records"})
    hours_to_claim = fields.Float(allow_none=True, metadata={"description": "Median, request to first claim"})
    hours_to_done = fields.Float(allow_none=True, metadata={"description": "Median, request to task done"})
    rows = fields.List(fields.Nested(CommunityRowOut), required=True)


class FiguresOut(Schema):
    period = fields.Nested(PeriodOut, required=True)
    previous_period = fields.Nested(PeriodOut, required=True)
    current = fields.Nested(TotalsOut, required=True)
    previous = fields.Nested(TotalsOut, required=True)
    to_claim = fields.Nested(
        ComparisonOut, required=True, metadata={"description": "improvement_pct: the response efficiency change"}
    )
    to_done = fields.Nested(ComparisonOut, required=True)
