"""Volunteers, the tasks their teams hand out, each volunteer's claim on a task, and the
service record a confirmed claim leaves (the Ministry of Civil Affairs' 志愿服务记录).

A team is a partner of kind ``volunteer_team``; its leaders are that partner's users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, TimestampMixin, utcnow

VOLUNTEER_STATES = ("pending", "active", "rejected")
TASK_KINDS = ("visit", "escort", "tutoring", "repairs", "delivery", "other")
TASK_STATES = ("open", "done", "cancelled")
CLAIM_STATES = ("claimed", "checked_in", "checked_out", "confirmed", "withdrawn")
TASK_CANCEL_REASONS = ("family_declined", "need_met", "no_volunteers", "rescheduled", "entered_in_error", "other")


class Volunteer(IdMixin, TimestampMixin, Base):
    """A person who gives time through a team: signed up (with consent), then approved by
    the team's leader. The ID number is kept as members' are: encrypted, with a keyed hash."""

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint("status IN ('pending','active','rejected')", name="status"),
        Index("ix_volunteers_team_status", "team_id", "status"),
    )

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    skills: Mapped[list] = mapped_column(JsonDoc, default=list)
    languages: Mapped[list] = mapped_column(JsonDoc, default=list)
    availability: Mapped[str] = mapped_column(String(200), default="")
    grids: Mapped[list] = mapped_column(JsonDoc, default=list)  # grid codes covered
    # The registry household the volunteer belongs to: its family earns volunteer points.
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(String(200), default="")


class VolunteerTask(IdMixin, Base):
    """One piece of a service request a team leader hands to members: what, where, when,
    how many people. ``claimed`` counts live claims, read and raised under the task's lock."""

    __tablename__ = "volunteer_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('visit','escort','tutoring','repairs','delivery','other')", name="kind"),
        CheckConstraint("status IN ('open','done','cancelled')", name="status"),
        CheckConstraint("slots > 0 AND claimed >= 0 AND claimed <= slots", name="slots"),
        Index("ix_volunteer_tasks_team_status", "team_id", "status"),
    )

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    offer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("offers.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    slots: Mapped[int] = mapped_column(default=1)
    claimed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # When the need was asked of the team (the offer's creation, else the task's): the
    # start of the response time the report measures.
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_claim_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    cancelled_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]


class TaskClaim(IdMixin, Base):
    """A volunteer's place on a task, from claim through check-in and check-out to the
    family's confirmation; a confirmation code the family got by SMS is kept only hashed."""

    __tablename__ = "task_claims"
    __table_args__ = (
        UniqueConstraint("task_id", "volunteer_id"),
        CheckConstraint("status IN ('claimed','checked_in','checked_out','confirmed','withdrawn')", name="status"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes"),
    )

    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteer_tasks.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="claimed")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    minutes: Mapped[int | None]
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)


class ServiceRecord(IdMixin, Base):
    """A volunteer service record as the Ministry's rules ask: who (the volunteer), what
    (the task's kind and title), where, when (in and out), hours, for whom (the household,
    by id), verified by whom and how. Written once, when the family confirms."""

    __tablename__ = "service_records"
    __table_args__ = (
        CheckConstraint("minutes >= 0", name="minutes"),
        CheckConstraint("method IN ('caseworker','code','leader')", name="method"),
        Index("ix_service_records_volunteer_started", "volunteer_id", "started_at"),
    )

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("task_claims.id"), unique=True)
    volunteer_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteers.id"))
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteer_tasks.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    minutes: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    verified_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict] = mapped_column(JsonDoc, default=dict)
