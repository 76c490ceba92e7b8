"""Growth camps (成长营): weekend sessions for mentored children on a grid, and who came.
A session is recorded once it is held, by a caseworker of its grid, with the mentored
children (their active mentor plans on that grid) who attended; the figures count the
attendances."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Forbidden, Invalid
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import grids
from broker.registry.access import require_own_grid, require_registry, visible_grid_ids
from models import CampAttendance, CampSession, CarePlan, Grid, Member
from models.special_groups import CHILD_GROUPS

MAX_ATTENDEES = 200


def mentored(session: Session, principal: Principal, grid_id: int | None = None) -> list[tuple[CarePlan, str, str]]:
    """The active mentor plans of children on the grids one may see (or on ``grid_id``):
    (plan, child's name, grid code), by grid and name — who may come to a camp."""
    require_registry(principal, write=False)
    stmt = (
        select(CarePlan, Member.name, Grid.code)
        .join(Member, Member.id == CarePlan.member_id)
        .join(Grid, Grid.id == CarePlan.grid_id)
        .where(CarePlan.status == "active", CarePlan.kind == "mentor", CarePlan.group.in_(CHILD_GROUPS))
    )
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(CarePlan.grid_id.in_(visible))
    if grid_id is not None:
        stmt = stmt.where(CarePlan.grid_id == grid_id)
    return [(p, name, code) for p, name, code in session.execute(stmt.order_by(Grid.code, Member.name)).all()]


def record_session(session: Session, principal: Principal, data: dict[str, Any]) -> CampSession:
    """Record a camp session held on one's own grid and the mentored children who came."""
    if principal.role not in ("caseworker", "admin"):
        raise Forbidden("Growth camps are recorded by the grid's caseworkers.")
    grid = grids.grid_by_code(session, data.get("grid") or "")
    if grid is None:
        raise Invalid("There is no such grid.", details={"grid": ["unknown grid"]})
    require_own_grid(principal, grid)
    held_on = data.get("held_on")
    if not isinstance(held_on, date) or held_on > date.today() + timedelta(days=1):
        raise Invalid(
            "held_on is the day the camp was held; it cannot be in the future.",
            details={"held_on": ["is in the future"]},
        )
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("A camp session has a title.", details={"title": ["required"]})
    wanted = list(dict.fromkeys(data.get("plan_ids") or []))
    if len(wanted) > MAX_ATTENDEES:
        raise Invalid(f"At most {MAX_ATTENDEES} children per session.", details={"plan_ids": ["too many"]})
    allowed = {p.id for p, _, _ in mentored(session, principal, grid.id)}
    strangers = [pid for pid in wanted if pid not in allowed]
    if strangers:
        raise Invalid(
            "Only children with an active mentor plan on this grid attend its camps.",
            details={"plan_ids": [f"not a mentored child of {grid.code}: {pid}" for pid in strangers]},
        )
    camp = CampSession(
        grid_id=grid.id,
        title=title,
        held_on=held_on,
        notes=(data.get("notes") or "").strip(),
        recorded_by_id=principal.user_id or None,
    )
    session.add(camp)
    session.flush()
    session.add_all(CampAttendance(session_id=camp.id, plan_id=pid) for pid in wanted)
    session.flush()
    audit.record(
        session,
        "camp.recorded",
        camp,
        after={"grid": grid.code, "held_on": held_on.isoformat(), "plan_ids": wanted},
    )
    return camp


def list_sessions(session: Session, principal: Principal, *, page: int = 1, per_page: int = 50) -> Page:
    """Camp sessions on the grids one may see, the latest first."""
    require_registry(principal, write=False)
    stmt = select(CampSession)
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(CampSession.grid_id.in_(visible))
    return paginate(session, stmt.order_by(CampSession.held_on.desc(), CampSession.id.desc()), page, per_page)


def view(session: Session, camp: CampSession) -> dict[str, Any]:
    """A session as the API and the portal show it, with who came."""
    plan_ids = list(
        session.execute(
            select(CampAttendance.plan_id).where(CampAttendance.session_id == camp.id).order_by(CampAttendance.plan_id)
        ).scalars()
    )
    return {
        "id": camp.id,
        "grid": session.execute(select(Grid.code).where(Grid.id == camp.grid_id)).scalar_one(),
        "title": camp.title,
        "held_on": camp.held_on,
        "notes": camp.notes,
        "plan_ids": plan_ids,
        "attendance": len(plan_ids),
        "created_at": camp.created_at,
    }
