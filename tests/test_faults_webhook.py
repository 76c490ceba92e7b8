"""A partner's webhook misbehaving, end to end through the outbox, real RQ workers, real
Redis and a real local HTTP server: a partner that times out (retried with backoff, then
failed and re-routed), one whose circuit breaker opens (deliveries wait for it without
spending attempts, and go through once it half-opens), one that is slow but in time
(accepted at the first try), the same delivery job run by two worker processes at
once (the partner is called once), and a surge through a partner failing every other
call. In every case every request is accounted for, no offer or disbursement is made
twice, and the audit chain verifies.

(Plain 5xx retries, the last retry failing over and permanent refusals are proved in
test_outbox.py; the adapter's classification of answers in test_webhook.py.)"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.webhook import Breaker
from broker import audit
from broker.money import ledger_queries
from broker.platform import db, outbox, queue, runtime
from models import AidRequest, Disbursement, Offer, OutboxMessage
from tests.conftest import wait_for
from tests.support.aid import YUAN, fire_scheduled, make_world, need
from tests.support.partner_server import new_secret
from tests.support.servers import rq_worker

TERMINAL_OFFERS = {"received", "accepted", "in-progress", "completed", "rejected", "cancelled", "failed"}


class Partner:
    """A partner's webhook receiver: answers ``statuses`` in turn (then 204), each after
    ``delay`` seconds, and records every call as it arrives: webhook-id, type, the
    status it will answer."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.secret = new_secret()
        self.statuses = list(statuses or [])
        self.delay = delay
        self.calls: list[tuple[str, str, int]] = []  # (webhook-id, type, status answered)
        self.closing = threading.Event()
        self.lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                with partner.lock:
                    status = partner.statuses.pop(0) if partner.statuses else 204
                    partner.calls.append((self.headers["webhook-id"], body["type"], status))
                if partner.delay:
                    partner.closing.wait(partner.delay)
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the broker gave up waiting and closed the connection

            def log_message(self, *_args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"

    def delivered(self) -> Counter:
        """How many times each offer.created event was answered 2xx."""
        return Counter(wid for wid, kind, status in self.calls if kind == "offer.created" and status < 300)

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def partner_server() -> Iterator[Any]:
    made: list[Partner] = []

    def make(**kw: Any) -> Partner:
        made.append(Partner(**kw))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def webhook_partner(world, server: Partner, name: str, **kw: Any) -> dict:
    timeout = kw.pop("timeout_seconds", 2.0)
    return world.partner(
        name,
        kind="charity",
        adapter="webhook",
        adapter_config={"url": server.url, "secret": server.secret, "timeout_seconds": timeout},
        **kw,
    )


def drain(worker: Any, rounds: int = 20) -> None:
    """Run the work, firing every scheduled retry at once instead of waiting its backoff."""
    worker()
    for _ in range(rounds):
        if not fire_scheduled("deliver_offer"):
            return
        worker()
    raise AssertionError("retries did not come to an end")


# Work that waits for its day: offers expiring, application reminders, follow-up visits
# falling due, concerns reaching their deadline.
DEADLINES = ("expire_offer", "application.reminder", "follow_up_due", "escalate_concern")


def assert_accounted_for(request_ids: list[int]) -> None:
    """Every request has offers in a known state, never two to one partner, no
    disbursement twice, nothing left in the outbox but deadlines, the ledger balanced
    and the audit chain whole."""
    db.session.remove()
    session = db.session()
    for rid in request_ids:
        req = session.get(AidRequest, rid)
        assert req is not None, rid
        assert req.offers, f"request {rid} was never offered"
        assert {o.status for o in req.offers} <= TERMINAL_OFFERS, (rid, [o.status for o in req.offers])
        partners = [o.partner_id for o in req.offers]
        assert len(partners) == len(set(partners)), f"request {rid} offered twice to one partner"
    refs = session.execute(select(Disbursement.offer_id, Disbursement.amount_fen)).all()
    assert len(refs) == len(set(refs)), "a disbursement was recorded twice"
    undone = session.execute(
        select(OutboxMessage.kind).where(OutboxMessage.processed_at.is_(None), OutboxMessage.kind.not_in(DEADLINES))
    ).scalars()
    assert list(undone) == [], "work left undone in the outbox (only deadlines may wait)"
    assert ledger_queries.check(session).as_dict()["ok"]
    result = audit.verify(session)
    assert result.ok, result.as_dict()
    db.session.remove()


def test_a_partner_timing_out_is_retried_with_backoff_then_failed_and_rerouted(
    world, worker, partner_server, monkeypatch
):
    """A partner that never answers within its timeout (its breaker never opening): each
    delivery is retried with growing waits; after the last attempt the offer fails and the
    request goes to the next partner, which receives it."""
    settings = runtime.settings()
    monkeypatch.setitem(settings, "WEBHOOK_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(settings, "BREAKER_THRESHOLD", 100)
    hanging = partner_server(delay=30)
    slow = webhook_partner(
        world,
        hanging,
        "市红十字会",
        categories=["medical"],
        respond_within_hours=2,
        timeout_seconds=0.5,
        fund_fen=90_000 * YUAN,
    )
    world.partner("区慈善总会", categories=["medical"], respond_within_hours=48, fund_fen=90_000 * YUAN)
    request_ids = [
        world.assess(world.household(), need("medical", "high", 800 * YUAN))["needs"][0]["request_id"] for _ in range(2)
    ]
    drain(worker)

    assert len(hanging.calls) == 6, "three real attempts per offer"
    for rid in request_ids:
        detail = world.request(rid)
        first, second = detail["offers"]
        assert (first["partner"]["id"], first["status"], first["delivery_attempts"]) == (slow["id"], "failed", 3)
        assert first["status_reason"] == "delivery_failed"
        failure = next(e for e in detail["timeline"] if e["event"] == "offer.delivery_failed")
        assert failure["details"]["attempts"] == 3
        assert "did not answer within 0.5s" in failure["details"]["error"]
        assert (second["partner"]["name"], second["status"]) == ("区慈善总会", "received")
        waits = [e["details"]["retry_in_seconds"] for e in detail["timeline"] if e["event"] == "offer.delivery_retry"]
        assert waits == [2.0, 4.0], "exponential backoff between attempts"
    assert_accounted_for(request_ids)


def test_an_open_breaker_defers_deliveries_without_spending_attempts_until_it_half_opens(
    world, worker, partner_server, monkeypatch
):
    """A partner failing with 503 opens its breaker after two calls. Offers made while it
    is open wait, ``requested``, with no attempt spent — however often their deliveries
    come round before the cooldown ends; nothing fails, no other partner is asked. Once
    the partner has recovered and the breaker half-opens, every offer is delivered, each
    having spent only its real attempts."""
    settings = runtime.settings()
    monkeypatch.setitem(settings, "WEBHOOK_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(settings, "BREAKER_THRESHOLD", 2)
    monkeypatch.setitem(settings, "BREAKER_COOLDOWN_SECONDS", 600)
    server = partner_server(statuses=[503, 503])
    partner = webhook_partner(
        world, server, "市红十字会", categories=["medical"], timeout_seconds=5, fund_fen=9000 * YUAN
    )
    world.partner("区慈善总会", categories=["counselling"])  # another partner, for another need
    request_ids = [
        world.assess(world.household(), need("medical", "high", 800 * YUAN))["needs"][0]["request_id"] for _ in range(2)
    ]
    worker()
    breaker = Breaker(queue.connection(), partner["id"], threshold=2, cooldown_seconds=600)
    assert len(server.calls) == 2
    assert breaker.state() == "open", "two 503s opened the breaker"
    late = world.assess(world.household(), need("medical", "normal", 300 * YUAN))["needs"][0]["request_id"]
    worker()
    for _ in range(3):  # the deliveries come round again and again while the breaker is open
        fire_scheduled("deliver_offer")
        worker()
    assert breaker.state() == "open"

    def offers() -> dict[int, dict]:
        return {rid: world.request(rid)["offers"] for rid in [*request_ids, late]}

    waiting = offers()
    assert all(len(made) == 1 for made in waiting.values()), "no other partner was asked"
    assert {rid: (o[0]["status"], o[0]["delivery_attempts"]) for rid, o in waiting.items()} == {
        request_ids[0]: ("requested", 1),
        request_ids[1]: ("requested", 1),
        late: ("requested", 0),
    }, "only the two real calls count; the open breaker spends no attempt"
    assert len(server.calls) == 2, "nobody called the partner while its breaker was open"
    deferred = [e for e in world.request(late)["timeline"] if e["event"] == "offer.delivery_deferred"]
    assert deferred
    assert deferred[0]["details"]["reason"] == "breaker_open"

    assert 500 < deferred[0]["details"]["retry_in_seconds"] <= 600, "deferred until the cooldown ends"

    # The cooldown runs out now instead of in ten minutes (time control, as fire_scheduled).
    queue.connection().pexpire(breaker.keys[1], 1)
    wait_for(lambda: breaker.state() == "half_open")
    for _ in range(5):
        fire_scheduled("deliver_offer")
        worker()
        if all(o[0]["status"] == "received" for o in offers().values()):
            break
    delivered = offers()
    assert {rid: (o[0]["status"], o[0]["delivery_attempts"]) for rid, o in delivered.items()} == {
        request_ids[0]: ("received", 2),
        request_ids[1]: ("received", 2),
        late: ("received", 1),
    }
    assert set(server.delivered().values()) == {1}
    assert len(server.delivered()) == 3
    assert breaker.state() == "closed"
    assert_accounted_for([*request_ids, late])


def test_a_slow_partner_answering_in_time_is_accepted_at_the_first_try(world, worker, partner_server):
    """A partner taking a second and a half to answer, within its 5 s timeout, receives each
    offer on the first attempt: no retry, no failure counted against it."""
    slow_server = partner_server(delay=1.5)
    slow = webhook_partner(
        world, slow_server, "慢速伙伴", categories=["living"], timeout_seconds=5, fund_fen=9000 * YUAN
    )
    request_ids = [
        world.assess(world.household(), need("living", "normal", 300 * YUAN))["needs"][0]["request_id"]
        for _ in range(2)
    ]
    drain(worker)
    for rid in request_ids:
        (offer,) = world.request(rid)["offers"]
        assert (offer["status"], offer["delivery_attempts"]) == ("received", 1)
    assert len(slow_server.calls) == 2
    assert set(slow_server.delivered().values()) == {1}
    assert Breaker(queue.connection(), slow["id"], threshold=5, cooldown_seconds=60).state() == "closed"
    assert_accounted_for(request_ids)


def test_the_same_delivery_run_by_two_workers_at_once_calls_the_partner_once(world, partner_server):
    """One deliver_offer row enqueued twice and taken by two worker processes at the same
    moment, the partner slow to answer: the partner is called once, the offer is received
    after one attempt, and the second run finds nothing left to do."""
    server = partner_server(delay=2.0)
    webhook_partner(world, server, "红十字会", categories=["medical"], timeout_seconds=10, fund_fen=9000 * YUAN)
    rid = world.assess(world.household(), need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
    db.session.remove()
    (route,) = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars()
    assert outbox.run(db.session(), route.id) == "done"
    db.session.remove()
    (deliver,) = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "deliver_offer")).scalars()
    db.session.remove()
    q = queue.queue("deliveries")
    queue.queue("default").empty()
    copy = q.enqueue("broker.jobs.run_outbox", deliver.id, job_id=f"again-{deliver.id}")
    workers = [rq_worker(runtime.settings(), burst=True, name=f"dup-{i}").start() for i in range(2)]
    try:
        for proc in workers:
            proc.proc.wait(timeout=120)
    finally:
        for proc in workers:
            proc.stop()
    outcomes = sorted(
        str(j.return_value(refresh=True)) for j in (copy, q.fetch_job(f"outbox-{deliver.id}")) if j is not None
    )
    # The second run came while the first was calling (it leaves the row to it) or after.
    assert outcomes[0] == "done"
    assert outcomes[1] in ("already processed", "in progress elsewhere")
    assert len(server.calls) == 1
    db.session.remove()
    offer = db.session().execute(select(Offer)).scalar_one()
    assert (offer.status, offer.delivery_attempts) == ("received", 1)
    assert_accounted_for([rid])


def test_a_surge_through_a_partner_failing_every_other_call_loses_nothing(world, worker, partner_server, as_role):
    """Twelve requests to a partner answering 500 to every other webhook: each offer is
    delivered exactly once in the end (one 2xx per webhook-id), every request is received,
    accepted and paid once, and the books and the chain hold."""
    server = partner_server(statuses=[500, 204] * 40)
    flaky = webhook_partner(world, server, "时好时坏", categories=["living"], timeout_seconds=5, fund_fen=90_000 * YUAN)
    request_ids = [
        world.assess(world.household(), need("living", "normal", 200 * YUAN))["needs"][0]["request_id"]
        for _ in range(12)
    ]
    drain(worker)
    assert any(status == 500 for _wid, _kind, status in server.calls), "the partner did fail some calls"
    delivered = server.delivered()
    assert len(delivered) == 12
    assert set(delivered.values()) == {1}
    partner = world.partner_clients["时好时坏"]
    for rid in request_ids:
        (offer,) = world.request(rid)["offers"]
        assert offer["partner"]["id"] == flaky["id"]
        assert offer["status"] == "received"
        key = f"pay-{offer['id']}"
        assert partner.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
        for _ in range(2):  # the partner's system retries its own call: one key, one payment
            resp = partner.post(
                f"/api/v1/offers/{offer['id']}/disbursements",
                json={"amount_fen": 200 * YUAN, "kind": "cash", "reference": key},
                headers={"Idempotency-Key": key},
            )
            assert resp.status_code == 201, resp.get_json()
    worker()
    db.session.remove()
    assert db.session().execute(select(func.count()).select_from(Disbursement)).scalar_one() == 12
    statuses = Counter(world.request(rid)["status"] for rid in request_ids)
    assert statuses == {"completed": 12}
    assert_accounted_for(request_ids)
