"""What every report shares: the need categories' Chinese names, as auditors read them,
and the filter that selects rows by a period of local days. Kept apart so that each
report family imports it and none imports another."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, literal

from broker.platform import periods

CATEGORY_LABELS = {
    "living": "生活救助",
    "medical": "医疗援助",
    "schooling": "助学帮扶",
    "employment": "就业支持",
    "counselling": "心理慰藉",
    "emergency": "应急金",
    "in_kind": "实物帮扶",
}


def period_filter(column: Any, date_from: date | None, date_to: date | None) -> ColumnElement:
    start, end = periods.bounds(date_from, date_to)
    conds = []
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return and_(literal(True), *conds)
