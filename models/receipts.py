"""What the family says back: a disbursement's receipt (签收), the one-time codes sent
to the family's phone to confirm one, and the messages sent to families by SMS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, utcnow

# How the family confirmed: signed on the caseworker's screen, a photo of the signed
# slip, or the one-time code sent to the family's phone.
RECEIPT_METHODS = ("signature", "photo", "code")
FAMILY_MESSAGE_STATUSES = ("pending", "sent", "failed", "withheld")


class Receipt(IdMixin, Base):
    """The family confirmed that a disbursement reached it; one per disbursement. The
    image (a signature or a photo of the signed slip) is kept in the instance folder
    under ``file``'s random token, with its SHA-256."""

    __tablename__ = "receipts"
    __table_args__ = (CheckConstraint("method IN ('signature','photo','code')", name="method"),)

    disbursement_id: Mapped[int] = mapped_column(BigId, ForeignKey("disbursements.id"), unique=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    file: Mapped[dict | None] = mapped_column(JsonDoc)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceiptCode(IdMixin, Base):
    """A one-time code sent to the family's phone to confirm a receipt: only its keyed
    hash is kept; it expires, and allows a few wrong tries."""

    __tablename__ = "receipt_codes"
    __table_args__ = (Index("ix_receipt_codes_disbursement_created", "disbursement_id", "created_at"),)

    disbursement_id: Mapped[int] = mapped_column(BigId, ForeignKey("disbursements.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FamilyMessage(IdMixin, Base):
    """An SMS to a family: a text code and its parameters, sent after the commit by a
    job (to the household's phone as it is then, if the family still agrees). ``withheld``:
    no consent or no phone at sending time. ``dedupe_key`` keeps one message per event."""

    __tablename__ = "family_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sent','failed','withheld')", name="status"),
        Index("ix_family_messages_household_created", "household_id", "created_at"),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    code: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
