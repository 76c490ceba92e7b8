"""The family confirms what reached it (签收): by a signature drawn on screen, a photo of
the signed slip, or a one-time SMS code; once; only by the household's caseworkers; and
the SMS (code, grant paid) leaves only with the family's consent, through a real RQ
worker to a local SMS gateway."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from broker.platform import db, runtime
from models import AuditEvent, Disbursement, FamilyMessage, ReceiptCode
from models.base import utcnow
from tests.conftest import unique
from tests.support.aid import YUAN, make_world, need
from tests.support.images import png
from tests.support.receivers import SmsGateway
from tests.support.voice import agree

API = "/api/v1"
PHONE = "13800138000"


@pytest.fixture
def gateway(monkeypatch):
    """The local SMS gateway, and the broker's SMS setting pointed at it."""
    with SmsGateway() as sms:
        monkeypatch.setitem(runtime.settings(), "SMS_GATEWAY_URL", sms.url)
        monkeypatch.setitem(runtime.settings(), "NOTIFY_TIMEOUT_SECONDS", 5.0)
        yield sms


def paid(world: Any, worker: Any, *, consent: bool = True, phone: str | None = PHONE) -> dict:
    """A household on the world's grid, a 500-yuan living need routed to a partner that
    accepted and paid it; returns the ids and the partner's name."""
    name = unique("海淀区慈善总会-")
    world.partner(name, categories=["living"], fund_fen=10_000 * YUAN)
    body = {
        "grid": world.grid,
        "address": f"海淀区中关村东路{unique('')}号",
        "head_name": "张建国",
        "monthly_income_fen": 180000,
        "consent_to_share": consent,
        "members": [{"name": "张建国", "relation": "head", "birth_date": "1980-05-01", "sex": "M"}],
    }
    if phone:
        body["phone"] = phone
    household = world.caseworker.post(f"{API}/households", json=body).get_json()["id"]
    if consent:
        agree(world.caseworker, household, "sms")
    request_id = world.assess(household, need("living", amount_fen=500 * YUAN))["needs"][0]["request_id"]
    worker()
    partner = world.partner_clients[name]
    offer = next(o for o in world.offers_of(name) if o["request_id"] == request_id)
    assert partner.post(f"{API}/offers/{offer['id']}/accept", json={}).status_code == 200
    resp = partner.post(f"{API}/offers/{offer['id']}/disbursements", json={"amount_fen": 500 * YUAN, "kind": "cash"})
    assert resp.status_code == 201, resp.get_json()
    return {
        "household": household,
        "request": request_id,
        "disbursement": resp.get_json()["id"],
        "partner": name,
        "partner_client": partner,
    }


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _signature() -> str:
    return "data:image/png;base64," + base64.b64encode(png()).decode()


def test_a_signature_on_screen_is_the_receipt_recorded_once_and_on_the_timeline(world, worker):
    """A signature drawn on the caseworker's phone records the receipt (201) with its
    image; sent again, the first receipt answers (200) and nothing is recorded twice; the
    request's timeline shows it."""
    p = paid(world, worker)
    url = f"{API}/disbursements/{p['disbursement']}/receipt"
    first = world.caseworker.post(url, json={"method": "signature", "image": _signature()})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["method"] == "signature"
    assert first.get_json()["has_image"]
    again = world.caseworker.post(url, json={"method": "signature", "image": _signature()})
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    events = db.session().execute(select(AuditEvent.action).where(AuditEvent.action == "receipt.recorded")).all()
    assert len(events) == 1
    timeline = world.caseworker.get(f"{API}/requests/{p['request']}").get_json()
    assert "receipt.recorded" in [e["event"] for e in timeline["timeline"]]


def test_a_photo_must_be_an_image(world, worker):
    """A photo of the signed slip is kept; anything that is not an image is a 422."""
    p = paid(world, worker)
    url = f"{API}/disbursements/{p['disbursement']}/receipt"
    text = base64.b64encode(b"not a picture at all").decode()
    bad = world.caseworker.post(url, json={"method": "photo", "image": text})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "not_an_image"
    ok = world.caseworker.post(url, json={"method": "photo", "image": base64.b64encode(png()).decode()})
    assert ok.status_code == 201
    assert ok.get_json()["method"] == "photo"


