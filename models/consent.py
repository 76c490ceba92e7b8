"""Consent records: what a household member (or, for a minor, their guardian) agreed to,
purpose by purpose, with the evidence and, once withdrawn, who withdrew it and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, utcnow

CONSENT_PURPOSES = ("share_with_partners", "public_notice", "sms", "points", "volunteer_contact")


class Consent(IdMixin, Base):
    """One agreement of one member to one purpose. ``member_id`` is the person it is
    about; ``guardian_member_id`` the household member who agreed for a minor.
    ``partner_kinds`` narrows sharing to some kinds of partner (empty: every kind). A
    record is never changed but to be withdrawn; agreeing again is a new record."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('share_with_partners','public_notice','sms','points','volunteer_contact')",
            name="purpose",
        ),
        Index("ix_consents_household_purpose", "household_id", "purpose"),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    # Null only for an agreement carried over from before members were recorded: the head's.
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id", ondelete="CASCADE"), index=True)
    guardian_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(30))
    partner_kinds: Mapped[list] = mapped_column(JsonDoc, default=list)
    # A reference to the signed form (its number, where it is filed), and its photo if kept.
    evidence: Mapped[str] = mapped_column(String(200), default="")
    evidence_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(Integer)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    withdrawn_by: Mapped[str | None] = mapped_column(String(80))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
