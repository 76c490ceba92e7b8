"""Aid requests (one per need) and the offers made to partners for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, JsonDoc, TimestampMixin

REQUEST_STATUSES = (
    "requested",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "failed",
)
OFFER_STATUSES = (
    "requested",
    "received",
    "accepted",
    "rejected",
    "in-progress",
    "completed",
    "cancelled",
    "failed",
)


# What a need asks for, decided in one place from its category and whether it names an
# amount: ``money`` (it has an amount; only money touches the ledger), ``service`` (a
# counselling or job-support need without one: sessions are recorded) or ``in_kind``
# (any other need without an amount: goods are handed over).
NEED_KINDS = ("money", "service", "in_kind")
SERVICE_CATEGORIES = ("counselling", "employment")


def need_kind(category: str, amount_fen: int | None) -> str:
    """``money``, ``service`` or ``in_kind``: how help for this need is given and recorded."""
    if amount_fen is not None:
        return "money"
    return "service" if category in SERVICE_CATEGORIES else "in_kind"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


class AidRequest(IdMixin, TimestampMixin, Base):
    """One request per need (like a FHIR ServiceRequest). ``funded_fen`` is the sum of the
    amounts partners have accepted; it is kept in step by the domain under a row lock."""

    __tablename__ = "aid_requests"
    __table_args__ = (
        CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint("funded_fen >= 0", name="funded_nonneg"),
        Index("ix_aid_requests_status_category", "status", "category"),
    )

    need_id: Mapped[int] = mapped_column(BigId, ForeignKey("needs.id"), unique=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    funded_fen: Mapped[int] = mapped_column(Fen, default=0)
    disbursed_fen: Mapped[int] = mapped_column(Fen, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="requested")
    status_reason: Mapped[str | None] = mapped_column(Text)
    held_from: Mapped[str | None] = mapped_column(String(16))
    routing_round: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]

    offers: Mapped[list[Offer]] = relationship(back_populates="request", order_by="Offer.id")

    @property
    def kind(self) -> str:
        """``money``, ``service`` or ``in_kind`` (see :func:`need_kind`)."""
        return need_kind(self.category, self.amount_fen)


class Offer(IdMixin, TimestampMixin, Base):
    """A request put to one partner (like a FHIR Task owned by that partner)."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(_in("status", OFFER_STATUSES), name="status"),
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
        CheckConstraint("accepted_fen >= 0", name="accepted_nonneg"),
        UniqueConstraint("request_id", "partner_id"),
        Index("ix_offers_partner_status", "partner_id", "status"),
        Index("ix_offers_status_respond_by", "status", "respond_by"),
    )

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    status_reason: Mapped[str | None] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    accepted_fen: Mapped[int] = mapped_column(Fen, default=0)
    disbursed_fen: Mapped[int] = mapped_column(Fen, default=0)
    respond_by: Mapped[datetime]
    rank: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JsonDoc, default=list)
    delivery_attempts: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime | None]

    request: Mapped[AidRequest] = relationship(back_populates="offers")
