"""Special groups in the registry (留守儿童, 困境儿童, 流动儿童, 孤寡老人, 残疾人): which
member belongs to which group, since when, and how the caseworker knows it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, utcnow

SPECIAL_GROUPS = ("left_behind_child", "child_in_difficulty", "migrant_child", "elderly_alone", "disabled")
GROUP_SOURCES = ("survey", "visit", "civil_affairs", "self_report")
CHILD_GROUPS = ("left_behind_child", "child_in_difficulty", "migrant_child")
# Why a member left a group: the parents came home or the family's lot changed, the family
# moved away, the child grew out of it, or it was recorded in error.
END_REASONS = ("circumstances_changed", "moved_away", "aged_out", "recorded_in_error")


class SpecialGroupMember(IdMixin, Base):
    """One member in one special group (a member is in a group once), with the source of
    the knowledge (a survey, a visit, the civil-affairs list, the family's own word), the
    date it was known and, once the member has left the group, the day and the reason."""

    __tablename__ = "special_group_members"
    __table_args__ = (
        UniqueConstraint("member_id", "group"),
        CheckConstraint(
            "\"group\" IN ('left_behind_child','child_in_difficulty','migrant_child','elderly_alone','disabled')",
            name="group",
        ),
        CheckConstraint("source IN ('survey','visit','civil_affairs','self_report')", name="source"),
        CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('circumstances_changed','moved_away','aged_out','recorded_in_error')",
            name="end_reason",
        ),
    )

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    group: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(16))
    known_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The member left the group on this day (a left-behind child whose parents came home):
    # kept for the record, out of coverage and care from then on.
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(24))
    ended_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
