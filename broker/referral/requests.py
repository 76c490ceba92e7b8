"""Aid requests as caseworkers see and steer them: finding them within one's grids (the
unmatched ones first), withdrawing (``revoked``, with a coded reason), holding,
resuming, reopening an unmatched request for routing, and confirming that the family
has the help."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform.errors import Conflict, Forbidden, Invalid, found
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.policy import package
from broker.referral import lifecycle, timeline, wording
from broker.referral.policy_amounts import policy_covered_fen
from models import AidRequest, Application, Grid, Partner
from models.requests import REVOKE_REASONS

READERS = ("caseworker", "admin", "auditor")
STEERERS = ("caseworker", "admin")


def _require_reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise Forbidden("Partners see their offers under /offers, not the requests behind them.")


def get_request(session: Session, principal: Principal, request_id: int, *, write: bool = False) -> AidRequest:
    """A request the principal may see (out of scope reads as not found)."""
    _require_reader(principal)
    req = found(session.get(AidRequest, request_id), "request")
    principal.require_grid(req.grid_id, write=write, what="request")
    return req


def list_requests(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    routing_state: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    household: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Requests in the principal's grids (all for admins and auditors): those no partner
    could take (active and unmatched) first, then newest first."""
    _require_reader(principal)
    stmt = select(AidRequest)
    if principal.grid_scope() is not None:
        stmt = stmt.where(AidRequest.grid_id.in_(sorted(principal.grid_scope())))
    if status:
        stmt = stmt.where(AidRequest.status == status)
    if routing_state:
        stmt = stmt.where(AidRequest.routing_state == routing_state)
    if category:
        stmt = stmt.where(AidRequest.category == category)
    if grid:
        stmt = stmt.join(Grid, Grid.id == AidRequest.grid_id).where(Grid.code == grid)
    if household is not None:
        stmt = stmt.where(AidRequest.household_id == household)
    attention = case(((AidRequest.status == "active") & (AidRequest.routing_state == lifecycle.UNMATCHED), 0), else_=1)
    stmt = stmt.options(selectinload(AidRequest.offers)).order_by(attention, AidRequest.id.desc())
    return paginate(session, stmt, page, per_page)


def steer(session: Session, principal: Principal, request_id: int) -> AidRequest:
    """A request the principal may steer (a caseworker on its grid, or an admin), locked."""
    principal.require(*STEERERS)
    get_request(session, principal, request_id, write=True)
    return lifecycle.lock_request(session, request_id)


def revoke(session: Session, principal: Principal, request_id: int, reason_code: str, note: str = "") -> AidRequest:
    """The caseworker withdraws the request (``revoked``, with a coded reason): every live
    offer is withdrawn (unspent pledges go back to the partners' funds) and the partners
    are told."""
    if reason_code not in REVOKE_REASONS:
        raise Invalid(
            f"reason_code must be one of {', '.join(REVOKE_REASONS)}.", details={"reason_code": ["unknown reason"]}
        )
    req = steer(session, principal, request_id)
    lifecycle.check_request(req, "revoked", "withdraw")
    for offer in req.offers:
        if offer.status in lifecycle.LIVE:
            lifecycle.withdraw(session, offer, req, wording.REQUEST_WITHDRAWN)
    note = (note or "").strip()
    lifecycle.set_request_status(
        session, req, "revoked", action="revoked", reason=reason_code, details={"note": note} if note else None
    )
    return req


def mark_entered_in_error(session: Session, principal: Principal, request_id: int, note: str = "") -> AidRequest:
    """The request should never have existed (a need typed by mistake): it ends as
    ``entered-in-error``, its live offers withdrawn. Refused once money reached the
    family — that request happened; withdraw it instead."""
    req = steer(session, principal, request_id)
    lifecycle.check_request(req, "entered-in-error", "mark in error")
    if req.disbursed_fen > 0:
        raise Conflict(
            "Money was paid to the family on this request, so it was not entered in error: withdraw it instead.",
            details={"disbursed_fen": req.disbursed_fen},
            code="already_disbursed",
        )
    for offer in req.offers:
        if offer.status in lifecycle.LIVE:
            lifecycle.withdraw(session, offer, req, wording.REQUEST_IN_ERROR)
    note = (note or "").strip()
    lifecycle.set_request_status(
        session, req, "entered-in-error", action="entered_in_error", details={"note": note} if note else None
    )
    return req


def hold(session: Session, principal: Principal, request_id: int, reason: str = "") -> AidRequest:
    """Pause routing (for instance while the family is away); offers already made stand."""
    req = steer(session, principal, request_id)
    lifecycle.check_request(req, "on-hold", "hold")
    req.held_from = req.status
    lifecycle.set_request_status(
        session, req, "on-hold", action="held", reason=(reason or "").strip() or None, details={"from": req.held_from}
    )
    return req


def resume(session: Session, principal: Principal, request_id: int) -> AidRequest:
    """Take a held request up again where it was, and route what is still missing."""
    req = steer(session, principal, request_id)
    lifecycle.check_request(req, "active", "resume")
    req.held_from = None
    lifecycle.set_request_status(session, req, "active", action="resumed")
    lifecycle.settle(session, req)
    return req


