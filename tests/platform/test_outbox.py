"""The work behind the loop: outbox rows written with the state change, delivered through
real RQ workers to real adapters (a signed webhook to a local server), retried with
exponential backoff, failed and re-routed, deadlines on RQ's scheduler, duplicates
applied once."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

from broker import audit
from broker.people import users
from broker.platform import db, outbox, outbox_relay, queue, runtime
from broker.referral import assessment
from models import AidRequest, AuditEvent, Offer, OutboxMessage, User
from models.base import utcnow
from tests.support.aid import YUAN, fire_scheduled, make_world, need
from tests.support.partner_server import PartnerServer


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def rows(kind: str) -> list[OutboxMessage]:
    return list(
        db.session()
        .execute(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
        .scalars()
    )


def webhook_partner(world, server: PartnerServer, name: str = "红十字会", **kw) -> dict:
    return world.partner(
        name,
        kind="red_cross",
        adapter="webhook",
        adapter_config={"url": server.url, "secret": server.secret},
        **kw,
    )


def test_state_and_its_work_commit_or_vanish_together(world):
    """Requests and their routing rows are written in one transaction: rolled back, neither exists."""
    hh = world.household()
    session = db.session()
    caseworker = session.execute(select(User).where(User.role == "caseworker")).scalar_one()
    principal = users.principal_of(caseworker)
    assessment.create_assessment(session, principal, hh, {"needs": [need("counselling"), need("employment")]})
    assert len(session.info["outbox"]) == 2
    session.rollback()
    db.session.remove()
    assert rows("route_request") == []
    assert db.session().execute(select(func.count()).select_from(AidRequest)).scalar_one() == 0
    assessment.create_assessment(db.session(), principal, hh, {"needs": [need("counselling")]})
    db.commit()
    (row,) = rows("route_request")
    assert row.enqueued_at is not None, "relayed to RQ right after the commit"
    assert Job.fetch(f"outbox-{row.id}", connection=queue.connection()).get_status() == "queued"


def test_the_same_job_delivered_twice_is_applied_once(world, worker):
    """Running one outbox row twice through RQ makes its offers once; the second run is a no-op."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.assess(world.household(), need("counselling"))
    (row,) = rows("route_request")
    q = queue.queue()
    relayed = Job.fetch(f"outbox-{row.id}", connection=queue.connection())
    copies = [q.enqueue("broker.jobs.run_outbox", row.id, job_id=f"dup-{i}") for i in range(2)]
    SimpleWorker([q], connection=queue.connection()).work(burst=True)
    outcomes = [job.return_value() for job in (relayed, *copies)]
    assert outcomes == ["done", "already processed", "already processed"]
    assert db.session().execute(select(func.count()).select_from(Offer)).scalar_one() == 1


def test_a_stale_delivery_job_does_not_deliver_again(world, worker):
    """A second deliver_offer for an attempt already made does nothing (no second webhook)."""
    with PartnerServer() as server:
        webhook_partner(world, server, categories=["medical"], fund_fen=9000 * YUAN)
        world.assess(world.household(), need("medical", "high", 500 * YUAN))
        worker()
        (offer,) = db.session().execute(select(Offer)).scalars().all()
        assert offer.status == "received"
        outbox.add(db.session(), "deliver_offer", {"offer_id": offer.id, "attempt": 1}, queue_name="deliveries")
        db.commit()
        worker()
        assert server.calls == 1
        assert [e["type"] for e in server.events] == ["offer.created"]


def test_webhook_is_signed_and_carries_no_identity_numbers(world, worker):
    """The partner's server verifies the Standard Webhooks signature; the payload is the offer only."""
    with PartnerServer() as server:
        partner = webhook_partner(world, server, categories=["medical"], fund_fen=9000 * YUAN)
        world.assess(world.household(), need("medical", "critical", 800 * YUAN, "身份证 110108201403021237 住院"))
        worker()
        assert server.rejected == []
        (event,) = server.events
        assert event["type"] == "offer.created"
        assert event["id"] == f"offer-{event['offer']['id']}.created"
        assert event["offer"]["partner_id"] == partner["id"]
        assert event["offer"]["amount_fen"] == 800 * YUAN
        assert "110108201403021237" not in str(event)


