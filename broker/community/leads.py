"""Leads (走访线索): a mobile grid member reports a household that may need help — where,
what they saw, how urgent, a photo — and the report lands on the caseworker list of the
grid it is in. A caseworker goes, and records the visit from the lead (linking the
household already registered, or recording a new one; the visit's channel is the
neighbour's report), or closes the lead with a coded reason.

Where a lead lands: the grid the reporter named, else the community named (or the one
the address names) — on its only grid, or on a grid whose name the address contains;
failing that, the lead waits for every caseworker of that community.

Reporters see their own leads and what came of them (visited or closed, and when),
never the household found. Caseworkers see the leads of their grids (and the
unplaced ones of their communities); auditors and admins all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from broker import audit
from broker.community import reporters
from broker.people import notify
from broker.platform import photos
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import privacy
from broker.registry.grids import caseworkers_by_grid, grid_by_code
from broker.registry.households import create_household, get_household
from broker.registry.visits import record_visit
from models import Grid, Household, Lead, User, UserGrid
from models.base import utcnow
from models.leads import LEAD_CLOSE_REASONS

FOLDER = "leads"
CHANNEL = "neighbour_report"  # the visit's channel: a report by a neighbour or a courier
HANDLERS = ("caseworker", "admin")
READERS = ("reporter", "caseworker", "auditor", "admin")
PHOTO_READERS = ("caseworker", "auditor", "admin")
define(
    {
        "lead.reported": N_("A mobile grid member reported a household in %(community)s that may need help: visit it."),
        "lead.urgency.normal": N_("Normal"),
        "lead.urgency.urgent": N_("Urgent"),
        "lead.urgency.critical": N_("Critical"),
        "lead.status.new": N_("Waiting for a visit"),
        "lead.status.visited": N_("Visited"),
        "lead.status.closed": N_("Closed"),
        "lead.close.duplicate": N_("Already reported"),
        "lead.close.not_found": N_("Nobody found at the address"),
        "lead.close.no_need": N_("No help needed"),
        "lead.close.moved_away": N_("Moved away"),
        "lead.close.already_known": N_("Already cared for"),
        "lead.close.other": N_("Other reason"),
    }
)


@dataclass(frozen=True)
class Place:
    grid: Grid | None
    community: str


def locate(session: Session, address: str, grid_code: str | None, community: str | None) -> Place:
    """Where a lead lands (see the module); 422 when nothing names a known place."""
    if grid_code:
        grid = grid_by_code(session, grid_code.strip())
        if grid is None:
            raise Invalid(
                f"There is no grid with code {grid_code}: leave it empty and name the community.",
                code="unknown_grid",
                details={"grid": ["unknown grid"]},
            )
        return Place(grid, grid.community)
    grids = list(session.execute(select(Grid).order_by(Grid.id)).scalars())
    if community:
        named = community.strip()
        found = [g for g in grids if g.community == named]
        if not found:
            raise Invalid(
                f"There is no community called {named}: check the name, or write it into the address.",
                code="unknown_community",
                details={"community": ["unknown community"]},
            )
    else:
        communities = {g.community for g in grids if g.community and g.community in address}
        if len(communities) != 1:
            raise Invalid(
                "Say which community (社区) the household is in, so that its caseworker gets the report.",
                code="where_unknown",
                details={"community": ["name the community"]},
            )
        named = communities.pop()
        found = [g for g in grids if g.community == named]
    if len(found) == 1:
        return Place(found[0], named)
    by_name = [g for g in found if g.name and g.name in address]
    return Place(by_name[0] if len(by_name) == 1 else None, named)


def report(
    session: Session, principal: Principal, data: dict[str, Any], photo: bytes | None = None
) -> tuple[Lead, bool]:
    """A reporter's new lead (``data`` as :class:`~.lead_schema.LeadIn` loads it), with an
    optional photo checked and kept by :mod:`broker.platform.photos`; the grid's
    caseworkers are told. Returns the lead and that it is new."""
    reporter = reporters.reporter_of(session, principal)
    place = locate(session, data["address"], data.get("grid"), data.get("community"))
    lead = Lead(
        reporter_id=reporter.id,
        grid_id=place.grid.id if place.grid else None,
        community=place.community,
        address=data["address"].strip(),
        seen=data["seen"].strip(),
        urgency=data.get("urgency") or "normal",
        status="new",
    )
    if photo:
        kept = photos.keep(FOLDER, photo, field="photo")
        lead.photo_token, lead.photo_type, lead.photo_sha256 = kept.token, kept.content_type, kept.sha256
    session.add(lead)
    session.flush()
    audit.record(
        session,
        "lead.reported",
        lead,
        after={
            "reporter_id": reporter.id,
            "grid_id": lead.grid_id,
            "community": lead.community,
            "urgency": lead.urgency,
            "photo": bool(lead.photo_token),
            "seen": privacy.redact(lead.seen),
        },
    )
    notify.notify(
        session,
        _caseworkers_of(session, lead),
        "lead.reported",
        {"community": lead.community},
        dedupe_key=f"lead.reported:{lead.id}",
    )
    return lead, True


def _caseworkers_of(session: Session, lead: Lead) -> list[int]:
    if lead.grid_id is not None:
        return [u.id for u in caseworkers_by_grid(session, [lead.grid_id])[lead.grid_id]]
    return list(
        session.execute(
            select(User.id)
            .join(UserGrid, UserGrid.user_id == User.id)
            .join(Grid, Grid.id == UserGrid.grid_id)
            .where(Grid.community == lead.community, User.role == "caseworker", User.is_active.is_(True))
            .distinct()
        ).scalars()
    )


def on_grids(grids: frozenset[int]) -> ColumnElement[bool]:
    """SQL: the leads on these grids, and those waiting for the caseworkers of their
    communities (no grid yet)."""
    grid_ids = sorted(grids) or [0]
    communities = select(Grid.community).where(Grid.id.in_(grid_ids))
    return or_(Lead.grid_id.in_(grid_ids), and_(Lead.grid_id.is_(None), Lead.community.in_(communities)))


def _scope(session: Session, principal: Principal) -> ColumnElement[bool] | None:
    """The leads ``principal`` may see, as a filter (None: all of them): a caseworker's
    grids', an auditor's or admin's scoped to a region those below its node."""
    principal.require(*READERS)
    if principal.role == "reporter":
        return Lead.reporter_id == reporters.reporter_of(session, principal).id
    if principal.role == "caseworker" or principal.scoped:
        return on_grids(principal.grid_ids)
    return None


