"""Offers as partners see and answer them: the inbox (their own offers only, with what a
partner may know about the family), accept (pledging from the partner's fund), reject,
disbursements, complete — and the broker's own moves on an offer: delivered, expired,
declined or accepted by an adapter's rules, failed delivery.

A partner asking about another partner's offer is told it does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.base import OfferInfo
from broker import audit
from broker.money import disbursement_kinds, evidence, funds, ledger
from broker.platform import actor, outbox
from broker.platform.amounts import yuan
from broker.platform.errors import Conflict, Forbidden, InsufficientFunds, Invalid, NotFound
from broker.platform.pages import Page
from broker.platform.scope import Principal
from broker.referral import lifecycle
from broker.registry import privacy
from models import AidRequest, Disbursement, Grid, Household, Offer, Partner
from models.base import utcnow

URGENCY_ORDER = {"critical": 0, "high": 1, "normal": 2}
DISBURSEMENT_KINDS = disbursement_kinds.DISBURSEMENT_KINDS


@dataclass(frozen=True)
class InboxItem:
    """An offer with what its partner may know about the request behind it."""

    id: int
    request_id: int
    partner_id: int
    partner_name: str
    status: str
    status_reason: str | None
    category: str
    kind: str
    urgency: str
    amount_fen: int | None
    accepted_fen: int
    disbursed_fen: int
    respond_by: datetime
    community: str
    household: str
    description: str
    reasons: list
    created_at: datetime


# --- reading ------------------------------------------------------------------------


def _require_offer_reader(principal: Principal) -> None:
    if principal.role not in ("partner", "admin", "auditor"):
        raise Forbidden("Offers are the partners' inbox; caseworkers follow their requests under /requests.")


def get_offer(session: Session, principal: Principal, offer_id: int) -> Offer:
    """An offer the principal may see: partners their own, admins and auditors all."""
    _require_offer_reader(principal)
    offer = session.get(Offer, offer_id)
    if offer is None or (principal.role == "partner" and offer.partner_id != principal.partner_id):
        raise NotFound("No such offer.")
    return offer


def _inbox_rows(session: Session, stmt):  # noqa: ANN001 - a select over Offer in, rows out
    return session.execute(
        stmt.add_columns(AidRequest, Household.head_name, Household.consent_to_share, Grid.community, Partner.name)
        .join(AidRequest, AidRequest.id == Offer.request_id)
        .join(Household, Household.id == AidRequest.household_id)
        .join(Grid, Grid.id == AidRequest.grid_id)
        .join(Partner, Partner.id == Offer.partner_id)
    ).all()


def _item(row) -> InboxItem:  # noqa: ANN001 - a row of _inbox_rows
    offer, req, head_name, consented, community, partner_name = row
    return InboxItem(
        id=offer.id,
        request_id=offer.request_id,
        partner_id=offer.partner_id,
        partner_name=partner_name,
        status=offer.status,
        status_reason=offer.status_reason,
        category=req.category,
        kind=req.kind,
        urgency=req.urgency,
        amount_fen=offer.amount_fen,
        accepted_fen=offer.accepted_fen,
        disbursed_fen=offer.disbursed_fen,
        respond_by=offer.respond_by,
        community=community,
        household=privacy.household_label(head_name, consented),
        description=privacy.redact(req.description),
        reasons=list(offer.reasons or []),
        created_at=offer.created_at,
    )


def inbox_item(session: Session, principal: Principal, offer_id: int) -> InboxItem:
    """One offer as its partner sees it."""
    offer = get_offer(session, principal, offer_id)
    return _item(_inbox_rows(session, select(Offer).where(Offer.id == offer.id))[0])


def list_offers(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    category: str | None = None,
    partner: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """The inbox: a partner's own offers (admins and auditors: all, or one partner's),
    the most urgent first, then the nearest deadline."""
    _require_offer_reader(principal)
    stmt = select(Offer)
    if principal.role == "partner":
        stmt = stmt.where(Offer.partner_id == principal.partner_id)
    elif partner is not None:
        stmt = stmt.where(Offer.partner_id == partner)
    if status:
        stmt = stmt.where(Offer.status == status)
    if category:
        stmt = stmt.where(Offer.request_id.in_(select(AidRequest.id).where(AidRequest.category == category)))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    urgency = case(URGENCY_ORDER, value=AidRequest.urgency, else_=3)
    rows = _inbox_rows(
        session, stmt.order_by(urgency, Offer.respond_by, Offer.id).limit(per_page).offset((page - 1) * per_page)
    )
    return Page([_item(r) for r in rows], page, per_page, total)


def offer_info(session: Session, offer: Offer) -> OfferInfo:
    """The plain data an adapter may carry to the partner."""
    row = _inbox_rows(session, select(Offer).where(Offer.id == offer.id))[0]
    item = _item(row)
    return OfferInfo(
        id=item.id,
        request_id=item.request_id,
        category=item.category,
        urgency=item.urgency,
        amount_fen=item.amount_fen,
        respond_by=item.respond_by,
        community=item.community,
        description=item.description,
        household_label=item.household,
        partner_id=item.partner_id,
    )


def offer_kind(session: Session, principal: Principal, offer_id: int) -> str:
    """``money``, ``service`` or ``in_kind``: what is recorded on this offer."""
    return get_offer(session, principal, offer_id).request.kind


def disbursements(session: Session, principal: Principal, offer_id: int) -> list[Disbursement]:
    offer = get_offer(session, principal, offer_id)
    return list(
        session.execute(select(Disbursement).where(Disbursement.offer_id == offer.id).order_by(Disbursement.id))
        .scalars()
        .all()
    )


# --- partner actions ----------------------------------------------------------------


def _act(session: Session, principal: Principal, offer_id: int) -> tuple[Offer, AidRequest]:
    """The partner's own offer, locked with its request."""
    if principal.role != "partner":
        raise Forbidden("Only the partner an offer was made to can answer it.")
    get_offer(session, principal, offer_id)
    return lifecycle.lock_offer(session, offer_id)


