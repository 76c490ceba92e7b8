"""What every report shares: the need categories' names, as text codes rendered in the
reader's language (``category.<code>``, which routing's reasons use too), and the filter
that selects rows by a period of local days. Kept apart so that each report family
imports it and none imports another."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, select

from broker.platform import periods, texts
from broker.platform.texts import N_
from models import Disbursement, Reversal

CATEGORY_NAMES = {
    "living": N_("Living aid"),
    "medical": N_("Medical aid"),
    "schooling": N_("Schooling aid"),
    "employment": N_("Job support"),
    "counselling": N_("Counselling"),
    "emergency": N_("Emergency grant"),
    "in_kind": N_("In-kind goods"),
}
texts.define({f"category.{code}": msgid for code, msgid in CATEGORY_NAMES.items()})


def category_label(code: str) -> str:
    """A category's name in the reader's language; an unknown code as it is."""
    return texts.render(f"category.{code}") if code in CATEGORY_NAMES else str(code)


def period_filter(column: Any, date_from: date | None, date_to: date | None) -> ColumnElement:
    start, end = periods.bounds(date_from, date_to)
    conds = []
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return and_(literal(True), *conds)


def not_reversed() -> ColumnElement[bool]:
    """Disbursements that stand: reports count the net, so a disbursement whose reversal
    (红冲) was approved counts nowhere (the ledger still shows both)."""
    return ~exists(
        select(Reversal.id).where(Reversal.disbursement_id == Disbursement.id, Reversal.status == "approved")
    )
