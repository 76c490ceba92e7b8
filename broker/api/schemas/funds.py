"""Schemas of a fund's parts: balances per restriction (定向/专项), for one partner and
across partners. Amounts are integer fen."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.texts import Text
from broker.platform.input_schema import InputSchema


class FundPartOut(Schema):
    partner_id = fields.Integer()
    partner_name = fields.String()
    restriction_id = fields.Integer(allow_none=True, metadata={"description": "null: the unrestricted part"})
    categories = fields.List(fields.String(), metadata={"description": "empty: any need"})
    regions = fields.List(
        fields.String(),
        metadata={"description": "grid or region codes (a node covers every grid below it); empty: any grid"},
    )
    programme = fields.String()
    expires_on = fields.Date(allow_none=True, metadata={"description": "the last day it may be offered"})
    expired = fields.Boolean(metadata={"description": "past its last day: no longer offered"})
    deposited_fen = fields.Integer()
    pledged_fen = fields.Integer(metadata={"description": "promised on accepted offers, not yet paid"})
    spent_fen = fields.Integer(metadata={"description": "paid to families, net of reversals"})
    available_fen = fields.Integer(metadata={"description": "not promised (offered only while not expired)"})
    label = Text(metadata={"description": "The part as people read it"})


class FundTotalsOut(Schema):
    deposited_fen = fields.Integer()
    pledged_fen = fields.Integer()
    spent_fen = fields.Integer()
    available_fen = fields.Integer()


class PartnerFundsOut(Schema):
    partner_id = fields.Integer()
    partner_name = fields.String()
    parts = fields.List(fields.Nested(FundPartOut), metadata={"description": "restricted parts first, in draw order"})
    totals = fields.Nested(FundTotalsOut)


class RestrictionReportArgs(InputSchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv", "xlsx")),
        metadata={"description": "json (fen), or a file in yuan: csv (UTF-8 with BOM) or xlsx"},
    )
    restricted_only = fields.Boolean(load_default=False, metadata={"description": "leave out unrestricted parts"})


class RestrictionReportOut(Schema):
    parts = fields.List(fields.Nested(FundPartOut))
    totals = fields.Nested(FundTotalsOut)
