"""The double-entry ledger: accounts, transactions, entries, and disbursements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, JsonDoc, utcnow

# fund: a partner's money not yet promised; pledged: promised on accepted offers;
# beneficiary: what reached a household; external: the world outside (donors), the
# only account allowed below zero.
ACCOUNT_KINDS = ("fund", "pledged", "beneficiary", "external")


class Account(IdMixin, Base):
    """A ledger account. ``balance_fen`` is the running sum of its entries, updated in the
    same transaction as the entries under a row lock; the CHECK is the last line against
    overspend."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('fund','pledged','beneficiary','external')", name="kind"),
        CheckConstraint("kind = 'external' OR balance_fen >= 0", name="no_overdraft"),
        CheckConstraint("unit IN ('fen','point')", name="unit"),
    )

    # "fund:<partner>", "pledged:<partner>", "beneficiary:<household>", "external":
    # one account per key (a unique over nullable columns would let NULLs repeat).
    key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    balance_fen: Mapped[int] = mapped_column(Fen, default=0)
    # What the balance counts: money in fen, or family volunteer points (``point``: a
    # household's points are a ``beneficiary`` account keyed ``points:<household>``, the
    # points given and spent sit behind ``external`` accounts). Never mixed in one
    # transaction.
    unit: Mapped[str] = mapped_column(String(8), default="fen", server_default="fen")
    # A partner's ``fund`` and ``pledged`` accounts come in parts: one pair unrestricted
    # (NULL, keyed ``fund:<partner>``) and one pair per restriction on donated money
    # (keyed ``fund:<partner>:r<restriction>``).
    restriction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("fund_restrictions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTransaction(IdMixin, Base):
    """A balanced set of entries: deposit, pledge, release, disbursement, or the reversal
    of a disbursement recorded in error; in points, ``points_earn`` and ``points_redeem``
    (``amount_fen`` then counts points)."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('deposit','pledge','release','disbursement','reversal','points_earn','points_redeem')",
            name="kind",
        ),
        Index("ix_ledger_transactions_partner_created", "partner_id", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"))
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("offers.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    reference: Mapped[str] = mapped_column(String(120), default="")
    # Who gave the money, on deposits (a donor's name or organisation); empty otherwise.
    donor: Mapped[str] = mapped_column(String(120), default="")
    memo: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    entries: Mapped[list[Entry]] = relationship(back_populates="transaction", order_by="Entry.id")


class Entry(IdMixin, Base):
    """One leg of a transaction; the legs of a transaction sum to zero."""

    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),)

    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


class Disbursement(IdMixin, Base):
    """What reached the family on an offer, with its evidence: money (``cash``, the only
    kind that moves money in the ledger), a service session (``service``: when, how long,
    who delivered it) or goods (``in_kind``: items and quantities). The grouping columns
    are copied from the request so that reports are one GROUP BY.

    A partner's voucher numbers (``reference``) are unique: the same receipt recorded
    twice is a duplicate, not a second payment."""

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("kind IN ('cash','in_kind','service')", name="kind"),
        CheckConstraint("amount_fen >= 0", name="amount_nonneg"),
        CheckConstraint("minutes IS NULL OR minutes > 0", name="minutes_positive"),
        Index("ix_disbursements_created", "created_at"),
        Index(
            "uq_disbursements_partner_reference",
            "partner_id",
            "reference",
            unique=True,
            sqlite_where=text("reference <> ''"),
            postgresql_where=text("reference <> ''"),
        ),
    )

    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("offers.id"), index=True)
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Fen)
    kind: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(120), default="")
    evidence: Mapped[dict | None] = mapped_column(JsonDoc)
    transaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
    # A service session: the day, its length in minutes, who delivered it, notes.
    session_date: Mapped[date | None]
    minutes: Mapped[int | None]
    delivered_by: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Goods handed over: [{"name", "quantity", "unit"}].
    items: Mapped[list | None] = mapped_column(JsonDoc)
    actor: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
