"""Tasks: a team leader breaks a service request the team took on into tasks with a
time and a place; the team's approved members claim them on a phone, check in and out.

A claim is safe under concurrency: the task row is locked (``FOR UPDATE``, as the
ledger locks accounts) before its places are counted, so two volunteers claiming the
last place are served one after the other and the second is told it is full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import teams, volunteers
from broker.platform.errors import Conflict, Invalid, NotFound
from broker.platform.scope import Principal
from broker.referral import lifecycle
from broker.registry import disclosure
from models import AidRequest, Offer, TaskClaim, Volunteer, VolunteerTask
from models.base import utcnow

LONGEST = timedelta(hours=24)
# Checking in is possible from a little before the task starts.
EARLY = timedelta(hours=2)
LIVE_CLAIMS = ("claimed", "checked_in", "checked_out")
READERS = ("partner", "volunteer", "auditor", "admin")


def create(session: Session, principal: Principal, team_id: int, data: dict[str, Any]) -> VolunteerTask:
    """A new open task of the team (``data`` as :class:`~.volunteer_schema.TaskIn` loads it)."""
    team = teams.require_leader(session, principal, team_id)
    starts, ends = data["starts_at"], data["ends_at"]
    if not starts < ends <= starts + LONGEST:
        raise Invalid(
            "A task ends after it starts, within 24 hours.",
            code="bad_task_times",
            details={"ends_at": ["after starts_at, within 24 hours"]},
        )
    task = VolunteerTask(
        team_id=team.id,
        kind=data["kind"],
        title=data["title"].strip(),
        place=data["place"].strip(),
        starts_at=starts,
        ends_at=ends,
        slots=data.get("slots") or 1,
        created_by_id=principal.user_id,
        requested_at=utcnow(),
    )
    if data.get("offer_id"):
        offer, req = _taken_offer(session, team.id, data["offer_id"])
        task.offer_id, task.request_id = offer.id, req.id
        task.household_id, task.grid_id = req.household_id, req.grid_id
        task.requested_at = offer.created_at
    session.add(task)
    session.flush()
    audit.record(
        session,
        "task.created",
        task,
        household_id=task.household_id,
        request_id=task.request_id,
        after={"team_id": team.id, "offer_id": task.offer_id, "kind": task.kind, "slots": task.slots},
    )
    return task


def _taken_offer(session: Session, team_id: int, offer_id: int) -> tuple[Offer, AidRequest]:
    offer = session.get(Offer, offer_id)
    if offer is None or offer.partner_id != team_id:
        raise Invalid("No such offer to your team.", code="unknown_offer", details={"offer_id": ["not your team's"]})
    if offer.status not in lifecycle.TAKEN:
        raise Conflict(
            "Accept the offer before handing it out as tasks.",
            code="offer_not_taken",
            details={"current_status": offer.status},
        )
    return offer, session.get(AidRequest, offer.request_id)


def get(session: Session, principal: Principal, task_id: int) -> VolunteerTask:
    """A task its team's leaders and members, auditors and admins may read."""
    principal.require(*READERS)
    task = session.get(VolunteerTask, task_id)
    if task is None or not _may_read(session, principal, task.team_id):
        raise NotFound("No such task.")
    return task


def _may_read(session: Session, principal: Principal, team_id: int) -> bool:
    if principal.role == "partner":
        return principal.leads_team(team_id)
    if principal.role == "volunteer":
        return volunteers.volunteer_of(session, principal).team_id == team_id
    return True


def of_team(session: Session, principal: Principal, team_id: int, *, status: str | None = None) -> list[VolunteerTask]:
    """The team's tasks, soonest first."""
    principal.require(*READERS)
    if principal.role == "partner" and not principal.leads_team(team_id):
        raise NotFound("No such volunteer team.")
    if principal.role == "volunteer" and volunteers.volunteer_of(session, principal).team_id != team_id:
        raise NotFound("No such volunteer team.")
    teams.team(session, team_id)
    stmt = select(VolunteerTask).where(VolunteerTask.team_id == team_id).order_by(VolunteerTask.starts_at)
    if status:
        stmt = stmt.where(VolunteerTask.status == status)
    return list(session.execute(stmt).scalars())


def claims_of(session: Session, task_id: int) -> list[tuple[TaskClaim, Volunteer]]:
    """The task's claims with their volunteers, in the order they came."""
    return list(
        session.execute(
            select(TaskClaim, Volunteer)
            .join(Volunteer, Volunteer.id == TaskClaim.volunteer_id)
            .where(TaskClaim.task_id == task_id)
            .order_by(TaskClaim.id)
        ).all()
    )


