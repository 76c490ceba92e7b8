"""A user's own notifications: the list (newest first, or only the unread), the unread
count every portal page shows, and marking one or all as read. Nobody reads another
user's notifications: another's id is "not found"."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from broker import audit
from broker.platform.errors import NotFound
from broker.platform.pages import Page, paginate
from models import Notification
from models.base import utcnow


def list_notifications(
    session: Session, user_id: int, *, unread: bool = False, page: int = 1, per_page: int = 50
) -> Page:
    """The user's notifications, newest first; only the unread with ``unread``."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(session, stmt.order_by(Notification.id.desc()), page, per_page)


def unread_count(session: Session, user_id: int) -> int:
    """One count over the (user, read_at) index."""
    stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return session.execute(stmt).scalar_one()


def get_own(session: Session, user_id: int, notification_id: int) -> Notification:
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise NotFound("No such notification.")
    return note


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications as read (again: no change)."""
    note = get_own(session, user_id, notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        session.flush()
        audit.record(session, "notification.read", note, after={"read_at": note.read_at.isoformat()})
    return note


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the user as read; how many were."""
    now = utcnow()
    done = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        audit.record(
            session, "notification.all_read", object_type="users", object_id=user_id, after={"marked_read": done}
        )
    return done
