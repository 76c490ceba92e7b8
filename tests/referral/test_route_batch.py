"""Routing in batches: one draining job routes every waiting request, reading the
partners once, and counts the offers it makes as it goes (a partner's unanswered money
is never offered twice within a batch)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from broker.platform import db, outbox, runtime
from broker.referral import route_batch, routing
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
    left alone: its request is routed once. (The last row is in the batch's second
    transaction: between two, another job may take a row.)"""
    world.partner("甲 基金", categories=["medical"], fund_fen=100000 * YUAN)
    n = route_batch.TOGETHER + 2
    for _ in range(n):
        world.assess(world.household(), need("medical", "high", 100 * YUAN))
    db.session.remove()
    rows = db.session().execute(select(OutboxMessage.id).where(OutboxMessage.kind == "route_request")).scalars().all()
    db.session.remove()
    real_lock = route_batch._lock_due

    def meanwhile(session, msg_ids):
        if rows[-1] in msg_ids:
            # Another job (a thread: a session of its own) routes the last row between the
            # batch's listing and its turn.
            outcome: list[str] = []

            def other_job() -> None:
                try:
                    outcome.append(outbox.run(db.session(), rows[-1]))
                finally:
                    db.session.remove()

            thread = threading.Thread(target=other_job)
            thread.start()
            thread.join(timeout=60)
            assert outcome == ["done"]
        return real_lock(session, msg_ids)

    monkeypatch.setattr(route_batch, "_lock_due", meanwhile)
    assert outbox.drain(db.session(), "default") == n - 1
    db.session.remove()
    assert len(db.session().execute(select(Offer)).scalars().all()) == n


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


def test_routed_requests_read_their_households_together(world, monkeypatch):
    """Routing requests to a portal partner, several to a transaction, locks the requests
    and reads their offers, households, members, consents and benefits once for them all
    (the policy check, the family's consent and what the partner may see share them);
    what is left per request is its offer's INSERT: the offers' deliveries and the
    requests' new round go out together at the commit, one UPDATE (an executemany) a
    table — a count, which is deterministic where a time is not."""
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

    def writes(verb: str, table: str) -> int:
        return sum(1 for s in routing if s.startswith(f"{verb} {table} "))

    assert n <= route_batch.TOGETHER, "one transaction"
    for table in ("aid_requests", "households", "members", "consents", "household_benefits", "policy_holds"):
        assert reads(table) == 1, table
    assert writes("INSERT INTO", "offers") == n
    # The first request's changes may go out with a read's autoflush (a grid read once
    # for the drain); every later one's with the commit.
    assert writes("UPDATE", "offers") <= 2
    assert writes("UPDATE", "aid_requests") <= 2
    assert writes("INSERT INTO", "audit_events") == 1
    assert writes("UPDATE", "outbox") == 1
    batch = 28  # the batch's own: its rows, the partners, their figures and money, the tree, the reads above
    assert len(routing) <= n + batch, "\n".join(routing)


def test_a_request_that_fails_is_left_alone_and_the_rest_of_its_transaction_routed(world, monkeypatch):
    """Requests are routed several to a transaction. When one of them fails, that
    transaction is rolled back and its requests routed one by one: the failing row alone
    is left to its retries (tried once more, not in a loop), the others are routed once."""
    world.partner("甲 基金", categories=["medical"], fund_fen=100000 * YUAN)
    ids = [
        world.assess(world.household(), need("medical", "high", 100 * YUAN))["needs"][0]["request_id"] for _ in range(5)
    ]
    db.session.remove()
    real_route = routing.route
    tried: list[int] = []

    def route(session, request_id, **kw):
        if request_id == ids[2]:
            tried.append(request_id)
            raise RuntimeError("a fault in routing this request")
        return real_route(session, request_id, **kw)

    monkeypatch.setattr(routing, "route", route)
    assert outbox.drain(db.session(), "default") == 4
    db.session.remove()
    session = db.session()
    assert tried == [ids[2], ids[2]], "once in the transaction, once alone"
    offers = session.execute(select(Offer.request_id).order_by(Offer.request_id)).scalars().all()
    assert offers == [rid for rid in ids if rid != ids[2]], "one offer each, none for the failing request"
    by_request = {
        r.payload["request_id"]: r
        for r in session.execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars()
    }
    failing = by_request.pop(ids[2])
    assert failing.processed_at is None
    assert failing.attempts == 1
    assert "a fault in routing" in failing.last_error
    assert all(r.processed_at is not None and r.attempts == 1 for r in by_request.values())
