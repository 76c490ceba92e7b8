"""No network call inside a database transaction: a real RQ worker delivering to a
partner whose webhook blocks until released holds no transaction (nor SQLite's writer
lock) while it waits, so the API reads and writes beside it; released, the offer is
received. An offer cancelled while its delivery is in flight is withdrawn again after
the delivery lands, under the same stable webhook-id."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from broker.platform import db, runtime
from models import Offer
from tests.conftest import wait_for
from tests.platform.test_db_windows import writer_lock_free
from tests.support.aid import YUAN, make_world, need
from tests.support.partner_server import PartnerServer
from tests.support.servers import rq_worker


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def blocking_partner(world) -> Iterator[tuple[PartnerServer, dict]]:
    """A partner whose system keeps the first webhook waiting until ``release`` is set."""
    with PartnerServer(hold_first=True) as server:
        partner = world.partner(
            "红十字会",
            kind="red_cross",
            adapter="webhook",
            adapter_config={"url": server.url, "secret": server.secret, "timeout_seconds": 30},
            categories=["medical"],
            fund_fen=9000 * YUAN,
        )
        yield server, partner


@pytest.fixture
def delivering_worker() -> Iterator[Any]:
    """A real RQ worker process, started on demand, stopped at the end."""
    started: list[Any] = []

    def start() -> Any:
        started.append(rq_worker(runtime.settings(), burst=True, name=f"callout-{len(started)}").start())
        return started[-1]

    yield start
    for proc in started:
        proc.stop()


def offer_of(rid: int) -> Offer:
    db.session.remove()
    offer = db.session().execute(select(Offer).where(Offer.request_id == rid)).scalar_one()
    db.session.remove()
    return offer


def status_of(rid: int) -> str | None:
    """The status of the request's offer, None before it is made."""
    db.session.remove()
    status = db.session().execute(select(Offer.status).where(Offer.request_id == rid)).scalar_one_or_none()
    db.session.remove()
    return status


def open_transactions_elsewhere() -> int:
    """Database sessions other than ours sitting in a transaction (PostgreSQL), or 0 if
    the writer lock is free (SQLite: a worker writing would hold it)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return 0 if writer_lock_free() else 1
    with db.engine().connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()


def test_a_partner_blocking_its_webhook_stalls_no_other_request(world, blocking_partner, delivering_worker, as_role):
    """While the worker waits on the partner: the offer's attempt is claimed and
    committed, no transaction is open, the auditor lists the requests, and the caseworker
    records a visit and a new assessment. Released, both offers are received, each
    delivered under its own stable webhook-id."""
    server, _partner = blocking_partner
    household = world.household()
    rid = world.assess(household, need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
    db.session.remove()
    delivering_worker()
    assert server.arrived.wait(timeout=60), "the worker never called the partner"

    offer = offer_of(rid)
    assert (offer.status, offer.delivery_attempts) == ("requested", 1), "the attempt was claimed before the call"
    assert open_transactions_elsewhere() == 0, "the worker holds a transaction while it waits on the network"
    auditor = as_role("auditor")
    listing = auditor.get("/api/v1/requests")
    assert listing.status_code == 200
    assert rid in [r["id"] for r in listing.get_json()["items"]]
    visit = world.caseworker.post(
        f"/api/v1/households/{household}/visits", json={"channel": "routine", "findings": "在家"}
    )
    assert visit.status_code == 201, visit.get_json()
    later = world.assess(world.household(), need("medical", "normal", 200 * YUAN))["needs"][0]["request_id"]
    assert not server.events, "the partner has not answered yet"

    server.release.set()
    wait_for(lambda: status_of(rid) == status_of(later) == "received", timeout=90)
    assert offer_of(rid).delivery_attempts == 1
    assert sorted(e["id"] for e in server.events) == sorted(f"offer-{offer_of(r).id}.created" for r in (rid, later))


def test_an_offer_cancelled_while_its_delivery_is_in_flight_is_withdrawn_after_it(
    world, blocking_partner, delivering_worker
):
    """The caseworker cancels the request while the partner holds the webhook: the offer
    stays cancelled when the delivery lands (never ``received``), and the partner is told
    it is withdrawn after the delivery it received."""
    server, _partner = blocking_partner
    rid = world.assess(world.household(), need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
    db.session.remove()
    delivering_worker()
    assert server.arrived.wait(timeout=60), "the worker never called the partner"
    resp = world.caseworker.post(
        f"/api/v1/requests/{rid}/cancel", json={"reason_code": "need_met_elsewhere", "note": "家属已自行解决"}
    )
    assert resp.status_code == 200, resp.get_json()
    server.release.set()
    offer_id = offer_of(rid).id

    def withdrawn_after_delivery() -> bool:
        kinds = [e["type"] for e in server.events]
        return "offer.created" in kinds and kinds[-1] == "offer.withdrawn"

    wait_for(withdrawn_after_delivery, timeout=90)
    assert offer_of(rid).status == "cancelled"
    assert {e["id"] for e in server.events} == {f"offer-{offer_id}.created", f"offer-{offer_id}.withdrawn"}
    db.session.remove()
    received = db.session().execute(select(func.count()).select_from(Offer).where(Offer.status == "received"))
    assert received.scalar_one() == 0
