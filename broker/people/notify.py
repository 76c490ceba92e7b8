"""Notifications to caseworkers: what happened to their requests and applications comes
back to the people who answer for the household — the caseworkers of its grid and
whoever created the request or application — so that no household is left waiting
unseen.

Each event is stored once per recipient (a repeat of the same event is not stored or
sent again) as a text code and its parameters (:mod:`.notice_texts`). Besides the
portal inbox, each recipient's chosen channels get a delivery row and an outbox row in
the same transaction; a job sends it after the commit (:mod:`.sending`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform import outbox
from broker.registry import grids
from models import AidRequest, Notification, NotificationChannel, NotificationDelivery, Offer, Partner

SEND_KIND = "send_notification"
SEND_QUEUE = "deliveries"  # network calls, beside the partners' webhooks
OFFER_EVENTS = ("accepted", "rejected", "expired")


def notify(session: Session, recipients: list[int], code: str, params: dict, dedupe_key: str) -> list[int]:
    """Store ``code`` with ``params`` for each recipient who does not have this event yet,
    and queue it for their channels. Returns the users notified now."""
    recipients = list(dict.fromkeys(recipients))
    already = set(
        session.execute(
            select(Notification.user_id).where(
                Notification.dedupe_key == dedupe_key, Notification.user_id.in_(recipients)
            )
        ).scalars()
    )
    sent = [uid for uid in recipients if uid not in already]
    notes = [Notification(user_id=uid, code=code, params=params, dedupe_key=dedupe_key) for uid in sent]
    session.add_all(notes)
    session.flush()
    _queue_channels(session, notes)
    return sent


def _queue_channels(session: Session, notes: list[Notification]) -> None:
    """A delivery row per chosen channel, and the outbox row that sends it after commit."""
    if not notes:
        return
    chosen = session.execute(
        select(NotificationChannel.user_id, NotificationChannel.channel)
        .where(NotificationChannel.user_id.in_([n.user_id for n in notes]))
        .order_by(NotificationChannel.channel)
    ).all()
    by_user: dict[int, list[str]] = {}
    for user_id, channel in chosen:
        by_user.setdefault(user_id, []).append(channel)
    deliveries = [
        NotificationDelivery(notification_id=n.id, channel=channel)
        for n in notes
        for channel in by_user.get(n.user_id, [])
    ]
    session.add_all(deliveries)
    session.flush()
    for d in deliveries:
        outbox.add(session, SEND_KIND, {"delivery_id": d.id, "attempt": 1}, queue_name=SEND_QUEUE)


def _request_people(session: Session, req: AidRequest) -> list[int]:
    return grids.caseworker_ids(session, req.grid_id, plus=req.created_by_id)


def _about(req: AidRequest) -> dict:
    return {"request_id": req.id, "household_id": req.household_id}


def request_failed(session: Session, req: AidRequest, reasons: list[str] | None = None) -> list[int]:
    """Tell the caseworkers that no partner could take a request. Routing's reasons stay
    on the request's timeline, where the notification leads. Returns the users notified."""
    del reasons  # shown on the request, in the reader's language, not copied here
    return notify(session, _request_people(session, req), "request_failed", _about(req), f"request_failed:{req.id}")


def request_job_matching(session: Session, req: AidRequest) -> list[int]:
    """Tell the caseworkers that a job-support need no partner took waits for them on its
    matches page (openings and courses), once per request."""
    return notify(
        session, _request_people(session, req), "request_job_matching", _about(req), f"request_job_matching:{req.id}"
    )


def request_short(session: Session, req: AidRequest, uncovered_fen: int, reasons: list[str] | None = None) -> list[int]:
    """Tell the caseworkers that a request is only partly covered and no partner is left
    to ask for the rest; they may complete it as it is, or find more help."""
    del reasons
    params = {**_about(req), "uncovered_fen": int(uncovered_fen)}
    return notify(session, _request_people(session, req), "request_short", params, f"request_short:{req.id}")


def offer_answered(session: Session, req: AidRequest, offer: Offer, event: str) -> list[int]:
    """Tell the request's caseworkers that a partner accepted, declined or let an offer
    expire (``event``), once per offer and event."""
    if event not in OFFER_EVENTS:
        raise ValueError(f"unknown offer event {event!r}")
    partner = session.get(Partner, offer.partner_id)
    params = {**_about(req), "offer_id": offer.id, "partner": partner.name if partner else ""}
    code = f"offer_{event}"
    if event == "accepted" and offer.accepted_fen:
        code, params["accepted_fen"] = "offer_accepted_amount", int(offer.accepted_fen)
    return notify(session, _request_people(session, req), code, params, f"offer_{event}:{offer.id}")


def disbursement_reversed(
    session: Session, req: AidRequest, amount_fen: int, reversal_id: int, *, reopened: bool
) -> list[int]:
    """Tell the request's caseworkers that a payment was reversed as recorded in error:
    the family did not receive it (``reopened``: the request looks for the money again)."""
    code = "disbursement_reversed_open" if reopened else "disbursement_reversed_closed"
    params = {**_about(req), "amount_fen": int(amount_fen), "reversal_id": reversal_id}
    return notify(session, _request_people(session, req), code, params, f"reversal:{reversal_id}")


def application_overdue(
    session: Session,
    recipients: list[int],
    *,
    application_id: int,
    household_id: int,
    policy: str,
    department: str,
    deadline: datetime,
) -> list[int]:
    """Tell the caseworkers that an application still waits on its department past its
    deadline, once per application."""
    params = {
        "application_id": application_id,
        "household_id": household_id,
        "policy": policy,
        "department": department,
        "deadline": f"{deadline:%Y-%m-%d}",
    }
    return notify(session, recipients, "application_overdue", params, f"application-overdue:{application_id}")


def follow_up_due(
    session: Session,
    recipients: list[int],
    *,
    follow_up_id: int,
    household_id: int,
    request_id: int,
    due: datetime,
) -> list[int]:
    """Tell the household's caseworkers that a follow-up visit (回访) is due, once per visit."""
    params = {
        "follow_up_id": follow_up_id,
        "household_id": household_id,
        "request_id": request_id,
        "due": f"{due:%Y-%m-%d}",
    }
    return notify(session, recipients, "follow_up_due", params, f"follow-up-due:{follow_up_id}")
