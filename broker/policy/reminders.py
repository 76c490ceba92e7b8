"""Reminders for applications waiting on the department past their deadline: the outbox
job scheduled at submission (:func:`broker.policy.applications.advance`) tells the
caseworkers once, and a periodic sweep catches any reminder that was lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import notify
from broker.platform import outbox
from broker.platform.scope import Principal
from broker.policy import catalogue
from broker.policy.applications import OPEN, REMINDER_KIND, WAITING
from broker.registry import grids
from broker.registry.access import visible_grid_ids
from models import Application, Household
from models.base import utcnow


def remind_if_overdue(session: Session, application_id: int, now: datetime | None = None) -> bool:
    """If the application still waits on the department past its deadline, tell the
    caseworkers once (a notification per person, deduplicated) and stamp
    ``reminded_at``. Safe to run any number of times; True if it reminded now."""
    now = now or utcnow()
    stmt = select(Application).where(Application.id == application_id).with_for_update()
    app = session.execute(stmt).scalar_one_or_none()
    if app is None or app.status not in WAITING or app.reminded_at is not None:
        return False
    if app.deadline_at is None or app.deadline_at > now:
        return False
    household = session.get(Household, app.household_id)
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    recipients = grids.caseworker_ids(session, household.grid_id, plus=app.created_by_id)
    notify.application_overdue(
        session,
        recipients,
        application_id=app.id,
        household_id=household.id,
        policy=policy.name,
        department=app.department or "",
        deadline=app.deadline_at,
    )
    app.reminded_at = now
    session.flush()
    audit.record(
        session,
        "application.reminded",
        app,
        household_id=household.id,
        after={"reminded_at": now.isoformat(), "notified": recipients},
        details={"deadline_at": app.deadline_at.isoformat()},
    )
    return True


@outbox.handler(REMINDER_KIND)
def _reminder_job(session: Session, payload: dict) -> None:
    remind_if_overdue(session, int(payload["application_id"]))


def overdue_ids(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Applications waiting past their deadline and not yet reminded (the sweep's work)."""
    now = now or utcnow()
    return list(
        session.execute(
            select(Application.id)
            .where(
                Application.status.in_(WAITING),
                Application.deadline_at <= now,
                Application.reminded_at.is_(None),
            )
            .order_by(Application.deadline_at)
            .limit(limit)
        ).scalars()
    )


def sweep_overdue(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """The safety net behind the scheduled reminders: remind every overdue application
    that has not been reminded (a lost job, a worker down at the time)."""
    return sum(remind_if_overdue(session, app_id, now) for app_id in overdue_ids(session, now, limit))


def open_for(session: Session, principal: Principal, limit: int = 100) -> list[tuple[Application, Household]]:
    """The open applications of the households the principal may see, the most urgent
    first: past their deadline, then by deadline, then those still gathering documents
    (oldest first)."""
    principal.require("caseworker", "admin", "auditor")
    stmt = (
        select(Application, Household)
        .join(Household, Household.id == Application.household_id)
        .where(Application.status.in_(OPEN))
    )
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(Household.grid_id.in_(visible))
    stmt = stmt.order_by(Application.deadline_at.is_(None), Application.deadline_at, Application.id).limit(limit)
    return [(app, household) for app, household in session.execute(stmt).all()]