def retry(session: Session, principal: Principal, request_id: int) -> AidRequest:
    """Reopen a request no partner could take for routing (it is reopened, not
    re-assessed): partners that declined it stay left out, new or refilled ones are asked."""
    req = steer(session, principal, request_id)
    if req.status != "active" or req.routing_state != lifecycle.UNMATCHED:
        raise Conflict(
            "Only an active request that no partner could take can be routed again.",
            details={"current_status": req.status, "routing_state": req.routing_state},
            code="not_unmatched",
        )
    lifecycle.reopen(session, req, by=principal.actor)
    return req


def set_auto_retry(session: Session, principal: Principal, request_id: int, enabled: bool) -> AidRequest:
    """The caseworker's choice: route an unmatched request again by itself as soon as a
    partner that could take it appears (or a fund is topped up)."""
    req = steer(session, principal, request_id)
    lifecycle.check_request_open(req, "change automatic retry of")
    if req.auto_retry != enabled:
        before = req.auto_retry
        req.auto_retry = enabled
        audit.record(
            session,
            "request.auto_retry_set",
            req,
            before={"auto_retry": before},
            after={"auto_retry": enabled},
            household_id=req.household_id,
            request_id=req.id,
        )
    return req


def complete(session: Session, principal: Principal, request_id: int, note: str = "") -> AidRequest:
    """The caseworker confirms the family has the help (some partner has taken it on).
    Offers still waiting for an answer are withdrawn; accepted offers stay with their
    partners to finish."""
    req = steer(session, principal, request_id)
    helped = (
        req.funded_fen > 0
        or req.disbursed_fen > 0
        or any(o.status in (*lifecycle.TAKEN, "completed") for o in req.offers)
    )
    if req.status not in ("active", "on-hold") or not helped:
        raise lifecycle.refuse("request", req.status, "complete", req.status_reason or "no partner has taken it on")
    req.held_from = None
    for offer in req.offers:
        if offer.status in lifecycle.UNANSWERED:
            lifecycle.withdraw(session, offer, req, wording.CASEWORKER_CONFIRMED)
    lifecycle.set_request_status(
        session,
        req,
        "completed",
        action="completed",
        reason=(note or "").strip() or wording.CONFIRMED_BY_CASEWORKER,
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
    "routing_state",
    "routing_reasons",
    "auto_retry",
    "routing_round",
    "created_at",
    "updated_at",
    "completed_at",
)


def partner_names(session: Session, reqs: list[AidRequest]) -> dict[int, str]:
    """partner id → name, for the partners these requests' offers went to."""
    ids = {o.partner_id for r in reqs for o in r.offers}
    return dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all()) if ids else {}


def detail(session: Session, req: AidRequest) -> dict[str, Any]:
    """The request with its offers (each with its partner, amounts, deadline and the
    reasons it was chosen) and its timeline."""
    names = partner_names(session, [req])
    return {
        **{name: getattr(req, name) for name in SUMMARY_FIELDS},
        "policy_held_fen": sum(h.amount_fen for h in req.policy_holds if h.status == "held"),
        "policy_covered_fen": policy_covered_fen(req),
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
                "more_available": o.more_available,
            }
            for o in req.offers
        ],
        "policy_holds": policy_holds_of(session, req),
        "timeline": timeline.events(session, req.id),
    }


def policy_holds_of(session: Session, req: AidRequest) -> list[dict[str, Any]]:
    """What government policies hold, or have covered, of the request: the amount, the
    policy, the application it waits for (filed after the hold was made: the household's
    open one) and what it means now, as a text code."""
    rows = list(req.policy_holds)
    if not rows:
        return []
    open_apps = {
        a.policy_code: a
        for a in session.execute(
            select(Application).where(
                Application.household_id == req.household_id, Application.status.in_(package.OPEN_STATUSES)
            )
        ).scalars()
    }
    out = []
    for h in rows:
        names = wording.policy_name(h.policy_code)
        app = session.get(Application, h.application_id) if h.application_id else None
        if app is None and h.status == "held":
            app = open_apps.get(h.policy_code)
        out.append(
            {
                "id": h.id,
                "policy": {
                    "code": h.policy_code,
                    "version": h.policy_version,
                    "name": names["zh_CN"],
                    "name_en": names["en"],
                },
                "amount_fen": h.amount_fen,
                "status": h.status,
                "application": None if app is None else {"id": app.id, "status": app.status},
                "reason": h.reason,
                "decided_at": h.decided_at,
                "created_at": h.created_at,
                "note": wording.hold_note(h.status, h.policy_code, h.amount_fen, app.id if app else None, h.reason),
            }
        )
    return out


def get_detail(session: Session, principal: Principal, request_id: int) -> dict[str, Any]:
    """:func:`get_request`, as :func:`detail` shows it."""
    return detail(session, get_request(session, principal, request_id))
