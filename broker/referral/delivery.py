"""Delivering offers to partners through their adapters, and withdrawing them.

The outbox row ``deliver_offer`` carries an offer id and an attempt number. An inline
adapter (no I/O) decides in the transaction that locked the offer. Any other is called
with no transaction open (an :class:`outbox.CallOut`): the attempt is claimed and
committed, the adapter is called, and its answer is recorded in a new transaction —
only if the offer is still ``requested`` under that attempt (a partner may answer, or a
caseworker cancel, while the call runs; a delivery that lands on an offer cancelled
meanwhile is withdrawn again). A crash between the call and the record re-drives the
row and calls again with the same attempt: at least once, and the webhook's stable
``webhook-id`` lets the partner de-duplicate. The answer:

- ``delivered`` → the offer is ``received`` and waits for the partner;

What the partner learns is read when the delivery is made, not when the offer was: the
family's names go only with its consent to share, asked at that moment, so an offer made
while the family agreed and delivered after it withdrew goes without them, and its
``offer.delivered`` note on the request's timeline says so
(``status.names_withheld_consent_withdrawn``). The offer itself still goes: the need, the
community and a masked label are what any partner needs to help, and routing on without
it would leave the family without help for having protected its name.
- ``accepted`` → accepted under the adapter's rules (money pledged) and, with
  ``disburse_fen``, paid out at once — an auto-grant completes with no human in the loop;
- ``declined`` → rejected with the adapter's reason; the request goes to the next partner.

A :class:`TransientDeliveryError` is retried with exponential backoff by writing the next
attempt as a new outbox row due ``WEBHOOK_BACKOFF_SECONDS * 2^(attempt-1)`` later; after
``WEBHOOK_MAX_ATTEMPTS`` attempts, or at once on a :class:`PermanentDeliveryError`, the
offer ``failed`` and the request is routed on. A :class:`DeliveryDeferred` (the
partner's circuit breaker is open: nobody was called) spends no attempt: the same attempt
is due again when the breaker lets a call through. Withdrawals are best effort, and
called out the same way."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.orm import Session

from adapters.base import (
    Adapter,
    Context,
    Delivery,
    DeliveryDeferred,
    DeliveryError,
    OfferInfo,
    PartnerInfo,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from broker import audit
from broker.money import grant_caps
from broker.money.fund_parts import RestrictedFunds
from broker.platform import actor, adapter_registry, outbox, queue, runtime
from broker.platform.errors import InsufficientFunds, Invalid, NotFound
from broker.referral import inbox, lifecycle, offers, partners, payments, wording
from broker.registry import consents
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


def lease_seconds(settings: dict, partner_config: dict) -> float:
    """How long a call out may hold its outbox row: the partner's timeout, twice over
    (connect and read), and a margin."""
    timeout = float(partner_config.get("timeout_seconds") or settings["WEBHOOK_TIMEOUT_SECONDS"])
    return 2 * timeout + 30


def deliver(session: Session, offer_id: int, attempt: int = 1) -> str | outbox.CallOut:
    """Deliver one offer (attempt ``attempt``): decide at once through an inline adapter,
    else claim the attempt and return the call to make outside the transaction."""
    try:
        offer, req = lifecycle.lock_offer(session, offer_id)
    except NotFound:
        return "missing"
    # attempt - 1: a new attempt; attempt: one claimed by a run that died mid-call.
    if offer.status != "requested" or offer.delivery_attempts not in (attempt - 1, attempt):
        return "skipped"
    partner = session.get(Partner, offer.partner_id)
    try:
        adapter = adapter_registry.get(partner.adapter)
    except Invalid as exc:
        offer.delivery_attempts = attempt
        offers.fail(session, offer, req, attempts=attempt, error=exc.message)
        return "failed"
    if adapter.inline:
        return deliver_locked(session, offer, req, attempt) if offer.delivery_attempts == attempt - 1 else "skipped"
    offer.delivery_attempts = attempt
    settings = runtime.settings()
    pinfo = partners.partner_info(session, partner, balance=adapter.reads_balance)
    info = _with_cap_history(session, inbox.offer_info(session, offer), pinfo, req)
    note = names_note(session, offer, req, partner)
    ctx = _context(attempt, settings)
    return outbox.CallOut(
        call=lambda: _call(adapter, info, pinfo, ctx),
        record=lambda s, result: _record(s, offer_id, attempt, partner.adapter, result, note),
        lease_seconds=lease_seconds(settings, pinfo.config),
    )


def names_note(session: Session, offer: Offer, req: AidRequest, partner: Partner) -> str | None:
    """The note an offer's delivery carries when the family withdrew its consent to
    share after the offer was made, so that the partner is sent no names."""
    purpose = consents.SHARE_WITH_PARTNERS
    if consents.permits(session, req.household_id, purpose, partner_kind=partner.kind):
        return None
    if consents.withdrawn_between(session, req.household_id, purpose, offer.created_at):
        return wording.NAMES_WITHHELD
    return None


def _call(adapter: Adapter, info: OfferInfo, pinfo: PartnerInfo, ctx: Context) -> Delivery | Exception:
    """The adapter's answer, or what it raised (recorded, not raised: the row is done)."""
    try:
        return adapter.deliver(info, pinfo, ctx)
    except Exception as exc:
        if not isinstance(exc, DeliveryError):
            log.exception("adapter %s raised delivering offer %s", adapter.name, info.id)
        return exc


