"""Generations: a commit that writes a watched table advances its generation here at once
and in other processes through Redis; nothing is trusted while changes elsewhere cannot
be heard (before the subscription, and while Redis is away)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from broker.platform import db, invalidation, queue
from models import AuditEvent, OutboxMessage, User
from models.base import utcnow
from tests.conftest import wait_for
from tests.support.servers import RedisServer, queue_on_own_redis

ROOT = Path(__file__).resolve().parents[2]
WATCHED = invalidation.generation("test-watch", {"users", "outbox"}, inserts_harmless={"outbox"})
# Announced on another Redis database too, where a test run beside this one may listen:
# a generation no other test watches, so that run is not disturbed.
ACROSS = invalidation.generation("test-across-databases", {"users"})


def _live() -> int:
    return wait_for(WATCHED.current, timeout=10)


@pytest.fixture
def a_user(make_user) -> int:
    name = make_user("caseworker")
    return db.session().execute(select(User.id).where(User.username == name)).scalar_one()


def test_an_orm_change_to_a_watched_table_advances_it_at_the_commit(app, a_user):
    before = _live()
    db.session().get(User, a_user).display_name = "王小梅"
    db.session().flush()
    assert WATCHED.current() == before  # not before the commit: the change is not visible yet
    db.commit()
    assert WATCHED.current() not in (None, before)


def test_a_core_statement_on_a_watched_table_advances_it(app, a_user):
    before = _live()
    db.session().execute(update(User).where(User.id == a_user).values(locale="en"))
    db.commit()
    assert WATCHED.current() not in (None, before)


def test_a_rollback_another_table_or_a_harmless_insert_leaves_it_alone(app, a_user):
    before = _live()
    db.session().execute(update(User).where(User.id == a_user).values(locale="en"))
    db.session().rollback()
    db.session().add(OutboxMessage(kind="unrelated", payload={}, queue="default"))  # inserts are harmless here
    db.commit()
    db.session().execute(insert(AuditEvent).values(at=utcnow(), actor="t", action="t", object_type="t", digest="0"))
    db.commit()
    assert WATCHED.current() == before
    message = db.session().execute(select(OutboxMessage)).scalar_one()
    message.attempts = 1  # a change to a row of it is not
    db.commit()
    assert WATCHED.current() not in (None, before)


def test_an_announcement_from_another_process_is_heard(app):
    """Another process (a real one) announces: this one's generation moves."""
    before = _live()
    code = (
        "import sys; from broker.platform import invalidation, queue; "
        "queue.configure(sys.argv[1]); invalidation.generation('test-watch', {'users'}); "
        "invalidation.announce('test-watch')"
    )
    subprocess.run([sys.executable, "-c", code, queue.url()], cwd=ROOT, check=True, timeout=60, env={**os.environ})
    wait_for(lambda: WATCHED.current() not in (None, before), timeout=10)


def test_an_announcement_on_another_database_of_the_server_is_not_heard(app, monkeypatch):
    """Redis hands a publish to subscribers on every database: an instance on another
    database of the same server (a staging, another test run) must not move ours. The
    other process announces there first, then here; messages from one connection arrive
    in order, so once ours is heard, the other would have been too."""
    _live()
    heard = []
    monkeypatch.setattr(ACROSS, "advance", lambda: heard.append(1))
    ours = queue.url()
    base, number = ours.rsplit("/", 1)
    other = f"{base}/{(int(number) + 1) % 16}"
    code = (
        "import sys; from broker.platform import invalidation, queue; "
        "invalidation.generation('test-across-databases', {'users'}); "
        "[(queue.configure(url), invalidation.announce('test-across-databases')) for url in sys.argv[1:]]"
    )
    subprocess.run([sys.executable, "-c", code, other, ours], cwd=ROOT, check=True, timeout=60, env={**os.environ})
    wait_for(lambda: heard, timeout=10)
    time.sleep(0.2)
    assert heard == [1]


@pytest.fixture
def own_redis(app) -> Iterator[RedisServer]:
    """A Redis of this test's own that it may stop; the suite's comes back afterwards."""
    with queue_on_own_redis() as server:
        yield server


def test_nothing_is_trusted_while_redis_is_away(own_redis):
    before = _live()
    own_redis.stop()
    wait_for(lambda: WATCHED.current() is None, timeout=10)
    own_redis.start()
    after = _live()
    assert after != before  # whatever was kept before the outage is not used after it


def test_without_redis_nothing_is_trusted(app):
    suite_url = queue.url()
    queue.configure(None)
    try:
        time.sleep(0.2)
        assert WATCHED.current() is None
    finally:
        queue.configure(suite_url)
