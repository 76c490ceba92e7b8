"""Paging: ``?page=&per_page=`` in, ``{"items", "page", "per_page", "total"}`` out."""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, fields, validate

from broker.platform.input_schema import InputSchema

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000  # far beyond any list; keeps the offset within a database integer


class PageArgs(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope of ``item`` (one class per item schema, so OpenAPI names it once)."""
    name = item.__name__.removesuffix("Out") + "Page"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
        name=name,
    )
