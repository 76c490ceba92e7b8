"""Care plans (关爱计划): a member of a special group paired with carers — a dream mentor
(梦想导师) for a child, a family doctor and a volunteer for an elderly person living alone —
and a schedule of contacts (weekly, fortnightly, monthly).

Carers are the plan's own small records (name, role, phone, organisation), linked to a
partner when their organisation is one: that partner's users then see the plans naming
it, and of the family only what the ``volunteer_contact`` consent allows. Everyone else
outside the household's caseworkers, auditors and admins sees none of it.

Creating a plan sets its first due date and puts the missed-contact check on RQ's
scheduler for it (:mod:`.care_misses`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import outbox, periods
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import consents, disclosure, household_states, households, privacy
from broker.registry.access import visible_grid_ids
from models import CarePlan, CarePlanCarer, Carer, Member, Partner, SpecialGroupMember
from models.base import utcnow
from models.care import CARER_ROLES, PLAN_KINDS, SCHEDULE_DAYS
from models.special_groups import SPECIAL_GROUPS

CHECK_KIND = "care_contact_check"
MAX_CARERS = 4
MAX_REASON = 500
# Which carers each kind of plan needs.
NEEDS = {"mentor": ("mentor",), "doctor_volunteer": ("doctor", "volunteer")}
READERS = ("caseworker", "auditor", "admin", "partner")


def interval(plan: CarePlan) -> timedelta:
    return timedelta(days=SCHEDULE_DAYS[plan.schedule])


def _check(data: dict[str, Any]) -> None:
    """The rules the API schema also applies, for callers that are not the API."""
    if data.get("kind") not in PLAN_KINDS:
        raise Invalid(f"kind must be one of {', '.join(PLAN_KINDS)}.", details={"kind": ["unknown kind"]})
    if data.get("schedule") not in SCHEDULE_DAYS:
        raise Invalid(
            f"schedule must be one of {', '.join(SCHEDULE_DAYS)}.", details={"schedule": ["unknown schedule"]}
        )
    if data.get("group") not in SPECIAL_GROUPS:
        raise Invalid("group names the member's special group.", details={"group": ["unknown special group"]})
    carers = data.get("carers") or []
    if not 1 <= len(carers) <= MAX_CARERS:
        raise Invalid(f"A plan names 1 to {MAX_CARERS} carers.", details={"carers": ["1 to 4 carers"]})
    roles = {c.get("role") for c in carers}
    if not roles <= set(CARER_ROLES):
        raise Invalid("A carer's role is mentor, doctor or volunteer.", details={"carers": ["unknown role"]})
    missing = [r for r in NEEDS[data["kind"]] if r not in roles]
    if missing:
        raise Invalid(
            f"A {data['kind']} plan needs a carer of each role: {', '.join(NEEDS[data['kind']])}.",
            details={"carers": [f"missing {r}" for r in missing]},
        )
    for i, carer in enumerate(carers):
        if not (carer.get("name") or "").strip():
            raise Invalid("Each carer has a name.", details={f"carers.{i}.name": ["required"]})


def create_plan(session: Session, principal: Principal, data: dict[str, Any]) -> CarePlan:
    """Pair a member recorded in a special group with carers on a schedule. Only the
    household's caseworkers (and admins); one active plan per member and kind (409)."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Care plans are made by the household's caseworkers.")
    household = households.get_household(session, principal, data.get("household_id") or 0, write=True)
    household_states.require_active(household)
    _check(data)
    member = session.get(Member, data.get("member_id"))
    if member is None or member.household_id != household.id or member.deceased_on is not None:
        raise Invalid("member_id is not a living member of this household.", details={"member_id": ["not here"]})
    in_group = session.execute(
        select(SpecialGroupMember.id).where(
            SpecialGroupMember.member_id == member.id,
            SpecialGroupMember.group == data["group"],
            SpecialGroupMember.ended_on.is_(None),
        )
    ).scalar_one_or_none()
    if in_group is None:
        raise Invalid(
            "Record the member in this special group first: a care plan is for a member of one.",
            details={"group": ["the member is not recorded in this group"]},
        )
    active = session.execute(
        select(CarePlan.id).where(
            CarePlan.member_id == member.id, CarePlan.kind == data["kind"], CarePlan.status == "active"
        )
    ).scalar_one_or_none()
    if active is not None:
        raise Conflict(
            "This member already has an active plan of this kind.", code="plan_exists", details={"id": active}
        )
    starts_on: date = data.get("starts_on") or periods.to_local(utcnow()).date()
    plan = CarePlan(
        household_id=household.id,
        member_id=member.id,
        grid_id=household.grid_id,
        group=data["group"],
        kind=data["kind"],
        schedule=data["schedule"],
        status="active",
        starts_on=starts_on,
        next_due_at=periods.start_of_day(starts_on) + timedelta(days=SCHEDULE_DAYS[data["schedule"]]),
        created_by_id=principal.user_id or None,
    )
    for c in data["carers"]:
        partner_id = c.get("partner_id")
        if partner_id is not None and session.get(Partner, partner_id) is None:
            raise Invalid("partner_id names no partner.", details={"carers": ["unknown partner_id"]})
        carer = Carer(
            name=c["name"].strip(),
            role=c["role"],
            phone=(c.get("phone") or "").strip(),
            organisation=(c.get("organisation") or "").strip(),
            partner_id=partner_id,
        )
        plan.carers.append(CarePlanCarer(carer=carer))
    session.add(plan)
    session.flush()
    audit.record(
        session,
        "care_plan.created",
        plan,
        after={
            "member_id": member.id,
            "group": plan.group,
            "kind": plan.kind,
            "schedule": plan.schedule,
            "next_due_at": plan.next_due_at.isoformat(),
            "carers": [{"id": pc.carer_id, "role": pc.carer.role} for pc in plan.carers],
        },
        household_id=household.id,
    )
    schedule_check(session, plan)
    return plan


