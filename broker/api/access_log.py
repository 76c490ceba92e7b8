"""Who looked: reads of families' sensitive fields (full ID numbers, health, minors), for
auditors and admins, per household and per user."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.access_log import AccessLogArgs, AccessLogListArgs, AccessLogOut
from broker.api.schemas.common import page_of
from broker.platform import db
from broker.registry import access_log

blp = Blueprint("access_log", __name__, description="Who read a family's sensitive fields, when and why.")

READERS = ("auditor", "admin")


@blp.route("/households/<int:household_id>/access-log")
class HouseholdAccessLog(MethodView):
    @require(*READERS)
    @blp.arguments(AccessLogArgs, location="query")
    @blp.response(200, page_of(AccessLogOut))
    def get(self, args: dict, household_id: int) -> dict[str, Any]:
        """Reads of this household's sensitive fields, newest first; ?user= for one reader."""
        page = access_log.household_entries(
            db.session(),
            current_principal(),
            household_id,
            user_id=args.get("user"),
            page=args["page"],
            per_page=args["per_page"],
        )
        return page.as_dict()


@blp.route("/access-log")
class AccessLog(MethodView):
    @require(*READERS)
    @blp.arguments(AccessLogListArgs, location="query")
    @blp.response(200, page_of(AccessLogOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Reads of sensitive fields, newest first; ?user= for one reader, ?household= for one family."""
        return access_log.entries(
            db.session(),
            current_principal(),
            household_id=args.get("household"),
            user_id=args.get("user"),
            page=args["page"],
            per_page=args["per_page"],
        ).as_dict()
