"""Reversals (红冲): the correcting entry for a disbursement recorded in error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, Fen, IdMixin, utcnow

REVERSAL_STATUSES = ("pending", "approved", "rejected")


class Reversal(IdMixin, Base):
    """A proposal to reverse one disbursement, and its decision by a second person (four
    eyes). The disbursement itself is never edited: an approved reversal posts its own
    ledger transaction (``transaction_id``) beside the original. At most one reversal per
    disbursement is pending or approved (a rejected one may be proposed again)."""

    __tablename__ = "reversals"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','rejected')", name="status"),
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> proposed_by_id", name="four_eyes"),
    )

    disbursement_id: Mapped[int] = mapped_column(BigId, ForeignKey("disbursements.id"), index=True)
    # While pending or approved: the disbursement id, so that a unique index allows one
    # live reversal per disbursement; NULL once rejected.
    live_key: Mapped[int | None] = mapped_column(BigId, unique=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    proposed_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)
    transaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
