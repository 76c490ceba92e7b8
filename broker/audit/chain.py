"""The hash-chained audit log: what a row hashes to, how events are written, and how the
chainer links them.

Domain code calls :func:`record` for every state change; the events are inserted in the
same transaction, just before it commits, *unchained*: no lock, no read of the chain's
head, so no write waits on another. After the commit the chainer (:func:`chain_pending`:
an RQ job rung after each commit, the periodic job in ``broker.cron``, or inline when
testing) links committed events in batches, in id order, each event taking the next
position (``chain_seq``) with its ``prev_hash`` and ``hash``. Only the chainer takes the
chain lock, for one short transaction per batch. On PostgreSQL ids are drawn at insert
and commits land in any order, so the chain is walked by position, never by id.

What the chain proves, and what it does not:

* An edited row no longer hashes to its ``hash``; a deleted or inserted row breaks the
  link (``prev_hash``) of the row after it. :func:`~broker.audit.verification.verify`
  names the first bad row.
* Deleting rows at the *end* leaves a shorter chain that is still internally valid. So
  the head of the chain (position, id and hash) is also kept outside the database, in
  Redis, after every chaining step (monotonically: only a later position replaces it;
  see :mod:`broker.audit.anchor`). Verifying then requires the anchored row to be there
  with the anchored hash, which also catches a chain rewritten from some row onwards with
  recomputed hashes; and a step that goes on from a row before the anchored head marks
  the anchor broken for good, so new events chained on top of a cut tail do not hide it.
* An event is protected from the moment it is chained (seconds after its commit while
  the workers run). Before that it is in the *unchained tail*, which verifying reports
  (how many events, and the age of the oldest) but cannot vouch for.
* The chain holds no personal data: a row names people only by id and carries
  ``digest``, an HMAC (keyed with ``AUDIT_KEY``) of what changed. The readable before,
  after and details live in ``audit_details``, one row per event, where erasing a
  person masks them (``erased_at`` set) without touching the chain. Verifying checks
  every detail row still present against its digest (an edited detail is found) and
  counts the erased ones. The key keeps a digest from being guessed back: without it,
  a known name could be tried against the digest of an erased detail.
* Limits: someone able to write both the database and Redis can still cut the tail
  unseen; heads chained while Redis was unreachable are anchored only by the next
  step that reaches it, so the very last of them could be cut unseen until then; and
  rows *appended* with correctly computed hashes are indistinguishable from real ones
  (the chain is unkeyed: it proves integrity, not authorship). Restoring the database
  from a backup reads as a truncation until the anchor is reset on purpose
  (:func:`~broker.audit.verification.reset_anchor`, ``flask --app app audit reanchor``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.audit.anchor import _push_anchor, _redis, anchor_key
from broker.audit.hashing import (
    CONTENT_COLUMNS,
    DETAIL_COLUMNS,
    GENESIS,
    _Row,
    audit_key,
    canonical_json,
    chain_hash,
    content_of,
    digest_of,
)
from broker.platform import actor as actor_ctx
from broker.platform import bells, inserts, pending, queue, runtime
from models import AuditDetail, AuditEvent
from models.base import utcnow

log = logging.getLogger(__name__)

_LOCK_ID = 0x41494442  # "AIDB"


@dataclass
class _Pending:
    action: str
    object_type: str
    obj: Any
    object_id: int | None
    actor: str
    before: Any
    after: Any
    details: Any
    household_id: int | None
    request_id: int | None
    at: datetime


def record(
    session: Session,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    details: dict | None = None,
    household_id: int | None = None,
    request_id: int | None = None,
    actor: str | None = None,
) -> None:
    """Queue an audit event for this transaction. ``obj`` may still lack an id; it is
    read after the final flush."""
    pending.queue(
        session,
        "audit",
        _Pending(
            action=action,
            object_type=object_type or (obj.__tablename__ if obj is not None else "system"),
            obj=obj,
            object_id=object_id,
            actor=actor or actor_ctx.current(),
            before=before,
            after=after,
            details=details,
            household_id=household_id,
            request_id=request_id,
            at=utcnow(),
        ),
    )


def chain_rows(unchained: Sequence[dict], prev: str, key: bytes | None = None) -> list[dict]:
    """Give each row (dict of AuditEvent columns and the detail columns ``before``,
    ``after``, ``details`` as canonical JSON text) its ``digest`` (unless it has one),
    ``prev_hash`` and ``hash``, continuing from ``prev``. Used by the chainer, the
    migrations and bulk loaders (the benchmark), so that all write what :func:`verify` reads."""
    out = []
    key = key or audit_key()
    for row in unchained:
        row = {**row, "prev_hash": prev}
        if row.get("digest") is None:
            row["digest"] = digest_of(row.get("before"), row.get("after"), row.get("details"), key)
        row["hash"] = prev = chain_hash(prev, content_of(_Row(row)))
        out.append(row)
    return out


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # SQLAlchemy fires commit hooks when a savepoint is released too: the events are
    # written only by the real, outermost commit. They are written unchained: no lock,
    # no read of the chain's head; the chainer links them once they are committed.
    if session.in_nested_transaction():
        return
    queued: list[_Pending] = pending.take(session, "audit")
    if not queued:
        return
    session.flush()
    key = audit_key()
    rows = []
    for p in queued:
        before, after, details = canonical_json(p.before), canonical_json(p.after), canonical_json(p.details)
        rows.append(
            {
                "at": p.at,
                "actor": p.actor,
                "action": p.action,
                "object_type": p.object_type,
                "object_id": p.object_id if p.object_id is not None else getattr(p.obj, "id", None),
                "household_id": p.household_id,
                "request_id": p.request_id,
                "digest": digest_of(before, after, details, key),
                "before": before,
                "after": after,
                "details": details,
            }
        )
    events = [{k: v for k, v in r.items() if k not in DETAIL_COLUMNS} for r in rows]
    ids = inserts.insert_ids(session, AuditEvent.__table__, events)
    details = [
        {"id": i, **{c: r[c] for c in DETAIL_COLUMNS}, "erased_at": None, "erasure_id": None}
        for i, r in zip(ids, rows, strict=True)
    ]
    session.execute(_details_insert(session), details)
    session.info["audit_written"] = True
    _ring_chain_bell(session)


def _details_insert(session: Session) -> Any:
    """The INSERT of detail rows, every column in each (one statement for them all). On
    SQLite an upsert: SQLite reuses the ids of rows cut off the end of the log, and a
    detail row left at one of them is stale (the anchor reports the cut); a sequence never
    reuses ids."""
    return _DETAILS_UPSERT if session.get_bind().dialect.name == "sqlite" else _DETAILS_INSERT


def _details_upsert() -> Any:
    stmt = sqlite_insert(AuditDetail.__table__)
    kept = ("before", "after", "details", "erased_at", "erasure_id")
    return stmt.on_conflict_do_update(index_elements=[stmt.table.c.id], set_={c: stmt.excluded[c] for c in kept})


# Built once: every audited transaction runs them.
_EVENTS_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)
_EVENTS_INSERT_ORDERED = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id, sort_by_parameter_order=True)
_DETAILS_INSERT = insert(AuditDetail.__table__)
_DETAILS_UPSERT = _details_upsert()


@event.listens_for(Session, "after_commit")
def _chain_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.info.pop("audit_written", None):
        _kick(session)


# --- the chainer ---------------------------------------------------------------------------------

CHAIN_BATCH = 5_000
CHAIN_JOB = "broker.jobs.chain_audit"
CHAIN_BELL = "aidbroker:audit:chain:bell:"
CHAIN_BELL_SECONDS = 10  # a bell whose job was lost rings again after this (the cron covers it too)
_HEAD = (AuditEvent.chain_seq, AuditEvent.id, AuditEvent.hash)
_CONTENT = (AuditEvent.id, *CONTENT_COLUMNS)


@dataclass(frozen=True)
class Chained:
    """What one chaining step linked: how many events, and the chain's head after it."""

    events: int
    head_seq: int | None = None
    head_id: int | None = None


