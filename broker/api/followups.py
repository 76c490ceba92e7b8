"""Follow-up visits (回访) of a household: scheduled when a request completes, recorded
by the household's caseworker."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.followups import FollowUpIn, FollowUpListOut, FollowUpOut
from broker.platform import db
from broker.referral import followup_visits

blp = Blueprint("followups", __name__, description="Follow-up visits (回访) after a request completes.")


@blp.route("/households/<int:household_id>/follow-ups")
class FollowUps(MethodView):
    @require("caseworker", "admin", "auditor")
    @blp.response(200, FollowUpListOut)
    def get(self, household_id: int) -> dict[str, Any]:
        """The household's follow-up visits: open ones first (soonest due), then those recorded."""
        found = followup_visits.list_for_household(db.session(), current_principal(), household_id)
        return {"items": [followup_visits.view(f) for f in found]}


@blp.route("/households/<int:household_id>/follow-ups/<int:follow_up_id>")
class FollowUpRecord(MethodView):
    @require("caseworker")
    @idempotent
    @blp.arguments(FollowUpIn)
    @blp.response(200, FollowUpOut)
    @blp.alt_response(
        409,
        description="follow_up_recorded: the visit is already recorded; possible_duplicate: the new need is "
        "identical to a recent one (send `confirm_duplicate: true`); household_inactive.",
    )
    def post(self, body: dict, household_id: int, follow_up_id: int) -> dict[str, Any]:
        """Record the visit: need met, satisfaction 1–5, notes, and optionally a new need (a new assessment)."""
        found = followup_visits.record(db.session(), current_principal(), household_id, follow_up_id, body)
        result = followup_visits.view(found)
        db.commit()
        return result
