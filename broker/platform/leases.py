"""Leases on outbox rows whose handler calls out (see :class:`broker.platform.outbox.CallOut`).

While a job calls another system for a row, the row stays unprocessed (its result is
not yet recorded) and a Redis key names the job holding it, for at most the call's
budget. A duplicate job finds the key and leaves the row alone; a job re-run under the
same id after its process died, or any job once RQ no longer runs the holder, takes the
row over."""

from __future__ import annotations

import logging
import os
import threading

import redis
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from broker.platform import queue

log = logging.getLogger(__name__)
PREFIX = "aidbroker:outbox:lease:"

# KEYS: the lease. ARGV: holder, ttl (ms), a holder known to be gone ("" if none).
_TAKE = """
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] or current == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return current
"""
_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def holder() -> str:
    """Who calls out: the RQ job (a job re-run under its id after a crash takes its own
    lease back), or this process and thread outside a job."""
    job = get_current_job()
    return f"job:{job.id}" if job is not None else f"proc:{os.getpid()}:{threading.get_ident()}"


def gone(holder: str) -> bool:
    """True when the holder is a job RQ no longer runs (its process died)."""
    if not holder.startswith("job:"):
        return False  # a process outside RQ: its lease runs out on its own
    try:
        status = Job.fetch(holder[4:], connection=queue.connection()).get_status(refresh=True)
    except NoSuchJobError:
        return True
    return status != JobStatus.STARTED


def take(msg_id: int, holder: str, seconds: float) -> bool:
    """Hold the row for one call out; False while another live job holds it. Without
    Redis there is no job to race with (the call goes ahead: at least once)."""
    key, ttl = PREFIX + str(msg_id), max(1000, int(seconds * 1000))
    try:
        conn = queue.connection()
        got = conn.eval(_TAKE, 1, key, holder, ttl, "")
        if got == 1:
            return True
        current = got.decode() if isinstance(got, bytes) else str(got)
        return gone(current) and conn.eval(_TAKE, 1, key, holder, ttl, current) == 1
    except (redis.RedisError, OSError) as exc:
        log.warning("outbox row %s calls out without a lease, Redis unavailable: %s", msg_id, exc)
        return True


def drop(msg_id: int, holder: str) -> None:
    try:
        queue.connection().eval(_DROP, 1, PREFIX + str(msg_id), holder)
    except (redis.RedisError, OSError) as exc:
        log.warning("cannot drop the lease of outbox row %s (it runs out by itself): %s", msg_id, exc)
