"""Verifying the chain: the reference walk row by row, the whole chain (by the fast
walk), and that it still reaches the anchored head; re-anchoring after a restore."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.audit.anchor import Anchor, _push_anchor, _redis, anchor_key, read_anchor
from broker.audit.chain import (
    DETAIL_BROKEN,
    DETAIL_MISSING,
    GENESIS,
    HASH_BROKEN,
    LINK_BROKEN,
    RECHAINED,
    audit_key,
    chain_hash,
    content_of,
    digest_of,
)
from broker.audit.walk import _id_at, _id_span, verify_processes, walk_chain
from broker.platform.errors import Conflict
from broker.platform.texts import N_, define
from models import AuditDetail, AuditEvent

define(
    {
        "audit.link_broken": N_(
            "The link to the previous record is broken: a record before it was deleted or inserted, or this one forged."
        ),
        "audit.hash_broken": N_("The record's content does not match its hash: the record was edited."),
        "audit.detail_broken": N_(
            "The record's readable details do not match the digest on the chain: the details were edited."
        ),
        "audit.detail_missing": N_(
            "The record's readable details are missing and no erasure removed them: they were deleted."
        ),
        "audit.continued_from": N_(
            "Record %(anchored)s was written and anchored, but a later commit continued the chain from record "
            "%(base)s: the records after it were deleted or rewritten."
        ),
        "audit.end_deleted": N_(
            "The chain ends at record %(head)s but record %(anchored)s was written and anchored: records at the "
            "end were deleted."
        ),
        "audit.rewritten": N_(
            "Record %(anchored)s is missing or differs from the anchored one: the chain was rewritten."
        ),
    }
)
_REASON_CODES = {
    LINK_BROKEN: "audit.link_broken",
    HASH_BROKEN: "audit.hash_broken",
    DETAIL_BROKEN: "audit.detail_broken",
    DETAIL_MISSING: "audit.detail_missing",
}


@dataclass
class VerifyResult:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None
    head_id: int | None = None
    anchored_id: int | None = None
    head_hash: str | None = None
    reason_params: dict | None = None  # for the anchor checks' reasons (see reason_text)
    erased: int = 0  # events whose readable details were erased (not tampering)

    @property
    def reason_text(self) -> dict | None:
        """Why the chain is broken, as a text code for people (``reason`` is the English)."""
        if self.reason is None:
            return None
        code = _REASON_CODES.get(self.reason)
        if code is None and self.reason_params is not None:
            code = self.reason_params.get("code")
        if code is None:
            return {"code": None, "text": self.reason}
        return {"code": code, "params": {k: v for k, v in (self.reason_params or {}).items() if k != "code"}}

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "head_id": self.head_id,
            "anchored_id": self.anchored_id,
            "erased": self.erased,
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
    AuditEvent.digest,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditDetail.id.label("detail_id"),
    AuditDetail.before,
    AuditDetail.after,
    AuditDetail.details,
    AuditDetail.erased_at,
)


def iter_rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Stream the chain in id order, each event with its detail row, without loading it whole."""
    result = session.execute(
        select(*_COLUMNS)
        .outerjoin(AuditDetail, AuditDetail.id == AuditEvent.id)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=batch, stream_results=True)
    )
    yield from result


def verify_rows(rows: Iterable[Any], key: bytes | None = None) -> VerifyResult:
    """Walk the chain row by row: each row must link to the previous row's hash and hash
    to itself, and its details, unless erased, must match its digest. The reference
    implementation, over rows of :func:`iter_rows`' columns."""
    key = key or audit_key()
    prev = GENESIS
    n = erased = 0
    last_id = None
    for row in rows:
        n += 1
        if row.prev_hash != prev:
            return VerifyResult(False, n, row.id, LINK_BROKEN)
        prev = chain_hash(prev, content_of(row))
        if row.hash != prev:
            return VerifyResult(False, n, row.id, HASH_BROKEN)
        if row.detail_id is None:
            return VerifyResult(False, n, row.id, DETAIL_MISSING)
        if row.erased_at is not None:
            erased += 1
        elif digest_of(row.before, row.after, row.details, key) != row.digest:
            return VerifyResult(False, n, row.id, DETAIL_BROKEN)
        last_id = row.id
    return VerifyResult(True, n, None, head_id=last_id, head_hash=None if last_id is None else prev, erased=erased)