def _chain_inline() -> bool:
    """Whether a commit chains its own events right after it (setting
    ``AUDIT_CHAIN_INLINE``; unset: only when testing), rather than by an RQ job."""
    settings = runtime.settings()
    inline = settings.get("AUDIT_CHAIN_INLINE")
    return bool(settings.get("TESTING")) if inline is None else bool(inline)


def _kick(session: Session) -> None:
    """After a commit that wrote events, when chaining inline: chain them here and now,
    in a session of its own."""
    if _chain_inline():
        with Session(bind=session.get_bind()) as own:
            chain_pending(own)


def _ring_chain_bell(session: Session) -> None:
    """Before a commit that writes events (unless chaining inline): have them chained
    by a job, one waiting job at a time, its bell rung with the commit's other bells.
    Never fails for Redis: the periodic chainer picks up what a lost bell or job leaves."""
    if _chain_inline() or _redis() is None:
        return
    bell = bells.Bell(CHAIN_BELL + anchor_key(session)[-16:], CHAIN_BELL_SECONDS, _enqueue_chainer)
    bells.ring_after_commit(session, bell)


def _enqueue_chainer() -> None:
    queue.queue("default").enqueue(CHAIN_JOB, result_ttl=60, failure_ttl=3600)


def answer_bell(session: Session) -> None:
    """Clear the chain bell as a chaining job starts, before it reads the tail, so that
    events committed after this ring again (never raises)."""
    conn = _redis()
    if conn is None:
        return
    try:
        conn.delete(CHAIN_BELL + anchor_key(session)[-16:])
    except (redis.RedisError, OSError) as exc:
        log.warning("cannot clear the audit chain bell: %s", exc)


