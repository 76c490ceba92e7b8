"""Job openings (岗位) posted by companies and workshops — the broker's partners, or an
admin on a partner's behalf: the kind of work, the place (one grid, a whole district, or
anywhere), hours a week, pay in fen per month, day or piece, flexible or home-based, how
many positions; open until its partner (or an admin) closes it.

Openings are work on offer, not family data: caseworkers, auditors and admins read them
all (a caseworker looks for work for the families on her grids); a partner reads and
changes only its own. What a partner sees of the people placed with it is decided by
:func:`member_label` (the family's consent to share with partners, as everywhere)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.pages import Page, paginate
from broker.platform.scope import Principal
from broker.registry import consents, privacy
from models import Grid, Member, Opening, Partner, Placement
from models.jobs import OPENING_KINDS, PAY_UNITS

READERS = ("caseworker", "auditor", "admin", "partner")
MAX_TEXT = 2000


def owner_for(session: Session, principal: Principal, partner_id: int | None) -> Partner:
    """The partner a new opening or course belongs to: a partner's own; an admin names
    the partner it posts for. Anyone else may not post."""
    if principal.role == "partner":
        if partner_id not in (None, principal.partner_id):
            raise Forbidden("A partner posts only its own openings and courses.")
        partner_id = principal.partner_id
    elif principal.role != "admin":
        raise Forbidden("Openings and courses are posted by their company or workshop, or by an admin for it.")
    if partner_id is None:
        raise Invalid("Say which partner posts it.", details={"partner_id": ["required for an admin"]})
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise Invalid("partner_id names no partner.", details={"partner_id": ["unknown partner"]})
    return partner


def place_of(session: Session, data: dict[str, Any]) -> tuple[int | None, str]:
    """(grid id, district) from a grid code or a district name; both empty: anywhere."""
    code = (data.get("grid") or "").strip()
    if code:
        grid = session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()
        if grid is None:
            raise Invalid("grid names no grid.", details={"grid": ["unknown grid"]})
        return grid.id, grid.district
    return None, (data.get("district") or "").strip()


def create_opening(session: Session, principal: Principal, data: dict[str, Any]) -> Opening:
    """Post an opening for a partner (its own; an admin's for the partner it names)."""
    partner = owner_for(session, principal, data.get("partner_id"))
    if data.get("kind") not in OPENING_KINDS:
        raise Invalid(f"kind must be one of {', '.join(OPENING_KINDS)}.", details={"kind": ["unknown kind"]})
    if data.get("pay_unit", "month") not in PAY_UNITS:
        raise Invalid(f"pay_unit must be one of {', '.join(PAY_UNITS)}.", details={"pay_unit": ["unknown unit"]})
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("An opening has a title.", details={"title": ["required"]})
    for name, low in (("positions", 1), ("hours_per_week", 1), ("pay_fen", 0)):
        if not isinstance(data.get(name), int) or data[name] < low:
            raise Invalid(f"{name} must be a whole number of at least {low}.", details={name: ["out of range"]})
    grid_id, district = place_of(session, data)
    opening = Opening(
        partner_id=partner.id,
        title=title,
        kind=data["kind"],
        skill=(data.get("skill") or "").strip(),
        grid_id=grid_id,
        district=district,
        hours_per_week=data["hours_per_week"],
        pay_fen=data["pay_fen"],
        pay_unit=data.get("pay_unit") or "month",
        flexible=bool(data.get("flexible")),
        home_based=bool(data.get("home_based")),
        positions=data["positions"],
        status="open",
        description=(data.get("description") or "").strip()[:MAX_TEXT],
        created_by_id=principal.user_id or None,
    )
    session.add(opening)
    session.flush()
    audit.record(
        session,
        "opening.created",
        opening,
        after={
            "partner_id": partner.id,
            "title": title,
            "kind": opening.kind,
            "grid_id": grid_id,
            "district": district,
            "hours_per_week": opening.hours_per_week,
            "pay_fen": opening.pay_fen,
            "pay_unit": opening.pay_unit,
            "flexible": opening.flexible,
            "home_based": opening.home_based,
            "positions": opening.positions,
        },
    )
    return opening


def get_opening(session: Session, principal: Principal, opening_id: int, *, write: bool = False) -> Opening:
    """An opening the principal may see (a partner: its own; anything else reads as not
    found); with ``write``, one it may change (its partner, or an admin)."""
    opening = session.get(Opening, opening_id)
    if opening is None or principal.role not in READERS:
        raise NotFound("No such opening.")
    if principal.role == "partner" and opening.partner_id != principal.partner_id:
        raise NotFound("No such opening.")
    if write and principal.role not in ("partner", "admin"):
        raise Forbidden("An opening is changed by its company or workshop, or an admin.")
    return opening


def lock_opening(session: Session, opening_id: int) -> Opening:
    return session.execute(
        select(Opening).where(Opening.id == opening_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def close_opening(session: Session, principal: Principal, opening_id: int) -> Opening:
    """Close an open opening: nobody more is placed in it (409 if closed already)."""
    opening = lock_opening(session, get_opening(session, principal, opening_id, write=True).id)
    if opening.status != "open":
        raise Conflict("This opening is closed already.", code="opening_closed", details={"status": opening.status})
    opening.status = "closed"
    session.flush()
    audit.record(session, "opening.closed", opening, before={"status": "open"}, after={"status": "closed"})
    return opening


def filled(session: Session, opening_id: int) -> int:
    """Positions taken: placements still active."""
    return session.execute(
        select(func.count())
        .select_from(Placement)
        .where(Placement.opening_id == opening_id, Placement.status == "active")
    ).scalar_one()


def list_openings(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    home_based: bool | None = None,
    partner_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Openings the principal may read (a partner: its own), the newest first."""
    if principal.role not in READERS:
        raise Forbidden("Openings are read by caseworkers, auditors, admins and the partner that posted them.")
    stmt = select(Opening)
    if principal.role == "partner":
        stmt = stmt.where(Opening.partner_id == principal.partner_id)
    elif partner_id is not None:
        stmt = stmt.where(Opening.partner_id == partner_id)
    if status is not None:
        stmt = stmt.where(Opening.status == status)
    if home_based is not None:
        stmt = stmt.where(Opening.home_based.is_(home_based))
    return paginate(session, stmt.order_by(Opening.id.desc()), page, per_page)


def place_view(session: Session, grid_id: int | None, district: str) -> dict[str, Any]:
    grid = session.get(Grid, grid_id) if grid_id else None
    return {
        "grid": grid.code if grid else None,
        "community": grid.community if grid else None,
        "district": district or None,
    }


def owner_name(session: Session, partner_id: int) -> str:
    partner = session.get(Partner, partner_id)
    return partner.name if partner else ""


def view(session: Session, opening: Opening) -> dict[str, Any]:
    taken = filled(session, opening.id)
    return {
        "id": opening.id,
        "partner_id": opening.partner_id,
        "partner": owner_name(session, opening.partner_id),
        "title": opening.title,
        "kind": opening.kind,
        "skill": opening.skill,
        "place": place_view(session, opening.grid_id, opening.district),
        "hours_per_week": opening.hours_per_week,
        "pay_fen": opening.pay_fen,
        "pay_unit": opening.pay_unit,
        "flexible": opening.flexible,
        "home_based": opening.home_based,
        "positions": opening.positions,
        "filled": taken,
        "free": max(0, opening.positions - taken),
        "status": opening.status,
        "description": opening.description,
        "created_at": opening.created_at,
    }


def member_label(session: Session, principal: Principal, member: Member) -> str:
    """A member's name as the principal may read it: staff in full; a partner (an
    employer, a course) in full only with the family's consent to share with partners of
    its kind, else 王** — never the ID number, address or phone."""
    if principal.role != "partner":
        return member.name
    partner = session.get(Partner, principal.partner_id)
    agreed = consents.permits(
        session, member.household_id, consents.SHARE_WITH_PARTNERS, partner_kind=partner.kind if partner else None
    )
    return str(privacy.household_name(member.name, agreed)["params"]["name"])
