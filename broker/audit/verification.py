"""Verifying the chain: the reference walk row by row, the whole chain (by the fast
walk), and that it still reaches the anchored head; the unchained tail reported beside
it; verifying on from the last verified checkpoint (the auditor's dashboard);
re-anchoring after a restore."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.audit.anchor import Anchor, _push_anchor, _redis, anchor_key, read_anchor
from broker.audit.checkpoint import Checkpoint, keep_checkpoint, read_checkpoint
from broker.audit.hashing import (
    CONTENT_COLUMNS,
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
from broker.audit.walk import _id_at, _id_of, _id_span, verify_processes, walk_chain
from broker.platform.errors import Conflict
from broker.platform.texts import N_, define
from models import AuditDetail, AuditEvent
from models.base import utcnow

# An unchained tail older than this means no chainer is running (workers down): verify
# says so. While the workers run, events are chained within a second or two.
TAIL_STALE_SECONDS = 60

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
        "audit.outside_chain": N_(
            "Record %(id)s carries a hash but has no place in the chain: it was forged, or cut out of the chain."
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
    head_seq: int | None = None  # the head's position in the chain
    unchained: int = 0  # events committed but not chained yet (the tail)
    unchained_since: datetime | None = None  # when the oldest of them was recorded
    from_seq: int | None = None  # walked on from this verified checkpoint (None: from the start)
    checked_at: datetime | None = None
    checkpoint: Checkpoint | None = None  # as it stands after this verify: when last verified in full

    @property
    def unchained_seconds(self) -> float | None:
        """How long the oldest unchained event has waited (None: no tail)."""
        if self.unchained_since is None:
            return None
        return max(0.0, ((self.checked_at or utcnow()) - self.unchained_since).total_seconds())

    @property
    def unchained_stale(self) -> bool:
        """Whether the tail is older than chaining takes while workers run."""
        age = self.unchained_seconds
        return age is not None and age > TAIL_STALE_SECONDS

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
        age = self.unchained_seconds
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "head_id": self.head_id,
            "head_seq": self.head_seq,
            "anchored_id": self.anchored_id,
            "erased": self.erased,
            "unchained": self.unchained,
            "unchained_oldest_seconds": None if age is None else round(age, 3),
            "unchained_stale": self.unchained_stale,
        }


_COLUMNS = (
    AuditEvent.id,
    AuditEvent.chain_seq,
    *CONTENT_COLUMNS,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditDetail.id.label("detail_id"),
    AuditDetail.before,
    AuditDetail.after,
    AuditDetail.details,
    AuditDetail.erased_at,
)


def iter_rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Stream the chain in chain order, each event with its detail row, without loading
    it whole (the unchained tail is not part of it yet)."""
    result = session.execute(
        select(*_COLUMNS)
        .outerjoin(AuditDetail, AuditDetail.id == AuditEvent.id)
        .where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq)
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
    last_id = last_seq = None
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
        last_id, last_seq = row.id, row.chain_seq
    head_hash = None if last_id is None else prev
    return VerifyResult(True, n, None, head_id=last_id, head_hash=head_hash, erased=erased, head_seq=last_seq)


def verify_chain(session: Session, processes: int | None = None) -> VerifyResult:
    """The chain alone (no anchor): every link and every hash, first bad row by chain
    order. The rows are read and hashed in ``processes`` processes (default
    :func:`verify_processes`)."""
    return _walk_from(session, None, processes)


def _walk_from(session: Session, checkpoint: Checkpoint | None, processes: int | None = None) -> VerifyResult:
    """Walk the chain after ``checkpoint`` (None: from the start) up to its head."""
    engine = session.get_bind()
    after, events = (checkpoint.seq, checkpoint.events) if checkpoint else (0, 0)
    span = _id_span(engine, after)
    if span is None:
        if checkpoint is None:
            return VerifyResult(True, 0, None)
        return VerifyResult(
            True, events, None, head_id=_id_of(engine, after), head_hash=checkpoint.hash, head_seq=after, from_seq=after
        )
    start = checkpoint.hash.encode() if checkpoint else None
    walk = walk_chain(engine, span, processes or verify_processes(engine, span[1] - span[0] + 1), start)
    from_seq = after if checkpoint else None
    if not walk.ok:
        return VerifyResult(
            False, events + walk.events, _id_at(engine, walk.bad_at, after), walk.reason, from_seq=from_seq
        )
    if walk.head_hash is None:
        return VerifyResult(True, 0, None)
    # The walk read every row up to span[1], the last position there was: its hash is the head.
    return VerifyResult(
        True,
        events + walk.events,
        None,
        head_id=_id_of(engine, span[1]),
        head_hash=walk.head_hash.decode(),
        erased=walk.erased,
        head_seq=span[1],
        from_seq=from_seq,
    )


