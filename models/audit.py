"""The append-only, hash-chained audit log, and the readable details of each event kept
beside it where they can be erased."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from models.base import Base, BigId, IdMixin


class AuditEvent(IdMixin, Base):
    """One state change. ``hash`` = SHA-256(prev_hash + canonical content); the content
    names people only by id and carries ``digest``, a keyed HMAC of the readable details
    (:class:`AuditDetail`), never the details themselves. A transaction writes its events
    unchained (no position, no hashes); the chainer gives them ``chain_seq``, their place
    in the chain (commit order, which ids do not follow), with ``prev_hash`` and ``hash``.
    The database refuses DELETE, and every UPDATE but that one (triggers in the
    migrations)."""

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
    # HMAC-SHA256 (hex) of the details' canonical before, after and details.
    digest: Mapped[str] = mapped_column(String(64))
    # Set once, by the chainer; NULL while the event is in the unchained tail.
    chain_seq: Mapped[int | None] = mapped_column(BigId, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditDetail(Base):
    """What an event changed, readable: one row per event, with the event's id. Not
    hashed into the chain (the event's ``digest`` guards it), so that a person's data can
    be erased from it (``erased_at`` set, the text masked or gone) without breaking the
    chain."""

    __tablename__ = "audit_details"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    # Canonical JSON text (sorted keys, no spaces), digested exactly as stored.
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None]
    erasure_id: Mapped[int | None] = mapped_column(BigId)


# An event reads with its details, as it did when they were one row.
AuditEvent.before = column_property(
    select(AuditDetail.before).where(AuditDetail.id == AuditEvent.id).correlate_except(AuditDetail).scalar_subquery()
)
AuditEvent.after = column_property(
    select(AuditDetail.after).where(AuditDetail.id == AuditEvent.id).correlate_except(AuditDetail).scalar_subquery()
)
AuditEvent.details = column_property(
    select(AuditDetail.details).where(AuditDetail.id == AuditEvent.id).correlate_except(AuditDetail).scalar_subquery()
)
