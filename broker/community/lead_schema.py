"""What a mobile grid member gives when signing up and when reporting a household, read
the same way from the API and the portal: a field nobody defined is refused, text that
cannot be stored is refused, and a sign-up needs consent."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from broker.community.volunteer_schema import MOBILE, NAME_MAX, USERNAME
from broker.platform.errors import Invalid
from broker.platform.input_schema import MAX_ID, InputSchema
from broker.registry.household_schema import HouseholdIn, flatten
from models.leads import LEAD_CLOSE_REASONS, LEAD_URGENCIES, REPORTER_KINDS

ADDRESS_MAX = 200
SEEN_MAX = 2000
ORGANISATION_MAX = 80
COMMUNITY_MAX = 80


class ReporterIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    phone = fields.String(
        required=True, validate=validate.Regexp(MOBILE, error="a mainland mobile number, 11 digits starting with 1")
    )
    username = fields.String(
        required=True,
        validate=validate.Regexp(USERNAME, error="3 to 64 letters, digits, dots, dashes or underscores"),
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256))
    kind = fields.String(
        load_default="courier",
        validate=validate.OneOf(REPORTER_KINDS),
        metadata={"description": "courier (a delivery rider), neighbour, or other."},
    )
    organisation = fields.String(
        load_default="",
        validate=validate.Length(max=ORGANISATION_MAX),
        metadata={"example": "某某快递武昌站", "description": "The delivery company or other organisation, if any."},
    )
    consent = fields.Boolean(
        required=True,
        metadata={"description": "The reporter agrees that caseworkers keep these details to follow up reports."},
    )

    @validates("consent")
    def _agreed(self, value: bool, **_kw: object) -> None:
        if value is not True:
            raise ValidationError("consent is needed to sign up")


class LeadIn(InputSchema):
    address = fields.String(
        required=True, validate=validate.Length(min=4, max=ADDRESS_MAX), metadata={"example": "武昌区中山路12号3单元"}
    )
    grid = fields.String(
        validate=validate.Length(min=1, max=40), metadata={"description": "The grid's code, if the reporter knows it."}
    )
    community = fields.String(
        validate=validate.Length(min=1, max=COMMUNITY_MAX),
        metadata={"description": "The community (社区), if the address does not name it.", "example": "科源社区"},
    )
    seen = fields.String(
        required=True,
        validate=validate.Length(min=2, max=SEEN_MAX),
        metadata={"description": "What the reporter saw.", "example": "独居老人，连续几天没取快递"},
    )
    urgency = fields.String(load_default="normal", validate=validate.OneOf(LEAD_URGENCIES))


class CloseIn(InputSchema):
    reason = fields.String(required=True, validate=validate.OneOf(LEAD_CLOSE_REASONS))


class LeadVisitIn(InputSchema):
    """The caseworker went: the household found (one already registered, or a new one
    recorded now), when, and what was found."""

    household_id = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "A household already registered (on one of your grids)."},
    )
    household = fields.Nested(HouseholdIn, metadata={"description": "Or a new household, recorded with the visit."})
    visited_at = fields.DateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "When (default now; not in the future). Without a zone: Beijing time."},
    )
    findings = fields.String(load_default="", validate=validate.Length(max=4000))

    @validates_schema
    def _one_household(self, data: dict, **_kw: Any) -> None:
        if ("household_id" in data) == ("household" in data):
            raise ValidationError("give household_id (one registered) or household (a new one), not both")


def load(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` (a portal form's) as the API would; :class:`Invalid` naming the fields."""
    try:
        return schema().load(data)
    except ValidationError as exc:
        details = flatten(exc.messages)
        raise Invalid(
            "Some fields are missing or invalid: " + ", ".join(sorted(details)[:6]) + ".", details=details
        ) from None
