"""Messages to families by SMS: a grant paid, an application approved or rejected, the
one-time code that confirms a receipt, a follow-up due — in plain Chinese, never an ID
number, never an amount beyond what the family itself received.

:func:`send_to_family` stores the message as a text code with parameters and writes the
outbox row that sends it, in the caller's transaction. The job asks
:func:`broker.registry.consents.permits` for :data:`~broker.registry.consents.SMS` at the
moment it sends (a consent withdrawn meanwhile stops it: ``withheld``), reads the
household's phone as it is then, and calls the SMS gateway through Apprise with no
transaction open; a failure is retried with back-off like a notification.

The gateway is Apprise's SMSEagle service (``smseagle://`` / ``smseagles://``), whose
host is part of the URL: ``SMS_GATEWAY_URL=smseagles://<token>@sms.example.org``. The
number is appended per message. Without the setting nothing is sent (``failed``,
``sms_not_configured``).

A secret parameter (the receipt code) is sealed with the data key while it waits and
dropped from the row once the message has gone or failed."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import apprise
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import audit
from broker.people.notify import SEND_QUEUE
from broker.people.sending import Sent, backoff_seconds, error_code
from broker.platform import outbox, runtime, security, texts
from broker.platform.texts import N_
from broker.registry import consents
from models import FamilyMessage, Household
from models.base import utcnow

log = logging.getLogger(__name__)

SMS_KIND = "send_family_sms"
SEALED = "_sealed"
LOCALE = "zh_CN"  # families are written to in Chinese
MESSAGES = {
    "family.grant_paid": N_(
        "[Aid broker] %(partner)s has paid your family %(amount_fen)s. "
        "Please confirm with your caseworker that you received it."
    ),
    "family.application_approved": N_(
        "[Aid broker] Your application for %(policy)s has been approved. Your caseworker will tell you what comes next."
    ),
    "family.application_rejected": N_(
        "[Aid broker] Your application for %(policy)s was not approved. "
        "Your caseworker will explain why and what else can be done."
    ),
    "family.receipt_code": N_(
        "[Aid broker] Your code to confirm receipt is %(code)s, valid for %(minutes)s minutes. "
        "Give it only to your caseworker."
    ),
    "family.service_code": N_(
        "[Aid broker] Your code to confirm the volunteer's visit is %(code)s, valid for %(minutes)s minutes. "
        "Give it to the volunteer only if the service was done."
    ),
    "family.follow_up_due": N_(
        "[Aid broker] Your caseworker will visit again around %(date)s to see how your family is doing."
    ),
}
texts.define(MESSAGES)
_PHONE = re.compile(r"^\+?\d{7,15}$")


def phone_number(raw: str | None) -> str | None:
    """The household's phone as the gateway takes it (digits, an optional +), or None."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    return digits if _PHONE.match(digits) else None


def send_to_family(
    session: Session,
    household_id: int,
    code: str,
    params: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    secret: dict[str, str] | None = None,
) -> FamilyMessage:
    """Queue an SMS to the household (sent after the commit by a job, with the family's
    consent asked then). ``code`` is one of :data:`MESSAGES`; ``dedupe_key`` makes a
    repeat of the same event return the first message; ``secret`` parameters (a
    one-time code) are sealed until sending and never kept after."""
    if code not in MESSAGES:
        raise ValueError(f"unknown family message {code!r}")
    key = dedupe_key or f"{code}:{household_id}:{utcnow().isoformat()}"
    first = session.execute(select(FamilyMessage).where(FamilyMessage.dedupe_key == key)).scalar_one_or_none()
    if first is not None:
        return first
    stored = dict(params)
    if secret:
        stored[SEALED] = security.encrypt(json.dumps(secret)).decode()
    msg = FamilyMessage(household_id=household_id, code=code, params=stored, dedupe_key=key[:120])
    session.add(msg)
    session.flush()
    outbox.add(session, SMS_KIND, {"message_id": msg.id, "attempt": 1}, queue_name=SEND_QUEUE)
    return msg


def body(msg: FamilyMessage) -> str:
    """The text the family reads, in Chinese, the sealed parameters opened."""
    params = {k: v for k, v in (msg.params or {}).items() if k != SEALED}
    if sealed := (msg.params or {}).get(SEALED):
        params.update(json.loads(security.decrypt(sealed.encode())))
    return texts.render(msg.code, params, LOCALE)


