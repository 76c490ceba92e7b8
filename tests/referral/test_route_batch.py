"""Routing in batches: one draining job routes every waiting request, reading the
partners once, and counts the offers it makes as it goes (a partner's unanswered money
is never offered twice within a batch)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from broker.platform import db, outbox, runtime
from broker.referral import route_batch
from models import AidRequest, Offer, OutboxMessage
from tests.support import statements
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def test_one_job_routes_every_waiting_request_reading_the_partners_once(world):
    """Twelve requests waiting: one drain routes them all in one batch, reads the partners
    and their figures once, and keeps the fast fund's unanswered money current — it is
    offered two needs of ¥400 from its ¥1,000 and the rest goes to the larger fund, as
    routing them one by one would."""
    fast = world.partner("甲 快速基金", categories=["medical"], respond_within_hours=1, fund_fen=1000 * YUAN)
    large = world.partner("乙 大基金", categories=["medical"], respond_within_hours=72, fund_fen=100000 * YUAN)
    ids = [
        world.assess(world.household(), need("medical", "high", 400 * YUAN))["needs"][0]["request_id"]
        for _ in range(12)
    ]
    db.session.remove()
    with statements.sent() as sent:
        done = outbox.drain(db.session(), "default")
    db.session.remove()
    assert done == 12
    partner_reads = [s for s in sent if s.startswith("SELECT") and " FROM partners" in s and "WHERE" not in s]
    assert len(partner_reads) == 1, partner_reads
    assert sum(1 for s in sent if "count(*)" in s and "GROUP BY offers.partner_id" in s) == 1
    session = db.session()
    offers = session.execute(select(Offer).order_by(Offer.id)).scalars().all()
    assert sorted(o.request_id for o in offers) == sorted(ids), "one offer per request"
    assert all(o.status == "received" for o in offers)
    assert [o.partner_id for o in offers] == [fast["id"]] * 2 + [large["id"]] * 10
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars().all()
    assert all(r.processed_at is not None and r.attempts == 1 for r in rows)
    assert all(session.get(AidRequest, rid).routing_state == "offered" for rid in ids)


def test_a_batch_skips_rows_carried_out_meanwhile(world, monkeypatch):
    """A row the batch listed but another job carried out before the batch reached it is
    left alone: its request is routed once."""
    world.partner("甲 基金", categories=["medical"], fund_fen=100000 * YUAN)
    for _ in range(3):
        world.assess(world.household(), need("medical", "high", 100 * YUAN))
    db.session.remove()
    rows = db.session().execute(select(OutboxMessage.id).where(OutboxMessage.kind == "route_request")).scalars().all()
    db.session.remove()
    real_lock = route_batch._lock_due

    def meanwhile(session, msg_id):
        if msg_id == rows[-1]:
            # Another job (a thread: a session of its own) routes the last row between the
            # batch's listing and its turn.
            outcome: list[str] = []

            def other_job() -> None:
                try:
                    outcome.append(outbox.run(db.session(), msg_id))
                finally:
                    db.session.remove()

            thread = threading.Thread(target=other_job)
            thread.start()
            thread.join(timeout=60)
            assert outcome == ["done"]
        return real_lock(session, msg_id)

    monkeypatch.setattr(route_batch, "_lock_due", meanwhile)
    assert outbox.drain(db.session(), "default") == 2
    db.session.remove()
    assert len(db.session().execute(select(Offer)).scalars().all()) == 3


def test_a_portal_delivery_reads_no_ledger_balance(world):
    """The portal only carries the offer (``reads_balance = False``): routing to it reads
    the partners' money once for the batch and never a fund's balance per delivery, while
    an auto-grant fund, which decides by its balance, is still given it."""
    world.partner("甲 基金", categories=["medical"], fund_fen=100000 * YUAN)
    ids = [
        world.assess(world.household(), need("medical", "high", 100 * YUAN))["needs"][0]["request_id"] for _ in range(3)
    ]
    db.session.remove()
    with statements.sent() as sent:
        assert outbox.drain(db.session(), "default") == 3
    db.session.remove()
    assert not [s for s in sent if "sum(accounts.balance_fen)" in s and "GROUP BY accounts.kind" in s]
    received = db.session().execute(select(Offer.request_id).where(Offer.status == "received")).scalars().all()
    assert sorted(received) == sorted(ids)
    from adapters.auto_grant import AutoGrantAdapter
    from adapters.portal import PortalAdapter

    assert AutoGrantAdapter.reads_balance
    assert not PortalAdapter.reads_balance


def test_a_routed_request_reads_its_household_once(world, monkeypatch):
    """Routing a request to a portal partner reads the household and its members once
    (the policy check, the family's consent and what the partner may see share them),
    writes the request and the offer once each, and stays within 15 statements — a
    count, which is deterministic where a time is not."""
    world.partner("甲 基金", categories=["medical"], fund_fen=100000 * YUAN)
    world.partner("乙 基金", categories=["medical"], fund_fen=100000 * YUAN)
    n = 8
    for _ in range(n):
        world.assess(world.household(), need("medical", "high", 100 * YUAN))
    db.session.remove()
    monkeypatch.setitem(runtime.settings(), "AUDIT_CHAIN_INLINE", False)  # the chainer's job, as in production
    with statements.sent() as routing:
        assert outbox.drain(db.session(), "default") == n
    db.session.remove()

    def reads(table: str) -> int:
        return sum(1 for s in routing if s.startswith("SELECT") and f" FROM {table} " in f"{s} ")

    def updates(table: str) -> int:
        return sum(1 for s in routing if s.startswith(f"UPDATE {table} "))

    assert reads("households") == n
    assert reads("members") == n
    assert updates("aid_requests") == n
    assert updates("offers") == n
    batch = 12  # the batch's own: claiming and listing its rows, the partners, their figures and money, the tree
    assert len(routing) <= 15 * n + batch, "\n".join(routing)
