"""Family volunteer points over the API: a household's points account, earning for
volunteer hours (once per source), redeeming at the points shop (never more than the
family has), its monthly statement; the community rules and shop that admins keep.

Caseworkers act for the households of their own grids (the family redeems on their
phone); auditors read; admins do all; partners have no part in it."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.ledger import FILE_DOC, file_response
from broker.api.schemas.points import (
    AccountOut,
    EarnIn,
    EarningOut,
    RedeemIn,
    RedemptionOut,
    RuleArgs,
    RuleIn,
    RuleListOut,
    RuleOut,
    ShopArgs,
    ShopItemIn,
    ShopItemOut,
    ShopListOut,
    StatementArgs,
    StatementOut,
)
from broker.community import points, points_rules, points_shop, statements
from broker.money.exports import XLSX_MIMETYPE
from broker.platform import db

blp = Blueprint("points", __name__, description="Family volunteer points and the points shop.")

ACTORS = ("caseworker", "admin")
READERS = ("caseworker", "auditor", "admin")


@blp.route("/points/accounts/<int:household_id>")
class PointsAccount(MethodView):
    @require(*READERS)
    @blp.response(200, AccountOut)
    def get(self, household_id: int) -> Any:
        """The family's points: balance, totals earned and redeemed, and the latest of each."""
        return points.account_view(db.session(), current_principal(), household_id)


@blp.route("/points/accounts/<int:household_id>/earn")
class PointsEarn(MethodView):
    @require(*ACTORS)
    @idempotent
    @blp.arguments(EarnIn)
    @blp.response(201, EarningOut)
    @blp.alt_response(200, schema=EarningOut, description="These hours were counted before: the first earning.")
    @blp.alt_response(
        409, description="no_points_consent: the family has not agreed; source_used: counted for another household."
    )
    @blp.alt_response(422, description="no_points_rule: the community does not reward this activity.")
    def post(self, body: dict, household_id: int) -> Any:
        """Credit the family for volunteer hours under its community's rule (points per hour, monthly cap).
        The same ``source_ref`` is counted once however often it is sent."""
        earned = points.earn_as(db.session(), current_principal(), household_id, **body)
        db.commit()
        return earned.earning, 201 if earned.created else 200


@blp.route("/points/accounts/<int:household_id>/redeem")
class PointsRedeem(MethodView):
    @require(*ACTORS)
    @idempotent
    @blp.arguments(RedeemIn)
    @blp.response(201, RedemptionOut)
    @blp.alt_response(409, description="not_enough_points (details: balance, needed); out_of_stock (details: stock).")
    def post(self, body: dict, household_id: int) -> Any:
        """Exchange the family's points for an item of its community's points shop. Send an
        ``Idempotency-Key``: a tap sent twice redeems once."""
        done = points_shop.redeem_as(db.session(), current_principal(), household_id, **body)
        db.commit()
        r = done.redemption
        return {
            **{k: getattr(r, k) for k in ("id", "household_id", "item_id", "quantity", "points", "created_at")},
            "balance": done.balance,
            "stock": done.stock,
        }, 201


@blp.route("/points/accounts/<int:household_id>/statement")
class PointsStatement(MethodView):
    @require(*READERS)
    @blp.arguments(StatementArgs, location="query")
    @blp.response(200, StatementOut)
    @blp.alt_response(200, schema=FILE_DOC, content_type=XLSX_MIMETYPE, description="format=xlsx", success=True)
    def get(self, args: dict, household_id: int) -> Any:
        """The family's monthly statement: opening balance, each point earned and spent, closing balance."""
        statement = statements.monthly(db.session(), current_principal(), household_id, args.get("month"))
        if args["format"] == "xlsx":
            return file_response(statements.statement_file(statement))
        return statement


@blp.route("/points/rules")
class PointsRules(MethodView):
    @require(*READERS)
    @blp.arguments(RuleArgs, location="query")
    @blp.response(200, RuleListOut)
    def get(self, args: dict) -> Any:
        """Each community's rules: points per hour of each activity and the monthly cap."""
        return {"items": points_rules.rules(db.session(), args.get("community"))}

    @require("admin")
    @blp.arguments(RuleIn)
    @blp.response(200, RuleOut)
    def put(self, body: dict) -> Any:
        """Set a community's rule for one activity (created or changed; recorded on the audit chain)."""
        rule, _ = points_rules.set_rule(db.session(), **body)
        db.commit()
        return rule


@blp.route("/points/shop")
class PointsShop(MethodView):
    @require(*READERS)
    @blp.arguments(ShopArgs, location="query")
    @blp.response(200, ShopListOut)
    def get(self, args: dict) -> Any:
        """The points shop's items, of one community or all, with price and stock."""
        return {"items": points_shop.items(db.session(), args.get("community"))}

    @require("admin")
    @idempotent
    @blp.arguments(ShopItemIn)
    @blp.response(201, ShopItemOut)
    def post(self, body: dict) -> Any:
        """Put goods or a service donated by a partner in a community's points shop."""
        item = points_shop.add_item(db.session(), **body)
        db.commit()
        return item
