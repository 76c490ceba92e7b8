"""What a transaction queues for its commit — audit events, outbox rows — is written just
before the commit, all rows of a table in one statement; a savepoint that rolls back
takes back what was queued inside it, as it takes back its rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker import audit
from broker.platform import db, outbox
from models import AuditEvent, OutboxMessage
from tests.support import statements


def _count(model) -> int:
    return db.session().execute(select(func.count()).select_from(model)).scalar_one()


def _queue_both(session, tag: str) -> None:
    audit.record(session, f"test.{tag}", object_type="tests", object_id=1)
    outbox.add(session, "noop", {"tag": tag})


def _failed_step(session) -> None:
    with session.begin_nested():
        _queue_both(session, "failed")
        with session.begin_nested():  # a savepoint inside the failed one goes with it
            _queue_both(session, "inner")
        raise RuntimeError("the step failed")


def test_a_savepoint_rolled_back_takes_back_what_it_queued(app):
    """Queued before, inside a released savepoint, inside a failed one: only the failed
    one's event and row are gone after the commit."""
    session = db.session()
    _queue_both(session, "before")
    with session.begin_nested():
        _queue_both(session, "kept")
    with pytest.raises(RuntimeError):
        _failed_step(session)
    _queue_both(session, "after")
    db.commit()
    db.session.remove()
    actions = db.session().execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert [a for a in actions if a.startswith("test.")] == ["test.before", "test.kept", "test.after"]
    payloads = db.session().execute(select(OutboxMessage.payload).order_by(OutboxMessage.id)).scalars().all()
    assert payloads == [{"tag": "before"}, {"tag": "kept"}, {"tag": "after"}]


def test_a_transaction_rolled_back_writes_nothing_it_queued(app):
    """A rollback forgets the queue: the next commit in the same session writes only its own."""
    session = db.session()
    events, rows = _count(AuditEvent), _count(OutboxMessage)
    _queue_both(session, "lost")
    session.rollback()
    _queue_both(session, "next")
    db.commit()
    assert (_count(AuditEvent), _count(OutboxMessage)) == (events + 1, rows + 1)


def test_outbox_rows_go_as_one_statement_just_before_the_commit(app):
    """Queued rows are not in the table until the commit (nothing is flushed early), and
    then they all go in one INSERT, their ids in the order they were queued."""
    session = db.session()
    for n in range(5):
        outbox.add(session, "noop", {"n": n})
    session.flush()
    assert _count(OutboxMessage) == 0
    with statements.sent() as sent:
        db.commit()
    inserts = [s for s in sent if s.upper().startswith("INSERT INTO OUTBOX")]
    assert len(inserts) == 1
    ordered = db.session().execute(select(OutboxMessage.payload).order_by(OutboxMessage.id)).scalars().all()
    assert ordered == [{"n": n} for n in range(5)]
