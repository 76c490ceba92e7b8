"""Grids (网格): district → street → community → grid, the unit a caseworker holds; each
hangs under a community or village of the region tree (:mod:`.regions`), found by its
names (missing nodes are made) or named by its ``region`` code.
Creating and editing one is for admins; reading them is scoped like every registry read; and the
caseworkers holding each grid are looked up here for the coverage view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.registry import regions
from broker.registry.access import require_registry, visible_grid_ids
from models import Grid, User, UserGrid

define({"grid_exists": N_("A grid with the code %(code)s already exists.")})


def create_grid(session: Session, principal: Principal, data: dict) -> Grid:
    """Add a grid (admin). Codes are unique."""
    principal.require("admin")
    code = data["code"].strip()
    if grid_by_code(session, code) is not None or regions.region_by_code(session, code) is not None:
        raise Conflict(f"A grid with code {code} already exists.", details={"code": code}, code="grid_exists")
    grid = Grid(
        code=code,
        name=data["name"].strip(),
        district=data["district"].strip(),
        street=data["street"].strip(),
        community=data["community"].strip(),
    )
    session.add(grid)
    session.flush()
    if data.get("region"):
        regions.place_under(session, grid, data["region"])
    else:
        regions.place_by_names(session, grid)
    audit.record(session, "grid.created", grid, after=grid_summary(grid))
    return grid


def update_grid(session: Session, principal: Principal, code: str, data: dict) -> Grid:
    """Rename a grid or correct its place (admin); only the fields given change. The code
    stays: households, partners' regions and caseworkers refer to it."""
    principal.require("admin")
    grid = grid_by_code(session, code)
    if grid is None:
        raise NotFound("No such grid.")
    before = grid_summary(grid)
    for column in ("name", "district", "street", "community"):
        if column in data:
            setattr(grid, column, data[column].strip())
    session.flush()
    if data.get("region"):
        regions.place_under(session, grid, data["region"])
    elif any(getattr(grid, c) != before[c] for c in ("district", "street", "community")):
        regions.place_by_names(session, grid)
    after = grid_summary(grid)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record(
            session, "grid.updated", grid, before={k: before[k] for k in changed}, after={k: after[k] for k in changed}
        )
    return grid


def grid_summary(grid: Grid) -> dict[str, Any]:
    return {column: getattr(grid, column) for column in ("code", "name", "district", "street", "community")}


def grid_by_code(session: Session, code: str) -> Grid | None:
    return session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()


def grids_by_code(session: Session, codes: list[str] | tuple[str, ...] | set[str]) -> dict[str, Grid]:
    """The grids among ``codes`` that exist, by code (for validating partner regions)."""
    if not codes:
        return {}
    rows = session.execute(select(Grid).where(Grid.code.in_(list(codes)))).scalars()
    return {g.code: g for g in rows}


def list_grids(session: Session, principal: Principal, *, page: int = 1, per_page: int = 50) -> Page:
    """Grids the principal may see: a caseworker's own; all for admins and auditors."""
    require_registry(principal, write=False)
    stmt = select(Grid).order_by(Grid.code)
    visible = visible_grid_ids(principal)
    if visible is not None:
        stmt = stmt.where(Grid.id.in_(visible))
    return paginate(session, stmt, page, per_page)


def get_grid(session: Session, principal: Principal, code: str) -> Grid:
    require_registry(principal, write=False)
    grid = grid_by_code(session, code)
    if grid is None or not principal.can_see_grid(grid.id):
        raise NotFound("No such grid.")
    return grid


def caseworkers_by_grid(session: Session, grid_ids: list[int] | set[int]) -> dict[int, list[User]]:
    """The active caseworkers holding each grid."""
    out: dict[int, list[User]] = {gid: [] for gid in grid_ids}
    if not grid_ids:
        return out
    rows = session.execute(
        select(UserGrid.grid_id, User)
        .join(User, User.id == UserGrid.user_id)
        .where(UserGrid.grid_id.in_(list(grid_ids)), User.role == "caseworker", User.is_active.is_(True))
        .order_by(User.username)
    ).all()
    for grid_id, user in rows:
        out[grid_id].append(user)
    return out


def caseworker_ids(session: Session, grid_id: int, *, plus: int | None = None) -> list[int]:
    """Who answers for a grid's households: its active caseworkers, and ``plus`` (whoever
    filed the request or application at hand) — the people an alert about it goes to."""
    ids = {user.id for user in caseworkers_by_grid(session, [grid_id])[grid_id]}
    if plus is not None:
        ids.add(plus)
    return sorted(ids)
