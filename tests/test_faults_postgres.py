"""PostgreSQL restarted under the broker's feet, in its production shape (a PostgreSQL
cluster and a Redis of this test's own, gunicorn with two workers, two RQ worker
processes): caseworkers keep submitting needs and partners keep paying while the
database goes away and comes back.

While it is down the API answers at once with a 503 in the error envelope (not a hang,
not an HTML page); clients retry with their Idempotency-Key; work whose job failed in
the outage is re-driven by the reconciler. Afterwards every request is there exactly
once with its offer, nothing is paid twice, the ledger balances and the audit chain
verifies. Every wait is bounded; every process is stopped here."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from broker import audit
from broker.platform import db, queue
from models import AuditEvent
from tests.support.servers import pg_available
from tests.support.stack import RETRY_FOR, Retrying, Stack, add_households, ok, pending_work, running_stack, settle

needs_pg_server = pytest.mark.skipif(not pg_available(), reason="PostgreSQL server binaries (initdb) are not installed")

YUAN = 100
HOUSEHOLDS = 16
GRID = "HD-FAULT-01"


def assert_clean_503(resp: httpx.Response) -> None:
    """What a client meets while the database is away: JSON, the envelope, a hint to retry."""
    assert resp.status_code == 503, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == "unavailable"
    assert set(error) == {"code", "message", "details"}
    assert int(resp.headers["Retry-After"]) > 0


def outage(stack: Stack, down_for: float, probe: httpx.Client, down: threading.Event) -> None:
    """Stop PostgreSQL, let the waiting clients go on (``down``), check what callers meet
    meanwhile, start it again."""
    stack.pg.stop()
    down.set()
    try:
        assert_clean_503(probe.get("/api/v1/requests"))
        health = probe.get("/healthz")
        assert health.status_code == 503
        assert health.json()["database"].startswith("error")
        time.sleep(down_for)
    finally:
        stack.pg.start()


@pytest.fixture
def stack(tmp_path: Path):
    with running_stack(tmp_path / "stack", web_workers=2, rq_workers=2) as running:
        yield running


@pytest.mark.slow
@needs_pg_server
def test_postgres_restarts_lose_nothing_and_duplicate_nothing(stack):
    """Two restarts — one while needs are submitted, one while a partner records payments:
    503 envelopes meanwhile; then every need is one request with one received offer, every
    offer is paid exactly once, the ledger balances and the audit chain verifies."""
    stack.user("admin", "admin")
    admin = stack.client("admin")
    ok(
        admin.post(
            "/api/v1/grids",
            json={
                "code": GRID,
                "name": "故障演练网格",
                "district": "海淀区",
                "street": "中关村街道",
                "community": "科源社区",
            },
        ),
        201,
    )
    partner = ok(
        admin.post(
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
    ok(admin.post(f"/api/v1/partners/{partner['id']}/deposits", json={"amount_fen": 1_000_000 * YUAN}), 201)
    stack.user("caseworker", "caseworker", grids=(GRID,))
    stack.user("fund", "partner", partner_id=partner["id"])
    stack.user("auditor", "auditor")
    caseworker, fund, auditor = (Retrying(stack.client(u)) for u in ("caseworker", "fund", "auditor"))

    households = add_households(caseworker, GRID, HOUSEHOLDS)

    # --- restart 1: while needs are submitted ----------------------------------------------------
    created: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    down = threading.Event()

    def submit(mine: list[int]) -> None:
        try:
            for hid in mine:
                if len(created) >= HOUSEHOLDS // 4:
                    down.wait(timeout=60)  # the rest go in while the database is away
                body = {
                    "summary": "入户走访",
                    "needs": [
                        {"category": "living", "urgency": "high", "amount_fen": 300 * YUAN, "description": "生活困难"},
                        {"category": "counselling", "urgency": "normal", "description": "心理疏导"},
                    ],
                }
                resp = caseworker.call(
                    "POST", f"/api/v1/households/{hid}/assessments", json=body, headers={"Idempotency-Key": f"a-{hid}"}
                )
                created[hid] = [n["request_id"] for n in ok(resp, 201)["needs"]]
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(households[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(created) < HOUSEHOLDS // 4 and time.monotonic() < deadline and not errors:
        time.sleep(0.1)
    outage(stack, 3.0, auditor.client, down)
    for t in threads:
        t.join(timeout=RETRY_FOR + 30)
    assert not errors, errors
    assert len(created) == HOUSEHOLDS
    assert caseworker.refusals, "submissions went on during the outage and were refused cleanly"

    request_ids = sorted(rid for rids in created.values() for rid in rids)
    listed = ok(auditor.call("GET", "/api/v1/requests?per_page=200"))
    assert listed["total"] == 2 * HOUSEHOLDS, "a retried submission made its requests twice"
    assert sorted(r["id"] for r in listed["items"]) == request_ids

    def every_request_offered() -> bool:
        items = ok(fund.call("GET", "/api/v1/offers?per_page=200&status=received"))["items"]
        return len(items) == len(request_ids) and pending_work(stack) == 0

    settle(stack, every_request_offered)
    offers = ok(fund.call("GET", "/api/v1/offers?per_page=200"))["items"]
    assert sorted(o["request_id"] for o in offers) == request_ids, "one offer per request, none twice"

    # --- restart 2: while the partner accepts and pays ---------------------------------------------
    money = [o for o in offers if o["amount_fen"]]
    paid: list[int] = []
    down = threading.Event()

    def pay() -> None:
        try:
            for offer in money:
                if len(paid) >= len(money) // 3:
                    down.wait(timeout=60)
                key = f"pay-{offer['id']}"
                ok(fund.call("POST", f"/api/v1/offers/{offer['id']}/accept", json={}))
                resp = fund.call(
                    "POST",
                    f"/api/v1/offers/{offer['id']}/disbursements",
                    json={"amount_fen": offer["amount_fen"], "kind": "cash", "reference": key},
                    headers={"Idempotency-Key": key},
                )
                ok(resp, 201)
                paid.append(offer["id"])
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    payer = threading.Thread(target=pay)
    payer.start()
    deadline = time.monotonic() + 60
    while len(paid) < len(money) // 3 and time.monotonic() < deadline and not errors:
        time.sleep(0.05)
    refused_before = len(fund.refusals)
    outage(stack, 2.0, auditor.client, down)
    payer.join(timeout=RETRY_FOR * 2 + 30)
    assert not errors, errors
    assert sorted(paid) == sorted(o["id"] for o in money)
    assert len(fund.refusals) > refused_before, "payments went on during the outage and were refused cleanly"

    # --- afterwards: all accounted for --------------------------------------------------------------
    def living_completed() -> bool:
        items = ok(auditor.call("GET", "/api/v1/requests?per_page=200&category=living"))["items"]
        return all(r["status"] == "completed" for r in items) and pending_work(stack) == 0

    settle(stack, living_completed)
    for offer in money:
        items = ok(fund.call("GET", f"/api/v1/offers/{offer['id']}/disbursements"))["items"]
        assert [d["amount_fen"] for d in items] == [offer["amount_fen"]], f"offer {offer['id']} paid {items}"
    payouts = ok(auditor.call("GET", "/api/v1/ledger?kind=disbursement&per_page=200"))
    assert payouts["total"] == len(money)
    assert ok(auditor.call("GET", "/api/v1/ledger/check"))["ok"] is True
    balance = ok(admin.get(f"/api/v1/partners/{partner['id']}"))
    assert balance["balance_fen"] == 1_000_000 * YUAN - sum(o["amount_fen"] for o in money)
    assert balance["pledged_fen"] == 0
    verified = ok(auditor.call("GET", "/api/v1/audit/verify"))
    assert verified["ok"] is True, verified
    refusals = caseworker.refusals + fund.refusals + auditor.refusals
    for resp in refusals:
        assert_clean_503(resp)
    hangs = caseworker.transport_errors + fund.transport_errors + auditor.transport_errors
    assert hangs == 0, "a call hung past its timeout or lost its connection instead of a clean 503"


def _head() -> tuple[int, str]:
    row = db.session().execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).one()
    return row.id, row.hash


def test_commits_reported_out_of_order_keep_the_chain_whole(app):
    """Under load, a commit's anchor report can reach Redis after a later commit's (two
    processes, each anchoring after its own commit): the late report is stale, not a cut,
    and the chain still verifies; a report continuing from before the anchored head with a
    newer head — rows cut — is still caught."""
    session = db.session()
    heads = []
    for i in range(3):
        audit.record(session, "fault.probe", object_type="system", object_id=i, details={"i": i})
        db.commit()
        heads.append(_head())
    (a_id, a_hash), (b_id, b_hash), (c_id, c_hash) = heads
    queue.connection().delete(audit.anchor_key(session))
    assert audit._push_anchor(session, c_id, c_hash, b_id, b_hash)  # the later commit reports first
    assert audit._push_anchor(session, b_id, b_hash, a_id, a_hash)  # the earlier one, late
    result = audit.verify(session)
    assert result.ok, result.as_dict()
    assert result.anchored_id == c_id
    audit._push_anchor(session, c_id + 1, "0" * 64, a_id, a_hash)  # chained onto a, past the anchored c
    result = audit.verify(session)
    assert not result.ok
    assert "deleted or rewritten" in result.reason
