"""Restricted funds (定向/专项): what a part of a partner's fund may pay for."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, JsonDoc, utcnow


class FundRestriction(IdMixin, Base):
    """The terms a donor set on money paid into a partner's fund: the need categories it
    may pay for, the grid codes of the households it may reach, the programme it belongs
    to, and the last day it may be offered. An empty list means no limit on that side.
    Each restriction has its own ``fund`` and ``pledged`` accounts (``Account.restriction_id``);
    deposits on the same terms into the same partner share one restriction."""

    __tablename__ = "fund_restrictions"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    categories: Mapped[list] = mapped_column(JsonDoc, default=list)
    regions: Mapped[list] = mapped_column(JsonDoc, default=list)
    programme: Mapped[str] = mapped_column(String(120), default="")
    expires_on: Mapped[date | None]
    actor: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