def gateway_url(phone: str, settings: dict) -> str | None:
    """The Apprise URL of one SMS: the gateway, the number, our timeouts."""
    base = (settings.get("SMS_GATEWAY_URL") or "").rstrip("/")
    if not base:
        return None
    seconds = f"{float(settings['NOTIFY_TIMEOUT_SECONDS']):g}"
    return f"{base}/{phone}?{urlencode({'cto': seconds, 'rto': seconds})}"


def send_sms(phone: str, text: str, settings: dict) -> Sent:
    """Send one SMS now (no transaction may be open). Never raises for the gateway."""
    url = gateway_url(phone, settings)
    if url is None:
        return Sent(False, "sms_not_configured")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
            if plugin is None:
                return Sent(False, "bad_gateway_url")
            plugin.request_rate_per_sec = 0
            ok = bool(plugin.notify(body=text))
        except Exception:
            log.exception("SMS gateway raised")
            ok = False
        logs = captured.getvalue()
    return Sent(True) if ok else Sent(False, error_code(logs))


def _locked(session: Session, message_id: int) -> FamilyMessage | None:
    stmt = select(FamilyMessage).where(FamilyMessage.id == message_id).with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def prepare(session: Session, message_id: int, attempt: int) -> outbox.CallOut | None:
    """Claim one attempt of a pending message and return the call that sends it; None
    when there is nothing to send (already done, or withheld now for want of consent or
    of a phone number)."""
    msg = _locked(session, message_id)
    if msg is None or msg.status != "pending":
        return None
    if not consents.permits(session, msg.household_id, consents.SMS):
        _finish(session, msg, "withheld", "no_consent")
        return None
    phone = phone_number(session.scalar(select(Household.phone).where(Household.id == msg.household_id)))
    if phone is None:
        _finish(session, msg, "withheld", "no_phone")
        return None
    text = body(msg)
    msg.attempts = max(msg.attempts, attempt)
    settings = runtime.settings()
    return outbox.CallOut(
        call=lambda: send_sms(phone, text, settings),
        record=lambda s, sent: record(s, message_id, attempt, sent),
        lease_seconds=2 * float(settings["NOTIFY_TIMEOUT_SECONDS"]) + 30,
    )


def record(session: Session, message_id: int, attempt: int, sent: Sent) -> None:
    """Apply one attempt's result: sent; retried later; or, out of attempts (or with no
    gateway to try), failed."""
    msg = _locked(session, message_id)
    if msg is None or msg.status != "pending":
        return
    settings = runtime.settings()
    if sent.ok:
        _finish(session, msg, "sent", None)
        return
    if attempt >= int(settings["NOTIFY_MAX_ATTEMPTS"]) or sent.error_code in ("sms_not_configured", "bad_gateway_url"):
        _finish(session, msg, "failed", sent.error_code)
        return
    msg.last_error_code = sent.error_code
    due = utcnow() + timedelta(seconds=backoff_seconds(attempt, settings))
    outbox.add(session, SMS_KIND, {"message_id": message_id, "attempt": attempt + 1}, due_at=due, queue_name=SEND_QUEUE)
    log.info("family SMS %s: attempt %d failed: %s", message_id, attempt, sent.error_code)


def _finish(session: Session, msg: FamilyMessage, status: str, error: str | None) -> None:
    msg.status = status
    msg.last_error_code = error
    msg.params = {k: v for k, v in (msg.params or {}).items() if k != SEALED}
    if status == "sent":
        msg.sent_at = utcnow()
    session.flush()
    audit.record(
        session,
        f"family_message.{status}",
        msg,
        household_id=msg.household_id,
        after={"code": msg.code, "attempts": msg.attempts, "error": error},
    )
    log.log(logging.INFO if status == "sent" else logging.WARNING, "family SMS %s: %s", msg.id, status)


def messages_of(session: Session, household_id: int) -> list[FamilyMessage]:
    """The household's messages, newest first (the caller has checked it may be seen)."""
    stmt = select(FamilyMessage).where(FamilyMessage.household_id == household_id)
    return list(session.execute(stmt.order_by(FamilyMessage.id.desc())).scalars())


@outbox.handler(SMS_KIND)
def _send_job(session: Session, payload: dict) -> outbox.CallOut | None:
    return prepare(session, int(payload["message_id"]), int(payload.get("attempt", 1)))
