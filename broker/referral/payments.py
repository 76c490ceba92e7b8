"""Disbursements on a taken offer: money, a service session or goods reaching the
family, recorded by the partner (with its evidence) or by its adapter. Only money moves
in the ledger, from the partner's pledge to the household; paying out all that was
accepted completes the offer (:func:`.offers.finish`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.money import disbursement_kinds, evidence, fund_parts
from broker.people import family_messages
from broker.platform import actor
from broker.platform.amounts import yuan
from broker.platform.errors import Invalid
from broker.platform.scope import Principal
from broker.referral import lifecycle, offers, wording
from models import AidRequest, Disbursement, Offer, Partner


def record_disbursement(
    session: Session,
    principal: Principal,
    offer_id: int,
    *,
    upload: evidence.Upload | None = None,
    **sent: Any,
) -> Disbursement:
    """Money, a service session or goods reached the family (``sent``: the fields of
    :func:`broker.money.disbursement_kinds.delivery`, by the offer's kind). Only money moves in
    the ledger, from the partner's pledge to the household; the first record puts the
    offer in progress; paying out all the money accepted completes it."""
    offer, req = offers.lock_own_offer(session, principal, offer_id)
    what = disbursement_kinds.delivery(req.kind, **sent)
    stored = evidence.store(upload) if upload is not None else None
    return pay(session, offer, req, what, stored=stored)


def pay(
    session: Session,
    offer: Offer,
    req: AidRequest,
    what: disbursement_kinds.Delivery | None = None,
    *,
    stored: dict | None = None,
    **sent: Any,
) -> Disbursement:
    """Record a disbursement on a taken offer (by the partner, or by its adapter, which
    may pass the fields — ``amount_fen``, ``kind``, ``reference`` — instead of ``what``)."""
    if offer.status not in lifecycle.TAKEN:
        raise lifecycle.refuse("offer", offer.status, "record a disbursement on", offer.status_reason)
    if what is None:
        what = disbursement_kinds.delivery(req.kind, **sent)
    if what.kind != disbursement_kinds.RECORDED_AS[req.kind]:
        raise Invalid(
            f"This offer records {disbursement_kinds.RECORDED_AS[req.kind]}, not {what.kind}.",
            code="wrong_disbursement_kind",
            details={"kind": [f"must be {disbursement_kinds.RECORDED_AS[req.kind]}"]},
        )
    remaining = offer.accepted_fen - offer.disbursed_fen
    if what.amount_fen > remaining:
        raise Invalid(
            f"Only {yuan(remaining)} of what you accepted remains to pay out; "
            f"{yuan(what.amount_fen)} is more than that.",
            details={"amount_fen": [f"must be at most {remaining}"]},
        )
    partner = session.get(Partner, offer.partner_id)
    first = disbursement_kinds.first_with_reference(session, partner.id, what.reference)
    if first is not None:
        raise disbursement_kinds.duplicate_reference(first)
    row = Disbursement(
        offer_id=offer.id,
        request_id=req.id,
        partner_id=partner.id,
        household_id=req.household_id,
        grid_id=req.grid_id,
        category=req.category,
        amount_fen=what.amount_fen,
        kind=what.kind,
        reference=what.reference,
        evidence=stored,
        actor=actor.current(),
        **what.fields(),
    )
    try:
        with session.begin_nested():
            session.add(row)  # a concurrent twin with the same voucher waits here, then fails
    except IntegrityError:
        first = disbursement_kinds.first_with_reference(session, partner.id, what.reference)
        if first is None:
            raise
        raise disbursement_kinds.duplicate_reference(first) from None
    if what.amount_fen > 0:
        txn = fund_parts.disburse(session, partner, offer, req, what.amount_fen, reference=what.reference)
        row.transaction_id = txn.id
    offer.disbursed_fen += what.amount_fen
    req.disbursed_fen += what.amount_fen
    session.flush()
    audit.record(
        session,
        "disbursement.recorded",
        row,
        after={
            "offer_id": offer.id,
            "partner_id": partner.id,
            "amount_fen": what.amount_fen,
            "kind": what.kind,
            "reference": what.reference,
            "evidence_sha256": stored["sha256"] if stored else None,
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in what.fields().items()},
        },
        household_id=req.household_id,
        request_id=req.id,
    )
    if what.amount_fen > 0:
        family_messages.send_to_family(
            session,
            req.household_id,
            "family.grant_paid",
            {"partner": partner.name, "amount_fen": what.amount_fen},
            dedupe_key=f"grant_paid:{row.id}",
        )
    if offer.status == "accepted":
        lifecycle.set_offer_status(session, offer, req, "in-progress", action="started")
    if offer.amount_fen is not None and offer.disbursed_fen >= offer.accepted_fen:
        offers.finish(session, offer, req, wording.FULLY_DISBURSED)
    else:
        lifecycle.settle(session, req)
    return row
