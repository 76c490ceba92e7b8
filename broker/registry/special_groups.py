"""Special groups (特殊群体): a left-behind child (留守儿童), a child in difficulty (困境儿童),
a migrant child (流动儿童), an elderly person living alone (孤寡老人), a person with a
disability. The caseworker records which member is in which group, how it is known (a
survey, a visit, the civil-affairs list, the family's own word) and since when, so that
the coverage view can ask who in each group has nobody caring for them yet.

A member is in a group once: recording it again is a 409 naming the earlier record. A
member leaves a group (the parents came home, the family moved away, the child grew out
of it, or it was recorded in error): the record is kept with the day and the reason, and
drops out of coverage and care; recording the member in the group again reopens it. The
group of a member is a minor's or a health detail: it is shown only where the member is,
to the household's caseworkers, auditors and admins."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import texts
from broker.platform.errors import Conflict, Invalid, NotFound
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import households
from models import Household, Member, SpecialGroupMember
from models.special_groups import END_REASONS, GROUP_SOURCES, SPECIAL_GROUPS

# The groups' names, for exports and pages (``special_group.<group>``).
define(
    {
        "special_group.left_behind_child": N_("Left-behind child"),
        "special_group.child_in_difficulty": N_("Child in difficulty"),
        "special_group.migrant_child": N_("Migrant child"),
        "special_group.elderly_alone": N_("Elderly living alone"),
        "special_group.disabled": N_("Person with a disability"),
        "special_group_end.circumstances_changed": N_("Circumstances changed (e.g. the parents came home)"),
        "special_group_end.moved_away": N_("The family moved away"),
        "special_group_end.aged_out": N_("Grew out of the group"),
        "special_group_end.recorded_in_error": N_("Recorded in error"),
    }
)
FUTURE_DAYS = 1  # a record may carry today's date in any time zone, never a later one


def group_name(group: str) -> str:
    """The group's name in the reader's language."""
    return texts.render(f"special_group.{group}")


def end_reason_name(reason: str) -> str:
    """Why a member left a group, in the reader's language."""
    return texts.render(f"special_group_end.{reason}")


def check(data: dict[str, Any]) -> None:
    """The rules the API schema also applies, for callers that are not the API (the
    portal form, the survey import)."""
    if data.get("group") not in SPECIAL_GROUPS:
        raise Invalid(
            f"group must be one of {', '.join(SPECIAL_GROUPS)}.", details={"group": ["unknown special group"]}
        )
    if data.get("source") not in GROUP_SOURCES:
        raise Invalid(f"source must be one of {', '.join(GROUP_SOURCES)}.", details={"source": ["unknown source"]})
    known_on = data.get("known_on")
    if known_on is not None and (
        not isinstance(known_on, date) or known_on.toordinal() > date.today().toordinal() + FUTURE_DAYS
    ):
        raise Invalid(
            "known_on is the day it became known; it cannot be in the future.",
            details={"known_on": ["is in the future"]},
        )


def record(session: Session, principal: Principal, household_id: int, data: dict[str, Any]) -> SpecialGroupMember:
    """Record that a member of a household on one's own grids is in a special group,
    with its source and date (default today). Audited; a second record of the same
    member and group is a 409."""
    household = households.get_household(session, principal, household_id, write=True)
    check(data)
    member = session.get(Member, data.get("member_id"))
    if member is None or member.household_id != household.id:
        raise Invalid("member_id is not a member of this household.", details={"member_id": ["not in this household"]})
    if member.deceased_on is not None:
        raise Invalid("This member has died; a special group is for the living.", details={"member_id": ["deceased"]})
    existing = _existing(session, member.id, data["group"])
    if existing is not None and existing.ended_on is not None:
        return _reopen(session, existing, data, recorded_by_id=principal.user_id or None)
    if existing is not None:
        raise Conflict(
            "This member is already recorded in this group.",
            code="already_in_group",
            details={"id": existing.id, "known_on": existing.known_on.isoformat()},
        )
    return _add(session, household, member, data, recorded_by_id=principal.user_id or None)


def _existing(session: Session, member_id: int, group: str) -> SpecialGroupMember | None:
    stmt = select(SpecialGroupMember).where(
        SpecialGroupMember.member_id == member_id, SpecialGroupMember.group == group
    )
    return session.execute(stmt).scalar_one_or_none()


