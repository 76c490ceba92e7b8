"""Routing requests in batches.

Every new request writes a ``route_request`` outbox row in the transaction that creates
it, and its commit rings the default queue's bell: one job is enqueued only when none is
already waiting (:mod:`broker.platform.outbox`). A job draining that queue hands each
``route_request`` row it claims to :func:`route_rows`, which takes the other waiting
rows with it — up to :data:`BATCH_ROWS` — and routes them one after the other,
:data:`TOGETHER` to a short transaction (one lock of their rows, one read of their
households and members, one audit write, one commit), reading what they all share once:
the partners, their grids, their open offers and answers, the money that fits a category
on a grid (:class:`SharedReads`, passed into :func:`broker.referral.routing.route`).

Nothing is lost or done twice because of the batch:

- the database is the truth: a row is marked processed in the transaction that routes
  its request, so a worker killed mid-batch leaves the rest unprocessed, and the
  periodic relay re-drives them (as it does after Redis restarted empty), behind which
  the reconciler re-finds requests left in ``routing``;
- each row is locked before its request is routed and skipped when another job holds
  it or has carried it out meanwhile, and routing a request twice does nothing;
- a request that fails rolls its transaction back, and those requests are routed again
  one transaction each, so that only the failing row is left to its retries;
- no transaction is held across a call to another system: an inline adapter (the
  portal) only decides, and any other delivery is its own outbox row.

The cache is the draining job's, shared by its batches: it lives at most
:data:`READS_SECONDS` (a partner deactivated or a deposit recorded meanwhile is seen
after that), it counts the offers the job itself makes (so a partner's unanswered money
and its load stay current), and it is dropped whenever an offer ends otherwise than
waiting for an answer (an auto-grant that pledged at once), a transaction rolls back, or
the job carries out a row of another kind."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from broker.money.restrictions import Fitting
from broker.platform import db, outbox
from broker.policy import package
from broker.referral import lifecycle, routing
from broker.referral.candidates import Reads
from broker.registry import consents, region_tree
from models import AidRequest, Household, Offer, OutboxMessage, Partner
from models.base import utcnow

log = logging.getLogger(__name__)
KIND = "route_request"
BATCH_ROWS = 50  # rows one batch takes; the draining job goes on with the next batch
TOGETHER = 25  # rows routed in one transaction: one commit, one audit write, one lock
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
def route_rows(session: Session, first: OutboxMessage, failed: set[int], limit: int, memo: dict) -> int:
    """Route the request of ``first`` (claimed, locked) and those of up to ``limit`` - 1
    other waiting rows of its queue, :data:`TOGETHER` to a transaction, with the
    :class:`SharedReads` of the drain (``memo``: under a steady trickle of requests a
    drain routes many small batches, which would otherwise read the partners each).
    Rows another job holds are skipped; a row that fails is added to ``failed`` (left to
    its retries). Returns how many rows were carried out."""
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
    reads = memo.setdefault(KIND, SharedReads())
    reads.refresh_if_old()
    done = 0
    ids = [first.id, *waiting]
    for start in range(0, len(ids), TOGETHER):
        if start:
            reads.refresh_if_old()
            msgs = _lock_due(session, ids[start : start + TOGETHER])
        else:  # the first row is claimed and locked already
            msgs = [first, *_lock_due(session, ids[1:TOGETHER])]
        if not msgs:  # carried out, or held, by other jobs
            session.rollback()
            reads.forget()  # a rollback expired the partners read
            continue
        done += _route_together(session, msgs, reads, failed)
    return done


def _lock_due(session: Session, msg_ids: list[int]) -> list[OutboxMessage]:
    """Lock those of rows ``msg_ids`` still unprocessed that no other job holds (the batch
    listed them unlocked: another job may have carried some out meanwhile)."""
    if not msg_ids:
        return []
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(msg_ids), OutboxMessage.processed_at.is_(None))
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt).scalars())


def _route_together(session: Session, msgs: list[OutboxMessage], reads: SharedReads, failed: set[int]) -> int:
    """Route the requests of locked rows ``msgs`` in one transaction, marking each row
    processed in it; their households and members are read in one go. Should any of
    them fail, the transaction is rolled back and the rows are routed one transaction
    each, so that the failing row alone is left to its retries."""
    if len(msgs) == 1:
        return int(_route_one(session, msgs[0], reads, failed))
    ids = [m.id for m in msgs]
    decisions: list[routing.Decision] = []
    try:
        request_ids = [m.payload["request_id"] for m in msgs]
        locked = _lock_requests(session, request_ids)
        _held = _read_households(session, {r.household_id for r in locked.values()})  # held for the transaction
        for msg in msgs:
            session.info[consents.PERMITS_MEMO] = {}
            rid = msg.payload["request_id"]
            decision = routing.route(session, rid, reads=reads, locked=locked.get(rid))
            reads.made(session, decision)
            decisions.append(decision)
        _forget_households(session)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(attempts=OutboxMessage.attempts + 1, processed_at=utcnow())
        )
        db.commit()
    except Exception:
        _forget_households(session)
        session.rollback()
        reads.forget()
        log.warning("routing rows %s together failed; routing them one by one", ids, exc_info=True)
        return _route_each(session, ids, reads, failed)
    for decision in decisions:
        _log(decision)
    return len(msgs)


def _route_each(session: Session, msg_ids: list[int], reads: SharedReads, failed: set[int]) -> int:
    done = 0
    for msg_id in msg_ids:
        msgs = _lock_due(session, [msg_id])
        if not msgs:
            session.rollback()
            reads.forget()
            continue
        done += int(_route_one(session, msgs[0], reads, failed))
    return done


def _lock_requests(session: Session, request_ids: list[int]) -> dict[int, AidRequest]:
    """Lock these requests (in id order, as one statement) and read their offers and
    policy holds as they are now: what routing each of them reads first."""
    stmt = (
        select(AidRequest)
        .where(AidRequest.id.in_(request_ids))
        .order_by(AidRequest.id)
        .options(selectinload(AidRequest.offers), selectinload(AidRequest.policy_holds))
        .execution_options(populate_existing=True)
        .with_for_update(of=AidRequest)
    )
    return {req.id: req for req in session.execute(stmt).scalars()}


def _read_households(session: Session, household_ids: set[int]) -> list[Household]:
    """Read these households (the locked requests') as they are now, with their members,
    current consents and benefits, where routing each request finds them:
    ``req.household`` and its members in the session (for as long as the caller holds
    the list: the session keeps only weak references), the consents and benefits in the
    session's memos until :func:`_forget_households` (routing changes neither)."""
    households = list(
        session.execute(
            select(Household)
            .where(Household.id.in_(sorted(household_ids)))
            .options(selectinload(Household.members))
            .execution_options(populate_existing=True)
        ).scalars()
    )
    ids = [h.id for h in households]
    session.info[consents.CURRENT_MEMO] = consents.current_of(session, ids)
    session.info[package.BENEFITS_MEMO] = package.benefits_by_household(session, ids)
    return households


def _forget_households(session: Session) -> None:
    for memo in (consents.PERMITS_MEMO, consents.CURRENT_MEMO, package.BENEFITS_MEMO):
        session.info.pop(memo, None)


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
        reads.made(session, decisions[0])
        _log(decisions[0])
    return True


def _log(decision: routing.Decision) -> None:
    log.info("request %s routing: %s (offers %s)", decision.request_id, decision.outcome, decision.offer_ids)
