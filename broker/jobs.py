"""RQ job entry points. Each is a thin call into the domain by id and safe to run twice."""

from __future__ import annotations

from rq import get_current_job

from broker import actor, db, outbox, runtime


def run_outbox(msg_id: int) -> str:
    """Carry out one outbox row, then the other due rows of the job's queue (see
    :func:`broker.outbox.work`)."""
    runtime.ensure()
    actor.set_actor("system")
    job = get_current_job()
    try:
        return outbox.work(db.session(), msg_id, job.origin if job else None)
    finally:
        db.session.remove()


def drain_outbox(queue_name: str) -> int:
    """Carry out the due rows of ``queue_name``: a helper called in by a busy job."""
    runtime.ensure()
    actor.set_actor("system")
    outbox.answer(queue_name)
    try:
        return outbox.drain(db.session(), queue_name)
    finally:
        db.session.remove()


def relay_outbox() -> int:
    """Periodic: move due outbox rows onto RQ (drains the backlog after a Redis outage)."""
    runtime.ensure()
    try:
        return outbox.relay(db.session(), runtime.settings()["RELAY_BATCH"])
    finally:
        db.session.remove()


def noop(n: int = 0) -> int:
    """A job that does nothing: the baseline for benchmarks and the health round trip."""
    return n


def sweep_overdue_applications() -> int:
    """Periodic: remind caseworkers of applications past their deadline whose scheduled
    reminder was lost (the safety net behind the outbox reminders)."""
    from broker import applications

    runtime.ensure()
    actor.set_actor("system")
    try:
        reminded = applications.sweep_overdue(db.session())
        db.commit()
        return reminded
    finally:
        db.session.remove()


def reconcile(now_iso: str | None = None) -> dict[str, int]:
    """Periodic: expire overdue offers, re-route stuck requests, complete covered ones
    (the safety net behind the deadline jobs). ``now_iso`` judges deadlines against
    another clock, for an operator catching up after downtime."""
    from datetime import datetime

    from broker import reconcile as reconciler

    runtime.ensure()
    actor.set_actor("system:reconciler")
    try:
        now = datetime.fromisoformat(now_iso) if now_iso else None
        result = reconciler.sweep(db.session(), now=now)
        db.commit()
        return result.as_dict()
    finally:
        db.session.remove()


def purge_idempotency_keys() -> int:
    """Periodic: forget idempotency keys past their keeping period (replays are for a
    client's retries, not for ever)."""
    from broker import idempotency

    runtime.ensure()
    try:
        purged = idempotency.purge(db.session())
        db.commit()
        return purged
    finally:
        db.session.remove()