def test_a_code_by_sms_confirms_receipt_and_the_family_got_it(world, worker, gateway):
    """The code reaches the family's phone through a real RQ worker and the local
    gateway, in Chinese; typed in by the caseworker it records the receipt. The grant's
    own SMS went out too, naming only what the family received."""
    p = paid(world, worker)
    sent = world.caseworker.post(f"{API}/disbursements/{p['disbursement']}/receipt-code")
    assert sent.status_code == 202, sent.get_json()
    assert sent.get_json()["phone_hint"] == "138****8000"
    again = world.caseworker.post(f"{API}/disbursements/{p['disbursement']}/receipt-code")
    assert again.status_code == 202
    worker()
    codes = [m for m in gateway.sent if "签收" in m["message"] and "验证码" in m["message"]]
    assert len(codes) == 1, gateway.sent  # asked twice within a minute: one SMS
    assert codes[0]["to"] == PHONE
    code = next(word for word in codes[0]["message"].replace("，", " ").split() if word.isdigit() and len(word) == 6)
    paid_sms = [m for m in gateway.sent if "500" in m["message"]]
    assert paid_sms
    assert p["partner"] in paid_sms[0]["message"]
    stored = db.session().execute(select(FamilyMessage.params)).scalars().all()
    assert all("_sealed" not in params and code not in str(params) for params in stored)
    resp = world.caseworker.post(
        f"{API}/disbursements/{p['disbursement']}/receipt", json={"method": "code", "code": code}
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["method"] == "code"


def test_a_wrong_or_expired_code_is_refused_and_wrong_tries_are_counted(world, worker, gateway):
    """A wrong code is a 422 saying how many tries are left, and the try is counted; after
    the last try the code is locked (409); an expired code is refused (422); a receipt by
    code without one sent is a 409."""
    p = paid(world, worker)
    url = f"{API}/disbursements/{p['disbursement']}/receipt"
    none_yet = world.caseworker.post(url, json={"method": "code", "code": "000000"})
    assert none_yet.status_code == 409
    assert none_yet.get_json()["error"]["code"] == "no_code_sent"
    assert world.caseworker.post(f"{url}-code").status_code == 202
    limit = runtime.settings()["RECEIPT_CODE_ATTEMPTS"]
    for left in range(limit - 1, -1, -1):
        wrong = world.caseworker.post(url, json={"method": "code", "code": "999999"})
        body = wrong.get_json()["error"]
        if body["code"] == "wrong_code":
            assert wrong.status_code == 422
            assert body["details"]["attempts_left"] == left
    locked = world.caseworker.post(url, json={"method": "code", "code": "999999"})
    assert locked.status_code == 409
    assert locked.get_json()["error"]["code"] == "code_locked"
    session = db.session()
    assert session.execute(select(ReceiptCode.attempts)).scalar_one() == limit
    session.execute(update(ReceiptCode).values(created_at=utcnow() - timedelta(minutes=5)))
    db.commit()
    assert world.caseworker.post(f"{url}-code").status_code == 202  # a new code replaces the locked one
    db.session().execute(
        update(ReceiptCode).where(ReceiptCode.attempts == 0).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    expired = world.caseworker.post(url, json={"method": "code", "code": "123456"})
    assert expired.status_code == 422
    assert expired.get_json()["error"]["code"] == "code_expired"


def test_only_the_households_caseworkers_record_a_receipt(world, worker, as_role, make_user, login):
    """The partner that paid is refused (403), a caseworker of another grid finds nothing
    (404), an auditor is refused (403); nothing is recorded."""
    p = paid(world, worker)
    other = make_world(as_role, make_user, login)
    url = f"{API}/disbursements/{p['disbursement']}/receipt"
    body = {"method": "signature", "image": _signature()}
    assert p["partner_client"].post(url, json=body).status_code == 403
    assert other.caseworker.post(url, json=body).status_code == 404
    assert as_role("auditor").post(url, json=body).status_code == 403
    assert p["partner_client"].post(f"{url}-code").status_code == 403
    assert other.caseworker.post(f"{url}-code").status_code == 404
    assert not db.session().execute(select(AuditEvent).where(AuditEvent.action == "receipt.recorded")).first()


def test_sms_leaves_only_with_the_familys_consent(world, worker, gateway):
    """Without consent no code is sent (409 no_sms_consent), and the grant's message is
    withheld at sending time: the gateway receives nothing for the family."""
    p = paid(world, worker, consent=False)
    resp = world.caseworker.post(f"{API}/disbursements/{p['disbursement']}/receipt-code")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "no_sms_consent"
    worker()
    assert gateway.sent == []
    statuses = db.session().execute(select(FamilyMessage.status, FamilyMessage.last_error_code)).all()
    assert statuses == [("withheld", "no_consent")]


def test_the_reconciliation_report_shows_the_one_unreceived_disbursement(world, worker, as_role):
    """Two disbursements past the partner's seven days, one confirmed by the family: the
    report shows planned, paid and received per partner and one overdue; the XLSX opens;
    given ten days, the partner's delivery is no longer overdue."""
    first = paid(world, worker)
    second = paid(world, worker)
    session = db.session()
    session.execute(update(Disbursement).values(created_at=utcnow() - timedelta(days=8)))
    db.commit()
    sign = {"method": "signature", "image": _signature()}
    url = f"{API}/disbursements/{first['disbursement']}/receipt"
    assert world.caseworker.post(url, json=sign).status_code == 201
    auditor = as_role("auditor")
    report = auditor.get(f"{API}/reports/reconciliation").get_json()
    rows = {r["partner"]: r for r in report["rows"]}
    one, two = rows[first["partner"]], rows[second["partner"]]
    assert (one["planned_fen"], one["paid_fen"], one["received_fen"], one["overdue_count"]) == (50000, 50000, 50000, 0)
    assert (two["planned_fen"], two["paid_fen"], two["received_fen"], two["overdue_count"]) == (50000, 50000, 0, 1)
    assert report["totals"]["overdue_count"] == 1
    assert report["totals"]["unreceived_fen"] == 50000
    xlsx = auditor.get(f"{API}/reports/reconciliation?format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    assert world.caseworker.get(f"{API}/reports/reconciliation").status_code == 403
    partner_id = world.partners[second["partner"]]["id"]
    patched = world.admin.patch(f"{API}/partners/{partner_id}", json={"receipt_within_days": 10})
    assert patched.get_json()["receipt_within_days"] == 10
    assert auditor.get(f"{API}/reports/reconciliation").get_json()["totals"]["overdue_count"] == 0


def test_an_approved_or_rejected_application_tells_the_family(world, worker, gateway):
    """With consent, the family gets an SMS in Chinese when the department approves or
    rejects its application, naming the policy, with no ID number."""
    household = world.household(consent=True)
    agree(world.caseworker, household, "sms")
    world.caseworker.patch(f"{API}/households/{household}", json={"phone": PHONE})
    app_id = world.caseworker.post(
        f"{API}/households/{household}/applications", json={"policy": "temporary_aid"}
    ).get_json()["id"]
    app = world.caseworker.get(f"{API}/applications/{app_id}").get_json()
    docs = {d["code"]: True for d in app["documents"]}
    assert world.caseworker.post(f"{API}/applications/{app_id}/documents", json={"documents": docs}).status_code == 200
    for status in ("submitted", "approved"):
        resp = world.caseworker.post(f"{API}/applications/{app_id}/steps", json={"status": status})
        assert resp.status_code == 200, resp.get_json()
    worker()
    assert len(gateway.sent) == 1, gateway.sent
    assert "已批准" in gateway.sent[0]["message"]
