"""Schemas of special groups, care plans, their contacts and the care figures."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.assessments import NeedIn
from broker.api.schemas.common import PageArgs
from broker.community.camps import MAX_ATTENDEES
from broker.community.care_contacts import MAX_TEXT
from broker.community.care_plans import MAX_CARERS, MAX_REASON
from broker.platform.input_schema import MAX_ID, InputSchema
from models.care import CARER_ROLES, CONTACT_CHANNELS, PLAN_KINDS, PLAN_STATUSES, SCHEDULE_DAYS
from models.special_groups import END_REASONS, GROUP_SOURCES, SPECIAL_GROUPS

ID = validate.Range(min=1, max=MAX_ID)
GROUPS = f"One of {', '.join(SPECIAL_GROUPS)}."


class SpecialGroupIn(InputSchema):
    member_id = fields.Integer(required=True, strict=True, validate=ID)
    group = fields.String(
        required=True,
        validate=validate.OneOf(SPECIAL_GROUPS),
        metadata={"description": GROUPS, "example": "left_behind_child"},
    )
    source = fields.String(
        required=True,
        validate=validate.OneOf(GROUP_SOURCES),
        metadata={"description": f"How it is known: one of {', '.join(GROUP_SOURCES)}.", "example": "visit"},
    )
    known_on = fields.Date(load_default=None, metadata={"description": "The day it became known (default today)."})


class SpecialGroupOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String(allow_none=True)
    group = fields.String(metadata={"description": GROUPS})
    source = fields.String()
    known_on = fields.Date()
    ended_on = fields.Date(allow_none=True, metadata={"description": "The day the member left the group, if so."})
    end_reason = fields.String(allow_none=True, metadata={"description": f"Why: one of {', '.join(END_REASONS)}."})
    recorded_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class SpecialGroupEndIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(END_REASONS),
        metadata={"description": f"Why the member left the group: one of {', '.join(END_REASONS)}."},
    )
    ended_on = fields.Date(load_default=None, metadata={"description": "The day it ended (default today)."})


class SpecialGroupEndOut(SpecialGroupOut):
    care_plans_ended = fields.List(
        fields.Integer(), metadata={"description": "The member's care plans of the group, ended with it."}
    )


class SpecialGroupListOut(Schema):
    items = fields.List(fields.Nested(SpecialGroupOut), required=True)


class CarerIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "李老师"})
    role = fields.String(required=True, validate=validate.OneOf(CARER_ROLES), metadata={"example": "mentor"})
    phone = fields.String(load_default="", validate=validate.Length(max=30), metadata={"example": "139 0000 1234"})
    organisation = fields.String(load_default="", validate=validate.Length(max=120), metadata={"example": "县一中"})
    partner_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"description": "The partner the carer's organisation is, if any: its users then see the plan."},
    )


class CarePlanIn(InputSchema):
    household_id = fields.Integer(required=True, strict=True, validate=ID)
    member_id = fields.Integer(required=True, strict=True, validate=ID)
    group = fields.String(required=True, validate=validate.OneOf(SPECIAL_GROUPS), metadata={"description": GROUPS})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(PLAN_KINDS),
        metadata={"description": "mentor (a mentor) or doctor_volunteer (a family doctor and a volunteer)."},
    )
    schedule = fields.String(
        required=True, validate=validate.OneOf(tuple(SCHEDULE_DAYS)), metadata={"example": "weekly"}
    )
    starts_on = fields.Date(
        load_default=None, metadata={"description": "Default today; the first contact is due a schedule later."}
    )
    carers = fields.List(fields.Nested(CarerIn), required=True, validate=validate.Length(min=1, max=MAX_CARERS))


class CarerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    phone = fields.String()
    organisation = fields.String()
    partner_id = fields.Integer(allow_none=True)


class PlanHouseholdOut(Schema):
    label = fields.String(
        metadata={"description": "The head's name, or 王** for a partner without the family's consent."}
    )
    community = fields.String()
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class CarePlanOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String(allow_none=True, metadata={"description": "Left out for a partner without consent."})
    household = fields.Nested(PlanHouseholdOut)
    group = fields.String()
    kind = fields.String()
    schedule = fields.String()
    status = fields.String(metadata={"description": f"One of {', '.join(PLAN_STATUSES)}."})
    starts_on = fields.Date()
    next_due_at = fields.DateTime(metadata={"description": "When the next contact is due."})
    carers = fields.List(fields.Nested(CarerOut))
    created_at = fields.DateTime()


class CarePlanListArgs(PageArgs):
    household_id = fields.Integer(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(PLAN_STATUSES))


class CareContactIn(InputSchema):
    carer_id = fields.Integer(required=True, strict=True, validate=ID, metadata={"description": "A carer on the plan."})
    contacted_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Default now; never in the future."}
    )
    channel = fields.String(required=True, validate=validate.OneOf(CONTACT_CHANNELS), metadata={"example": "visit"})
    summary = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT), metadata={"example": "辅导作业"})
    concerns = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": "Concerns raised: the caseworkers are told.", "example": "孩子最近情绪低落"},
    )
    new_need = fields.Nested(
        NeedIn,
        load_default=None,
        allow_none=True,
        metadata={"description": "Caseworkers only: open a need for a concern (a new needs assessment)."},
    )


class CareContactOut(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    carer_id = fields.Integer()
    contacted_at = fields.DateTime()
    channel = fields.String()
    summary = fields.String()
    concerns = fields.String()
    due_at = fields.DateTime(metadata={"description": "The due date the contact answered."})
    on_time = fields.Boolean()
    new_assessment_id = fields.Integer(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class CareContactListOut(Schema):
    items = fields.List(fields.Nested(CareContactOut), required=True)


class CareCoverageArgs(InputSchema):
    group = fields.String(load_default=None, validate=validate.OneOf(SPECIAL_GROUPS))


class UncoveredOut(Schema):
    grid = fields.String()
    household_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    address = fields.String()
    group = fields.String()
    source = fields.String()
    known_on = fields.Date()


class GridCareOut(Schema):
    grid = fields.String()
    in_group = fields.Dict(keys=fields.String(), values=fields.Integer())
    without_plan = fields.Dict(keys=fields.String(), values=fields.Integer())


class CareFiguresOut(Schema):
    children_mentored = fields.Integer()
    contacts_due = fields.Integer(metadata={"description": "Contacts made (on time or late) and missed."})
    contacts_on_time = fields.Integer()
    contacts_late = fields.Integer()
    contacts_missed = fields.Integer()
    regularity_pct = fields.Float(allow_none=True, metadata={"description": "On time ÷ due, in %."})
    elderly_alone = fields.Integer()
    elderly_alone_cared = fields.Integer(metadata={"description": "With an active doctor-and-volunteer plan."})
    camp_attendances = fields.Integer()
    in_group = fields.Dict(keys=fields.String(), values=fields.Integer())
    without_plan = fields.Dict(keys=fields.String(), values=fields.Integer())
    grids = fields.List(fields.Nested(GridCareOut))


class CareCoverageOut(Schema):
    counts = fields.Nested(CareFiguresOut)
    items = fields.List(fields.Nested(UncoveredOut), required=True)


class CareReportArgs(InputSchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "xlsx")),
        metadata={"description": "json, or xlsx (a workbook that opens in Excel)"},
    )


class CampIn(InputSchema):
    grid = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "HD-ZGC-01"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "周末成长营"})
    held_on = fields.Date(required=True, metadata={"description": "The day it was held (not in the future)."})
    notes = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    plan_ids = fields.List(
        fields.Integer(strict=True, validate=ID),
        load_default=list,
        validate=validate.Length(max=MAX_ATTENDEES),
        metadata={"description": "The mentor plans (on this grid) of the children who came."},
    )


class CampOut(Schema):
    id = fields.Integer()
    grid = fields.String()
    title = fields.String()
    held_on = fields.Date()
    notes = fields.String()
    plan_ids = fields.List(fields.Integer())
    attendance = fields.Integer()
    created_at = fields.DateTime()


class EndPlanIn(InputSchema):
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_REASON), metadata={"example": "孩子父母返乡，随父母生活"}
    )
