"""The hash-chained audit log: what a row hashes to, and how rows are chained and written.

Domain code calls :func:`record` for every state change; the rows are chained and
inserted in the same transaction, just before it commits, under one lock (an advisory
lock on PostgreSQL, the write lock on SQLite), taken last so it never waits on a row
lock another writer holds. Ids therefore grow in chain order.

What the chain proves, and what it does not:

* An edited row no longer hashes to its ``hash``; a deleted or inserted row breaks the
  link (``prev_hash``) of the row after it. :func:`~broker.audit.verification.verify`
  names the first bad row.
* Deleting rows at the *end* leaves a shorter chain that is still internally valid. So
  the head of the chain (last id and hash) is also kept outside the database, in Redis,
  after every commit (monotonically: only a later id replaces it; see
  :mod:`broker.audit.anchor`). Verifying then requires the anchored row to be there with
  the anchored hash, which also catches a chain rewritten from some row onwards with
  recomputed hashes; and a commit that goes on from a row before the anchored head marks
  the anchor broken for good, so new events written on top of a cut tail do not hide it.
* The chain holds no personal data: a row names people only by id and carries
  ``digest``, an HMAC (keyed with ``AUDIT_KEY``) of what changed. The readable before,
  after and details live in ``audit_details``, one row per event, where erasing a
  person masks them (``erased_at`` set) without touching the chain. Verifying checks
  every detail row still present against its digest (an edited detail is found) and
  counts the erased ones. The key keeps a digest from being guessed back: without it,
  a known name could be tried against the digest of an erased detail.
* Limits: someone able to write both the database and Redis can still cut the tail
  unseen; events committed while Redis was unreachable are anchored only by the next
  commit that reaches it, so the very last of them could be cut unseen until then; and
  rows *appended* with correctly computed hashes are indistinguishable from real ones
  (the chain is unkeyed: it proves integrity, not authorship). Restoring the database
  from a backup reads as a truncation until the anchor is reset on purpose
  (:func:`~broker.audit.verification.reset_anchor`, ``flask --app app audit reanchor``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.orm import Session

from broker.audit.anchor import _push_anchor
from broker.platform import actor as actor_ctx
from broker.platform import runtime
from models import AuditDetail, AuditEvent
from models.base import utcnow

GENESIS = "0" * 64
SEP = "\x1f"
_LOCK_ID = 0x41494442  # "AIDB"

# Why a row breaks the chain, as both walks (the reference one and the fast one) report it.
LINK_BROKEN = "link to the previous row is broken (a row before it was deleted or inserted, or this one forged)"
HASH_BROKEN = "row content does not match its hash (row edited)"
DETAIL_BROKEN = "row details do not match their digest (details edited)"
DETAIL_MISSING = "row details are missing and were not erased (details deleted)"
DETAIL_COLUMNS = ("before", "after", "details")
# The marker event a migration writes when it re-chains the log in the present format.
RECHAINED = "audit.rechained"


def canonical_json(value: Any) -> str | None:
    """The one JSON spelling that is hashed: sorted keys, no spaces, UTF-8 kept."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def audit_key() -> bytes:
    """The HMAC key of the digests (setting ``AUDIT_KEY``)."""
    return runtime.settings()["AUDIT_KEY"].encode()


def details_text(before: str | None, after: str | None, details: str | None) -> str:
    """The digested spelling of a detail row: its three canonical JSON texts, NULL as ''."""
    return SEP.join((before or "", after or "", details or ""))


def digest_of(before: str | None, after: str | None, details: str | None, key: bytes | None = None) -> str:
    """The keyed digest of a detail row's canonical texts, as the event carries it."""
    return hmac.digest(key or audit_key(), details_text(before, after, details).encode(), "sha256").hex()


def content_of(row: Any) -> str:
    """The canonical content of an audit row (an ORM row or a Core row of the same
    columns): ids, the action, and the digest of its details — no readable details."""
    return SEP.join(
        (
            row.at.isoformat(timespec="microseconds"),
            row.actor,
            row.action,
            row.object_type,
            "" if row.object_id is None else str(row.object_id),
            "" if row.household_id is None else str(row.household_id),
            "" if row.request_id is None else str(row.request_id),
            row.digest,
        )
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + SEP + content).encode()).hexdigest()


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
    session.info.setdefault("audit", []).append(
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
        )
    )


def _lock_chain(session: Session) -> tuple[int, str]:
    """Take the chain lock; return the head (id, hash) to chain onto ((0, GENESIS) if empty)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    head = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    if bind.dialect.name != "postgresql":
        head = head.with_for_update()  # SQLite: read the head inside the write window
    last = session.execute(head).first()
    return (last.id, last.hash) if last else (0, GENESIS)


def chain_rows(pending: Sequence[dict], prev: str, key: bytes | None = None) -> list[dict]:
    """Give each row (dict of AuditEvent columns and the detail columns ``before``,
    ``after``, ``details`` as canonical JSON text) its ``digest`` (unless it has one),
    ``prev_hash`` and ``hash``, continuing from ``prev``. Used by the commit hook, the
    migration and bulk loaders (the benchmark), so that all write what :func:`verify` reads."""
    out = []
    key = key or audit_key()
    for row in pending:
        row = {**row, "prev_hash": prev}
        if row.get("digest") is None:
            row["digest"] = digest_of(row.get("before"), row.get("after"), row.get("details"), key)
        row["hash"] = prev = chain_hash(prev, content_of(_Row(row)))
        out.append(row)
    return out


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # SQLAlchemy fires commit hooks when a savepoint is released too: the chain is
    # written only by the real, outermost commit.
    if session.in_nested_transaction():
        return
    pending: list[_Pending] = session.info.pop("audit", [])
    if not pending:
        return
    session.flush()
    base_id, base_hash = _lock_chain(session)
    rows = chain_rows(
        [
            {
                "at": p.at,
                "actor": p.actor,
                "action": p.action,
                "object_type": p.object_type,
                "object_id": p.object_id if p.object_id is not None else getattr(p.obj, "id", None),
                "household_id": p.household_id,
                "request_id": p.request_id,
                "before": canonical_json(p.before),
                "after": canonical_json(p.after),
                "details": canonical_json(p.details),
            }
            for p in pending
        ],
        base_hash,
    )
    events = [{k: v for k, v in r.items() if k not in DETAIL_COLUMNS} for r in rows]
    ids = (
        session.execute(insert(AuditEvent).returning(AuditEvent.id, sort_by_parameter_order=True), events)
        .scalars()
        .all()
    )
    # A detail row at a new id can only be left from events cut off the end of the chain
    # (ids are reused after that on SQLite): the anchor reports the cut; writing goes on.
    session.execute(delete(AuditDetail).where(AuditDetail.id >= ids[0]))
    session.execute(
        insert(AuditDetail),
        [{"id": i, **{c: r[c] for c in DETAIL_COLUMNS}} for i, r in zip(ids, rows, strict=True)],
    )
    session.info["audit_head"] = (ids[-1], rows[-1]["hash"], base_id, base_hash)


@event.listens_for(Session, "after_commit")
def _anchor_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    head = session.info.pop("audit_head", None)
    if head is not None:
        _push_anchor(session, *head)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # A savepoint rolled back leaves the outer transaction, and its pending events, alive.
    if previous_transaction.nested:
        return
    session.info.pop("audit", None)
    session.info.pop("audit_head", None)


class _Row:
    """Attribute access over a dict, so that :func:`content_of` serves both sides."""

    __slots__ = ("_d",)

    def __init__(self, d: dict) -> None:
        self._d = d

    def __getattr__(self, name: str) -> Any:
        return self._d[name]
