"""What a region node may be: one schema for the API's bodies and the portal's forms."""

from __future__ import annotations

from marshmallow import fields, validate

from broker.platform.input_schema import InputSchema
from broker.registry.grid_schema import CODE_PATTERN
from models.regions import REGION_KINDS

CODE = [validate.Length(min=1, max=40), validate.Regexp(CODE_PATTERN)]


class RegionIn(InputSchema):
    code = fields.String(required=True, validate=CODE, metadata={"example": "WC-ZN"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "中南路街道"})
    kind = fields.String(required=True, validate=validate.OneOf(REGION_KINDS), metadata={"example": "street"})
    parent = fields.String(
        load_default=None, allow_none=True, validate=CODE, metadata={"description": "The parent node's code."}
    )


class RegionPatch(InputSchema):
    """Rename, change the kind within its level, or move under another parent."""

    name = fields.String(validate=validate.Length(min=1, max=80))
    kind = fields.String(validate=validate.OneOf(REGION_KINDS))
    parent = fields.String(allow_none=True, validate=CODE)
