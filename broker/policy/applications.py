"""Applications for government policies, filed by the caseworker on the family's behalf
(代办): the document checklist (材料清单), submission to the department (部门递交) and
progress tracking (进度跟踪) to approval, which records the benefit the household now
receives.

    documents-gathering → submitted → under-review → approved | rejected
    (submitted may be decided directly; any open application may be withdrawn)

One open application per household and policy. Every step is an ApplicationStep (date,
actor, note) and an audit event on the household's timeline. Submission sets the
department's deadline and schedules a reminder on RQ's scheduler through the outbox
(:mod:`broker.policy.reminders` sends it; a periodic sweep there catches any that was
lost)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import family_messages
from broker.platform import outbox, pages, runtime
from broker.platform.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound, found
from broker.platform.scope import Principal
from broker.policy import catalogue
from broker.policy.evaluation import Facts
from broker.policy.package import benefits_of, checklist
from broker.registry import households
from models import Application, ApplicationStep, Household, HouseholdBenefit
from models.base import utcnow

WRITERS = ("caseworker", "admin")
READERS = ("caseworker", "admin", "auditor")
OPEN = ("documents-gathering", "submitted", "under-review")
WAITING = ("submitted", "under-review")  # waiting on the department: the deadline runs
TERMINAL = ("approved", "rejected", "withdrawn")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "documents-gathering": ("submitted", "withdrawn"),
    "submitted": ("under-review", "approved", "rejected", "withdrawn"),
    "under-review": ("approved", "rejected", "withdrawn"),
}
REMINDER_KIND = "application.reminder"
# The referral domain settles what routing held back for the policy (broker.referral.policy_holds).
DECIDED_KIND = "policy_decided"
CLOCK_SKEW = timedelta(minutes=5)
MAX_BACKDATE = timedelta(days=366)
REFERENCE_MAX = 80


# --------------------------------------------------------------------------- reading


def _require(principal: Principal, roles: tuple[str, ...]) -> None:
    if principal.role == "partner":
        raise Forbidden("Partners do not see policy applications.")
    principal.require(*roles)


def get_application(session: Session, principal: Principal, application_id: int, *, write: bool = False) -> Application:
    """The application, if the principal may see its household (404 otherwise)."""
    _require(principal, WRITERS if write else READERS)
    app = found(session.get(Application, application_id), "application")
    household = session.get(Household, app.household_id)
    principal.require_grid(household.grid_id, write=write, what="application")
    return app


def list_applications(
    session: Session,
    principal: Principal,
    household_id: int,
    *,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> pages.Page:
    """A household's applications, newest first."""
    _require(principal, READERS)
    household = households.get_household(session, principal, household_id)
    stmt = select(Application).where(Application.household_id == household.id)
    if status:
        stmt = stmt.where(Application.status == status)
    return pages.paginate(session, stmt.order_by(Application.id.desc()), page, per_page)


def describe(app: Application) -> dict[str, Any]:
    """The application as caseworkers read it: its policy, checklist with what is still
    missing, the steps so far and the steps allowed next."""
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    docs, missing = checklist(policy, app)
    return {
        "id": app.id,
        "household_id": app.household_id,
        "policy": {
            "code": policy.code,
            "version": app.policy_version,
            "name": policy.name,
            "name_en": policy.name_en,
        },
        "status": app.status,
        "department": app.department,
        "reference": app.reference or "",
        "documents": docs,
        "missing_documents": missing,
        "deadline_at": app.deadline_at,
        "reminded_at": app.reminded_at,
        "overdue": bool(app.status in WAITING and app.deadline_at and app.deadline_at < utcnow()),
        "allowed_next": list(TRANSITIONS.get(app.status, ())),
        "created_by_id": app.created_by_id,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "steps": [
            {"status": s.status, "at": s.at, "actor_id": s.actor_id, "note": s.note, "data": s.data or {}}
            for s in app.steps
        ],
    }


# --------------------------------------------------------------------------- filing


def _lock_household(session: Session, household: Household) -> None:
    """Serialise filings for one household (PostgreSQL row lock; SQLite write window)."""
    session.execute(select(Household.id).where(Household.id == household.id).with_for_update())


