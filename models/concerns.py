"""A concern or complaint about the broker's help, raised by anyone (on the public page,
without an account) or recorded by a caseworker from the hotline: its public reference,
who answers it by when, its escalation and its closing answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin

CONCERN_KINDS = ("complaint", "not_received", "wrong_information", "objection", "other")
CONCERN_STATES = ("open", "escalated", "closed")
CONCERN_SOURCES = ("public", "hotline")


class Concern(IdMixin, TimestampMixin, Base):
    """One concern. ``reference`` is what the person who raised it looks it up by; the
    contact phone is kept encrypted and shown only to those who answer it."""

    __tablename__ = "concerns"
    __table_args__ = (
        CheckConstraint("kind IN ('complaint','not_received','wrong_information','objection','other')", name="kind"),
        CheckConstraint("state IN ('open','escalated','closed')", name="state"),
        CheckConstraint("source IN ('public','hotline')", name="source"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    source: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The short code it was raised from (a receipt slip's or a public notice's), as given.
    ref_code: Mapped[str] = mapped_column(String(40), default="")
    community: Mapped[str] = mapped_column(String(80), default="")
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notices.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    escalated_at: Mapped[datetime | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # The public form's one-time key: the same form sent twice files one concern.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
