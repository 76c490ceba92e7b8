"""The family confirms a volunteer's service: the caseworker records it (the family told
them, or they saw it), or the family gives the volunteer the six-digit code it got by
SMS (as receipts do: kept only as a keyed hash, expiring, a few tries). A task with no
family (the team's own work) is confirmed by its leader.

Each confirmed claim leaves a service record; when no claim of the task is still
under way the task is done, and a task that carries an offer reports back into the
request's lifecycle: each record is a service session on the offer, and the offer
completes once none of its tasks is open."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import service_records, tasks, volunteers
from broker.money import disbursement_kinds
from broker.people import family_messages
from broker.platform import periods, runtime, security
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.referral import lifecycle, offers, payments, wording
from broker.registry import consents
from models import Household, Partner, ServiceRecord, TaskClaim, Volunteer, VolunteerTask
from models.base import utcnow

CODE_DIGITS = 6
RESEND_AFTER = timedelta(seconds=60)
METHODS = ("caseworker", "code", "leader")


@dataclass(frozen=True)
class CodeSent:
    task_id: int
    expires_at: datetime
    phone: str  # masked


def _code_hash(claim_id: int, code: str) -> str:
    return security.keyed_hash(f"service-code:{claim_id}:{code}")


def send_code(session: Session, principal: Principal, task_id: int) -> CodeSent:
    """Text the family a code to confirm the volunteer's own checked-out claim. Asked
    again within a minute, the code already sent stands."""
    task, mine = tasks.own_claim(session, principal, task_id)
    if mine.status != "checked_out":
        raise Conflict("Check out first: the family confirms a visit that is over.", code="not_checked_out")
    if task.household_id is None:
        raise Conflict("This task has no family to confirm it: your team leader confirms it.", code="no_family")
    if not consents.permits(session, task.household_id, consents.SMS):
        raise Conflict(
            "The family has not agreed to text messages: ask their caseworker to confirm.", code="no_sms_consent"
        )
    phone = family_messages.phone_number(
        session.scalar(select(Household.phone).where(Household.id == task.household_id))
    )
    if phone is None:
        raise Conflict("The family has no mobile number on record: ask their caseworker to confirm.", code="no_phone")
    masked = f"{phone[:3]}****{phone[-4:]}"
    now = utcnow()
    if mine.code_expires_at is not None and mine.code_hash and now < mine.code_expires_at:
        minutes = int(runtime.settings()["RECEIPT_CODE_MINUTES"])
        if now - (mine.code_expires_at - timedelta(minutes=minutes)) < RESEND_AFTER:
            return CodeSent(task.id, mine.code_expires_at, masked)
    minutes = int(runtime.settings()["RECEIPT_CODE_MINUTES"])
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    mine.code_hash, mine.code_attempts = _code_hash(mine.id, code), 0
    mine.code_expires_at = now + timedelta(minutes=minutes)
    session.flush()
    family_messages.send_to_family(
        session,
        task.household_id,
        "family.service_code",
        {"minutes": minutes},
        dedupe_key=f"service_code:{mine.id}:{now.isoformat()}",
        secret={"code": code},
    )
    audit.record(
        session,
        "task.code_sent",
        mine,
        household_id=task.household_id,
        request_id=task.request_id,
        after={"expires_at": mine.code_expires_at.isoformat()},
    )
    return CodeSent(task.id, mine.code_expires_at, masked)


def _check_code(session: Session, mine: TaskClaim, code: str) -> Conflict | Invalid | None:
    if not mine.code_hash or mine.code_expires_at is None:
        return Conflict("Send the family a code first.", code="no_code_sent")
    limit = int(runtime.settings()["RECEIPT_CODE_ATTEMPTS"])
    if mine.code_attempts >= limit:
        return Conflict("Too many wrong codes: send the family a new one.", code="code_locked")
    if utcnow() >= mine.code_expires_at:
        return Invalid(
            "The code has expired: send the family a new one.", code="code_expired", details={"code": ["expired"]}
        )
    if not hmac.compare_digest(mine.code_hash, _code_hash(mine.id, code or "")):
        mine.code_attempts += 1
        session.flush()
        left = max(limit - mine.code_attempts, 0)
        return Invalid(
            f"That is not the code sent to the family; {left} tries left.",
            code="wrong_code",
            details={"code": ["wrong code"], "attempts_left": left},
        )
    mine.code_hash = None
    return None


@dataclass
class Confirmed:
    task: VolunteerTask
    records: list[ServiceRecord]
    created: bool
    refusal: Conflict | Invalid | None = None


def confirm(session: Session, principal: Principal, task_id: int, method: str, code: str | None = None) -> Confirmed:
    """Confirm the task's checked-out claims by ``method``: ``caseworker`` (the family's
    caseworker, every claim), ``leader`` (a task with no family, every claim) or ``code``
    (the volunteer's own claim, with the family's code). Confirming again returns the
    records already written. A wrong code is returned as ``refusal``, its try counted."""
    task = session.get(VolunteerTask, task_id)
    if task is None:
        raise NotFound("No such task.")
    _authorise(session, principal, task, method)
    offer_req = lifecycle.lock_offer(session, task.offer_id) if task.offer_id else None  # request, offer, then task
    task = tasks.lock(session, task_id)
    pending = _pending_claims(session, principal, task, method)
    if method == "code":
        refusal = _check_code(session, pending[0][0], code or "") if pending else None
        if refusal is not None:
            return Confirmed(task, [], False, refusal)
    if not pending:
        done = _records(session, task, principal, method)
        if done:
            return Confirmed(task, done, False)
        raise Conflict("Nothing to confirm yet: the volunteer checks out first.", code="nothing_to_confirm")
    verifier = None if method == "code" else principal.user_id
    made = [
        service_records.record(session, task, claim, volunteer, method=method, verified_by_id=verifier)
        for claim, volunteer in pending
    ]
    _settle(session, task, made, offer_req)
    return Confirmed(task, made, True)


def _authorise(session: Session, principal: Principal, task: VolunteerTask, method: str) -> None:
    if method == "caseworker":
        principal.require("caseworker", "admin")
        if task.household_id is None or task.grid_id is None:
            raise Conflict("This task has no family: its team leader confirms it.", code="no_family")
        principal.require_grid(task.grid_id, write=True, what="task")
    elif method == "leader":
        if not principal.leads_team(task.team_id):
            raise (
                NotFound("No such task.")
                if principal.role == "partner"
                else Forbidden("Only the team's leaders confirm the team's own tasks.")
            )
        if task.household_id is not None:
            raise Conflict(
                "The family confirms this task: its caseworker, or the code sent to the family.", code="family_confirms"
            )
    else:
        principal.require("volunteer")
        volunteers.volunteer_of(session, principal)


def _pending_claims(
    session: Session, principal: Principal, task: VolunteerTask, method: str
) -> list[tuple[TaskClaim, Volunteer]]:
    pairs = [(c, v) for c, v in tasks.claims_of(session, task.id) if c.status == "checked_out"]
    if method == "code":
        pairs = [(c, v) for c, v in pairs if v.user_id == principal.user_id]
        if not pairs:
            mine = [c for c, v in tasks.claims_of(session, task.id) if v.user_id == principal.user_id]
            if not mine or mine[0].status in ("claimed", "checked_in", "withdrawn"):
                raise Conflict("Check out first: the family confirms a visit that is over.", code="not_checked_out")
    for claim, _v in pairs:
        session.refresh(claim, with_for_update=True)
    return [(c, v) for c, v in pairs if c.status == "checked_out"]


def _records(session: Session, task: VolunteerTask, principal: Principal, method: str) -> list[ServiceRecord]:
    stmt = select(ServiceRecord).where(ServiceRecord.task_id == task.id).order_by(ServiceRecord.id)
    if method == "code":
        stmt = stmt.join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id).where(
            Volunteer.user_id == principal.user_id
        )
    return list(session.execute(stmt).scalars())


def _settle(session: Session, task: VolunteerTask, made: list[ServiceRecord], offer_req: tuple | None) -> None:
    """Close the task once no claim is under way; report the sessions to the offer."""
    live = [c for c, _v in tasks.claims_of(session, task.id) if c.status in tasks.LIVE_CLAIMS]
    if not live:
        task.status, task.done_at = "done", utcnow()
        audit.record(
            session,
            "task.done",
            task,
            household_id=task.household_id,
            request_id=task.request_id,
            after={"status": "done"},
        )
    if offer_req is None:
        return
    offer, req = offer_req
    if offer.status not in lifecycle.TAKEN:
        return  # the offer was closed meanwhile (withdrawn, completed by hand): the records stand
    if req.kind != "money":  # a team has no fund: money is never a volunteer's to record
        team = session.get(Partner, task.team_id)
        for row in made:
            payments.pay(session, offer, req, _delivery(session, req.kind, team, row))
    open_tasks = session.execute(
        select(VolunteerTask.id).where(VolunteerTask.offer_id == offer.id, VolunteerTask.status == "open")
    ).first()
    if open_tasks is None and offer.status in lifecycle.TAKEN:
        offers.finish(session, offer, req, wording.COMPLETED_BY_PARTNER)


def _delivery(session: Session, need: str, team: Partner, row: ServiceRecord) -> disbursement_kinds.Delivery:
    """The service record as the offer records help: a session (a service need), or one
    service handed over (an in-kind need such as an escort to hospital)."""
    volunteer = session.get(Volunteer, row.volunteer_id)
    who = f"{team.name} {volunteer.name}"[: disbursement_kinds.DELIVERED_BY_MAX]
    reference = f"service-record-{row.id}"
    if need == "service":
        day = periods.to_local(row.started_at).date()
        return disbursement_kinds.Delivery(
            "service", session_date=day, minutes=max(row.minutes, 1), delivered_by=who, reference=reference
        )
    item = {"name": row.content[: disbursement_kinds.NAME_MAX], "quantity": 1, "unit": "次"}
    return disbursement_kinds.Delivery("in_kind", items=[item], notes=who, reference=reference)


def awaiting(session: Session, principal: Principal) -> list[tuple[VolunteerTask, list[tuple[TaskClaim, Volunteer]]]]:
    """Tasks of families in the caseworker's grids (all, for an admin) with a volunteer
    checked out and the family's confirmation still to record."""
    principal.require("caseworker", "admin")
    stmt = (
        select(VolunteerTask)
        .join(TaskClaim, TaskClaim.task_id == VolunteerTask.id)
        .where(TaskClaim.status == "checked_out", VolunteerTask.household_id.is_not(None))
        .order_by(VolunteerTask.starts_at)
        .distinct()
    )
    if principal.grid_scope() is not None:
        stmt = stmt.where(VolunteerTask.grid_id.in_(principal.grid_scope() or {0}))
    found = list(session.execute(stmt).scalars())
    return [(t, [(c, v) for c, v in tasks.claims_of(session, t.id) if c.status == "checked_out"]) for t in found]
