"""The two state machines of the closed loop and what links them.

AidRequest (a FHIR ServiceRequest): ``active`` while help is being found or given →
``completed``; ``on-hold`` and back; ``revoked`` (withdrawn by the caseworker, with a
coded reason) and ``entered-in-error`` end it. Beside the status, the request's
**routing state** says where finding help stands: ``routing`` (being routed, nothing on
offer yet), ``offered`` (partners asked, none has taken it), ``partly-covered``,
``covered``, and ``unmatched`` — no partner could take it (or the rest of it): it is
back with its caseworker, with the reasons, until they retry, refer it by hand, hold
or withdraw it (or the reconciler retries it, when they chose to).

Offer (a FHIR Task): ``requested`` → ``received`` → ``accepted`` | ``rejected``;
``accepted`` → ``in-progress`` → ``completed``; ``cancelled`` (withdrawn or expired),
``failed`` (delivery failed for good).

Every change goes through :func:`set_request_status` / :func:`set_routing_state` /
:func:`set_offer_status`, which refuse an illegal move with :class:`InvalidTransition`
(409, the current status in the details) and write the audit event. After an offer
changes, :func:`settle` decides what the request needs next: completion, more routing
(an outbox row), or nothing.

Rows are locked request first, then offer, then ledger accounts (the ledger locks those),
so that two writers never wait on each other in opposite orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.money import fund_parts
from broker.people import notify
from broker.platform import outbox
from broker.platform.errors import InvalidTransition, NotFound
from broker.referral import followups, wording
from broker.referral.policy_amounts import policy_covered_fen, policy_fen
from models import AidRequest, Offer, Partner
from models.base import utcnow

REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"on-hold", "completed", "revoked", "entered-in-error"}),
    "on-hold": frozenset({"active", "completed", "revoked", "entered-in-error"}),
    "completed": frozenset({"entered-in-error"}),
    "revoked": frozenset(),
    "entered-in-error": frozenset(),
}
OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"received", "accepted", "rejected", "cancelled", "failed"}),
    "received": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"in-progress", "completed", "cancelled"}),
    "in-progress": frozenset({"completed", "cancelled"}),
    "rejected": frozenset(),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset(),
}
TERMINAL_REQUEST = frozenset({"completed", "revoked", "entered-in-error"})
UNMATCHED = "unmatched"
# Offers waiting for the partner's answer, and offers the partner has taken on.
UNANSWERED = ("requested", "received")
TAKEN = ("accepted", "in-progress")
LIVE = UNANSWERED + TAKEN
EXPIRED = "expired"


def _for_update(session: Session, stmt):  # noqa: ANN001 - a select in, the same select out
    # FOR UPDATE is a row lock on PostgreSQL and, on SQLite, where the write window opens.
    return stmt.execution_options(populate_existing=True).with_for_update()


def lock_request(session: Session, request_id: int) -> AidRequest:
    """The request, re-read and locked for the rest of the transaction."""
    req = session.execute(_for_update(session, select(AidRequest).where(AidRequest.id == request_id))).scalar()
    if req is None:
        raise NotFound("No such request.")
    session.expire(req, ["offers", "policy_holds"])  # as they are now, not as first loaded
    return req


def lock_offer(session: Session, offer_id: int) -> tuple[Offer, AidRequest]:
    """The offer and its request, both locked (request first, as everywhere)."""
    request_id = session.execute(select(Offer.request_id).where(Offer.id == offer_id)).scalar()
    if request_id is None:
        raise NotFound("No such offer.")
    req = lock_request(session, request_id)
    offer = session.execute(_for_update(session, select(Offer).where(Offer.id == offer_id))).scalar_one()
    return offer, req


def refuse(kind: str, current: str, action: str, reason: str | None) -> InvalidTransition:
    err = InvalidTransition(kind, current, action)
    if reason:
        err.message = f"Cannot {action} this {kind}: it is {current} ({reason})."
        err.details["status_reason"] = reason
    return err


def check_request(req: AidRequest, to: str, action: str) -> None:
    if to not in REQUEST_TRANSITIONS[req.status]:
        raise refuse("request", req.status, action, req.status_reason)


def check_request_open(req: AidRequest, action: str) -> None:
    """Refuse an action that only an open (active or held) request allows."""
    if req.status in TERMINAL_REQUEST:
        raise refuse("request", req.status, action, req.status_reason)


def check_offer(offer: Offer, to: str, action: str) -> None:
    if to not in OFFER_TRANSITIONS[offer.status]:
        raise refuse("offer", offer.status, action, offer.status_reason)


def _set_status(
    session: Session,
    kind: str,
    row: AidRequest | Offer,
    req: AidRequest,
    to: str,
    *,
    action: str,
    reason: str | None,
    details: dict | None,
    stamp: str | None = None,
    after: dict | None = None,
) -> None:
    """Move a request or an offer (``kind``) to ``to`` or refuse, set the ``stamp`` time
    column if one is named, and audit it as ``<kind>.<action>`` (``after`` adds to what
    the audit event shows after the move)."""
    check = check_request if kind == "request" else check_offer
    check(row, to, action)
    before = {"status": row.status, "status_reason": row.status_reason}
    row.status = to
    row.status_reason = reason
    if stamp:
        setattr(row, stamp, utcnow())
    audit.record(
        session,
        f"{kind}.{action}",
        row,
        before=before,
        after={"status": to, "status_reason": reason, **(after or {})},
        details=details,
        household_id=req.household_id,
        request_id=req.id,
    )


def set_request_status(
    session: Session,
    req: AidRequest,
    to: str,
    *,
    action: str,
    reason: str | None = None,
    details: dict | None = None,
) -> None:
    """Move a request to ``to`` (or refuse), and audit it as ``request.<action>``."""
    stamp = "completed_at" if to == "completed" else None
    _set_status(session, "request", req, req, to, action=action, reason=reason, details=details, stamp=stamp)
    if to == "completed":  # the loop ends with a follow-up visit to the family (回访)
        followups.schedule(session, req)
    elif to == "entered-in-error":  # a request that never was: nobody goes to follow it up
        followups.cancel(session, req)


def set_routing_state(
    session: Session,
    req: AidRequest,
    to: str,
    *,
    action: str = "routing_state",
    reasons: dict | None = None,
    details: dict | None = None,
) -> bool:
    """Move the request's routing state to ``to`` (with the reasons, for ``unmatched``),
    audited as ``request.<action>``. Returns whether anything changed."""
    if req.routing_state == to and (to != UNMATCHED or req.routing_reasons == reasons):
        return False
    before = {"routing_state": req.routing_state}
    req.routing_state = to
    req.routing_reasons = reasons if to == UNMATCHED else None
    after: dict = {"routing_state": to}
    if reasons is not None:
        after["routing_reasons"] = reasons
    audit.record(
        session,
        f"request.{action}",
        req,
        before=before,
        after=after,
        details=details,
        household_id=req.household_id,
        request_id=req.id,
    )
    return True


def coverage(req: AidRequest) -> str:
    """The routing state the offers give: ``covered`` when partners have taken all of it,
    ``partly-covered`` when some, ``offered`` when partners are asked and none has taken
    it yet, ``routing`` when nobody is asked yet."""
    taken = any(o.status in (*TAKEN, "completed") for o in req.offers)
    if is_money(req):
        by_policy = policy_covered_fen(req)
        if req.funded_fen + by_policy >= req.amount_fen or (req.disbursed_fen + by_policy >= req.amount_fen):
            return "covered"
        if req.funded_fen > 0 or req.disbursed_fen > 0 or by_policy > 0:
            return "partly-covered"
    elif taken:
        return "covered"
    if any(o.status in UNANSWERED for o in req.offers):
        return "offered"
    return "routing"


def refresh_coverage(session: Session, req: AidRequest) -> None:
    """Bring the routing state in step with the offers (an ``unmatched`` request stays
    unmatched: only its caseworker, a referral or a partner taking it moves it on)."""
    if req.routing_state != UNMATCHED:
        set_routing_state(session, req, coverage(req))


def set_offer_status(
    session: Session,
    offer: Offer,
    req: AidRequest,
    to: str,
    *,
    action: str,
    reason: str | None = None,
    details: dict | None = None,
) -> None:
    """Move an offer to ``to`` (or refuse), and audit it as ``offer.<action>``."""
    answered = to in ("accepted", "rejected") or (to == "cancelled" and reason == EXPIRED)
    _set_status(
        session,
        "offer",
        offer,
        req,
        to,
        action=action,
        reason=reason,
        details=details,
        stamp="answered_at" if answered else ("completed_at" if to == "completed" else None),
        after={
            "partner_id": offer.partner_id,
            "amount_fen": offer.amount_fen,
            "accepted_fen": offer.accepted_fen,
            "disbursed_fen": offer.disbursed_fen,
        },
    )
    if answered:  # the request's caseworkers hear of every answer, and of silence
        notify.offer_answered(session, req, offer, "expired" if to == "cancelled" else to)


def is_money(req: AidRequest) -> bool:
    return req.amount_fen is not None


def unanswered_fen(req: AidRequest) -> int:
    return sum(o.amount_fen or 0 for o in req.offers if o.status in UNANSWERED)


def gap_fen(req: AidRequest) -> int:
    """Money still to find: the amount less what is accepted, what is on offer and what a
    policy is expected to pay."""
    if not is_money(req):
        return 0
    return max(0, req.amount_fen - req.funded_fen - unanswered_fen(req) - policy_fen(req))


def needs_routing(req: AidRequest) -> bool:
    """True when the request has something no partner has been asked for yet (an
    unmatched request waits for its caseworker, or for the reconciler's retry)."""
    if req.status != "active" or req.routing_state == UNMATCHED:
        return False
    if is_money(req):
        return gap_fen(req) > 0
    return not any(o.status in (*LIVE, "completed") for o in req.offers)


def release_remainder(session: Session, offer: Offer, req: AidRequest, memo: str) -> int:
    """Give back to the partner's fund what it pledged on ``offer`` and did not pay out;
    the request is then that much less funded. Returns the fen released."""
    remainder = offer.accepted_fen - offer.disbursed_fen
    if remainder <= 0:
        return 0
    partner = session.get(Partner, offer.partner_id)
    fund_parts.release(session, partner, offer, req, remainder, memo=memo)
    req.funded_fen -= remainder
    return remainder


def withdraw(session: Session, offer: Offer, req: AidRequest, reason: str, *, action: str = "withdrawn") -> None:
    """Cancel a live offer (releasing any unspent pledge) and tell the partner, through
    the outbox, that it is withdrawn."""
    released = release_remainder(session, offer, req, memo=f"offer withdrawn: {reason}") if offer.status in TAKEN else 0
    set_offer_status(
        session,
        offer,
        req,
        "cancelled",
        action=action,
        reason=reason,
        details={"released_fen": released} if released else None,
    )
    outbox.add(session, "withdraw_offer", {"offer_id": offer.id, "reason": reason})


def request_route(session: Session, request_id: int) -> None:
    """Ask for (more) routing of the request once this transaction commits."""
    outbox.add(session, "route_request", {"request_id": request_id})


def settle(session: Session, req: AidRequest, *, reopen: bool = False) -> str:
    """After an offer changed: complete the request when it is fulfilled, else route what
    is still missing. ``reopen`` takes an unmatched request back to routing (what a
    partner left unpaid is new to route). Returns what was decided (for logs and tests)."""
    if req.status in TERMINAL_REQUEST:
        return "nothing"
    if reopen and req.routing_state == UNMATCHED:
        set_routing_state(session, req, coverage(req), action="reopened", details={"by": "settle"})
    if is_money(req):
        fulfilled = req.disbursed_fen + policy_covered_fen(req) >= req.amount_fen
    else:
        fulfilled = any(o.status == "completed" for o in req.offers) and not any(o.status in LIVE for o in req.offers)
    if fulfilled:
        for offer in req.offers:
            if offer.status in UNANSWERED:
                withdraw(session, offer, req, wording.REQUEST_FULFILLED)
        set_routing_state(session, req, "covered")
        set_request_status(
            session,
            req,
            "completed",
            action="completed",
            reason=(wording.FULFILLED_WITH_POLICY if policy_covered_fen(req) else wording.FULFILLED_DISBURSED)
            if is_money(req)
            else wording.FULFILLED_BY_PARTNER,
            details={
                "disbursed_fen": req.disbursed_fen,
                "amount_fen": req.amount_fen,
                **({"policy_covered_fen": policy_covered_fen(req)} if is_money(req) and req.policy_holds else {}),
            },
        )
        return "completed"
    refresh_coverage(session, req)
    if needs_routing(req):
        request_route(session, req.id)
        return "routing"
    return "unmatched" if req.routing_state == UNMATCHED else "waiting"


def note_taken(session: Session, req: AidRequest) -> None:
    """An offer was accepted: the request is (partly) covered — an unmatched request too,
    when the partner it was referred to by hand takes it on. A hold stays a hold."""
    set_routing_state(session, req, coverage(req))


def settle_remainder(session: Session, req: AidRequest, released_fen: int) -> str:
    """After a partner completed its offer: what it left unpaid (``released_fen``) is
    uncovered again and goes back to routing at once, even for a request that was
    unmatched for the rest (the money is new to route)."""
    return settle(session, req, reopen=released_fen > 0)


def reopen(session: Session, req: AidRequest, *, by: str) -> None:
    """Put the locked, unmatched ``req`` back to routing (by its caseworker, or by the
    reconciler when they chose to retry automatically), audited as ``request.reopened``."""
    set_routing_state(session, req, coverage(req), action="reopened", details={"by": by})
    request_route(session, req.id)
