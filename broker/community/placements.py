"""Placements: a household member placed in an opening, from a start date, at a pay —
never more than the opening's positions, also when two caseworkers place the last one at
once on PostgreSQL (the opening row is locked while the places are counted). Each
placement is followed up at 3 and 6 months: the due dates are set when it is made, a
follow-up falls due on the caseworker's list from its date, and it records whether the
member still works there and what they earned in the month before. A member no longer
working there ends the placement, which frees its position.

A placement made for a job-support request completes the request (:mod:`.job_requests`)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import courses, job_requests, openings
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry.access import visible_grid_ids
from models import Member, Opening, Placement, PlacementFollowUp
from models.base import utcnow
from models.jobs import FOLLOW_UP_MONTHS

# A follow-up may be recorded from this many days before its date (a visit that week).
EARLY_DAYS = 7
MAX_NOTES = 2000


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def place(session: Session, principal: Principal, data: dict[str, Any]) -> Placement:
    """Place a member of one of the principal's households in an open opening with a
    position left (409 ``opening_full``, ``opening_closed``, ``already_placed``); the
    follow-ups at 3 and 6 months are set."""
    member = courses.staff_member(session, principal, data.get("member_id"))
    openings.get_opening(session, principal, data.get("opening_id") or 0)
    req = job_requests.for_member(session, principal, data.get("request_id"), member)
    opening = openings.lock_opening(session, data["opening_id"])
    if opening.status != "open":
        raise Conflict("This opening is closed.", code="opening_closed")
    known = session.execute(
        select(Placement.id).where(Placement.opening_id == opening.id, Placement.member_id == member.id)
    ).scalar_one_or_none()
    if known is not None:
        raise Conflict(
            "This member has been placed in this opening already.",
            code="already_placed",
            details={"placement_id": known},
        )
    if openings.filled(session, opening.id) >= opening.positions:
        raise Conflict(
            f"All {opening.positions} positions of this opening are filled.",
            code="opening_full",
            details={"positions": opening.positions},
        )
    pay = data.get("pay_fen")
    if pay is not None and (not isinstance(pay, int) or pay < 0):
        raise Invalid("pay_fen is a whole number of fen, at least 0.", details={"pay_fen": ["out of range"]})
    starts_on: date = data.get("starts_on") or courses.today()
    placement = Placement(
        opening_id=opening.id,
        member_id=member.id,
        household_id=member.household_id,
        grid_id=member.household.grid_id,
        request_id=req.id if req else None,
        starts_on=starts_on,
        pay_fen=opening.pay_fen if pay is None else pay,
        status="active",
        created_by_id=principal.user_id or None,
    )
    session.add(placement)
    session.flush()
    for months in FOLLOW_UP_MONTHS:
        session.add(
            PlacementFollowUp(
                placement_id=placement.id,
                grid_id=placement.grid_id,
                months=months,
                due_on=add_months(starts_on, months),
            )
        )
    session.flush()
    audit.record(
        session,
        "placement.created",
        placement,
        after={
            "opening_id": opening.id,
            "member_id": member.id,
            "starts_on": starts_on.isoformat(),
            "pay_fen": placement.pay_fen,
            "request_id": placement.request_id,
            "follow_ups_due": [add_months(starts_on, m).isoformat() for m in FOLLOW_UP_MONTHS],
        },
        household_id=member.household_id,
        request_id=placement.request_id,
    )
    if req is not None:
        job_requests.placed(session, req, placement.id)
    return placement


def get_placement(session: Session, principal: Principal, placement_id: int, *, write: bool = False) -> Placement:
    """A placement the principal may see: the member's caseworkers, auditors, admins, and
    the partner whose opening it is. Anything else reads as not found."""
    placement = session.get(Placement, placement_id)
    if placement is None or principal.role not in openings.READERS:
        raise NotFound("No such placement.")
    if principal.role == "partner":
        if session.get(Opening, placement.opening_id).partner_id != principal.partner_id:
            raise NotFound("No such placement.")
        if write:
            raise Forbidden("Placements are followed up by the member's caseworkers.")
    else:
        principal.require_grid(placement.grid_id, write=write, what="placement")
    return placement


def list_placements(
    session: Session,
    principal: Principal,
    *,
    opening_id: int | None = None,
    member_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Placements the principal may see, the newest first."""
    if principal.role not in openings.READERS:
        raise Forbidden("Placements are read by caseworkers, auditors, admins and the employer.")
    stmt = select(Placement)
    if principal.role == "partner":
        stmt = stmt.join(Opening, Opening.id == Placement.opening_id).where(Opening.partner_id == principal.partner_id)
    else:
        visible = visible_grid_ids(principal)
        if visible is not None:
            stmt = stmt.where(Placement.grid_id.in_(visible))
    if opening_id is not None:
        stmt = stmt.where(Placement.opening_id == opening_id)
    if member_id is not None:
        stmt = stmt.where(Placement.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Placement.status == status)
    return paginate(session, stmt.order_by(Placement.id.desc()), page, per_page)


