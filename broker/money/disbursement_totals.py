"""Disbursements grouped by partner, category, grid or local month: what the auditor's
dashboard charts and the disbursement report read.

One GROUP BY over the ``disbursements`` table, whose grouping columns are copied there
from the request for exactly this reason; names are joined after aggregation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from broker.money.report_basis import category_label, not_reversed, period_filter
from broker.platform import periods
from broker.platform.errors import Invalid
from models import Disbursement, Grid, Partner

GROUPINGS = ("partner", "category", "grid", "month")


@dataclass(frozen=True)
class ReportRow:
    key: str | int | None
    label: str
    count: int
    amount_fen: int


@dataclass(frozen=True)
class DisbursementReport:
    group_by: str
    date_from: date | None
    date_to: date | None
    rows: list[ReportRow]
    count: int
    amount_fen: int
    by_region: Any = None  # a region_reports.Rollup, when a region was asked for


def in_grids(grids: frozenset[int] | None) -> ColumnElement[bool]:
    """Disbursements to households of ``grids`` (None: all)."""
    return true() if grids is None else Disbursement.grid_id.in_(sorted(grids) or [-1])


def grid_totals(
    session: Session, date_from: date | None, date_to: date | None, grids: frozenset[int] | None
) -> dict[int, tuple[int, int]]:
    """Count and sum of disbursements per grid (for the region roll-ups)."""
    rows = session.execute(
        select(Disbursement.grid_id, func.count(), func.sum(Disbursement.amount_fen))
        .where(period_filter(Disbursement.created_at, date_from, date_to), not_reversed(), in_grids(grids))
        .group_by(Disbursement.grid_id)
    )
    return {gid: (int(n), int(s or 0)) for gid, n, s in rows}


def _month_key(session: Session) -> ColumnElement:
    """The disbursement's month in local time, computed by the database: the first of
    the month on PostgreSQL (date_trunc is much cheaper than to_char per row), ``YYYY-MM``
    on SQLite. :func:`_month_label` spells both ``YYYY-MM``."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone(periods.zone_name(), Disbursement.created_at))
    return func.strftime("%Y-%m", Disbursement.created_at, f"{periods.utc_offset_hours():+.4f} hours")


def _month_label(key: Any) -> str:
    return key.strftime("%Y-%m") if isinstance(key, datetime) else str(key)


_by_key = attrgetter("key")  # months, spelled YYYY-MM


def _largest_first(row: ReportRow) -> tuple:
    return (-row.amount_fen, row.key is None, row.key if row.key is not None else "")


def _label(group_by: str, row: Any) -> str:
    """What a person reads for a group: the partner's or grid's name, the category's
    Chinese name, the month."""
    if group_by == "month":
        return _month_label(row.k)
    if group_by == "category":
        return category_label(row.k)
    return str(row.label or row.k)


def disbursement_report(
    session: Session,
    group_by: str = "partner",
    date_from: date | None = None,
    date_to: date | None = None,
    grids: frozenset[int] | None = None,
) -> DisbursementReport:
    """Count and sum of disbursements per partner, category, grid or local month, over
    the local days ``date_from``..``date_to`` (inclusive; either open); ``grids`` limits
    it to the households of those grids (a scoped reader's, or a region's)."""
    if group_by not in GROUPINGS:
        raise Invalid(f"group_by must be one of {', '.join(GROUPINGS)}", details={"group_by": ["unknown grouping"]})
    key = {
        "partner": Disbursement.partner_id,
        "category": Disbursement.category,
        "grid": Disbursement.grid_id,
        "month": _month_key(session),
    }[group_by]
    agg = (
        select(key.label("k"), func.count().label("n"), func.sum(Disbursement.amount_fen).label("s"))
        .where(period_filter(Disbursement.created_at, date_from, date_to), not_reversed(), in_grids(grids))
        .group_by(key)
        .subquery()
    )
    if group_by == "partner":
        stmt = select(agg, Partner.name.label("label")).outerjoin(Partner, Partner.id == agg.c.k)
    elif group_by == "grid":
        stmt = select(agg, (Grid.name + " (" + Grid.code + ")").label("label")).outerjoin(Grid, Grid.id == agg.c.k)
    else:
        stmt = select(agg, agg.c.k.label("label"))
    # Ordered here, not in SQL: the groups are few, and an ORDER BY over the grouped key
    # made PostgreSQL sort a million rows to group them instead of hashing them.
    rows = sorted(
        (
            ReportRow(
                key=_month_label(r.k) if group_by == "month" else r.k,
                label=_label(group_by, r),
                count=int(r.n),
                amount_fen=int(r.s or 0),
            )
            for r in session.execute(stmt)
        ),
        key=_by_key if group_by == "month" else _largest_first,
    )
    return DisbursementReport(
        group_by=group_by,
        date_from=date_from,
        date_to=date_to,
        rows=rows,
        count=sum(r.count for r in rows),
        amount_fen=sum(r.amount_fen for r in rows),
    )
