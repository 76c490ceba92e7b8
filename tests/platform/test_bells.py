"""A commit's bells (its outbox queue's, the audit chainer's) go to Redis in one round
trip; only a bell the commit set enqueues a job; a Redis that cannot be reached leaves
the rows to the periodic relay."""

from __future__ import annotations

from collections import Counter

import pytest
import redis
from sqlalchemy import select

from broker.audit import chain
from broker.platform import db, outbox_relay, queue, runtime
from models import OutboxMessage
from tests.support.aid import make_world, need


@pytest.fixture
def world(as_role, make_user, login, monkeypatch):
    monkeypatch.setitem(runtime.settings(), "AUDIT_CHAIN_INLINE", False)  # as in production
    return make_world(as_role, make_user, login)


@pytest.fixture
def round_trips(monkeypatch) -> Counter:
    """Redis round trips made, by kind: one per single command, one per pipeline (with
    the commands it carried). The real calls are made."""
    seen: Counter = Counter()
    single, piped = redis.Redis.execute_command, redis.client.Pipeline.execute

    def command(self, *args, **kw):
        seen[f"command {args[0]}"] += 1
        return single(self, *args, **kw)

    def pipeline(self, *args, **kw):
        seen["pipeline"] += 1
        seen["piped " + "+".join(str(c[0][0]) for c in self.command_stack)] += 1
        return piped(self, *args, **kw)

    monkeypatch.setattr(redis.Redis, "execute_command", command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
    return seen


def _bells() -> list[bytes]:
    conn = queue.connection()
    return sorted(conn.keys(outbox_relay.BELL_PREFIX + "*") + conn.keys(chain.CHAIN_BELL + "*"))


def _submit(world, hh: int) -> None:
    resp = world.caseworker.post(
        f"/api/v1/households/{hh}/assessments", json={"needs": [need("counselling")], "confirm_duplicate": True}
    )
    assert resp.status_code == 201, resp.get_json()


def test_a_submission_rings_both_bells_in_one_round_trip(world, round_trips):
    hh = world.household()
    _submit(world, hh)  # rings both bells and enqueues their jobs, which have not run
    assert len(_bells()) == 2
    round_trips.clear()
    _submit(world, hh)
    assert round_trips == Counter({"pipeline": 1, "piped SET+SET": 1}), round_trips


def test_only_the_commit_that_sets_a_bell_enqueues_its_job(world):
    hh = world.household()
    default = queue.queue("default")
    _submit(world, hh)
    first = set(default.job_ids)
    assert {j.func_name for j in default.jobs} == {outbox_relay.JOB_FUNC, chain.CHAIN_JOB}
    _submit(world, hh)
    _submit(world, hh)
    assert set(default.job_ids) == first  # the jobs waiting will do the later rows too


def test_without_redis_the_rows_wait_for_the_periodic_relay(world):
    hh = world.household()
    url = queue.url()
    queue.configure("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        _submit(world, hh)
    finally:
        queue.configure(url)
    db.session.remove()
    (row,) = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars()
    assert row.enqueued_at is None
    assert outbox_relay.relay(db.session()) == 1