def _record(
    session: Session,
    offer_id: int,
    attempt: int,
    adapter_name: str,
    result: Delivery | Exception,
    note: str | None = None,
) -> None:
    """Apply the answer of attempt ``attempt`` to the offer as it is now."""
    try:
        offer, req = lifecycle.lock_offer(session, offer_id)
    except NotFound:
        return
    outcome = _settle_call(session, offer, req, attempt, result, note)
    log.info("offer %s delivery attempt %s through %s: %s", offer_id, attempt, adapter_name, outcome)


def _settle_call(
    session: Session, offer: Offer, req: AidRequest, attempt: int, result: Delivery | Exception, note: str | None = None
) -> str:
    if offer.status != "requested" or offer.delivery_attempts != attempt:
        if isinstance(result, Delivery) and offer.status == "cancelled":
            # Cancelled or expired while the call ran: the partner now holds an offer
            # that is gone, so tell it again, after the delivery it just received.
            outbox.add(session, "withdraw_offer", {"offer_id": offer.id, "reason": offer.status_reason or offer.status})
        return f"no longer due ({offer.status})"
    settings = runtime.settings()
    if isinstance(result, Delivery):
        return _apply(session, offer, req, session.get(Partner, offer.partner_id), result, note)
    error = str(result) or type(result).__name__
    if isinstance(result, DeliveryDeferred):
        return _defer(session, offer, req, attempt, result.retry_after_seconds)
    if isinstance(result, PermanentDeliveryError):
        offers.fail(session, offer, req, attempts=attempt, error=error)
        return "failed"
    if not isinstance(result, TransientDeliveryError):
        error = f"{type(result).__name__}: {result}"
    return _retry_or_fail(session, offer, req, attempt, error, result, settings)


def deliver_locked(
    session: Session, offer: Offer, req: AidRequest, attempt: int = 1, *, just_made: bool = False
) -> str:
    """Deliver through an inline adapter (no I/O: it only decides) in this transaction,
    which has locked the offer's request already. ``just_made``: the offer was made in
    this transaction, with the family's consent as it is now, so no consent can have been
    withdrawn since (:func:`names_note` need not look)."""
    if offer.status != "requested" or offer.delivery_attempts != attempt - 1:
        return "skipped"
    partner = session.get(Partner, offer.partner_id)
    try:
        adapter = adapter_registry.get(partner.adapter)
    except Invalid as exc:
        offer.delivery_attempts = attempt
        offers.fail(session, offer, req, attempts=attempt, error=exc.message)
        return "failed"
    # What goes to the partner is read before the attempt is counted, so that the offer
    # is written once, with the attempt and the answer together.
    pinfo = partners.partner_info(session, partner, balance=adapter.reads_balance)
    info = _with_cap_history(session, inbox.offer_info(session, offer), pinfo, req)
    note = None if just_made else names_note(session, offer, req, partner)
    offer.delivery_attempts = attempt
    result = _call(adapter, info, pinfo, _context(attempt, runtime.settings()))
    return _settle_call(session, offer, req, attempt, result, note)


def _with_cap_history(session: Session, info: OfferInfo, pinfo: PartnerInfo, req: AidRequest) -> OfferInfo:
    """For a fund with a per-household cap, what it already paid the household in the
    period, read under the fund's lock (held until the payment, if any, is written)."""
    cap = grant_caps.cap_of(pinfo.config)
    if cap is None:
        return info
    paid = grant_caps.received_locked(session, pinfo.id, pinfo.name, req.household_id, cap)
    return replace(info, household_received_fen=paid)


