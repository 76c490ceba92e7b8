"""Grids (网格): the neighbourhood units caseworkers answer for."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import PageArgs, page_of
from broker.api.schemas.registry import GridIn, GridOut
from broker.platform import db
from broker.registry import grids

blp = Blueprint("grids", __name__, description="Grids: district → street → community → grid.")


@blp.route("/grids")
class Grids(MethodView):
    @require("admin", "auditor", "caseworker")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(GridOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Grids you may see: a caseworker's own, every grid for admins and auditors."""
        return grids.list_grids(db.session(), current_principal(), **args).as_dict()

    @require("admin")
    @blp.arguments(GridIn)
    @blp.response(201, GridOut)
    def post(self, body: dict) -> Any:
        """Add a grid (admin)."""
        grid = grids.create_grid(db.session(), current_principal(), body)
        db.commit()
        return grid


@blp.route("/grids/<string:code>")
class GridItem(MethodView):
    @require("admin", "auditor", "caseworker")
    @blp.response(200, GridOut)
    def get(self, code: str) -> Any:
        """One grid by its code."""
        return grids.get_grid(db.session(), current_principal(), code)