def verify_chain(session: Session, processes: int | None = None) -> VerifyResult:
    """The chain alone (no anchor): every link and every hash, first bad row by id. The
    rows are read and hashed in ``processes`` processes (default :func:`verify_processes`)."""
    engine = session.get_bind()
    span = _id_span(engine)
    if span is None:
        return VerifyResult(True, 0, None)
    walk = walk_chain(engine, span, processes or verify_processes(engine, span[1] - span[0] + 1))
    if not walk.ok:
        return VerifyResult(False, walk.events, _id_at(engine, walk.bad_at), walk.reason)
    if walk.head_hash is None:
        return VerifyResult(True, 0, None)
    # The walk read every row up to span[1], the last id there was: its hash is the head.
    return VerifyResult(True, walk.events, None, head_id=span[1], head_hash=walk.head_hash.decode(), erased=walk.erased)


def verify(session: Session) -> VerifyResult:
    """Verify the whole chain and that it still reaches the anchored head. The anchor is
    read first, so every row it names was committed before the chain is read. A chain
    with no anchor yet (a fresh Redis) is anchored at its verified head."""
    anchor = read_anchor(session)
    result = verify_chain(session)
    result.anchored_id = anchor.id if anchor else None
    if not result.ok:
        return result
    if anchor is None:
        head = (result.head_id, result.head_hash)
        if result.head_id is not None and result.head_hash is not None and _push_anchor(session, *head, *head):
            result.anchored_id = result.head_id
        return result
    if anchor.broken_base is not None:
        result.ok, result.first_bad = False, anchor.id
        result.reason = (
            f"event {anchor.id} was written and anchored, but a later commit continued the chain from event "
            f"{anchor.broken_base}: the events after it were deleted or rewritten"
        )
        result.reason_params = {"code": "audit.continued_from", "anchored": anchor.id, "base": anchor.broken_base}
        return result
    found = _hash_of(session, anchor.id)
    if found != anchor.hash and _rechained_from(session, anchor):
        # The anchor names the head of the chain as it was before the migration re-chained
        # it in the present format; the marker event records that head: move on from it.
        _push_anchor(session, result.head_id, result.head_hash, result.head_id, result.head_hash)
        return result
    if found is None and (result.head_id is None or result.head_id < anchor.id):
        result.ok, result.first_bad = False, anchor.id
        result.reason = (
            f"the chain ends at event {result.head_id or 0} but event {anchor.id} was written and anchored: "
            "events at the end were deleted"
        )
        result.reason_params = {"code": "audit.end_deleted", "head": result.head_id or 0, "anchored": anchor.id}
    elif found != anchor.hash:
        result.ok, result.first_bad = False, anchor.id
        result.reason = f"event {anchor.id} is missing or differs from the anchored one: the chain was rewritten"
        result.reason_params = {"code": "audit.rewritten", "anchored": anchor.id}
    return result


def _rechained_from(session: Session, anchor: Anchor) -> bool:
    """Whether a migration re-chained the log from exactly the anchored head (its marker
    event records the old head's id and hash)."""
    rows = session.execute(
        select(AuditEvent.details).where(AuditEvent.action == RECHAINED, AuditEvent.id > anchor.id)
    ).scalars()
    for text_ in rows:
        marker = json.loads(text_ or "{}")
        if marker.get("old_head_id") == anchor.id and marker.get("old_head_hash") == anchor.hash:
            return True
    return False


def _hash_of(session: Session, event_id: int) -> str | None:
    return session.execute(select(AuditEvent.hash).where(AuditEvent.id == event_id)).scalar()


def reset_anchor(session: Session) -> Anchor | None:
    """Anchor the chain at its present head, forgetting the old anchor (after a restore
    from backup). The chain must verify first: a broken chain is never anchored.
    Returns the new anchor (None: empty log, or Redis unreachable)."""
    result = verify_chain(session)
    if not result.ok:
        raise Conflict(
            f"The audit chain is broken at event {result.first_bad} ({result.reason}); it is not anchored.",
            code="audit_chain_broken",
        )
    conn = _redis()
    if conn is None:
        return None
    key = anchor_key(session)
    conn.delete(key)
    if result.head_id is None or result.head_hash is None:
        return None
    _push_anchor(session, result.head_id, result.head_hash, result.head_id, result.head_hash)
    return Anchor(result.head_id, result.head_hash)
