"""Visits (走访) and the coverage view that keeps any household from being missed
(不漏一户): recording a visit moves the household's ``last_visited_at``, and coverage lists
the households nobody has visited lately, grid by grid with the caseworkers who hold
them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from broker import audit
from broker.platform import runtime
from broker.platform.errors import Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import privacy
from broker.registry.access import require_registry, visible_grid_ids
from broker.registry.grids import caseworkers_by_grid
from broker.registry.households import get_household
from models import Grid, Household, User, Visit
from models.base import utcnow
from models.registry import VISIT_CHANNELS

CLOCK_SKEW = timedelta(minutes=5)


def _as_utc(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(runtime.settings()["TIMEZONE"]))
    return value.astimezone(ZoneInfo("UTC"))


def record_visit(session: Session, principal: Principal, household_id: int, data: dict) -> Visit:
    """Record a visit (走访): who, when (default now; never in the future), through
    which channel, what was found. A naive ``visited_at`` is read in the broker's time zone."""
    household = get_household(session, principal, household_id, write=True)
    channel = data["channel"]
    if channel not in VISIT_CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(VISIT_CHANNELS)}.", details={"channel": ["unknown channel"]})
    visited_at = _as_utc(data.get("visited_at"))
    if visited_at > utcnow() + CLOCK_SKEW:
        raise Invalid("A visit cannot be in the future.", details={"visited_at": ["is in the future"]})
    visit = Visit(
        household_id=household.id,
        caseworker_id=principal.user_id,
        channel=channel,
        visited_at=visited_at,
        findings=(data.get("findings") or "").strip(),
    )
    session.add(visit)
    if household.last_visited_at is None or visited_at > household.last_visited_at:
        household.last_visited_at = visited_at
    session.flush()
    audit.record(
        session,
        "visit.recorded",
        visit,
        household_id=household.id,
        after={"channel": channel, "visited_at": visited_at.isoformat(), "findings": privacy.redact(visit.findings)},
    )
    return visit


def list_visits(
    session: Session, principal: Principal, household_id: int, *, page: int = 1, per_page: int = 50
) -> Page:
    household = get_household(session, principal, household_id)
    stmt = select(Visit).where(Visit.household_id == household.id).order_by(Visit.visited_at.desc(), Visit.id.desc())
    return paginate(session, stmt, page, per_page)


# --- coverage: no household missed (不漏一户) ------------------------------------------


def coverage(
    session: Session,
    principal: Principal,
    *,
    grid: str | None = None,
    not_visited_days: int = 90,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Households nobody has visited in ``not_visited_days`` (or ever), never-visited
    first then the longest unvisited; with a summary per grid naming the caseworkers
    who hold it. Scoped like every registry read."""
    require_registry(principal, write=False)
    now = now or utcnow()
    cutoff = now - timedelta(days=not_visited_days)
    grid_stmt = select(Grid).order_by(Grid.code)
    visible = visible_grid_ids(principal)
    if visible is not None:
        grid_stmt = grid_stmt.where(Grid.id.in_(visible))
    if grid:
        grid_stmt = grid_stmt.where(Grid.code == grid)
    grids = list(session.execute(grid_stmt).scalars())
    if grid and not grids:
        raise NotFound("No such grid.")
    grid_ids = [g.id for g in grids]
    stale = or_(Household.last_visited_at.is_(None), Household.last_visited_at < cutoff)
    on_list = Household.state == "active"  # moved away, deceased, out of hardship: not missed
    totals = dict(
        session.execute(
            select(Household.grid_id, func.count())
            .where(Household.grid_id.in_(grid_ids), on_list)
            .group_by(Household.grid_id)
        ).all()
    )
    missed = dict(
        session.execute(
            select(Household.grid_id, func.count())
            .where(Household.grid_id.in_(grid_ids), stale, on_list)
            .group_by(Household.grid_id)
        ).all()
    )
    workers = caseworkers_by_grid(session, grid_ids)
    stmt = (
        select(Household)
        .options(selectinload(Household.grid))
        .where(Household.grid_id.in_(grid_ids), stale, on_list)
        .order_by(Household.last_visited_at.is_not(None), Household.last_visited_at, Household.id)
    )
    result = paginate(session, stmt, page, per_page)
    items = []
    for h in result.items:
        days = None if h.last_visited_at is None else (now - h.last_visited_at).days
        items.append(
            {
                "household_id": h.id,
                "grid": h.grid.code,
                "address": h.address,
                "head_name": h.head_name,
                "last_visited_at": h.last_visited_at,
                "days_since_visit": days,
                "caseworkers": [_worker(u) for u in workers.get(h.grid_id, [])],
            }
        )
    by_grid = [
        {
            "grid": g.code,
            "name": g.name,
            "community": g.community,
            "caseworkers": [_worker(u) for u in workers.get(g.id, [])],
            "households": totals.get(g.id, 0),
            "not_visited": missed.get(g.id, 0),
        }
        for g in grids
    ]
    return {
        **Page(items, result.page, result.per_page, result.total).as_dict(),
        "not_visited_days": not_visited_days,
        "cutoff": cutoff,
        "by_grid": by_grid,
    }


def _worker(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}
