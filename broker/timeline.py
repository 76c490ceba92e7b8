"""A request's timeline, read from the audit log: every state change of the request, its
offers and its money, with who did it and — for routing — why this partner and not
those. Nothing is kept twice: the audit log is the record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from models import AuditEvent


def actor_label(actor: str) -> str:
    """``user:7:li.wei`` → ``li.wei``; system and adapter actors stay as they are."""
    kind, _, rest = actor.partition(":")
    if kind == "user" and rest.count(":") >= 1:
        return rest.split(":", 1)[1]
    return actor


def _details(row: AuditEvent) -> dict[str, Any]:
    before = audit.loads(row.before) or {}
    after = audit.loads(row.after) or {}
    details = audit.loads(row.details) or {}
    merged: dict[str, Any] = {**after, **details}
    if "status" in before and before.get("status") != after.get("status"):
        merged["from_status"] = before["status"]
    if row.object_type == "offers":
        merged.setdefault("offer_id", row.object_id)
    return merged


def events(session: Session, request_id: int) -> list[dict[str, Any]]:
    """The request's events, oldest first: ``at``, ``actor``, ``event``, ``details``."""
    rows = session.execute(select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id))
    return [
        {"at": row.at, "actor": actor_label(row.actor), "event": row.action, "details": _details(row)}
        for row in rows.scalars()
    ]
