"""Needs assessments (需求评估): what a household needs, by category. Each need becomes an
aid request at once, and a routing job is written for it in the same transaction, so
that the help starts moving as soon as the caseworker saves — and is never lost if the
queue is down at that moment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import runtime
from broker.platform.errors import Conflict, Forbidden, Invalid
from broker.platform.scope import Principal
from broker.referral import lifecycle, routing
from broker.registry import household_states, households, privacy
from models import AidRequest, Assessment, Household, Need
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


def _recent(household_id: int) -> Any:
    """The household's requests recorded within the window (what a duplicate is checked against)."""
    return and_(AidRequest.household_id == household_id, AidRequest.created_at >= utcnow() - _window())


_EARLIER = (AidRequest.id, AidRequest.category, AidRequest.amount_fen, AidRequest.description, AidRequest.created_at)


def _duplicates_among(earlier: list[Any], needs: list[dict]) -> list[dict[str, Any]]:
    """Needs identical (category, amount, description) to a request recorded for this
    household within the window: the same form sent twice, or the same need typed in
    again by a colleague. One entry per such need, naming the earlier request."""
    found = []
    for i, need in enumerate(needs):
        description = (need.get("description") or "").strip()
        for rid, category, amount, text, created_at in earlier:
            if (category, amount, text) == (need["category"], need.get("amount_fen"), description):
                found.append({"need": i, "request_id": rid, "category": category, "created_at": created_at.isoformat()})
                break
    return found


def _household_and_recent(session: Session, household_id: int) -> tuple[Household | None, list[Any]]:
    """The household (held in the session, where the scope check then finds it without
    a read) and its requests within the duplicate window, in one round trip: a
    submission reads nothing twice."""
    rows = session.execute(
        select(Household, *_EARLIER)
        .outerjoin(AidRequest, _recent(household_id))
        .where(Household.id == household_id)
        .order_by(AidRequest.id)
    ).all()
    return (rows[0][0] if rows else None), [tuple(r)[1:] for r in rows if r.id is not None]


def create_assessment(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> Assessment:
    """Record an assessment of a household on one's own grid: its needs, one aid request
    per need (``active``, ``routing``), and a routing job per request — all in one transaction.

    A need identical to one recorded for the household within the window is refused
    (409 ``possible_duplicate``, naming the earlier request) unless the caller says
    ``confirm_duplicate``: going back and sending a form again must not route a family's
    need twice. A household that left the active lists (moved away, …) takes no new need."""
    return _create(session, principal, household_id, data)[0]


def record(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """:func:`create_assessment`, answered as :func:`view` shows it, from the rows just
    written (nothing is read back)."""
    created, requests = _create(session, principal, household_id, data)
    return _view_one(created, {r.need.id: (r.id, r.status, r.routing_state) for r in requests})


def _create(
    session: Session, principal: Principal, household_id: int, data: dict[str, Any]
) -> tuple[Assessment, list[AidRequest]]:
    """The work of :func:`create_assessment`: one read (the household and its recent
    requests), one flush (the assessment, its needs and their requests), and the audit
    events and routing jobs, which go out with the commit."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Only caseworkers and admins record needs assessments.")
    earlier: list[Any] = []
    if not data.get("confirm_duplicate"):
        _loaded, earlier = _household_and_recent(session, household_id)  # kept referenced: the session's map is weak
    household = households.get_household(session, principal, household_id, write=True)
    household_states.require_active(household)
    needs = data.get("needs") or []
    if not needs:
        raise Invalid("An assessment names at least one need.", details={"needs": ["at least one need"]})
    if len(needs) > MAX_NEEDS:
        raise Invalid(f"At most {MAX_NEEDS} needs per assessment.", details={"needs": [f"at most {MAX_NEEDS}"]})
    for i, need in enumerate(needs):
        _check_need(i, need)
    duplicates = _duplicates_among(earlier, needs)
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
    requests = []
    for spec in needs:
        need = Need(
            assessment=assessment,
            household_id=household.id,
            category=spec["category"],
            urgency=spec["urgency"],
            amount_fen=spec.get("amount_fen"),
            description=(spec.get("description") or "").strip(),
        )
        requests.append(
            AidRequest(
                need=need,
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
        )
    session.add(assessment)
    session.add_all(requests)
    session.flush()
    audit.record(
        session,
        "assessment.created",
        assessment,
        after={"needs": len(needs), "summary": privacy.redact(assessment.summary)},
        household_id=household.id,
    )
    for req in requests:
        audit.record(
            session,
            "request.created",
            req,
            after={
                "status": "active",
                "routing_state": "routing",
                "need_id": req.need_id,
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
    return assessment, requests


def create_and_route(
    session: Session, principal: Principal, household_id: int, data: dict[str, Any]
) -> tuple[Assessment, list[dict[str, Any]]]:
    """:func:`create_assessment`, each request routed at once in the same transaction, so
    that the caseworker is told truthfully, need by need, what happened: offered to
    partners (how many), taken at once (an auto-grant), or unmatched — back with them.
    The routing job written for each stays as a backstop (routing twice does nothing)."""
    assessment, requests = _create(session, principal, household_id, data)
    outcomes = []
    for req in requests:
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
    return [_view_one(a, reqs) for a in assessments]


def _view_one(a: Assessment, reqs: dict[int, tuple[int, str, str]]) -> dict[str, Any]:
    none = (None, None, None)
    return {
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
                "request_id": reqs.get(n.id, none)[0],
                "request_status": reqs.get(n.id, none)[1],
                "routing_state": reqs.get(n.id, none)[2],
            }
            for n in a.needs
        ],
    }
