"""Where a household stands in the registry, and members who died. A household that moved
away (迁出), whose one person died (去世) or that is out of hardship (已脱困) leaves the
active lists — the caseworker's home list, the coverage view and new needs — but keeps
its record and history; its caseworker can take it back with a reason (a mistake, the
family came back, hardship returned). Each change, with its reason, goes on the audit
chain, which is also where its history is read from."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Invalid, found
from broker.platform.scope import Principal
from broker.registry import household_facts, privacy
from broker.registry.households import get_household
from models import AuditEvent, Household, Member
from models.base import utcnow
from models.registry import HOUSEHOLD_STATES

ACTIVE = "active"
REASON_MIN, REASON_MAX = 2, 500
STATE_CHANGED = "household.state_changed"
MEMBER_DECEASED = "member.deceased"
MEMBER_RESTORED = "member.restored"


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        raise Invalid(
            "Say why (a few words): the reason goes on the record.",
            details={"reason": ["required"]},
            code="reason_required",
        )
    if len(text) > REASON_MAX:
        raise Invalid(
            f"The reason is at most {REASON_MAX} characters.", details={"reason": ["too long"]}, code="reason_too_long"
        )
    return text


def living(household: Household) -> list[Member]:
    return [m for m in household.members if m.deceased_on is None]


def require_active(household: Household | Row) -> None:
    """New needs are recorded only for a household on the active lists (409 otherwise).
    ``household`` may be a row of the columns a caller read (it has a ``state``)."""
    if household.state != ACTIVE:
        raise Conflict(
            "This household is no longer on the active lists; take it back first.",
            details={"state": household.state},
            code="household_inactive",
        )


def set_state(session: Session, principal: Principal, household_id: int, state: str, reason: str) -> Household:
    """Move the household to ``state`` (one of :data:`models.registry.HOUSEHOLD_STATES`),
    with the caseworker's reason. ``deceased`` is for a household of one living person,
    who is recorded as deceased with it; taking the household back does not bring them
    back (that is a separate correction on the member)."""
    if state not in HOUSEHOLD_STATES:
        raise Invalid(f"state must be one of {', '.join(HOUSEHOLD_STATES)}.", details={"state": ["unknown state"]})
    text = _reason(reason)
    household = get_household(session, principal, household_id, write=True)
    before = household.state
    if before == state:
        raise Conflict(
            "The household is already in this state.", details={"state": state}, code="household_state_unchanged"
        )
    people = living(household)
    if state == "deceased":
        if len(people) > 1:
            raise Conflict(
                "Only a household of one living person is recorded as deceased; record the member who died instead.",
                details={"living_members": len(people)},
                code="household_not_single",
            )
        for member in people:
            _mark_deceased(session, household, member, date.today(), text)
    household.state = state
    household.state_since = utcnow()
    household_facts.refresh(household)
    session.flush()
    audit.record(
        session,
        STATE_CHANGED,
        household,
        household_id=household.id,
        before={"state": before},
        after={"state": state},
        details={"reason": privacy.redact(text)},
    )
    return household


def _member(household: Household, member_id: int) -> Member:
    for member in household.members:
        if member.id == member_id:
            return member
    return found(None, "member")


def _mark_deceased(session: Session, household: Household, member: Member, on: date, reason: str) -> None:
    member.deceased_on = on
    audit.record(
        session,
        MEMBER_DECEASED,
        member,
        household_id=household.id,
        after={"member_id": member.id, "deceased_on": on.isoformat()},
        details={"reason": privacy.redact(reason)},
    )


def set_member_deceased(
    session: Session,
    principal: Principal,
    household_id: int,
    member_id: int,
    reason: str,
    *,
    deceased: bool = True,
    on: date | None = None,
) -> Member:
    """Record that a member died (kept in the record, left out of the household's facts),
    or, with ``deceased=False``, correct that record."""
    text = _reason(reason)
    household = get_household(session, principal, household_id, write=True)
    member = _member(household, member_id)
    if deceased:
        if member.deceased_on is not None:
            raise Conflict("The member is already recorded as deceased.", code="member_already_deceased")
        when = on or date.today()
        if when > date.today() or (member.birth_date and when < member.birth_date):
            raise Invalid("The date of death is impossible.", details={"on": ["impossible date"]}, code="bad_date")
        _mark_deceased(session, household, member, when, text)
    else:
        if member.deceased_on is None:
            raise Conflict("The member is not recorded as deceased.", code="member_not_deceased")
        before = member.deceased_on.isoformat()
        member.deceased_on = None
        audit.record(
            session,
            MEMBER_RESTORED,
            member,
            household_id=household.id,
            before={"member_id": member.id, "deceased_on": before},
            details={"reason": privacy.redact(text)},
        )
    household_facts.refresh(household)
    session.flush()
    return member


def history(session: Session, principal: Principal, household_id: int) -> list[dict[str, Any]]:
    """The household's state changes and deaths recorded, newest first, as codes: the
    action, the state before and after, the member, the reason, when and by whom."""
    get_household(session, principal, household_id)
    rows = session.execute(
        select(AuditEvent)
        .where(
            AuditEvent.household_id == household_id,
            AuditEvent.action.in_((STATE_CHANGED, MEMBER_DECEASED, MEMBER_RESTORED)),
        )
        .order_by(AuditEvent.id.desc())
    ).scalars()
    out = []
    for r in rows:
        before, after, details = audit.loads(r.before) or {}, audit.loads(r.after) or {}, audit.loads(r.details) or {}
        out.append(
            {
                "action": r.action,
                "at": r.at,
                "actor": r.actor,
                "before": before.get("state"),
                "after": after.get("state"),
                "member_id": after.get("member_id") or before.get("member_id"),
                "reason": details.get("reason", ""),
            }
        )
    return out
