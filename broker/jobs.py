"""RQ job entry points. Each is a thin call into the domain by id and safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from rq import get_current_job
from sqlalchemy.orm import Session

from broker import boot
from broker.platform import actor, db, outbox, outbox_relay, runtime

log = logging.getLogger(__name__)


@contextmanager
def _session(as_actor: str = "system") -> Iterator[Session]:
    """What every job runs in: the runtime initialised, the actor its audit events name,
    and a session removed afterwards (a forked job must not leave one to the next)."""
    boot.ensure()
    actor.set_actor(as_actor)
    try:
        yield db.session()
    finally:
        db.session.remove()


def run_outbox(msg_id: int) -> str:
    """Carry out one outbox row, then the other due rows of the job's queue (see
    :func:`broker.platform.outbox.work`)."""
    job = get_current_job()
    with _session() as session:
        return outbox.work(session, msg_id, job.origin if job else None)


def drain_outbox(queue_name: str) -> int:
    """Carry out the due rows of ``queue_name``: a helper called in by a busy job."""
    with _session() as session:
        outbox_relay.answer(queue_name)
        return outbox.drain(session, queue_name)


def relay_outbox() -> int:
    """Periodic: move due outbox rows onto RQ (drains the backlog after a Redis outage)."""
    with _session() as session:
        return outbox_relay.relay(session, runtime.settings()["RELAY_BATCH"])


def chain_audit() -> int:
    """Link committed audit events into the chain (rung after each commit that wrote
    some; safe to run twice and concurrently: the chainer takes the chain lock)."""
    from broker import audit

    with _session() as session:
        audit.answer_bell(session)
        done = audit.chain_pending(session)
    return done


def chain_audit_periodic() -> int:
    """Periodic: chain whatever a lost bell or job left unchained (after a Redis outage)."""
    from broker import audit

    with _session() as session:
        done = audit.chain_pending(session)
    if done:
        log.info("audit chain: %d event(s) chained", done)
    return done


def verify_audit_chain() -> bool:
    """Periodic: verify the whole audit chain (what the dashboard's incremental verify
    cannot see: a row edited below its checkpoint); a broken chain is logged as an error."""
    from broker import audit

    with _session() as session:
        result = audit.verify(session)
    if not result.ok:
        log.error("audit chain BROKEN at event %s: %s", result.first_bad, result.reason)
    elif result.unchained_stale:
        log.warning("audit chain: %d event(s) unchained for %.0fs", result.unchained, result.unchained_seconds)
    return result.ok


def noop(n: int = 0) -> int:
    """A job that does nothing: the baseline for benchmarks and the health round trip."""
    return n


def sweep_overdue_applications() -> int:
    """Periodic: remind caseworkers of applications past their deadline whose scheduled
    reminder was lost (the safety net behind the outbox reminders)."""
    from broker.policy import reminders

    return _sweep(reminders.sweep_overdue, "overdue applications: %d caseworker reminder(s) sent")


def refresh_birthdays() -> int:
    """Periodic: recompute the age-based facts of households with a birthday this week, so
    that the policy scan finds a child who turned 6 or a parent who turned 60 that day."""
    from broker.registry import ages

    return _sweep(ages.refresh_birthdays, "birthdays: facts of %d household(s) changed")


def sweep_overdue_concerns() -> int:
    """Periodic: pass to the auditors every concern left unanswered past its deadline
    whose scheduled escalation was lost (the safety net behind the outbox jobs)."""
    from broker.people import concern_deadlines

    return _sweep(concern_deadlines.sweep_overdue, "overdue concerns: %d passed to the auditors")


def sweep_missed_care_contacts() -> int:
    """Periodic: record the care-plan contacts missed whose scheduled check was lost, and
    tell the caseworkers (the safety net behind the outbox checks)."""
    from broker.community import care_misses

    return _sweep(care_misses.sweep, "care plans: %d missed contact(s) recorded")


def reconcile(now_iso: str | None = None) -> dict[str, int]:
    """Periodic: expire overdue offers, re-route stuck requests, complete covered ones
    (the safety net behind the deadline jobs). ``now_iso`` judges deadlines against
    another clock, for an operator catching up after downtime."""
    from broker.referral import reconcile as reconciler

    with _session("system:reconciler") as session:
        result = reconciler.sweep(session, now=datetime.fromisoformat(now_iso) if now_iso else None)
        db.commit()
    done = {step: n for step, n in result.as_dict().items() if n}
    if done:  # a pass that found nothing to do says nothing
        log.log(logging.WARNING if result.errors else logging.INFO, "reconciler: %s", _counts(done))
    return result.as_dict()


def purge_idempotency_keys() -> int:
    """Periodic: forget idempotency keys past their keeping period (replays are for a
    client's retries, not for ever)."""
    from broker.platform import idempotency

    return _sweep(idempotency.purge, "idempotency keys: %d past their keeping period forgotten")


def apply_retention() -> int:
    """Periodic: erase what is past its retention period after a household left the
    registry (safe to run twice: an erased kind is not erased again)."""
    from broker.erasure import retention

    return _sweep(lambda s: retention.apply_retention(s).erased, "retention: %d household(s) erased")


def _sweep(step: Callable[[Session], int], message: str) -> int:
    """Run one periodic clean-up as ``system`` and commit; log ``message`` only when it
    did something."""
    with _session() as session:
        done = step(session)
        db.commit()
    if done:
        log.info(message, done)
    return done


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {step}" for step, n in counts.items())
