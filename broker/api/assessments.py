"""Needs assessments of a household: each need becomes an aid request that is routed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.assessments import AssessmentIn, AssessmentListOut, AssessmentOut
from broker.platform import db
from broker.referral import assessment

blp = Blueprint("assessments", __name__, description="Needs assessments; each need becomes an aid request.")


@blp.route("/households/<int:household_id>/assessments")
class Assessments(MethodView):
    @require("caseworker", "admin", "auditor")
    @blp.response(200, AssessmentListOut)
    def get(self, household_id: int) -> dict[str, Any]:
        """The household's assessments, newest first, each need with its request."""
        session = db.session()
        found = assessment.list_assessments(session, current_principal(), household_id)
        return {"items": assessment.view(session, found)}

    @require("caseworker", "admin")
    @idempotent
    @blp.arguments(AssessmentIn)
    @blp.response(201, AssessmentOut)
    @blp.alt_response(
        409,
        description="possible_duplicate: a need is identical to a request recorded for this household "
        "within the window (details name it); send `confirm_duplicate: true` to record it anyway.",
    )
    def post(self, body: dict, household_id: int) -> dict[str, Any]:
        """Record an assessment: one aid request per need, routed to partners at once."""
        session = db.session()
        result = assessment.record(session, current_principal(), household_id, body)
        db.commit()
        return result