def _reopen(
    session: Session, row: SpecialGroupMember, data: dict[str, Any], *, recorded_by_id: int | None
) -> SpecialGroupMember:
    """The member is in the group again (the parents left again): the same record, open
    from the new date, its ending kept in the audit trail."""
    before = {"ended_on": row.ended_on.isoformat(), "end_reason": row.end_reason}
    row.source, row.known_on = data["source"], data.get("known_on") or date.today()
    row.recorded_by_id, row.ended_on, row.end_reason, row.ended_by_id = recorded_by_id, None, None, None
    session.flush()
    audit.record(
        session,
        "special_group.reopened",
        row,
        before=before,
        after={"source": row.source, "known_on": row.known_on.isoformat()},
        household_id=row.household_id,
    )
    return row


def end(
    session: Session, principal: Principal, household_id: int, record_id: int, data: dict[str, Any]
) -> SpecialGroupMember:
    """The member left the group on ``ended_on`` (default today) for a coded ``reason``.
    The household's caseworkers (and admins); 409 if it has ended already. The caller
    ends the member's care plans of the group in the same transaction."""
    household = households.get_household(session, principal, household_id, write=True)
    if data.get("reason") not in END_REASONS:
        raise Invalid(f"reason must be one of {', '.join(END_REASONS)}.", details={"reason": ["unknown reason"]})
    row = session.execute(
        select(SpecialGroupMember)
        .where(SpecialGroupMember.id == record_id, SpecialGroupMember.household_id == household.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No such special-group record in this household.")
    if row.ended_on is not None:
        raise Conflict(
            "This member has already left this group.",
            code="group_ended",
            details={"ended_on": row.ended_on.isoformat(), "end_reason": row.end_reason},
        )
    ended_on = data.get("ended_on") or date.today()
    if ended_on.toordinal() > date.today().toordinal() + FUTURE_DAYS:
        raise Invalid("ended_on cannot be in the future.", details={"ended_on": ["is in the future"]})
    if ended_on < row.known_on:
        raise Invalid(
            f"ended_on cannot be before the day the group was known ({row.known_on.isoformat()}).",
            details={"ended_on": ["is before known_on"]},
        )
    row.ended_on, row.end_reason, row.ended_by_id = ended_on, data["reason"], principal.user_id or None
    session.flush()
    audit.record(
        session,
        "special_group.ended",
        row,
        before={"ended_on": None},
        after={"ended_on": ended_on.isoformat(), "end_reason": row.end_reason},
        household_id=household.id,
    )
    return row


def is_current(row: SpecialGroupMember) -> bool:
    """Whether the member is in the group now (the record has not ended)."""
    return row.ended_on is None


def _add(
    session: Session,
    household: Household,
    member: Member,
    data: dict[str, Any],
    *,
    recorded_by_id: int | None = None,
    actor: str | None = None,
) -> SpecialGroupMember:
    row = SpecialGroupMember(
        household_id=household.id,
        member_id=member.id,
        grid_id=household.grid_id,
        group=data["group"],
        source=data["source"],
        known_on=data.get("known_on") or date.today(),
        recorded_by_id=recorded_by_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "special_group.recorded",
        row,
        after={"member_id": member.id, "group": row.group, "source": row.source, "known_on": row.known_on.isoformat()},
        household_id=household.id,
        actor=actor,
    )
    return row


def record_from_survey(
    session: Session, household: Household, groups: dict[str, list[str]], *, actor: str | None = None
) -> int:
    """The survey import's special groups (member name → groups): each not yet recorded
    is recorded with the source ``survey``; a re-import adds nothing. Returns how many."""
    added = 0
    for member in household.members:
        for group in groups.get(member.name, []):
            if member.deceased_on is None and _existing(session, member.id, group) is None:  # an ended one stays so
                _add(session, household, member, {"group": group, "source": "survey"}, actor=actor)
                added += 1
    return added


def of_household(session: Session, household_id: int) -> list[SpecialGroupMember]:
    """The household's special-group records, by member then group (the caller checked scope)."""
    return list(
        session.execute(
            select(SpecialGroupMember)
            .where(SpecialGroupMember.household_id == household_id)
            .order_by(SpecialGroupMember.member_id, SpecialGroupMember.group)
        ).scalars()
    )


def list_for_household(session: Session, principal: Principal, household_id: int) -> list[SpecialGroupMember]:
    """The household's special-group records, its members' read logged (minors' and
    health details)."""
    household = households.read_household(session, principal, household_id, reason="special groups")
    return of_household(session, household.id)


def view(row: SpecialGroupMember, member: Member | None = None) -> dict[str, Any]:
    """A record as the API shows it (with the member's name for staff)."""
    return {
        "id": row.id,
        "household_id": row.household_id,
        "member_id": row.member_id,
        "member_name": member.name if member is not None else None,
        "group": row.group,
        "source": row.source,
        "known_on": row.known_on,
        "ended_on": row.ended_on,
        "end_reason": row.end_reason,
        "recorded_by_id": row.recorded_by_id,
        "created_at": row.created_at,
    }
