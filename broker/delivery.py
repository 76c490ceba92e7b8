"""Delivering offers to partners through their adapters, and withdrawing them.

The outbox row ``deliver_offer`` carries an offer id and an attempt number. The offer is
delivered only while it is still ``requested`` and the attempt is the next one due, so a
duplicate job does nothing. The adapter's answer is applied in the same transaction:

- ``delivered`` → the offer is ``received`` and waits for the partner;
- ``accepted`` → accepted under the adapter's rules (money pledged) and, with
  ``disburse_fen``, paid out at once — an auto-grant completes with no human in the loop;
- ``declined`` → rejected with the adapter's reason; the request goes to the next partner.

A :class:`TransientDeliveryError` is retried with exponential backoff by writing the next
attempt as a new outbox row due ``WEBHOOK_BACKOFF_SECONDS * 2^(attempt-1)`` later; after
``WEBHOOK_MAX_ATTEMPTS`` attempts, or at once on a :class:`PermanentDeliveryError`, the
offer ``failed`` and the request is routed on. Withdrawals are best effort."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from adapters.base import Context, Delivery, DeliveryError, PermanentDeliveryError, TransientDeliveryError
from broker import actor, adapter_registry, audit, lifecycle, offers, outbox, partners, queue, runtime
from broker.errors import InsufficientFunds, Invalid, NotFound
from models import AidRequest, Offer, Partner
from models.base import utcnow

log = logging.getLogger(__name__)


def backoff_seconds(attempt: int, settings: dict) -> float:
    """The wait before attempt ``attempt + 1``."""
    return float(settings["WEBHOOK_BACKOFF_SECONDS"]) * 2 ** (attempt - 1)


def _context(attempt: int, settings: dict) -> Context:
    return Context(
        attempt=attempt,
        timeout_seconds=float(settings["WEBHOOK_TIMEOUT_SECONDS"]),
        redis=queue.connection(),
        settings=settings,
    )


def deliver(session: Session, offer_id: int, attempt: int = 1) -> str:
    """Deliver one offer (attempt ``attempt``) and apply the outcome. Returns what happened."""
    try:
        offer, req = lifecycle.lock_offer(session, offer_id)
    except NotFound:
        return "missing"
    return deliver_locked(session, offer, req, attempt)


def deliver_locked(session: Session, offer: Offer, req: AidRequest, attempt: int = 1) -> str:
    """:func:`deliver` for an offer whose request this transaction has locked already."""
    if offer.status != "requested" or offer.delivery_attempts != attempt - 1:
        return "skipped"
    settings = runtime.settings()
    offer.delivery_attempts = attempt
    partner = session.get(Partner, offer.partner_id)
    try:
        adapter = adapter_registry.get(partner.adapter)
    except Invalid as exc:
        offers.fail(session, offer, req, exc.message)
        return "failed"
    info = offers.offer_info(session, offer)
    pinfo = partners.partner_info(session, partner)
    try:
        result = adapter.deliver(info, pinfo, _context(attempt, settings))
    except PermanentDeliveryError as exc:
        offers.fail(session, offer, req, str(exc) or type(exc).__name__)
        return "failed"
    except TransientDeliveryError as exc:
        return _retry_or_fail(session, offer, req, attempt, str(exc) or type(exc).__name__, exc, settings)
    except Exception as exc:
        log.exception("adapter %s raised delivering offer %s", partner.adapter, offer.id)
        return _retry_or_fail(session, offer, req, attempt, f"{type(exc).__name__}: {exc}", exc, settings)
    return _apply(session, offer, req, partner, result)


def _retry_or_fail(
    session: Session, offer: Offer, req: AidRequest, attempt: int, error: str, exc: Exception, settings: dict
) -> str:
    max_attempts = int(settings["WEBHOOK_MAX_ATTEMPTS"])
    if attempt >= max_attempts:
        offers.fail(session, offer, req, f"delivery failed after {attempt} attempts: {error}")
        return "failed"
    delay = backoff_seconds(attempt, settings)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, str) and retry_after.isdigit():
        delay = max(delay, float(retry_after))
    due = utcnow() + timedelta(seconds=delay)
    outbox.add(
        session,
        "deliver_offer",
        {"offer_id": offer.id, "attempt": attempt + 1},
        due_at=due,
        queue_name="deliveries",
    )
    audit.record(
        session,
        "offer.delivery_retry",
        offer,
        before={"delivery_attempts": attempt - 1},
        after={"delivery_attempts": attempt},
        details={"error": error, "next_attempt": attempt + 1, "retry_in_seconds": delay, "due_at": due.isoformat()},
        household_id=req.household_id,
        request_id=req.id,
    )
    return "retry"


def _apply(session: Session, offer: Offer, req: AidRequest, partner: Partner, result: Delivery) -> str:
    if result.outcome == "delivered":
        offers.mark_received(session, offer, req, details=result.details or None)
        return "delivered"
    previous = actor.current()
    actor.set_actor(f"adapter:{partner.adapter}:{partner.id}")
    try:
        if result.outcome == "declined":
            offers.refuse(session, offer, req, result.reason or "declined by the partner's rules", action="declined")
            return "declined"
        if result.outcome == "accepted":
            return _accept(session, offer, req, result)
        offers.fail(session, offer, req, f"the adapter answered an unknown outcome {result.outcome!r}")
        return "failed"
    finally:
        actor.set_actor(previous)


def _accept(session: Session, offer: Offer, req: AidRequest, result: Delivery) -> str:
    """Accept, and pay at once when the adapter says so. Should the fund have emptied
    since the adapter looked, the ledger refuses before changing anything, and the offer
    is declined instead, so the request goes on to the next partner."""
    try:
        offers.take(session, offer, req, result.accept_fen, by="adapter")
    except (InsufficientFunds, Invalid) as exc:
        offers.refuse(session, offer, req, f"could not be granted automatically: {exc.message}", action="declined")
        return "declined"
    payout = min(result.disburse_fen or 0, offer.accepted_fen - offer.disbursed_fen)
    if payout > 0:
        offers.pay(session, offer, req, amount_fen=payout, kind="cash", reference=f"auto-grant offer {offer.id}")
    return "accepted"


def withdraw(session: Session, offer_id: int, reason: str) -> str:
    """Tell the partner an offer was withdrawn (best effort: a failure is logged, and the
    partner sees the offer cancelled in the API and portal either way)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != "cancelled":
        return "skipped"
    partner = session.get(Partner, offer.partner_id)
    settings = runtime.settings()
    try:
        adapter = adapter_registry.get(partner.adapter)
        adapter.withdraw(
            offers.offer_info(session, offer), partners.partner_info(session, partner), _context(1, settings), reason
        )
    except (DeliveryError, Invalid) as exc:
        log.warning("withdrawal of offer %s not delivered to partner %s: %s", offer.id, partner.id, exc)
        return "not delivered"
    except Exception:
        log.exception("adapter %s raised withdrawing offer %s", partner.adapter, offer.id)
        return "not delivered"
    return "withdrawn"


@outbox.handler("deliver_offer")
def _deliver_handler(session: Session, payload: dict) -> None:
    outcome = deliver(session, payload["offer_id"], int(payload.get("attempt", 1)))
    log.info("offer %s delivery attempt %s: %s", payload["offer_id"], payload.get("attempt", 1), outcome)


@outbox.handler("withdraw_offer")
def _withdraw_handler(session: Session, payload: dict) -> None:
    withdraw(session, payload["offer_id"], payload.get("reason", "withdrawn"))
