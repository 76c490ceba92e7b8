"""What a grid may be: one schema for the API's request bodies and the portal's forms,
so that both refuse the same input with the same reasons."""

from __future__ import annotations

from marshmallow import fields, validate

from broker.platform.input_schema import InputSchema

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class GridIn(InputSchema):
    code = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=40), validate.Regexp(CODE_PATTERN)],
        metadata={"example": "HD-ZGC-01"},
    )
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "中关村东路第一网格"}
    )
    district = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "海淀区"})
    street = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "中关村街道"})
    community = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={"example": "科源社区"})
    region = fields.String(
        validate=[validate.Length(min=1, max=40), validate.Regexp(CODE_PATTERN)],
        metadata={"description": "The community or village node it hangs under; its names then follow the node's."},
    )


class GridPatch(InputSchema):
    """A grid's names and place; its code, which households and partners refer to, stays."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    district = fields.String(validate=validate.Length(min=1, max=80))
    street = fields.String(validate=validate.Length(min=1, max=80))
    community = fields.String(validate=validate.Length(min=1, max=80))
    region = fields.String(validate=[validate.Length(min=1, max=40), validate.Regexp(CODE_PATTERN)])