def verify(session: Session) -> VerifyResult:
    """Verify the whole chain and that it still reaches the anchored head, and report the
    unchained tail. The anchor is read first, so every row it names was committed before
    the chain is read. A chain with no anchor yet (a fresh Redis) is anchored at its
    verified head. A chain verified intact becomes the checkpoint the dashboard verifies
    on from, marked as verified in full."""
    anchor = read_anchor(session)
    result = verify_chain(session)
    _check_anchor(session, result, anchor)
    _report_tail(session, result)
    keep_checkpoint(session, result, full=True)
    result.checkpoint = read_checkpoint(session)
    return result


def verify_since_checkpoint(session: Session) -> VerifyResult:
    """Verify the chain on from the last verified checkpoint (its row must still be there
    with the same hash), the anchor and the tail as :func:`verify` does: what the
    auditor's dashboard runs on every load. A row edited below the checkpoint is found by
    the full :func:`verify` (``audit verify``, the API, and the periodic full verify).
    With no checkpoint, or one whose row changed, this is the full verify."""
    checkpoint = read_checkpoint(session)
    if checkpoint is None or checkpoint.seq is None or checkpoint.hash is None:
        return verify(session)
    row = session.execute(select(AuditEvent.hash).where(AuditEvent.chain_seq == checkpoint.seq)).first()
    if row is None or row.hash != checkpoint.hash:
        return verify(session)
    anchor = read_anchor(session)
    result = _walk_from(session, checkpoint)
    if result.ok:
        result.erased = session.execute(
            select(func.count()).select_from(AuditDetail).where(AuditDetail.erased_at.is_not(None))
        ).scalar_one()
    _check_anchor(session, result, anchor)
    _report_tail(session, result)
    keep_checkpoint(session, result, full=False)
    result.checkpoint = read_checkpoint(session)
    return result


def _check_anchor(session: Session, result: VerifyResult, anchor: Anchor | None) -> None:
    """That the chain verified still reaches the anchored head (``result`` amended)."""
    result.anchored_id = anchor.id if anchor else None
    if not result.ok:
        return
    if anchor is None:
        if result.head_seq is not None and result.head_hash is not None:
            head = (result.head_seq, result.head_hash)
            if _push_anchor(session, *head, *head, event_id=result.head_id):
                result.anchored_id = result.head_id
        return
    if anchor.broken_base is not None:
        result.ok, result.first_bad = False, anchor.id
        result.reason = (
            f"event {anchor.id} was written and anchored, but a later commit continued the chain from event "
            f"{anchor.broken_base}: the events after it were deleted or rewritten"
        )
        result.reason_params = {"code": "audit.continued_from", "anchored": anchor.id, "base": anchor.broken_base}
        return
    found = _hash_at(session, anchor.position)
    if found != anchor.hash and _rechained_from(session, anchor):
        # The anchor names the head of the chain as it was before the migration re-chained
        # it in the present format; the marker event records that head: move on from it.
        head = (result.head_seq, result.head_hash)
        _push_anchor(session, *head, *head, event_id=result.head_id)
        return
    if found is None and (result.head_seq is None or result.head_seq < anchor.position):
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


OUTSIDE_CHAIN = "row carries a hash but has no place in the chain (forged, or cut out of the chain)"


def _report_tail(session: Session, result: VerifyResult) -> None:
    """The unchained tail beside the result: how many events, and since when. An event
    the chainer has not reached has no hash yet; one with a hash but no position was
    forged, or had its position taken away: that is tampering."""
    stray = session.execute(
        select(func.min(AuditEvent.id)).where(AuditEvent.chain_seq.is_(None), AuditEvent.hash.is_not(None))
    ).scalar()
    if stray is not None and result.ok:
        result.ok, result.first_bad, result.reason = False, stray, OUTSIDE_CHAIN
        result.reason_params = {"code": "audit.outside_chain", "id": stray}
    n, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.chain_seq.is_(None))
    ).one()
    result.unchained, result.unchained_since, result.checked_at = n, oldest, utcnow()


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


def _hash_at(session: Session, seq: int) -> str | None:
    return session.execute(select(AuditEvent.hash).where(AuditEvent.chain_seq == seq)).scalar()


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
    if result.head_seq is None or result.head_hash is None:
        return None
    head = (result.head_seq, result.head_hash)
    _push_anchor(session, *head, *head, event_id=result.head_id)
    return Anchor(result.head_id or result.head_seq, result.head_hash, seq=result.head_seq)
