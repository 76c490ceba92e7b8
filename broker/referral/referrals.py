"""Referrals by hand: when no partner in the broker can take a request, the caseworker
refers the family to a named organisation themselves and records it as an offer to a
partner of adapter ``manual`` — an organisation already on file, or a light record made
for it on the spot. The caseworker then records the organisation's answer (it took the
request on, declined it, or has given the help), which moves the offer as the
partner's own answer would; money goes through the ledger like any partner's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Invalid, NotFound
from broker.platform.scope import Principal
from broker.referral import candidates, lifecycle, offers, payments, requests, routing, wording
from broker.referral.policy_amounts import policy_fen
from models import AidRequest, Grid, Offer, Partner
from models.base import utcnow
from models.partners import PARTNER_KINDS

MANUAL = candidates.MANUAL
# The caseworker has this long to record the organisation's answer before the referral
# lapses (and the request is routed again).
ANSWER_WITHIN_HOURS = 24 * 14
OUTCOMES = ("accepted", "declined", "completed")


def _manual(partner: Partner, how: str) -> Partner:
    """``partner``, if it is one referred to by hand; a broker partner is refused (``how``
    says why it is one)."""
    if partner.adapter != MANUAL:
        raise Conflict(
            f"{partner.name} {how}: retry routing instead of referring by hand.",
            details={"partner_id": partner.id, "adapter": partner.adapter},
            code="not_manual",
        )
    return partner


def _organisation(session: Session, req: AidRequest, data: dict[str, Any], actor: str) -> Partner:
    """The manual partner named: an existing one by id, or by name (made when new)."""
    if data.get("partner_id") is not None:
        partner = session.get(Partner, data["partner_id"])
        if partner is None:
            raise NotFound("No such partner.", details={"partner_id": ["unknown partner"]})
        return _manual(partner, "takes offers through the broker")
    name = (data.get("organisation") or "").strip()
    if not name:
        raise Invalid(
            "Name the organisation you referred the family to, or pick one on file.",
            details={"organisation": ["required without partner_id"]},
        )
    found = session.execute(select(Partner).where(Partner.name == name)).scalar()
    if found is not None:
        return _manual(found, "is a partner in the broker")
    kind = data.get("kind") or "social_org"
    if kind not in PARTNER_KINDS:
        raise Invalid(f"kind must be one of {', '.join(PARTNER_KINDS)}.", details={"kind": ["unknown kind"]})
    grid_code = session.execute(select(Grid.code).where(Grid.id == req.grid_id)).scalar_one()
    partner = Partner(
        name=name,
        kind=kind,
        adapter=MANUAL,
        adapter_config={},
        categories=[req.category],
        regions=[grid_code],
        respond_within_hours=ANSWER_WITHIN_HOURS,
        contact=(data.get("contact") or "").strip(),
        active=True,
    )
    session.add(partner)
    session.flush()
    audit.record(
        session,
        "partner.created",
        partner,
        after={"name": partner.name, "kind": kind, "adapter": MANUAL, "contact": partner.contact},
        details={"for_referral_of_request": req.id, "by": actor},
    )
    return partner


def refer(session: Session, principal: Principal, request_id: int, data: dict[str, Any]) -> Offer:
    """Record that the caseworker referred the request by hand to an organisation: an
    offer to that (manual) partner, delivered at once, waiting for the answer the
    caseworker will record."""
    req = requests.steer(session, principal, request_id)
    if req.status != "active":
        raise lifecycle.refuse("request", req.status, "refer", req.status_reason)
    partner = _organisation(session, req, data, principal.actor)
    if any(o.partner_id == partner.id and o.status in lifecycle.LIVE for o in req.offers):
        raise Conflict(
            f"The request is already with {partner.name}: record its answer first.",
            details={"partner_id": partner.id},
            code="already_referred",
        )
    amount = None
    if lifecycle.is_money(req):
        left = req.amount_fen - req.funded_fen - policy_fen(req)  # not what a policy holds or covers
        amount = data.get("amount_fen") or left
        if not 0 < amount <= left:
            raise Invalid(
                f"Refer between 1 and the {left} fen not yet covered.",
                details={"amount_fen": [f"must be between 1 and {left}"]},
            )
    note = (data.get("note") or "").strip()
    now = utcnow()
    offer = routing.new_offer(
        session,
        req,
        partner,
        amount,
        now=now,
        rank=0,
        reasons=[wording.reason("routing.by_hand"), *([note] if note else [])],
        details={"referral": True, "referred_by": principal.actor, "note": note},
    )
    routing.dispatch(session, req, offer)
    lifecycle.set_routing_state(
        session, req, lifecycle.coverage(req), action="referred", details={"offer_id": offer.id}
    )
    return offer


def record_outcome(session: Session, principal: Principal, offer_id: int, data: dict[str, Any]) -> Offer:
    """The organisation's answer to a referral, as the caseworker heard it: ``accepted``
    (for money: the amount, pledged from the organisation's fund in the ledger),
    ``declined`` (with the reason), or ``completed`` (with what was paid, for money)."""
    req = requests.steer(session, principal, request_of(session, offer_id))
    offer = next((o for o in req.offers if o.id == offer_id), None)
    if offer is None or session.get(Partner, offer.partner_id).adapter != MANUAL:
        raise NotFound("No such referral: this offer was made through the broker, and its partner answers it.")
    offer = lifecycle.lock_offer(session, offer_id)[0]
    outcome = data.get("outcome")
    note = (data.get("note") or "").strip()
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}.", details={"outcome": ["unknown outcome"]})
    if outcome == "declined":
        offers.refuse(session, offer, req, note or "declined", action="rejected")
        return offer
    if offer.status in lifecycle.UNANSWERED:
        offers.take(session, offer, req, data.get("amount_fen"), by="caseworker")
    if outcome == "completed":
        paid = data.get("paid_fen")
        if offer.amount_fen is not None:
            if paid:
                payments.pay(session, offer, req, amount_fen=paid, kind="cash", reference=data.get("reference") or "")
            elif offer.disbursed_fen == 0:
                raise Invalid(
                    "Say how much the organisation paid (paid_fen) to complete a money referral.",
                    details={"paid_fen": ["required to complete a money referral"]},
                )
        if offer.status in lifecycle.TAKEN:
            offers.finish(session, offer, req, note or "completed, as the caseworker recorded")
    return offer


def organisations(session: Session, principal: Principal) -> list[Partner]:
    """The organisations on file for referrals by hand (active ``manual`` partners)."""
    principal.require("caseworker", "admin", "auditor")
    return list(
        session.execute(
            select(Partner).where(Partner.adapter == MANUAL, Partner.active.is_(True)).order_by(Partner.name)
        ).scalars()
    )


def manual_offer_ids(session: Session, reqs: list[AidRequest]) -> set[int]:
    """Of these requests' offers, the referrals by hand still waiting for their outcome."""
    pending = {o.id: o.partner_id for r in reqs for o in r.offers if o.status in lifecycle.LIVE}
    if not pending:
        return set()
    manual = set(
        session.execute(
            select(Partner.id).where(Partner.id.in_(set(pending.values())), Partner.adapter == MANUAL)
        ).scalars()
    )
    return {oid for oid, pid in pending.items() if pid in manual}


def request_of(session: Session, offer_id: int) -> int:
    """The request an offer was made for (not found: no such offer)."""
    request_id = session.execute(select(Offer.request_id).where(Offer.id == offer_id)).scalar()
    if request_id is None:
        raise NotFound("No such referral.")
    return request_id
