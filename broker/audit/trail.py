"""Reading the trail: the events as people read them, filtered and paged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent

if TYPE_CHECKING:
    from broker.platform.pages import Page


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


@dataclass(frozen=True)
class EventView:
    """An audit event as people read it: JSON fields parsed, hashes shown."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None
    household_id: int | None
    request_id: int | None
    before: Any
    after: Any
    details: Any
    prev_hash: str
    hash: str


def events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    household_id: int | None = None,
    request_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = 50,
    newest_first: bool = True,
) -> Page:
    """One page (:class:`broker.platform.pages.Page`) of the trail, filtered by object, household,
    request, actor or action."""
    from broker.platform.pages import Page  # at call time: the registry itself records audit events

    stmt = select(AuditEvent)
    for column, value in (
        (AuditEvent.object_type, object_type),
        (AuditEvent.object_id, object_id),
        (AuditEvent.household_id, household_id),
        (AuditEvent.request_id, request_id),
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id
    rows = session.execute(stmt.order_by(order).limit(per_page).offset((page - 1) * per_page)).scalars()
    items = [
        EventView(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            household_id=r.household_id,
            request_id=r.request_id,
            before=loads(r.before),
            after=loads(r.after),
            details=loads(r.details),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows
    ]
    return Page(items, page, per_page, total)
