"""One engine and one scoped session per process. Domain functions flush, never commit;
the request or the job calls :func:`commit` once, and after-commit hooks (the outbox
relay) run only once the data is safe."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
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


class _QueuedConnection(sqlite3.Connection):
    """A SQLite connection that queues for the database's write lock on an OS file lock
    (``<database>-writer``) before ``BEGIN IMMEDIATE``, and gives it up as its transaction
    ends. SQLite's own busy handler polls with growing sleeps (1, 2, 5 … 100 ms), so
    under contention the lock often sits free while every writer sleeps; a waiter on
    the file lock is woken the moment the holder lets go."""

    writer_path: str | None = None
    _writer: int | None = None

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
                    raise sqlite3.OperationalError("database is locked (waited for other writers)") from None
                time.sleep(0.0005)
        self._writer = fd

    def _leave(self) -> None:
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE
    so that concurrent writers queue instead of failing on lock upgrades (in a queue of
    their own: :class:`_QueuedConnection`)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_TIMEOUT, "check_same_thread": False, "factory": _QueuedConnection},
            **kwargs,
        )
        database = engine.url.database
        writer_path = f"{database}-writer" if database and database != ":memory:" else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None
            dbapi_conn.writer_path = writer_path
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.connection.dbapi_connection.queue_for_write(SQLITE_TIMEOUT)
            conn.exec_driver_sql("BEGIN IMMEDIATE")

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