def accept(session: Session, principal: Principal, offer_id: int, amount_fen: int | None = None) -> Offer:
    """The partner takes the offer on, for all of the amount or less; the money is
    pledged from its fund at once, and any shortfall goes on to other partners."""
    offer, req = _act(session, principal, offer_id)
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
        ledger.pledge(
            session,
            partner.id,
            partner.name,
            amount,
            offer_id=offer.id,
            request_id=req.id,
            household_id=req.household_id,
        )
    except InsufficientFunds as exc:
        available = funds.balances(session, partner.id)["available_fen"]
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
    offer, req = _act(session, principal, offer_id)
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
    offer, req = _act(session, principal, offer_id)
    lifecycle.check_offer(offer, "completed", "complete")
    if offer.amount_fen is not None and offer.disbursed_fen == 0:
        raise Conflict(
            "Record the disbursement before completing this offer (nothing has been paid out on it yet).",
            details={"current_status": offer.status, "disbursed_fen": 0},
            code="nothing_disbursed",
        )
    note_more_available(offer, more_available)
    finish(session, offer, req, (note or "").strip() or "completed by the partner")
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


def record_disbursement(
    session: Session,
    principal: Principal,
    offer_id: int,
    *,
    upload: evidence.Upload | None = None,
    **sent: Any,
) -> Disbursement:
    """Money, a service session or goods reached the family (``sent``: the fields of
    :func:`broker.money.disbursement_kinds.delivery`, by the offer's kind). Only money moves in
    the ledger, from the partner's pledge to the household; the first record puts the
    offer in progress; paying out all the money accepted completes it."""
    offer, req = _act(session, principal, offer_id)
    what = disbursement_kinds.delivery(req.kind, **sent)
    stored = evidence.store(upload) if upload is not None else None
    return pay(session, offer, req, what, stored=stored)


