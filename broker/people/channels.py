"""The channels a user chooses for notifications besides the portal: an email address,
a WeCom (企业微信) group robot, a DingTalk (钉钉) group robot.

A robot's key is a secret (whoever holds it may post into the group), and so is an
address: each is stored encrypted and shown back only as a hint (``w***@example.org``,
``…3f9a``). A robot may be given as the webhook URL its group shows, or as the bare key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import runtime, security
from broker.platform.errors import Invalid
from models import NotificationChannel, User
from models.notifications import CHANNELS

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
WECOM_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
DINGTALK_TOKEN = re.compile(r"^[A-Za-z0-9]{16,128}$")
DINGTALK_SECRET = re.compile(r"^[A-Za-z0-9]{8,128}$")
WECOM_HOST, DINGTALK_HOST = "qyapi.weixin.qq.com", "oapi.dingtalk.com"


@dataclass(frozen=True)
class Chosen:
    """A channel as its owner sees it: never the secret itself."""

    channel: str
    hint: str


def _from_url(value: str, host: str, param: str) -> str:
    """The key in a robot's webhook URL (``https://<host>/…?<param>=KEY``), or ``value``
    itself when it is not a URL."""
    if "://" not in value:
        return value
    parts = urlsplit(value)
    if parts.scheme != "https" or parts.hostname != host:
        return ""
    found = parse_qs(parts.query).get(param) or [""]
    return found[0]


def parse(channel: str, target: str, secret: str = "") -> dict[str, str]:
    """Check what was typed for ``channel``; the stored form. Raises :class:`Invalid`
    with a code per field (``not_an_email``, ``not_a_robot``, ``not_a_secret``)."""
    target, secret = (target or "").strip(), (secret or "").strip()
    if channel == "email":
        if len(target) > 254 or not EMAIL.match(target):
            raise Invalid("not an email address", details={"target": ["not_an_email"]})
        return {"address": target}
    if channel == "wecom":
        key = _from_url(target, WECOM_HOST, "key")
        if not WECOM_KEY.match(key):
            raise Invalid("not a WeCom robot webhook", details={"target": ["not_a_robot"]})
        return {"key": key}
    if channel == "dingtalk":
        token = _from_url(target, DINGTALK_HOST, "access_token")
        if not DINGTALK_TOKEN.match(token):
            raise Invalid("not a DingTalk robot webhook", details={"target": ["not_a_robot"]})
        if secret and not DINGTALK_SECRET.match(secret):
            raise Invalid("not a DingTalk signing secret", details={"secret": ["not_a_secret"]})
        return {"token": token, "secret": secret}
    raise Invalid("unknown channel", details={"channel": ["unknown_channel"]})


def hint(channel: str, stored: dict[str, str]) -> str:
    """What the owner is shown of a stored channel: enough to recognise it, no more."""
    if channel == "email":
        name, _, domain = stored["address"].partition("@")
        return f"{name[:1]}***@{domain}"
    key = stored.get("key") or stored.get("token") or ""
    return f"…{key[-4:]}"


def email_available() -> bool:
    """Email is sent only where the broker has a mail server."""
    return bool(runtime.settings().get("NOTIFY_SMTP_URL"))


def chosen(session: Session, user_id: int) -> list[Chosen]:
    rows = session.execute(
        select(NotificationChannel).where(NotificationChannel.user_id == user_id).order_by(NotificationChannel.channel)
    ).scalars()
    return [Chosen(r.channel, r.hint) for r in rows]


def find(session: Session, user_id: int, channel: str) -> NotificationChannel | None:
    stmt = select(NotificationChannel).where(
        NotificationChannel.user_id == user_id, NotificationChannel.channel == channel
    )
    return session.execute(stmt).scalar_one_or_none()


def stored_target(row: NotificationChannel) -> dict[str, str]:
    """The decrypted target of a channel (for sending only)."""
    return json.loads(security.decrypt(row.target_encrypted))


def choose(session: Session, user_id: int, channel: str, target: str, secret: str = "") -> Chosen:
    """Set (or replace) the user's ``channel``. Audited without the secret."""
    stored = parse(channel, target, secret)
    user = session.get(User, user_id)
    row = find(session, user_id, channel)
    if row is not None and stored_target(row) == stored:
        return Chosen(channel, row.hint)  # the same again (a form sent twice): nothing to change
    before = {"channel": channel, "hint": row.hint} if row else None
    if row is None:
        row = NotificationChannel(user_id=user_id, channel=channel)
        session.add(row)
    row.target_encrypted = security.encrypt(json.dumps(stored))
    row.hint = hint(channel, stored)
    session.flush()
    audit.record(session, "user.channel_set", user, before=before, after={"channel": channel, "hint": row.hint})
    return Chosen(channel, row.hint)


def remove(session: Session, user_id: int, channel: str) -> bool:
    """Stop sending on ``channel``; True if it was set (removing twice is no error)."""
    if channel not in CHANNELS:
        raise Invalid("unknown channel", details={"channel": ["unknown_channel"]})
    row = find(session, user_id, channel)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(session, "user.channel_removed", session.get(User, user_id), before={"channel": channel})
    return True
