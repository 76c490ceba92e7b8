"""Jobs and skills: openings (岗位) posted by companies and workshops, skills courses
(技能培训) with their enrolments and attendance, placements with their 3- and 6-month
follow-ups, and home-based production (巧手脱贫): a workshop's orders and what each
worker delivered and earned."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, Fen, IdMixin, TimestampMixin, utcnow

OPENING_KINDS = ("factory", "service", "handicraft", "care", "agriculture", "office", "other")
PAY_UNITS = ("month", "day", "piece")
OPEN_STATUSES = ("open", "closed")
ENROLMENT_STATUSES = ("enrolled", "completed", "withdrawn")
PLACEMENT_STATUSES = ("active", "ended")
FOLLOW_UP_MONTHS = (3, 6)
ORDER_STATUSES = ("open", "delivered")


class Opening(IdMixin, TimestampMixin, Base):
    """A job a company or a workshop (a partner) offers: what, where (a grid, or a whole
    district), how many hours a week, the pay, whether flexible or home-based, how many
    positions; open until closed."""

    __tablename__ = "openings"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('factory','service','handicraft','care','agriculture','office','other')", name="kind"
        ),
        CheckConstraint("pay_unit IN ('month','day','piece')", name="pay_unit"),
        CheckConstraint("status IN ('open','closed')", name="status"),
        CheckConstraint("positions >= 1", name="positions"),
        CheckConstraint("pay_fen >= 0", name="pay"),
    )

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(60), default="")
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    district: Mapped[str] = mapped_column(String(80), default="")
    hours_per_week: Mapped[int]
    pay_fen: Mapped[int] = mapped_column(Fen)
    pay_unit: Mapped[str] = mapped_column(String(8), default="month")
    flexible: Mapped[bool] = mapped_column(default=False)
    home_based: Mapped[bool] = mapped_column(default=False)
    positions: Mapped[int]
    status: Mapped[str] = mapped_column(String(8), default="open")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class Course(IdMixin, TimestampMixin, Base):
    """A skills course: the skill, who teaches it, when (a schedule in words and a number
    of sessions), how many it takes, where."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("status IN ('open','closed')", name="status"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("sessions >= 1", name="sessions"),
    )

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    skill: Mapped[str] = mapped_column(String(60))
    teacher: Mapped[str] = mapped_column(String(80))
    schedule: Mapped[str] = mapped_column(String(200), default="")
    sessions: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int]
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    district: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class Enrolment(IdMixin, TimestampMixin, Base):
    """A household member on a course (once per course), perhaps for an employment
    request: enrolled, then completed or withdrawn."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("status IN ('enrolled','completed','withdrawn')", name="status"),
        UniqueConstraint("course_id", "member_id"),
    )

    course_id: Mapped[int] = mapped_column(BigId, ForeignKey("courses.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="enrolled")
    completed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class CourseAttendance(IdMixin, Base):
    """An enrolled member came to session ``session_no`` of the course (once)."""

    __tablename__ = "course_attendance"
    __table_args__ = (UniqueConstraint("enrolment_id", "session_no"),)

    enrolment_id: Mapped[int] = mapped_column(BigId, ForeignKey("enrolments.id"), index=True)
    session_no: Mapped[int]
    attended_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Placement(IdMixin, TimestampMixin, Base):
    """A household member placed in an opening, from a start date, at a pay; followed up
    at 3 and 6 months."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("status IN ('active','ended')", name="status"),
        CheckConstraint("pay_fen >= 0", name="pay"),
        UniqueConstraint("opening_id", "member_id"),
    )

    opening_id: Mapped[int] = mapped_column(BigId, ForeignKey("openings.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("aid_requests.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    pay_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class PlacementFollowUp(IdMixin, Base):
    """The 3- or 6-month follow-up of a placement: due on a date; once done, whether the
    member is still working and what they earned in the last month."""

    __tablename__ = "placement_follow_ups"
    __table_args__ = (
        CheckConstraint("months IN (3, 6)", name="months"),
        CheckConstraint("earnings_fen IS NULL OR earnings_fen >= 0", name="earnings"),
        UniqueConstraint("placement_id", "months"),
        Index("ix_placement_follow_ups_grid_id_done_at_due_on", "grid_id", "done_at", "due_on"),
    )

    placement_id: Mapped[int] = mapped_column(BigId, ForeignKey("placements.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"))
    months: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None]
    still_working: Mapped[bool | None]
    earnings_fen: Mapped[int | None] = mapped_column(Fen)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class HomeOrder(IdMixin, TimestampMixin, Base):
    """An order a home-based workshop took: the buyer, the items, how many, the amount."""

    __tablename__ = "home_orders"
    __table_args__ = (
        CheckConstraint("status IN ('open','delivered')", name="status"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("amount_fen >= 0", name="amount"),
    )

    opening_id: Mapped[int] = mapped_column(BigId, ForeignKey("openings.id"), index=True)
    buyer: Mapped[str] = mapped_column(String(120))
    items: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(Fen)
    ordered_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class HomeDelivery(IdMixin, Base):
    """Pieces a home worker (a placement in the workshop's opening) delivered against an
    order, and what she earned for them."""

    __tablename__ = "home_deliveries"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("earnings_fen >= 0", name="earnings"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("home_orders.id"), index=True)
    placement_id: Mapped[int] = mapped_column(BigId, ForeignKey("placements.id"), index=True)
    quantity: Mapped[int]
    earnings_fen: Mapped[int] = mapped_column(Fen)
    delivered_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