def listing(session: Session, principal: Principal, *, status: str | None = None) -> list[Lead]:
    """The leads ``principal`` may see, newest first (a reporter's: its own)."""
    stmt = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
    scope = _scope(session, principal)
    if scope is not None:
        stmt = stmt.where(scope)
    if status:
        stmt = stmt.where(Lead.status == status)
    return list(session.execute(stmt).scalars())


def get(session: Session, principal: Principal, lead_id: int, *, lock: bool = False) -> Lead:
    """One lead, if ``principal`` may see it (else not found)."""
    stmt = select(Lead).where(Lead.id == lead_id)
    scope = _scope(session, principal)
    if scope is not None:
        stmt = stmt.where(scope)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("No such lead.")
    return found


def photo(session: Session, principal: Principal, lead_id: int) -> tuple[bytes, str]:
    """The lead's photo, for those who handle or oversee it (never back to a reporter's phone)."""
    principal.require(*PHOTO_READERS)
    lead = get(session, principal, lead_id)
    if not lead.photo_token or not lead.photo_sha256:
        raise NotFound("This lead has no photo.", code="no_photo")
    return photos.read(FOLDER, lead.photo_token, lead.photo_sha256), lead.photo_type or "application/octet-stream"


def _open(session: Session, principal: Principal, lead_id: int) -> Lead:
    principal.require(*HANDLERS)
    return get(session, principal, lead_id, lock=True)


def visit(session: Session, principal: Principal, lead_id: int, data: dict[str, Any]) -> tuple[Lead, bool]:
    """The caseworker went: link the household (registered, or recorded now), record the
    visit with the neighbour's-report channel, mark the lead visited. Returns the lead
    and whether this call did it (the same household again: the visit already recorded)."""
    lead = _open(session, principal, lead_id)
    if lead.status == "visited" and data.get("household_id") == lead.household_id:
        return lead, False
    if lead.status != "new":
        raise Conflict(
            "This lead was already handled.",
            code="invalid_transition",
            details={"current_status": lead.status, "action": "visit"},
        )
    if data.get("household_id") is not None:
        household = get_household(session, principal, data["household_id"], write=True)
    else:
        household = create_household(session, principal, data["household"])
    _same_place(session, lead, household)
    found = record_visit(
        session,
        principal,
        household.id,
        {"channel": CHANNEL, "visited_at": data.get("visited_at"), "findings": data.get("findings") or ""},
    )
    lead.status, lead.household_id, lead.visit_id = "visited", household.id, found.id
    lead.handled_by_id, lead.handled_at = principal.user_id, utcnow()
    lead.grid_id = household.grid_id
    session.flush()
    audit.record(
        session,
        "lead.visited",
        lead,
        household_id=household.id,
        before={"status": "new"},
        after={"status": "visited", "household_id": household.id, "visit_id": found.id},
    )
    return lead, True


def _same_place(session: Session, lead: Lead, household: Household) -> None:
    if household.grid_id == lead.grid_id:
        return
    grid = session.get(Grid, household.grid_id)
    if grid is None or grid.community != lead.community:
        raise Conflict(
            "This household is in another community than the lead: pick the household the lead is about.",
            code="household_elsewhere",
            details={"household_id": ["in another community"]},
        )


def close(session: Session, principal: Principal, lead_id: int, reason: str) -> Lead:
    """Close a lead with a coded reason (nobody there, already known, a duplicate …).
    The same close again changes nothing; a handled lead is not closed otherwise."""
    if reason not in LEAD_CLOSE_REASONS:
        raise Invalid(f"reason must be one of {', '.join(LEAD_CLOSE_REASONS)}.", details={"reason": ["unknown reason"]})
    lead = _open(session, principal, lead_id)
    if lead.status == "closed" and lead.close_reason == reason:
        return lead
    if lead.status != "new":
        raise Conflict(
            "This lead was already handled.",
            code="invalid_transition",
            details={"current_status": lead.status, "action": "close"},
        )
    lead.status, lead.close_reason = "closed", reason
    lead.handled_by_id, lead.handled_at = principal.user_id, utcnow()
    session.flush()
    audit.record(session, "lead.closed", lead, before={"status": "new"}, after={"status": "closed", "reason": reason})
    return lead


def waiting(session: Session, principal: Principal) -> list[Lead]:
    """The caseworker's leads still to visit, most urgent and oldest first (the day page)."""
    if principal.role not in HANDLERS:
        raise Forbidden("Leads are visited by caseworkers.")
    rank = {"critical": 0, "urgent": 1, "normal": 2}
    found = listing(session, principal, status="new")
    return sorted(found, key=lambda lead: (rank.get(lead.urgency, 3), lead.created_at, lead.id))
