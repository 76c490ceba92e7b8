"""Schemas of grids, households, members, visits and coverage. The input side of a
household is defined once in :mod:`broker.registry.household_schema` (the survey import uses it
too), of a grid in :mod:`broker.registry.grid_schema` (the portal's forms use it too); this
module adds the query arguments and what the API returns."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.platform.input_schema import InputSchema
from broker.registry import members
from broker.registry.grid_schema import GridIn, GridPatch
from broker.registry.household_schema import HouseholdIn, HouseholdPatch
from broker.registry.household_states import REASON_MAX, REASON_MIN
from models.registry import HOUSEHOLD_STATES, VISIT_CHANNELS

__all__ = ["GridIn", "GridPatch", "HouseholdIn", "HouseholdPatch"]


class GridOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    district = fields.String()
    street = fields.String()
    community = fields.String()
    created_at = fields.DateTime()


class MemberOut(Schema):
    id = fields.Integer()
    name = fields.String()
    id_number = fields.Method("_masked", metadata={"description": "Masked: 110105********123X; null if unknown."})
    birth_date = fields.Date(allow_none=True)
    sex = fields.String(allow_none=True)
    relation = fields.String()
    conditions = fields.List(fields.String())
    disability_grade = fields.Integer(allow_none=True)
    disability_kind = fields.String(allow_none=True)
    schooling = fields.String(allow_none=True)
    employment = fields.String(allow_none=True)
    supporter_able = fields.Boolean(
        allow_none=True, metadata={"description": "A legal supporter able to support this member; null: not recorded."}
    )
    deceased_on = fields.Date(
        allow_none=True, metadata={"description": "Set when the member died (kept, not counted)."}
    )

    def _masked(self, member: Any) -> str | None:
        return members.masked_id(member)


class HouseholdSummaryOut(Schema):
    id = fields.Integer()
    grid = fields.Function(lambda h: h.grid.code)
    address = fields.String()
    head_name = fields.String()
    phone = fields.String(allow_none=True)
    monthly_income_fen = fields.Integer()
    consent_to_share = fields.Boolean()
    sudden_hardship = fields.Boolean()
    survey_ref = fields.String(allow_none=True)
    member_count = fields.Integer()
    income_per_capita_fen = fields.Integer()
    school_age_children = fields.Integer()
    students_count = fields.Integer(metadata={"description": "Members in education, preschool to university."})
    elderly_count = fields.Integer()
    disabled_count = fields.Integer()
    severe_disabled_count = fields.Integer(metadata={"description": "Members with a disability of grade 1 or 2."})
    serious_illness = fields.Boolean()
    unemployed_count = fields.Integer()
    minors_count = fields.Integer(metadata={"description": "Members under 18."})
    unsupported_count = fields.Integer(
        metadata={"description": "Elderly, under-age or severely disabled members with no able legal supporter."}
    )
    financial_assets_per_capita_fen = fields.Integer()
    medical_spending_monthly_fen = fields.Integer()
    income_after_medical_per_capita_fen = fields.Integer()
    last_visited_at = fields.DateTime(allow_none=True)
    state = fields.String(
        metadata={"description": "active, or moved_out, deceased, recovered (off the active lists, history kept)."}
    )
    state_since = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class HouseholdOut(HouseholdSummaryOut):
    notes = fields.String()
    residence = fields.String(metadata={"description": "urban or rural."})
    financial_assets_fen = fields.Integer()
    motor_vehicles = fields.Integer()
    surplus_housing = fields.Boolean()
    medical_spending_fen = fields.Integer()
    medical_spending_period = fields.String(metadata={"description": "monthly or yearly."})
    members = fields.List(fields.Nested(MemberOut))


class HouseholdListArgs(PageArgs):
    grid = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "Only this grid (code)."})
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Address, name, survey reference, or a full resident ID."},
    )
    state = fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "inactive", "all", *HOUSEHOLD_STATES[1:]]),
        metadata={"description": "active (default), inactive (moved away, deceased, recovered), all, or one state."},
    )


def _reason() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=REASON_MIN, max=REASON_MAX),
        metadata={"description": "Why (goes on the audit record)."},
    )


class StateIn(InputSchema):
    state = fields.String(required=True, validate=validate.OneOf(HOUSEHOLD_STATES))
    reason = _reason()


class DeceasedIn(InputSchema):
    deceased = fields.Boolean(
        load_default=True, metadata={"description": "false corrects a death recorded by mistake."}
    )
    on = fields.Date(load_default=None, allow_none=True, metadata={"description": "Date of death (default today)."})
    reason = _reason()


class MoveIn(InputSchema):
    grid = fields.String(required=True, validate=validate.Length(min=1, max=40))


class VisitIn(InputSchema):
    channel = fields.String(required=True, validate=validate.OneOf(VISIT_CHANNELS))
    visited_at = fields.DateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "When (default now; not in the future). Without a zone: Beijing time."},
    )
    findings = fields.String(load_default="", validate=validate.Length(max=4000))


class VisitOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    caseworker_id = fields.Integer(allow_none=True)
    channel = fields.String()
    visited_at = fields.DateTime()
    findings = fields.String()
    created_at = fields.DateTime()


class CoverageArgs(PageArgs):
    grid = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "Only this grid (code)."})
    not_visited_days = fields.Integer(load_default=90, validate=validate.Range(min=0, max=3650))


class CaseworkerRef(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class CoverageItem(Schema):
    household_id = fields.Integer()
    grid = fields.String()
    address = fields.String()
    head_name = fields.String()
    last_visited_at = fields.DateTime(allow_none=True)
    days_since_visit = fields.Integer(allow_none=True)
    caseworkers = fields.List(fields.Nested(CaseworkerRef))


class GridCoverage(Schema):
    grid = fields.String()
    name = fields.String()
    community = fields.String()
    caseworkers = fields.List(fields.Nested(CaseworkerRef))
    households = fields.Integer()
    not_visited = fields.Integer()


class CoverageOut(Schema):
    items = fields.List(fields.Nested(CoverageItem))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    not_visited_days = fields.Integer()
    cutoff = fields.DateTime()
    by_grid = fields.List(fields.Nested(GridCoverage))
