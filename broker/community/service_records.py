"""Volunteer service records (志愿服务记录) as the Ministry of Civil Affairs' rules ask:
who served (the volunteer), what (the task's kind and title), where, when (check-in and
check-out), how many hours, for whom (the household, by id) and verified by whom and how.

A record is written once, when the family confirms; nothing edits it. What else follows
a confirmed record — a family's volunteer points — subscribes with :func:`on_confirmed`:
the hook runs in the same transaction, so the record and what it earns commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import volunteers
from broker.platform import periods
from broker.platform.scope import Principal
from models import ServiceRecord, TaskClaim, Volunteer, VolunteerTask
from models.base import utcnow

ConfirmedHook = Callable[[Session, ServiceRecord], None]
_hooks: list[ConfirmedHook] = []


def on_confirmed(hook: ConfirmedHook) -> ConfirmedHook:
    """Run ``hook(session, record)`` for every service record confirmed from now on
    (e.g. the volunteer's family earning points). Registering it twice runs it once."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def record(
    session: Session,
    task: VolunteerTask,
    claim: TaskClaim,
    volunteer: Volunteer,
    *,
    method: str,
    verified_by_id: int | None,
) -> ServiceRecord:
    """The service record of a claim the family (or, with no family, the leader) confirmed."""
    row = ServiceRecord(
        claim_id=claim.id,
        volunteer_id=volunteer.id,
        team_id=task.team_id,
        task_id=task.id,
        household_id=task.household_id,
        grid_id=task.grid_id,
        kind=task.kind,
        content=task.title,
        place=task.place,
        started_at=claim.checked_in_at,
        ended_at=claim.checked_out_at,
        minutes=claim.minutes or 0,
        method=method,
        verified_by_id=verified_by_id,
        verified_at=utcnow(),
        details={"offer_id": task.offer_id, "request_id": task.request_id},
    )
    session.add(row)
    claim.status = "confirmed"
    session.flush()
    audit.record(
        session,
        "service_record.confirmed",
        row,
        household_id=task.household_id,
        request_id=task.request_id,
        after={
            "volunteer_id": volunteer.id,
            "task_id": task.id,
            "minutes": row.minutes,
            "method": method,
            "verified_by_id": verified_by_id,
        },
    )
    for hook in list(_hooks):
        hook(session, row)
    return row


def of_volunteer(
    session: Session,
    principal: Principal,
    volunteer_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[Volunteer, list[ServiceRecord]]:
    """A volunteer's records in the period (local days, both included), oldest first."""
    volunteer = volunteers.get(session, principal, volunteer_id)
    start, end = periods.bounds(date_from, date_to)
    stmt = select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer.id).order_by(ServiceRecord.started_at)
    if start is not None:
        stmt = stmt.where(ServiceRecord.started_at >= start)
    if end is not None:
        stmt = stmt.where(ServiceRecord.started_at < end)
    return volunteer, list(session.execute(stmt).scalars())


def total_minutes(records: list[ServiceRecord]) -> int:
    return sum(r.minutes for r in records)


def hours(minutes: int) -> str:
    """Minutes as hours with one decimal, as a certificate states them (no floats)."""
    tenths = (minutes * 10 + 30) // 60
    return f"{tenths // 10}.{tenths % 10}"


def local(moment: datetime) -> str:
    return periods.to_local(moment).strftime("%Y-%m-%d %H:%M")
