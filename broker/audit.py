"""The hash-chained audit log.

Domain code calls :func:`record` for every state change; the rows are chained and
inserted in the same transaction, just before it commits, under one lock (an advisory
lock on PostgreSQL, the write lock on SQLite), taken last so it never waits on a row
lock another writer holds. Ids therefore grow in chain order.

What the chain proves, and what it does not:

* An edited row no longer hashes to its ``hash``; a deleted or inserted row breaks the
  link (``prev_hash``) of the row after it. :func:`verify` names the first bad row.
* Deleting rows at the *end* leaves a shorter chain that is still internally valid. So
  the head of the chain (last id and hash) is also kept outside the database, in Redis,
  after every commit (monotonically: only a later id replaces it). :func:`verify` then
  requires the anchored row to be there with the anchored hash, which also catches a
  chain rewritten from some row onwards with recomputed hashes; and a commit that goes
  on from a row before the anchored head marks the anchor broken for good, so new
  events written on top of a cut tail do not hide it.
* Limits: someone able to write both the database and Redis can still cut the tail
  unseen; events committed while Redis was unreachable are anchored only by the next
  commit that reaches it, so the very last of them could be cut unseen until then; and
  rows *appended* with correctly computed hashes are indistinguishable from real ones
  (the chain is unkeyed: it proves integrity, not authorship). Restoring the database
  from a backup reads as a truncation until the anchor is reset on purpose
  (:func:`reset_anchor`, ``flask --app app audit reanchor``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis
from redis.commands.core import Script
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from broker import actor as actor_ctx
from broker import queue
from broker.errors import Conflict
from models import AuditEvent
from models.base import utcnow

if TYPE_CHECKING:
    from broker.registry import Page

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEP = "\x1f"
_LOCK_ID = 0x41494442  # "AIDB"
ANCHOR_PREFIX = "aidbroker:audit:head:"
ANCHOR_RETRY_SECONDS = 30.0
VERIFY_BATCH = 2_000
PARALLEL_MIN_EVENTS = 100_000
RUNS_PER_PROCESS = 4
MAX_VERIFY_PROCESSES = 8


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


def chain_rows(pending: Sequence[dict], prev: str) -> list[dict]:
    """Give each row (dict of AuditEvent columns, JSON already canonical text) its
    ``prev_hash`` and ``hash``, continuing from ``prev``. Used by the commit hook and by
    bulk loaders (the benchmark), so that both write exactly what :func:`verify` reads."""
    out = []
    for row in pending:
        row = {**row, "prev_hash": prev}
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
    ids = (
        session.execute(insert(AuditEvent).returning(AuditEvent.id, sort_by_parameter_order=True), rows).scalars().all()
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


# --- the anchor: the chain's head, kept outside the database ---------------------------

_anchor_state: dict[str, float] = {"retry_at": 0.0}
# ARGV: new head id, its hash, and the row (id, hash) this commit chained onto.
# A head not later than the anchored one is a late report (commits may report out of
# order) and changes nothing. A later head must have been chained onto the anchored
# row or after it: the chain lock orders writers, so every commit anchored so far is
# below the base of any commit that locked after it. A later head chained onto a row
# *before* the anchored one (or onto the anchored id with another hash) proves rows
# were cut or rewritten since: the anchor then records that, for good, and stops
# moving (else the following commits would paper over the cut).
_ADVANCE = """
if redis.call('HEXISTS', KEYS[1], 'broken') == 1 then return -1 end
local cur = redis.call('HGET', KEYS[1], 'id')
if cur then
  cur = tonumber(cur)
  if tonumber(ARGV[1]) <= cur then return 0 end
  local base = tonumber(ARGV[3])
  if base < cur or (base == cur and redis.call('HGET', KEYS[1], 'hash') ~= ARGV[4]) then
    redis.call('HSET', KEYS[1], 'broken', ARGV[3])
    return -1
  end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'hash', ARGV[2])
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


def _push_anchor(session: Session, event_id: int, event_hash: str, base_id: int, base_hash: str) -> bool:
    """Anchor ``event_id`` (chained onto ``base_id``) unless a later event is anchored
    already; False if Redis is out of reach (the next commit anchors a later head)."""
    conn = _redis()
    if conn is None:
        return False
    try:
        _advance(keys=[anchor_key(session)], args=[event_id, event_hash, base_id, base_hash], client=conn)
    except (redis.RedisError, OSError) as exc:
        _redis_failed(exc)
        return False
    return True


