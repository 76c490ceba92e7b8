"""Applications for government policies, filed by the caseworker on the family's behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, JsonDoc, TimestampMixin, utcnow

APPLICATION_STATUSES = (
    "documents-gathering",
    "submitted",
    "under-review",
    "approved",
    "rejected",
    "withdrawn",
)


class Application(IdMixin, TimestampMixin, Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(
            "status IN ('documents-gathering','submitted','under-review','approved','rejected','withdrawn')",
            name="status",
        ),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    policy_code: Mapped[str] = mapped_column(String(40), index=True)
    policy_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(24), default="documents-gathering")
    documents: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    department: Mapped[str] = mapped_column(String(120), default="")
    deadline_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    steps: Mapped[list[ApplicationStep]] = relationship(order_by="ApplicationStep.id")


class ApplicationStep(IdMixin, Base):
    __tablename__ = "application_steps"

    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict] = mapped_column(JsonDoc, default=dict)
