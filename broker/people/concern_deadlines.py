"""A concern not answered by its deadline goes to the auditors: the outbox job scheduled
when it was filed escalates it at the deadline, and a periodic sweep (``broker.cron``)
catches any escalation that was lost. Escalating is idempotent: the concern is stamped
once, and each auditor (and the owner) is told once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import concerns, notify
from broker.platform import outbox
from broker.platform.texts import N_, define
from models import Concern, User
from models.base import utcnow

define(
    {
        "concern_escalated": N_(
            "Concern %(reference)s was not answered by its deadline of %(deadline)s and has been passed "
            "to the auditors. Answer it now."
        ),
    }
)


def auditors(session: Session) -> list[int]:
    """The active auditors: escalations go to them."""
    return list(
        session.execute(
            select(User.id).where(User.role == "auditor", User.is_active.is_(True)).order_by(User.id)
        ).scalars()
    )


def escalate_if_overdue(session: Session, concern_id: int, now: datetime | None = None) -> bool:
    """If the concern is still open past its deadline, mark it escalated and tell the
    auditors and its owner, once. Safe to run any number of times; True if it did now."""
    now = now or utcnow()
    stmt = select(Concern).where(Concern.id == concern_id).with_for_update()
    concern = session.execute(stmt).scalar_one_or_none()
    if concern is None or concern.state != "open" or concern.deadline_at > now:
        return False
    concern.state, concern.escalated_at = "escalated", now
    session.flush()
    recipients = auditors(session) + ([concern.owner_id] if concern.owner_id else [])
    params = {
        "concern_id": concern.id,
        "reference": concern.reference,
        "kind": concern.kind,
        "deadline": f"{concern.deadline_at:%Y-%m-%d}",
    }
    notified = notify.notify(session, recipients, "concern_escalated", params, f"concern-escalated:{concern.id}")
    audit.record(
        session,
        "concern.escalated",
        concern,
        household_id=concern.household_id,
        before={"state": "open"},
        after={"state": "escalated", "escalated_at": now.isoformat(), "notified": notified},
        details={"deadline_at": concern.deadline_at.isoformat()},
    )
    return True


@outbox.handler(concerns.ESCALATE_KIND)
def _escalate_job(session: Session, payload: dict) -> None:
    escalate_if_overdue(session, int(payload["concern_id"]))


def overdue_ids(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Open concerns past their deadline (the sweep's work), the oldest deadline first."""
    return list(
        session.execute(
            select(Concern.id)
            .where(Concern.state == "open", Concern.deadline_at <= (now or utcnow()))
            .order_by(Concern.deadline_at)
            .limit(limit)
        ).scalars()
    )


def sweep_overdue(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """The safety net behind the scheduled escalations (a lost job, a worker down)."""
    return sum(escalate_if_overdue(session, cid, now) for cid in overdue_ids(session, now, limit))
