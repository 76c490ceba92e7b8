"""Reversals (红冲): undoing a disbursement recorded in error, with four eyes.

One person proposes (the partner who recorded it, an auditor or an admin) with a reason;
a second person — an auditor or an admin, never the proposer — approves or rejects. On
approval a ``reversal`` transaction moves the amount back from the household to the
partner's pledge on the offer; the original disbursement and its transaction stay as they
were, linked from the reversal, so the ledger shows both and reports count the net.

What the money does next depends on the offer:

* still taken (accepted or in progress): it stays pledged, for the partner to record what
  really reached the family;
* finished (completed or cancelled): the pledge is given back to the fund, and the request,
  if still open, is that much less covered and goes back to routing.

A completed request stays completed (its lifecycle ends there); its caseworkers are told
that the family did not receive the amount, so that they can assess the need again.

Locks follow the broker's order: request, then offer, then the reversal, then accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import audit
from broker.money import fund_parts
from broker.people import notify
from broker.platform.errors import Conflict, Forbidden, Invalid, NotFound
from broker.platform.scope import Principal
from broker.referral import lifecycle
from models import AidRequest, Disbursement, LedgerTransaction, Offer, Partner, Reversal, User
from models.base import utcnow

PROPOSERS = ("partner", "auditor", "admin")
APPROVERS = ("auditor", "admin")
REASON_MAX = 500


def _disbursement(session: Session, principal: Principal, disbursement_id: int) -> Disbursement:
    """A disbursement the principal may see: partners their own, auditors and admins all."""
    row = session.get(Disbursement, disbursement_id)
    if row is None or (principal.role == "partner" and row.partner_id != principal.partner_id):
        raise NotFound("No such disbursement.")
    return row


def _text(value: str | None, field: str, *, required: bool) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise Invalid(f"Say why ({field}).", details={field: ["required"]})
    if len(text) > REASON_MAX:
        raise Invalid(f"{field} is at most {REASON_MAX} characters.", details={field: [f"at most {REASON_MAX}"]})
    return text


def get(session: Session, principal: Principal, reversal_id: int) -> Reversal:
    """A reversal the principal may see (a partner: those of its own disbursements)."""
    principal.require(*PROPOSERS)
    rev = session.get(Reversal, reversal_id)
    if rev is None:
        raise NotFound("No such reversal.")
    _disbursement(session, principal, rev.disbursement_id)
    return rev


def propose(
    session: Session, principal: Principal, disbursement_id: int, reason: str, *, offer_id: int | None = None
) -> Reversal:
    """Propose reversing a disbursement (of ``offer_id``, when asked from an offer's page).
    Proposing again while one is pending returns it (a double tap); one pending or
    approved reversal per disbursement."""
    principal.require(*PROPOSERS)
    row = _disbursement(session, principal, disbursement_id)
    if offer_id is not None and row.offer_id != offer_id:
        raise NotFound("No such disbursement on this offer.")
    reason = _text(reason, "reason", required=True)
    live = session.scalar(select(Reversal).where(Reversal.live_key == row.id))
    if live is not None:
        if live.status == "pending" and live.proposed_by_id == principal.user_id:
            return live
        raise _already(live)
    rev = Reversal(
        disbursement_id=row.id,
        live_key=row.id,
        reason=reason,
        status="pending",
        proposed_by_id=principal.user_id,
        amount_fen=row.amount_fen,
        decision_note="",
    )
    try:
        with session.begin_nested():
            session.add(rev)  # a concurrent twin waits on the unique key here, then fails
    except IntegrityError:
        live = session.scalar(select(Reversal).where(Reversal.live_key == row.id))
        if live is None:
            raise
        raise _already(live) from None
    audit.record(
        session,
        "reversal.proposed",
        rev,
        household_id=row.household_id,
        request_id=row.request_id,
        after={"disbursement_id": row.id, "amount_fen": row.amount_fen, "reason": reason},
    )
    return rev


def _already(live: Reversal) -> Conflict:
    return Conflict(
        f"This disbursement already has a reversal ({live.status}).",
        code="already_reversed",
        details={"reversal_id": live.id, "status": live.status},
    )


def _lock(session: Session, principal: Principal, reversal_id: int) -> tuple[Reversal, Disbursement, Offer, AidRequest]:
    """Lock the request and offer of the reversal's disbursement, then the reversal itself,
    and check that it still waits for a decision by someone other than its proposer."""
    principal.require(*APPROVERS)
    found = session.get(Reversal, reversal_id)
    if found is None:
        raise NotFound("No such reversal.")
    row = session.get(Disbursement, found.disbursement_id)
    offer, req = lifecycle.lock_offer(session, row.offer_id)
    rev = session.execute(
        select(Reversal).where(Reversal.id == reversal_id).execution_options(populate_existing=True).with_for_update()
    ).scalar_one()
    if rev.status != "pending":
        raise Conflict(
            f"This reversal is already {rev.status}.", code="invalid_transition", details={"current_status": rev.status}
        )
    if rev.proposed_by_id == principal.user_id:
        raise Forbidden("Someone other than the person who proposed a reversal must decide on it (four eyes).")
    return rev, row, offer, req


def approve(session: Session, principal: Principal, reversal_id: int, note: str = "") -> Reversal:
    """Approve a pending reversal: post it in the ledger and undo the disbursement's effect
    on its offer and request."""
    note = _text(note, "note", required=False)
    rev, row, offer, req = _lock(session, principal, reversal_id)
    released = 0
    if row.amount_fen > 0:
        partner = session.get(Partner, row.partner_id)
        original = session.get(LedgerTransaction, row.transaction_id)
        txn = fund_parts.reverse(session, partner, offer, req, original, reference=row.reference)
        rev.transaction_id = txn.id
        offer.disbursed_fen -= row.amount_fen
        req.disbursed_fen -= row.amount_fen
        if offer.status not in lifecycle.TAKEN:
            back = row.amount_fen
            fund_parts.release(session, partner, offer, req, back, reference=row.reference)
            req.funded_fen -= row.amount_fen
            released = row.amount_fen
    _decide(session, principal, rev, "approved", note)
    audit.record(
        session,
        "reversal.approved",
        rev,
        household_id=row.household_id,
        request_id=row.request_id,
        after={
            "disbursement_id": row.id,
            "amount_fen": row.amount_fen,
            "transaction_id": rev.transaction_id,
            "released_fen": released,
            "note": note,
        },
    )
    if req.status in lifecycle.TERMINAL_REQUEST:
        notify.disbursement_reversed(session, req, row.amount_fen, rev.id, reopened=False)
    else:
        lifecycle.settle(session, req, reopen=released > 0)
        notify.disbursement_reversed(session, req, row.amount_fen, rev.id, reopened=True)
    return rev


def reject(session: Session, principal: Principal, reversal_id: int, note: str) -> Reversal:
    """Reject a pending reversal, saying why; the disbursement stands (and may be proposed
    for reversal again)."""
    note = _text(note, "note", required=True)
    rev, row, _offer, _req = _lock(session, principal, reversal_id)
    _decide(session, principal, rev, "rejected", note)
    rev.live_key = None
    audit.record(
        session,
        "reversal.rejected",
        rev,
        household_id=row.household_id,
        request_id=row.request_id,
        after={"disbursement_id": row.id, "note": note},
    )
    return rev


def _decide(session: Session, principal: Principal, rev: Reversal, status: str, note: str) -> None:
    rev.status = status
    rev.decided_by_id = principal.user_id
    rev.decided_at = utcnow()
    rev.decision_note = note
    session.flush()


@dataclass(frozen=True)
class QueueRow:
    """A reversal with what a decider needs beside it."""

    reversal: Reversal
    disbursement: Disbursement
    partner_name: str
    proposed_by: str


def queue(session: Session, principal: Principal, status: str | None = "pending", limit: int = 200) -> list[Reversal]:
    """Reversals by status (or all), oldest first; a partner sees those of its own disbursements."""
    return [row.reversal for row in queue_rows(session, principal, status, limit)]


def queue_rows(
    session: Session, principal: Principal, status: str | None = "pending", limit: int = 200
) -> list[QueueRow]:
    """:func:`queue` with each reversal's disbursement, partner and proposer (pending: oldest
    first, to be decided in turn; decided: newest first)."""
    principal.require(*PROPOSERS)
    stmt = (
        select(Reversal, Disbursement, Partner.name, User.username)
        .join(Disbursement, Disbursement.id == Reversal.disbursement_id)
        .join(Partner, Partner.id == Disbursement.partner_id)
        .join(User, User.id == Reversal.proposed_by_id)
    )
    if status is not None:
        stmt = stmt.where(Reversal.status == status)
    if principal.role == "partner":
        stmt = stmt.where(Disbursement.partner_id == principal.partner_id)
    elif principal.scoped:  # an auditor or admin of a region: reversals of money paid below it
        stmt = stmt.where(Disbursement.grid_id.in_(sorted(principal.grid_ids) or [-1]))
    order = (Reversal.proposed_at, Reversal.id) if status == "pending" else (Reversal.id.desc(),)
    rows = session.execute(stmt.order_by(*order).limit(limit)).all()
    return [QueueRow(rev, row, name, username) for rev, row, name, username in rows]


def for_offer(session: Session, principal: Principal, offer_id: int) -> dict[int, Reversal]:
    """The live (pending or approved) reversal of each of an offer's disbursements, by
    disbursement id; the partner's offer page shows them beside the payments."""
    principal.require(*PROPOSERS)
    stmt = select(Reversal).join(Disbursement, Disbursement.id == Reversal.live_key)
    stmt = stmt.where(Disbursement.offer_id == offer_id)
    if principal.role == "partner":
        stmt = stmt.where(Disbursement.partner_id == principal.partner_id)
    rows = session.scalars(stmt).all()
    return {rev.disbursement_id: rev for rev in rows}
