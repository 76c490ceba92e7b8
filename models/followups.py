"""Follow-up visits (回访): after a request completes, the caseworker goes back to the
family to see whether the need is met, how satisfied the family is, and whether a new
need has appeared."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin

# ``scheduled`` until its day comes, ``due`` once the caseworkers were told, ``recorded``
# once the visit is written down.
FOLLOW_UP_STATUSES = ("scheduled", "due", "recorded")
NEED_MET = ("yes", "partly", "no")


class FollowUp(IdMixin, TimestampMixin, Base):
    """One follow-up visit per completed request (``request_id`` is unique, so that a
    completion processed twice schedules one visit)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled','due','recorded')", name="status"),
        CheckConstraint("need_met IS NULL OR need_met IN ('yes','partly','no')", name="need_met"),
        CheckConstraint("satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)", name="satisfaction"),
        Index("ix_follow_ups_status_due_at", "status", "due_at"),
    )

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("aid_requests.id"), unique=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    due_at: Mapped[datetime]
    # When the caseworkers were told it is due (by the scheduled job or the reconciler).
    notified_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    need_met: Mapped[str | None] = mapped_column(String(8))
    satisfaction: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    # The assessment the visit started when the family had a new need.
    new_assessment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("assessments.id"))
