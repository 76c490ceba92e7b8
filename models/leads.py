"""Mobile grid members (移动网格员) and their leads: an outside reporter — a courier, a
neighbour — with a light account of the ``reporter`` role, and each household the
reporter thinks may need help, which lands on the grid's caseworker list until a
caseworker visits (linking the household) or closes it with a coded reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin

REPORTER_KINDS = ("courier", "neighbour", "other")
LEAD_URGENCIES = ("normal", "urgent", "critical")
LEAD_STATES = ("new", "visited", "closed")
LEAD_CLOSE_REASONS = ("duplicate", "not_found", "no_need", "moved_away", "already_known", "other")


class Reporter(IdMixin, TimestampMixin, Base):
    """A mobile grid member: who (name, phone), for which organisation (a delivery company,
    a property manager, none), signed up with consent from a phone."""

    __tablename__ = "reporters"
    __table_args__ = (CheckConstraint("kind IN ('courier','neighbour','other')", name="kind"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    organisation: Mapped[str] = mapped_column(String(80), default="")
    consent_at: Mapped[datetime]


class Lead(IdMixin, TimestampMixin, Base):
    """A report of a household that may need help: where (address, the community, the grid
    when located), what the reporter saw, how urgent, an optional photo (kept as
    :mod:`broker.platform.photos` keeps them), and what came of it."""

    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint("urgency IN ('normal','urgent','critical')", name="urgency"),
        CheckConstraint("status IN ('new','visited','closed')", name="status"),
        CheckConstraint(
            "close_reason IS NULL OR close_reason IN "
            "('duplicate','not_found','no_need','moved_away','already_known','other')",
            name="close_reason",
        ),
        Index("ix_leads_grid_status", "grid_id", "status"),
        Index("ix_leads_community_status", "community", "status"),
    )

    reporter_id: Mapped[int] = mapped_column(BigId, ForeignKey("reporters.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("grids.id"))
    community: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200))
    seen: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    photo_token: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(20))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="new")
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("visits.id"))
    close_reason: Mapped[str | None] = mapped_column(String(20))
    handled_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]
