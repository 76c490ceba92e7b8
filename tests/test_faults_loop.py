"""Work that must not be lost, under real faults: Redis stopped while caseworkers keep
submitting (a private Redis server of this test's own), an RQ worker process's job
SIGKILLed mid-delivery, and the same outbox job run twice by two worker processes.
Every wait is bounded; every process started here is stopped here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from rq import Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select, update

from broker.platform import db, outbox, outbox_relay, queue, runtime
from broker.referral import reconcile
from models import AidRequest, Offer, OutboxMessage
from models.base import utcnow
from tests.conftest import wait_for
from tests.support.aid import YUAN, make_world, need
from tests.support.partner_server import PartnerServer
from tests.support.servers import RedisServer, queue_on_own_redis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def private_redis():
    """The app's queue pointed at a Redis of this test's own, put back afterwards."""
    with queue_on_own_redis(persist=True) as server:
        yield server


def worker_env() -> dict[str, str]:
    settings = runtime.settings()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings["DATABASE_URL"],
            "REDIS_URL": queue._state["url"],
            "INSTANCE_PATH": settings["INSTANCE_PATH"],
            "DATA_KEY": settings["DATA_KEY"],
            "SECRET_KEY": settings["SECRET_KEY"],
        }
    )
    return env


def start_worker(*extra: str) -> subprocess.Popen:
    """``rq worker`` as production runs it, in a process group of its own."""
    rq = Path(sys.executable).parent / "rq"
    command = [str(rq), "worker", "--worker-class", "broker.worker.Worker", "--url", queue._state["url"], *extra]
    return subprocess.Popen(
        [*command, "default", "deliveries"],
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_a_worker_rides_out_redis_restarting_empty_under_a_job(app):
    """Redis restarts, empty, while a worker runs a job: the worker waits for it and goes
    on — RQ's own worker quits on that error — and carries out the next job."""
    server = RedisServer().start()  # persists nothing: it comes back empty
    shared_url = queue._state["url"]
    queue.configure(server.url)
    proc = start_worker()
    try:
        q = queue.queue("default")
        q.enqueue("time.sleep", 3)
        wait_for(lambda: StartedJobRegistry(queue=q).count == 1, timeout=30)
        server.stop()
        time.sleep(4)  # the job ends while Redis is gone
        server.start()
        job = queue.queue("default").enqueue("broker.jobs.noop", 7)
        wait_for(lambda: job.get_status(refresh=True) == "finished", timeout=30)
        assert job.return_value() == 7
        assert proc.poll() is None, "the worker is still up"
        assert [w.name for w in Worker.all(connection=queue.connection())], "and known to Redis again"
    finally:
        stop_worker(proc)
        queue.configure(shared_url)
        server.close()