def _defer(session: Session, offer: Offer, req: AidRequest, attempt: int, wait: float) -> str:
    """Nobody was called (the partner's breaker is open): the same attempt is due again
    once a call may go through, and no attempt is spent."""
    offer.delivery_attempts = attempt - 1
    # At least two seconds, so that the row is scheduled (not run at once) even when the
    # breaker is about to half-open.
    due = utcnow() + timedelta(seconds=max(2.0, wait))
    outbox.add(
        session, "deliver_offer", {"offer_id": offer.id, "attempt": attempt}, due_at=due, queue_name="deliveries"
    )
    audit.record(
        session,
        "offer.delivery_deferred",
        offer,
        before={"delivery_attempts": attempt},
        after={"delivery_attempts": attempt - 1},
        details={
            "reason": "breaker_open",
            "next_attempt": attempt,
            "retry_in_seconds": round((due - utcnow()).total_seconds(), 1),
            "due_at": due.isoformat(),
        },
        household_id=req.household_id,
        request_id=req.id,
    )
    return "deferred"


def _retry_or_fail(
    session: Session, offer: Offer, req: AidRequest, attempt: int, error: str, exc: Exception, settings: dict
) -> str:
    max_attempts = int(settings["WEBHOOK_MAX_ATTEMPTS"])
    if attempt >= max_attempts:
        offers.fail(session, offer, req, attempts=attempt, error=error)
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


def _apply(
    session: Session, offer: Offer, req: AidRequest, partner: Partner, result: Delivery, note: str | None = None
) -> str:
    if result.outcome == "delivered":
        offers.mark_received(session, offer, req, details=result.details or None, reason=note)
        return "delivered"
    previous = actor.current()
    actor.set_actor(f"adapter:{partner.adapter}:{partner.id}")
    try:
        if result.outcome == "declined":
            offers.refuse(session, offer, req, result.reason or "declined by the partner's rules", action="declined")
            return "declined"
        if result.outcome == "accepted":
            return _accept(session, offer, req, result)
        offers.fail(session, offer, req, attempts=offer.delivery_attempts, error=f"unknown outcome {result.outcome!r}")
        return "failed"
    finally:
        actor.set_actor(previous)


def _accept(session: Session, offer: Offer, req: AidRequest, result: Delivery) -> str:
    """Accept, and pay at once when the adapter says so. Should the fund have emptied
    since the adapter looked (or hold only money restricted to other purposes), the ledger
    refuses before changing anything, and the offer is declined instead, so the request
    goes on to the next partner."""
    try:
        offers.take(session, offer, req, result.accept_fen, by="adapter")
    except (InsufficientFunds, RestrictedFunds, Invalid) as exc:
        offers.refuse(session, offer, req, f"could not be granted automatically: {exc.message}", action="declined")
        return "declined"
    payout = min(result.disburse_fen or 0, offer.accepted_fen - offer.disbursed_fen)
    if payout > 0:
        payments.pay(session, offer, req, amount_fen=payout, kind="cash", reference=f"auto-grant offer {offer.id}")
    return "accepted"


def withdraw(session: Session, offer_id: int, reason: str) -> str | outbox.CallOut:
    """Tell the partner an offer was withdrawn (best effort: a failure is logged, and the
    partner sees the offer cancelled in the API and portal either way). The call is made
    outside the transaction; there is nothing to record but the row done."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != "cancelled":
        return "skipped"
    partner = session.get(Partner, offer.partner_id)
    settings = runtime.settings()
    try:
        adapter = adapter_registry.get(partner.adapter)
    except Invalid as exc:
        log.warning("withdrawal of offer %s not delivered to partner %s: %s", offer.id, partner.id, exc)
        return "not delivered"
    info = inbox.offer_info(session, offer)
    pinfo = partners.partner_info(session, partner, balance=adapter.reads_balance)
    ctx = _context(1, settings)

    def call() -> str:
        try:
            adapter.withdraw(info, pinfo, ctx, reason)
        except DeliveryError as exc:
            log.warning("withdrawal of offer %s not delivered to partner %s: %s", info.id, pinfo.id, exc)
            return "not delivered"
        except Exception:
            log.exception("adapter %s raised withdrawing offer %s", adapter.name, info.id)
            return "not delivered"
        return "withdrawn"

    if adapter.inline:
        return call()
    lease = lease_seconds(settings, pinfo.config)
    return outbox.CallOut(call=call, record=lambda _s, _result: None, lease_seconds=lease)


@outbox.handler("deliver_offer")
def _deliver_handler(session: Session, payload: dict) -> outbox.CallOut | None:
    outcome = deliver(session, payload["offer_id"], int(payload.get("attempt", 1)))
    if isinstance(outcome, outbox.CallOut):
        return outcome
    log.info("offer %s delivery attempt %s: %s", payload["offer_id"], payload.get("attempt", 1), outcome)
    return None


@outbox.handler("withdraw_offer")
def _withdraw_handler(session: Session, payload: dict) -> outbox.CallOut | None:
    outcome = withdraw(session, payload["offer_id"], payload.get("reason", "withdrawn"))
    return outcome if isinstance(outcome, outbox.CallOut) else None
