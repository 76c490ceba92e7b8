"""Schemas of partners and adapters. A partner's input side is defined once in
:mod:`broker.referral.partner_schema` (the portal's forms use it too). ``adapter_config`` is taken as an object here and
validated by the chosen adapter's own schema in the domain (errors come back under
``adapter_config.<field>``); secret settings are never returned."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.referral.partner_schema import PartnerFields, PartnerIn, PartnerPatch
from models.assessment import CATEGORIES
from models.partners import PARTNER_KINDS

__all__ = ["PartnerFields", "PartnerIn", "PartnerPatch"]


class PartnerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    adapter = fields.String()
    adapter_config = fields.Dict(metadata={"description": "Settings without secrets."})
    categories = fields.List(fields.String())
    regions = fields.List(fields.String())
    max_amount_fen = fields.Integer(allow_none=True)
    respond_within_hours = fields.Integer()
    receipt_within_days = fields.Integer()
    contact = fields.String()
    active = fields.Boolean()
    balance_fen = fields.Integer()
    pledged_fen = fields.Integer()
    available_fen = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PartnerListArgs(PageArgs):
    active = fields.Boolean()
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    kind = fields.String(validate=validate.OneOf(PARTNER_KINDS))


class AdapterField(Schema):
    required = fields.Boolean()
    secret = fields.Boolean()


class AdapterOut(Schema):
    name = fields.String()
    description = fields.String()
    config_fields = fields.Dict(keys=fields.String(), values=fields.Nested(AdapterField))


class AdapterList(Schema):
    items = fields.List(fields.Nested(AdapterOut))
    failed = fields.Dict(keys=fields.String(), values=fields.String())
