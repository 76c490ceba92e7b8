"""Family volunteer points (家庭志愿积分): each community's rules, what a household
earned and from which service, the points shop's items and what was redeemed. The
points themselves are balances in the ledger (accounts of unit ``point``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class PointsRule(IdMixin, TimestampMixin, Base):
    """How a community rewards one kind of volunteer activity: points per hour, and at
    most ``monthly_cap`` points a household may earn for it in one calendar month."""

    __tablename__ = "points_rules"
    __table_args__ = (
        UniqueConstraint("community", "activity"),
        CheckConstraint("points_per_hour > 0", name="rate_positive"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="cap_positive"),
    )

    community: Mapped[str] = mapped_column(String(80), index=True)
    activity: Mapped[str] = mapped_column(String(40))
    points_per_hour: Mapped[int]
    monthly_cap: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(60), default="")


class PointsEarning(IdMixin, Base):
    """Points a household earned for volunteer service, once per source (a service
    record, a caseworker's entry): ``source_ref`` is unique, so the same hours are paid
    once however often they are sent. ``points`` may be below the rule's rate where the
    monthly cap cut it (even to zero)."""

    __tablename__ = "points_earnings"
    __table_args__ = (
        UniqueConstraint("source_ref"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("points >= 0", name="points_nonneg"),
        Index("ix_points_earnings_household_month", "household_id", "month"),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    community: Mapped[str] = mapped_column(String(80))
    activity: Mapped[str] = mapped_column(String(40))
    minutes: Mapped[int]
    points: Mapped[int]
    capped: Mapped[bool] = mapped_column(default=False)
    month: Mapped[str] = mapped_column(String(7))  # the local month served, YYYY-MM
    served_on: Mapped[datetime] = mapped_column(default=utcnow)
    source_ref: Mapped[str] = mapped_column(String(120))
    transaction_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
    actor: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ShopItem(IdMixin, TimestampMixin, Base):
    """Goods or a service in a community's points shop, usually donated by a partner;
    ``stock`` never goes below zero (the CHECK is the last line)."""

    __tablename__ = "points_shop_items"
    __table_args__ = (
        CheckConstraint("kind IN ('goods','service')", name="kind"),
        CheckConstraint("price_points > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_nonneg"),
    )

    community: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10), default="goods")
    price_points: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"))
    active: Mapped[bool] = mapped_column(default=True)


class Redemption(IdMixin, Base):
    """A household exchanged points for ``quantity`` of a shop item."""

    __tablename__ = "points_redemptions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("points > 0", name="points_positive"),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_shop_items.id"), index=True)
    quantity: Mapped[int]
    points: Mapped[int]
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_transactions.id"))
    actor: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
