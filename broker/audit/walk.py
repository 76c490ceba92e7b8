"""The fast walk of the chain: the database builds each row's hashed bytes, this process
hashes them a batch at a time and compares whole batches at once; a long chain is cut
into runs of positions walked in parallel by workers from a fork server, then joined.
The chain is walked by position (``chain_seq``), the order the chainer linked it in;
unchained events are not part of it yet."""

from __future__ import annotations

import gc
import hashlib
import hmac
import itertools
import multiprocessing
import operator
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

try:  # OpenSSL's HMAC object: copying a keyed one is three times cheaper than hmac.digest()
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - CPython without OpenSSL
    _hmac_new = partial(hmac.new)

from broker.audit.hashing import DETAIL_BROKEN, DETAIL_MISSING, GENESIS, HASH_BROKEN, LINK_BROKEN, audit_key
from broker.platform import runtime

VERIFY_BATCH = 10_000
PARALLEL_MIN_EVENTS = 100_000
RUNS_PER_PROCESS = 4
MAX_VERIFY_PROCESSES = 8


# The hashed bytes, built by the database: prev_hash, SEP, then content_of()'s fields.
# Letting the database build them keeps Python's per-row work to one hash, one HMAC and a
# few comparisons (SQLite's printf, and PostgreSQL's ||, are the cheapest spellings; both
# turn NULL into ''). tests/audit/test_audit.py proves both agree with content_of(). Rows
# come as (hash, payload, digest, details, state) for the positions in one closed range:
# the details are details_text() of the row's audit_details, state b"p" (present), b"e"
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
        WHERE e.chain_seq BETWEEN %s AND %s ORDER BY e.chain_seq""",
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
        WHERE e.chain_seq BETWEEN ? AND ? ORDER BY e.chain_seq""",
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
    """The payload rows of the positions in ``span``, in chain order, in batches."""
    raw = engine.raw_connection()
    try:
        read = _pg_batches if engine.dialect.name == "postgresql" else _sqlite_batches
        yield from read(raw.driver_connection, span, batch)
    finally:
        raw.close()


def _id_span(engine: Engine, after: int = 0) -> Span | None:
    """The lowest and highest position chained (after ``after``; None: nothing there).
    Positions are only ever added, under the chain lock, above the head: the rows up to
    the highest one read here no longer change (unless tampered with)."""
    lo, hi = _fetch(engine, f"SELECT min(chain_seq), max(chain_seq) FROM audit_events WHERE chain_seq > {int(after)}")
    return None if lo is None else (lo, hi)


def _id_at(engine: Engine, position: int, after: int = 0) -> int:
    """The id of the row at 0-based ``position`` in chain order (counted after ``after``)."""
    return _fetch(
        engine,
        f"SELECT id FROM audit_events WHERE chain_seq > {int(after)} ORDER BY chain_seq LIMIT 1 OFFSET {int(position)}",
    )[0]


def _id_of(engine: Engine, seq: int) -> int | None:
    """The id of the event at chain position ``seq`` (None: no such position)."""
    row = _fetch(engine, f"SELECT id FROM audit_events WHERE chain_seq = {int(seq)}")
    return None if row is None else row[0]


def payload_batches(session: Session, batch: int = VERIFY_BATCH) -> Iterator[Payloads]:
    """The whole chain as ``(hash, payload, digest, details, state)`` rows (all bytes; the
    payload starts with the row's prev_hash), in chain order, in batches: what
    :func:`verify` hashes and digests."""
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


_PREFIX = operator.itemgetter(slice(0, 64))  # a payload's leading prev_hash
_PRESENT = b"p".__eq__


