"""Aid requests: find them, follow them (offers and timeline), and steer them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.common import page_of
from broker.api.schemas.requests import (
    CompleteIn,
    HoldIn,
    PolicyOverrideIn,
    ReferIn,
    ReferralOutcomeIn,
    RequestListArgs,
    RequestOut,
    RequestPatchIn,
    RequestSummaryOut,
    RequestTimelineOut,
    RevokeIn,
)
from broker.platform import db
from broker.referral import policy_holds, referrals, requests

blp = Blueprint("requests", __name__, description="Aid requests: one per need, followed until fulfilled.")

READERS = ("caseworker", "admin", "auditor")
STEERERS = ("caseworker", "admin")


@blp.route("/requests")
class Requests(MethodView):
    @require(*READERS)
    @blp.arguments(RequestListArgs, location="query")
    @blp.response(200, page_of(RequestSummaryOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Requests on your grids (all, for admins and auditors): those no partner could take
        (`routing_state=unmatched`) first, then newest first."""
        return requests.list_requests(db.session(), current_principal(), **args).as_dict()


@blp.route("/requests/<int:request_id>")
class RequestItem(MethodView):
    @require(*READERS)
    @blp.response(200, RequestOut)
    def get(self, request_id: int) -> dict[str, Any]:
        """One request with its offers and its timeline (why this partner, why not those)."""
        return requests.get_detail(db.session(), current_principal(), request_id)

    @require(*STEERERS)
    @blp.arguments(RequestPatchIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition: the request is closed.")
    def patch(self, body: dict, request_id: int) -> dict[str, Any]:
        """Choose whether an unmatched request is routed again by itself when a partner or
        fund that could take it appears."""
        return _steered(requests.set_auto_retry(db.session(), current_principal(), request_id, body["auto_retry"]))


@blp.route("/requests/<int:request_id>/timeline")
class RequestTimeline(MethodView):
    @require(*READERS)
    @blp.response(200, RequestTimelineOut)
    def get(self, request_id: int) -> dict[str, Any]:
        """Only the request's timeline."""
        return requests.get_detail(db.session(), current_principal(), request_id)


def _steered(req: Any) -> dict[str, Any]:
    result = requests.detail(db.session(), req)
    db.commit()
    return result


@blp.route("/requests/<int:request_id>/cancel")
class RequestCancel(MethodView):
    @require(*STEERERS)
    @blp.arguments(RevokeIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition: details.current_status says where it is.")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Withdraw the request (``revoked``, with a reason code); its offers are withdrawn
        and unspent pledges released."""
        return _steered(
            requests.revoke(db.session(), current_principal(), request_id, body["reason_code"], body["note"])
        )


@blp.route("/requests/<int:request_id>/entered-in-error")
class RequestEnteredInError(MethodView):
    @require(*STEERERS)
    @blp.arguments(CompleteIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition, or already_disbursed (withdraw it instead).")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Mark a request recorded by mistake (``entered-in-error``); its offers are withdrawn."""
        return _steered(requests.mark_entered_in_error(db.session(), current_principal(), request_id, body["note"]))


@blp.route("/requests/<int:request_id>/retry")
class RequestRetry(MethodView):
    @require(*STEERERS)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="not_unmatched: only an active request no partner could take is retried.")
    def post(self, request_id: int) -> dict[str, Any]:
        """Route an unmatched request again (reopened, not re-assessed)."""
        return _steered(requests.retry(db.session(), current_principal(), request_id))


@blp.route("/requests/<int:request_id>/refer")
class RequestRefer(MethodView):
    @require(*STEERERS)
    @blp.arguments(ReferIn)
    @blp.response(201, RequestOut)
    @blp.alt_response(
        409, description="not_manual (the organisation takes offers through the broker), or already_referred."
    )
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Record a referral by hand to a named organisation: an offer to a ``manual``
        partner (made for the organisation when new), answered by the caseworker."""
        offer = referrals.refer(db.session(), current_principal(), request_id, body)
        return _steered(offer.request)


@blp.route("/referrals/<int:offer_id>/outcome")
class RequestReferralOutcome(MethodView):
    @require(*STEERERS)
    @blp.arguments(ReferralOutcomeIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(
        409,
        description="invalid_transition, insufficient_funds in the organisation's fund, or "
        "restricted_funds (restricted to other purposes).",
    )
    def post(self, body: dict, offer_id: int) -> dict[str, Any]:
        """Record the organisation's answer to a referral by hand (an offer to a ``manual``
        partner): accepted, declined or completed; the request moves on as with any partner."""
        offer = referrals.record_outcome(db.session(), current_principal(), offer_id, body)
        return _steered(offer.request)


@blp.route("/requests/<int:request_id>/hold")
class RequestHold(MethodView):
    @require(*STEERERS)
    @blp.arguments(HoldIn, required=False)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Pause routing; offers already made stand."""
        return _steered(requests.hold(db.session(), current_principal(), request_id, body["reason"]))


@blp.route("/requests/<int:request_id>/policy-override")
class RequestPolicyOverride(MethodView):
    @require(*STEERERS)
    @idempotent
    @blp.arguments(PolicyOverrideIn)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="nothing_held: no part of the request is held for a policy; invalid_transition.")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Route an urgent need in full now, not waiting for the policy's decision: what is
        held for a government policy is released to routing, with the caseworker's reason
        on the timeline and the audit chain."""
        return _steered(policy_holds.override(db.session(), current_principal(), request_id, body["reason"]))


@blp.route("/requests/<int:request_id>/resume")
class RequestResume(MethodView):
    @require(*STEERERS)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, request_id: int) -> dict[str, Any]:
        """Take a held request up again and route what is still missing."""
        return _steered(requests.resume(db.session(), current_principal(), request_id))


@blp.route("/requests/<int:request_id>/complete")
class RequestComplete(MethodView):
    @require(*STEERERS)
    @blp.arguments(CompleteIn, required=False)
    @blp.response(200, RequestOut)
    @blp.alt_response(409, description="invalid_transition")
    def post(self, body: dict, request_id: int) -> dict[str, Any]:
        """Confirm that the family has the help."""
        return _steered(requests.complete(db.session(), current_principal(), request_id, body["note"]))