def end_plan(session: Session, principal: Principal, plan_id: int, reason: str) -> CarePlan:
    """End an active plan (the child grew up, the family moved, the person died): no
    contact falls due any more. The household's caseworkers (and admins) only; 409 if
    it has ended already."""
    plan = get_plan(session, principal, plan_id, write=True)
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Care plans are ended by the household's caseworkers.")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid(f"Say why the plan ends (at most {MAX_REASON} characters).", details={"reason": ["required"]})
    plan = session.execute(
        select(CarePlan).where(CarePlan.id == plan.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if plan.status != "active":
        raise Conflict("This care plan has ended already.", code="plan_ended", details={"status": plan.status})
    return _close(session, plan, privacy.redact(reason))


def end_for_group(session: Session, member_id: int, group: str, reason: str) -> list[CarePlan]:
    """End the member's active plans of a group the member has left (``reason`` is the
    ending's text code): nothing falls due on them any more."""
    plans = list(
        session.execute(
            select(CarePlan)
            .where(CarePlan.member_id == member_id, CarePlan.group == group, CarePlan.status == "active")
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )
    return [_close(session, plan, reason) for plan in plans]


def _close(session: Session, plan: CarePlan, reason: str) -> CarePlan:
    """An active plan, locked by the caller, ends; audited with the (redacted) reason."""
    plan.status = "ended"
    session.flush()
    audit.record(
        session,
        "care_plan.ended",
        plan,
        before={"status": "active"},
        after={"status": "ended", "reason": reason},
        household_id=plan.household_id,
    )
    return plan


def schedule_check(session: Session, plan: CarePlan) -> None:
    """Put the missed-contact check for the plan's next due date on the scheduler."""
    outbox.add(
        session, CHECK_KIND, {"plan_id": plan.id, "due_at": plan.next_due_at.isoformat()}, due_at=plan.next_due_at
    )


def _named(principal: Principal) -> Any:
    """The plans naming the principal's partner among their carers."""
    return exists().where(
        CarePlanCarer.plan_id == CarePlan.id,
        CarePlanCarer.carer_id == Carer.id,
        Carer.partner_id == principal.partner_id,
    )


def get_plan(session: Session, principal: Principal, plan_id: int, *, write: bool = False) -> CarePlan:
    """A plan the principal may see: the household's caseworkers, auditors and admins,
    and the users of a partner a carer on it belongs to. Anything else reads as not found."""
    plan = session.get(CarePlan, plan_id)
    if plan is None or principal.role not in READERS:
        raise NotFound("No such care plan.")
    if principal.role == "partner":
        if not session.execute(select(_named(principal)).where(CarePlan.id == plan.id)).scalar():
            raise NotFound("No such care plan.")
    else:
        principal.require_grid(plan.grid_id, what="care plan")
    if write and principal.role == "auditor":
        raise Forbidden("Auditors read everything and change nothing.")
    return plan


def list_plans(
    session: Session,
    principal: Principal,
    *,
    household_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Plans the principal may see, soonest contact due first."""
    if principal.role not in READERS:
        raise Forbidden("Care plans are read by caseworkers, auditors, admins and the partners they name.")
    stmt = select(CarePlan).options(selectinload(CarePlan.carers).selectinload(CarePlanCarer.carer))
    if principal.role == "partner":
        stmt = stmt.where(_named(principal))
    else:
        visible = visible_grid_ids(principal)
        if visible is not None:
            stmt = stmt.where(CarePlan.grid_id.in_(visible))
    if household_id is not None:
        stmt = stmt.where(CarePlan.household_id == household_id)
    if status is not None:
        stmt = stmt.where(CarePlan.status == status)
    return paginate(session, stmt.order_by(CarePlan.next_due_at, CarePlan.id), page, per_page)


def carer_view(carer: Carer) -> dict[str, Any]:
    return {
        "id": carer.id,
        "name": carer.name,
        "role": carer.role,
        "phone": carer.phone,
        "organisation": carer.organisation,
        "partner_id": carer.partner_id,
    }


def view(session: Session, principal: Principal, plan: CarePlan) -> dict[str, Any]:
    """A plan as the principal may read it: staff see the member and household in full;
    a partner named on it sees the member's and the household's names, address and phone
    only with the family's consent to volunteer contact for that member (a child's signed
    by a guardian), else 王** and the community."""
    member = session.get(Member, plan.member_id)
    if principal.role == "partner":
        shown = disclosure.disclose(session, plan.household_id, disclosure.VOLUNTEER)
        agreed = consents.permits(session, plan.household_id, consents.VOLUNTEER_CONTACT, member_id=plan.member_id)
        who = member.name if agreed and member else None
        head = (shown.fields.get("household_name") or {}).get("params", {}).get("name", "")
        household = {
            "label": head if agreed else privacy.household_name(head, False)["params"].get("name", ""),
            "community": shown.fields.get("community", ""),
            "address": shown.fields.get("address") if agreed else None,
            "phone": shown.fields.get("phone") if agreed else None,
        }
    else:
        found = households.get_household(session, principal, plan.household_id)
        who = member.name if member else None
        household = {
            "label": found.head_name,
            "community": found.grid.community,
            "address": found.address,
            "phone": found.phone,
        }
    return {
        "id": plan.id,
        "household_id": plan.household_id,
        "member_id": plan.member_id,
        "member_name": who,
        "household": household,
        "group": plan.group,
        "kind": plan.kind,
        "schedule": plan.schedule,
        "status": plan.status,
        "starts_on": plan.starts_on,
        "next_due_at": plan.next_due_at,
        "carers": [carer_view(pc.carer) for pc in plan.carers],
        "created_at": plan.created_at,
    }
