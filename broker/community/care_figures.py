"""How care is going, in the grids the reader may see: children mentored, contact
regularity (contacts made on time against contacts due), contacts missed, elderly people
living alone with both a doctor and a volunteer, growth-camp attendance — and the
coverage that keeps nobody out (不落一人): who in each special group has no active care
plan, grid by grid, with counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from broker.platform.scope import Principal
from broker.registry.access import require_registry, visible_grid_ids
from models import CampAttendance, CareContact, CareMiss, CarePlan, Grid, Household, Member, SpecialGroupMember
from models.special_groups import CHILD_GROUPS, SPECIAL_GROUPS


@dataclass
class CareFigures:
    children_mentored: int = 0
    contacts_due: int = 0
    contacts_on_time: int = 0
    contacts_late: int = 0
    contacts_missed: int = 0
    elderly_alone: int = 0
    elderly_alone_cared: int = 0
    camp_attendances: int = 0
    in_group: dict[str, int] = field(default_factory=dict)
    without_plan: dict[str, int] = field(default_factory=dict)
    grids: list[dict[str, Any]] = field(default_factory=list)

    @property
    def regularity_pct(self) -> float | None:
        """Contacts on time as a share of the contacts due; None when none was due."""
        return round(100 * self.contacts_on_time / self.contacts_due, 1) if self.contacts_due else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "children_mentored": self.children_mentored,
            "contacts_due": self.contacts_due,
            "contacts_on_time": self.contacts_on_time,
            "contacts_late": self.contacts_late,
            "contacts_missed": self.contacts_missed,
            "regularity_pct": self.regularity_pct,
            "elderly_alone": self.elderly_alone,
            "elderly_alone_cared": self.elderly_alone_cared,
            "camp_attendances": self.camp_attendances,
            "in_group": self.in_group,
            "without_plan": self.without_plan,
            "grids": self.grids,
        }


CURRENT = SpecialGroupMember.ended_on.is_(None)  # a member who left a group is out of its figures


def _scoped(stmt: Any, column: Any, principal: Principal) -> Any:
    visible = visible_grid_ids(principal)
    return stmt if visible is None else stmt.where(column.in_(visible))


def _active_plan(kind: str | None = None) -> Any:
    cond = and_(CarePlan.member_id == SpecialGroupMember.member_id, CarePlan.status == "active")
    return select(CarePlan.id).where(cond if kind is None else and_(cond, CarePlan.kind == kind)).exists()


def _between(stmt: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(column >= since)
    if until is not None:
        stmt = stmt.where(column < until)
    return stmt


def figures(
    session: Session, principal: Principal, *, since: datetime | None = None, until: datetime | None = None
) -> CareFigures:
    """The figures for the principal's grids (all for auditors and admins); contacts and
    misses within ``since``–``until`` (by when they were due), plans as they stand now."""
    require_registry(principal, write=False)
    out = CareFigures()
    out.children_mentored = session.execute(
        _scoped(
            select(func.count(func.distinct(CarePlan.member_id))).where(
                CarePlan.status == "active", CarePlan.kind == "mentor", CarePlan.group.in_(CHILD_GROUPS)
            ),
            CarePlan.grid_id,
            principal,
        )
    ).scalar_one()
    contacts = _scoped(
        select(CareContact.on_time, func.count()).join(CarePlan, CarePlan.id == CareContact.plan_id),
        CarePlan.grid_id,
        principal,
    )
    for on_time, n in session.execute(
        _between(contacts, CareContact.due_at, since, until).group_by(CareContact.on_time)
    ):
        if on_time:
            out.contacts_on_time = n
        else:
            out.contacts_late = n
    misses = _scoped(select(func.count()).select_from(CareMiss), CareMiss.grid_id, principal)
    out.contacts_missed = session.execute(_between(misses, CareMiss.due_at, since, until)).scalar_one()
    out.contacts_due = out.contacts_on_time + out.contacts_late + out.contacts_missed
    members = _scoped(select(SpecialGroupMember).where(CURRENT), SpecialGroupMember.grid_id, principal)
    groups = _scoped(
        select(Grid.code, SpecialGroupMember.group, func.count(), func.count().filter(~_active_plan()))
        .join(Grid, Grid.id == SpecialGroupMember.grid_id)
        .where(CURRENT)
        .group_by(Grid.code, SpecialGroupMember.group),
        SpecialGroupMember.grid_id,
        principal,
    )
    by_grid: dict[str, dict[str, Any]] = {}
    for code, group, n, uncovered in session.execute(groups.order_by(Grid.code)):
        out.in_group[group] = out.in_group.get(group, 0) + n
        out.without_plan[group] = out.without_plan.get(group, 0) + uncovered
        row = by_grid.setdefault(code, {"grid": code, "in_group": {}, "without_plan": {}})
        row["in_group"][group], row["without_plan"][group] = n, uncovered
    out.grids = list(by_grid.values())
    elderly = members.where(SpecialGroupMember.group == "elderly_alone").subquery()
    out.elderly_alone = session.execute(select(func.count()).select_from(elderly)).scalar_one()
    out.elderly_alone_cared = session.execute(
        _scoped(
            select(func.count()).where(
                SpecialGroupMember.group == "elderly_alone", CURRENT, _active_plan("doctor_volunteer")
            ),
            SpecialGroupMember.grid_id,
            principal,
        )
    ).scalar_one()
    camps = _scoped(
        select(func.count()).select_from(CampAttendance).join(CarePlan, CarePlan.id == CampAttendance.plan_id),
        CarePlan.grid_id,
        principal,
    )
    out.camp_attendances = session.execute(camps).scalar_one()
    for group in SPECIAL_GROUPS:
        out.in_group.setdefault(group, 0)
        out.without_plan.setdefault(group, 0)
    return out


def without_plan(
    session: Session, principal: Principal, *, group: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Members of a special group with no active care plan, grid by grid: the coverage
    list a caseworker works down (auditors and admins see every grid)."""
    require_registry(principal, write=False)
    stmt = (
        select(SpecialGroupMember, Member.name, Household.address, Grid.code)
        .join(Member, Member.id == SpecialGroupMember.member_id)
        .join(Household, Household.id == SpecialGroupMember.household_id)
        .join(Grid, Grid.id == SpecialGroupMember.grid_id)
        .where(~_active_plan(), CURRENT, Household.state == "active", Member.deceased_on.is_(None))
    )
    if group is not None:
        stmt = stmt.where(SpecialGroupMember.group == group)
    stmt = _scoped(stmt, SpecialGroupMember.grid_id, principal)
    rows = session.execute(stmt.order_by(Grid.code, SpecialGroupMember.known_on, SpecialGroupMember.id).limit(limit))
    return [
        {
            "grid": code,
            "household_id": rec.household_id,
            "member_id": rec.member_id,
            "member_name": name,
            "address": address,
            "group": rec.group,
            "source": rec.source,
            "known_on": rec.known_on,
        }
        for rec, name, address, code in rows.all()
    ]
