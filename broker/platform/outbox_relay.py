"""The outbox's relay: rows a transaction wrote go onto RQ right after its commit, and a
periodic pass puts on RQ what that missed (Redis down at the moment, a job lost).

A job is enqueued per *bell*, not per row (see :mod:`broker.platform.outbox`): the
relay rings its queue's bell, a Redis key set with NX, and enqueues a job only if nobody
had; the job clears the bell as it starts, before it reads the table.

A row due later than :data:`HORIZON` from now (an offer's deadline hours away, a
reminder due in days) is not put on RQ's schedule when it is committed: it waits in the
table, which is the truth, and the periodic pass schedules it once it falls due within
the horizon. Routing spends no Redis write per offer on a deadline that mostly never
fires (the partner answers first), and a Redis that restarts empty loses no deadline."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

import redis
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from broker.platform import bells, db, queue
from models import OutboxMessage
from models.base import utcnow

log = logging.getLogger(__name__)

REDRIVE_AFTER = timedelta(minutes=5)
# Rows due within this are put on RQ as they are committed; later ones by the periodic
# pass (every few seconds) as they come within it.
HORIZON = timedelta(seconds=60)
JOB_FUNC = "broker.jobs.run_outbox"
BELL_PREFIX = "aidbroker:outbox:bell:"
BELL_SECONDS = 30  # a bell whose job was lost rings again after this
WRITTEN = "outbox_written"  # session.info: the rows written, relayed after the commit
_state = {"on": False}


@dataclass(frozen=True)
class Written:
    """A row written by the transaction that just committed, to relay."""

    id: int
    queue: str
    due_at: datetime
    belled: bool = False  # due now: its queue's bell rings after the commit (else scheduled)


def near(due_at: datetime, now: datetime) -> bool:
    """Whether a row due at ``due_at`` goes on RQ now (or onto its schedule), rather
    than waiting in the table for the periodic pass."""
    return due_at <= now + HORIZON


def is_on() -> bool:
    """Whether this process relays right after each commit (then rows are written as
    relayed, and the stamp is taken back for any the relay could not hand over)."""
    return _state["on"]


def relay_after_commit() -> None:
    """Relay each unit of work's rows to RQ right after its commit, in this process (the
    web app and the workers); without it, only the periodic :func:`relay` moves them."""
    db.on_after_commit(relay_committed)
    _state["on"] = True


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


def ring_for(session: Session, written: list[Written]) -> list[Written]:
    """Before the commit: have the bell of each queue that rows due now were written to
    rung after it (see :mod:`broker.platform.bells`; the first such row's job answers).
    Returns the rows, each marked as belled or not: decided here, once, for the hook
    after the commit."""
    soon = utcnow() + timedelta(seconds=1)
    marked = []
    for m in written:
        if m.due_at <= soon:
            bells.ring_after_commit(
                session, bells.Bell(BELL_PREFIX + m.queue, BELL_SECONDS, partial(_enqueue, m.id, m.queue, m.due_at))
            )
            m = replace(m, belled=True)
        marked.append(m)
    return marked


def relay_committed(session: Session) -> None:
    """After-commit hook: put on RQ's schedule the rows this unit of work wrote due later
    (rows due now went with their queue's bell); leave to the periodic relay those whose
    bell or job could not be handed to Redis. Never raises for Redis."""
    msgs: list[Written] = session.info.pop(WRITTEN, [])
    if not msgs:
        return
    failed_bells = session.info.pop(bells.FAILED, set())
    done = set()
    try:
        for m in msgs:
            if not m.belled:
                _enqueue(m.id, m.queue, m.due_at)
                done.add(m.id)
            elif BELL_PREFIX + m.queue not in failed_bells:
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
    """Enqueue rows never enqueued that are due within the :data:`HORIZON`, and rows
    enqueued long ago and still not processed (a lost job). Returns how many were put on
    RQ. Raises if Redis is down."""
    now = utcnow()
    stale = now - REDRIVE_AFTER
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.queue, OutboxMessage.due_at)
        .where(OutboxMessage.processed_at.is_(None))
        # A row enqueued long ago and not yet processed was lost (a killed worker, a
        # flushed Redis) — unless it is still waiting in RQ's schedule for its due time.
        .where(
            or_(
                and_(OutboxMessage.enqueued_at.is_(None), OutboxMessage.due_at <= now + HORIZON),
                and_(OutboxMessage.enqueued_at < stale, OutboxMessage.due_at <= now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    ids = [r.id for r in rows if _enqueue(r.id, r.queue, r.due_at, redrive=True)]
    if ids:
        _mark_enqueued(session, ids)
        # Rows coming due, and rows a commit could not hand over: worth one line.
        log.info("outbox relay: %d row(s) put on RQ by the periodic pass (%s)", len(ids), _span(ids))
    else:
        session.rollback()
    return len(ids)


def _span(ids: list[int]) -> str:
    return f"#{ids[0]}" if len(ids) == 1 else f"#{ids[0]}…#{ids[-1]}"
