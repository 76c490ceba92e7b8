"""Routing throughput: N aid requests created over HTTP (a real gunicorn server) and
carried to ``received`` — routed, offered, delivered through the portal adapter — by W
RQ worker processes (``broker.worker.Worker``, as ``make run`` starts them), against N
raw RQ no-op jobs (``broker.jobs.noop``) on the same Redis and the same workers in the
same run.

The raw rate is measured before and after the broker's run and averaged, so that a
machine that speeds up or slows down mid-run does not favour either side. Without
``--database-url`` it runs on a scratch SQLite file, then on the local PostgreSQL
(database ``bench_routing``) if one answers.

    python -m bench.routing --requests 200 --workers 2 [--database-url sqlite|postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.common import Result, default_databases, emit, grid_with_households, scratch_instance

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
GRID = "BENCH-01"
HOUSEHOLDS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(settings: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "SECRET_KEY", "DATA_KEY"):
        env[key] = str(settings[key])
    return env


def setup() -> list[int]:
    """An admin, a grid with its caseworker, three portal partners with money, households."""
    from broker.money import funds
    from broker.platform import db
    from broker.referral import partners

    made = grid_with_households(GRID, PASSWORD, HOUSEHOLDS)
    for i in range(3):
        partner = partners.create_partner(
            db.session(),
            made.admin,
            {"name": f"基金{i}", "kind": "charity", "adapter": "portal", "categories": ["medical"], "regions": [GRID]},
        )
        funds.record_deposit(db.session(), partner.id, amount_fen=10**10, reference=f"B-{i}")
    db.commit()
    return made.households


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def raw_noops(n: int) -> float:
    """Seconds for the workers to run ``n`` no-op jobs enqueued one by one."""
    from rq.registry import FinishedJobRegistry

    from broker.platform import queue

    q = queue.queue("default")
    finished = FinishedJobRegistry(queue=q)
    before = finished.count
    start_at = time.perf_counter()
    for i in range(n):
        q.enqueue("broker.jobs.noop", i, result_ttl=600)
    wait_until(lambda: finished.count - before >= n, 600, "the no-op jobs")
    return time.perf_counter() - start_at


def received(n: int) -> bool:
    from broker.platform import db
    from models import Offer

    try:
        return (
            db.session().execute(select(func.count()).select_from(Offer).where(Offer.status == "received")).scalar_one()
            >= n
        )
    finally:
        db.session.remove()


def broker_requests(base: str, households: list[int], n: int, clients: int) -> tuple[float, float]:
    """Seconds from the first POST until all ``n`` requests have a received offer, and
    seconds until the last POST was answered."""
    token = httpx.post(f"{base}/api/v1/auth/token", json={"username": "caseworker", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['token']}"}

    local = threading.local()

    def post(i: int) -> None:
        # One client per thread, as a real caller keeps one: building an httpx client
        # (its TLS context) costs more CPU than the request it sends.
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, headers=headers, timeout=60)
            opened.append(local.client)
        body = {"needs": [{"category": "medical", "urgency": "high", "amount_fen": 10_000 + i}]}
        resp = local.client.post(f"/api/v1/households/{households[i % len(households)]}/assessments", json=body)
        if resp.status_code != 201:
            raise SystemExit(f"POST failed: {resp.status_code} {resp.text[:300]}")

    opened: list[httpx.Client] = []
    start_at = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(post, range(n)))
    posted = time.perf_counter() - start_at
    for client in opened:
        client.close()
    wait_until(lambda: received(n), 600, "the offers to be received")
    return time.perf_counter() - start_at, posted


DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_routing"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="aid requests to create (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--database-url", default=None, help="sqlite, or a PostgreSQL URL (default: both)")
    args, _ = parser.parse_known_args()
    if args.database_url is None:
        urls = default_databases(DEFAULT_PG_URL)
        base = [sys.executable, "-m", "bench.routing", "--requests", str(args.requests)]
        base += ["--workers", str(args.workers), "--clients", str(args.clients)]
        return max(subprocess.run([*base, "--database-url", url], cwd=ROOT).returncode for url in urls)
    emit(run(None if args.database_url == "sqlite" else args.database_url, args.requests, args.workers, args.clients))
    return 0


def run(database_url: str | None, n: int, workers: int, clients: int) -> Result:
    """One measurement on one database: raw no-ops, the broker, raw no-ops again."""
    with scratch_instance(database_url) as settings:
        if database_url:
            _reset_postgres()
        households = setup()
        env = env_for(settings)
        port = free_port()
        bindir = Path(sys.executable).parent
        web = [str(bindir / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
        web += ["--config", str(ROOT / "config" / "gunicorn.py")]  # as make run serves
        rq = [str(bindir / "rq"), "worker", "--worker-class", "broker.worker.Worker", "--url", settings["REDIS_URL"]]
        procs = [start([*web, "app:app"], env)]
        procs += [start([*rq, "default", "deliveries"], env) for _ in range(workers)]
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _healthy(base), 60, "the web server")
            raw_before = raw_noops(n)
            ours, posted = broker_requests(base, households, n, clients)
            raw_after = raw_noops(n)
        finally:
            stop(procs)
    figure = n / ours
    baseline = (n / raw_before + n / raw_after) / 2
    return Result.compare(
        f"routing ({'PostgreSQL' if database_url else 'SQLite'}): created → received",
        figure,
        baseline,
        "per s",
        target=1.0,
        notes=f"{n} requests over HTTP (all answered 201 in {posted:.1f}s; the last received "
        f"{ours - posted:.1f}s later), routed in batches and delivered to portal partners by outbox jobs, "
        f"vs {n} RQ no-op jobs before ({n / raw_before:.0f}/s) and after "
        f"({n / raw_after:.0f}/s); {workers} workers",
    )


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _reset_postgres() -> None:
    """A PostgreSQL bench database starts from the migrated, empty schema."""
    from broker.platform import db
    from models import Base

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine().begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")


if __name__ == "__main__":
    sys.exit(main())