def test_transient_failures_retry_with_exponential_backoff(world, worker):
    """503, 503, then 204: the offer is received on the third attempt; waits were 2 s then 4 s."""
    with PartnerServer(statuses=[503, 503]) as server:
        webhook_partner(world, server, categories=["medical"], fund_fen=9000 * YUAN)
        rid = world.assess(world.household(), need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
        worker()
        for _ in range(2):
            (retry,) = [r for r in rows("deliver_offer") if r.processed_at is None]
            assert retry.due_at > utcnow(), "the retry waits on RQ's scheduler"
            assert fire_scheduled("deliver_offer") == 1
            worker()
        (offer,) = db.session().execute(select(Offer)).scalars().all()
        assert (offer.status, offer.delivery_attempts) == ("received", 3)
        assert server.calls == 3
        retries = [e["details"] for e in world.request(rid)["timeline"] if e["event"] == "offer.delivery_retry"]
        assert [r["retry_in_seconds"] for r in retries] == [2.0, 4.0]
        assert [r["next_attempt"] for r in retries] == [2, 3]


def test_after_the_last_retry_the_offer_fails_and_is_rerouted(world, worker, monkeypatch):
    """A partner that keeps answering 503 fails after WEBHOOK_MAX_ATTEMPTS; the next partner is asked."""
    monkeypatch.setitem(runtime.settings(), "WEBHOOK_MAX_ATTEMPTS", 3)
    with PartnerServer(statuses=[503] * 10) as server:
        webhook_partner(world, server, categories=["medical"], respond_within_hours=2, fund_fen=9000 * YUAN)
        world.partner("慈善总会", categories=["medical"], respond_within_hours=48, fund_fen=9000 * YUAN)
        rid = world.assess(world.household(), need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
        worker()
        while fire_scheduled("deliver_offer"):
            worker()
        assert server.calls == 3
    offers = world.request(rid)["offers"]
    assert [(o["partner"]["name"], o["status"]) for o in offers] == [("红十字会", "failed"), ("慈善总会", "received")]
    assert offers[0]["status_reason"] == "delivery_failed"
    failure = next(e for e in world.request(rid)["timeline"] if e["event"] == "offer.delivery_failed")
    assert failure["details"]["attempts"] == 3
    assert offers[0]["delivery_attempts"] == 3


def test_a_permanent_failure_fails_at_once(world, worker):
    """A webhook refused by the partner (bad signature → 401) fails the offer without retries."""
    with PartnerServer() as server:
        world.partner(
            "红十字会",
            kind="red_cross",
            adapter="webhook",
            adapter_config={"url": server.url, "secret": PartnerServer().secret},
            categories=["emergency"],
            fund_fen=9000 * YUAN,
        )
        rid = world.assess(world.household(), need("emergency", "critical", 500 * YUAN))["needs"][0]["request_id"]
        worker()
        assert (server.calls, len(server.rejected)) == (1, 1)
    detail = world.request(rid)
    assert detail["offers"][0]["status"] == "failed"
    assert detail["offers"][0]["status_reason"] == "delivery_failed"
    failure = next(e for e in detail["timeline"] if e["event"] == "offer.delivery_failed")
    assert "401" in failure["details"]["error"]
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")


def test_deadline_waits_in_the_table_then_is_scheduled_on_rq_at_respond_by(world, worker):
    """Each offer's expiry is an outbox row due at respond_by. A day away, it waits in
    the table (nothing in Redis to lose); once it falls within the relay's horizon, the
    periodic pass puts it on RQ's schedule for respond_by, once."""
    world.partner("社工站", kind="social_org", categories=["counselling"], respond_within_hours=24)
    world.assess(world.household(), need("counselling"))
    worker()
    (offer,) = db.session().execute(select(Offer)).scalars().all()
    (row,) = rows("expire_offer")
    assert row.due_at == offer.respond_by
    assert offer.respond_by - offer.created_at == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))
    registry = ScheduledJobRegistry(queue=queue.queue("default"))
    assert row.enqueued_at is None
    assert registry.get_job_ids() == []
    assert outbox_relay.relay(db.session()) == 0, "a day away: not yet"
    # The day passes: the deadline is half a minute away.
    soon = (utcnow() + outbox_relay.HORIZON / 2).replace(microsecond=0)
    db.session().execute(update(Offer).where(Offer.id == offer.id).values(respond_by=soon))
    db.session().execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(due_at=soon))
    db.commit()
    assert outbox_relay.relay(db.session()) == 1
    assert outbox_relay.relay(db.session()) == 0, "scheduled once"
    assert registry.get_job_ids() == [f"outbox-{row.id}"]
    assert abs((registry.get_scheduled_time(f"outbox-{row.id}") - soon).total_seconds()) < 1
    db.session.remove()
    assert rows("expire_offer")[0].enqueued_at is not None


