"""The worker class: its parent rehearses the hot path before forking, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker import warmup
from broker.platform import db, queue
from models import Base
from tests.support.aid import make_world


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def table_counts() -> dict[str, int]:
    session = db.session()
    counts = {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.tables.values()
    }
    db.session.remove()
    return counts


def test_warm_up_rehearses_routing_and_leaves_no_trace(world):
    """The rehearsal routes a made-up need through the real code, then rolls back: no row,
    no audit event, no Redis key, and the database is free for the next writer."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.assess(world.household(), {"category": "counselling", "urgency": "normal"})
    before, keys = table_counts(), sorted(queue.connection().keys())
    assert warmup.warm_up() is True
    assert table_counts() == before
    assert sorted(queue.connection().keys()) == keys
    world.assess(world.household(), {"category": "counselling", "urgency": "normal"})  # not locked out
    assert table_counts()["aid_requests"] == before["aid_requests"] + 1
