"""Volunteers: a sign-up a person does on a phone (with consent, an account of the
light ``volunteer`` role, pending), the team leader's decision, and who may read whom.

The ID number, when given, is kept as members' are: encrypted, with a keyed hash that
keeps one person from signing up twice; when it matches a member of the registry, the
volunteer is linked to that household (whose family earns volunteer points) — silently:
neither the volunteer nor the team learns whether a family is in the registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import teams
from broker.people import notify, users
from broker.platform import security
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import identity
from models import Grid, Member, User, Volunteer
from models.base import utcnow

define({"volunteer.signed_up": N_("%(name)s asked to join %(team)s as a volunteer: approve or decline.")})

READERS = ("partner", "auditor", "admin", "volunteer")
DECISIONS = {"approve": "active", "reject": "rejected"}


def sign_up(session: Session, data: dict[str, Any]) -> tuple[Volunteer, bool]:
    """A new volunteer (``data`` as :class:`~.volunteer_schema.VolunteerIn` loads it),
    pending the team leader's approval, with a light account to follow it on a phone.
    The same sign-up sent again (same username and password: a retry over a bad
    connection) returns the first; returns the volunteer and whether it is new."""
    first = _same_sign_up(session, data)
    if first is not None:
        return first, False
    try:
        team = teams.team(session, data["team"])
    except NotFound as exc:
        raise Invalid("No such volunteer team: pick one from the list.", details={"team": ["unknown team"]}) from exc
    grids = _grid_codes(session, data.get("grids") or [])
    number, id_hash, household_id = _identity(session, data.get("id_number"))
    user = users.create_user(
        session,
        username=data["username"],
        password=data["password"],
        role="volunteer",
        display_name=data["name"].strip(),
    )
    volunteer = Volunteer(
        team_id=team.id,
        user_id=user.id,
        name=data["name"].strip(),
        phone=data["phone"],
        id_number_enc=security.encrypt(number) if number else None,
        id_hash=id_hash,
        skills=_clean(data.get("skills")),
        languages=_clean(data.get("languages")),
        availability=(data.get("availability") or "").strip(),
        grids=grids,
        household_id=household_id,
        consent_at=utcnow(),
        status="pending",
    )
    session.add(volunteer)
    session.flush()
    audit.record(
        session,
        "volunteer.signed_up",
        volunteer,
        household_id=household_id,
        after={"team_id": team.id, "user_id": user.id, "status": "pending", "grids": grids},
    )
    notify.notify(
        session,
        teams.leader_ids(session, team.id),
        "volunteer.signed_up",
        {"name": volunteer.name, "team": team.name},
        dedupe_key=f"volunteer.signed_up:{volunteer.id}",
    )
    return volunteer, True


def _same_sign_up(session: Session, data: dict[str, Any]) -> Volunteer | None:
    user = session.execute(select(User).where(User.username == data["username"])).scalar_one_or_none()
    if user is None or user.role != "volunteer" or not security.check_password(user.password_hash, data["password"]):
        return None
    found = session.execute(select(Volunteer).where(Volunteer.user_id == user.id)).scalar_one_or_none()
    return found if found is not None and found.team_id == data["team"] else None


def _clean(items: list[str] | None) -> list[str]:
    seen: list[str] = []
    for item in items or []:
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def _grid_codes(session: Session, codes: list[str]) -> list[str]:
    codes = _clean(codes)
    known = set(session.execute(select(Grid.code).where(Grid.code.in_(codes))).scalars()) if codes else set()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Invalid(
            f"No grid with the code {unknown[0]}: pick the grids you cover from the list.",
            code="unknown_grid",
            details={"grids": [f"unknown grid: {c}" for c in unknown]},
        )
    return codes


def _identity(session: Session, raw: str | None) -> tuple[str | None, str | None, int | None]:
    """The ID number checked, its keyed hash, and the household of the member it names."""
    if not raw:
        return None, None, None
    number, _born = identity.parse(raw.strip())
    hashes = security.keyed_hashes(number)
    if session.execute(select(Volunteer.id).where(Volunteer.id_hash.in_(hashes))).first():
        raise Conflict(
            "Someone with this ID number has already signed up as a volunteer: sign in with that account.",
            code="already_signed_up",
            details={"id_number": ["already signed up"]},
        )
    household_id = session.execute(select(Member.household_id).where(Member.id_hash.in_(hashes)).limit(1)).scalar()
    return number, security.keyed_hash(number), household_id


def volunteer_of(session: Session, principal: Principal) -> Volunteer:
    """The signed-in volunteer's own record."""
    found = session.execute(select(Volunteer).where(Volunteer.user_id == principal.user_id)).scalar_one_or_none()
    if principal.role != "volunteer" or found is None:
        raise Forbidden("This is for volunteers who have signed up.", code="not_a_volunteer")
    return found


