"""Aid requests (one per need) and the offers made to partners for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, JsonDoc, TimestampMixin

if TYPE_CHECKING:
    from models.assessment import Need
    from models.policy import PolicyHold
    from models.registry import Household

# A request's status, as a FHIR ServiceRequest's: ``active`` while help is being found or
# given, ``on-hold``, ``completed``, ``revoked`` (withdrawn, with a coded reason) and
# ``entered-in-error``. Beside it, where routing stands (see broker.referral.lifecycle).
REQUEST_STATUSES = (
    "active",
    "on-hold",
    "completed",
    "revoked",
    "entered-in-error",
)
ROUTING_STATES = (
    "routing",
    "offered",
    "partly-covered",
    "covered",
    "unmatched",
)
# Why a caseworker withdraws a request (``revoked``); the words are the portal's.
REVOKE_REASONS = (
    "need_met_elsewhere",
    "family_declined",
    "family_moved",
    "no_longer_eligible",
    "duplicate",
    "other",
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
        CheckConstraint(_in("routing_state", ROUTING_STATES), name="routing_state"),
        CheckConstraint("funded_fen >= 0", name="funded_nonneg"),
        Index("ix_aid_requests_status_category", "status", "category"),
        Index("ix_aid_requests_routing_state", "routing_state"),
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
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    held_from: Mapped[str | None] = mapped_column(String(16))
    routing_state: Mapped[str] = mapped_column(String(16), default="routing")
    # Why routing found nobody (``unmatched``): a code, the gap, and each partner left
    # out with its reason code and parameters, for the portal to render.
    routing_reasons: Mapped[dict | None] = mapped_column(JsonDoc)
    # The caseworker's choice: route again by itself when a partner or fund appears.
    auto_retry: Mapped[bool] = mapped_column(default=False)
    routing_round: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]

    offers: Mapped[list[Offer]] = relationship(back_populates="request", order_by="Offer.id")
    # What government policies are expected to cover of it (see models.policy.PolicyHold).
    policy_holds: Mapped[list[PolicyHold]] = relationship(order_by="PolicyHold.id", viewonly=True)
    # The need it was made for: a new need and its request are written in one flush.
    need: Mapped[Need] = relationship()
    # Read-only: while a routing holds the request, it holds the household and its
    # members too, so the policy check, the consent and the disclosure read them once.
    household: Mapped[Household] = relationship(viewonly=True)

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
        # A partner may be asked again for what it left unpaid, when it says it can give more.
        Index("ix_offers_request_partner", "request_id", "partner_id"),
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
    # When the partner completed it (help given in full, or all it could give).
    completed_at: Mapped[datetime | None]
    # Set when the partner completes saying it can give more for this request.
    more_available: Mapped[bool] = mapped_column(default=False)

    request: Mapped[AidRequest] = relationship(back_populates="offers")
