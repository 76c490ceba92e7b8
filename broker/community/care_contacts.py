"""Contacts under a care plan: who of the plan's carers, when, how (visit, phone, video,
camp), what was done, and the concerns raised. A contact made by its due date counts as
on time; the next one falls due a schedule's length after the latest contact, and the
missed-contact check is put on the scheduler for that day.

A concern raised goes to the household's caseworkers as a notification; a caseworker
recording the contact may, in the same step, open a need for it (a new needs
assessment, routed as any other)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import care_plans
from broker.people import notify
from broker.platform.errors import Conflict, Invalid
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.referral import assessment
from broker.registry import disclosure, grids, privacy
from models import CareContact, CarePlan
from models.base import utcnow
from models.care import CONTACT_CHANNELS

MAX_TEXT = 4000
CLOCK_SKEW = timedelta(minutes=5)
OLDEST = timedelta(days=366)

define(
    {
        "care_concern_raised": N_(
            "A carer raised a concern on care plan no. %(care_plan_id)s (contact of %(date)s). Read it and decide "
            "whether the family needs help."
        ),
    }
)


def _check(plan: CarePlan, data: dict[str, Any], now: datetime) -> datetime:
    """The contact's rules; returns when it happened (default now)."""
    if data.get("carer_id") not in {pc.carer_id for pc in plan.carers}:
        raise Invalid("carer_id is not a carer on this plan.", details={"carer_id": ["not on this plan"]})
    if data.get("channel") not in CONTACT_CHANNELS:
        raise Invalid(
            f"channel must be one of {', '.join(CONTACT_CHANNELS)}.", details={"channel": ["unknown channel"]}
        )
    for name in ("summary", "concerns"):
        if len(data.get(name) or "") > MAX_TEXT:
            raise Invalid(f"{name} may be at most {MAX_TEXT} characters.", details={name: ["too long"]})
    when = data.get("contacted_at") or now
    if when.tzinfo is None:
        raise Invalid("contacted_at needs a time zone.", details={"contacted_at": ["give a time zone"]})
    if when > now + CLOCK_SKEW:
        raise Invalid("A contact cannot be in the future.", details={"contacted_at": ["is in the future"]})
    if when < now - OLDEST:
        raise Invalid("A contact more than a year ago is not recorded here.", details={"contacted_at": ["too old"]})
    return when


def record(session: Session, principal: Principal, plan_id: int, data: dict[str, Any]) -> CareContact:
    """Record a contact on an active plan, as the household's caseworker or a user of a
    partner named on the plan. ``new_need`` (caseworkers only) opens a need for a concern."""
    plan = care_plans.get_plan(session, principal, plan_id, write=True)
    plan = session.execute(
        select(CarePlan).where(CarePlan.id == plan.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if plan.status != "active":
        raise Conflict("This care plan has ended.", code="plan_ended", details={"status": plan.status})
    now = utcnow()
    when = _check(plan, data, now)
    new_need = data.get("new_need")
    if new_need and principal.role not in ("caseworker", "admin"):
        raise Invalid("Only the household's caseworkers open a need.", details={"new_need": ["caseworkers only"]})
    summary, concerns = (data.get("summary") or "").strip(), (data.get("concerns") or "").strip()
    due = plan.next_due_at
    contact = CareContact(
        plan_id=plan.id,
        carer_id=data["carer_id"],
        contacted_at=when,
        channel=data["channel"],
        summary=summary,
        concerns=concerns,
        due_at=due,
        on_time=when <= due,
        recorded_by_id=principal.user_id or None,
    )
    latest = session.execute(
        select(CareContact.contacted_at)
        .where(CareContact.plan_id == plan.id)
        .order_by(CareContact.contacted_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if new_need:
        created = assessment.create_assessment(
            session,
            principal,
            plan.household_id,
            {"summary": concerns or summary or "关爱探访发现新需求", "needs": [new_need], "confirm_duplicate": True},
        )
        contact.new_assessment_id = created.id
    session.add(contact)
    moved = latest is None or when >= latest
    if moved:
        plan.next_due_at = when + care_plans.interval(plan)
    session.flush()
    if concerns:
        recipients = grids.caseworker_ids(session, plan.grid_id, plus=plan.created_by_id)
        params = {"care_plan_id": plan.id, "household_id": plan.household_id, "date": f"{when:%Y-%m-%d}"}
        notify.notify(session, recipients, "care_concern_raised", params, f"care-concern:{contact.id}")
    audit.record(
        session,
        "care_contact.recorded",
        contact,
        after={
            "plan_id": plan.id,
            "carer_id": contact.carer_id,
            "contacted_at": when.isoformat(),
            "channel": contact.channel,
            "on_time": contact.on_time,
            "concerns": privacy.redact(concerns),
            "new_assessment_id": contact.new_assessment_id,
            "next_due_at": plan.next_due_at.isoformat(),
        },
        household_id=plan.household_id,
    )
    if moved:
        care_plans.schedule_check(session, plan)
    return contact


def list_contacts(session: Session, principal: Principal, plan_id: int) -> list[CareContact]:
    """A plan's contacts, the latest first."""
    plan = care_plans.get_plan(session, principal, plan_id)
    return list(
        session.execute(
            select(CareContact)
            .where(CareContact.plan_id == plan.id)
            .order_by(CareContact.contacted_at.desc(), CareContact.id.desc())
        ).scalars()
    )


def view(session: Session, principal: Principal, contact: CareContact) -> dict[str, Any]:
    """A contact as the principal may read it: a partner reads the free text redacted."""
    text = privacy.shown_to_staff
    if principal.role == "partner":
        plan = session.get(CarePlan, contact.plan_id)
        text = disclosure.disclose(session, plan.household_id, disclosure.VOLUNTEER).text
    return {
        "id": contact.id,
        "plan_id": contact.plan_id,
        "carer_id": contact.carer_id,
        "contacted_at": contact.contacted_at,
        "channel": contact.channel,
        "summary": text(contact.summary),
        "concerns": text(contact.concerns),
        "due_at": contact.due_at,
        "on_time": contact.on_time,
        "new_assessment_id": contact.new_assessment_id,
        "recorded_by_id": contact.recorded_by_id,
        "created_at": contact.created_at,
    }
