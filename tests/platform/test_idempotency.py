"""Idempotency-Key: a repeated POST replays its first response instead of moving money
or creating requests again; a key reused for another request is refused; concurrent
twins wait for the first and replay it."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from rq import SimpleWorker
from sqlalchemy import func, select, text, update

from broker.money import funds, ledger
from broker.platform import db, idempotency, queue
from models import IdempotencyKey, LedgerTransaction
from tests.conftest import wait_for
from tests.support import money
from tests.support.money import YUAN

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


class _Ids:
    """Just the id: ORM rows of the test's session may be expired by the requests it makes."""

    def __init__(self, id_: int) -> None:
        self.id = id_


def _partner() -> _Ids:
    s = db.session()
    p = money.partner(s, "慈善总会")
    db.commit()
    return _Ids(p.id)


def _deposits() -> int:
    db.session.remove()
    return db.session().execute(select(func.count()).where(LedgerTransaction.kind == "deposit")).scalar_one()


def test_same_key_and_body_replays_the_first_response(as_role):
    """The second POST with the same key and body gets the same status and body back,
    marked Idempotency-Replayed, and no second deposit is made."""
    p = _partner()
    admin = as_role("admin")
    headers = {"Idempotency-Key": "dep-2026-0001"}
    first = admin.post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 5000, "donor": "王芳"}, headers=headers)
    assert first.status_code == 201
    assert "Idempotency-Replayed" not in first.headers
    again = admin.post(f"/api/v1/partners/{p.id}/deposits", json={"donor": "王芳", "amount_fen": 5000}, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _deposits() == 1
    assert funds.balances(db.session(), p.id)["available_fen"] == 5000


def test_same_key_with_another_body_is_422_key_reused(as_role):
    """Reusing a key for a different request is a 422 idempotency_key_reused, and that
    request is not carried out."""
    p = _partner()
    admin = as_role("admin")
    headers = {"Idempotency-Key": "dep-2026-0002"}
    assert (
        admin.post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 5000}, headers=headers).status_code == 201
    )
    resp = admin.post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 6000}, headers=headers)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in err["details"]
    other = money.partner(db.session(), "红十字会")
    db.commit()
    elsewhere = admin.post(f"/api/v1/partners/{other.id}/deposits", json={"amount_fen": 5000}, headers=headers)
    assert elsewhere.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _deposits() == 1


def test_keys_belong_to_their_user(as_role):
    """Two admins may use the same key string: each gets their own deposit."""
    p = _partner()
    headers = {"Idempotency-Key": "shared-key"}
    for admin in (as_role("admin"), as_role("admin")):
        resp = admin.post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 100}, headers=headers)
        assert resp.status_code == 201
        assert "Idempotency-Replayed" not in resp.headers
    assert _deposits() == 2


def test_without_a_key_every_post_does_the_work(as_role):
    """The header is optional: without it two identical POSTs are two deposits."""
    p = _partner()
    admin = as_role("admin")
    for _ in range(2):
        assert admin.post(f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 100}).status_code == 201
    assert _deposits() == 2


@pytest.mark.parametrize(("key", "ok"), [("k" * 120, True), ("k" * 121, False), ("", False), ("has space", False)])
def test_keys_are_one_to_120_visible_characters(as_role, key, ok):
    """A key of 120 visible ASCII characters is accepted; longer, empty or with spaces
    is a 422 naming the header."""
    p = _partner()
    resp = as_role("admin").post(
        f"/api/v1/partners/{p.id}/deposits", json={"amount_fen": 100}, headers={"Idempotency-Key": key}
    )
    if ok:
        assert resp.status_code == 201
    else:
        assert resp.status_code == 422
        assert "Idempotency-Key" in resp.get_json()["error"]["details"]
        assert _deposits() == 0


