"""Needs assessments (需求评估): what a household needs, by category. Each need becomes an
aid request at once, and a routing job is written for it in the same transaction, so
that the help starts moving as soon as the caseworker saves — and is never lost if the
queue is down at that moment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import runtime
from broker.platform.errors import Conflict, Forbidden, Invalid
from broker.platform.scope import Principal
from broker.referral import lifecycle, routing
from broker.registry import household_states, households, privacy
from models import AidRequest, Assessment, Need
from models.assessment import CATEGORIES, URGENCIES
from models.base import utcnow

# Needs that are about money: an assessment must say how much.
MONEY_CATEGORIES = ("living", "medical", "schooling", "emergency")
MAX_NEEDS = 20
MAX_AMOUNT_FEN = 10_000_000_00  # ten million yuan: anything more is a typing error


def _check_need(index: int, need: dict) -> None:
    """The rules the API schema also applies, for callers that are not the API."""
    where = f"needs.{index}"
    if need.get("category") not in CATEGORIES:
        raise Invalid(
            f"Need {index + 1}: category must be one of {', '.join(CATEGORIES)}.",
            details={f"{where}.category": ["unknown category"]},
        )
    if need.get("urgency") not in URGENCIES:
        raise Invalid(
            f"Need {index + 1}: urgency must be one of {', '.join(URGENCIES)}.",
            details={f"{where}.urgency": ["unknown urgency"]},
        )
    amount = need.get("amount_fen")
    if amount is None and need["category"] in MONEY_CATEGORIES:
        raise Invalid(
            f"Need {index + 1}: a {need['category']} need says how much money, in fen.",
            details={f"{where}.amount_fen": [f"required for {need['category']} needs"]},
        )
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0):
        raise Invalid(
            f"Need {index + 1}: amount_fen must be a positive whole number of fen.",
            details={f"{where}.amount_fen": ["must be a positive integer"]},
        )
    if amount is not None and amount > MAX_AMOUNT_FEN:
        raise Invalid(
            f"Need {index + 1}: amount_fen is over ten million yuan; check the figure (it is in fen).",
            details={f"{where}.amount_fen": [f"must be at most {MAX_AMOUNT_FEN}"]},
        )


def _window() -> timedelta:
    return timedelta(hours=float(runtime.settings().get("DUPLICATE_NEED_WINDOW_HOURS", 24)))


def possible_duplicates(session: Session, household_id: int, needs: list[dict]) -> list[dict[str, Any]]:
    """Needs identical (category, amount, description) to a request recorded for this
    household within the window: the same form sent twice, or the same need typed in
    again by a colleague. One entry per such need, naming the earlier request."""
    since = utcnow() - _window()
    earlier = session.execute(
        select(AidRequest.id, AidRequest.category, AidRequest.amount_fen, AidRequest.description, AidRequest.created_at)
        .where(AidRequest.household_id == household_id, AidRequest.created_at >= since)
        .order_by(AidRequest.id)
    ).all()
    found = []
    for i, need in enumerate(needs):
        description = (need.get("description") or "").strip()
        for rid, category, amount, text, created_at in earlier:
            if (category, amount, text) == (need["category"], need.get("amount_fen"), description):
                found.append({"need": i, "request_id": rid, "category": category, "created_at": created_at.isoformat()})
                break
    return found


def create_assessment(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> Assessment:
    """Record an assessment of a household on one's own grid: its needs, one aid request
    per need (``active``, ``routing``), and a routing job per request — all in one transaction.

    A need identical to one recorded for the household within the window is refused
    (409 ``possible_duplicate``, naming the earlier request) unless the caller says
    ``confirm_duplicate``: going back and sending a form again must not route a family's
    need twice. A household that left the active lists (moved away, …) takes no new need."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Only caseworkers and admins record needs assessments.")
    household = households.get_household(session, principal, household_id, write=True)
    household_states.require_active(household)
    needs = data.get("needs") or []
    if not needs:
        raise Invalid("An assessment names at least one need.", details={"needs": ["at least one need"]})
    if len(needs) > MAX_NEEDS:
        raise Invalid(f"At most {MAX_NEEDS} needs per assessment.", details={"needs": [f"at most {MAX_NEEDS}"]})
    for i, need in enumerate(needs):
        _check_need(i, need)
    duplicates = [] if data.get("confirm_duplicate") else possible_duplicates(session, household.id, needs)
    if duplicates:
        first = duplicates[0]
        raise Conflict(
            f"Need {first['need'] + 1} is the same as request {first['request_id']}, recorded at "
            f"{first['created_at'][:16].replace('T', ' ')} UTC for this household. If it is a new need, "
            "send it again with confirm_duplicate: true.",
            code="possible_duplicate",
            details={"duplicates": duplicates, "confirm_with": {"confirm_duplicate": True}},
        )
    assessment = Assessment(
        household_id=household.id, assessed_by_id=principal.user_id, summary=(data.get("summary") or "").strip()
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        "assessment.created",
        assessment,
        after={"needs": len(needs), "summary": privacy.redact(assessment.summary)},
        household_id=household.id,
    )
    for spec in needs:
        need = Need(
            assessment=assessment,
            household_id=household.id,
            category=spec["category"],
            urgency=spec["urgency"],
            amount_fen=spec.get("amount_fen"),
            description=(spec.get("description") or "").strip(),
        )
        session.add(need)
        session.flush()
        req = AidRequest(
            need_id=need.id,
            household_id=household.id,
            grid_id=household.grid_id,
            category=need.category,
            urgency=need.urgency,
            amount_fen=need.amount_fen,
            description=need.description,
            status="active",
            routing_state="routing",
            created_by_id=principal.user_id,
        )
        session.add(req)
        session.flush()
        audit.record(
            session,
            "request.created",
            req,
            after={
                "status": "active",
                "routing_state": "routing",
                "need_id": need.id,
                "assessment_id": assessment.id,
                "category": req.category,
                "urgency": req.urgency,
                "amount_fen": req.amount_fen,
                "description": privacy.redact(req.description),
            },
            household_id=household.id,
            request_id=req.id,
        )
        lifecycle.request_route(session, req)
    return assessment


