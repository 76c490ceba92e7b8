"""SQLite's writer queue (``<database>-writer``): whatever ends a transaction — commit,
rollback, a session returning its connection to the pool, closing the connection —
gives the lock back, also when a forked process still shares the descriptor. A holder
that never lets go stops every other process from writing (a restart of ``make run``
came up with /healthz answering 503)."""

from __future__ import annotations

import fcntl
import os

from sqlalchemy import text
from sqlalchemy.orm import Session

from broker.platform import db


def _free(path) -> bool:
    """True if another open file description can take the writer lock now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine, tmp_path / "w.sqlite3-writer"


def test_commit_rollback_and_return_to_the_pool_release_the_writer_lock(tmp_path):
    engine, writer = _engine(tmp_path)
    try:
        session = Session(engine)
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert not _free(writer)
        session.commit()
        assert _free(writer)

        session.execute(text("INSERT INTO t VALUES (2)"))
        assert not _free(writer)
        session.rollback()
        assert _free(writer)

        # Left in a transaction, then closed: the pool's rollback on return lets go.
        session.execute(text("INSERT INTO t VALUES (3)"))
        assert not _free(writer)
        session.close()
        assert _free(writer)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT x FROM t")).scalars().all() == [1]
    finally:
        engine.dispose()


def test_closing_a_connection_mid_transaction_releases_the_writer_lock(tmp_path):
    engine, writer = _engine(tmp_path)
    try:
        conn = engine.connect()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not _free(writer)
        conn.invalidate()  # closes the DBAPI connection itself
        assert _free(writer)
    finally:
        engine.dispose()


def test_a_forked_child_does_not_keep_the_writer_lock(tmp_path):
    """The RQ worker forks a work horse per job: the parent's release must not wait for
    the child to close its copy of the descriptor."""
    engine, writer = _engine(tmp_path)
    read_end, write_end = os.pipe()
    session = Session(engine)
    session.execute(text("INSERT INTO t VALUES (1)"))
    pid = os.fork()
    if pid == 0:  # the child holds the inherited descriptor until told to go
        os.close(write_end)
        os.read(read_end, 1)
        os._exit(0)
    try:
        os.close(read_end)
        session.commit()
        assert _free(writer)
    finally:
        os.write(write_end, b"x")
        os.close(write_end)
        os.waitpid(pid, 0)
        session.close()
        engine.dispose()
