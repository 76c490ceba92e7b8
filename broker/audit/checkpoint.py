"""The verified checkpoint: how far the chain was last verified (position, hash, events
up to it, when) and when it was last verified in full, kept in Redis beside the anchor,
so that the auditor's dashboard verifies on from it instead of from the start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy.orm import Session

from broker.audit.anchor import _redis, anchor_key
from models.base import utcnow

CHECKPOINT_PREFIX = "aidbroker:audit:checkpoint:"


@dataclass(frozen=True)
class Checkpoint:
    """How far the chain was last verified (position, hash, events up to it, when), and
    when it was last verified in full and up to where."""

    seq: int | None
    hash: str | None
    events: int
    at: datetime | None
    full_at: datetime | None
    full_seq: int | None
    full_id: int | None = None  # the event at full_seq, as people name it
    full_ok: bool | None = None  # whether that full verify found the chain intact


def checkpoint_key(session: Session) -> str:
    return CHECKPOINT_PREFIX + anchor_key(session)[-16:]


def read_checkpoint(session: Session) -> Checkpoint | None:
    """The last verified checkpoint (None: never verified, or Redis unreachable)."""
    conn = _redis()
    if conn is None:
        return None
    try:
        data = {k.decode(): v.decode() for k, v in conn.hgetall(checkpoint_key(session)).items()}
    except (redis.RedisError, OSError):
        return None
    if not data:
        return None

    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(data[name]) if data.get(name) else None

    return Checkpoint(
        int(data["seq"]) if data.get("seq") else None,
        data.get("hash") or None,
        int(data.get("events") or 0),
        when("at"),
        when("full_at"),
        int(data["full_seq"]) if data.get("full_seq") else None,
        int(data["full_id"]) if data.get("full_id") else None,
        None if not data.get("full_ok") else data["full_ok"] == "1",
    )


def keep_checkpoint(session: Session, result: Any, *, full: bool) -> None:
    """Move the checkpoint to the head just verified (``result``, a
    :class:`~broker.audit.verification.VerifyResult`); a chain found broken clears it
    (the next verify walks from the start again). Best effort: Redis may be away."""
    conn = _redis()
    if conn is None:
        return
    key = checkpoint_key(session)
    now = (result.checked_at or utcnow()).isoformat()
    try:
        if not result.ok:
            conn.hdel(key, "seq", "hash", "events", "at")
            if full:
                conn.hset(key, mapping={"full_at": now, "full_seq": "", "full_id": "", "full_ok": "0"})
            return
        mapping = {"at": now, "events": result.events}
        if result.head_seq is not None and result.head_hash is not None:
            mapping.update(seq=result.head_seq, hash=result.head_hash)
        if full:
            mapping.update(full_at=now, full_seq=result.head_seq or 0, full_id=result.head_id or 0, full_ok="1")
        conn.hset(key, mapping=mapping)
    except (redis.RedisError, OSError):
        return
