"""The transactional outbox.

A state change and the work it triggers are written in one transaction (:func:`add`).
After the commit, :mod:`broker.platform.outbox_relay` copies the new rows onto RQ; if
Redis is down the API call still succeeds and its periodic relay drains the backlog
later. Jobs are enqueued with the deterministic id ``outbox-<id>`` and ``unique=True``, and
:func:`run` marks a row processed in the same transaction as its work, so a row is
applied at most once however often it is delivered.

Under load, one job per row would mostly pay for RQ and a cold process. So a job, once
warm, goes on to :func:`drain` the other due rows of its queue, and the relay rings a
per-queue *bell* instead of enqueuing a job for every row: a row committed while a job
for its queue is still waiting is left to that job. The bell is a Redis key set with NX
by whoever enqueues a job and cleared by the job as it starts, before it reads the
table, so every row committed before the clear is seen by that job and every row
committed after it rings again. A lost bell (a flushed Redis) is covered by its expiry,
the reconciler and the periodic relay, as a lost job is.

A handler that must call another system (a partner's webhook) never does so inside a
transaction: it returns a :class:`CallOut`. The claim it wrote is committed, the call is
made with no transaction open, and its result is recorded in a new transaction that
marks the row processed. While the call runs, the row stays unprocessed under a lease in
Redis, so a duplicate job leaves it alone; should the caller die, the row is re-driven
and called again — at least once, which is why each call carries a stable id."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from broker.platform import db, inserts, leases, outbox_relay, pending, queue
from models import OutboxMessage
from models.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallOut:
    """What a handler returns to call another system outside any transaction: ``call``
    runs with no transaction open and must not touch the database; ``record`` applies
    its result in a new transaction (re-reading what it changes: anything may have moved
    meanwhile). ``lease_seconds`` bounds how long the call may take before another job
    may take the row over."""

    call: Callable[[], Any]
    record: Callable[[Session, Any], None]
    lease_seconds: float


Handler = Callable[[Session, dict], "CallOut | None"]
# Carries out a claimed row and up to ``limit`` - 1 other due rows of its kind; adds
# those it gives up on to ``failed``; returns how many it did. ``memo`` lives as long as
# the drain, for what a batcher keeps between its batches (reads shared by them).
Batcher = Callable[[Session, "OutboxMessage", set[int], int, dict], int]
_handlers: dict[str, Handler] = {}
_batchers: dict[str, Batcher] = {}
DRAIN_FUNC = "broker.jobs.drain_outbox"
DRAIN_ROWS = 500  # one job carries out at most this many rows …
DRAIN_SECONDS = 20.0  # … for at most this long, then hands over to a fresh job
IN_PROGRESS = "in progress elsewhere"
TRICKLE_ROWS = 25  # a batch smaller than this is small …
TRICKLE_PAUSE = 0.5  # … and after two in a row a drain waits this long for rows to gather
TRICKLE = "outbox.trickle"  # memo: the drain's last batch was small


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the domain function that carries out outbox rows of ``kind``."""

    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def add(
    session: Session,
    kind: str,
    payload: dict,
    *,
    due_at: datetime | None = None,
    queue_name: str = "default",
) -> None:
    """Queue work to do once this transaction commits: the row is written just before
    the commit, with the transaction's other rows in one statement (:func:`write_queued`)."""
    # Stamped as relayed in this same transaction when the after-commit relay is on, so
    # that a commit costs no second write; the stamp is taken back if the relay fails.
    # A row due beyond the relay's horizon (an offer's deadline, a reminder) waits in the
    # table: the periodic relay schedules it on RQ as its time comes near.
    now = utcnow()
    due_at = due_at or now
    pending.queue(
        session,
        "outbox",
        {
            "kind": kind,
            "payload": payload,
            "queue": queue_name,
            "created_at": now,
            "due_at": due_at,
            "enqueued_at": now if outbox_relay.is_on() and outbox_relay.near(due_at, now) else None,
        },
    )


@event.listens_for(Session, "before_commit")
def write_queued(session: Session) -> None:
    """Write the rows this transaction queued (also called directly where the rows must
    be in the table before the commit). SQLAlchemy fires commit hooks when a savepoint
    is released too: the rows are written only by the real, outermost commit."""
    if session.in_nested_transaction():
        return
    rows = pending.take(session, "outbox")
    if rows:
        ids = inserts.insert_ids(session, OutboxMessage.__table__, rows)
        written = [
            outbox_relay.Written(i, r["queue"], r["due_at"])
            for i, r in zip(ids, rows, strict=True)
            if r["enqueued_at"] is not None
        ]
        session.info.setdefault(outbox_relay.WRITTEN, []).extend(outbox_relay.ring_for(session, written))


def batched(kind: str) -> Callable[[Batcher], Batcher]:
    """Register the runner a draining job hands each row of ``kind`` it claims."""

    def register(fn: Batcher) -> Batcher:
        _batchers[kind] = fn
        return fn

    return register


def run(session: Session, msg_id: int) -> str:
    """Carry out one outbox row exactly once: lock it, skip it if already processed,
    apply its handler and mark it processed in the same transaction (for a handler that
    calls out: in the transaction that records the call's result)."""
    stmt = select(OutboxMessage).where(OutboxMessage.id == msg_id).with_for_update()
    msg = session.execute(stmt).scalar_one_or_none()
    if msg is None:
        session.rollback()
        return "missing"
    if msg.processed_at is not None:
        session.rollback()
        return "already processed"
    return apply(session, msg)