def pay(
    session: Session,
    offer: Offer,
    req: AidRequest,
    what: disbursement_kinds.Delivery | None = None,
    *,
    stored: dict | None = None,
    **sent: Any,
) -> Disbursement:
    """Record a disbursement on a taken offer (by the partner, or by its adapter, which
    may pass the fields — ``amount_fen``, ``kind``, ``reference`` — instead of ``what``)."""
    if offer.status not in lifecycle.TAKEN:
        raise lifecycle.refuse("offer", offer.status, "record a disbursement on", offer.status_reason)
    if what is None:
        what = disbursement_kinds.delivery(req.kind, **sent)
    if what.kind != disbursement_kinds.RECORDED_AS[req.kind]:
        raise Invalid(
            f"This offer records {disbursement_kinds.RECORDED_AS[req.kind]}, not {what.kind}.",
            code="wrong_disbursement_kind",
            details={"kind": [f"must be {disbursement_kinds.RECORDED_AS[req.kind]}"]},
        )
    remaining = offer.accepted_fen - offer.disbursed_fen
    if what.amount_fen > remaining:
        raise Invalid(
            f"Only {yuan(remaining)} of what you accepted remains to pay out; "
            f"{yuan(what.amount_fen)} is more than that.",
            details={"amount_fen": [f"must be at most {remaining}"]},
        )
    partner = session.get(Partner, offer.partner_id)
    first = disbursement_kinds.first_with_reference(session, partner.id, what.reference)
    if first is not None:
        raise disbursement_kinds.duplicate_reference(first)
    row = Disbursement(
        offer_id=offer.id,
        request_id=req.id,
        partner_id=partner.id,
        household_id=req.household_id,
        grid_id=req.grid_id,
        category=req.category,
        amount_fen=what.amount_fen,
        kind=what.kind,
        reference=what.reference,
        evidence=stored,
        actor=actor.current(),
        **what.fields(),
    )
    try:
        with session.begin_nested():
            session.add(row)  # a concurrent twin with the same voucher waits here, then fails
    except IntegrityError:
        first = disbursement_kinds.first_with_reference(session, partner.id, what.reference)
        if first is None:
            raise
        raise disbursement_kinds.duplicate_reference(first) from None
    if what.amount_fen > 0:
        txn = ledger.disburse(
            session,
            partner.id,
            partner.name,
            what.amount_fen,
            offer_id=offer.id,
            request_id=req.id,
            household_id=req.household_id,
            reference=what.reference,
        )
        row.transaction_id = txn.id
    offer.disbursed_fen += what.amount_fen
    req.disbursed_fen += what.amount_fen
    session.flush()
    audit.record(
        session,
        "disbursement.recorded",
        row,
        after={
            "offer_id": offer.id,
            "partner_id": partner.id,
            "amount_fen": what.amount_fen,
            "kind": what.kind,
            "reference": what.reference,
            "evidence_sha256": stored["sha256"] if stored else None,
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in what.fields().items()},
        },
        household_id=req.household_id,
        request_id=req.id,
    )
    if offer.status == "accepted":
        lifecycle.set_offer_status(session, offer, req, "in-progress", action="started")
    if offer.amount_fen is not None and offer.disbursed_fen >= offer.accepted_fen:
        finish(session, offer, req, "fully disbursed")
    else:
        lifecycle.settle(session, req)
    return row


# --- the broker's own moves ------------------------------------------------------------


def mark_received(session: Session, offer: Offer, req: AidRequest, details: dict | None = None) -> None:
    lifecycle.set_offer_status(session, offer, req, "received", action="delivered", details=details)


def fail(session: Session, offer: Offer, req: AidRequest, error: str) -> None:
    """Delivery failed for good: the offer fails and the request goes to the next partner."""
    lifecycle.set_offer_status(session, offer, req, "failed", action="delivery_failed", reason=error)
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
