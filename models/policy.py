"""Applications for government policies, filed by the caseworker on the family's behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
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
    # The department's reference number (受理编号), given when it takes the file in.
    reference: Mapped[str] = mapped_column(String(80), default="", server_default="")
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


class ApplicationFile(IdMixin, Base):
    """A scan or photo of one checklist document, kept in the instance folder under a
    random name (``token``) and served only to those who may see the household."""

    __tablename__ = "application_files"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id"), index=True)
    document_code: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