def file_application(
    session: Session, principal: Principal, household_id: int, policy_code: str, note: str = ""
) -> Application:
    """Open an application for a policy on the household's behalf (代办). One open
    application per household and policy (409 naming it); none for a benefit the
    household already receives (409). Whether the rule says it qualifies is recorded
    on the first step; the caseworker may know better than the rule."""
    _require(principal, WRITERS)
    household = households.get_household(session, principal, household_id, write=True)
    try:
        policy = catalogue.current().get(policy_code)
    except NotFound as exc:
        raise Invalid(exc.message, details=exc.details, code="unknown_policy") from None
    _lock_household(session, household)
    existing = session.execute(
        select(Application).where(
            Application.household_id == household.id,
            Application.policy_code == policy.code,
            Application.status.in_(OPEN),
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"This household already has an open {policy.name} application (#{existing.id}, {existing.status}); "
            "continue that one.",
            code="application_open",
            details={"application_id": existing.id, "current_status": existing.status},
        )
    benefits = [b.policy_code for b in benefits_of(session, household.id)]
    if policy.code in benefits:
        raise Conflict(
            f"The household already receives {policy.name}.",
            code="already_receives",
            details={"policy": policy.code},
        )
    qualifies = policy.qualifies(Facts.of(household, benefits=benefits))
    app = Application(
        household_id=household.id,
        policy_code=policy.code,
        policy_version=policy.version,
        status="documents-gathering",
        documents={},
        department=policy.office(household.grid),
        created_by_id=principal.user_id,
    )
    session.add(app)
    session.flush()
    _step(session, app, "documents-gathering", principal, note, {"qualifies": qualifies}, utcnow())
    audit.record(
        session,
        "application.filed",
        app,
        household_id=household.id,
        after={"policy": policy.code, "version": policy.version, "status": app.status, "qualifies": qualifies},
        details={"note": note} if note else None,
    )
    return app


def _step(
    session: Session,
    app: Application,
    status: str,
    principal: Principal | None,
    note: str,
    data: dict[str, Any],
    at: datetime,
) -> ApplicationStep:
    step = ApplicationStep(
        application_id=app.id,
        status=status,
        actor_id=principal.user_id if principal else None,
        note=note,
        at=at,
        data=data,
    )
    app.steps.append(step)  # loads the collection first, then adds the step to the session
    session.flush()
    return step


def open_checklist(session: Session, principal: Principal, application_id: int) -> tuple[Application, catalogue.Policy]:
    """The application, for writing, and its policy, while its documents are being
    gathered; afterwards the checklist is closed (409 ``checklist_closed``)."""
    app = get_application(session, principal, application_id, write=True)
    if app.status != "documents-gathering":
        raise Conflict(
            f"The checklist is closed: the application is {app.status}.",
            code="checklist_closed",
            details={"current_status": app.status},
        )
    return app, catalogue.current().get(app.policy_code, app.policy_version)


def tick_documents(
    session: Session, principal: Principal, application_id: int, documents: dict[str, bool], note: str = ""
) -> Application:
    """Tick (or untick) documents on the checklist while they are being gathered."""
    app, policy = open_checklist(session, principal, application_id)
    known = policy.document_codes()
    unknown = sorted(set(documents) - set(known))
    if unknown:
        raise Invalid(
            f"Not on the {policy.name} checklist: {', '.join(unknown)}. The checklist is: {', '.join(known)}.",
            details={f"documents.{code}": [f"not on the checklist; known: {', '.join(known)}"] for code in unknown},
        )
    before = dict(app.documents or {})
    after = {**before, **{code: bool(v) for code, v in documents.items()}}
    if after != before:
        app.documents = after
        session.flush()
        audit.record(
            session,
            "application.documents",
            app,
            household_id=app.household_id,
            before={"documents": before},
            after={"documents": after},
            details={"note": note} if note else None,
        )
    return app


# --------------------------------------------------------------------------- steps


def _as_utc(at: datetime | None) -> datetime:
    """When a step happened: now by default; a time without zone is local time. Late
    entry is allowed (the family may have been helped before it was recorded), but not
    the future, nor more than a year back (a mistyped year)."""
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(runtime.settings()["TIMEZONE"]))
    at = at.astimezone(UTC)
    if at > now + CLOCK_SKEW:
        raise Invalid("A step cannot be dated in the future.", details={"at": ["is in the future"]})
    if at < now - MAX_BACKDATE:
        raise Invalid(
            "A step dated more than a year ago is most likely a typo; check the year.",
            details={"at": ["more than a year ago"]},
        )
    return at


