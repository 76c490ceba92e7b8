"""Volunteer teams: partners of kind ``volunteer_team``, led by that partner's users.

A team is reached like any partner, through its adapter (``portal`` by default): the
offer lands in the leaders' inbox, they accept it and break it into tasks
(:mod:`.tasks`) that the team's members claim. The adapter contract needs nothing more:
handing tasks to members is the team's own work, done in the broker after the offer was
delivered, not a second delivery."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform.errors import Forbidden, NotFound
from broker.platform.scope import Principal
from models import Partner, User

TEAM_KIND = "volunteer_team"


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    regions: list[str]


def teams(session: Session) -> list[Team]:
    """Every active team, by name: whom a volunteer may sign up with."""
    rows = session.execute(
        select(Partner).where(Partner.kind == TEAM_KIND, Partner.active.is_(True)).order_by(Partner.name)
    ).scalars()
    return [Team(p.id, p.name, list(p.regions or [])) for p in rows]


def team(session: Session, team_id: int) -> Partner:
    """The active team with this id, or :class:`NotFound`."""
    row = session.get(Partner, team_id)
    if row is None or row.kind != TEAM_KIND or not row.active:
        raise NotFound("No such volunteer team.", details={"team": ["no active volunteer team with this id"]})
    return row


def require_leader(session: Session, principal: Principal, team_id: int) -> Partner:
    """The team, if ``principal`` leads it (or is an admin); another partner learns
    nothing of it, anyone else is refused."""
    if principal.role == "partner" and not principal.leads_team(team_id):
        raise NotFound("No such volunteer team.")
    if principal.role not in ("partner", "admin"):
        raise Forbidden("Only the team's leaders decide this.")
    return team(session, team_id)


def leader_ids(session: Session, team_id: int) -> list[int]:
    """The team's leaders' user ids, to tell them something."""
    return list(
        session.execute(
            select(User.id).where(User.partner_id == team_id, User.role == "partner", User.is_active.is_(True))
        ).scalars()
    )


def is_team(session: Session, partner_id: int | None) -> bool:
    """Whether this partner is an active volunteer team (its users lead it)."""
    if partner_id is None:
        return False
    row = session.get(Partner, partner_id)
    return row is not None and row.kind == TEAM_KIND and row.active
