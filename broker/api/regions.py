"""The region tree: district/county → street/town → community/village → grid."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.platform import db
from broker.registry import region_tree, regions
from broker.registry.region_schema import RegionIn, RegionPatch

blp = Blueprint("regions", __name__, description="The region tree: a partner serves a node, a reader is scoped to one.")


class RegionOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "district, county, street, town, community, village"})
    parent = fields.String(allow_none=True, metadata={"description": "The parent node's code; null for a district."})
    path = fields.String(metadata={"description": "The names from the district down, joined by ' / '."})
    grids = fields.List(fields.String(), metadata={"description": "Codes of the grids hanging directly under it."})
    children = fields.List(fields.Nested(lambda: RegionOut()), metadata={"description": "The nodes below it."})


class RegionTreeOut(Schema):
    items = fields.List(fields.Nested(RegionOut), required=True)


def _view(code: str) -> dict[str, Any]:
    tree = region_tree.load(db.session())
    return regions.node_view(tree, tree.by_code[code], depth=1)


@blp.route("/regions")
class Regions(MethodView):
    @require("admin", "auditor")
    @blp.response(200, RegionTreeOut)
    def get(self) -> dict[str, Any]:
        """The tree, from each district down (a scoped reader: from its own node)."""
        return {"items": regions.read_tree(db.session(), current_principal())}

    @require("admin")
    @blp.arguments(RegionIn)
    @blp.response(201, RegionOut)
    def post(self, body: dict) -> dict[str, Any]:
        """Add a node (an administrator of the whole installation): a district or county with no
        parent, a street or town under a district, a community or village under a street."""
        region = regions.create_region(db.session(), current_principal(), body)
        db.commit()
        return _view(region.code)


@blp.route("/regions/<string:code>")
class RegionItem(MethodView):
    @require("admin", "auditor")
    @blp.response(200, RegionOut)
    def get(self, code: str) -> dict[str, Any]:
        """One node with its children and the grids directly under it."""
        return regions.read_tree(db.session(), current_principal(), code)[0]

    @require("admin")
    @blp.arguments(RegionPatch)
    @blp.response(200, RegionOut)
    def patch(self, body: dict, code: str) -> dict[str, Any]:
        """Rename a node or move it (with all below it) under another parent; a move under
        itself or its own descendants is refused (409 ``region_cycle``). Audited."""
        regions.update_region(db.session(), current_principal(), code, body)
        db.commit()
        return _view(code)