def count(model) -> int:
    db.session.remove()
    return db.session().execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def test_redis_down_the_api_keeps_accepting_and_the_outbox_drains_later(world, worker, private_redis):
    """With Redis stopped, assessments still get 201; the outbox holds the work; once Redis is
    back every request is routed, each to exactly one offer."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    households = [world.household() for _ in range(6)]
    before = [world.assess(hh, need("counselling"))["needs"][0]["request_id"] for hh in households[:3]]
    private_redis.stop()
    during = []
    for hh in households[3:]:
        resp = world.caseworker.post(f"/api/v1/households/{hh}/assessments", json={"needs": [need("counselling")]})
        assert resp.status_code == 201, resp.get_json()
        during.append(resp.get_json()["needs"][0]["request_id"])
    assert world.caseworker.get(f"/api/v1/requests/{during[0]}").status_code == 200
    db.session.remove()
    waiting = db.session().execute(select(OutboxMessage).where(OutboxMessage.enqueued_at.is_(None))).scalars().all()
    assert sorted(m.payload["request_id"] for m in waiting) == sorted(during)
    assert count(Offer) == 0

    private_redis.start()
    worker()
    db.session.remove()
    for rid in before + during:
        req = db.session().get(AidRequest, rid)
        assert [o.status for o in req.offers] == ["received"], rid
    assert count(Offer) == 6
    assert outbox.pending_count(db.session()) == len(before + during)  # only the expiries wait


def test_a_worker_killed_mid_delivery_is_redriven_without_duplicates(private_redis, world):
    """SIGKILL the worker's job process while it waits on the partner's webhook: RQ marks the
    job failed, the reconciler hands it back, the worker delivers it; one offer, one attempt."""
    with PartnerServer(hold_first=True) as server:
        world.partner(
            "红十字会",
            kind="red_cross",
            adapter="webhook",
            adapter_config={"url": server.url, "secret": server.secret},
            categories=["medical"],
            fund_fen=9000 * YUAN,
        )
        rid = world.assess(world.household(), need("medical", "high", 500 * YUAN))["needs"][0]["request_id"]
        proc = start_worker()
        try:
            assert server.arrived.wait(timeout=60), "the worker never called the partner"
            horses = psutil.Process(proc.pid).children(recursive=True)
            assert horses, "the job runs in a forked work horse"
            for horse in horses:
                horse.send_signal(signal.SIGKILL)
            server.release.set()
            db.session.remove()
            (deliver,) = (
                db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "deliver_offer")).scalars().all()
            )
            db.session.remove()
            job_id = f"outbox-{deliver.id}"
            wait_for(lambda: Job.fetch(job_id, connection=queue.connection()).get_status() == "failed", timeout=60)
            db.session.remove()
            assert db.session().get(OutboxMessage, deliver.id).processed_at is None
            assert db.session().execute(select(Offer)).scalar_one().status == "requested", "the kill rolled back"

            result = reconcile.sweep(db.session())
            db.commit()
            assert result.redriven == 1
            assert outbox_relay.relay(db.session()) >= 1

            def delivered() -> bool:
                db.session.remove()
                return db.session().execute(select(Offer)).scalar_one().status == "received"

            wait_for(delivered, timeout=60)
        finally:
            stop_worker(proc)
    db.session.remove()
    offer = db.session().execute(select(Offer)).scalar_one()
    assert offer.delivery_attempts == 1
    assert count(Offer) == 1
    assert len(db.session().get(AidRequest, rid).offers) == 1
    deliveries = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "deliver_offer")).scalars()
    assert [m.processed_at is not None for m in deliveries] == [True]
    # The partner saw the webhook twice, with one id to de-duplicate on.
    assert {e["id"] for e in server.events} == {f"offer-{offer.id}.created"}


def test_one_job_run_twice_by_two_workers_is_applied_once(world):
    """The routing job enqueued four times and run by two worker processes at once makes one offer."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.partner("志愿服务队", kind="volunteer_team", categories=["counselling"])
    db.session.remove()
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    (row,) = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars().all()
    db.session.remove()  # hold no SQLite transaction while the workers write
    q = queue.queue()
    copies = [q.enqueue("broker.jobs.run_outbox", row.id, job_id=f"again-{i}") for i in range(4)]
    procs = [start_worker("--burst") for _ in range(2)]
    try:
        for proc in procs:
            proc.wait(timeout=120)
    finally:
        for proc in procs:
            stop_worker(proc)
    outcomes = sorted(job.return_value(refresh=True) for job in copies)
    original = Job.fetch(f"outbox-{row.id}", connection=queue.connection()).return_value()
    assert sorted([*outcomes, original]) == ["already processed"] * 4 + ["done"]
    db.session.remove()
    offers = db.session().get(AidRequest, rid).offers
    assert len(offers) == 1
    assert offers[0].status == "received"


def test_a_worker_killed_mid_batch_loses_no_request_and_routes_none_twice(world, worker, private_redis):
    """SIGKILL the worker's job process while it routes a batch of waiting requests, then
    empty Redis as a restart without its data would: the requests routed before the kill
    keep their one offer, the rest wait in the outbox (the database is the truth), and
    once the periodic relay re-drives them every request has exactly one offer."""
    world.partner("甲 基金", categories=["medical"], fund_fen=10**6 * YUAN)
    ids = [
        world.assess(world.household(), need("medical", "high", (100 + i) * YUAN))["needs"][0]["request_id"]
        for i in range(60)
    ]
    routes = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "route_request")
    done = routes.where(OutboxMessage.processed_at.is_not(None))

    def routed() -> int:
        db.session.remove()
        return db.session().execute(done).scalar_one()

    blocker = db.engine().connect()
    if blocker.dialect.name == "postgresql":
        # The last request held locked: the transactions before its own commit, its own waits.
        tx = blocker.begin()
        blocker.execute(select(AidRequest.id).where(AidRequest.id == ids[-1]).with_for_update())
    proc = start_worker()
    try:
        # SQLite has no row lock to hold: the job process is killed the moment the first
        # of the batch's transactions is seen committed, while it routes the next.
        wait_for(lambda: routed() >= 1, timeout=120, interval=0.005)
        for horse in psutil.Process(proc.pid).children(recursive=True):
            horse.send_signal(signal.SIGKILL)
    finally:
        if blocker.in_transaction():
            tx.rollback()
        blocker.close()
        stop_worker(proc)
    killed_at = routed()
    assert 1 <= killed_at < len(ids), "the kill came in the middle of the batch"
    assert count(Offer) == killed_at, "what the kill interrupted was rolled back"

    queue.connection().flushall()  # Redis back, empty: no job, no bell
    db.session.remove()
    session = db.session()
    # Five minutes on: the periodic relay takes the rows whose jobs were lost.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None))
        .values(enqueued_at=utcnow() - outbox_relay.REDRIVE_AFTER * 2)
    )
    db.commit()
    worker()
    db.session.remove()
    assert routed() == len(ids)
    for rid in ids:
        assert [o.status for o in db.session().get(AidRequest, rid).offers] == ["received"], rid
    assert count(Offer) == len(ids)