def test_a_failed_request_keeps_no_key_and_can_be_retried(as_role):
    """Only successes are kept: a 409 (fund empty) leaves the key free, and once the fund
    is topped up the same request with the same key goes through."""
    s = db.session()
    p = money.partner(s, "科源社区互助基金", kind="mutual_aid_fund")
    r = money.aid_request(s, money.household(s), category="emergency", amount_fen=700 * YUAN)
    o = money.offer(s, r, p)
    db.commit()
    partner = as_role("partner", partner_id=p.id)
    headers = {"Idempotency-Key": "accept-once"}
    refused = partner.post(f"/api/v1/offers/{o.id}/accept", json={}, headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "insufficient_funds"
    assert db.session().execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 0
    ledger.deposit(db.session(), p.id, p.name, 700 * YUAN)
    db.commit()
    accepted = partner.post(f"/api/v1/offers/{o.id}/accept", json={}, headers=headers)
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "accepted"
    replay = partner.post(f"/api/v1/offers/{o.id}/accept", json={}, headers=headers)
    assert replay.status_code == 200
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert funds.balances(db.session(), p.id) == {"balance_fen": 70000, "pledged_fen": 70000, "available_fen": 0}


def test_an_assessment_posted_twice_with_one_key_creates_its_requests_once(as_role, make_user, login):
    """Creating requests is idempotent too: the same assessment sent twice with one key
    makes one assessment and one request per need."""
    from tests.support.aid import make_world, need

    world = make_world(as_role, make_user, login)
    hid = world.household()
    body = {"summary": "入户走访", "needs": [need("counselling")]}
    headers = {"Idempotency-Key": "assess-7"}
    first = world.caseworker.post(f"/api/v1/households/{hid}/assessments", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    second = world.caseworker.post(f"/api/v1/households/{hid}/assessments", json=body, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.get_json() == first.get_json()
    listed = world.caseworker.get(f"/api/v1/households/{hid}/assessments").get_json()
    assert len(listed["items"]) == 1


def test_the_header_is_documented_on_money_and_request_posts(client):
    """OpenAPI documents Idempotency-Key on deposits, assessments, accept and disbursements."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/partners/{partner_id}/deposits",
        "/api/v1/households/{household_id}/assessments",
        "/api/v1/offers/{offer_id}/accept",
        "/api/v1/offers/{offer_id}/disbursements",
    ):
        params = spec["paths"][path]["post"].get("parameters", [])
        header = [p for p in params if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert len(header) == 1, path
        assert header[0]["schema"]["maxLength"] == 120


def test_twenty_concurrent_deposits_with_one_key_deposit_once(app, make_user):
    """20 identical deposits with one key, sent at the same moment to a real server:
    one deposit; 20 identical 201 answers, 19 of them replays."""
    p = _partner()
    user = make_user("admin")
    barrier = threading.Barrier(20)
    with money.live_server(app) as base:
        token = money.token_for(base, user)

        def post(_i: int) -> httpx.Response:
            barrier.wait()
            return httpx.post(
                f"{base}/api/v1/partners/{p.id}/deposits",
                json={"amount_fen": 888, "reference": "BANK-20"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "twenty-at-once"},
                timeout=120,
            )

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(post, range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotency-Replayed") == "true" for r in responses) == 19
    assert _deposits() == 1
    assert funds.balances(db.session(), p.id)["available_fen"] == 888


def _claim_in_thread(user_id: int, results: list) -> threading.Thread:
    def run() -> None:
        s = db.session()
        try:
            results.append(
                idempotency.claim(
                    s,
                    user_id,
                    "twin",
                    method="POST",
                    path="/x",
                    fingerprint=idempotency.fingerprint("POST", "/x", b"{}"),
                )
            )
            s.rollback()
        finally:
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="waiting on another transaction's unique row is PostgreSQL's behaviour")
def test_a_concurrent_twin_waits_for_the_first_then_replays(make_user):
    """On PostgreSQL the twin's key insert waits on the first transaction's uncommitted
    row (seen as a lock wait), and once the first commits with its response, the twin
    gets that response to replay — there is no moment at which both can proceed."""
    from models import User

    user_id = db.session().execute(select(User.id).where(User.username == make_user("admin"))).scalar_one()
    db.session.remove()
    first = db.session()
    row = idempotency.claim(
        first, user_id, "twin", method="POST", path="/x", fingerprint=idempotency.fingerprint("POST", "/x", b"{}")
    )
    assert isinstance(row, idempotency.Claim)
    results: list = []
    thread = _claim_in_thread(user_id, results)
    observer = db.engine().connect()
    try:
        wait_for(
            lambda: (
                observer.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar()
                > 0
            )
        )
    finally:
        observer.close()
    assert results == []  # still waiting on our uncommitted row
    idempotency.complete(first, row, 201, {"id": 42})
    db.commit()
    thread.join(30)
    assert results == [idempotency.StoredResponse(201, {"id": 42})]


def test_a_twin_after_the_first_commits_replays(make_user):
    """On any database: once the first request has committed its response, a twin (in
    another thread and session) gets the stored response, never a second claim."""
    from models import User

    user_id = db.session().execute(select(User.id).where(User.username == make_user("admin"))).scalar_one()
    first = db.session()
    row = idempotency.claim(
        first, user_id, "twin", method="POST", path="/x", fingerprint=idempotency.fingerprint("POST", "/x", b"{}")
    )
    idempotency.complete(first, row, 201, {"id": 7})
    db.commit()
    db.session.remove()
    results: list = []
    _claim_in_thread(user_id, results).join(30)
    assert results == [idempotency.StoredResponse(201, {"id": 7})]


def test_json_bodies_are_compared_by_meaning_not_spelling():
    """Key order and spacing do not make a different request; a different value does."""
    a = idempotency.fingerprint("POST", "/p", b'{"a": 1, "b": [1, 2]}')
    assert a == idempotency.fingerprint("POST", "/p", b'{"b":[1,2],"a":1}')
    assert a != idempotency.fingerprint("POST", "/p", b'{"b":[2,1],"a":1}')
    assert a != idempotency.fingerprint("POST", "/q", b'{"a": 1, "b": [1, 2]}')


def test_old_keys_are_purged(make_user):
    """Keys older than the keeping period are forgotten; newer ones stay."""
    from datetime import timedelta

    from models import User
    from models.base import utcnow

    user_id = db.session().execute(select(User.id).where(User.username == make_user("admin"))).scalar_one()
    s = db.session()
    for key in ("old", "new"):
        row = idempotency.claim(s, user_id, key, method="POST", path="/x", fingerprint="f")
        idempotency.complete(s, row, 201, {})
        if key == "old":
            s.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id)
                .values(created_at=utcnow() - timedelta(days=8))
            )
    db.commit()
    db.session.remove()
    job = queue.queue().enqueue("broker.jobs.purge_idempotency_keys")  # as rq cron does hourly
    SimpleWorker([queue.queue()], connection=queue.connection()).work(burst=True)
    assert job.return_value() == 1
    assert list(db.session().execute(select(IdempotencyKey.key)).scalars()) == ["new"]


def test_a_multipart_disbursement_with_evidence_replays_despite_a_new_boundary(as_role):
    """A multipart body differs byte for byte on every retry (a new boundary), so its
    fields and files stand for it: the retry replays; another file is a reused key."""
    import io

    s = db.session()
    p = money.partner(s, "慈善总会", fund_fen=1000 * YUAN)
    r = money.aid_request(s, money.household(s), amount_fen=1000 * YUAN)
    o = money.pledged_offer(s, r, p, 1000 * YUAN)
    db.commit()
    offer_id = o.id
    partner = as_role("partner", partner_id=p.id)

    def send(receipt: bytes, boundary: str):
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="amount_fen"\r\n\r\n30000\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ncash\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="收据.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + receipt
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return partner.post(
            f"/api/v1/offers/{offer_id}/disbursements",
            data=io.BytesIO(body),
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={"Idempotency-Key": "receipt-0042"},
        )

    first = send(b"%PDF-1.4 receipt 0042", "AAAA1111")
    assert first.status_code == 201, first.get_json()
    again = send(b"%PDF-1.4 receipt 0042", "BBBB2222")
    assert again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = send(b"%PDF-1.4 another receipt", "CCCC3333")
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    db.session.remove()
    count = db.session().execute(select(func.count()).where(LedgerTransaction.kind == "disbursement")).scalar_one()
    assert count == 1