def test_a_deadline_job_run_early_puts_itself_back(world, worker):
    """Fired before respond_by, the expiry job leaves the offer alone and reschedules itself."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.assess(world.household(), need("counselling"))
    worker()
    assert fire_scheduled("expire_offer") == 1
    worker()
    (offer,) = db.session().execute(select(Offer)).scalars().all()
    assert offer.status == "received"
    expiries = rows("expire_offer")
    assert len(expiries) == 2
    assert expiries[0].processed_at is not None
    assert expiries[1].processed_at is None
    assert expiries[1].due_at == offer.respond_by


def test_expiry_withdraws_from_the_partner_and_reroutes(world, worker):
    """Past its deadline (reconciler job on RQ, with a later clock) the offer expires, the webhook
    partner gets a signed `offer.withdrawn`, and the next partner is asked."""
    with PartnerServer() as server:
        webhook_partner(world, server, categories=["living"], respond_within_hours=4, fund_fen=9000 * YUAN)
        world.partner("慈善总会", categories=["living"], respond_within_hours=48, fund_fen=5000 * YUAN)
        rid = world.assess(world.household(), need("living", "high", 500 * YUAN))["needs"][0]["request_id"]
        worker()
        later = (utcnow() + timedelta(hours=5)).isoformat()
        job = queue.queue().enqueue("broker.jobs.reconcile", later)
        SimpleWorker([queue.queue()], connection=queue.connection()).work(burst=True)
        assert job.return_value()["expired"] == 1
        worker()
        assert [e["type"] for e in server.events] == ["offer.created", "offer.withdrawn"]
        assert server.events[1]["reason"] == "expired"
    offers = world.request(rid)["offers"]
    assert [(o["partner"]["name"], o["status"], o["status_reason"]) for o in offers] == [
        ("红十字会", "cancelled", "expired"),
        ("慈善总会", "received", None),
    ]


def test_reconciler_reroutes_a_request_whose_routing_was_lost(world, worker):
    """A request left `requested` with no offer and no routing job is routed by the reconciler."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    for row in rows("route_request"):
        row.processed_at = utcnow()  # as if the job had been lost with its queue
    db.commit()
    from broker.referral import reconcile

    assert reconcile.sweep(db.session()).rerouted == 0, "too recent to call stuck"
    result = reconcile.sweep(db.session(), now=utcnow() + timedelta(minutes=3))
    db.commit()
    assert result.rerouted == 1
    assert reconcile.sweep(db.session(), now=utcnow() + timedelta(minutes=3)).rerouted == 0, "routing now pending"
    db.commit()
    worker()
    assert [o["status"] for o in world.request(rid)["offers"]] == ["received"]


