"""Who looked: every read of a household's sensitive fields — an ID number shown in full,
members' health conditions or disability, minors' details — by any user, with when, which
fields of which members, and why (the page or API call that showed them).

Kept in a table of its own (:class:`models.AccessLog`), not on the audit chain: reads are
far more frequent than changes and prove nothing the chain must prove, and an erased
person's reads must be erasable with them, while chain rows are hashed and kept for ever.
A read is written in the request that makes it (a GET that shows sensitive fields takes
SQLite's writer lock for that moment: the law asks that every such read be accounted for).
Auditors and admins list them per household and per user."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform.errors import Forbidden, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from models import AccessLog, Household, Member, User

ID_NUMBER = "id_number"
HEALTH = "health"
MINORS = "minors"
FIELDS = (ID_NUMBER, HEALTH, MINORS)
READERS = ("auditor", "admin")
ADULT_AGE = 18


def _minor(member: Member, today: date) -> bool:
    born = member.birth_date
    if born is None:
        return False
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < ADULT_AGE


def sensitive(members: list[Member], *, id_numbers_of: tuple[int, ...] = ()) -> dict[int, list[str]]:
    """Which sensitive fields a page showing ``members`` shows, per member id: health
    (conditions, disability), minors (a child's name and birth date), and the ID number of
    the members in ``id_numbers_of`` (shown in full)."""
    today = date.today()
    shown: dict[int, list[str]] = {}
    for m in members:
        fields = []
        if m.id in id_numbers_of and m.id_number_enc is not None:
            fields.append(ID_NUMBER)
        if m.conditions or m.disability_grade:
            fields.append(HEALTH)
        if _minor(m, today):
            fields.append(MINORS)
        if fields:
            shown[m.id] = fields
    return shown


def record(
    session: Session,
    principal: Principal,
    household: Household,
    reason: str,
    *,
    id_numbers_of: tuple[int, ...] = (),
    members: list[Member] | None = None,
) -> AccessLog | None:
    """Log that ``principal`` was shown the sensitive fields of the household's
    ``members`` (default: all of them); nothing is logged when the page showed none.
    Flushes."""
    shown = sensitive(list(household.members if members is None else members), id_numbers_of=id_numbers_of)
    if not shown:
        return None
    fields = [f for f in FIELDS if any(f in v for v in shown.values())]
    entry = AccessLog(
        user_id=principal.user_id or None,
        household_id=household.id,
        member_ids=sorted(shown),
        fields=fields,
        reason=(reason or "")[:200],
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    principal: Principal,
    *,
    household_id: int | None = None,
    user_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Reads of sensitive fields, newest first, for one household and/or one user
    (auditors and admins only). Items are dicts with the reader's username."""
    if principal.role not in READERS:
        raise Forbidden("Only auditors and administrators may see who read a family's sensitive details.")
    stmt = select(AccessLog).order_by(AccessLog.at.desc(), AccessLog.id.desc())
    if household_id is not None:
        stmt = stmt.where(AccessLog.household_id == household_id)
    if user_id is not None:
        stmt = stmt.where(AccessLog.user_id == user_id)
    if principal.scoped:  # an auditor or admin of a region: reads of households below it
        below = select(Household.id).where(Household.grid_id.in_(sorted(principal.grid_ids) or [-1]))
        stmt = stmt.where(AccessLog.household_id.in_(below))
    result = paginate(session, stmt, page, per_page)
    users = _usernames(session, {e.user_id for e in result.items if e.user_id})
    items = [
        {
            "id": e.id,
            "at": e.at,
            "user_id": e.user_id,
            "username": users.get(e.user_id, ""),
            "household_id": e.household_id,
            "member_ids": list(e.member_ids or []),
            "fields": list(e.fields or []),
            "reason": e.reason,
        }
        for e in result.items
    ]
    return Page(items, result.page, result.per_page, result.total)


def household_entries(session: Session, principal: Principal, household_id: int, **kw: int | None) -> Page:
    """:func:`entries` of one household; 404 if there is no such household."""
    if principal.role in READERS and session.get(Household, household_id) is None:
        raise NotFound("No such household.")
    return entries(session, principal, household_id=household_id, **kw)


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def user_id_of(session: Session, username: str) -> int | None:
    """The id of the user signed in as ``username`` (None if there is none)."""
    return session.scalar(select(User.id).where(User.username == username))
