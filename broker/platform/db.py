"""One engine and one scoped session per process. Domain functions flush, never commit;
the request or the job calls :func:`commit` once, and after-commit hooks (the outbox
relay) run only once the data is safe."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

_session_factory = sessionmaker(expire_on_commit=False)
session: scoped_session[Session] = scoped_session(_session_factory)
_after_commit: list[Callable[[Session], None]] = []
_state: dict[str, Any] = {"engine": None}
HOLD_COMMIT = "hold_commit"
SQLITE_TIMEOUT = 30.0  # seconds a SQLite writer waits for the others
COMMIT_REQUESTED = "commit_requested"


class LockTimeout(sqlite3.OperationalError):
    """A SQLite writer waited its whole budget (``SQLITE_LOCK_TIMEOUT``) for the others."""


# Each SQLite connection's page cache, in KiB (SQLite's own default is 2 MiB). A large
# import inserts ID-number hashes all over their unique index: once the index outgrew
# 2 MiB, every insert read pages back (a 100,000-row survey import: 46.6 s → 37.2 s).
# Pages are cached as they are read, so a connection that reads little stays small.
SQLITE_CACHE_KIB = 32 * 1024
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN", "WITH", "VALUES"})


class _QueuedConnection(sqlite3.Connection):
    """A SQLite connection whose transactions read without any lock and write in a short
    window of their own.

    A transaction begins DEFERRED: in WAL mode it reads a snapshot beside any writer and
    never waits. At its first write — a data-changing statement, a savepoint, or a
    ``SELECT … FOR UPDATE`` (the domain's "I am about to write" point, which SQLite
    cannot express) — it queues on an OS file lock (``<database>-writer``), drops its
    read snapshot and restarts as ``BEGIN IMMEDIATE``, so everything it reads from then
    on is current and serialised with the other writers: what PostgreSQL's READ
    COMMITTED plus row locks give, which the domain is written for. A snapshot is never
    upgraded in place (which fails with SQLITE_BUSY_SNAPSHOT once another writer has
    committed). SQLite's own busy handler polls with growing sleeps (1, 2, 5 … 100 ms),
    so under contention its lock often sits free while every writer sleeps; a waiter on
    the file lock is woken the moment the holder lets go."""

    writer_path: str | None = None
    lock_timeout: Callable[[], float] = staticmethod(lambda: SQLITE_TIMEOUT)
    _writer: int | None = None
    _window = False
    _active = False  # SQLAlchemy began a transaction (BEGIN goes out with its first statement)

    def queue_for_write(self, timeout: float) -> None:
        if self.writer_path is None or self._writer is not None:
            return
        # Close-on-exec: a program this process starts must not inherit the lock.
        fd = os.open(self.writer_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise LockTimeout(f"database is locked (waited {timeout:g}s for other writers)") from None
                time.sleep(0.0005)
        self._writer = fd

    @property
    def writing(self) -> bool:
        """True inside the write window (``BEGIN IMMEDIATE`` taken)."""
        return self._window

    def begin(self) -> None:
        """SQLAlchemy began a transaction: read or write is decided by its first statement."""
        self._active = True

    def before_statement(self, write: bool) -> None:
        """Open the transaction as its first statement needs, or enter the write window."""
        if not (self._active or self.in_transaction):
            return  # outside any transaction (autocommit): SQLite locks the statement alone
        if write and not self._window:
            self.queue_for_write(self.lock_timeout())
            try:
                if self.in_transaction:
                    self.execute("ROLLBACK")  # only read so far: its snapshot may be stale
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._leave()
                raise
            self._window = True
        elif not self.in_transaction:
            self.execute("BEGIN")

    def _leave(self) -> None:
        self._active = self._window = False
        if self._writer is not None:
            fd, self._writer = self._writer, None
            # Unlock explicitly before closing: a process forked meanwhile (an RQ work
            # horse) shares the descriptor, and a close here alone would not free it.
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()


def _is_write(statement: str, context: Any) -> bool:
    """Whether a statement needs the write window: anything but a plain read, and a
    read that announces a write (``FOR UPDATE``, which SQLite's compiler drops)."""
    head = statement.lstrip()[:10].split(None, 1)
    if not head or head[0].upper() not in _READS:
        return True
    if context is None:
        return False
    if context.isinsert or context.isupdate or context.isdelete:
        return True
    compiled = context.compiled
    return compiled is not None and getattr(compiled.statement, "_for_update_arg", None) is not None


def _json_value(value: Any) -> Any:
    """What JSON makes of a value it does not know: PostgreSQL returns a ``SUM`` of fen as
    ``Decimal``, and a reason's or a notification's parameters may carry one; fen are
    whole numbers, so an integral Decimal is an int (anything else, its exact text)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_json(value: Any) -> str:
    """The JSON columns' serializer, on every dialect."""
    return json.dumps(value, default=_json_value)


def make_engine(url: str, *, lock_timeout: float | Callable[[], float] = SQLITE_TIMEOUT, **kwargs: Any) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, transactions that read without
    locks and queue for a short write window (:class:`_QueuedConnection`), and a budget
    for that queue: ``lock_timeout`` seconds, or a callable read at each wait (the
    ``SQLITE_LOCK_TIMEOUT`` setting), past which the statement fails as a 503."""
    budget = lock_timeout if callable(lock_timeout) else (lambda: float(lock_timeout))
    kwargs.setdefault("json_serializer", dumps_json)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": budget(), "check_same_thread": False, "factory": _QueuedConnection},
            **kwargs,
        )
        database = engine.url.database
        writer_path = f"{database}-writer" if database and database != ":memory:" else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None
            dbapi_conn.writer_path = writer_path
            dbapi_conn.lock_timeout = budget
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.execute(f"PRAGMA busy_timeout={int(budget() * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.connection.dbapi_connection.begin()

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_statement(conn, cursor, statement, _params, context, _many):  # noqa: ANN001
            cursor.connection.before_statement(_is_write(statement, context))

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def bind(engine: Engine) -> None:
    """Bind the process-wide session to ``engine``."""
    session.remove()
    _state["engine"] = engine
    _session_factory.configure(bind=engine)


def engine() -> Engine:
    if _state["engine"] is None:
        raise RuntimeError("database not bound: create the app first")
    return _state["engine"]


def on_after_commit(hook: Callable[[Session], None]) -> None:
    """Register a hook run after every successful :func:`commit`."""
    if hook not in _after_commit:
        _after_commit.append(hook)


def commit() -> None:
    """Commit the current unit of work, then run the after-commit hooks. While an outer
    unit of work holds the commit (an idempotent request, which must store its response
    in the same transaction), this only flushes; the holder commits once, at its end."""
    s = session()
    if s.info.get(HOLD_COMMIT):
        s.flush()
        s.info[COMMIT_REQUESTED] = True
        return
    s.commit()
    for hook in _after_commit:
        hook(s)


def is_postgres() -> bool:
    return engine().dialect.name == "postgresql"