def follow_ups_of(session: Session, placement_id: int) -> list[PlacementFollowUp]:
    return list(
        session.execute(
            select(PlacementFollowUp)
            .where(PlacementFollowUp.placement_id == placement_id)
            .order_by(PlacementFollowUp.months)
        ).scalars()
    )


def due_follow_ups(session: Session, principal: Principal, *, on: date | None = None) -> list[PlacementFollowUp]:
    """Follow-ups due and not done on the principal's grids (a caseworker's list), the
    oldest due first; those of an ended placement are not due any more."""
    if principal.role not in ("caseworker", "auditor", "admin"):
        raise Forbidden("Follow-ups are the caseworkers' list.")
    day = on or courses.today()
    stmt = (
        select(PlacementFollowUp)
        .join(Placement, Placement.id == PlacementFollowUp.placement_id)
        .where(
            PlacementFollowUp.done_at.is_(None),
            PlacementFollowUp.due_on <= day,
            Placement.status == "active",
        )
    )
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(PlacementFollowUp.grid_id.in_(visible))
    return list(session.execute(stmt.order_by(PlacementFollowUp.due_on, PlacementFollowUp.id)).scalars())


def record_follow_up(
    session: Session, principal: Principal, placement_id: int, months: int, data: dict[str, Any]
) -> PlacementFollowUp:
    """Record the 3- or 6-month follow-up: still working? earnings in the month before, in
    fen. Once (409 ``follow_up_done``), and not long before its date (409 ``not_due``).
    Not working any more ends the placement."""
    placement = get_placement(session, principal, placement_id, write=True)
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Placements are followed up by the member's caseworkers.")
    follow_up = session.execute(
        select(PlacementFollowUp)
        .where(PlacementFollowUp.placement_id == placement.id, PlacementFollowUp.months == months)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if follow_up is None:
        raise NotFound("No such follow-up: they are at 3 and 6 months.")
    if follow_up.done_at is not None:
        raise Conflict("This follow-up is recorded already.", code="follow_up_done")
    if courses.today() < follow_up.due_on - timedelta(days=EARLY_DAYS):
        raise Conflict(
            f"This follow-up is due on {follow_up.due_on.isoformat()}: record it from a week before.",
            code="not_due",
            details={"due_on": follow_up.due_on.isoformat()},
        )
    still = data.get("still_working")
    earnings = data.get("earnings_fen")
    if not isinstance(still, bool):
        raise Invalid("Say whether the member still works there.", details={"still_working": ["required"]})
    if earnings is not None and (not isinstance(earnings, int) or earnings < 0):
        raise Invalid("earnings_fen is a whole number of fen, at least 0.", details={"earnings_fen": ["out of range"]})
    follow_up.done_at = utcnow()
    follow_up.still_working = still
    follow_up.earnings_fen = earnings
    follow_up.notes = (data.get("notes") or "").strip()[:MAX_NOTES]
    follow_up.recorded_by_id = principal.user_id or None
    audit.record(
        session,
        "placement.followed_up",
        placement,
        after={"months": months, "still_working": still, "earnings_fen": earnings},
        household_id=placement.household_id,
        request_id=placement.request_id,
    )
    if not still and placement.status == "active":
        placement.status = "ended"
        audit.record(
            session,
            "placement.ended",
            placement,
            before={"status": "active"},
            after={"status": "ended"},
            household_id=placement.household_id,
        )
    session.flush()
    return follow_up


def follow_up_view(follow_up: PlacementFollowUp, *, on: date | None = None) -> dict[str, Any]:
    day = on or courses.today()
    return {
        "id": follow_up.id,
        "placement_id": follow_up.placement_id,
        "months": follow_up.months,
        "due_on": follow_up.due_on,
        "due": follow_up.done_at is None and follow_up.due_on <= day,
        "done_at": follow_up.done_at,
        "still_working": follow_up.still_working,
        "earnings_fen": follow_up.earnings_fen,
        "notes": follow_up.notes,
    }


def view(session: Session, principal: Principal, placement: Placement) -> dict[str, Any]:
    """A placement as the principal may read it: an employer sees the member's name as the
    family's consent allows, no household, and no follow-up notes."""
    opening = session.get(Opening, placement.opening_id)
    member = session.get(Member, placement.member_id)
    staff = principal.role != "partner"
    follow = [follow_up_view(f) for f in follow_ups_of(session, placement.id)]
    if not staff:
        for f in follow:
            f["notes"] = ""
    return {
        "id": placement.id,
        "opening_id": opening.id,
        "opening": opening.title,
        "partner": openings.owner_name(session, opening.partner_id),
        "home_based": opening.home_based,
        "member_id": placement.member_id,
        "member_name": openings.member_label(session, principal, member),
        "household_id": placement.household_id if staff else None,
        "request_id": placement.request_id if staff else None,
        "starts_on": placement.starts_on,
        "pay_fen": placement.pay_fen,
        "pay_unit": opening.pay_unit,
        "status": placement.status,
        "follow_ups": follow,
        "created_at": placement.created_at,
    }
