"""Test fixtures: one app and schema per session (migrated from empty by Alembic), a
clean database and Redis for each test, a real RQ worker, and an API client that signs
in as any role.

``TEST_DATABASE_URL`` selects PostgreSQL (the suite drops and recreates its schema);
``REDIS_URL`` selects a Redis (its database is flushed per test), else an embedded one."""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import profiles
from rq import SimpleWorker
from sqlalchemy import text

from broker.audit import anchor
from broker.factory import create_app
from broker.platform import db, migrate, outbox_relay, queue, security
from models import Base

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def _reset_schema(url: str) -> None:
    if url.startswith("postgresql"):
        with db.engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


# argon2 at its recommended cost (64 MiB, three passes, four lanes) takes a good fraction of
# a second per hash and per sign-in on a busy machine, and the suite makes and signs in
# thousands of users: the tests hash at the lowest cost (still argon2id, same hash and salt
# lengths). The servers the suite starts in processes of their own keep the real cost.
CHEAP_PASSWORDS = dataclasses.replace(profiles.get_default_parameters(), time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory):
    security.set_password_cost(CHEAP_PASSWORDS)
    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'test.sqlite3'}"
    application = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("REDIS_URL") or None,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    _reset_schema(url)
    migrate.upgrade()
    yield application
    db.engine().dispose()


@pytest.fixture(scope="session", autouse=True)
def _stop_embedded_redis() -> Iterator[None]:
    """The embedded Redis servers this session started (without ``REDIS_URL``) are shut
    down when it ends, and waited for: none is left running, re-parented to init."""
    yield
    queue.stop_embedded()


def truncate_all() -> None:
    """Empty every table, the append-only audit log included (its guard is lifted for the
    moment of the reset and put back)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            _end_abandoned_transactions(conn)
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
            conn.execute(
                text(
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END"
                )
            )


def _end_abandoned_transactions(conn: Any) -> None:
    """A connection a test left idle inside a transaction (a thread's session never closed)
    would hold its locks and make the next reset wait for ever: end it, and say which."""
    left = conn.execute(
        text(
            "SELECT pid, left(query, 200) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
        )
    ).all()
    for pid, query in left:
        print(f"\n[reset] ended a transaction a test left open (pid {pid}): {query}", file=sys.stderr)
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _has_sqlite_sequence(conn: Any) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture(autouse=True)
def clean(app) -> Iterator[None]:
    """Every test starts from an empty database and an empty Redis database, and with no
    memory of an earlier test's Redis outage (the anchor's back-off is process-wide)."""
    db.session.remove()
    truncate_all()
    queue.connection().flushdb()
    anchor._anchor_state["retry_at"] = 0.0
    with app.app_context():
        yield
    db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """The test client, signed in as one user; JSON in, JSON out."""

    def __init__(self, client: Any, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        return h

    def get(self, path: str, **kw: Any):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any):
        return self.client.post(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):
        return self.client.patch(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, json: Any = None, **kw: Any):
        return self.client.put(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw: Any):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


PASSWORD = "correct-horse-9"


@pytest.fixture
def make_user(app):
    """Create a user directly in the domain (as the CLI does) and return its username."""
    from broker.people import users

    def make(
        role: str, *, partner_id: int | None = None, grids: tuple[str, ...] = (), username: str | None = None
    ) -> str:
        name = username or unique(f"{role}-")
        users.create_user(
            db.session(), username=name, password=PASSWORD, role=role, partner_id=partner_id, grid_codes=grids
        )
        db.commit()
        return name

    return make


@pytest.fixture
def login(client):
    """Return an :class:`ApiClient` signed in as ``username``."""

    def sign_in(username: str) -> ApiClient:
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.get_json()
        return ApiClient(client, resp.get_json()["token"])

    return sign_in


@pytest.fixture
def anon(client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def as_role(make_user, login):
    """``as_role("admin")`` → a signed-in client of a fresh user of that role."""

    def make(role: str, **kw: Any) -> ApiClient:
        return login(make_user(role, **kw))

    return make


def run_worker(max_rounds: int = 50) -> int:
    """Drain the outbox through a real RQ worker (in-process, no fork): relay pending
    rows, run every queued job, repeat until nothing is left. Returns jobs run."""
    conn = queue.connection()
    ran = 0
    for _ in range(max_rounds):
        outbox_relay.relay(db.session())
        db.session.remove()
        queues = [queue.queue(name) for name in queue.QUEUES]
        pending = sum(q.count for q in queues)
        if not pending:
            return ran
        worker = SimpleWorker(queues, connection=conn)
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            worker.work(burst=True, with_scheduler=False)
        finally:  # the worker installs its own: give the suite back its SIGTERM (CI's timeout)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        ran += pending
        db.session.remove()
    raise AssertionError("the outbox did not drain")


@pytest.fixture
def worker():
    """Call the returned function to let a real RQ worker carry out all pending work."""
    return run_worker


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy (bounded), for tests with worker processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