@dataclass(frozen=True)
class Anchor:
    id: int
    hash: str
    # Set when a commit chained onto event ``broken_base``, before this anchored head.
    broken_base: int | None = None


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
    if not data:
        return None
    broken = data.get(b"broken")
    return Anchor(int(data[b"id"]), data[b"hash"].decode(), None if broken is None else int(broken))


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


# --- verification ------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None
    head_id: int | None = None
    anchored_id: int | None = None
    head_hash: str | None = None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "head_id": self.head_id,
            "anchored_id": self.anchored_id,
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

LINK_BROKEN = "link to the previous row is broken (a row before it was deleted or inserted, or this one forged)"
HASH_BROKEN = "row content does not match its hash (row edited)"


def iter_rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Stream the chain in id order without loading it whole."""
    result = session.execute(
        select(*_COLUMNS).order_by(AuditEvent.id).execution_options(yield_per=batch, stream_results=True)
    )
    yield from result


def verify_rows(rows: Iterable[Any]) -> VerifyResult:
    """Walk the chain row by row: each row must link to the previous row's hash and hash
    to itself. The reference implementation, over any rows with the audit columns."""
    prev = GENESIS
    n = 0
    last_id = None
    for row in rows:
        n += 1
        if row.prev_hash != prev:
            return VerifyResult(False, n, row.id, LINK_BROKEN)
        prev = chain_hash(prev, content_of(row))
        if row.hash != prev:
            return VerifyResult(False, n, row.id, HASH_BROKEN)
        last_id = row.id
    return VerifyResult(True, n, None, head_id=last_id, head_hash=None if last_id is None else prev)


# The hashed bytes, built by the database: prev_hash, SEP, then content_of()'s fields.
# Letting the database build them keeps Python's per-row work to one hash and two
# comparisons (SQLite's printf, and PostgreSQL's ||, are the cheapest spellings; both
# turn NULL into ''). tests/test_audit.py proves both agree with content_of(). Rows come
# as (hash, payload) for the ids in one closed range; ids are looked up only when needed.
_PAYLOAD_SQL = {
    "postgresql": """
        SELECT hash::text,
            prev_hash || chr(31)
            || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' || chr(31)
            || actor || chr(31) || action || chr(31) || object_type || chr(31)
            || coalesce(object_id::text, '') || chr(31)
            || coalesce(household_id::text, '') || chr(31)
            || coalesce(request_id::text, '') || chr(31)
            || coalesce(before, '') || chr(31) || coalesce(after, '') || chr(31) || coalesce(details, '')
        FROM audit_events WHERE id BETWEEN %s AND %s ORDER BY id""",
    "sqlite": """
        SELECT CAST(hash AS BLOB), CAST(printf(
            '%s' || char(31) || '%s+00:00' || char(31) || '%s' || char(31) || '%s' || char(31) || '%s'
            || char(31) || '%s' || char(31) || '%s' || char(31) || '%s' || char(31) || '%s' || char(31) || '%s'
            || char(31) || '%s',
            prev_hash, replace(at, ' ', 'T'), actor, action, object_type,
            object_id, household_id, request_id, before, after, details) AS BLOB)
        FROM audit_events WHERE id BETWEEN ? AND ? ORDER BY id""",
}
Span = tuple[int, int]
Payloads = list[tuple[bytes, bytes]]


def _fetch(engine: Engine, sql: str) -> tuple:
    """One row of a small query, on a connection of its own (a session would take
    SQLite's write lock, and hold it for as long as its transaction lasts)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql)
        return cur.fetchone()
    finally:
        raw.close()


def _sqlite_batches(conn: Any, span: Span, batch: int) -> Iterator[Payloads]:
    """An autocommit read (WAL: one snapshot per statement, writers not blocked)."""
    cur = conn.cursor()
    try:
        cur.execute(_PAYLOAD_SQL["sqlite"], span)
        while rows := cur.fetchmany(batch):
            yield rows
    finally:
        cur.close()


def _pg_batches(conn: Any, span: Span, batch: int) -> Iterator[Payloads]:
    """One query whose rows the server streams without waiting to be asked for each
    batch (so it builds the next rows while this process hashes), text arriving as raw
    UTF-8 bytes. JIT is off: measured, compiling this scan costs more than it saves."""
    import psycopg
    from psycopg.types.string import ByteaBinaryLoader

    cur = conn.cursor(binary=True)
    cur.adapters.register_loader("text", ByteaBinaryLoader)
    rows = None
    try:
        cur.execute("SET LOCAL jit = off")
        # Rows come in chunks from libpq 17 on (bundled by psycopg[binary]); row by row before.
        size = batch if psycopg.pq.version() >= 170000 else 1
        rows = cur.stream(_PAYLOAD_SQL["postgresql"], span, size=size)
        while chunk := list(itertools.islice(rows, batch)):
            yield chunk
    finally:
        if rows is not None:
            rows.close()
        cur.close()
        conn.rollback()


def _batches(engine: Engine, span: Span, batch: int = VERIFY_BATCH) -> Iterator[Payloads]:
    """The ``(hash, payload)`` rows of the ids in ``span``, in id order, in batches."""
    raw = engine.raw_connection()
    try:
        read = _pg_batches if engine.dialect.name == "postgresql" else _sqlite_batches
        yield from read(raw.driver_connection, span, batch)
    finally:
        raw.close()


def _id_span(engine: Engine) -> Span | None:
    """The lowest and highest id (None: empty log). Rows are only appended, under the
    chain lock, so the rows up to the highest id read here no longer change."""
    lo, hi = _fetch(engine, "SELECT min(id), max(id) FROM audit_events")
    return None if lo is None else (lo, hi)


def _id_at(engine: Engine, position: int) -> int:
    """The id of the row at 0-based ``position`` in id order."""
    return _fetch(engine, f"SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET {int(position)}")[0]


def payload_batches(session: Session, batch: int = VERIFY_BATCH) -> Iterator[Payloads]:
    """The whole chain as ``(hash, payload)`` rows (both bytes; the payload starts with
    the row's prev_hash), in id order, in batches: what :func:`verify` hashes."""
    engine = session.get_bind()
    span = _id_span(engine)
    if span is not None:
        yield from _batches(engine, span, batch)


@dataclass(frozen=True)
class Walk:
    """Consecutive rows walked by position: how many (up to the first bad one), the
    0-based position of the first bad one and why; and the prev_hash the first row links
    to and the last row's hash, so that runs walked apart can be joined."""

    events: int
    bad_at: int | None = None
    reason: str | None = None
    first_link: bytes | None = None
    head_hash: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.bad_at is None


def walk_payloads(batches: Iterable[Sequence[tuple[bytes, bytes]]]) -> Walk:
    """Walk a run of rows a batch at a time with as little per-row Python as possible:
    hash every payload, then compare whole batches at once in C — the joined hex digests
    with the joined stored hashes, the joined leading prev_hashes of the payloads with
    the joined hashes before them. Only a batch with a fault is walked row by row. The
    first row's link is not judged here but returned (:func:`join_walks` judges it)."""
    sha256 = hashlib.sha256
    first = prev = None
    n = 0
    for rows in batches:
        stored = [h for h, _ in rows]
        computed = [sha256(p).hexdigest() for _, p in rows]
        links = [p[:64] for _, p in rows]
        if prev is None:
            first = prev = links[0]
        if b"".join(links) != prev + b"".join(stored[:-1]) or "".join(computed).encode() != b"".join(stored):
            for i in range(len(rows)):
                if links[i] != prev:
                    return Walk(n + i + 1, n + i, LINK_BROKEN, first)
                if computed[i].encode() != stored[i]:
                    return Walk(n + i + 1, n + i, HASH_BROKEN, first)
                prev = stored[i]
        n += len(rows)
        prev = stored[-1]
    return Walk(n, first_link=first, head_hash=prev)


def join_walks(walks: Iterable[Walk]) -> Walk:
    """Runs walked apart, joined in id order into the walk of the whole chain: each run's
    first row must link to the hash the run before ends on (the first run to GENESIS), and
    the first fault in that order is the one a single walk from the start would find."""
    prev, n = GENESIS.encode(), 0
    for walk in walks:
        if not walk.events:
            continue
        if walk.first_link != prev:
            return Walk(n + 1, n, LINK_BROKEN)
        if not walk.ok:
            return Walk(n + walk.events, n + walk.bad_at, walk.reason)
        n, prev = n + walk.events, walk.head_hash
    return Walk(n, head_hash=prev if n else None)


def verify_processes(engine: Engine, events: int) -> int:
    """How many processes verify a chain of ``events``: one per CPU this process may use
    (at most MAX_VERIFY_PROCESSES, each holding a database connection) for a long chain,
    whose runs of ids are checked apart and their ends joined after; one for a short
    chain, where starting processes costs more than it saves, or where workers cannot be
    forked or would not see the same database (SQLite in memory)."""
    if events < PARALLEL_MIN_EVENTS or "forkserver" not in multiprocessing.get_all_start_methods():
        return 1
    if multiprocessing.current_process().daemon:  # daemonic processes may not have children
        return 1
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, MAX_VERIFY_PROCESSES))


