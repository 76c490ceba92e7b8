"""What a partner may be: one schema for the API's request bodies and the portal's forms,
so that both refuse the same input with the same reasons. ``adapter_config`` is taken as
an object here and validated by the chosen adapter's own schema in the domain."""

from __future__ import annotations

from marshmallow import fields, validate

from broker.money.ledger import MAX_AMOUNT_FEN
from broker.platform.input_schema import InputSchema
from models.assessment import CATEGORIES
from models.partners import PARTNER_KINDS


class PartnerFields(InputSchema):
    name = fields.String(validate=validate.Length(min=1, max=120), metadata={"example": "科源社区互助基金"})
    kind = fields.String(validate=validate.OneOf(PARTNER_KINDS))
    adapter = fields.String(
        validate=validate.Length(min=1, max=40), metadata={"description": "portal, webhook, auto_grant or a plugin"}
    )
    adapter_config = fields.Dict(
        keys=fields.String(), metadata={"description": "The adapter's settings (see GET /adapters)."}
    )
    categories = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)), validate=validate.Length(max=20))
    regions = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=500),
        metadata={"description": 'Grid codes served, or ["*"] for everywhere.'},
    )
    max_amount_fen = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_AMOUNT_FEN),
        metadata={"description": "The most this partner gives for one request, in fen; null for no limit."},
    )
    respond_within_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 60))
    receipt_within_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "Days a family has to confirm receipt before the delivery is listed as unconfirmed."},
    )
    contact = fields.String(validate=validate.Length(max=120), metadata={"example": "王芳 010-62345678"})
    active = fields.Boolean()


class PartnerIn(PartnerFields):
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "科源社区互助基金"}
    )
    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    adapter = fields.String(required=True, validate=validate.Length(min=1, max=40))
    adapter_config = fields.Dict(keys=fields.String(), load_default=dict)
    categories = fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)), required=True, validate=validate.Length(min=1, max=20)
    )
    regions = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)), required=True, validate=validate.Length(min=1, max=500)
    )
    respond_within_hours = fields.Integer(load_default=48, strict=True, validate=validate.Range(min=1, max=24 * 60))


class PartnerPatch(PartnerFields):
    """Only the fields given change."""
