"""People who sign in, their API tokens, their grids, and what the broker tells them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, JsonDoc, TimestampMixin, utcnow

ROLES = ("caseworker", "partner", "auditor", "admin", "volunteer", "reporter")


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('caseworker','partner','auditor','admin','volunteer','reporter')", name="role"),
        CheckConstraint("role <> 'partner' OR partner_id IS NOT NULL", name="partner_bound"),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    # An auditor's or admin's scope: the node of the region tree they answer for (all below
    # it); NULL: the whole installation.
    region_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("regions.id"), index=True)

    grids: Mapped[list[UserGrid]] = relationship(back_populates="user", cascade="all, delete-orphan")


class UserGrid(Base):
    """A caseworker's responsibility for a grid (a caseworker may hold several)."""

    __tablename__ = "user_grids"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(BigId, ForeignKey("grids.id"), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="grids")


class ApiToken(IdMixin, Base):
    """A bearer token, stored only as its SHA-256."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Notification(IdMixin, Base):
    """Something a user must see (a request no partner could take, an offer answered, an
    application past its deadline), stored as a text code and its parameters: it is
    rendered in the reader's language when it is shown or sent, never stored as a
    sentence."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        # The unread count on every page: one index range per user.
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
