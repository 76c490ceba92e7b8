"""The transactional outbox.

A state change and the work it triggers are written in one transaction (:func:`add`).
After the commit, :func:`relay_committed` copies the new rows onto RQ; if Redis is down
the API call still succeeds and the periodic :func:`relay` drains the backlog later.
Jobs are enqueued with the deterministic id ``outbox-<id>`` and ``unique=True``, and
:func:`run` marks a row processed in the same transaction as its work, so a row is
applied at most once however often it is delivered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from broker import db, queue
from models import OutboxMessage
from models.base import utcnow

log = logging.getLogger(__name__)
Handler = Callable[[Session, dict], None]
_handlers: dict[str, Handler] = {}
REDRIVE_AFTER = timedelta(minutes=5)
JOB_FUNC = "broker.jobs.run_outbox"


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
    msg = OutboxMessage(kind=kind, payload=payload, queue=queue_name, due_at=due_at or utcnow())
    session.add(msg)
    session.info.setdefault("outbox", []).append(msg)
    return msg


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


def relay_committed(session: Session) -> None:
    """After-commit hook: relay the rows this unit of work wrote. Never raises for Redis."""
    msgs: list[OutboxMessage] = session.info.pop("outbox", [])
    if not msgs:
        return
    done = []
    try:
        for m in msgs:
            _enqueue(m.id, m.queue, m.due_at)
            done.append(m.id)
    except (redis.RedisError, OSError) as exc:
        log.warning("outbox relay deferred, Redis unavailable: %s", exc)
    if done:
        _mark_enqueued(session, done)


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
    else:
        session.rollback()
    return len(ids)


def run(session: Session, msg_id: int) -> str:
    """Carry out one outbox row exactly once: lock it, skip it if already processed,
    apply its handler and mark it processed in the same transaction."""
    stmt = select(OutboxMessage).where(OutboxMessage.id == msg_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    msg = session.execute(stmt).scalar_one_or_none()
    if msg is None:
        session.rollback()
        return "missing"
    if msg.processed_at is not None:
        session.rollback()
        return "already processed"
    fn = _handlers.get(msg.kind)
    if fn is None:
        raise LookupError(f"no outbox handler for {msg.kind!r}")
    msg.attempts += 1
    try:
        fn(session, dict(msg.payload))
    except Exception as exc:
        session.rollback()
        _note_failure(session, msg_id, exc)
        raise
    msg.processed_at = utcnow()
    db.commit()
    return "done"


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
