"""The hash-chained audit log.

Domain code calls :func:`record` for every state change; the rows are chained and
inserted in the same transaction, just before it commits, under one lock (an advisory
lock on PostgreSQL, the write lock on SQLite), taken last so it never waits on a row
lock another writer holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from broker import actor as actor_ctx
from models import AuditEvent
from models.base import utcnow

GENESIS = "0" * 64
SEP = "\x1f"
_LOCK_ID = 0x41494442  # "AIDB"


def canonical_json(value: Any) -> str | None:
    """The one JSON spelling that is hashed: sorted keys, no spaces, UTF-8 kept."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_of(row: Any) -> str:
    """The canonical content of an audit row (an ORM row or a Core row of the same columns)."""
    return SEP.join(
        (
            row.at.isoformat(timespec="microseconds"),
            row.actor,
            row.action,
            row.object_type,
            "" if row.object_id is None else str(row.object_id),
            "" if row.household_id is None else str(row.household_id),
            "" if row.request_id is None else str(row.request_id),
            row.before or "",
            row.after or "",
            row.details or "",
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


def _lock_chain(session: Session) -> str:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return last or GENESIS


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop("audit", [])
    if not pending:
        return
    session.flush()
    prev = _lock_chain(session)
    rows = []
    for p in pending:
        row = {
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
            "prev_hash": prev,
        }
        row["hash"] = prev = chain_hash(prev, content_of(_Row(row)))
        rows.append(row)
    session.execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("audit", None)


class _Row:
    """Attribute access over a dict, so that :func:`content_of` serves both sides."""

    __slots__ = ("_d",)

    def __init__(self, d: dict) -> None:
        self._d = d

    def __getattr__(self, name: str) -> Any:
        return self._d[name]


@dataclass
class VerifyResult:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad": self.first_bad,
            "reason": self.reason,
        }


_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.household_id,
    AuditEvent.request_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def iter_rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Stream the chain in id order without loading it whole."""
    result = session.execute(
        select(*_COLUMNS).order_by(AuditEvent.id).execution_options(yield_per=batch, stream_results=True)
    )
    yield from result


def verify_rows(rows: Iterable[Any]) -> VerifyResult:
    """Walk the chain: each row must link to the previous row's hash and hash to itself.
    An edit breaks a row's own hash; a deletion or insertion breaks a link."""
    prev = GENESIS
    n = 0
    for row in rows:
        n += 1
        if row.prev_hash != prev:
            return VerifyResult(
                False,
                n,
                row.id,
                "link to the previous row is broken (row deleted or inserted)",
            )
        prev = chain_hash(prev, content_of(row))
        if row.hash != prev:
            return VerifyResult(False, n, row.id, "row content does not match its hash (row edited)")
    return VerifyResult(True, n, None)


def verify(session: Session) -> VerifyResult:
    return verify_rows(iter_rows(session))


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)
