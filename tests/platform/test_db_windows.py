"""On SQLite, a unit of work that only reads never takes the writer lock (WAL readers run
beside the writer), and one that writes takes it only from its first write; a writer
queued past its budget is a 503 with the envelope (API) or a friendly page (portal).
On PostgreSQL the same requests run beside an open write transaction."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from broker.platform import db, outbox, outbox_relay, runtime
from tests.support.aid import YUAN, make_world, need

sqlite_only = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="the writer lock file is SQLite's")


def writer_path() -> str:
    return f"{db.engine().url.database}-writer"


def writer_lock_free() -> bool:
    """Whether nobody holds the writer lock: take it without waiting, and let it go."""
    fd = os.open(writer_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@contextmanager
def another_writer() -> Iterator[None]:
    """A second connection in the middle of a write transaction, kept open: on SQLite it
    holds the write window, on PostgreSQL row locks on every household."""
    conn = db.engine().connect()
    try:
        conn.execute(text("UPDATE households SET updated_at = updated_at"))
        conn.execute(text("UPDATE aid_requests SET updated_at = updated_at"))
        yield
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def routed(world, worker):
    """A request in a partner's inbox."""
    world.partner("区慈善总会", categories=["living"], fund_fen=5000 * YUAN)
    household = world.household()
    rid = world.assess(household, need("living", "normal", 800 * YUAN))["needs"][0]["request_id"]
    worker()
    return household, rid


@pytest.fixture
def short_budget(monkeypatch):
    """A writer gives up queueing after a fifth of a second (the setting, read per wait)."""
    monkeypatch.setitem(runtime.settings(), "SQLITE_LOCK_TIMEOUT", 0.2)


def test_reads_complete_while_another_connection_holds_a_write_transaction(world, routed, as_role, short_budget):
    """The auditor's list, the caseworker's request and the partner's inbox are read
    while a second connection sits in a write transaction: every one answers 200 (a read
    that queued for the writer lock would give up as a 503)."""
    _household, rid = routed
    auditor = as_role("auditor")
    partner = world.partner_clients["区慈善总会"]
    with another_writer():
        listing = auditor.get("/api/v1/requests")
        assert listing.status_code == 200, listing.get_json()
        assert [r["id"] for r in listing.get_json()["items"]] == [rid]
        assert world.caseworker.get(f"/api/v1/requests/{rid}").status_code == 200
        inbox = partner.get("/api/v1/offers")
        assert inbox.status_code == 200
        assert len(inbox.get_json()["items"]) == 1


@sqlite_only
def test_a_read_only_request_never_takes_the_writer_lock(world, routed, as_role):
    """While a read-only request runs, every statement it sends finds the writer lock
    free: it is not holding it, and never queues for it."""
    auditor = as_role("auditor")
    seen: list[bool] = []
    me = threading.get_ident()

    def probe(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == me:
            seen.append(writer_lock_free())

    from sqlalchemy import event

    event.listen(db.engine(), "after_cursor_execute", probe)
    try:
        assert auditor.get("/api/v1/requests").status_code == 200
        assert auditor.get("/api/v1/audit/verify").status_code in (200, 202)
    finally:
        event.remove(db.engine(), "after_cursor_execute", probe)
    assert seen, "the requests read the database"
    assert all(seen), "a read-only request held the writer lock"


@sqlite_only
def test_an_idle_job_reads_without_the_writer_lock(routed, short_budget):
    """The relay and a drain with nothing to do only read: they finish beside a writer."""
    with another_writer():
        assert not writer_lock_free()
        assert outbox_relay.relay(db.session()) == 0
        db.session.remove()
        assert outbox.drain(db.session(), "default") == 0
        db.session.remove()


@sqlite_only
def test_a_write_takes_the_lock_at_its_first_write_and_lets_it_go_at_commit(routed):
    """A unit of work reads without the lock, takes it at its first write, and gives it
    up when it commits."""
    session = db.session()
    session.execute(text("SELECT count(*) FROM aid_requests")).scalar_one()
    assert writer_lock_free(), "reading took the lock"
    session.execute(text("UPDATE aid_requests SET updated_at = updated_at"))
    assert not writer_lock_free(), "the write window is held"
    db.commit()
    assert writer_lock_free()


@sqlite_only
def test_a_writer_that_waits_out_its_budget_is_a_503_with_the_envelope(world, routed, short_budget):
    """A caseworker's write queued behind a writer that does not let go answers 503
    ``unavailable`` with Retry-After, nothing half-done; once the writer goes, the same
    write succeeds."""
    household, _rid = routed
    with another_writer():
        resp = world.caseworker.post(
            f"/api/v1/households/{household}/assessments", json={"needs": [need("medical", "high", 300 * YUAN)]}
        )
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.get_json()["error"]["code"] == "unavailable"
        assert resp.headers["Retry-After"]
    resp = world.caseworker.post(
        f"/api/v1/households/{household}/assessments", json={"needs": [need("medical", "high", 300 * YUAN)]}
    )
    assert resp.status_code == 201, resp.get_json()
    assert len(world.caseworker.get(f"/api/v1/households/{household}/assessments").get_json()["items"]) == 2
