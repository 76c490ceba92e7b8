"""Partner organisations and the adapters that reach them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import page_of
from broker.api.schemas.partners import AdapterList, PartnerIn, PartnerListArgs, PartnerOut, PartnerPatch
from broker.platform import adapter_registry, db
from broker.referral import partners

blp = Blueprint("partners", __name__, description="Partner organisations and their adapters.")


@blp.route("/partners")
class Partners(MethodView):
    @require("admin", "auditor")
    @blp.arguments(PartnerListArgs, location="query")
    @blp.response(200, page_of(PartnerOut))
    def get(self, args: dict) -> dict[str, Any]:
        """All partners, with their balances; filter by active, category, kind."""
        return partners.list_details(db.session(), current_principal(), **args).as_dict()

    @require("admin")
    @blp.arguments(PartnerIn)
    @blp.response(201, PartnerOut)
    def post(self, body: dict) -> dict[str, Any]:
        """Add a partner with its adapter (validated by that adapter's own settings schema)."""
        session = db.session()
        partner = partners.create_partner(session, current_principal(), body)
        db.commit()
        return partners.detail(session, partner)


@blp.route("/partners/<int:partner_id>")
class PartnerItem(MethodView):
    @require("admin", "auditor", "partner")
    @blp.response(200, PartnerOut)
    def get(self, partner_id: int) -> dict[str, Any]:
        """One partner with balance_fen, pledged_fen and available_fen."""
        return partners.get_detail(db.session(), current_principal(), partner_id)

    @require("admin")
    @blp.arguments(PartnerPatch)
    @blp.response(200, PartnerOut)
    def patch(self, body: dict, partner_id: int) -> dict[str, Any]:
        """Activate or deactivate; change categories, regions, limits or adapter settings."""
        session = db.session()
        partner = partners.update_partner(session, current_principal(), partner_id, body)
        db.commit()
        return partners.detail(session, partner)


@blp.route("/adapters")
class Adapters(MethodView):
    @require("admin", "auditor")
    @blp.response(200, AdapterList)
    def get(self) -> dict[str, Any]:
        """Installed adapters and their settings; plugins that failed to load."""
        return {"items": adapter_registry.describe(), "failed": adapter_registry.failed()}
