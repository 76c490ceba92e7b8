"""The region tree: district or county (区/县) → street or town (街道/乡镇) → community or
village (社区/村); each grid hangs under a community or village node."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin

# A node's kind, by level: 1 district/county, 2 street/town, 3 community/village.
REGION_KINDS = ("district", "county", "street", "town", "community", "village")


class Region(IdMixin, TimestampMixin, Base):
    """A node of the tree. A district or county has no parent; every other node's parent
    is one level up. Codes are unique and never change: partners' regions, restrictions
    and users' scopes refer to them."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("kind IN ('district','county','street','town','community','village')", name="kind"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("regions.id"), index=True)
