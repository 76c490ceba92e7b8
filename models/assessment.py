"""Needs assessments and the needs they find."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, utcnow

CATEGORIES = (
    "living",
    "medical",
    "schooling",
    "employment",
    "counselling",
    "emergency",
    "in_kind",
)
URGENCIES = ("critical", "high", "normal")


class Assessment(IdMixin, Base):
    __tablename__ = "assessments"

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    assessed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    needs: Mapped[list[Need]] = relationship(back_populates="assessment", order_by="Need.id")


class Need(IdMixin, Base):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(
            "category IN ('living','medical','schooling','employment','counselling','emergency','in_kind')",
            name="category",
        ),
        CheckConstraint("urgency IN ('critical','high','normal')", name="urgency"),
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
    )

    assessment_id: Mapped[int] = mapped_column(BigId, ForeignKey("assessments.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    description: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[Assessment] = relationship(back_populates="needs")
