"""One engine and one scoped session per process. Domain functions flush, never commit;
the request or the job calls :func:`commit` once, and after-commit hooks (the outbox
relay) run only once the data is safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

_session_factory = sessionmaker(expire_on_commit=False)
session: scoped_session[Session] = scoped_session(_session_factory)
_after_commit: list[Callable[[Session], None]] = []
_state: dict[str, Any] = {"engine": None}
HOLD_COMMIT = "hold_commit"
COMMIT_REQUESTED = "commit_requested"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE
    so that concurrent writers queue instead of failing on lock upgrades."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
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
