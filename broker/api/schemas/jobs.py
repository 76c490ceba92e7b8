"""Schemas of openings, courses, enrolments, placements and their follow-ups, home-based
orders and earnings, job matches and the jobs figures."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.community.openings import MAX_TEXT
from broker.community.placements import MAX_NOTES
from broker.platform.input_schema import MAX_ID, MAX_INCOME_FEN, InputSchema
from models.jobs import (
    ENROLMENT_STATUSES,
    OPEN_STATUSES,
    OPENING_KINDS,
    PAY_UNITS,
    PLACEMENT_STATUSES,
)

ID = validate.Range(min=1, max=MAX_ID)
FEN = validate.Range(min=0, max=MAX_INCOME_FEN)
COUNT = validate.Range(min=1, max=100_000)


def _bool(**kw: object) -> fields.Boolean:
    """true or false, nothing else read as one."""
    return fields.Boolean(truthy={True}, falsy={False}, **kw)


class OpeningIn(InputSchema):
    partner_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"description": "An admin names the company or workshop it posts for; a partner posts its own."},
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "刺绣计件"})
    kind = fields.String(required=True, validate=validate.OneOf(OPENING_KINDS), metadata={"example": "handicraft"})
    skill = fields.String(
        load_default="",
        validate=validate.Length(max=60),
        metadata={"description": "The skill it asks for (a course teaches it), if any.", "example": "刺绣"},
    )
    grid = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    district = fields.String(load_default="", validate=validate.Length(max=80), metadata={"example": "泾川县"})
    hours_per_week = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=84))
    pay_fen = fields.Integer(required=True, strict=True, validate=FEN, metadata={"example": 150000})
    pay_unit = fields.String(load_default="month", validate=validate.OneOf(PAY_UNITS))
    flexible = _bool(load_default=False)
    home_based = _bool(load_default=False)
    positions = fields.Integer(required=True, strict=True, validate=COUNT)
    description = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class JobPlaceOut(Schema):
    grid = fields.String(allow_none=True)
    community = fields.String(allow_none=True)
    district = fields.String(allow_none=True, metadata={"description": "None with no grid: anywhere."})


class OpeningOut(Schema):
    id = fields.Integer()
    partner_id = fields.Integer()
    partner = fields.String()
    title = fields.String()
    kind = fields.String(metadata={"description": f"One of {', '.join(OPENING_KINDS)}."})
    skill = fields.String()
    place = fields.Nested(JobPlaceOut)
    hours_per_week = fields.Integer()
    pay_fen = fields.Integer()
    pay_unit = fields.String(metadata={"description": f"One of {', '.join(PAY_UNITS)}."})
    flexible = fields.Boolean()
    home_based = fields.Boolean()
    positions = fields.Integer()
    filled = fields.Integer()
    free = fields.Integer()
    status = fields.String(metadata={"description": f"One of {', '.join(OPEN_STATUSES)}."})
    description = fields.String()
    created_at = fields.DateTime()


class OpeningListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(OPEN_STATUSES))
    home_based = _bool(load_default=None)
    partner_id = fields.Integer(load_default=None, validate=ID)


class CourseIn(InputSchema):
    partner_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)
    title = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "陇绣入门"})
    skill = fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "刺绣"})
    teacher = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "非遗传承人"})
    schedule = fields.String(load_default="", validate=validate.Length(max=200), metadata={"example": "每周二、四下午"})
    sessions = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=500))
    starts_on = fields.Date(load_default=None, metadata={"description": "Default today."})
    capacity = fields.Integer(required=True, strict=True, validate=COUNT)
    grid = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    district = fields.String(load_default="", validate=validate.Length(max=80))


class CourseOut(Schema):
    id = fields.Integer()
    partner_id = fields.Integer()
    partner = fields.String()
    title = fields.String()
    skill = fields.String()
    teacher = fields.String()
    schedule = fields.String()
    sessions = fields.Integer()
    starts_on = fields.Date()
    capacity = fields.Integer()
    enrolled = fields.Integer(metadata={"description": "Places taken (enrolled or completed)."})
    free = fields.Integer()
    place = fields.Nested(JobPlaceOut)
    status = fields.String()
    created_at = fields.DateTime()


class CourseListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(OPEN_STATUSES))


class EnrolIn(InputSchema):
    member_id = fields.Integer(required=True, strict=True, validate=ID)
    request_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"description": "The household's job-support request this is for, if any."},
    )


class EnrolmentOut(Schema):
    id = fields.Integer()
    course_id = fields.Integer()
    course = fields.String()
    skill = fields.String()
    sessions = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String(metadata={"description": "王** for a partner without the family's consent."})
    household_id = fields.Integer(allow_none=True, metadata={"description": "Left out for a partner."})
    request_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": f"One of {', '.join(ENROLMENT_STATUSES)}."})
    attended = fields.List(fields.Integer(), metadata={"description": "The sessions attended."})
    completed_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()


class EnrolmentListArgs(PageArgs):
    course_id = fields.Integer(load_default=None, validate=ID)
    member_id = fields.Integer(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(ENROLMENT_STATUSES))


class CourseAttendanceIn(InputSchema):
    session_no = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=500))
    attended_on = fields.Date(load_default=None, metadata={"description": "Default today."})


class JobEmptyIn(InputSchema):
    """No fields."""


class PlacementIn(InputSchema):
    opening_id = fields.Integer(required=True, strict=True, validate=ID)
    member_id = fields.Integer(required=True, strict=True, validate=ID)
    request_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)
    starts_on = fields.Date(load_default=None, metadata={"description": "Default today; follow-ups 3 and 6 months on."})
    pay_fen = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=FEN,
        metadata={"description": "Default the opening's pay."},
    )


class PlacementFollowUpOut(Schema):
    id = fields.Integer()
    placement_id = fields.Integer()
    months = fields.Integer(metadata={"description": "3 or 6."})
    due_on = fields.Date()
    due = fields.Boolean(metadata={"description": "Due and not yet recorded."})
    done_at = fields.DateTime(allow_none=True)
    still_working = fields.Boolean(allow_none=True)
    earnings_fen = fields.Integer(allow_none=True)
    notes = fields.String()


class PlacementOut(Schema):
    id = fields.Integer()
    opening_id = fields.Integer()
    opening = fields.String()
    partner = fields.String()
    home_based = fields.Boolean()
    member_id = fields.Integer()
    member_name = fields.String()
    household_id = fields.Integer(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    starts_on = fields.Date()
    pay_fen = fields.Integer()
    pay_unit = fields.String()
    status = fields.String(metadata={"description": f"One of {', '.join(PLACEMENT_STATUSES)}."})
    follow_ups = fields.List(fields.Nested(PlacementFollowUpOut))
    created_at = fields.DateTime()


class PlacementListArgs(PageArgs):
    opening_id = fields.Integer(load_default=None, validate=ID)
    member_id = fields.Integer(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(PLACEMENT_STATUSES))


class PlacementFollowUpIn(InputSchema):
    still_working = _bool(required=True)
    earnings_fen = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=FEN,
        metadata={"description": "What the member earned in the month before, in fen.", "example": 120000},
    )
    notes = fields.String(load_default="", validate=validate.Length(max=MAX_NOTES))


class PlacementFollowUpListOut(Schema):
    items = fields.List(fields.Nested(PlacementFollowUpOut), required=True)


class HomeOrderIn(InputSchema):
    buyer = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "兰州文创公司"})
    items = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "刺绣香包"})
    quantity = fields.Integer(required=True, strict=True, validate=COUNT)
    amount_fen = fields.Integer(required=True, strict=True, validate=FEN)
    ordered_on = fields.Date(load_default=None)


class HomeOrderOut(Schema):
    id = fields.Integer()
    opening_id = fields.Integer()
    workshop = fields.String()
    buyer = fields.String()
    items = fields.String()
    quantity = fields.Integer()
    delivered = fields.Integer()
    amount_fen = fields.Integer()
    ordered_on = fields.Date()
    status = fields.String()
    created_at = fields.DateTime()


class HomeOrderListArgs(PageArgs):
    opening_id = fields.Integer(load_default=None, validate=ID)


class HomeDeliveryIn(InputSchema):
    placement_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"description": "The worker: her placement in the workshop."}
    )
    quantity = fields.Integer(required=True, strict=True, validate=COUNT)
    earnings_fen = fields.Integer(required=True, strict=True, validate=FEN)
    delivered_on = fields.Date(load_default=None)


class HomeDeliveryOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    placement_id = fields.Integer()
    quantity = fields.Integer()
    earnings_fen = fields.Integer()
    delivered_on = fields.Date()


class HomeEarningsArgs(InputSchema):
    opening_id = fields.Integer(load_default=None, validate=ID)
    member_id = fields.Integer(load_default=None, validate=ID)


class HomeWorkerOut(Schema):
    placement_id = fields.Integer()
    opening_id = fields.Integer()
    workshop = fields.String()
    member_id = fields.Integer()
    member_name = fields.String()
    status = fields.String()
    pieces = fields.Integer()
    earnings_fen = fields.Integer()


class HomeEarningsOut(Schema):
    items = fields.List(fields.Nested(HomeWorkerOut), required=True)


class JobReasonOut(Schema):
    code = fields.String()
    params = fields.Dict()
    message = fields.String(metadata={"description": "In the reader's language."})


class MatchedOpeningOut(OpeningOut):
    reasons = fields.List(fields.Nested(JobReasonOut), metadata={"description": "Why this opening, ranked."})


class MatchedCourseOut(CourseOut):
    reasons = fields.List(fields.Nested(JobReasonOut))


class JobLeftOutOut(Schema):
    id = fields.Integer()
    title = fields.String()
    reasons = fields.List(fields.Nested(JobReasonOut), metadata={"description": "Why not."})


class JobMatchMemberOut(Schema):
    id = fields.Integer()
    name = fields.String()
    age = fields.Integer(allow_none=True)
    employment = fields.String(allow_none=True)
    chosen = fields.Boolean()


class JobMatchesArgs(InputSchema):
    member_id = fields.Integer(
        load_default=None, validate=ID, metadata={"description": "A working-age member; default one out of work."}
    )


class JobMatchesOut(Schema):
    request_id = fields.Integer()
    household_id = fields.Integer()
    member_id = fields.Integer(allow_none=True)
    members = fields.List(fields.Nested(JobMatchMemberOut), metadata={"description": "The working-age members."})
    cares_for = fields.Integer(metadata={"description": "Others at home the member may care for."})
    openings = fields.List(fields.Nested(MatchedOpeningOut))
    openings_left_out = fields.List(fields.Nested(JobLeftOutOut))
    courses = fields.List(fields.Nested(MatchedCourseOut))
    courses_left_out = fields.List(fields.Nested(JobLeftOutOut))


class JobsReportArgs(InputSchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "xlsx")),
        metadata={"description": "json, or xlsx (a workbook that opens in Excel)"},
    )


class JobsFiguresOut(Schema):
    openings_open = fields.Integer()
    positions_open = fields.Integer()
    courses_completed = fields.Integer()
    enrolled = fields.Integer()
    placements = fields.Integer()
    retained_3 = fields.Integer()
    followed_up_3 = fields.Integer()
    retention_3_pct = fields.Float(allow_none=True)
    retained_6 = fields.Integer()
    followed_up_6 = fields.Integer()
    retention_6_pct = fields.Float(allow_none=True)
    follow_ups_due = fields.Integer()
    home_workers = fields.Integer()
    home_earnings_fen = fields.Integer()
    home_orders = fields.Integer()
    home_orders_fen = fields.Integer()
    home_pieces = fields.Integer()
    workers = fields.List(fields.Nested(HomeWorkerOut))