def lock(session: Session, task_id: int) -> VolunteerTask:
    task = session.execute(
        select(VolunteerTask)
        .where(VolunteerTask.id == task_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    ).scalar_one_or_none()
    if task is None:
        raise NotFound("No such task.")
    return task


def claim(session: Session, principal: Principal, task_id: int) -> tuple[TaskClaim, bool]:
    """The volunteer takes a place on the task; returns the claim and whether it is new
    (claiming again returns the first claim)."""
    volunteer = volunteers.active_volunteer(session, principal)
    task = lock(session, task_id)
    if task.team_id != volunteer.team_id:
        raise NotFound("No such task.")
    mine = session.execute(
        select(TaskClaim).where(TaskClaim.task_id == task.id, TaskClaim.volunteer_id == volunteer.id)
    ).scalar_one_or_none()
    if mine is not None and mine.status in (*LIVE_CLAIMS, "confirmed"):
        return mine, False
    if task.status != "open":
        raise Conflict("This task is no longer open.", code="task_closed", details={"current_status": task.status})
    if task.claimed >= task.slots:
        raise Conflict(
            "Every place on this task is taken.",
            code="task_full",
            details={"slots": task.slots, "claimed": task.claimed},
        )
    now = utcnow()
    if mine is None:
        mine = TaskClaim(task_id=task.id, volunteer_id=volunteer.id, claimed_at=now)
        session.add(mine)
    else:  # claimed once, withdrawn, claimed again
        mine.status, mine.claimed_at = "claimed", now
    task.claimed += 1
    task.first_claim_at = task.first_claim_at or now
    session.flush()
    audit.record(
        session,
        "task.claimed",
        mine,
        household_id=task.household_id,
        request_id=task.request_id,
        after={"task_id": task.id, "volunteer_id": volunteer.id, "claimed": task.claimed, "slots": task.slots},
    )
    return mine, True


def own_claim(session: Session, principal: Principal, task_id: int) -> tuple[VolunteerTask, TaskClaim]:
    """The signed-in volunteer's claim on the task, its task locked."""
    volunteer = volunteers.volunteer_of(session, principal)
    task = lock(session, task_id)
    found = session.execute(
        select(TaskClaim).where(TaskClaim.task_id == task.id, TaskClaim.volunteer_id == volunteer.id).with_for_update()
    ).scalar_one_or_none()
    if task.team_id != volunteer.team_id:
        raise NotFound("No such task.")
    if found is None or found.status == "withdrawn":
        raise Conflict("Claim this task first.", code="not_claimed")
    return task, found


def check_in(session: Session, principal: Principal, task_id: int, now: datetime | None = None) -> TaskClaim:
    """The volunteer arrives (once: checking in again keeps the first time)."""
    task, mine = own_claim(session, principal, task_id)
    now = now or utcnow()
    if mine.status != "claimed":
        if mine.checked_in_at is not None:
            return mine
        raise _transition(mine, "check in")
    if now < task.starts_at - EARLY:
        raise Conflict(
            "It is too early to check in: come back up to two hours before the task starts.",
            code="too_early",
            details={"starts_at": task.starts_at.isoformat()},
        )
    mine.status, mine.checked_in_at = "checked_in", now
    session.flush()
    audit.record(session, "task.checked_in", mine, household_id=task.household_id, request_id=task.request_id)
    return mine


def check_out(session: Session, principal: Principal, task_id: int, now: datetime | None = None) -> TaskClaim:
    """The volunteer leaves; the hours between check-in and check-out are recorded (at
    most a day). Checking out again keeps the first time."""
    task, mine = own_claim(session, principal, task_id)
    now = now or utcnow()
    if mine.status != "checked_in":
        if mine.checked_out_at is not None:
            return mine
        raise _transition(mine, "check out")
    mine.status, mine.checked_out_at = "checked_out", now
    mine.minutes = min(int((now - mine.checked_in_at).total_seconds() // 60), int(LONGEST.total_seconds() // 60))
    session.flush()
    audit.record(
        session,
        "task.checked_out",
        mine,
        household_id=task.household_id,
        request_id=task.request_id,
        after={"minutes": mine.minutes},
    )
    return mine


def _transition(mine: TaskClaim, action: str) -> Conflict:
    return Conflict(
        f"You cannot {action} now: this claim is {mine.status}.",
        code="invalid_transition",
        details={"current_status": mine.status, "action": action},
    )


def takeable_offers(session: Session, principal: Principal, team_id: int) -> list[tuple[Offer, AidRequest]]:
    """The offers the team has taken on, to hand out as tasks (oldest first)."""
    teams.require_leader(session, principal, team_id)
    return list(
        session.execute(
            select(Offer, AidRequest)
            .join(AidRequest, AidRequest.id == Offer.request_id)
            .where(Offer.partner_id == team_id, Offer.status.in_(lifecycle.TAKEN))
            .order_by(Offer.id)
        ).all()
    )


@dataclass(frozen=True)
class Board:
    """What a volunteer's phone shows: the team's open tasks with a place left that the
    volunteer has not claimed, the volunteer's own claims with their tasks, and — for a
    claim under way — the family as a volunteer may see it (the disclosure matrix: its
    name, address and phone only with the family's consent to volunteer contact)."""

    volunteer: Volunteer
    open_tasks: list[VolunteerTask]
    mine: list[tuple[VolunteerTask, TaskClaim]]
    families: dict[int, dict[str, Any]]


def board(session: Session, principal: Principal) -> Board:
    """The signed-in volunteer's :class:`Board`."""
    volunteer = volunteers.volunteer_of(session, principal)
    mine = [
        (task, claim)
        for task, claim in session.execute(
            select(VolunteerTask, TaskClaim)
            .join(TaskClaim, TaskClaim.task_id == VolunteerTask.id)
            .where(TaskClaim.volunteer_id == volunteer.id, TaskClaim.status != "withdrawn")
            .order_by(VolunteerTask.starts_at.desc())
            .limit(50)
        ).all()
    ]
    families = {
        task.id: disclosure.disclose(session, task.household_id, disclosure.VOLUNTEER).fields
        for task, claim in mine
        if task.household_id is not None and claim.status in LIVE_CLAIMS
    }
    if volunteer.status != "active":
        return Board(volunteer, [], mine, families)
    taken = {task.id for task, _claim in mine}
    open_tasks = session.execute(
        select(VolunteerTask)
        .where(
            VolunteerTask.team_id == volunteer.team_id,
            VolunteerTask.status == "open",
            VolunteerTask.claimed < VolunteerTask.slots,
        )
        .order_by(VolunteerTask.starts_at)
        .limit(50)
    ).scalars()
    return Board(volunteer, [t for t in open_tasks if t.id not in taken], mine, families)
