"""Deposits into a partner's fund (admin), the fund's history and its parts per
restriction (admin, auditor, and the partner itself)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.funds import PartnerFundsOut
from broker.api.schemas.money import DepositIn, FundHistoryArgs, FundHistoryOut, TransactionOut
from broker.money import fund_balances, funds
from broker.platform import db

blp = Blueprint("deposits", __name__, description="Money paid into partners' funds.")


@blp.route("/partners/<int:partner_id>/deposits")
class Deposits(MethodView):
    @require("admin")
    @idempotent
    @blp.arguments(DepositIn)
    @blp.response(201, TransactionOut)
    def post(self, body: dict, partner_id: int) -> Any:
        """Record money paid into the partner's fund (a donation, a grant); it becomes available at once.
        With a ``restriction`` it goes into the part of the fund on those terms, which pays only for
        needs that fit them (422 for unknown categories or grids, or a last day in the past)."""
        view = funds.record_deposit(db.session(), partner_id, **body)
        db.commit()
        return view

    @require("admin", "auditor", "partner")
    @blp.arguments(FundHistoryArgs, location="query")
    @blp.response(200, FundHistoryOut)
    def get(self, args: dict, partner_id: int) -> dict[str, Any]:
        """The fund's history, newest first: deposits, pledges, releases, disbursements, with balances after each."""
        current_principal().require_partner(partner_id, what="partner")
        history = funds.fund_history(db.session(), partner_id, **args)
        return {
            "partner_id": history.partner_id,
            "partner_name": history.partner_name,
            **history.balances,
            **history.movements.as_dict(),
        }


@blp.route("/partners/<int:partner_id>/funds")
class Funds(MethodView):
    @require("admin", "auditor", "partner")
    @blp.response(200, PartnerFundsOut)
    def get(self, partner_id: int) -> dict[str, Any]:
        """The fund part by part: each restriction (categories, grids, programme, last day) and the
        unrestricted part, with what was deposited, is pledged, was spent and is available."""
        current_principal().require_partner(partner_id, what="partner")
        return fund_balances.partner_parts(db.session(), partner_id)