def advance(
    session: Session,
    principal: Principal,
    application_id: int,
    status: str,
    *,
    note: str = "",
    at: datetime | None = None,
    monthly_amount_fen: int | None = None,
    reference: str | None = None,
) -> Application:
    """Move the application to its next step, recorded with date, actor and note.
    An illegal step is a 409 with the current status. Submitting needs every document
    ticked (422 naming the missing ones) and starts the department's deadline; approval
    records the benefit; rejection needs the reason in the note. ``reference`` is the
    department's reference number (受理编号), kept on the application once given."""
    app = get_application(session, principal, application_id, write=True)
    current = app.status
    reference = " ".join((reference or "").split())
    if len(reference) > REFERENCE_MAX:
        raise Invalid(
            f"A reference number has at most {REFERENCE_MAX} characters.",
            code="reference_too_long",
            details={"reference": [f"at most {REFERENCE_MAX} characters"]},
        )
    if status not in TRANSITIONS.get(current, ()):
        raise InvalidTransition("application", current, f"move to {status}")
    if status == "rejected" and not note.strip():
        raise Invalid("Say why the department rejected it (note).", details={"note": ["required when rejected"]})
    if monthly_amount_fen is not None and status != "approved":
        raise Invalid(
            "A monthly amount is given only with the approval.", details={"monthly_amount_fen": ["only when approved"]}
        )
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    data: dict[str, Any] = {"from": current}
    if reference and reference != app.reference:
        app.reference = data["reference"] = reference
    if status == "submitted":
        _docs, missing = checklist(policy, app)
        if missing:
            labels = {d.code: d.label for d in policy.documents}
            raise Invalid(
                "Tick every document before submitting; still missing: "
                + "; ".join(f"{code} ({labels[code]})" for code in missing)
                + ".",
                code="documents_missing",
                details={"missing_documents": missing, "current_status": current},
            )
    when = _as_utc(at)
    app.status = status
    if status == "submitted":
        app.deadline_at = when + timedelta(days=policy.review_days)
        data["deadline_at"] = app.deadline_at.isoformat()
        outbox.add(session, REMINDER_KIND, {"application_id": app.id}, due_at=app.deadline_at)
    if status == "approved":
        data["benefit"] = _grant_benefit(session, app, when, monthly_amount_fen)
    _step(session, app, status, principal, note, data, when)
    audit.record(
        session,
        f"application.{status}",
        app,
        household_id=app.household_id,
        before={"status": current},
        after={"status": status, **{k: v for k, v in data.items() if k != "from"}},
        details={"note": note, "at": when.isoformat()},
    )
    if status in TERMINAL:  # any part of a need held for this policy is settled (policy before charity)
        outbox.add(session, DECIDED_KIND, {"application_id": app.id})
    if status in ("approved", "rejected"):
        family_messages.send_to_family(
            session,
            app.household_id,
            f"family.application_{status}",
            {"policy": policy.name},
            dedupe_key=f"application_{status}:{app.id}",
        )
    return app


def _grant_benefit(session: Session, app: Application, when: datetime, monthly_amount_fen: int | None) -> str:
    """Record that the household now receives the policy (once; a declared benefit stays)."""
    existing = session.execute(
        select(HouseholdBenefit).where(
            HouseholdBenefit.household_id == app.household_id, HouseholdBenefit.policy_code == app.policy_code
        )
    ).scalar_one_or_none()
    if existing is not None:
        return "already recorded"
    since = when.astimezone(ZoneInfo(runtime.settings()["TIMEZONE"])).date()
    benefit = HouseholdBenefit(
        household_id=app.household_id,
        policy_code=app.policy_code,
        since=since,
        source=f"application:{app.id}",
        monthly_amount_fen=monthly_amount_fen,
    )
    session.add(benefit)
    session.flush()
    audit.record(
        session,
        "benefit.granted",
        benefit,
        household_id=app.household_id,
        after={
            "policy": app.policy_code,
            "since": since.isoformat(),
            "application_id": app.id,
            "monthly_amount_fen": monthly_amount_fen,
        },
    )
    return "recorded"