def work(session: Session, msg_id: int, queue_name: str | None) -> str:
    """What a job does: answer its queue's bell, carry out its own row, then drain the
    other due rows of the queue while this process is warm. Returns its own row's outcome."""
    if queue_name:
        outbox_relay.answer(queue_name)
    try:
        return run(session, msg_id)
    finally:
        if queue_name:
            drain(session, queue_name)


def drain(session: Session, queue_name: str, rows: int = DRAIN_ROWS, seconds: float = DRAIN_SECONDS) -> int:
    """Carry out due, unprocessed rows of ``queue_name``, oldest first, until none is
    left or the budget is spent (then a fresh job takes over): one transaction each, or
    as their kind's batcher groups them. Rows locked by another job are skipped; a row
    that fails is left to its retries. Returns how many rows were carried out."""
    deadline = time.monotonic() + seconds
    failed: set[int] = set()
    memo: dict = {}
    done = 0
    while done < rows and time.monotonic() < deadline:
        msg = claim(session, queue_name, failed)
        if msg is None:
            session.rollback()
            return done
        if not memo.get(TRICKLE):  # a trickle is one drain's work
            _call_for_help(queue_name)
        msg_id = msg.id
        if (batch := _batchers.get(msg.kind)) is not None:
            carried = batch(session, msg, failed, rows - done, memo)
            done += carried
            if carried < TRICKLE_ROWS and memo.get(TRICKLE):
                # A second small batch in a row: rows are trickling in. Let them gather (no
                # transaction is open) rather than pay a batch's cost for each one or two.
                time.sleep(TRICKLE_PAUSE)
            memo[TRICKLE] = carried < TRICKLE_ROWS
            continue
        memo.clear()  # what batchers kept may be changed by this row's work
        try:
            outcome = apply(session, msg)
        except Exception:
            log.exception("outbox row %s (%s) failed while draining %s", msg_id, msg.kind, queue_name)
            failed.add(msg_id)
            continue
        if outcome == IN_PROGRESS:
            failed.add(msg_id)  # another job is calling out for it; not ours to wait for
            continue
        done += 1
    _call_for_help(queue_name)
    return done


def claim(session: Session, queue_name: str, failed: set[int] | None = None) -> OutboxMessage | None:
    """Lock the oldest due, unprocessed row of ``queue_name`` that no other job holds
    (and that has not ``failed`` in this drain); None when there is none."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.processed_at.is_(None),
            OutboxMessage.queue == queue_name,
            OutboxMessage.due_at <= utcnow(),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if failed:
        stmt = stmt.where(OutboxMessage.id.not_in(failed))
    if session.get_bind().dialect.name != "postgresql" and session.execute(stmt).first() is None:
        return None  # SQLite: look before taking the write window, so an idle drain never takes it
    return session.execute(stmt.with_for_update(skip_locked=True)).scalar_one_or_none()


def _call_for_help(queue_name: str) -> None:
    """While this job is busy, let an idle worker join in: enqueue a drain job unless one
    is already waiting. Best effort: without Redis, this job goes on alone."""
    try:
        if outbox_relay.ring(queue_name):
            queue.queue(queue_name).enqueue(DRAIN_FUNC, queue_name, result_ttl=60, failure_ttl=86400)
    except (redis.RedisError, OSError) as exc:
        log.warning("cannot call for help draining %s: %s", queue_name, exc)


def apply(session: Session, msg: OutboxMessage, fn: Handler | None = None) -> str:
    """Apply a locked, unprocessed row's handler (or ``fn``: a batch runner's, sharing the
    batch's reads) and mark it processed, in one transaction."""
    msg_id = msg.id
    fn = fn or _handlers.get(msg.kind)
    if fn is None:
        raise LookupError(f"no outbox handler for {msg.kind!r}")
    try:
        out = fn(session, dict(msg.payload))
    except Exception as exc:
        session.rollback()
        _note_failure(session, msg_id, exc)
        raise
    # Counted after the handler, so that the count and the mark go out as one UPDATE.
    msg.attempts += 1
    if isinstance(out, CallOut):
        return _call_out(session, msg_id, out)
    msg.processed_at = utcnow()
    db.commit()
    return "done"


def _call_out(session: Session, msg_id: int, out: CallOut) -> str:
    """Commit the claim, make the call with no transaction open, record the result."""
    holder = leases.holder()
    if not leases.take(msg_id, holder, out.lease_seconds):
        session.rollback()
        return IN_PROGRESS
    try:
        db.commit()  # the claim (and the row's attempt) is safe before anyone is called
        session.close()  # no transaction, no connection held while we wait on the network
        try:
            result = out.call()
        except Exception as exc:
            _note_failure(session, msg_id, exc)
            raise
        stmt = select(OutboxMessage).where(OutboxMessage.id == msg_id).with_for_update()
        msg = session.execute(stmt).scalar_one_or_none()
        if msg is None or msg.processed_at is not None:
            session.rollback()
            return "already processed"
        try:
            out.record(session, result)
        except Exception as exc:
            session.rollback()
            _note_failure(session, msg_id, exc)
            raise
        msg.processed_at = utcnow()
        db.commit()
        return "done"
    finally:
        leases.drop(msg_id, holder)


def _note_failure(session: Session, msg_id: int, exc: Exception) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(
            attempts=OutboxMessage.attempts + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    )
    session.commit()


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
    ).scalar_one()
