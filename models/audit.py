"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin


class AuditEvent(IdMixin, Base):
    """One state change. ``hash`` = SHA-256(prev_hash + canonical content); the database
    refuses UPDATE and DELETE on this table (triggers in the migration)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_request", "request_id"),
        Index("ix_audit_events_household", "household_id"),
    )

    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigId)
    household_id: Mapped[int | None] = mapped_column(BigId)
    request_id: Mapped[int | None] = mapped_column(BigId)
    # Canonical JSON text (sorted keys, no spaces), hashed exactly as stored.
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
