"""Bells rung right after a commit, all of a commit's bells in one Redis round trip.

A bell is a Redis key set with NX and an expiry by whoever has work for a job: the one
who sets it enqueues the job; whoever finds it set leaves the work to the job already
waiting, which clears the bell as it starts (the outbox's queues, the audit chainer).
A commit that wrote an outbox row and audit events rings two bells; here they go out
together, and only a bell this commit set costs a second call (its job's enqueue)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from broker.platform import queue

log = logging.getLogger(__name__)

_PENDING = "bells_pending"  # session.info, until the commit: key → Bell (a rollback forgets them: pending)
FAILED = "bells.failed"  # session.info, after the commit: keys of bells not rung or not answered


@dataclass(frozen=True)
class Bell:
    """``key`` set for ``seconds`` (a bell whose job was lost rings again after that);
    ``enqueue`` puts on RQ the job that answers it, called only by the commit that set it."""

    key: str
    seconds: int
    enqueue: Callable[[], object]


def ring_after_commit(session: Session, bell: Bell) -> None:
    """Ring ``bell`` once this transaction has committed (once, however often asked)."""
    session.info.setdefault(_PENDING, {}).setdefault(bell.key, bell)


@event.listens_for(Session, "after_commit")
def _ring(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(FAILED, None)  # an earlier commit's, left unread
    bells: list[Bell] = list(session.info.pop(_PENDING, {}).values())
    if not bells:
        return
    try:
        pipe = queue.connection().pipeline(transaction=False)
        for bell in bells:
            pipe.set(bell.key, b"1", nx=True, ex=bell.seconds)
        rung = pipe.execute()
    except (redis.RedisError, OSError, RuntimeError) as exc:
        log.warning("bells not rung, Redis unavailable: %s", exc)
        session.info[FAILED] = {bell.key for bell in bells}
        return
    failed = set()
    for bell, mine in zip(bells, rung, strict=True):
        if not mine:
            continue
        try:
            bell.enqueue()
        except (redis.RedisError, OSError) as exc:
            log.warning("job for %s not enqueued, Redis unavailable: %s", bell.key, exc)
            failed.add(bell.key)
    if failed:
        session.info[FAILED] = failed
