"""Sending a notification on a user's channels (email, WeCom and DingTalk group robots)
through Apprise, from the outbox job that the notification's transaction wrote.

The job renders the message in the recipient's stored language and calls out with no
transaction open (:class:`broker.platform.outbox.CallOut`); the result is recorded on
the delivery row (status, attempts, last error code, ``sent_at``). A failure is retried
as a new outbox row due ``NOTIFY_BACKOFF_SECONDS * 2^(attempt-1)`` later, up to
``NOTIFY_MAX_ATTEMPTS``, then the delivery is ``failed``; each channel is its own row,
so one failing never holds up the others or the portal inbox.

Apprise's WeCom and DingTalk robot plugins post to the vendors' fixed hosts. We use
those plugins (they build the payloads, and DingTalk's signature, as the vendors
expect) and point them at ``WECOM_ROBOT_URL`` / ``DINGTALK_ROBOT_URL``, whose defaults
are the vendors' own addresses: a deployment behind a relay, and the tests' local
receiver, set another. Apprise's generic ``json://`` would reach any host but post a
body neither robot understands."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import apprise
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people import channels, notice_texts
from broker.people.notify import SEND_KIND, SEND_QUEUE
from broker.platform import outbox, runtime
from models import Notification, NotificationDelivery, User
from models.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    ok: bool
    error_code: str | None = None


@dataclass(frozen=True)
class Message:
    channel: str
    target: dict
    title: str
    body: str


def backoff_seconds(attempt: int, settings: dict) -> float:
    """The wait before attempt ``attempt + 1``."""
    return float(settings["NOTIFY_BACKOFF_SECONDS"]) * 2 ** (attempt - 1)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _url(msg: Message, settings: dict) -> str | None:
    """The Apprise URL of one message, with our timeouts (connect and read)."""
    seconds = f"{float(settings['NOTIFY_TIMEOUT_SECONDS']):g}"
    timeouts = {"cto": seconds, "rto": seconds}
    if msg.channel == "email":
        if not settings.get("NOTIFY_SMTP_URL"):
            return None
        return _with_query(settings["NOTIFY_SMTP_URL"], {"to": msg.target["address"], **timeouts})
    if msg.channel == "wecom":
        return _with_query(f"wecombot://{quote(msg.target['key'], safe='')}/", timeouts)
    secret = msg.target.get("secret")
    signed = quote(secret, safe="") + "@" if secret else ""
    return _with_query(f"dingtalk://{signed}{quote(msg.target['token'], safe='')}/", timeouts)


def _plugin(msg: Message, settings: dict) -> apprise.plugins.NotifyBase | None:
    """The Apprise plugin for one message, pointed where the settings say."""
    url = _url(msg, settings)
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True) if url else None
    if plugin is None:
        return None
    if msg.channel == "wecom":
        plugin.api_url = settings["WECOM_ROBOT_URL"].format(key=msg.target["key"])
    elif msg.channel == "dingtalk":
        plugin.notify_url = settings["DINGTALK_ROBOT_URL"]
    plugin.request_rate_per_sec = 0  # our back-off paces retries, not Apprise's throttle
    return plugin


def error_code(logs: str) -> str:
    """A short code for why Apprise could not send, from what it logged (never the log
    itself: it may name the address)."""
    if m := re.search(r"error=(\d{3})", logs):
        return f"http_{m.group(1)}"
    lowered = logs.lower()
    if "authentication" in lowered:
        return "smtp_auth"
    if "timed out" in lowered or "timeout" in lowered:
        return "timeout"
    if "connection" in lowered or "socket" in lowered or "refused" in lowered:
        return "connection_failed"
    return "not_delivered"


def send(msg: Message, settings: dict) -> Sent:
    """Send one message now (no transaction may be open). Never raises for the channel."""
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            plugin = _plugin(msg, settings)
            if plugin is None:
                return Sent(False, "email_not_configured" if msg.channel == "email" else "bad_channel")
            ok = bool(plugin.notify(body=msg.body, title=msg.title))
        except Exception:
            log.exception("notification channel %s raised", msg.channel)
            ok = False
        logs = captured.getvalue()
    return Sent(True) if ok else Sent(False, error_code(logs))


def _locked(session: Session, delivery_id: int) -> NotificationDelivery | None:
    stmt = select(NotificationDelivery).where(NotificationDelivery.id == delivery_id).with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def prepare(session: Session, delivery_id: int, attempt: int) -> outbox.CallOut | None:
    """Claim attempt ``attempt`` of a pending delivery and return the call that sends it;
    None when there is nothing (more) to send."""
    delivery = _locked(session, delivery_id)
    if delivery is None or delivery.status != "pending":
        return None
    note = session.get(Notification, delivery.notification_id)
    user = session.get(User, note.user_id)
    row = channels.find(session, user.id, delivery.channel)
    if row is None:  # the user removed the channel meanwhile
        _finish(session, delivery, Sent(False, "channel_removed"))
        return None
    locale = user.locale or notice_texts.DEFAULT_LOCALE
    msg = Message(
        channel=delivery.channel,
        target=channels.stored_target(row),
        title=notice_texts.render("title", None, locale),
        body=notice_texts.render(note.code, note.params, locale),
    )
    delivery.attempts = max(delivery.attempts, attempt)
    settings = runtime.settings()
    return outbox.CallOut(
        call=lambda: send(msg, settings),
        record=lambda s, sent: record(s, delivery_id, attempt, sent),
        lease_seconds=2 * float(settings["NOTIFY_TIMEOUT_SECONDS"]) + 30,
    )


def record(session: Session, delivery_id: int, attempt: int, sent: Sent) -> None:
    """Apply one attempt's result: sent; or retried later; or, out of attempts, failed."""
    delivery = _locked(session, delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    settings = runtime.settings()
    if sent.ok or attempt >= int(settings["NOTIFY_MAX_ATTEMPTS"]):
        _finish(session, delivery, sent)
        return
    delivery.last_error_code = sent.error_code
    due = utcnow() + timedelta(seconds=backoff_seconds(attempt, settings))
    payload = {"delivery_id": delivery_id, "attempt": attempt + 1}
    outbox.add(session, SEND_KIND, payload, due_at=due, queue_name=SEND_QUEUE)
    log.info(
        "notification delivery %s (%s): attempt %d failed: %s", delivery_id, delivery.channel, attempt, sent.error_code
    )


def _finish(session: Session, delivery: NotificationDelivery, sent: Sent) -> None:
    delivery.status = "sent" if sent.ok else "failed"
    delivery.last_error_code = sent.error_code
    if sent.ok:
        delivery.sent_at = utcnow()
    session.flush()
    audit.record(
        session,
        f"notification.{delivery.status}",
        delivery,
        after={
            "channel": delivery.channel,
            "attempts": delivery.attempts,
            "error": sent.error_code,
            "notification_id": delivery.notification_id,
        },
    )
    log.log(
        logging.INFO if sent.ok else logging.WARNING,
        "notification delivery %s (%s): %s",
        delivery.id,
        delivery.channel,
        delivery.status,
    )


@outbox.handler(SEND_KIND)
def _send_job(session: Session, payload: dict) -> outbox.CallOut | None:
    return prepare(session, int(payload["delivery_id"]), int(payload.get("attempt", 1)))