def test_audit_chain_holds_after_the_loop(world, worker):
    """All those events, written inside the business transactions, still verify as one chain."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.assess(world.household(), need("counselling"), need("employment"))
    worker()
    assert audit.verify(db.session()).ok
    assert db.session().execute(select(func.count()).select_from(AuditEvent)).scalar_one() > 5


def queued_job_ids() -> list[str]:
    return [jid for name in queue.QUEUES for jid in queue.queue(name).get_job_ids()]


def test_a_burst_rings_once_and_one_job_carries_it_all(world):
    """Rows committed while a job for their queue is still waiting enqueue nothing more:
    that job, once started, carries out every due row of its queue."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    rids = [world.assess(world.household(), need("counselling"))["needs"][0]["request_id"] for _ in range(4)]
    first, *rest = rows("route_request")
    first_job = f"outbox-{first.id}"
    assert queued_job_ids() == [first_job], "one job for the burst"
    assert all(r.enqueued_at is not None for r in rest), "handed over to the waiting job"
    SimpleWorker([queue.queue()], connection=queue.connection()).work(burst=True)
    assert Job.fetch(first_job, connection=queue.connection()).return_value() == "done"
    db.session.remove()
    assert all(r.processed_at is not None for r in rows("route_request"))
    assert [[o["status"] for o in world.request(rid)["offers"]] for rid in rids] == [["received"]] * 4
    # The bell was answered: the next commit enqueues a job of its own again.
    world.assess(world.household(), need("counselling"))
    assert queued_job_ids() == [f"outbox-{rows('route_request')[-1].id}"]


_boom_calls: list[dict] = []


@outbox.handler("test_boom")
def _boom(session, payload: dict) -> None:
    _boom_calls.append(payload)
    raise RuntimeError("the partner system is on fire")


def test_a_failing_row_does_not_stop_the_drain(world):
    """A row whose work fails is noted and left to its retries; the rows after it are done."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    outbox.add(db.session(), "test_boom", {"n": 1})
    db.commit()
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    _boom_calls.clear()
    assert outbox.drain(db.session(), "default") == 1
    db.session.remove()
    assert _boom_calls == [{"n": 1}], "tried once, not in a loop"
    (boom,) = rows("test_boom")
    assert boom.processed_at is None
    assert "on fire" in boom.last_error
    assert [o["status"] for o in world.request(rid)["offers"]] == ["received"]


_trickled: list[int] = []


@outbox.batched("test_trickle")
def _one_at_a_time(session, first: OutboxMessage, failed: set[int], limit: int, memo: dict) -> int:
    first.attempts += 1
    first.processed_at = utcnow()
    db.commit()
    _trickled.append(first.id)
    return 1


def test_a_drain_chasing_a_trickle_lets_rows_gather(world, monkeypatch):
    """Batch after batch of one row: from the second small batch on, the drain waits a
    moment (no transaction open) before it claims again, so that the next batch carries
    what gathered meanwhile rather than one row at a time; it never waits after a batch
    that was not small."""
    pauses: list[float] = []
    monkeypatch.setattr(outbox, "time", SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append))
    for n in range(4):
        outbox.add(db.session(), "test_trickle", {"n": n})
    db.commit()
    _trickled.clear()
    assert outbox.drain(db.session(), "default") == 4
    assert _trickled == [r.id for r in rows("test_trickle")]
    assert pauses == [outbox.TRICKLE_PAUSE] * 3, "after the 2nd, 3rd and 4th small batches"


def test_inline_adapters_deliver_in_the_routing_transaction(world, worker):
    """A portal partner's offer is in its inbox when routing commits — no delivery job;
    a webhook partner's offer still goes out through one."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    with PartnerServer() as server:
        webhook_partner(world, server, categories=["employment"])
        world.assess(world.household(), need("counselling"), need("employment"))
        worker()
        assert [e["type"] for e in server.events] == ["offer.created"]
    (delivery,) = rows("deliver_offer")
    assert delivery.processed_at is not None
    received = db.session().execute(select(Offer).where(Offer.status == "received")).scalars().all()
    assert sorted(o.id for o in received) == sorted([delivery.payload["offer_id"], *_portal_offer_ids()])
    assert len(rows("expire_offer")) == 2, "both wait for an answer, so both have a deadline"


def _portal_offer_ids() -> list[int]:
    return [
        o.id
        for o in db.session().execute(select(Offer)).scalars()
        if o.id not in {r.payload["offer_id"] for r in rows("deliver_offer")}
    ]
