"""The reconciler: a periodic sweep that keeps the loop closed whatever was lost on the
way — a deadline job dropped with Redis, a routing job that never ran, a completion
that did not happen. Every step is one a handler would have taken, from the state the
database holds, so running it twice (or alongside the handlers) changes nothing more.

- outbox jobs RQ gave up on (a worker killed mid-job, a job that raised, a job Redis
  lost) are handed back to the relay at once rather than when they look stale;
- offers past their ``respond_by`` and still unanswered expire (and re-route);
- active requests still ``routing`` with nothing on offer and no routing pending are
  routed;
- unmatched requests whose caseworker chose "retry automatically" are reopened for
  routing as soon as a partner (or a fund topped up) could take them;
- money requests whose disbursements already cover them complete;
- follow-up visits whose day has come and that nobody marked due (their job lost) are
  marked due, and the caseworkers told."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from broker.platform import queue
from broker.referral import followups, lifecycle, offers, routing
from models import AidRequest, Offer, OutboxMessage
from models.base import utcnow

log = logging.getLogger(__name__)
# A request this long without an offer and without a routing job waiting is stuck.
STUCK_AFTER = timedelta(minutes=2)
# A job that keeps failing is left to the relay's slower re-drive after this many tries.
MAX_REDRIVES = 20
GIVEN_UP = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


@dataclass
class SweepResult:
    redriven: int = 0
    expired: int = 0
    rerouted: int = 0
    retried: int = 0
    completed: int = 0
    follow_ups_due: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _each(session: Session, ids: list[int], step, result: SweepResult) -> int:  # noqa: ANN001 - a callable
    """Run ``step`` for each id in its own savepoint, so one bad row does not stop the rest."""
    done = 0
    for item_id in ids:
        try:
            with session.begin_nested():
                if step(item_id):
                    done += 1
        except Exception:
            log.exception("reconciler step %s failed for %s", step.__name__, item_id)
            result.errors += 1  # what it queued for the audit log and the outbox went with its savepoint
    return done


def overdue_offer_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.execute(
            select(Offer.id)
            .where(Offer.status.in_(lifecycle.UNANSWERED), Offer.respond_by <= now)
            .order_by(Offer.respond_by, Offer.id)
            .limit(limit)
        ).scalars()
    )


def stuck_request_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Requests waiting for routing that have no live offer and no routing job pending."""
    live = exists().where(Offer.request_id == AidRequest.id, Offer.status.in_(lifecycle.LIVE))
    candidates = list(
        session.execute(
            select(AidRequest.id)
            .where(
                AidRequest.status == "active",
                AidRequest.routing_state == "routing",
                AidRequest.updated_at <= now - STUCK_AFTER,
                ~live,
            )
            .order_by(AidRequest.id)
            .limit(limit)
        ).scalars()
    )
    if not candidates:
        return []
    pending = {
        int(payload.get("request_id", 0))
        for payload in session.execute(
            select(OutboxMessage.payload).where(
                OutboxMessage.kind == "route_request", OutboxMessage.processed_at.is_(None)
            )
        ).scalars()
    }
    return [rid for rid in candidates if rid not in pending]


def auto_retry_ids(session: Session, limit: int) -> list[int]:
    """Unmatched requests whose caseworker chose to retry automatically."""
    return list(
        session.execute(
            select(AidRequest.id)
            .where(
                AidRequest.status == "active",
                AidRequest.routing_state == lifecycle.UNMATCHED,
                AidRequest.auto_retry.is_(True),
            )
            .order_by(AidRequest.id)
            .limit(limit)
        ).scalars()
    )


def covered_request_ids(session: Session, limit: int) -> list[int]:
    return list(
        session.execute(
            select(AidRequest.id)
            .where(
                AidRequest.status == "active",
                AidRequest.amount_fen.is_not(None),
                AidRequest.disbursed_fen >= AidRequest.amount_fen,
            )
            .limit(limit)
        ).scalars()
    )


def redrive_lost_jobs(session: Session, now: datetime, limit: int) -> int:
    """Outbox rows relayed to RQ, due, not processed, whose job RQ no longer runs: mark
    them not enqueued, so that the relay puts them back on the queue (replacing the dead
    job). A job still queued, scheduled or running is left alone. Redis down: nothing."""
    rows = session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.processed_at.is_(None),
            OutboxMessage.enqueued_at.is_not(None),
            OutboxMessage.due_at <= now,
            OutboxMessage.attempts < MAX_REDRIVES,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).scalars()
    lost = []
    try:
        conn = queue.connection()
        for msg_id in rows:
            try:
                status = Job.fetch(f"outbox-{msg_id}", connection=conn).get_status(refresh=True)
            except NoSuchJobError:
                status = None
            if status is None or status in GIVEN_UP:
                lost.append(msg_id)
    except (redis.RedisError, OSError) as exc:
        log.warning("reconciler cannot see RQ (%s); jobs are re-driven once Redis is back", exc)
        return 0
    if lost:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(lost)).values(enqueued_at=None))
        log.info("re-driving outbox rows whose jobs were lost: %s", lost)
    return len(lost)


def sweep(session: Session, now: datetime | None = None, limit: int = 500) -> SweepResult:
    """One pass of the reconciler. ``now`` may be given to judge deadlines against
    another clock (tests, and an operator catching up after downtime)."""
    now = now or utcnow()
    result = SweepResult()

    def expire(offer_id: int) -> bool:
        return offers.expire(session, offer_id, now=now) == "expired"

    def reroute(request_id: int) -> bool:
        req = lifecycle.lock_request(session, request_id)
        if req.status != "active" or req.routing_state != "routing":
            return False
        lifecycle.request_route(session, req.id)
        return True

    def retry(request_id: int) -> bool:
        """Reopen only when routing would now ask someone: a request nobody can take
        yet stays unmatched, with no new audit event, however often the sweep runs."""
        req = lifecycle.lock_request(session, request_id)
        if req.status != "active" or req.routing_state != lifecycle.UNMATCHED or not req.auto_retry:
            return False
        picks, _decision, _reasons = routing.plan(session, req)
        if not picks:
            return False
        lifecycle.reopen(session, req, by="reconciler: retry automatically")
        return True

    def complete(request_id: int) -> bool:
        return lifecycle.settle(session, lifecycle.lock_request(session, request_id)) == "completed"

    result.redriven = redrive_lost_jobs(session, now, limit)
    result.expired = _each(session, overdue_offer_ids(session, now, limit), expire, result)
    result.rerouted = _each(session, stuck_request_ids(session, now, limit), reroute, result)
    result.retried = _each(session, auto_retry_ids(session, limit), retry, result)
    result.completed = _each(session, covered_request_ids(session, limit), complete, result)

    def follow_up(follow_up_id: int) -> bool:
        return followups.mark_due(session, follow_up_id, now=now) == "due"

    result.follow_ups_due = _each(session, followups.due_ids(session, now, limit), follow_up, result)
    return result