def create_and_route(
    session: Session, principal: Principal, household_id: int, data: dict[str, Any]
) -> tuple[Assessment, list[dict[str, Any]]]:
    """:func:`create_assessment`, each request routed at once in the same transaction, so
    that the caseworker is told truthfully, need by need, what happened: offered to
    partners (how many), taken at once (an auto-grant), or unmatched — back with them.
    The routing job written for each stays as a backstop (routing twice does nothing)."""
    assessment = create_assessment(session, principal, household_id, data)
    outcomes = []
    for need in assessment.needs:
        req = session.execute(select(AidRequest).where(AidRequest.need_id == need.id)).scalar_one()
        decision = routing.route(session, req.id)
        outcomes.append(
            {
                "request_id": req.id,
                "category": req.category,
                "routing_state": req.routing_state,
                "status": req.status,
                "partners": len(decision.offer_ids),
            }
        )
    return assessment, outcomes


def request_ids(session: Session, need_ids: list[int]) -> dict[int, tuple[int, str, str]]:
    """need id → (request id, request status, routing state)."""
    if not need_ids:
        return {}
    rows = session.execute(
        select(AidRequest.need_id, AidRequest.id, AidRequest.status, AidRequest.routing_state).where(
            AidRequest.need_id.in_(need_ids)
        )
    )
    return {need_id: (rid, status, state) for need_id, rid, status, state in rows}


def list_assessments(session: Session, principal: Principal, household_id: int) -> list[Assessment]:
    """A household's assessments, newest first, with their needs."""
    household = households.get_household(session, principal, household_id)
    return list(
        session.execute(
            select(Assessment)
            .where(Assessment.household_id == household.id)
            .options(selectinload(Assessment.needs))
            .order_by(Assessment.id.desc())
        ).scalars()
    )


def view(session: Session, assessments: list[Assessment]) -> list[dict[str, Any]]:
    """Assessments as the API shows them: each need with the request it became."""
    reqs = request_ids(session, [n.id for a in assessments for n in a.needs])
    return [
        {
            "id": a.id,
            "household_id": a.household_id,
            "assessed_by_id": a.assessed_by_id,
            "summary": a.summary,
            "created_at": a.created_at,
            "needs": [
                {
                    "id": n.id,
                    "category": n.category,
                    "urgency": n.urgency,
                    "amount_fen": n.amount_fen,
                    "description": n.description,
                    "request_id": reqs.get(n.id, (None, None, None))[0],
                    "request_status": reqs.get(n.id, (None, None, None))[1],
                    "routing_state": reqs.get(n.id, (None, None, None))[2],
                }
                for n in a.needs
            ],
        }
        for a in assessments
    ]
