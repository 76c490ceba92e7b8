"""The cron process outlives a Redis restart: RQ's own ``rq cron`` ends on the first
Redis error (and with it the outbox relay and the reconciler); ours waits for Redis to
come back, registers itself again and goes on enqueueing the relay."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import redis
from rq import Queue

from tests.support.servers import Process, RedisServer, app_env

RELAY = "broker.jobs.relay_outbox"


def _relay_enqueued(conn: redis.Redis, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(job.func_name == RELAY for job in Queue("default", connection=conn).jobs):
                return True
        except redis.ConnectionError:
            pass
        time.sleep(0.3)
    return False


def test_the_scheduler_keeps_enqueueing_after_redis_restarts(tmp_path: Path):
    server = RedisServer().start()
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": server.url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "s" * 32,
        "DATA_KEY": "",
    }
    log = tmp_path / "scheduler.log"
    scheduler = Process([sys.executable, "-m", "broker.scheduler", "--url", server.url], app_env(settings), log).start()
    try:
        conn = redis.Redis.from_url(server.url, socket_connect_timeout=1)
        assert _relay_enqueued(conn, 30), log.read_text()[-2000:]
        server.stop()  # an empty Redis comes back: the queue and the registry are gone
        time.sleep(7)  # longer than the relay's 5 s: a tick meets the outage
        assert scheduler.proc.poll() is None, "the scheduler ended when Redis went away"
        server.start()
        assert conn.ping()
        assert _relay_enqueued(conn, 60), log.read_text()[-2000:]
        assert scheduler.proc.poll() is None
        assert "Redis does not answer" in log.read_text()
    finally:
        scheduler.stop()
        server.close()


def test_the_audit_chainer_and_the_full_verify_are_jobs_of_the_cron_process(app):
    """Events are chained by a job rung after each commit; what a lost bell or job left is
    chained by the cron process every few seconds, and the whole chain verified every few
    hours (below the dashboard's checkpoint): both are scheduled by ``broker.cron``."""
    from broker import jobs
    from broker.platform import queue
    from broker.scheduler import SteadyCronScheduler

    for _ in range(2):  # loading twice (the module already imported) registers the same jobs
        scheduler = SteadyCronScheduler(connection=queue.connection())
        scheduler.load_config_from_file("broker.cron")
        scheduled = {job.name: job for job in scheduler.get_jobs()}
        assert scheduled["chain-audit"].func is jobs.chain_audit_periodic
        assert scheduled["chain-audit"].interval <= 10
        assert scheduled["verify-audit-chain"].func is jobs.verify_audit_chain
        assert "relay-outbox" in scheduled