def _lock_head(session: Session) -> tuple[int, int | None, str]:
    """Take the chain lock (an advisory lock on PostgreSQL, the write lock on SQLite)
    and return the head (position, id, hash) to chain onto ((0, None, GENESIS) if empty).
    Only the chainer takes it, for the few milliseconds of one batch."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    head = select(*_HEAD).where(AuditEvent.chain_seq.is_not(None)).order_by(AuditEvent.chain_seq.desc()).limit(1)
    if bind.dialect.name != "postgresql":
        head = head.with_for_update()  # SQLite: read the head inside the write window
    last = session.execute(head).first()
    return (last.chain_seq, last.id, last.hash) if last else (0, None, GENESIS)


def chain_batch(session: Session, limit: int = CHAIN_BATCH) -> Chained:
    """Link up to ``limit`` committed unchained events, in id order, onto the head, in
    one short transaction (committed here), then anchor the new head. Safe to run twice
    and concurrently: the lock orders chainers, and each reads the tail after taking it,
    so an event is chained exactly once. On PostgreSQL an event whose transaction commits
    late (a lower id than events already chained) simply takes a later position."""
    base_seq, _, base_hash = _lock_head(session)
    rows = session.execute(
        select(*_CONTENT)
        .where(AuditEvent.chain_seq.is_(None), AuditEvent.hash.is_(None))
        .order_by(AuditEvent.id)
        .limit(limit)
    ).all()
    if not rows:
        session.rollback()
        return Chained(0)
    prev, seq, params = base_hash, base_seq, []
    for row in rows:
        seq += 1
        h = chain_hash(prev, content_of(row))
        params.append({"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": h})
        prev = h
    table = AuditEvent.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.chain_seq.is_(None), table.c.hash.is_(None))
        .values(chain_seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
        params,
    )
    session.commit()
    _push_anchor(session, seq, prev, base_seq, base_hash, event_id=rows[-1].id)
    return Chained(len(rows), seq, rows[-1].id)


def chain_pending(session: Session, limit: int = CHAIN_BATCH) -> int:
    """Chain every committed unchained event, a batch at a time; how many were chained."""
    total = 0
    while True:
        done = chain_batch(session, limit)
        total += done.events
        if done.events < limit:
            return total
