"""SQLite writers queue on a file lock of their own, so that the database lock is handed
straight to the next writer instead of waiting out SQLite's sleeping busy handler."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import column, select, table, text

from broker.platform import db


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def test_a_waiting_writer_goes_as_soon_as_the_holder_commits(sqlite_engine, tmp_path):
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(0.3)
            order.append("first commits")

    def second() -> None:
        holding.wait(5)
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second writes")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first commits", "second writes"]
    assert (tmp_path / "queue.sqlite3-writer").exists(), "writers queued on the file lock"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]


def test_a_rolled_back_or_failed_transaction_lets_the_next_writer_in(sqlite_engine):
    def failing_request() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    done = threading.Event()

    def writer() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=writer).start()
    assert done.wait(5), "the writer was left waiting for a lock nobody holds"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]


def test_a_reader_turning_writer_after_another_commit_writes_on_fresh_data(sqlite_engine):
    """A transaction that read, then writes after another writer committed, neither fails
    (SQLite would refuse to upgrade its stale snapshot: SQLITE_BUSY_SNAPSHOT) nor writes
    on what it read before: its write window starts on a fresh snapshot, and a
    ``SELECT … FOR UPDATE`` (the domain's "about to write") sees the other's row."""
    t = table("t", column("n"))
    with sqlite_engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        with sqlite_engine.begin() as other:
            other.execute(text("INSERT INTO t VALUES (1)"))
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0, "still its first snapshot"
        assert reader.execute(select(t.c.n).with_for_update()).scalars().all() == [1]
        reader.execute(text("INSERT INTO t VALUES (2)"))
        reader.commit()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]


def test_a_read_only_transaction_leaves_the_writer_lock_alone(sqlite_engine, tmp_path):
    """Reads inside a transaction run beside a writer holding the lock, and never take it."""
    with sqlite_engine.connect() as writer:
        writer.execute(text("INSERT INTO t VALUES (1)"))
        with sqlite_engine.connect() as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            reader.rollback()
        writer.commit()
    with sqlite_engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        fd = os.open(tmp_path / "queue.sqlite3-writer", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the reader held it
        finally:
            os.close(fd)


def test_json_columns_take_a_decimal_sum_as_whole_fen(app):
    """PostgreSQL returns a SUM of fen as Decimal; a reason's parameters built from one are
    stored as a whole number on every dialect (once, the route job failed on it forever)."""
    from decimal import Decimal

    from broker.people import users
    from models import Notification, User
    from tests.conftest import PASSWORD, unique

    assert db.dumps_json({"available_fen": Decimal("150000"), "rate": Decimal("0.5")}) == (
        '{"available_fen": 150000, "rate": "0.5"}'
    )
    session = db.session()
    name, key = unique("json-"), unique("json-")
    users.create_user(session, username=name, password=PASSWORD, role="auditor")
    user_id = session.execute(select(User.id).where(User.username == name)).scalar_one()
    params = {"uncovered_fen": Decimal("30000")}
    session.add(Notification(user_id=user_id, code="request_short", params=params, dedupe_key=key))
    db.commit()
    db.session.remove()
    stored = db.session().execute(select(Notification.params).where(Notification.dedupe_key == key)).scalar_one()
    assert stored == {"uncovered_fen": 30000}
    assert type(stored["uncovered_fen"]) is int


def test_a_sqlite_connection_caches_more_pages_than_sqlite_would(sqlite_engine):
    """Every connection (not only the first) keeps SQLITE_CACHE_KIB of pages, not 2 MiB."""
    with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        sizes = [conn.execute(text("PRAGMA cache_size")).scalar_one() for conn in (first, second)]
    assert sizes == [-db.SQLITE_CACHE_KIB, -db.SQLITE_CACHE_KIB]
    assert db.SQLITE_CACHE_KIB > 2000