def walk_payloads(batches: Iterable[Sequence[tuple[bytes, ...]]], key: bytes | None = None) -> Walk:
    """Walk a run of rows a batch at a time with as little Python per row as possible:
    the columns are transposed, every payload hashed by C functions mapped over them,
    every detail still present digested by a copy of one keyed HMAC (no key set-up per
    row), and whole batches compared at once — the joined raw digests (turned to hex
    once per batch) with the joined stored hashes, the joined leading prev_hashes of the
    payloads with the joined hashes before them, the joined HMACs with the joined stored
    digests. Only a batch with a fault is walked row by row. The first row's link is not
    judged here but returned (:func:`join_walks` judges it)."""
    with _no_cyclic_gc():
        return _walk(batches, key or audit_key())


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off for a walk: a walk makes no cycles, but
    its rows (tuples, which the collector tracks) set it off every few hundred, and rows
    that live through a batch push it on to full collections of every object in the
    process (measured on PostgreSQL, 1M events: 5.0 s with it, 3.7 s without).
    Reference counting frees each batch as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _walk(batches: Iterable[Sequence[tuple[bytes, ...]]], key: bytes) -> Walk:
    sha256 = hashlib.sha256
    keyed = _hmac_new(key, digestmod="sha256")
    compress, join = itertools.compress, b"".join
    first = prev = None
    n = erased = 0
    for rows in batches:
        stored, payloads, digests, details, states = zip(*rows, strict=True)
        if prev is None:
            first = prev = payloads[0][:64]
        present = list(map(_PRESENT, states))
        macs = []
        append, copy = macs.append, keyed.copy
        for text_ in compress(details, present):
            h = copy()
            h.update(text_)
            append(h.digest())
        stored_joined = join(stored)
        if (
            join([sha256(p).digest() for p in payloads]).hex().encode() != stored_joined
            or join(map(_PREFIX, payloads)) != prev + stored_joined[:-64]
            or join(macs).hex().encode() != join(compress(digests, present))
            or b"m" in states
        ):
            return _fault(rows, n, first, prev, key)
        n += len(rows)
        erased += states.count(b"e")
        prev = stored[-1]
    return Walk(n, first_link=first, head_hash=prev, erased=erased)


def _fault(rows: Sequence[tuple[bytes, ...]], n: int, first: bytes | None, prev: bytes, key: bytes) -> Walk:
    """Walk a batch known to hold a fault row by row: the first bad row and why."""
    for i, (stored, payload, digest, details, state) in enumerate(rows):
        if payload[:64] != prev:
            return Walk(n + i + 1, n + i, LINK_BROKEN, first)
        if hashlib.sha256(payload).hexdigest().encode() != stored:
            return Walk(n + i + 1, n + i, HASH_BROKEN, first)
        if state == b"m":
            return Walk(n + i + 1, n + i, DETAIL_MISSING, first)
        if state == b"p" and hmac.digest(key, details, "sha256").hex().encode() != digest:
            return Walk(n + i + 1, n + i, DETAIL_BROKEN, first)
        prev = stored
    raise AssertionError("a batch compared unequal but no row in it is at fault")


def join_walks(walks: Iterable[Walk], start: bytes | None = None) -> Walk:
    """Runs walked apart, joined in chain order into the walk of the whole chain (or of
    the part after a verified checkpoint whose hash is ``start``): each run's first row
    must link to the hash the run before ends on (the first run to ``start``, by default
    GENESIS), and the first fault in that order is the one a single walk would find."""
    prev, n, erased = start or GENESIS.encode(), 0, 0
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
    forked or would not see the same database (SQLite in memory). A PostgreSQL server on
    this machine counts for half: each walker keeps a server backend as busy as itself
    building its rows (measured on 2 CPUs, 1M events: one walker 9 s, two 10.5–13.7 s)."""
    if events < PARALLEL_MIN_EVENTS or "forkserver" not in multiprocessing.get_all_start_methods():
        return 1
    if multiprocessing.current_process().daemon:  # daemonic processes may not have children
        return 1
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return 1
    cpus = runtime.usable_cpus()
    if engine.dialect.name == "postgresql" and _server_is_here(engine.url.host):
        cpus //= 2
    return max(1, min(cpus, MAX_VERIFY_PROCESSES))


def _server_is_here(host: str | None) -> bool:
    """Whether a database host names this machine (no host, or a socket directory: a
    local socket)."""
    return not host or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")


def _split(span: Span, parts: int) -> list[Span]:
    """``span`` cut into at most ``parts`` consecutive ranges of positions."""
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


def walk_chain(engine: Engine, span: Span, processes: int = 1, start: bytes | None = None) -> Walk:
    """Walk the positions in ``span`` (the first linking to ``start``, by default GENESIS):
    in this process, or in ``processes`` workers, each on its own connection, walking a
    few runs each (so that one slowed by other work holds the rest up less); the runs
    are joined in chain order."""
    key = audit_key()
    if processes <= 1:
        return join_walks([walk_payloads(_batches(engine, span), key)], start)
    runs = _split(span, processes * RUNS_PER_PROCESS)
    url = engine.url.render_as_string(hide_password=False)
    with _context().Pool(processes, _start_worker, (url, key)) as pool:
        # Every run walked to its end and the pool closed before it is torn down: one
        # torn down with runs still queued (a fault found early) can hang in terminate().
        walks = pool.map(_walk_span, runs)
        pool.close()
        pool.join()
    return join_walks(walks, start)
