"""Consent records of a household's members: read (caseworkers of its grid, auditors,
admins), record and withdraw (its caseworkers). Partners never see them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.consents import ConsentIn, ConsentOut, WithdrawIn
from broker.platform import db
from broker.registry import consent_records

blp = Blueprint("consents", __name__, description="What each member agreed to, purpose by purpose.")

READERS = ("admin", "auditor", "caseworker")


@blp.route("/households/<int:household_id>/consents")
class HouseholdConsents(MethodView):
    @require(*READERS)
    @blp.response(200, ConsentOut(many=True))
    def get(self, household_id: int) -> Any:
        """Every consent of the household's members, current and withdrawn, oldest first."""
        return consent_records.list_consents(db.session(), current_principal(), household_id)

    @require("caseworker")
    @idempotent
    @blp.arguments(ConsentIn)
    @blp.response(201, ConsentOut)
    @blp.alt_response(409, description="consent_exists: the same consent is current already.")
    def post(self, body: dict, household_id: int) -> Any:
        """Record a member's consent to one purpose (for a minor: by the guardian named),
        with the reference of the signed form. Caseworkers of the household's grid."""
        consent = consent_records.record(db.session(), current_principal(), household_id, body)
        db.commit()
        return consent


@blp.route("/consents/<int:consent_id>/withdraw")
class ConsentWithdraw(MethodView):
    @require("caseworker")
    @idempotent
    @blp.arguments(WithdrawIn)
    @blp.response(200, ConsentOut)
    @blp.alt_response(409, description="consent_withdrawn: it was withdrawn already.")
    def post(self, body: dict, consent_id: int) -> Any:
        """Withdraw a consent, with the family's reason: from now on nothing that needs it
        leaves the broker (an offer not yet delivered goes without the family's names)."""
        consent = consent_records.withdraw(db.session(), current_principal(), consent_id, body["reason"])
        db.commit()
        return consent
