"""Time to help: hours from a request to its completion, per category (how many
completed, the median and the 90th percentile), over the period in which they completed."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.money.report_basis import category_label, period_filter
from models import AidRequest


@dataclass(frozen=True)
class FulfilmentRow:
    category: str
    label: str
    completed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class FulfilmentReport:
    date_from: date | None
    date_to: date | None
    rows: list[FulfilmentRow]
    overall: FulfilmentRow
    by_region: Any = None  # a region_reports.Rollup, when a region was asked for


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _row(category: str, label: str, hours: list[float]) -> FulfilmentRow:
    hours.sort()
    med, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return FulfilmentRow(
        category=category,
        label=label,
        completed=len(hours),
        median_hours=None if med is None else round(med, 2),
        p90_hours=None if p90 is None else round(p90, 2),
    )


def completed_hours(
    session: Session, date_from: date | None, date_to: date | None, grids: frozenset[int] | None
) -> list[tuple[str, int, float]]:
    """Category, grid and hours to completion of each request completed in the period."""
    stmt = select(AidRequest.category, AidRequest.grid_id, AidRequest.created_at, AidRequest.completed_at).where(
        AidRequest.status == "completed",
        AidRequest.completed_at.is_not(None),
        period_filter(AidRequest.completed_at, date_from, date_to),
    )
    if grids is not None:
        stmt = stmt.where(AidRequest.grid_id.in_(sorted(grids) or [-1]))
    return [
        (r.category, r.grid_id, max(0.0, (r.completed_at - r.created_at).total_seconds() / 3600))
        for r in session.execute(stmt)
    ]


def fulfilment(
    session: Session,
    date_from: date | None = None,
    date_to: date | None = None,
    grids: frozenset[int] | None = None,
) -> FulfilmentReport:
    """Hours from request to completion, per category: how many completed, the median
    and the 90th percentile. The period selects requests by when they completed;
    ``grids`` limits it to requests of those grids (None: all)."""
    by_cat: dict[str, list[float]] = defaultdict(list)
    for category, _grid, hours in completed_hours(session, date_from, date_to, grids):
        by_cat[category].append(hours)
    everything = [h for hours in by_cat.values() for h in hours]
    return FulfilmentReport(
        date_from=date_from,
        date_to=date_to,
        rows=[_row(cat, category_label(cat), by_cat[cat]) for cat in sorted(by_cat)],
        overall=_row("all", "全部", everything),
    )
