"""Reversals (红冲) of disbursements recorded in error: proposed by one user, approved or
rejected by a second (an auditor or an admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.reversals import DecisionIn, ReversalIn, ReversalListArgs, ReversalListOut, ReversalOut
from broker.platform import db
from broker.referral import reversals

blp = Blueprint("reversals", __name__, description="Reversals (红冲) of disbursements recorded in error, four eyes.")


@blp.route("/disbursements/<int:disbursement_id>/reversal")
class Propose(MethodView):
    @require(*reversals.PROPOSERS)
    @idempotent
    @blp.arguments(ReversalIn)
    @blp.response(201, ReversalOut)
    def post(self, body: dict, disbursement_id: int) -> Any:
        """Propose reversing a disbursement recorded in error, saying why. A second person
        approves it; proposing again while it is pending returns the same reversal."""
        rev = reversals.propose(db.session(), current_principal(), disbursement_id, body["reason"])
        db.commit()
        return rev


@blp.route("/reversals")
class Queue(MethodView):
    @require(*reversals.PROPOSERS)
    @blp.arguments(ReversalListArgs, location="query")
    @blp.response(200, ReversalListOut)
    def get(self, args: dict) -> dict[str, Any]:
        """Reversals by status (pending first of all: the queue to decide); a partner sees its own."""
        status = None if args["status"] == "all" else args["status"]
        return {"items": reversals.queue(db.session(), current_principal(), status)}


@blp.route("/reversals/<int:reversal_id>")
class One(MethodView):
    @require(*reversals.PROPOSERS)
    @blp.response(200, ReversalOut)
    def get(self, reversal_id: int) -> Any:
        """One reversal and its decision."""
        return reversals.get(db.session(), current_principal(), reversal_id)


@blp.route("/reversals/<int:reversal_id>/approve")
class Approve(MethodView):
    @require(*reversals.APPROVERS)
    @idempotent
    @blp.arguments(DecisionIn)
    @blp.response(200, ReversalOut)
    def post(self, body: dict, reversal_id: int) -> Any:
        """Approve a pending reversal (not the one who proposed it): the ledger takes the
        amount back from the household; the original disbursement stays as it was."""
        rev = reversals.approve(db.session(), current_principal(), reversal_id, body["note"])
        db.commit()
        return rev


@blp.route("/reversals/<int:reversal_id>/reject")
class Reject(MethodView):
    @require(*reversals.APPROVERS)
    @idempotent
    @blp.arguments(DecisionIn)
    @blp.response(200, ReversalOut)
    def post(self, body: dict, reversal_id: int) -> Any:
        """Reject a pending reversal, saying why (not the one who proposed it); the disbursement stands."""
        rev = reversals.reject(db.session(), current_principal(), reversal_id, body["note"])
        db.commit()
        return rev
