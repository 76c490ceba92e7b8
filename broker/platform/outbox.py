"""The transactional outbox.

A state change and the work it triggers are written in one transaction (:func:`add`).
After the commit, :func:`relay_committed` copies the new rows onto RQ; if Redis is down
the API call still succeeds and the periodic :func:`relay` drains the backlog later.
Jobs are enqueued with the deterministic id ``outbox-<id>`` and ``unique=True``, and
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
from datetime import datetime, timedelta
from typing import Any

import redis
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from broker.platform import db, leases, queue
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
# Carries out a claimed row and up to ``limit`` - 1 other due rows of its kind, each in
# its own transaction; adds those it gives up on to ``failed``; returns how many it did.
Batcher = Callable[[Session, "OutboxMessage", set[int], int], int]
_handlers: dict[str, Handler] = {}
_batchers: dict[str, Batcher] = {}
_relay_after_commit = {"on": False}
REDRIVE_AFTER = timedelta(minutes=5)
JOB_FUNC = "broker.jobs.run_outbox"
DRAIN_FUNC = "broker.jobs.drain_outbox"
BELL_PREFIX = "aidbroker:outbox:bell:"
BELL_SECONDS = 30  # a bell whose job was lost rings again after this
DRAIN_ROWS = 500  # one job carries out at most this many rows …
DRAIN_SECONDS = 20.0  # … for at most this long, then hands over to a fresh job
IN_PROGRESS = "in progress elsewhere"


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
) -> OutboxMessage:
    """Write work to do once this transaction commits."""
    # Stamped as relayed in this same transaction when the after-commit relay is on, so
    # that a commit costs no second write; the stamp is taken back if the relay fails.
    msg = OutboxMessage(
        kind=kind,
        payload=payload,
        queue=queue_name,
        due_at=due_at or utcnow(),
        enqueued_at=utcnow() if _relay_after_commit["on"] else None,
    )
    session.add(msg)
    session.info.setdefault("outbox", []).append(msg)
    return msg


def batched(kind: str) -> Callable[[Batcher], Batcher]:
    """Register the runner a draining job hands each row of ``kind`` it claims."""

    def register(fn: Batcher) -> Batcher:
        _batchers[kind] = fn
        return fn

    return register


def relay_after_commit() -> None:
    """Relay each unit of work's rows to RQ right after its commit, in this process (the
    web app and the workers); without it, only the periodic :func:`relay` moves them."""
    db.on_after_commit(relay_committed)
    _relay_after_commit["on"] = True


def _enqueue(msg_id: int, queue_name: str, due_at: datetime, *, redrive: bool = False) -> bool:
    """Put one row on RQ; True if it is (now or already) there. On a re-drive, a job
    that RQ has given up on (failed, stopped, or lost with a killed worker) is replaced."""
    q = queue.queue(queue_name)
    job_id = f"outbox-{msg_id}"
    kwargs = {"job_id": job_id, "unique": True, "result_ttl": 600, "failure_ttl": 86400}
    for _ in range(2):
        try:
            if due_at > utcnow() + timedelta(seconds=1):
                q.enqueue_at(due_at, JOB_FUNC, msg_id, **kwargs)
            else:
                q.enqueue(JOB_FUNC, msg_id, **kwargs)
            return True
        except DuplicateJobError:
            if not redrive:
                return True
            try:
                job = Job.fetch(job_id, connection=q.connection)
            except NoSuchJobError:
                continue
            if job.get_status(refresh=True) in (
                JobStatus.QUEUED,
                JobStatus.SCHEDULED,
                JobStatus.DEFERRED,
            ):
                return True
            job.delete()
    return True


def ring(queue_name: str) -> bool:
    """Ring the queue's bell: True if nobody had, so the caller must enqueue a job."""
    return bool(queue.connection().set(BELL_PREFIX + queue_name, b"1", nx=True, ex=BELL_SECONDS))


def answer(queue_name: str) -> None:
    """Clear the bell as a job starts, before it reads the table (never raises)."""
    try:
        queue.connection().delete(BELL_PREFIX + queue_name)
    except (redis.RedisError, OSError) as exc:
        log.warning("cannot clear the outbox bell of %s: %s", queue_name, exc)


def relay_committed(session: Session) -> None:
    """After-commit hook: relay the rows this unit of work wrote — a job for a row due
    now only if no job for its queue is already waiting. Never raises for Redis."""
    msgs: list[OutboxMessage] = session.info.pop("outbox", [])
    if not msgs:
        return
    done = set()
    soon = utcnow() + timedelta(seconds=1)
    try:
        for m in msgs:
            if m.due_at > soon or ring(m.queue):
                _enqueue(m.id, m.queue, m.due_at)
            done.add(m.id)
    except (redis.RedisError, OSError) as exc:
        log.warning("outbox relay deferred, Redis unavailable: %s", exc)
    # add() stamped every row as relayed (the hook and the stamp are switched on together).
    if missed := [m.id for m in msgs if m.id not in done]:
        _unmark(session, missed)


def _unmark(session: Session, ids: list[int]) -> None:
    """Leave rows the relay could not hand over to the periodic relay (best effort: if
    the database is gone too, the reconciler finds them without a job)."""
    try:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(enqueued_at=None))
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not mark outbox rows %s as not relayed", ids)


def _mark_enqueued(session: Session, ids: list[int]) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(enqueued_at=utcnow()))
    session.commit()


def relay(session: Session, limit: int = 500) -> int:
    """Enqueue rows never enqueued, or enqueued long ago and still not processed (a lost
    job). Returns how many were put on RQ. Raises if Redis is down."""
    now = utcnow()
    stale = now - REDRIVE_AFTER
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.queue, OutboxMessage.due_at)
        .where(OutboxMessage.processed_at.is_(None))
        # A row enqueued long ago and not yet processed was lost (a killed worker, a
        # flushed Redis) — unless it is still waiting in RQ's schedule for its due time.
        .where(
            or_(
                OutboxMessage.enqueued_at.is_(None),
                and_(OutboxMessage.enqueued_at < stale, OutboxMessage.due_at <= now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    ids = [r.id for r in rows if _enqueue(r.id, r.queue, r.due_at, redrive=True)]
    if ids:
        _mark_enqueued(session, ids)
        # Not the usual path (rows go to RQ right after their commit): worth one line.
        log.info("outbox relay: %d row(s) put on RQ by the periodic pass (%s)", len(ids), _span(ids))
    else:
        session.rollback()
    return len(ids)


def _span(ids: list[int]) -> str:
    return f"#{ids[0]}" if len(ids) == 1 else f"#{ids[0]}…#{ids[-1]}"


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
        answer(queue_name)
    try:
        return run(session, msg_id)
    finally:
        if queue_name:
            drain(session, queue_name)


def drain(session: Session, queue_name: str, rows: int = DRAIN_ROWS, seconds: float = DRAIN_SECONDS) -> int:
    """Carry out due, unprocessed rows of ``queue_name`` one transaction each, oldest
    first, until none is left or the budget is spent (then a fresh job takes over). Rows
    locked by another job are skipped; a row that fails is left to its retries. Returns
    how many rows were carried out."""
    deadline = time.monotonic() + seconds
    failed: set[int] = set()
    done = 0
    while done < rows and time.monotonic() < deadline:
        msg = claim(session, queue_name, failed)
        if msg is None:
            session.rollback()
            return done
        _call_for_help(queue_name)
        msg_id = msg.id
        if (batch := _batchers.get(msg.kind)) is not None:
            done += batch(session, msg, failed, rows - done)
            continue
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
        if ring(queue_name):
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
