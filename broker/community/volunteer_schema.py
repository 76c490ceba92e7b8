"""What a volunteer gives when signing up, and what a leader gives for a task, read the
same way from the API and the portal: a field nobody defined is refused, text that
cannot be stored is refused, and a sign-up needs consent."""

from __future__ import annotations

from datetime import UTC

from marshmallow import ValidationError, fields, validate, validates

from broker.platform.input_schema import MAX_ID, InputSchema
from models.volunteers import TASK_KINDS

NAME_MAX = 60
ITEM_MAX = 40
ITEMS_MAX = 20
AVAILABILITY_MAX = 200
USERNAME = r"^[A-Za-z0-9_.-]{3,64}$"
MOBILE = r"^1\d{10}$"
MAX_SLOTS = 50

_items = {"validate": validate.Length(max=ITEMS_MAX)}
_item = fields.String(validate=validate.Length(min=1, max=ITEM_MAX))


class VolunteerIn(InputSchema):
    team = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    phone = fields.String(
        required=True, validate=validate.Regexp(MOBILE, error="a mainland mobile number, 11 digits starting with 1")
    )
    username = fields.String(
        required=True,
        validate=validate.Regexp(USERNAME, error="3 to 64 letters, digits, dots, dashes or underscores"),
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256))
    id_number = fields.String(
        validate=validate.Length(min=15, max=18),
        load_only=True,
        metadata={"description": "Resident ID (optional). Kept encrypted; never shown to the team."},
    )
    skills = fields.List(_item, **_items, metadata={"example": ["陪诊", "辅导功课"]})
    languages = fields.List(_item, **_items, metadata={"example": ["普通话", "武汉话"]})
    availability = fields.String(
        validate=validate.Length(max=AVAILABILITY_MAX), metadata={"example": "周末全天，工作日晚上"}
    )
    grids = fields.List(_item, **_items, metadata={"description": "Codes of the grids the volunteer covers."})
    consent = fields.Boolean(
        required=True,
        metadata={"description": "The volunteer agrees that the team and caseworkers keep and use these details."},
    )

    @validates("consent")
    def _agreed(self, value: bool, **_kw: object) -> None:
        if value is not True:
            raise ValidationError("consent is needed to sign up")


class TaskIn(InputSchema):
    """A task a team leader hands out: a piece of an accepted offer, or the team's own."""

    offer_id = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The team's accepted offer this task carries out (its request's family)."},
    )
    kind = fields.String(required=True, validate=validate.OneOf(TASK_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "陪同就医"})
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    ends_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    slots = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_SLOTS))
