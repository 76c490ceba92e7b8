"""Care plans: a member of a special group paired with carers — a mentor (梦想导师), or a
family doctor and a volunteer — on a schedule; the contacts they record, the contacts
missed, and growth-camp (成长营) attendance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin, utcnow

CARER_ROLES = ("mentor", "doctor", "volunteer")
PLAN_KINDS = ("mentor", "doctor_volunteer")
# Days between contacts, per schedule.
SCHEDULE_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 30}
PLAN_STATUSES = ("active", "ended")
CONTACT_CHANNELS = ("visit", "phone", "video", "camp")


class Carer(IdMixin, Base):
    """A person who cares: name, role, phone, organisation; ``partner_id`` when the
    organisation is one of the broker's partners (its users then see the plans naming it)."""

    __tablename__ = "carers"
    __table_args__ = (CheckConstraint("role IN ('mentor','doctor','volunteer')", name="role"),)

    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(30), default="")
    organisation: Mapped[str] = mapped_column(String(120), default="")
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarePlan(IdMixin, TimestampMixin, Base):
    """One member's care plan. ``next_due_at`` is when the next contact is due: a contact
    moves it on by the schedule; passing it with no contact records a miss and alerts the
    caseworkers, once."""

    __tablename__ = "care_plans"
    __table_args__ = (
        CheckConstraint("kind IN ('mentor','doctor_volunteer')", name="kind"),
        CheckConstraint("schedule IN ('weekly','fortnightly','monthly')", name="schedule"),
        CheckConstraint("status IN ('active','ended')", name="status"),
        Index("ix_care_plans_status_next_due_at", "status", "next_due_at"),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    group: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(20))
    schedule: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(8), default="active")
    starts_on: Mapped[date] = mapped_column(Date)
    next_due_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    carers: Mapped[list[CarePlanCarer]] = relationship(cascade="all, delete-orphan", order_by="CarePlanCarer.id")


class CarePlanCarer(IdMixin, Base):
    """A carer named on a plan."""

    __tablename__ = "care_plan_carers"
    __table_args__ = (UniqueConstraint("plan_id", "carer_id"),)

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("care_plans.id"), index=True)
    carer_id: Mapped[int] = mapped_column(BigId, ForeignKey("carers.id"), index=True)

    carer: Mapped[Carer] = relationship()


class CareContact(IdMixin, Base):
    """A contact a carer made: who, when, how, what, the concerns raised; whether it came
    by the due date; the assessment a concern opened, if any."""

    __tablename__ = "care_contacts"
    __table_args__ = (CheckConstraint("channel IN ('visit','phone','video','camp')", name="channel"),)

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("care_plans.id"), index=True)
    carer_id: Mapped[int] = mapped_column(BigId, ForeignKey("carers.id"))
    contacted_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str] = mapped_column(Text, default="")
    concerns: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime]
    on_time: Mapped[bool] = mapped_column(default=True)
    new_assessment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("assessments.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareMiss(IdMixin, Base):
    """A contact due and not made: one row per plan and due date (so a check run twice
    records one miss), with when the caseworkers were told."""

    __tablename__ = "care_misses"
    __table_args__ = (UniqueConstraint("plan_id", "due_at"),)

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("care_plans.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    due_at: Mapped[datetime]
    alerted_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampSession(IdMixin, Base):
    """A growth-camp session (成长营) on a day, and the mentored children who came."""

    __tablename__ = "camp_sessions"

    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampAttendance(IdMixin, Base):
    """A child of a care plan at a camp session (once per session)."""

    __tablename__ = "camp_attendance"
    __table_args__ = (UniqueConstraint("session_id", "plan_id"),)

    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("camp_sessions.id"), index=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("care_plans.id"), index=True)
