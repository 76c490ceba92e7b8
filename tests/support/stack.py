"""The broker in its production shape on private servers: its own PostgreSQL cluster and
Redis, gunicorn with several workers, RQ workers (with RQ's scheduler) and, if asked,
the cron relay — set up through the CLI, spoken to over HTTP, as an operator would.
The PostgreSQL fault tests and the surge benchmark share it."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, func, select

from models import OutboxMessage
from tests.support.servers import (
    VENV_BIN,
    PostgresCluster,
    Process,
    RedisServer,
    app_env,
    free_port,
    rq_worker,
    wait_http,
    web_server,
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "stack-pass-9"  # a throwaway password for throwaway servers
RETRY_FOR = 120.0  # how long a client keeps retrying one call (seconds)


class Retrying:
    """A client that, like a careful partner system, retries a call that met a 503 or a
    dropped connection, with the same Idempotency-Key; it notes every refusal it met."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.refusals: list[httpx.Response] = []
        self.transport_errors = 0

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                resp = self.client.request(method, path, **kw)
            except httpx.TransportError:
                self.transport_errors += 1
            else:
                if resp.status_code != 503:
                    return resp
                self.refusals.append(resp)
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} still failing after {RETRY_FOR}s")
            time.sleep(0.3)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    """The JSON of an answer that must have ``status`` (else the call, for the failure)."""
    assert resp.status_code == status, (resp.request.method, resp.request.url, resp.status_code, resp.text[:500])
    return resp.json()


class Stack:
    """PostgreSQL + Redis + gunicorn + RQ workers (+ cron), each a process of its own,
    logging under ``folder``. Use :meth:`start`, then :meth:`stop` (always)."""

    def __init__(self, folder: Path, *, web_workers: int = 2, rq_workers: int = 2, cron: bool = False) -> None:
        self.folder = folder
        self.web_workers = web_workers
        self.rq_workers = rq_workers
        self.with_cron = cron
        self.pg: PostgresCluster | None = None
        self.redis: RedisServer | None = None
        self.web: Process | None = None
        self.workers: list[Process] = []
        self.cron: Process | None = None
        self.settings: dict[str, Any] = {}
        self.port = free_port()
        self._engine: Engine | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Stack:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pg = PostgresCluster().init().start()
        self.redis = RedisServer().start()
        self.settings = {
            "DATABASE_URL": self.pg.create_database("aidbroker"),
            "REDIS_URL": self.redis.url,
            "INSTANCE_PATH": str(self.folder / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATA_KEY": Fernet.generate_key().decode(),
        }
        self.cli("db", "upgrade")
        self.web = web_server(self.settings, self.port, self.web_workers, log=self.folder / "web.log").start()
        self.workers = [
            rq_worker(self.settings, log=self.folder / f"worker-{i}.log", name=f"stack-{self.port}-{i}").start()
            for i in range(self.rq_workers)
        ]
        if self.with_cron:
            self.cron = Process(
                [str(VENV_BIN / "python"), "-m", "broker.scheduler", "--url", self.redis.url],
                app_env(self.settings),
                self.folder / "cron.log",
            ).start()
        wait_http(f"{self.base_url}/healthz", timeout=90)
        return self

    def stop(self) -> None:
        """Stop every process and server this stack started (safe to call twice)."""
        for proc in [self.web, self.cron, *self.workers]:
            if proc is not None:
                proc.stop()
        if self._engine is not None:
            self._engine.dispose()
        if self.redis is not None:
            self.redis.close()
        if self.pg is not None:
            self.pg.close()

    def processes(self) -> dict[str, Process]:
        named = {"web": self.web, **{f"rq-{i}": w for i, w in enumerate(self.workers)}}
        if self.cron is not None:
            named["cron"] = self.cron
        return {k: v for k, v in named.items() if v is not None}

    def cli(self, *args: str) -> str:
        """``flask --app app …`` against this stack; its output. Fails loudly."""
        out = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "app", *args],
            env=app_env(self.settings),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if out.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args[:3])} failed: {out.stdout[-1500:]}{out.stderr[-1500:]}")
        return out.stdout

    def user(self, username: str, role: str, *, partner_id: int | None = None, grids: tuple[str, ...] = ()) -> str:
        args = ["users", "create", "--username", username, "--password", PASSWORD, "--role", role]
        if partner_id is not None:
            args += ["--partner", str(partner_id)]
        for grid in grids:
            args += ["--grid", grid]
        self.cli(*args)
        return username

    def client(self, username: str, *, timeout: float = 30) -> httpx.Client:
        """An HTTP client signed in as ``username`` (bearer token)."""
        resp = httpx.post(
            f"{self.base_url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=timeout
        )
        resp.raise_for_status()
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {resp.json()['token']}"},
            timeout=timeout,
        )

    def engine(self) -> Engine:
        """A direct connection for checks the API does not expose (the outbox)."""
        if self._engine is None:
            self._engine = create_engine(self.settings["DATABASE_URL"], pool_pre_ping=True)
        return self._engine

    def enqueue(self, func: str, *args: Any) -> None:
        """Put a job on the stack's queue now, as RQ's cron would at its next tick."""
        import redis
        from rq import Queue

        conn = redis.Redis.from_url(self.settings["REDIS_URL"])
        try:
            Queue("default", connection=conn).enqueue(func, *args, result_ttl=60)
        finally:
            conn.close()


def add_households(caseworker: Retrying, grid: str, n: int) -> list[int]:
    """``n`` one-person households on ``grid``, recorded by ``caseworker``; their ids."""
    return [
        ok(
            caseworker.call(
                "POST",
                "/api/v1/households",
                json={
                    "grid": grid,
                    "address": f"海淀区中关村东路{i}号",
                    "head_name": "张建国",
                    "monthly_income_fen": 180000,
                    "members": [{"name": "张建国", "relation": "head", "birth_date": "1980-05-01"}],
                },
            ),
            201,
        )["id"]
        for i in range(n)
    ]


def pending_work(stack: Stack) -> int:
    """Outbox rows not yet carried out, deadlines (due later) aside."""
    with stack.engine().connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.due_at <= func.now())
        ).scalar_one()


def settle(stack: Stack, done: Any, timeout: float = 180) -> None:
    """Wait until ``done()``, running the reconciler and relay as RQ's cron would (only sooner)."""
    deadline = time.monotonic() + timeout
    last_sweep = 0.0
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {timeout}s; {pending_work(stack)} outbox rows pending")
        if time.monotonic() - last_sweep > 3:
            stack.enqueue("broker.jobs.reconcile")
            stack.enqueue("broker.jobs.relay_outbox")
            last_sweep = time.monotonic()
        time.sleep(0.5)


@contextmanager
def running_stack(folder: Path, **kw: Any) -> Iterator[Stack]:
    stack = Stack(folder, **kw)
    try:
        yield stack.start()
    finally:
        stack.stop()
