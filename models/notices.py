"""A public notice (公示) of government aid for one community: the period it is posted
for, and the households on it as they may be shown (masked names)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, utcnow


class Notice(IdMixin, Base):
    """A notice posted in a community from ``starts_on`` to ``ends_on`` (local days, both
    inclusive); ``code`` is printed on it and leads to the public concern page."""

    __tablename__ = "notices"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period"),)

    code: Mapped[str] = mapped_column(String(16), unique=True)
    community: Mapped[str] = mapped_column(String(80), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[NoticeEntry]] = relationship(order_by="NoticeEntry.id", cascade="all, delete-orphan")


class NoticeEntry(IdMixin, Base):
    """One approved application on a notice, as posted: the masked name, the household's
    size, the policy (its name is rendered from the catalogue), the amount and period."""

    __tablename__ = "notice_entries"
    __table_args__ = (UniqueConstraint("notice_id", "application_id"),)

    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("notices.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id"), index=True)
    masked_name: Mapped[str] = mapped_column(String(40))
    household_size: Mapped[int]
    policy_code: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    period: Mapped[str] = mapped_column(String(16), default="")
    approved_on: Mapped[date | None] = mapped_column(Date)
