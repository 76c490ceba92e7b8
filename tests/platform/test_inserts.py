"""Rows written with Core for the hot paths: ids in the rows' order, and a new ORM object
written in one INSERT of its own, persistent at once, flushing nothing else."""

from __future__ import annotations

from sqlalchemy import select

from broker.platform import db, inserts
from models import OutboxMessage
from tests.support import statements


def test_ids_come_back_in_the_rows_order(app):
    session = db.session()
    rows = [{"kind": f"k{i}", "payload": {"i": i}, "queue": "default"} for i in range(5)]
    ids = inserts.insert_ids(session, OutboxMessage.__table__, rows)
    db.commit()
    kinds = dict(session.execute(select(OutboxMessage.id, OutboxMessage.kind)).all())
    assert [kinds[i] for i in ids] == [f"k{i}" for i in range(5)]
    assert ids == sorted(ids)


def test_many_rows_come_back_in_order_with_ids_drawn_first_on_postgresql(app):
    """From DRAWN_MIN rows, PostgreSQL draws the ids in one query and sends the rows in
    one executemany without RETURNING (psycopg: one short prepared INSERT, pipelined).
    Either way each id is its row's, in the rows' order, and a row written after them
    the usual way takes a higher id."""
    session = db.session()
    n = inserts.DRAWN_MIN + 5
    rows = [{"kind": f"k{i}", "payload": {"i": i, "名": "王"}, "queue": "default"} for i in range(n)]
    with statements.sent() as sent:
        ids = inserts.insert_ids(session, OutboxMessage.__table__, rows)
    later = inserts.insert_now(session, OutboxMessage(kind="later"))
    db.commit()
    stored = {m.id: (m.kind, m.payload) for m in session.execute(select(OutboxMessage)).scalars()}
    assert [stored[i] for i in ids] == [(r["kind"], r["payload"]) for r in rows]
    assert ids == sorted(set(ids))
    assert later.id > ids[-1]
    if db.engine().dialect.name == "postgresql":
        assert [s.split(" ")[0] for s in sent] == ["SELECT", "INSERT"]
        assert "nextval" in sent[0]
        assert "RETURNING" not in sent[1]


def test_an_object_written_now_is_one_insert_and_flushes_nothing_else(app):
    """The object has its id and its columns' defaults at once, reads nothing back when
    its columns are read, and a change pending on another row waits for the commit."""
    session = db.session()
    other = OutboxMessage(kind="other")
    session.add(other)
    db.commit()
    other.attempts = 3  # pending
    with statements.sent() as sent:
        msg = inserts.insert_now(session, OutboxMessage(kind="written", payload={"a": 1}))
        seen = {c: getattr(msg, c) for c in ("kind", "payload", "queue", "created_at", "due_at", "attempts")}
    assert [s.split(" (")[0] for s in sent] == ["INSERT INTO outbox"]
    assert msg.id is not None
    assert msg in session
    assert msg not in session.new, "persistent, not pending"
    assert (seen["queue"], seen["attempts"], seen["payload"]) == ("default", 0, {"a": 1})
    assert None not in (seen["created_at"], seen["due_at"])
    msg.attempts = 1
    with statements.sent() as sent:
        db.commit()
    assert sorted(s.split(" SET")[0] for s in sent) == ["UPDATE outbox"], sent  # both changes, one executemany
    session.expire_all()
    assert (session.get(OutboxMessage, msg.id).attempts, session.get(OutboxMessage, other.id).attempts) == (1, 3)
