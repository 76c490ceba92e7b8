"""How jobs and skills are going, in the grids the reader may see: course places
completed and members on a course now, placements and their retention at 3 and 6 months
(still working, of the follow-ups recorded), follow-ups due, and the home-based workers
with what they earned and the workshops' orders — the figures on the dashboards, and the
same as an XLSX workbook."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from broker.community import courses, home_work, openings
from broker.money import report_files
from broker.money.exports import Column
from broker.platform import texts
from broker.platform.errors import Forbidden
from broker.platform.scope import Principal
from broker.registry import region_tree
from broker.registry.access import visible_grid_ids
from models import Enrolment, HomeDelivery, HomeOrder, Opening, Placement, PlacementFollowUp

STAFF = ("caseworker", "auditor", "admin")


def _scoped(stmt: Any, column: Any, principal: Principal) -> Any:
    visible = visible_grid_ids(principal)
    return stmt if visible is None else stmt.where(column.in_(visible))


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(stmt).scalar_one() or 0)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _openings_here(session: Session, principal: Principal) -> list[Any]:
    """For an auditor or admin scoped to a region, the openings placed in it: on its grids,
    or district-wide in the district that is its node (work offered anywhere, or in
    another place, is the city's). Nothing for anyone else: every opening counts."""
    if not principal.scoped:
        return []
    node = region_tree.load(session).nodes.get(principal.region_id or 0)
    districts = [node.name] if node is not None and node.parent_id is None else []
    return [
        or_(
            Opening.grid_id.in_(sorted(principal.grid_ids) or [-1]),
            and_(Opening.grid_id.is_(None), Opening.district.in_(districts)),
        )
    ]


def figures(session: Session, principal: Principal) -> dict[str, Any]:
    """The jobs figures of the principal's grids (all, for auditors and admins of the
    whole installation; a scoped one's region, openings and orders included)."""
    if principal.role not in STAFF:
        raise Forbidden("The jobs figures are for caseworkers, auditors and admins.")
    here = _openings_here(session, principal)
    open_openings = list(session.execute(select(Opening).where(Opening.status == "open", *here)).scalars())
    positions_open = sum(max(0, o.positions - openings.filled(session, o.id)) for o in open_openings)
    enrolments = select(func.count()).select_from(Enrolment)
    completed = _count(
        session, _scoped(enrolments.where(Enrolment.status == "completed"), Enrolment.grid_id, principal)
    )
    enrolled = _count(session, _scoped(enrolments.where(Enrolment.status == "enrolled"), Enrolment.grid_id, principal))
    placements = _count(session, _scoped(select(func.count()).select_from(Placement), Placement.grid_id, principal))
    retention: dict[int, dict[str, Any]] = {}
    for months in (3, 6):
        done = _scoped(
            select(func.count())
            .select_from(PlacementFollowUp)
            .where(PlacementFollowUp.months == months, PlacementFollowUp.done_at.is_not(None)),
            PlacementFollowUp.grid_id,
            principal,
        )
        asked = _count(session, done)
        working = _count(session, done.where(PlacementFollowUp.still_working.is_(True)))
        retention[months] = {"followed_up": asked, "still_working": working, "pct": _pct(working, asked)}
    due = _count(
        session,
        _scoped(
            select(func.count())
            .select_from(PlacementFollowUp)
            .join(Placement, Placement.id == PlacementFollowUp.placement_id)
            .where(
                PlacementFollowUp.done_at.is_(None),
                PlacementFollowUp.due_on <= courses.today(),
                Placement.status == "active",
            ),
            PlacementFollowUp.grid_id,
            principal,
        ),
    )
    workers = home_work.earnings(session, principal)
    orders_stmt = select(func.count(), func.coalesce(func.sum(HomeOrder.amount_fen), 0))
    pieces_stmt = select(func.coalesce(func.sum(HomeDelivery.quantity), 0))
    if principal.scoped:
        orders_stmt = orders_stmt.join(Opening, Opening.id == HomeOrder.opening_id).where(*here)
        pieces_stmt = pieces_stmt.join(Placement, Placement.id == HomeDelivery.placement_id).where(
            Placement.grid_id.in_(sorted(principal.grid_ids) or [-1])
        )
    orders = session.execute(orders_stmt).one()
    pieces = _count(session, pieces_stmt)
    return {
        "openings_open": len(open_openings),
        "positions_open": positions_open,
        "courses_completed": completed,
        "enrolled": enrolled,
        "placements": placements,
        "retained_3": retention[3]["still_working"],
        "followed_up_3": retention[3]["followed_up"],
        "retention_3_pct": retention[3]["pct"],
        "retained_6": retention[6]["still_working"],
        "followed_up_6": retention[6]["followed_up"],
        "retention_6_pct": retention[6]["pct"],
        "follow_ups_due": due,
        "home_workers": len(workers),
        "home_earnings_fen": sum(r["earnings_fen"] for r in workers),
        "home_orders": int(orders[0]),
        "home_orders_fen": int(orders[1]),
        "home_pieces": pieces,
        "workers": workers,
    }


HEADLINES = (
    ("openings_open", "jobs.fig.openings_open"),
    ("positions_open", "jobs.fig.positions_open"),
    ("enrolled", "jobs.fig.enrolled"),
    ("courses_completed", "jobs.fig.courses_completed"),
    ("placements", "jobs.fig.placements"),
    ("retained_3", "jobs.fig.retained_3"),
    ("retained_6", "jobs.fig.retained_6"),
    ("follow_ups_due", "jobs.fig.follow_ups_due"),
    ("home_workers", "jobs.fig.home_workers"),
    ("home_orders", "jobs.fig.home_orders"),
)
COLUMNS = [
    Column("what", "jobs.col.figure", width=36),
    Column("workshop", "jobs.col.workshop", width=24),
    Column("count", "jobs.col.value", kind="int", width=12),
    Column("earnings", "jobs.col.earnings", kind="yuan", width=16),
]


def export(session: Session, principal: Principal) -> report_files.ExportFile:
    """The figures, then one row per home-based worker with her pieces and earnings."""
    found = figures(session, principal)
    rows: list[dict] = [
        {"what": texts.render(code), "workshop": "", "count": found[key], "earnings": None} for key, code in HEADLINES
    ]
    rows.append(
        {
            "what": texts.render("jobs.fig.home_earnings"),
            "workshop": "",
            "count": None,
            "earnings": found["home_earnings_fen"],
        }
    )
    for worker in found["workers"]:
        rows.append(
            {
                "what": worker["member_name"],
                "workshop": worker["workshop"],
                "count": worker["pieces"],
                "earnings": worker["earnings_fen"],
            }
        )
    return report_files.export_file("jobs", "xlsx", COLUMNS, rows, texts.render("jobs.sheet.summary"))