def active_volunteer(session: Session, principal: Principal) -> Volunteer:
    """The signed-in volunteer, approved by the team leader."""
    volunteer = volunteer_of(session, principal)
    if volunteer.status != "active":
        raise Forbidden(
            "Your team leader has not approved you yet: you can take tasks once approved.",
            code="volunteer_not_active",
            details={"status": volunteer.status},
        )
    return volunteer


def get(session: Session, principal: Principal, volunteer_id: int) -> Volunteer:
    """One volunteer, for the volunteer, the team's leaders, auditors and admins."""
    principal.require(*READERS)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not _may_read(principal, volunteer):
        raise NotFound("No such volunteer.")
    return volunteer


def _may_read(principal: Principal, volunteer: Volunteer) -> bool:
    if principal.role == "volunteer":
        return volunteer.user_id == principal.user_id
    if principal.role == "partner":
        return principal.leads_team(volunteer.team_id)
    return True


def listing(
    session: Session, principal: Principal, *, team_id: int | None = None, status: str | None = None
) -> list[Volunteer]:
    """Volunteers by scope: a leader's team, a volunteer's own record, everyone for oversight."""
    principal.require(*READERS)
    stmt = select(Volunteer).order_by(Volunteer.id)
    if principal.role == "volunteer":
        stmt = stmt.where(Volunteer.user_id == principal.user_id)
    elif principal.role == "partner":
        stmt = stmt.where(Volunteer.team_id == principal.partner_id)
    if team_id is not None:
        stmt = stmt.where(Volunteer.team_id == team_id)
    if status is not None:
        stmt = stmt.where(Volunteer.status == status)
    return list(session.execute(stmt).scalars())


def decide(session: Session, principal: Principal, volunteer_id: int, decision: str, reason: str = "") -> Volunteer:
    """The team leader approves or declines a sign-up. The same decision again changes
    nothing; a different one on a decided sign-up is refused."""
    volunteer = session.execute(
        select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()
    ).scalar_one_or_none()
    if volunteer is None or (principal.role == "partner" and not principal.leads_team(volunteer.team_id)):
        raise NotFound("No such volunteer.")
    teams.require_leader(session, principal, volunteer.team_id)
    status = DECISIONS[decision]
    if volunteer.status == status:
        return volunteer
    if volunteer.status != "pending":
        raise Conflict(
            "This sign-up has already been decided.",
            code="invalid_transition",
            details={"current_status": volunteer.status, "action": decision},
        )
    volunteer.status = status
    volunteer.decided_by_id = principal.user_id
    volunteer.decided_at = utcnow()
    volunteer.decision_reason = (reason or "").strip()[:200]
    if status == "rejected" and volunteer.user_id is not None:
        account = session.get(User, volunteer.user_id)
        account.is_active = False  # a declined sign-up keeps no way in
    session.flush()
    audit.record(
        session,
        f"volunteer.{'approved' if status == 'active' else 'rejected'}",
        volunteer,
        household_id=volunteer.household_id,
        before={"status": "pending"},
        after={"status": status, "reason": volunteer.decision_reason},
    )
    return volunteer
