"""The caller's own notifications: newest first (or only the unread) and marking one as
read. Each item carries its text code, the parameters and the message rendered in the
caller's stored language (Chinese by default)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.schemas.common import PageArgs, page_of
from broker.people import inbox, notice_texts, users
from broker.platform import db

blp = Blueprint("notifications", __name__, description="What the broker tells you: your notifications.")


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(metadata={"description": "`true`: only the notifications not yet read."})


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "What happened, as a text code."})
    params = fields.Dict(required=True, metadata={"description": "The code's parameters (money in fen)."})
    message = fields.String(required=True, metadata={"description": "The text in your language."})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


def _out(note: Any, locale: str) -> dict[str, Any]:
    return {
        "id": note.id,
        "code": note.code,
        "params": note.params,
        "message": notice_texts.render(note.code, note.params, locale),
        "created_at": note.created_at,
        "read_at": note.read_at,
    }


def _locale(user_id: int) -> str:
    return users.get_user(db.session(), user_id).locale or notice_texts.DEFAULT_LOCALE


@blp.route("/notifications")
class Notifications(MethodView):
    @require()
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, page_of(NotificationOut))
    def get(self, args: dict) -> dict[str, Any]:
        """Your notifications, newest first; `?unread=true` for those not yet read."""
        principal = current_principal()
        page = inbox.list_notifications(db.session(), principal.user_id, **args)
        locale = _locale(principal.user_id)
        return {**page.as_dict(), "items": [_out(n, locale) for n in page.items]}


@blp.route("/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @require()
    @blp.response(200, NotificationOut)
    @blp.alt_response(404, description="not_found: no such notification of yours.")
    def post(self, notification_id: int) -> dict[str, Any]:
        """Mark one of your notifications as read (again: no change)."""
        principal = current_principal()
        note = inbox.mark_read(db.session(), principal.user_id, notification_id)
        db.commit()
        return _out(note, _locale(principal.user_id))
