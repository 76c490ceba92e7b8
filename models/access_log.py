"""Who read a household's sensitive fields: one row per read (not on the audit chain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, utcnow

SENSITIVE_FIELDS = ("id_number", "health", "minors")


class AccessLog(IdMixin, Base):
    """A user read ``fields`` (full ID numbers, health conditions, minors' details) of the
    household's ``member_ids`` at ``at``, through ``reason`` (the page or API call).

    A table of its own, not the audit chain: reads are many times more frequent than
    changes, they change nothing that the chain must prove, and an erased person's reads
    must be erasable with them; the chain's rows are append-only and hashed for ever."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_household_at", "household_id", "at"),
        Index("ix_access_log_user_at", "user_id", "at"),
    )

    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    member_ids: Mapped[list] = mapped_column(JsonDoc, default=list)
    fields: Mapped[list] = mapped_column(JsonDoc, default=list)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