def _split(span: Span, parts: int) -> list[Span]:
    """``span`` cut into at most ``parts`` consecutive ranges of ids."""
    lo, hi = span
    step = -(-(hi - lo + 1) // parts)
    return [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]


_worker: dict[str, Engine] = {}  # a verify worker's engine, made as the worker starts


def _start_worker(url: str) -> None:
    from broker import db

    _worker["engine"] = db.make_engine(url)


def _walk_span(span: Span) -> Walk:
    return walk_payloads(_batches(_worker["engine"], span))


def _context() -> Any:
    """Workers come from a fork server: a clean process started once, which forks each
    worker. Forking the caller itself (a web worker, a test run) would copy whatever its
    other threads held locked at that moment, and a worker could hang on it for ever."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["broker.audit", "broker.db"])
    return ctx


def walk_chain(engine: Engine, span: Span, processes: int = 1) -> Walk:
    """Walk the ids in ``span``: in this process, or in ``processes`` workers, each on
    its own connection, walking a few runs each (so that one slowed by other work holds
    the rest up less); the runs are joined in id order."""
    if processes <= 1:
        return join_walks([walk_payloads(_batches(engine, span))])
    runs = _split(span, processes * RUNS_PER_PROCESS)
    url = engine.url.render_as_string(hide_password=False)
    with _context().Pool(processes, _start_worker, (url,)) as pool:
        return join_walks(pool.imap(_walk_span, runs))


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
    return VerifyResult(True, walk.events, None, head_id=span[1], head_hash=walk.head_hash.decode())


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
        return result
    found = _hash_of(session, anchor.id)
    if found is None and (result.head_id is None or result.head_id < anchor.id):
        result.ok, result.first_bad = False, anchor.id
        result.reason = (
            f"the chain ends at event {result.head_id or 0} but event {anchor.id} was written and anchored: "
            "events at the end were deleted"
        )
    elif found != anchor.hash:
        result.ok, result.first_bad = False, anchor.id
        result.reason = f"event {anchor.id} is missing or differs from the anchored one: the chain was rewritten"
    return result


def _hash_of(session: Session, event_id: int) -> str | None:
    return session.execute(select(AuditEvent.hash).where(AuditEvent.id == event_id)).scalar()


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


# --- reading the trail ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    """An audit event as people read it: JSON fields parsed, hashes shown."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None
    household_id: int | None
    request_id: int | None
    before: Any
    after: Any
    details: Any
    prev_hash: str
    hash: str


def events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    household_id: int | None = None,
    request_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = 50,
    newest_first: bool = True,
) -> Page:
    """One page (:class:`broker.registry.Page`) of the trail, filtered by object, household,
    request, actor or action."""
    from broker.registry import Page  # at call time: the registry itself records audit events

    stmt = select(AuditEvent)
    for column, value in (
        (AuditEvent.object_type, object_type),
        (AuditEvent.object_id, object_id),
        (AuditEvent.household_id, household_id),
        (AuditEvent.request_id, request_id),
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id
    rows = session.execute(stmt.order_by(order).limit(per_page).offset((page - 1) * per_page)).scalars()
    items = [
        EventView(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            household_id=r.household_id,
            request_id=r.request_id,
            before=loads(r.before),
            after=loads(r.after),
            details=loads(r.details),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows
    ]
    return Page(items, page, per_page, total)
