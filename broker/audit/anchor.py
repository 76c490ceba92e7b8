"""The anchor: the chain's head (its position, the event's id, and its hash), kept in
Redis, outside the database, so that rows cut from the end of the chain are found (see
:mod:`broker.audit.chain`)."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import redis
from redis.commands.core import Script
from sqlalchemy.orm import Session

from broker.platform import queue

log = logging.getLogger(__name__)

ANCHOR_PREFIX = "aidbroker:audit:head:"
ANCHOR_RETRY_SECONDS = 30.0

_anchor_state: dict[str, float] = {"retry_at": 0.0}
# ARGV: new head position, its hash, the position and hash this step chained onto, and
# the new head's event id. A head not later than the anchored one is a late report
# (chainers may report out of order) and changes nothing. A later head must have been
# chained onto the anchored position or after it: the chain lock orders chainers, so
# every head anchored so far is below the base of any step that locked after it. A later
# head chained onto a position *before* the anchored one (or onto the anchored one with
# another hash) proves rows were cut or rewritten since: the anchor then records that,
# for good, and stops moving (else the following steps would paper over the cut). An
# anchor written before positions existed has only ``id``: existing events took their
# id as their position, so it reads as one.
_ADVANCE = """
if redis.call('HEXISTS', KEYS[1], 'broken') == 1 then return -1 end
local cur = redis.call('HGET', KEYS[1], 'seq') or redis.call('HGET', KEYS[1], 'id')
if cur then
  cur = tonumber(cur)
  if tonumber(ARGV[1]) <= cur then return 0 end
  local base = tonumber(ARGV[3])
  if base < cur or (base == cur and redis.call('HGET', KEYS[1], 'hash') ~= ARGV[4]) then
    redis.call('HSET', KEYS[1], 'broken', ARGV[3])
    return -1
  end
end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'hash', ARGV[2], 'id', ARGV[5])
return 1
"""


# Sent by its SHA (EVALSHA, the script itself only on a NOSCRIPT): every commit runs it.
_advance = Script(None, _ADVANCE.encode())


def anchor_key(session: Session) -> str:
    """One anchor per database (several databases may share one Redis)."""
    url = session.get_bind().url
    ident = f"{url.get_backend_name()}|{url.host or ''}|{url.port or ''}|{url.database or ''}"
    return ANCHOR_PREFIX + hashlib.sha256(ident.encode()).hexdigest()[:16]


def _redis() -> redis.Redis | None:
    """Redis, unless it failed a moment ago (then commits do not wait on it again)."""
    if time.monotonic() < _anchor_state["retry_at"]:
        return None
    try:
        return queue.connection()
    except RuntimeError:  # Redis not configured in this process (e.g. schema tools)
        return None


def _redis_failed(exc: Exception) -> None:
    _anchor_state["retry_at"] = time.monotonic() + ANCHOR_RETRY_SECONDS
    log.warning("audit anchor not updated, Redis unavailable: %s", exc)


def _push_anchor(
    session: Session, seq: int, event_hash: str, base_seq: int, base_hash: str, *, event_id: int | None = None
) -> bool:
    """Anchor the head at position ``seq`` (event ``event_id``, by default the same
    number), chained onto position ``base_seq``, unless a later one is anchored already;
    False if Redis is out of reach (the next chaining step anchors a later head)."""
    conn = _redis()
    if conn is None:
        return False
    args = [seq, event_hash, base_seq, base_hash, seq if event_id is None else event_id]
    try:
        _advance(keys=[anchor_key(session)], args=args, client=conn)
    except (redis.RedisError, OSError) as exc:
        _redis_failed(exc)
        return False
    return True


@dataclass(frozen=True)
class Anchor:
    """The anchored head: the event's id and hash, and its position in the chain."""

    id: int
    hash: str
    # Set when a chaining step went on from position ``broken_base``, before this head.
    broken_base: int | None = None
    seq: int | None = None

    @property
    def position(self) -> int:
        return self.id if self.seq is None else self.seq


def read_anchor(session: Session) -> Anchor | None:
    """The head last anchored, or None (never anchored, or Redis unreachable)."""
    conn = _redis()
    if conn is None:
        return None
    try:
        data = conn.hgetall(anchor_key(session))
    except (redis.RedisError, OSError) as exc:
        _redis_failed(exc)
        return None
    if not data or b"hash" not in data:
        return None
    broken = data.get(b"broken")
    seq = data.get(b"seq")
    return Anchor(
        int(data[b"id"]),
        data[b"hash"].decode(),
        None if broken is None else int(broken),
        None if seq is None else int(seq),
    )
