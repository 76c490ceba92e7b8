"""A missed contact: a care plan's due date passed with no contact. The check scheduled
for the due date (an outbox row RQ's scheduler runs then) records the miss, tells the
household's caseworkers once, and moves the plan on to its next due date; the periodic
sweep (``broker.cron``) catches any check whose job was lost.

Safe to run twice and early: the plan is locked, a miss is one row per plan and due date,
the notification is stored once per due date, and a check that finds the plan not yet
due puts itself back for the day (or drops, when a contact has already moved the date)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import care_plans
from broker.people import notify
from broker.platform import outbox, periods
from broker.platform.texts import N_, define
from broker.registry import grids
from models import CareMiss, CarePlan
from models.base import utcnow

define(
    {
        "care_contact_missed": N_(
            "No contact was recorded on care plan no. %(care_plan_id)s by its due date of %(due)s. Call the carer "
            "and the family."
        ),
    }
)


def check(session: Session, plan_id: int, now: datetime | None = None) -> str:
    """``missed`` if the plan's due date has passed with no contact (and record it),
    ``not due`` if it has not come yet, ``done`` if there is nothing to check."""
    now = now or utcnow()
    plan = session.execute(select(CarePlan).where(CarePlan.id == plan_id).with_for_update()).scalar_one_or_none()
    if plan is None or plan.status != "active":
        return "done"
    if plan.next_due_at > now:
        return "not due"
    due = plan.next_due_at
    miss = CareMiss(plan_id=plan.id, grid_id=plan.grid_id, due_at=due, alerted_at=now)
    session.add(miss)
    recipients = grids.caseworker_ids(session, plan.grid_id, plus=plan.created_by_id)
    params = {
        "care_plan_id": plan.id,
        "household_id": plan.household_id,
        "due": f"{periods.to_local(due):%Y-%m-%d}",
    }
    notified = notify.notify(
        session, recipients, "care_contact_missed", params, f"care-missed:{plan.id}:{due.isoformat()}"
    )
    plan.next_due_at = due + care_plans.interval(plan)
    session.flush()
    audit.record(
        session,
        "care_contact.missed",
        plan,
        before={"next_due_at": due.isoformat()},
        after={"next_due_at": plan.next_due_at.isoformat(), "notified": notified},
        household_id=plan.household_id,
    )
    care_plans.schedule_check(session, plan)
    return "missed"


@outbox.handler(care_plans.CHECK_KIND)
def _check_job(session: Session, payload: dict) -> None:
    """The due date's check. Run early for the date it was set for, it puts itself back;
    for a date a contact has since moved, it leaves the newer check to do the work."""
    plan_id = int(payload["plan_id"])
    if check(session, plan_id) != "not due":
        return
    plan = session.get(CarePlan, plan_id)
    if plan is not None and plan.next_due_at.isoformat() == payload.get("due_at"):
        care_plans.schedule_check(session, plan)


def due_ids(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Active plans past their due date (the sweep's work), the longest overdue first."""
    return list(
        session.execute(
            select(CarePlan.id)
            .where(CarePlan.status == "active", CarePlan.next_due_at <= (now or utcnow()))
            .order_by(CarePlan.next_due_at, CarePlan.id)
            .limit(limit)
        ).scalars()
    )


def sweep(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """The safety net behind the scheduled checks (a lost job, a worker down)."""
    return sum(check(session, plan_id, now) == "missed" for plan_id in due_ids(session, now, limit))
