"""Offers as partners see them: the inbox (a partner's own offers only, with what a
partner may know about the family), one offer, its disbursements, and the plain data an
adapter carries to the partner. Reading only; answering an offer is :mod:`.offers`.

A partner asking about another partner's offer is told it does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from adapters.base import OfferInfo
from broker.platform.errors import Forbidden, NotFound
from broker.platform.pages import Page
from broker.platform.scope import Principal
from broker.registry import disclosure
from models import AidRequest, Disbursement, Grid, Offer, Partner

URGENCY_ORDER = {"critical": 0, "high": 1, "normal": 2}


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
    household: str  # the English label partner systems receive (see household_name)
    description: str
    reasons: list
    created_at: datetime
    household_name: dict | None = None  # 王**家 / 王** household, as a text code


def _require_offer_reader(principal: Principal) -> None:
    if principal.role not in ("partner", "admin", "auditor"):
        raise Forbidden("Offers are the partners' inbox; caseworkers follow their requests under /requests.")


def get_offer(session: Session, principal: Principal, offer_id: int) -> Offer:
    """An offer the principal may see: partners their own, admins and auditors all."""
    _require_offer_reader(principal)
    offer = session.get(Offer, offer_id)
    if offer is None or (principal.role == "partner" and offer.partner_id != principal.partner_id):
        raise NotFound("No such offer.")
    if principal.scoped and not principal.can_see_grid(offer.request.grid_id):
        raise NotFound("No such offer.")  # a reader scoped to a region: offers for requests below it
    return offer


def _inbox_rows(session: Session, stmt):  # noqa: ANN001 - a select over Offer in, rows out
    return session.execute(
        stmt.add_columns(AidRequest, Partner.kind, Grid.community, Partner.name)
        .join(AidRequest, AidRequest.id == Offer.request_id)
        .join(Grid, Grid.id == AidRequest.grid_id)
        .join(Partner, Partner.id == Offer.partner_id)
    ).all()


def _item(session: Session, row, recipient: str, known: dict | None = None) -> InboxItem:  # noqa: ANN001
    """The offer (a row of :func:`_inbox_rows`) with what ``recipient`` may know of the
    family (:func:`disclosure.disclose`; ``known`` keeps each household's answer for one
    listing)."""
    offer, req, partner_kind, community, partner_name = row
    known = {} if known is None else known
    if req.household_id not in known:
        known[req.household_id] = disclosure.disclose(session, req.household_id, recipient, partner_kind=partner_kind)
    seen = known[req.household_id]
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
        household=seen.fields["household_label"],
        description=seen.text(req.description),
        reasons=list(offer.reasons or []),
        created_at=offer.created_at,
        household_name=seen.fields["household_name"],
    )


def inbox_item(
    session: Session, principal: Principal, offer_id: int, *, recipient: str = disclosure.PARTNER_API
) -> InboxItem:
    """One offer as its partner sees it (through the API, or ``recipient``)."""
    offer = get_offer(session, principal, offer_id)
    return _item(session, _inbox_rows(session, select(Offer).where(Offer.id == offer.id))[0], recipient)


def list_offers(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    category: str | None = None,
    partner: int | None = None,
    page: int = 1,
    per_page: int = 20,
    recipient: str = disclosure.PARTNER_API,
) -> Page:
    """The inbox: a partner's own offers (admins and auditors: all, or one partner's),
    the most urgent first, then the nearest deadline."""
    _require_offer_reader(principal)
    stmt = select(Offer)
    if principal.role == "partner":
        stmt = stmt.where(Offer.partner_id == principal.partner_id)
    elif partner is not None:
        stmt = stmt.where(Offer.partner_id == partner)
    if principal.scoped:  # a reader scoped to a region: offers for requests below it
        grids = sorted(principal.grid_ids) or [-1]
        stmt = stmt.where(Offer.request_id.in_(select(AidRequest.id).where(AidRequest.grid_id.in_(grids))))
    if status:
        stmt = stmt.where(Offer.status == status)
    if category:
        stmt = stmt.where(Offer.request_id.in_(select(AidRequest.id).where(AidRequest.category == category)))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    urgency = case(URGENCY_ORDER, value=AidRequest.urgency, else_=3)
    rows = _inbox_rows(
        session, stmt.order_by(urgency, Offer.respond_by, Offer.id).limit(per_page).offset((page - 1) * per_page)
    )
    known: dict = {}
    return Page([_item(session, r, recipient, known) for r in rows], page, per_page, total)


def offer_info(session: Session, offer: Offer) -> OfferInfo:
    """The plain data an adapter may carry to the partner, decided when it is carried.
    Built from the offer, its request and its partner as the caller holds them (locked),
    with what the partner may know of the family asked of :func:`disclosure.disclose`."""
    req, partner = offer.request, session.get(Partner, offer.partner_id)
    seen = disclosure.disclose(session, req.household_id, disclosure.PARTNER_WEBHOOK, partner_kind=partner.kind)
    return OfferInfo(
        id=offer.id,
        request_id=offer.request_id,
        category=req.category,
        urgency=req.urgency,
        amount_fen=offer.amount_fen,
        respond_by=offer.respond_by,
        community=seen.fields["community"],
        description=seen.text(req.description),
        household_label=seen.fields["household_label"],
        partner_id=offer.partner_id,
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
