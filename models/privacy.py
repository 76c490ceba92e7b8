"""Erasing a person's or a household's personal data: the request, its approval, and
what was done (also by the retention job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, utcnow


class Erasure(IdMixin, Base):
    """One erasure: of a member or a whole household, of some record kinds (all, for a
    request; those past their retention period, for the retention job). A request is
    made by an admin and approved by an auditor before it runs; the retention job's
    erasures are approved by the settings. ``report`` counts what was erased where."""

    __tablename__ = "erasures"

    scope: Mapped[str] = mapped_column(String(20))  # member | household
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    kinds: Mapped[list] = mapped_column(JsonDoc, default=list)
    origin: Mapped[str] = mapped_column(String(20), default="request")  # request | retention
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested | approved | done
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    report: Mapped[dict] = mapped_column(JsonDoc, default=dict)
