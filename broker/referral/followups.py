"""Follow-up visits (回访), the last step of the closed loop: completing a request
schedules one visit to its household after a number of days that depends on the need's
category (``FOLLOW_UP_DAYS``; schooling at the start of the next term, 1 March or
1 September, ``FOLLOW_UP_TERM_STARTS``). The visit's day is an outbox row due then, which
RQ's scheduler runs; the job marks the visit due and tells the household's caseworkers.
The reconciler finds any visit whose day has come and that nobody marked due (a job lost
with Redis) — :func:`due_ids` — so no family is forgotten.

One visit per request, whatever runs twice: the table keeps ``request_id`` unique and
:func:`schedule` adds nothing for a request that has one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import family_messages, notify
from broker.platform import outbox, periods, runtime
from broker.registry import grids
from models import AidRequest, FollowUp
from models.base import utcnow

DUE_KIND = "follow_up_due"
OPEN = ("scheduled", "due")
DEFAULT_DAYS = 30


def _term_start(after: date) -> date:
    """The first day of the next school term strictly after ``after``."""
    starts = sorted(
        date(after.year + year, int(month), int(day))
        for year in (0, 1)
        for month, day in (s.split("-") for s in runtime.settings()["FOLLOW_UP_TERM_STARTS"])
    )
    return next(start for start in starts if start > after)


def due_date(category: str, completed_at: datetime) -> datetime:
    """When the follow-up visit of a request of ``category`` completed at
    ``completed_at`` falls due: that many days later, or, for schooling, at local
    midnight of the next term's first day."""
    if category == "schooling":
        return periods.start_of_day(_term_start(periods.to_local(completed_at).date()))
    days = runtime.settings()["FOLLOW_UP_DAYS"].get(category, DEFAULT_DAYS)
    return completed_at + timedelta(days=int(days))


def schedule(session: Session, req: AidRequest) -> FollowUp | None:
    """Schedule the follow-up visit of a request that has just completed, with the job
    that marks it due on its day. Returns None when the request already has one."""
    existing = session.execute(select(FollowUp).where(FollowUp.request_id == req.id)).scalar_one_or_none()
    if existing is not None:
        return None
    follow_up = FollowUp(
        request_id=req.id,
        household_id=req.household_id,
        grid_id=req.grid_id,
        category=req.category,
        status="scheduled",
        due_at=due_date(req.category, req.completed_at or utcnow()),
        notes="",
    )
    session.add(follow_up)
    session.flush()
    audit.record(
        session,
        "follow_up.scheduled",
        follow_up,
        after={"status": "scheduled", "due_at": follow_up.due_at.isoformat(), "category": req.category},
        household_id=req.household_id,
        request_id=req.id,
    )
    outbox.add(session, DUE_KIND, {"follow_up_id": follow_up.id}, due_at=follow_up.due_at)
    return follow_up


def cancel(session: Session, req: AidRequest) -> bool:
    """A completed request found to be entered in error: its visit, not yet recorded, is
    dropped (audited), so it never falls due. True if one was dropped."""
    follow_up = session.execute(
        select(FollowUp).where(FollowUp.request_id == req.id).with_for_update()
    ).scalar_one_or_none()
    if follow_up is None or follow_up.status not in OPEN:
        return False
    audit.record(
        session,
        "follow_up.cancelled",
        follow_up,
        before={"status": follow_up.status, "due_at": follow_up.due_at.isoformat()},
        after={"status": "cancelled"},
        household_id=req.household_id,
        request_id=req.id,
    )
    session.delete(follow_up)
    session.flush()
    return True


def mark_due(session: Session, follow_up_id: int, now: datetime | None = None) -> str:
    """On its day, mark the visit due and tell the household's caseworkers (once). Safe
    to run twice and early: it acts only on a scheduled visit whose day has come."""
    now = now or utcnow()
    stmt = select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update()
    follow_up = session.execute(stmt).scalar_one_or_none()
    if follow_up is None or follow_up.status != "scheduled":
        return "done"
    if follow_up.due_at > now:
        return "not due"
    follow_up.status = "due"
    follow_up.notified_at = now
    req = session.get(AidRequest, follow_up.request_id)
    recipients = grids.caseworker_ids(session, follow_up.grid_id, plus=req.created_by_id if req else None)
    notify.follow_up_due(
        session,
        recipients,
        follow_up_id=follow_up.id,
        household_id=follow_up.household_id,
        request_id=follow_up.request_id,
        due=periods.to_local(follow_up.due_at),
    )
    family_messages.send_to_family(
        session,
        follow_up.household_id,
        "family.follow_up_due",
        {"date": periods.to_local(follow_up.due_at).date().isoformat()},
        dedupe_key=f"follow_up_due:{follow_up.id}",
    )
    session.flush()
    audit.record(
        session,
        "follow_up.due",
        follow_up,
        before={"status": "scheduled"},
        after={"status": "due", "notified": recipients},
        household_id=follow_up.household_id,
        request_id=follow_up.request_id,
    )
    return "due"


@outbox.handler(DUE_KIND)
def _due_job(session: Session, payload: dict) -> None:
    """The visit's day (RQ's scheduler runs it at ``due_at``). Run early, it puts
    itself back for the day."""
    follow_up_id = int(payload["follow_up_id"])
    if mark_due(session, follow_up_id) == "not due":
        due_at = session.execute(select(FollowUp.due_at).where(FollowUp.id == follow_up_id)).scalar_one()
        outbox.add(session, DUE_KIND, {"follow_up_id": follow_up_id}, due_at=due_at)


def due_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Visits whose day has come and that are not marked due yet (the reconciler's work)."""
    return list(
        session.execute(
            select(FollowUp.id)
            .where(FollowUp.status == "scheduled", FollowUp.due_at <= now)
            .order_by(FollowUp.due_at, FollowUp.id)
            .limit(limit)
        ).scalars()
    )
