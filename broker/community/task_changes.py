"""Changes of plan on a volunteer task: a volunteer withdraws a claim before checking in
(the place opens again), and a team leader cancels a task with a coded reason.

The response time the figures report runs from the request to the first claim that
stands: a claim withdrawn was no answer, so withdrawing one moves the task's
``first_claim_at`` to the earliest claim still live (or clears it), and a later claim
sets it anew. Both changes take the task's lock, as a claim does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import tasks, teams, volunteers
from broker.people import notify
from broker.platform.errors import Conflict, Invalid, NotFound
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from models import TaskClaim, Volunteer, VolunteerTask
from models.base import utcnow
from models.volunteers import TASK_CANCEL_REASONS

define(
    {
        "task.cancelled": N_("The task %(title)s was cancelled by the team: %(reason)s."),
        "task.cancel.family_declined": N_("the family declined"),
        "task.cancel.need_met": N_("the need was met otherwise"),
        "task.cancel.no_volunteers": N_("no volunteer could go"),
        "task.cancel.rescheduled": N_("it is rescheduled"),
        "task.cancel.entered_in_error": N_("entered in error"),
        "task.cancel.other": N_("another reason"),
    }
)


def _first_live_claim(session: Session, task_id: int) -> TaskClaim | None:
    return session.execute(
        select(TaskClaim)
        .where(TaskClaim.task_id == task_id, TaskClaim.status.in_(tasks.LIVE_CLAIMS))
        .order_by(TaskClaim.claimed_at, TaskClaim.id)
        .limit(1)
    ).scalar_one_or_none()


def withdraw(session: Session, principal: Principal, task_id: int) -> TaskClaim:
    """The volunteer gives up a claim not yet checked in; the place opens again. Withdrawn
    already: the claim as it is. Checked in: refused (check out instead)."""
    volunteer = volunteers.volunteer_of(session, principal)
    task = tasks.lock(session, task_id)
    mine = session.execute(
        select(TaskClaim).where(TaskClaim.task_id == task.id, TaskClaim.volunteer_id == volunteer.id).with_for_update()
    ).scalar_one_or_none()
    if task.team_id != volunteer.team_id:
        raise NotFound("No such task.")
    if mine is None:
        raise Conflict("Claim this task first.", code="not_claimed")
    if mine.status == "withdrawn":
        return mine
    if mine.status != "claimed":
        raise Conflict(
            "You have checked in already: check out when you leave instead.",
            code="invalid_transition",
            details={"current_status": mine.status, "action": "withdraw"},
        )
    mine.status = "withdrawn"
    task.claimed -= 1
    session.flush()
    standing = _first_live_claim(session, task.id)
    before = task.first_claim_at
    task.first_claim_at = standing.claimed_at if standing is not None else None
    session.flush()
    audit.record(
        session,
        "task.claim_withdrawn",
        mine,
        household_id=task.household_id,
        request_id=task.request_id,
        before={"status": "claimed", "first_claim_at": before.isoformat() if before else None},
        after={"status": "withdrawn", "task_id": task.id, "claimed": task.claimed},
    )
    return mine


def cancel(session: Session, principal: Principal, task_id: int, reason: str) -> VolunteerTask:
    """The team's leader (or an admin) cancels an open task with a coded reason; its
    claims are withdrawn and their volunteers told. The same cancel again changes
    nothing; a task with a volunteer checked in, or done, is not cancelled."""
    if reason not in TASK_CANCEL_REASONS:
        raise Invalid(
            f"reason must be one of {', '.join(TASK_CANCEL_REASONS)}.", details={"reason": ["unknown reason"]}
        )
    found = session.get(VolunteerTask, task_id)
    if found is None:
        raise NotFound("No such task.")
    teams.require_leader(session, principal, found.team_id)
    task = tasks.lock(session, task_id)
    if task.status == "cancelled":
        return task
    claims = tasks.claims_of(session, task.id)
    under_way = [c for c, _v in claims if c.status in ("checked_in", "checked_out")]
    if task.status != "open" or under_way:
        raise Conflict(
            "A volunteer is on this task already, or it is done: it can no longer be cancelled.",
            code="task_under_way",
            details={"current_status": task.status, "under_way": len(under_way)},
        )
    told: list[Volunteer] = []
    for claim, volunteer in claims:
        if claim.status == "claimed":
            claim.status = "withdrawn"
            told.append(volunteer)
    task.status, task.claimed = "cancelled", 0
    task.cancel_reason, task.cancelled_by_id, task.cancelled_at = reason, principal.user_id, utcnow()
    session.flush()
    audit.record(
        session,
        "task.cancelled",
        task,
        household_id=task.household_id,
        request_id=task.request_id,
        before={"status": "open"},
        after={"status": "cancelled", "reason": reason, "claims_withdrawn": len(told)},
    )
    notify.notify(
        session,
        [v.user_id for v in told if v.user_id is not None],
        "task.cancelled",
        {"title": task.title, "reason": {"code": f"task.cancel.{reason}"}},
        dedupe_key=f"task.cancelled:{task.id}",
    )
    return task
