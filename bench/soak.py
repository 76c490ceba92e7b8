"""Soak: mixed load for a long while against the broker in its production shape —
its own PostgreSQL cluster and Redis, gunicorn, two RQ workers and RQ's cron — while an
RQ worker is SIGKILLed every few minutes and Redis is restarted once (it keeps nothing
on disk: its queues are lost, and the outbox must bring the work back).

The load: caseworkers submitting needs (some money, some counselling), a partner
accepting what reaches its inbox, paying the money offers and recording the sessions, and
readers listing requests and the ledger. Every client retries a refused call with its
Idempotency-Key, as a careful client would.

At the end, after the broker has caught up on its own (its cron process re-drives what
the kills and the restart lost; nothing is run by hand): every process is still up, no
submitted request is lost, none is
there twice, no partner is offered a request twice, no offer is paid twice, the ledger
balances and the audit chain verifies. The memory of each process is printed per
interval; the target is that it stays flat (the last interval within 1.5 × the first
after warm-up). Each is measured where growth would mean a leak:

- gunicorn and the cron process: the tree's PSS (shared pages counted once);
- an RQ worker: its own RSS, without its work horses (its PSS would halve and double
  as a horse sharing its pages comes and goes);
- PostgreSQL: its processes' private memory (USS). Its shared buffers are a cache it
  fills as the tables grow, up to ``shared_buffers`` and never past it, which PSS reads
  as growth; the cluster's PSS is printed beside it (``postgres-pss``), not judged.

    python -m bench.soak [--minutes 5] [--kill-every 300] [--clients 3]
    python -m bench.soak --minutes 30
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bench.common import Result, emit, tree_rss_mb
from bench.surge import postmaster_pid, unoffered
from models import AidRequest, Disbursement, Offer
from tests.support.servers import pg_available, rq_worker
from tests.support.stack import Retrying, Stack, add_households, ok, pending_work

GRID = "SOAK-01"
YUAN = 100
HOUSEHOLDS = 24
WARM_UP_INTERVALS = 1  # the first interval's figures are start-up, not growth
MEMORY_GROWTH_TARGET = 1 / 1.5  # ratio start/end: flat means within 1.5 ×
NEEDS = (
    [{"category": "living", "urgency": "high", "amount_fen": 300 * YUAN, "description": "生活困难"}],
    [
        {"category": "living", "urgency": "normal", "amount_fen": 150 * YUAN, "description": "临时生活补助"},
        {"category": "counselling", "urgency": "normal", "description": "心理疏导"},
    ],
)


class Load:
    """The threads of the mixed load and what they did, for the checks at the end."""

    def __init__(self, stack: Stack, households: list[int], clients: int) -> None:
        self.stack = stack
        self.households = households
        self.clients = clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.created: list[int] = []  # request ids the caseworkers were given
        self.paid: dict[int, int] = {}  # offer id → fen paid
        self.sessions: list[int] = []  # offers with a session recorded
        self.reads = 0
        self.errors: list[BaseException] = []
        self.keys = itertools.count()

    def _guard(self, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                while not self.stop.is_set():
                    body()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                self.errors.append(exc)
                self.stop.set()

        return run

    def threads(self, caseworker: Callable[[], Retrying], fund: Retrying, reader: Retrying) -> list[threading.Thread]:
        submitters = [self._guard(self._submitter(caseworker())) for _ in range(self.clients)]
        bodies = [*submitters, self._guard(lambda: self._answer(fund)), self._guard(lambda: self._read(reader))]
        return [threading.Thread(target=b, daemon=True) for b in bodies]

    def _submitter(self, client: Retrying) -> Callable[[], None]:
        def submit() -> None:
            n = next(self.keys)
            # The same needs come again for a household many times: on purpose, so confirmed.
            hid = self.households[n % len(self.households)]
            resp = client.call(
                "POST",
                f"/api/v1/households/{hid}/assessments",
                json={"summary": "入户走访", "needs": NEEDS[n % len(NEEDS)], "confirm_duplicate": True},
                headers={"Idempotency-Key": f"soak-{n}"},
            )
            ids = [need["request_id"] for need in ok(resp, 201)["needs"]]
            with self.lock:
                self.created += ids
            time.sleep(0.05)

        return submit

    def _answer(self, fund: Retrying) -> None:
        inbox = ok(fund.call("GET", "/api/v1/offers?status=received&per_page=20"))["items"]
        for offer in inbox:
            if self.stop.is_set():
                return
            oid = offer["id"]
            ok(fund.call("POST", f"/api/v1/offers/{oid}/accept", json={}))
            key = f"soak-pay-{oid}"
            if offer["amount_fen"]:
                body = {"amount_fen": offer["amount_fen"], "kind": "cash", "reference": key}
            else:
                body = {"date": date.today().isoformat(), "hours": 1, "delivered_by": "王老师（心理咨询师）"}
            paid = fund.call("POST", f"/api/v1/offers/{oid}/disbursements", json=body, headers={"Idempotency-Key": key})
            ok(paid, 201)
            with self.lock:
                if offer["amount_fen"]:
                    self.paid[oid] = offer["amount_fen"]
                else:
                    self.sessions.append(oid)
        if not inbox:
            time.sleep(0.5)

    def _read(self, reader: Retrying) -> None:
        for path in ("/api/v1/requests?per_page=20", "/api/v1/ledger?per_page=20", "/healthz"):
            resp = reader.call("GET", path)
            assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
        with self.lock:
            self.reads += 3
        time.sleep(0.2)


def setup(stack: Stack) -> tuple[int, list[int]]:
    """An admin, a grid, a community fund with money for the whole soak, its user, a
    caseworker and an auditor; returns the partner and the households."""
    stack.user("admin", "admin")
    admin = Retrying(stack.client("admin", timeout=60))
    grid = {"code": GRID, "name": "长稳网格", "district": "海淀区", "street": "中关村街道", "community": "科源社区"}
    ok(admin.call("POST", "/api/v1/grids", json=grid), 201)
    partner = ok(
        admin.call(
            "POST",
            "/api/v1/partners",
            json={
                "name": "社区互助基金",
                "kind": "mutual_aid_fund",
                "adapter": "portal",
                "categories": ["living", "counselling"],
                "regions": [GRID],
            },
        ),
        201,
    )
    for _ in range(5):
        ok(admin.call("POST", f"/api/v1/partners/{partner['id']}/deposits", json={"amount_fen": 9_000_000 * YUAN}), 201)
    stack.user("caseworker", "caseworker", grids=(GRID,))
    stack.user("fund", "partner", partner_id=partner["id"])
    stack.user("auditor", "auditor")
    caseworker = Retrying(stack.client("caseworker", timeout=60))
    households = add_households(caseworker, GRID, HOUSEHOLDS)
    return partner["id"], households


def rss_line(stack: Stack, minute: float) -> dict[str, float]:
    """Each process's memory now (MiB, measured as the module's docstring says), printed
    as one line."""
    pids: dict[str, int | None] = {
        name: (p.proc.pid if p.proc else None) for name, p in sorted(stack.processes().items())
    }
    pids["postgres"] = postmaster_pid(stack)
    pids["redis"] = stack.redis.proc.pid if stack.redis and stack.redis.proc else None
    now = {name: _memory_mb(name, pid) if pid else 0.0 for name, pid in pids.items()}
    if pids["postgres"]:
        now["postgres-pss"] = tree_rss_mb(pids["postgres"])
    print(f"{minute:>6.1f} min  " + "  ".join(f"{k} {v:6.1f}" for k, v in now.items()), flush=True)
    return now


def _memory_mb(name: str, pid: int) -> float:
    """How each process is judged (see the module's docstring)."""
    if name.startswith("rq-"):
        # An RQ worker forks a short-lived work horse per job: counting it would make the
        # worker's memory jump with every job; the worker itself is what must stay flat.
        return tree_rss_mb(pid, children=False, measure="rss")
    if name == "postgres":
        return tree_rss_mb(pid, measure="uss")
    return tree_rss_mb(pid)


def kill_worker(stack: Stack, generation: int) -> None:
    """SIGKILL one RQ worker (whatever job it holds) and start a new one in its place."""
    i = generation % len(stack.workers)
    stack.workers[i].kill()
    stack.workers[i] = rq_worker(
        stack.settings, log=stack.folder / f"worker-{i}.log", name=f"soak-{stack.port}-{i}-{generation}"
    ).start()
    print(f"         RQ worker {i} SIGKILLed and replaced", flush=True)


def restart_redis(stack: Stack) -> None:
    """Stop Redis (its queues are lost: it keeps nothing on disk) and start it on its port."""
    stack.redis.stop()
    time.sleep(2)
    stack.redis.start()
    print("         Redis restarted (empty)", flush=True)


def run(stack: Stack, args: argparse.Namespace) -> int:
    partner_id, households = setup(stack)
    fund = Retrying(stack.client("fund", timeout=60))
    reader = Retrying(stack.client("auditor", timeout=60))
    load = Load(stack, households, args.clients)
    threads = load.threads(lambda: Retrying(stack.client("caseworker", timeout=60)), fund, reader)
    seconds = args.minutes * 60
    kill_every = min(args.kill_every, seconds / 3)  # a short soak still kills a worker
    redis_at = seconds * 2 / 3
    print(
        f"soak: {args.minutes} min, {args.clients} submitting clients + a partner + a reader, "
        f"a worker SIGKILLed every {kill_every / 60:.1f} min, Redis restarted at {redis_at / 60:.1f} min",
        flush=True,
    )
    samples: list[dict[str, float]] = []
    start = time.monotonic()
    for t in threads:
        t.start()
    next_kill, next_sample, generation, redis_done = kill_every, 0.0, 0, False
    while (elapsed := time.monotonic() - start) < seconds and not load.stop.is_set():
        if elapsed >= next_sample:
            samples.append(rss_line(stack, elapsed / 60))
            next_sample += args.sample
        if elapsed >= next_kill:
            generation += 1
            kill_worker(stack, generation)
            next_kill += kill_every
        if not redis_done and elapsed >= redis_at:
            restart_redis(stack)
            redis_done = True
        time.sleep(0.5)
    load.stop.set()
    for t in threads:
        t.join(180)
    samples.append(rss_line(stack, (time.monotonic() - start) / 60))
    if load.errors:
        raise SystemExit(f"the load failed: {load.errors[0]!r}")

    def caught_up() -> bool:
        total, waiting = unoffered(stack)
        return total >= len(load.created) and waiting == 0 and pending_work(stack) == 0

    # No hand-run reconciler here: the broker's own cron process must bring back what the
    # killed workers and the emptied Redis lost.
    deadline = time.monotonic() + 600
    while not caught_up():
        if time.monotonic() > deadline:
            raise SystemExit(f"not caught up after 10 minutes: {pending_work(stack)} outbox rows pending")
        time.sleep(1)
    dead = [name for name, p in stack.processes().items() if p.proc is None or p.proc.poll() is not None]
    if dead:
        print(f"SOAK FAILED: process(es) ended under the load: {', '.join(dead)}", flush=True)
        return 1
    return check(stack, load, partner_id, fund, reader, samples)


def check(
    stack: Stack, load: Load, partner_id: int, fund: Retrying, auditor: Retrying, samples: list[dict[str, float]]
) -> int:
    """The end-of-soak accounting; prints every figure and returns the exit code."""
    with stack.engine().connect() as conn:
        requests = conn.execute(select(AidRequest.id)).scalars().all()
        twice_offered = conn.execute(
            select(func.count()).select_from(
                select(Offer.request_id)
                .group_by(Offer.request_id, Offer.partner_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        twice_paid = conn.execute(
            select(func.count()).select_from(
                select(Disbursement.offer_id).group_by(Disbursement.offer_id).having(func.count() > 1).subquery()
            )
        ).scalar_one()
    lost = sorted(set(load.created) - set(requests))
    extra = len(requests) - len(set(load.created))
    ledger = ok(auditor.call("GET", "/api/v1/ledger/check"))
    chain = ok(auditor.call("GET", "/api/v1/audit/verify"))
    balance = ok(fund.call("GET", f"/api/v1/partners/{partner_id}"))
    print()
    print(f"requests submitted {len(load.created)}, in the database {len(requests)}, lost {len(lost)}, extra {extra}")
    paid_yuan = sum(load.paid.values()) / YUAN
    print(f"money offers paid {len(load.paid)} ({paid_yuan:,.0f} yuan), sessions {len(load.sessions)}")
    print(f"reads {load.reads}; offers made twice {twice_offered}; offers paid twice {twice_paid}")
    print(f"ledger balanced: {ledger['ok']}; audit chain verifies: {chain['ok']}; fund {balance['balance_fen']} fen")
    # Events commit unchained and the chainer links them within seconds: a tail is fine,
    # one left waiting past the stale bound means no chainer ran (nothing vouches for it).
    print(f"unchained tail: {chain['unchained']} events, oldest {chain['unchained_oldest_seconds']} s")
    refused = sum(len(c.refusals) for c in (fund, auditor))
    print(f"calls refused with a 503 and retried (partner, reader): {refused}")

    steady = samples[WARM_UP_INTERVALS:] or samples
    first, last = steady[0], steady[-1]
    judged = [name for name in first if name != "postgres-pss"]  # shown, not judged: see the docstring
    worst = max(judged, key=lambda name: (last.get(name, 0) / first[name]) if first[name] else 0)
    growth = ", ".join(f"{k} {first[k]:.0f}→{last.get(k, 0):.0f}" for k in first)
    print(f"memory, first steady interval → last (MiB): {growth}")
    emit(
        Result.compare(
            "soak: requests kept",
            len(set(load.created) & set(requests)),
            len(set(load.created)),
            "requests",
            target=1.0,
            notes=f"lost {len(lost)}, extra {extra}, offered twice {twice_offered}, paid twice {twice_paid}",
        )
    )
    emit(
        Result.compare(
            f"soak: memory growth ({worst})",
            last.get(worst, 0.0),
            first[worst],
            "MiB",
            lower_is_better=True,
            target=MEMORY_GROWTH_TARGET,
            notes="the process tree that grew most, last interval against the first after warm-up",
        )
    )
    sound = not lost and extra == 0 and twice_offered == 0 and twice_paid == 0 and ledger["ok"] and chain["ok"]
    sound = sound and not chain["unchained_stale"]
    if not sound:
        print("SOAK FAILED: something was lost, doubled or does not verify", flush=True)
    return 0 if sound else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--kill-every", type=float, default=300.0, help="seconds between worker kills")
    parser.add_argument("--clients", type=int, default=3, help="caseworkers submitting at once")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between memory lines")
    args, _unknown = parser.parse_known_args(argv)
    if not pg_available():
        print("soak: skipped, the PostgreSQL server binaries (initdb) are not installed", flush=True)
        return 0
    stack = Stack(Path(tempfile.mkdtemp(prefix="aidbroker-soak-")), web_workers=2, rq_workers=2, cron=True)
    try:
        stack.start()
        return run(stack, args)
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
