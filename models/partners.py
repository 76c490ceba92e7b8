"""Partner organisations and how the broker reaches them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Fen, IdMixin, JsonDoc, TimestampMixin

PARTNER_KINDS = (
    "mutual_aid_fund",
    "charity",
    "red_cross",
    "company",
    "social_org",
    "volunteer_team",
)


class Partner(IdMixin, TimestampMixin, Base):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('mutual_aid_fund','charity','red_cross','company','social_org','volunteer_team')",
            name="kind",
        ),
        CheckConstraint("max_amount_fen IS NULL OR max_amount_fen >= 0", name="max_amount_nonneg"),
        CheckConstraint("respond_within_hours > 0", name="respond_positive"),
        CheckConstraint("receipt_within_days > 0", name="receipt_days_positive"),
    )

    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    adapter: Mapped[str] = mapped_column(String(40))
    adapter_config: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    categories: Mapped[list] = mapped_column(JsonDoc, default=list)
    regions: Mapped[list] = mapped_column(JsonDoc, default=list)
    max_amount_fen: Mapped[int | None] = mapped_column(Fen)
    respond_within_hours: Mapped[int] = mapped_column(default=48)
    active: Mapped[bool] = mapped_column(default=True)
    contact: Mapped[str] = mapped_column(String(120), default="")
    # A disbursement the family has not confirmed within this many days is listed as
    # unreceived for the caseworker, the partner and the auditor.
    receipt_within_days: Mapped[int] = mapped_column(default=7, server_default="7")
