"""Where a user's notifications go besides the portal (email, WeCom and DingTalk group
robots), and what was sent on each of those channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, utcnow

CHANNELS = ("email", "wecom", "dingtalk")
DELIVERY_STATUSES = ("pending", "sent", "failed")


class NotificationChannel(IdMixin, TimestampMixin, Base):
    """One channel a user chose. The address or robot key is a secret: stored encrypted,
    shown back only as ``hint`` (a masked form)."""

    __tablename__ = "notification_channels"
    __table_args__ = (
        UniqueConstraint("user_id", "channel"),
        CheckConstraint("channel IN ('email','wecom','dingtalk')", name="channel"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))
    target_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    hint: Mapped[str] = mapped_column(String(80), default="")


class NotificationDelivery(IdMixin, Base):
    """A notification sent (or being sent) on one channel: its attempts, the code of the
    last error, and when it went out."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        CheckConstraint("status IN ('pending','sent','failed')", name="status"),
    )

    notification_id: Mapped[int] = mapped_column(BigId, ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
