"""Needs assessments (需求评估): what a household needs, by category. Each need becomes an
aid request at once, and a routing job is written for it in the same transaction, so
that the help starts moving as soon as the caseworker saves — and is never lost if the
queue is down at that moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import inserts, runtime
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


_EARLIER = (AidRequest.id, AidRequest.category, AidRequest.amount_fen, AidRequest.description, AidRequest.created_at)
# The household's grid and state, and its requests recorded since ``since`` (one row each,
# or one row of NULLs): what a submission checks, in one round trip, built once.
_HOUSEHOLD_AND_RECENT = (
    select(Household.grid_id, Household.state, *_EARLIER)
    .outerjoin(AidRequest, and_(AidRequest.household_id == Household.id, AidRequest.created_at >= bindparam("since")))
    .where(Household.id == bindparam("household_id"))
    .order_by(AidRequest.id)
)


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


@dataclass(frozen=True)
class Recorded:
    """An assessment as written: its row's values, and per need the need's and the
    request's ids (in the needs' order)."""

    id: int
    household_id: int
    assessed_by_id: int
    summary: str
    created_at: datetime
    needs: list[dict[str, Any]]
    request_ids: list[int]


def create_assessment(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> Assessment:
    """Record an assessment of a household on one's own grid: its needs, one aid request
    per need (``active``, ``routing``), and a routing job per request — all in one transaction.

    A need identical to one recorded for the household within the window is refused
    (409 ``possible_duplicate``, naming the earlier request) unless the caller says
    ``confirm_duplicate``: going back and sending a form again must not route a family's
    need twice. A household that left the active lists (moved away, …) takes no new need."""
    return session.get(Assessment, _create(session, principal, household_id, data).id)


def record(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """:func:`create_assessment`, answered as :func:`view` shows it, from the values just
    written (nothing is read back)."""
    made = _create(session, principal, household_id, data)
    return {
        "id": made.id,
        "household_id": made.household_id,
        "assessed_by_id": made.assessed_by_id,
        "summary": made.summary,
        "created_at": made.created_at,
        "needs": [
            {**need, "request_id": rid, "request_status": "active", "routing_state": "routing"}
            for need, rid in zip(made.needs, made.request_ids, strict=True)
        ],
    }


def _checked(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> tuple[int, list]:
    """The household's grid, once the principal may write there, the household is on the
    active lists and the needs are valid and not a duplicate; and the needs."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Only caseworkers and admins record needs assessments.")
    rows = session.execute(_HOUSEHOLD_AND_RECENT, {"household_id": household_id, "since": utcnow() - _window()}).all()
    households.require_household_scope(principal, rows[0].grid_id if rows else None, write=True)
    household_states.require_active(rows[0])
    needs = data.get("needs") or []
    if not needs:
        raise Invalid("An assessment names at least one need.", details={"needs": ["at least one need"]})
    if len(needs) > MAX_NEEDS:
        raise Invalid(f"At most {MAX_NEEDS} needs per assessment.", details={"needs": [f"at most {MAX_NEEDS}"]})
    for i, need in enumerate(needs):
        _check_need(i, need)
    earlier = [tuple(r)[2:] for r in rows if r.id is not None]
    duplicates = [] if data.get("confirm_duplicate") else _duplicates_among(earlier, needs)
    if duplicates:
        first = duplicates[0]
        raise Conflict(
            f"Need {first['need'] + 1} is the same as request {first['request_id']}, recorded at "
            f"{first['created_at'][:16].replace('T', ' ')} UTC for this household. If it is a new need, "
            "send it again with confirm_duplicate: true.",
            code="possible_duplicate",
            details={"duplicates": duplicates, "confirm_with": {"confirm_duplicate": True}},
        )
    return rows[0].grid_id, needs


def _create(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> Recorded:
    """The work of :func:`create_assessment`: one read (the household's grid and state
    and its recent requests), three INSERTs (the assessment, its needs, their requests;
    Core, as a submission is the hottest write there is), and the audit events and
    routing jobs, which go out with the commit."""
    grid_id, needs = _checked(session, principal, household_id, data)
    now = utcnow()
    summary = (data.get("summary") or "").strip()
    assessment_id = inserts.insert_ids(
        session,
        Assessment.__table__,
        [{"household_id": household_id, "assessed_by_id": principal.user_id, "summary": summary, "created_at": now}],
    )[0]
    written = [
        {
            "category": spec["category"],
            "urgency": spec["urgency"],
            "amount_fen": spec.get("amount_fen"),
            "description": (spec.get("description") or "").strip(),
        }
        for spec in needs
    ]
    need_ids = inserts.insert_ids(
        session,
        Need.__table__,
        [{"assessment_id": assessment_id, "household_id": household_id, **need} for need in written],
    )
    request_ids = inserts.insert_ids(
        session,
        AidRequest.__table__,
        [
            {
                **need,
                "need_id": need_id,
                "household_id": household_id,
                "grid_id": grid_id,
                "status": "active",
                "routing_state": "routing",
                "created_by_id": principal.user_id,
                "created_at": now,
                "updated_at": now,
            }
            for need, need_id in zip(written, need_ids, strict=True)
        ],
    )
    audit.record(
        session,
        "assessment.created",
        object_type="assessments",
        object_id=assessment_id,
        after={"needs": len(needs), "summary": privacy.redact(summary)},
        household_id=household_id,
    )
    for need, need_id, request_id in zip(written, need_ids, request_ids, strict=True):
        audit.record(
            session,
            "request.created",
            object_type="aid_requests",
            object_id=request_id,
            after={
                "status": "active",
                "routing_state": "routing",
                "need_id": need_id,
                "assessment_id": assessment_id,
                "category": need["category"],
                "urgency": need["urgency"],
                "amount_fen": need["amount_fen"],
                "description": privacy.redact(need["description"]),
            },
            household_id=household_id,
            request_id=request_id,
        )
        lifecycle.request_route(session, request_id)
    return Recorded(
        id=assessment_id,
        household_id=household_id,
        assessed_by_id=principal.user_id,
        summary=summary,
        created_at=now,
        needs=[{"id": need_id, **need} for need, need_id in zip(written, need_ids, strict=True)],
        request_ids=request_ids,
    )


def create_and_route(
    session: Session, principal: Principal, household_id: int, data: dict[str, Any]
) -> tuple[Assessment, list[dict[str, Any]]]:
    """:func:`create_assessment`, each request routed at once in the same transaction, so
    that the caseworker is told truthfully, need by need, what happened: offered to
    partners (how many), taken at once (an auto-grant), or unmatched — back with them.
    The routing job written for each stays as a backstop (routing twice does nothing)."""
    made = _create(session, principal, household_id, data)
    outcomes = []
    for request_id, need in zip(made.request_ids, made.needs, strict=True):
        decision = routing.route(session, request_id)
        req = session.get(AidRequest, request_id)  # routing read it: no second read
        outcomes.append(
            {
                "request_id": request_id,
                "category": need["category"],
                "routing_state": req.routing_state,
                "status": req.status,
                "partners": len(decision.offer_ids),
            }
        )
    return session.get(Assessment, made.id), outcomes


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
