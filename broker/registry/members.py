"""The members of a household and their identity numbers. A resident ID is stored
encrypted with a keyed hash that keeps one person out of two households; it leaves this
module only masked, and never reaches the audit log. Adding, changing and matching
members (for a re-imported survey row) happens here; the household calls in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform import security
from broker.platform.errors import Conflict, Invalid
from broker.platform.scope import Principal
from broker.registry import identity
from models import Household, Member

MEMBER_FIELDS = (
    "name",
    "birth_date",
    "sex",
    "relation",
    "conditions",
    "disability_grade",
    "disability_kind",
    "schooling",
    "employment",
    "supporter_able",
)


def _not_registered_elsewhere(
    session: Session, principal: Principal | None, number: str, household_id: int | None, index: int | None
) -> None:
    """409 ``duplicate_person`` if this ID number belongs to a member of another
    household; the other household is named only to those who may see it."""
    other = session.execute(
        select(Member).where(Member.id_hash.in_(security.keyed_hashes(number))).limit(1)
    ).scalar_one_or_none()
    if other is None or (household_id is not None and other.household_id == household_id):
        return
    where = f"member {index}" if index is not None else "this member"
    theirs = session.get(Household, other.household_id)
    details: dict[str, Any] = {"member_index": index}
    if principal is None or principal.can_see_grid(theirs.grid_id):
        details.update(
            {"household_id": theirs.id, "address": theirs.address, "grid": theirs.grid.code, "visible": True}
        )
        message = (
            f"The person in {where} is already registered in household {theirs.id} "
            f"({theirs.grid.code}, {theirs.address}); one person belongs to one household."
        )
    else:
        details["visible"] = False
        message = (
            f"The person in {where} is already registered in another household, on a grid you do not hold; "
            "ask an administrator to check."
        )
    raise Conflict(message, details=details, code="duplicate_person")


def _set_identity(
    session: Session, principal: Principal | None, member: Member, number: str, household_id: int | None, index: int
) -> None:
    id_hash = security.keyed_hash(number)
    if member.id_hash in security.keyed_hashes(number):
        return
    _not_registered_elsewhere(session, principal, number, household_id, index)
    member.id_hash = id_hash
    member.id_number_enc = security.encrypt(number)


def new_member(
    session: Session, principal: Principal | None, household_id: int | None, data: dict, index: int
) -> Member:
    member = Member(
        name=data["name"].strip(),
        birth_date=data.get("birth_date"),
        sex=data.get("sex"),
        relation=data.get("relation", ""),
        conditions=list(data.get("conditions") or []),
        disability_grade=data.get("disability_grade"),
        disability_kind=data.get("disability_kind"),
        schooling=data.get("schooling"),
        employment=data.get("employment"),
        supporter_able=data.get("supporter_able"),
    )
    if data.get("id_number"):
        _set_identity(session, principal, member, data["id_number"], household_id, index)
    return member


def update_member(
    session: Session, principal: Principal | None, household: Household, member: Member, data: dict, index: int
) -> None:
    if data.get("id_number"):
        number, born = identity.parse(data["id_number"])
        if "birth_date" in data and data["birth_date"] not in (None, born):
            raise Invalid(
                f"members.{index}.birth_date does not match the birth date inside the ID number.",
                details={f"members.{index}.birth_date": ["does not match the ID number"]},
            )
        _set_identity(session, principal, member, number, household.id, index)
        member.birth_date = born
    elif member.id_number_enc is not None and data.get("birth_date"):
        born = identity.parse(security.decrypt(member.id_number_enc))[1]
        if data["birth_date"] != born:
            raise Invalid(
                f"members.{index}.birth_date does not match the birth date inside the member's ID number "
                f"({born.isoformat()}).",
                details={f"members.{index}.birth_date": ["does not match the ID number"]},
            )
    for key in MEMBER_FIELDS:
        if key in data and key != "birth_date":
            value = data[key]
            setattr(member, key, list(value or []) if key == "conditions" else value)
    if data.get("birth_date") and not data.get("id_number"):
        member.birth_date = data["birth_date"]


def match_members(household: Household, incoming: list[dict]) -> tuple[list[dict], list[int]]:
    by_hash = {m.id_hash: m for m in household.members if m.id_hash}
    by_name = {(m.name, m.birth_date): m for m in household.members}
    items: list[dict] = []
    kept: set[int] = set()
    for data in incoming:
        match = None
        if data.get("id_number"):
            match = next((by_hash[h] for h in security.keyed_hashes(data["id_number"]) if h in by_hash), None)
        if match is None:
            candidate = by_name.get((data["name"], data.get("birth_date")))
            if candidate is not None and (not candidate.id_hash or not data.get("id_number")):
                match = candidate
        if match is not None and match.id not in kept:
            kept.add(match.id)
            items.append({**data, "id": match.id})
        else:
            items.append(dict(data))
    removed = [m.id for m in household.members if m.id not in kept]
    return items, removed


def masked_id(member: Member) -> str | None:
    """The member's ID number as staff see it (110105********123X); None if unknown."""
    if member.id_number_enc is None:
        return None
    return identity.masked(security.decrypt(member.id_number_enc))


def member_summary(member: Member) -> dict[str, Any]:
    """What the audit log keeps of a member: never the full ID number."""
    return {
        "id": member.id,
        "name": member.name,
        "relation": member.relation,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "id_number": masked_id(member),
        "conditions": list(member.conditions or []),
        "disability_grade": member.disability_grade,
        "disability_kind": member.disability_kind,
        "schooling": member.schooling,
        "employment": member.employment,
        "supporter_able": member.supporter_able,
    }
