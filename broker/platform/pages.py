"""Pagination: one page of a list and how it sits in the whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    """One page of a list: ``items`` and how they sit in the whole."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "page": self.page, "per_page": self.per_page, "total": self.total}


def paginate(session: Session, stmt: Select, page: int, per_page: int) -> Page:
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().unique().all()
    return Page(list(rows), page, per_page, total)
