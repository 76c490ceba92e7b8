"""Applications for government policies, filed by the caseworker on the family's behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, Fen, IdMixin, JsonDoc, TimestampMixin, utcnow

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


# A policy hold: the part of a money request a government policy is expected to cover,
# kept back from the charities while the household's application is undecided. ``held``
# until the application is decided: ``covered`` (approved: the policy pays that part),
# ``released`` (rejected or withdrawn: routed to charities at once) or ``overridden``
# (the caseworker routed the whole need at once, with a recorded reason).
POLICY_HOLD_STATUSES = ("held", "covered", "released", "overridden")


class PolicyHold(IdMixin, TimestampMixin, Base):
    __tablename__ = "policy_holds"
    __table_args__ = (
        CheckConstraint("status IN ('held','covered','released','overridden')", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("request_id", "policy_code", name="uq_policy_holds_request_policy"),
    )

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    policy_code: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(20))
    # The application the hold waits for: the open one when the hold was made, or the one
    # that decided it; none while nothing is filed.
    application_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("applications.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16), default="held")
    # The caseworker's reason for an override, in their own words.
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
