"""Offers as partners answer them: accept (pledging from the partner's fund), reject,
complete — and the broker's own moves on an offer: delivered, expired, declined or
accepted by an adapter's rules, failed delivery (with the outbox handler that expires an
offer at its deadline). Disbursements on a taken offer are :mod:`.payments`; reading
offers is :mod:`.inbox`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.money import fund_parts, funds
from broker.platform import outbox
from broker.platform.amounts import yuan
from broker.platform.errors import Conflict, Forbidden, InsufficientFunds, Invalid
from broker.platform.scope import Principal
from broker.referral import inbox, lifecycle, wording
from models import AidRequest, Offer, Partner
from models.base import utcnow


def lock_own_offer(session: Session, principal: Principal, offer_id: int) -> tuple[Offer, AidRequest]:
    """The partner's own offer, locked with its request."""
    if principal.role != "partner":
        raise Forbidden("Only the partner an offer was made to can answer it.")
    inbox.get_offer(session, principal, offer_id)
    return lifecycle.lock_offer(session, offer_id)


def accept(session: Session, principal: Principal, offer_id: int, amount_fen: int | None = None) -> Offer:
    """The partner takes the offer on, for all of the amount or less; the money is
    pledged from its fund at once, and any shortfall goes on to other partners."""
    offer, req = lock_own_offer(session, principal, offer_id)
    take(session, offer, req, amount_fen, by="partner")
    return offer


def take(session: Session, offer: Offer, req: AidRequest, amount_fen: int | None, *, by: str) -> int:
    """Accept ``offer`` (by the partner, or by its adapter's rules); returns the fen pledged."""
    lifecycle.check_offer(offer, "accepted", "accept")
    if offer.amount_fen is None:
        if amount_fen:
            raise Invalid(
                "This request asks for goods or a service, not money: accept it without an amount.",
                details={"amount_fen": ["not allowed: the request has no amount"]},
            )
        amount = 0
    else:
        amount = offer.amount_fen if amount_fen is None else amount_fen
        if not 0 < amount <= offer.amount_fen:
            raise Invalid(
                f"You can accept between ¥0.01 and the {yuan(offer.amount_fen)} offered.",
                details={"amount_fen": [f"must be between 1 and {offer.amount_fen}"]},
            )
        _pledge(session, offer, req, amount)
    offer.accepted_fen = amount
    req.funded_fen += amount
    lifecycle.set_offer_status(
        session, offer, req, "accepted", action="accepted", details={"accepted_fen": amount, "by": by}
    )
    lifecycle.note_taken(session, req)
    lifecycle.settle(session, req)
    return amount


def _pledge(session: Session, offer: Offer, req: AidRequest, amount: int) -> None:
    partner = session.get(Partner, offer.partner_id)
    try:
        fund_parts.pledge(session, partner, offer, req, amount)
    except InsufficientFunds as exc:
        available = exc.details.get("available_fen", funds.balances(session, partner.id)["available_fen"])
        raise InsufficientFunds(
            f"{partner.name}'s fund has {yuan(available)} available, not enough to accept {yuan(amount)}. "
            "Deposit money into the fund first, or accept a smaller amount.",
            details={"available_fen": available, "amount_fen": amount},
        ) from exc


def reject(session: Session, principal: Principal, offer_id: int, reason: str) -> Offer:
    """The partner declines, with a reason; the request goes on to the next partner."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why you decline, so the caseworker can look elsewhere.", details={"reason": ["blank"]})
    offer, req = lock_own_offer(session, principal, offer_id)
    refuse(session, offer, req, reason, action="rejected")
    return offer


def refuse(session: Session, offer: Offer, req: AidRequest, reason: str, *, action: str) -> None:
    """Reject ``offer`` (by the partner, or declined by its adapter) and re-route."""
    lifecycle.set_offer_status(session, offer, req, "rejected", action=action, reason=reason)
    lifecycle.settle(session, req)


def complete(
    session: Session, principal: Principal, offer_id: int, note: str = "", *, more_available: bool = False
) -> Offer:
    """The partner has done what it took on. Money pledged and not paid out goes back to
    its fund, and the request looks for the rest elsewhere at once — from this partner
    too only when it says it can give more (``more_available``)."""
    offer, req = lock_own_offer(session, principal, offer_id)
    lifecycle.check_offer(offer, "completed", "complete")
    if offer.amount_fen is not None and offer.disbursed_fen == 0:
        raise Conflict(
            "Record the disbursement before completing this offer (nothing has been paid out on it yet).",
            details={"current_status": offer.status, "disbursed_fen": 0},
            code="nothing_disbursed",
        )
    note_more_available(offer, more_available)
    finish(session, offer, req, (note or "").strip() or wording.COMPLETED_BY_PARTNER)
    return offer


def note_more_available(offer: Offer, more_available: bool) -> None:
    """The partner's word on completing: it can be asked again for what is left."""
    offer.more_available = bool(more_available)


def finish(session: Session, offer: Offer, req: AidRequest, reason: str) -> None:
    """Complete a taken offer: what the partner pledged and did not pay out goes back to
    its fund and, being uncovered again, back to routing at once (see
    :func:`lifecycle.settle_remainder`)."""
    released = lifecycle.release_remainder(session, offer, req, memo="offer completed under the pledged amount")
    details: dict = {"released_fen": released}
    if offer.more_available:
        details["more_available"] = True
    lifecycle.set_offer_status(session, offer, req, "completed", action="completed", reason=reason, details=details)
    lifecycle.settle_remainder(session, req, released)


# --- the broker's own moves ------------------------------------------------------------


def mark_received(
    session: Session, offer: Offer, req: AidRequest, details: dict | None = None, reason: str | None = None
) -> None:
    """The partner has the offer; ``reason`` notes how it went (sent without names)."""
    lifecycle.set_offer_status(session, offer, req, "received", action="delivered", reason=reason, details=details)


def fail(session: Session, offer: Offer, req: AidRequest, *, attempts: int, error: str) -> None:
    """Delivery failed for good: the offer fails and the request goes to the next partner.
    The note is a code; the adapter's own error (English, from the partner's system) is
    kept on the timeline for whoever has to fix the connection."""
    lifecycle.set_offer_status(
        session,
        offer,
        req,
        "failed",
        action="delivery_failed",
        reason=wording.DELIVERY_FAILED,
        details={"attempts": attempts, "error": error},
    )
    lifecycle.settle(session, req)


def expire(session: Session, offer_id: int, now: datetime | None = None) -> str:
    """Withdraw an offer not answered by its deadline (``cancelled``, reason ``expired``)
    and route the request on. Safe to run twice and early: it acts only on an unanswered
    offer whose deadline has passed."""
    now = now or utcnow()
    offer, req = lifecycle.lock_offer(session, offer_id)
    if offer.status not in lifecycle.UNANSWERED:
        return "answered"
    if offer.respond_by > now:
        return "not due"
    lifecycle.withdraw(
        session,
        offer,
        req,
        lifecycle.EXPIRED,
        action="expired",
    )
    lifecycle.settle(session, req)
    return "expired"


@outbox.handler("expire_offer")
def _expire_when_due(session: Session, payload: dict) -> None:
    """The deadline job (RQ's scheduler runs it at ``respond_by``). Run early (a clock
    ahead of the database's), it puts itself back for the deadline."""
    offer_id = payload["offer_id"]
    if expire(session, offer_id) == "not due":
        respond_by = session.execute(select(Offer.respond_by).where(Offer.id == offer_id)).scalar_one()
        outbox.add(session, "expire_offer", {"offer_id": offer_id}, due_at=respond_by)
