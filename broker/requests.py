"""Aid requests as caseworkers see and steer them: finding them within one's grids,
cancelling, holding, resuming, and confirming that the family has the help."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from broker import lifecycle, timeline
from broker.errors import Forbidden, Invalid, NotFound
from broker.registry import Page, paginate
from broker.scope import Principal
from models import AidRequest, Grid, Partner

READERS = ("caseworker", "admin", "auditor")
STEERERS = ("caseworker", "admin")


def _require_reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise Forbidden("Partners see their offers under /offers, not the requests behind them.")


def get_request(session: Session, principal: Principal, request_id: int, *, write: bool = False) -> AidRequest:
    """A request the principal may see (out of scope reads as not found)."""
    _require_reader(principal)
    req = session.get(AidRequest, request_id)
    if req is None:
        raise NotFound("No such request.")
    principal.require_grid(req.grid_id, write=write, what="request")
    return req


def list_requests(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    household: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Requests in the principal's grids (all for admins and auditors), newest first."""
    _require_reader(principal)
    stmt = select(AidRequest)
    if principal.role == "caseworker":
        stmt = stmt.where(AidRequest.grid_id.in_(sorted(principal.grid_ids)))
    if status:
        stmt = stmt.where(AidRequest.status == status)
    if category:
        stmt = stmt.where(AidRequest.category == category)
    if grid:
        stmt = stmt.join(Grid, Grid.id == AidRequest.grid_id).where(Grid.code == grid)
    if household is not None:
        stmt = stmt.where(AidRequest.household_id == household)
    stmt = stmt.options(selectinload(AidRequest.offers)).order_by(AidRequest.id.desc())
    return paginate(session, stmt, page, per_page)


def _steer(session: Session, principal: Principal, request_id: int) -> AidRequest:
    principal.require(*STEERERS)
    get_request(session, principal, request_id, write=True)
    return lifecycle.lock_request(session, request_id)


def cancel(session: Session, principal: Principal, request_id: int, reason: str) -> AidRequest:
    """The caseworker withdraws the request: every live offer is withdrawn (unspent
    pledges go back to the partners' funds) and the partners are told."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the request is cancelled.", details={"reason": ["must not be blank"]})
    req = _steer(session, principal, request_id)
    lifecycle.check_request(req, "cancelled", "cancel")
    for offer in req.offers:
        if offer.status in lifecycle.LIVE:
            lifecycle.withdraw(session, offer, req, f"the request was cancelled: {reason}")
    lifecycle.set_request_status(session, req, "cancelled", action="cancelled", reason=reason)
    return req


def hold(session: Session, principal: Principal, request_id: int, reason: str = "") -> AidRequest:
    """Pause routing (for instance while the family is away); offers already made stand."""
    req = _steer(session, principal, request_id)
    lifecycle.check_request(req, "on-hold", "hold")
    req.held_from = req.status
    lifecycle.set_request_status(
        session, req, "on-hold", action="held", reason=(reason or "").strip() or None, details={"from": req.held_from}
    )
    return req


def resume(session: Session, principal: Principal, request_id: int) -> AidRequest:
    """Take a held request up again where it was, and route what is still missing."""
    req = _steer(session, principal, request_id)
    back_to = req.held_from or "requested"
    lifecycle.check_request(req, back_to, "resume")
    req.held_from = None
    lifecycle.set_request_status(session, req, back_to, action="resumed")
    lifecycle.settle(session, req)
    return req


def complete(session: Session, principal: Principal, request_id: int, note: str = "") -> AidRequest:
    """The caseworker confirms the family has the help. Offers still waiting for an
    answer are withdrawn; accepted offers stay with their partners to finish."""
    req = _steer(session, principal, request_id)
    if req.status == "on-hold" and req.held_from == "in-progress":
        req.held_from = None
    elif req.status != "in-progress":
        raise lifecycle.refuse("request", req.status, "complete", req.status_reason)
    for offer in req.offers:
        if offer.status in lifecycle.UNANSWERED:
            lifecycle.withdraw(session, offer, req, "the caseworker confirmed the request fulfilled")
    lifecycle.set_request_status(
        session,
        req,
        "completed",
        action="completed",
        reason=(note or "").strip() or "confirmed fulfilled by the caseworker",
        details={"confirmed_by": principal.actor, "disbursed_fen": req.disbursed_fen},
    )
    return req


SUMMARY_FIELDS = (
    "id",
    "household_id",
    "grid_id",
    "need_id",
    "category",
    "urgency",
    "amount_fen",
    "funded_fen",
    "disbursed_fen",
    "description",
    "status",
    "status_reason",
    "held_from",
    "routing_round",
    "created_at",
    "updated_at",
    "completed_at",
)


def detail(session: Session, req: AidRequest) -> dict[str, Any]:
    """The request with its offers (each with its partner, amounts, deadline and the
    reasons it was chosen) and its timeline."""
    ids = {o.partner_id for o in req.offers}
    names = dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) if ids else {}
    return {
        **{name: getattr(req, name) for name in SUMMARY_FIELDS},
        "offers": [
            {
                "id": o.id,
                "partner": {"id": o.partner_id, "name": names.get(o.partner_id, "")},
                "status": o.status,
                "status_reason": o.status_reason,
                "amount_fen": o.amount_fen,
                "accepted_fen": o.accepted_fen,
                "disbursed_fen": o.disbursed_fen,
                "respond_by": o.respond_by,
                "rank": o.rank,
                "reasons": list(o.reasons or []),
                "delivery_attempts": o.delivery_attempts,
            }
            for o in req.offers
        ],
        "timeline": timeline.events(session, req.id),
    }


def get_detail(session: Session, principal: Principal, request_id: int) -> dict[str, Any]:
    """:func:`get_request`, as :func:`detail` shows it."""
    return detail(session, get_request(session, principal, request_id))
