"""Idempotency keys: a POST sent again with the same ``Idempotency-Key`` gets the first
response back instead of doing the work twice.

The key row is inserted at the start of the business transaction and completed with
the response in that same transaction, so the key, the work and the stored response
commit together or not at all. A unique ``(user_id, key)`` does the rest:

* PostgreSQL: a concurrent duplicate's insert waits on the first transaction's
  uncommitted row; when that commits, the insert does nothing, and the duplicate reads
  the committed row and replays it. If the first rolls back, the duplicate's insert
  succeeds and it does the work itself. There is no moment at which two can succeed.
* SQLite: the insert opens the write window (``BEGIN IMMEDIATE`` on a fresh
  snapshot), so a duplicate inserts only after the first has committed, inserts
  nothing, and finds its row.

The claim is one statement, ``INSERT … ON CONFLICT DO NOTHING RETURNING``: the new row
comes back, or nothing when the key is taken (then one SELECT reads what to replay).

The portal's forms use the same keys (a one-time key in a hidden field, generated when
the form is shown): their "response" is where the browser was sent and what it was told.

Only successful (2xx; a portal form's redirect) responses are kept. A failed request leaves nothing behind (its
transaction rolls back), so retrying it with the same key runs it again — which is what
a client wants after, say, a 409 for a fund that has since been topped up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.platform.errors import Conflict, Invalid
from models import IdempotencyKey
from models.base import utcnow

MAX_KEY_LENGTH = 120
HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(days=7)
_IN_FLIGHT = 0


@dataclass(frozen=True)
class Claim:
    """A key this request holds: its row, to be completed with the response."""

    id: int


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a request, to be sent again."""

    status_code: int
    body: Any


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What "the same request" means: method, path and body. A JSON body is compared by
    meaning (key order and spacing do not matter); any other body byte for byte."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\x1f")
    return digest.hexdigest()


def form_fingerprint(
    method: str, path: str, fields: dict[str, list[str]], files: dict[str, list[tuple[str, bytes]]]
) -> str:
    """What "the same form" means: its fields (sorted, values in order) and its files'
    names and SHA-256 — a multipart body differs byte for byte on every send."""
    digests = {
        name: [[filename, hashlib.sha256(data).hexdigest()] for filename, data in sent] for name, sent in files.items()
    }
    return fingerprint(method, path, json.dumps({"form": fields, "files": digests}, sort_keys=True).encode())


def validate_key(key: str) -> str:
    """1–120 visible ASCII characters (a UUID is the usual choice)."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise Invalid(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID.",
            details={HEADER: [f"1 to {MAX_KEY_LENGTH} visible ASCII characters"]},
        )
    return key


def _claim_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` in the dialect's spelling
    (PostgreSQL, and SQLite from 3.35 on), built once: a submission pays for executing
    it, not for building it."""
    table = IdempotencyKey.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])  # waits here while a twin is uncommitted
        .returning(table.c.id)
    )


_CLAIM = {dialect: _claim_statement(dialect) for dialect in ("postgresql", "sqlite")}
_COMPLETE = (
    update(IdempotencyKey.__table__)
    .where(IdempotencyKey.__table__.c.id == bindparam("claim_id"))
    .values(status_code=bindparam("status_code"), response=bindparam("response"))
)


def _find(session: Session, user_id: int, key: str) -> IdempotencyKey | None:
    return session.execute(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).scalar_one_or_none()


def claim(
    session: Session, user_id: int, key: str, *, method: str, path: str, fingerprint: str
) -> Claim | StoredResponse:
    """Claim ``key`` for this request, first thing in its transaction. Returns the
    :class:`Claim` (do the work, then :func:`complete` it before the commit), or the stored
    response to replay. Raises 422 ``idempotency_key_reused`` when the key was used for
    a different request."""
    validate_key(key)
    mine = session.execute(
        _CLAIM[session.get_bind().dialect.name],
        {
            "user_id": user_id,
            "key": key,
            "method": method.upper(),
            "path": path[:255],
            "body_hash": fingerprint,
            "status_code": _IN_FLIGHT,
            "response": None,
            "created_at": utcnow(),
        },
    ).scalar_one_or_none()
    if mine is not None:
        return Claim(mine)
    row = _find(session, user_id, key)
    if row is None:  # the twin's row vanished between the two statements (purged)
        raise Conflict(
            "A request with this Idempotency-Key was being processed; send it again.",
            code="idempotency_key_in_flight",
        )
    if row.body_hash != fingerprint or row.method != method.upper() or row.path != path[:255]:
        raise Invalid(
            "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
            code="idempotency_key_reused",
            details={
                HEADER: ["already used with a different method, path or body"],
                "first_used_at": row.created_at.isoformat(),
            },
        )
    if row.status_code == _IN_FLIGHT:
        # Only possible if a caller committed the key before completing it.
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; send it again shortly.",
            code="idempotency_key_in_flight",
        )
    return StoredResponse(row.status_code, row.response)


def stored(session: Session, user_id: int, key: str) -> StoredResponse | None:
    """The response kept for ``key``, if its request completed."""
    row = _find(session, user_id, key)
    if row is None or row.status_code == _IN_FLIGHT:
        return None
    return StoredResponse(row.status_code, row.response)


def complete(session: Session, claim: Claim, status_code: int, body: Any) -> None:
    """Store the response on the claimed key, in the same transaction as the work."""
    session.execute(_COMPLETE, {"claim_id": claim.id, "status_code": status_code, "response": body})


def abandon(session: Session, claim: Claim) -> None:
    """Give the key up (the request did not succeed but its transaction still commits)."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.id))


def purge(session: Session, older_than: timedelta = KEEP_FOR) -> int:
    """Forget keys older than ``older_than``: replays are for retries, not for ever."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - older_than))
    return result.rowcount or 0
