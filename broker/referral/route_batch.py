"""Routing requests in batches.

Every new request writes a ``route_request`` outbox row in the transaction that creates
it, and its commit rings the default queue's bell: one job is enqueued only when none is
already waiting (:mod:`broker.platform.outbox`). A job draining that queue hands each
``route_request`` row it claims to :func:`route_rows`, which takes the other waiting
rows with it — up to :data:`BATCH_ROWS` — and routes them one after the other, each in
its own short transaction, reading what they all share once: the partners, their grids,
their open offers and answers, the money that fits a category on a grid
(:class:`SharedReads`, passed into :func:`broker.referral.routing.route`).

Nothing is lost or done twice because of the batch:

- the database is the truth: a row is marked processed in the transaction that routes
  its request, so a worker killed mid-batch leaves the rest unprocessed, and the
  periodic relay re-drives them (as it does after Redis restarted empty), behind which
  the reconciler re-finds requests left in ``routing``;
- each row is locked before its request is routed and skipped when another job holds
  it or has carried it out meanwhile, and routing a request twice does nothing;
- no transaction is held across a call to another system: an inline adapter (the
  portal) only decides, and any other delivery is its own outbox row.

The cache is a batch's: it lives at most :data:`READS_SECONDS` (a partner deactivated or
a deposit recorded meanwhile is seen by the next batch), it counts the offers the batch
itself makes (so a partner's unanswered money and its load stay current), and it is
dropped whenever an offer ends otherwise than waiting for an answer (an auto-grant that
pledged at once) or a transaction rolls back."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.money.restrictions import Fitting
from broker.platform import outbox
from broker.referral import lifecycle, routing
from broker.referral.candidates import Reads
from broker.registry import consents, region_tree
from models import Offer, OutboxMessage, Partner
from models.base import utcnow

log = logging.getLogger(__name__)
KIND = "route_request"
BATCH_ROWS = 50  # rows one batch takes; the draining job goes on with the next batch
READS_SECONDS = 2.0  # a batch's shared reads are read again after this long


class SharedReads(Reads):
    """The reads of candidate selection, made once for a batch and kept current with the
    offers the batch makes."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Read everything again on the next request."""
        self.read_at = time.monotonic()
        self._grids: dict[int, str] = {}
        self._partners: list[Partner] | None = None
        self._tree: region_tree.Tree | None = None
        self._stats: dict[int, dict[str, int]] = {}
        self._funds: dict[tuple[str, str], dict[int, Fitting]] = {}

    def refresh_if_old(self) -> None:
        if time.monotonic() - self.read_at > READS_SECONDS:
            self.forget()

    def grid_code(self, session: Session, grid_id: int) -> str:
        if grid_id not in self._grids:
            self._grids[grid_id] = super().grid_code(session, grid_id)
        return self._grids[grid_id]

    def partners(self, session: Session) -> list[Partner]:
        if self._partners is None:
            self._partners = super().partners(session)
        return list(self._partners)

    def tree(self, session: Session) -> region_tree.Tree:
        if self._tree is None:
            self._tree = super().tree(session)
        return self._tree

    def county(self, session: Session, grid_id: int) -> str | None:
        return self.tree(session).county_of(grid_id)

    def stats(self, session: Session, partner_ids: list[int]) -> dict[int, dict[str, int]]:
        if missing := [pid for pid in partner_ids if pid not in self._stats]:
            self._stats.update(super().stats(session, missing))
        return {pid: dict(self._stats[pid]) for pid in partner_ids}

    def fitting_funds(
        self, session: Session, partner_ids: list[int], category: str, grid_code: str, tree: region_tree.Tree
    ) -> dict:
        known = self._funds.setdefault((category, grid_code), {})
        if missing := [pid for pid in partner_ids if pid not in known]:
            known.update(super().fitting_funds(session, missing, category, grid_code, tree))
        return {pid: replace(known[pid], parts=[dict(p) for p in known[pid].parts or []]) for pid in partner_ids}

    def made(self, session: Session, decision: routing.Decision) -> None:
        """Count the offers a routing made into the partners' figures; forget everything
        when one of them did more than wait for an answer (money pledged or released)."""
        for chosen in decision.chosen:
            offer = session.get(Offer, chosen["offer_id"])
            figures = self._stats.get(chosen["partner_id"])
            if offer is None or figures is None or offer.status not in lifecycle.UNANSWERED:
                self.forget()
                return
            figures["offered"] += offer.amount_fen or 0
            figures["load"] += 1


@outbox.batched(KIND)
def route_rows(session: Session, first: OutboxMessage, failed: set[int], limit: int) -> int:
    """Route the request of ``first`` (claimed, locked) and those of up to ``limit`` - 1
    other waiting rows of its queue, each in its own transaction, with one
    :class:`SharedReads`. Rows another job holds are skipped; a row that fails is added
    to ``failed`` (left to its retries). Returns how many rows were carried out."""
    waiting = list(
        session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.queue == first.queue,
                OutboxMessage.kind == KIND,
                OutboxMessage.due_at <= utcnow(),
                OutboxMessage.id.not_in([first.id, *failed]),
            )
            .order_by(OutboxMessage.id)
            .limit(max(0, min(limit, BATCH_ROWS) - 1))
        ).scalars()
    )
    reads = SharedReads()
    done = 0
    msg: OutboxMessage | None = first
    for msg_id in [first.id, *waiting]:
        if msg is None:
            reads.refresh_if_old()
            msg = _lock_due(session, msg_id)
            if msg is None:  # carried out, or held, by another job
                session.rollback()
                reads.forget()  # a rollback expired the partners read
                continue
        if _route_one(session, msg, reads, failed):
            done += 1
        msg = None
    return done


def _lock_due(session: Session, msg_id: int) -> OutboxMessage | None:
    """Lock row ``msg_id`` if it is still unprocessed and no other job holds it (the batch
    listed it unlocked: another job may have carried it out meanwhile)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.id == msg_id, OutboxMessage.processed_at.is_(None))
        .execution_options(populate_existing=True)
        .with_for_update(skip_locked=True)
    )
    return session.execute(stmt).scalar_one_or_none()


def _route_one(session: Session, msg: OutboxMessage, reads: SharedReads, failed: set[int]) -> bool:
    """Route one locked row's request and mark the row processed, in one transaction."""
    msg_id = msg.id
    decisions: list[routing.Decision] = []

    def handle(s: Session, payload: dict) -> None:
        decisions.append(routing.route(s, payload["request_id"], reads=reads))

    # One routing asks about the family's consent for each offer it makes and delivers:
    # nothing in it changes a consent, so the answer is read once.
    session.info[consents.PERMITS_MEMO] = {}
    try:
        outbox.apply(session, msg, handle)
    except Exception:
        log.exception("outbox row %s (%s) failed in a routing batch", msg_id, KIND)
        failed.add(msg_id)
        reads.forget()
        return False
    finally:
        session.info.pop(consents.PERMITS_MEMO, None)
    if decisions:
        decision = decisions[0]
        reads.made(session, decision)
        log.info("request %s routing: %s (offers %s)", decision.request_id, decision.outcome, decision.offer_ids)
    return True
