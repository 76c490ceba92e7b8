"""Who read a family's sensitive fields: the access log's query and its entries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from broker.api.schemas.common import PageArgs
from broker.platform.input_schema import MAX_ID


class AccessLogArgs(PageArgs):
    user = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Only the reads of this user (id)."}
    )


class AccessLogListArgs(AccessLogArgs):
    household = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Only the reads of this household."}
    )


class AccessLogOut(Schema):
    id = fields.Integer()
    at = fields.DateTime(metadata={"description": "When the fields were shown (UTC)."})
    user_id = fields.Integer(allow_none=True)
    username = fields.String(metadata={"description": "Who was shown them."})
    household_id = fields.Integer()
    member_ids = fields.List(fields.Integer(), metadata={"description": "The members whose fields were shown."})
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        metadata={"description": "id_number (in full), health, minors."},
    )
    reason = fields.String(metadata={"description": "The page or API call that showed them."})
