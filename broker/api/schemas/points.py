"""Schemas of family volunteer points: a household's account, earning for volunteer
hours, redeeming at the points shop, the monthly statement, the community's rules and
its shop. Points are whole numbers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.texts import Text
from broker.community import points, points_rules, points_shop
from broker.platform.input_schema import MAX_ID, InputSchema


def _community() -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=80), metadata={"example": "科源社区"})


class EarnIn(InputSchema):
    activity = fields.String(required=True, validate=validate.OneOf(points_rules.ACTIVITIES))
    minutes = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=points.MAX_MINUTES), metadata={"example": 90}
    )
    source_ref = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={
            "description": "What the hours come from (a service record, a sign-in sheet): counted once.",
            "example": "service-record:17",
        },
    )
    served_at = fields.AwareDateTime(metadata={"description": "When the service was given (default: now)."})


class EarningOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    community = fields.String()
    activity = fields.String()
    minutes = fields.Integer()
    points = fields.Integer(metadata={"description": "What the rule gave, after the monthly cap"})
    capped = fields.Boolean(metadata={"description": "The community's monthly cap cut the points"})
    month = fields.String()
    source_ref = fields.String()
    created_at = fields.DateTime()


class RedeemIn(InputSchema):
    item_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=points_shop.MAX_QUANTITY))


class RedemptionLineOut(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    item_id = fields.Integer()
    quantity = fields.Integer()
    points = fields.Integer()
    created_at = fields.DateTime()


class RedemptionOut(RedemptionLineOut):
    balance = fields.Integer(metadata={"description": "The family's points after this"})
    stock = fields.Integer(metadata={"description": "What is left of the item"})


class AccountOut(Schema):
    household_id = fields.Integer()
    community = fields.String()
    balance = fields.Integer()
    earned = fields.Integer()
    redeemed = fields.Integer()
    consent = fields.Boolean(metadata={"description": "The family agrees to take part (consent `points`)"})
    earnings = fields.List(fields.Nested(EarningOut))
    redemptions = fields.List(fields.Nested(RedemptionLineOut))


class StatementArgs(InputSchema):
    month = fields.String(
        validate=validate.Regexp(r"^\d{4}-\d{2}$", error="YYYY-MM"),
        metadata={"description": "A local month, YYYY-MM (default: this month)", "example": "2026-11"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class StatementLineOut(Schema):
    at = fields.DateTime()
    kind = fields.String(metadata={"description": "points_earn or points_redeem"})
    points = fields.Integer(metadata={"description": "Signed: + earned, − spent"})
    balance = fields.Integer()
    what = Text()


class StatementOut(Schema):
    household_id = fields.Integer()
    community = fields.String()
    month = fields.String()
    opening = fields.Integer()
    closing = fields.Integer()
    earned = fields.Integer()
    redeemed = fields.Integer()
    lines = fields.List(fields.Nested(StatementLineOut))


class RuleArgs(InputSchema):
    community = _community()


class RuleIn(InputSchema):
    community = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "科源社区"})
    activity = fields.String(required=True, validate=validate.OneOf(points_rules.ACTIVITIES))
    points_per_hour = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=points_rules.MAX_RATE), metadata={"example": 10}
    )
    monthly_cap = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=points_rules.MAX_CAP),
        metadata={"description": "At most this many points a household earns for the activity in a month"},
    )
    active = fields.Boolean(load_default=True)


class RuleOut(Schema):
    id = fields.Integer()
    community = fields.String()
    activity = fields.String()
    points_per_hour = fields.Integer()
    monthly_cap = fields.Integer(allow_none=True)
    active = fields.Boolean()
    updated_at = fields.DateTime()


class RuleListOut(Schema):
    items = fields.List(fields.Nested(RuleOut))


class ShopArgs(InputSchema):
    community = _community()


class ShopItemIn(InputSchema):
    community = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "科源社区"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "大米 5 公斤"})
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    kind = fields.String(load_default="goods", validate=validate.OneOf(points_shop.ITEM_KINDS))
    price_points = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=points_shop.MAX_PRICE), metadata={"example": 30}
    )
    stock = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=points_shop.MAX_STOCK))
    partner_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )


class ShopItemOut(Schema):
    id = fields.Integer()
    community = fields.String()
    name = fields.String()
    description = fields.String()
    kind = fields.String()
    price_points = fields.Integer()
    stock = fields.Integer()
    partner_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class ShopListOut(Schema):
    items = fields.List(fields.Nested(ShopItemOut))
