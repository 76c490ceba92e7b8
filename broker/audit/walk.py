"""The fast walk of the chain: the database builds each row's hashed bytes, this process
hashes them a batch at a time and compares whole batches at once; a long chain is cut
into runs of ids walked in parallel by workers from a fork server, then joined."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from broker.audit.chain import DETAIL_BROKEN, DETAIL_MISSING, GENESIS, HASH_BROKEN, LINK_BROKEN, audit_key

VERIFY_BATCH = 2_000
PARALLEL_MIN_EVENTS = 100_000
RUNS_PER_PROCESS = 4
MAX_VERIFY_PROCESSES = 8


# The hashed bytes, built by the database: prev_hash, SEP, then content_of()'s fields.
# Letting the database build them keeps Python's per-row work to one hash, one HMAC and a
# few comparisons (SQLite's printf, and PostgreSQL's ||, are the cheapest spellings; both
# turn NULL into ''). tests/audit/test_audit.py proves both agree with content_of(). Rows
# come as (hash, payload, digest, details, state) for the ids in one closed range: the
# details are details_text() of the row's audit_details, state b"p" (present), b"e"
# (erased) or b"m" (missing); ids are looked up only when needed.
_PAYLOAD_SQL = {
    "postgresql": """
        SELECT e.hash::text,
            e.prev_hash || chr(31)
            || to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' || chr(31)
            || e.actor || chr(31) || e.action || chr(31) || e.object_type || chr(31)
            || coalesce(e.object_id::text, '') || chr(31)
            || coalesce(e.household_id::text, '') || chr(31)
            || coalesce(e.request_id::text, '') || chr(31)
            || e.digest,
            e.digest::text,
            coalesce(d.before, '') || chr(31) || coalesce(d.after, '') || chr(31) || coalesce(d.details, ''),
            CASE WHEN d.id IS NULL THEN 'm' WHEN d.erased_at IS NOT NULL THEN 'e' ELSE 'p' END
        FROM audit_events e LEFT JOIN audit_details d ON d.id = e.id
        WHERE e.id BETWEEN %s AND %s ORDER BY e.id""",
    "sqlite": """
        SELECT CAST(e.hash AS BLOB), CAST(printf(
            '%s' || char(31) || '%s+00:00' || char(31) || '%s' || char(31) || '%s' || char(31) || '%s'
            || char(31) || '%s' || char(31) || '%s' || char(31) || '%s' || char(31) || '%s',
            e.prev_hash, replace(e.at, ' ', 'T'), e.actor, e.action, e.object_type,
            e.object_id, e.household_id, e.request_id, e.digest) AS BLOB),
            CAST(e.digest AS BLOB),
            CAST(printf('%s' || char(31) || '%s' || char(31) || '%s', d.before, d.after, d.details) AS BLOB),
            CAST(CASE WHEN d.id IS NULL THEN 'm' WHEN d.erased_at IS NOT NULL THEN 'e' ELSE 'p' END AS BLOB)
        FROM audit_events e LEFT JOIN audit_details d ON d.id = e.id
        WHERE e.id BETWEEN ? AND ? ORDER BY e.id""",
}
Span = tuple[int, int]
Payloads = list[tuple[bytes, bytes, bytes, bytes, bytes]]


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
    """The whole chain as ``(hash, payload, digest, details, state)`` rows (all bytes; the
    payload starts with the row's prev_hash), in id order, in batches: what :func:`verify`
    hashes and digests."""
    engine = session.get_bind()
    span = _id_span(engine)
    if span is not None:
        yield from _batches(engine, span, batch)


@dataclass(frozen=True)
class Walk:
    """Consecutive rows walked by position: how many (up to the first bad one), the
    0-based position of the first bad one and why; the prev_hash the first row links
    to and the last row's hash, so that runs walked apart can be joined; and how many
    rows' details were erased."""

    events: int
    bad_at: int | None = None
    reason: str | None = None
    first_link: bytes | None = None
    head_hash: bytes | None = None
    erased: int = 0

    @property
    def ok(self) -> bool:
        return self.bad_at is None


def walk_payloads(batches: Iterable[Sequence[tuple[bytes, ...]]], key: bytes | None = None) -> Walk:
    """Walk a run of rows a batch at a time with as little per-row Python as possible:
    hash every payload and digest every detail still present, then compare whole batches
    at once in C — the joined hex digests with the joined stored hashes, the joined
    leading prev_hashes of the payloads with the joined hashes before them, the joined
    HMACs with the joined stored digests. Only a batch with a fault is walked row by row.
    The first row's link is not judged here but returned (:func:`join_walks` judges it)."""
    sha256 = hashlib.sha256
    mac = hmac.digest
    key = key or audit_key()
    first = prev = None
    n = erased = 0
    for rows in batches:
        stored = [r[0] for r in rows]
        computed = [sha256(r[1]).hexdigest() for r in rows]
        links = [r[1][:64] for r in rows]
        present = [r for r in rows if r[4] == b"p"]
        macs = "".join(mac(key, r[3], "sha256").hex() for r in present).encode()
        if prev is None:
            first = prev = links[0]
        if (
            b"".join(links) != prev + b"".join(stored[:-1])
            or "".join(computed).encode() != b"".join(stored)
            or macs != b"".join(r[2] for r in present)
            or len(present) + sum(r[4] == b"e" for r in rows) != len(rows)
        ):
            for i, row in enumerate(rows):
                if links[i] != prev:
                    return Walk(n + i + 1, n + i, LINK_BROKEN, first)
                if computed[i].encode() != stored[i]:
                    return Walk(n + i + 1, n + i, HASH_BROKEN, first)
                if row[4] == b"m":
                    return Walk(n + i + 1, n + i, DETAIL_MISSING, first)
                if row[4] == b"p" and mac(key, row[3], "sha256").hex().encode() != row[2]:
                    return Walk(n + i + 1, n + i, DETAIL_BROKEN, first)
                prev = stored[i]
        n += len(rows)
        erased += len(rows) - len(present)
        prev = stored[-1]
    return Walk(n, first_link=first, head_hash=prev, erased=erased)


def join_walks(walks: Iterable[Walk]) -> Walk:
    """Runs walked apart, joined in id order into the walk of the whole chain: each run's
    first row must link to the hash the run before ends on (the first run to GENESIS), and
    the first fault in that order is the one a single walk from the start would find."""
    prev, n, erased = GENESIS.encode(), 0, 0
    for walk in walks:
        if not walk.events:
            continue
        if walk.first_link != prev:
            return Walk(n + 1, n, LINK_BROKEN)
        if not walk.ok:
            return Walk(n + walk.events, n + walk.bad_at, walk.reason)
        n, prev, erased = n + walk.events, walk.head_hash, erased + walk.erased
    return Walk(n, head_hash=prev if n else None, erased=erased)


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


_worker: dict[str, Any] = {}  # a verify worker's engine and key, set as the worker starts


def _start_worker(url: str, key: bytes) -> None:
    from broker.platform import db

    _worker["engine"] = db.make_engine(url)
    _worker["key"] = key


def _walk_span(span: Span) -> Walk:
    return walk_payloads(_batches(_worker["engine"], span), _worker["key"])


def _context() -> Any:
    """Workers come from a fork server: a clean process started once, which forks each
    worker. Forking the caller itself (a web worker, a test run) would copy whatever its
    other threads held locked at that moment, and a worker could hang on it for ever."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["broker.audit", "broker.platform.db"])
    return ctx


def walk_chain(engine: Engine, span: Span, processes: int = 1) -> Walk:
    """Walk the ids in ``span``: in this process, or in ``processes`` workers, each on
    its own connection, walking a few runs each (so that one slowed by other work holds
    the rest up less); the runs are joined in id order."""
    key = audit_key()
    if processes <= 1:
        return join_walks([walk_payloads(_batches(engine, span), key)])
    runs = _split(span, processes * RUNS_PER_PROCESS)
    url = engine.url.render_as_string(hide_password=False)
    with _context().Pool(processes, _start_worker, (url, key)) as pool:
        return join_walks(pool.imap(_walk_span, runs))
