"""Services and goods are not money: a counselling offer records sessions (date, hours,
who, notes), an in-kind offer records items and quantities, and neither pledges nor
moves a fen; only a money offer touches the ledger. Voucher numbers are unique per
partner: the same one twice is a 409 naming the first disbursement."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from broker import audit
from broker.money import funds
from broker.platform import db
from models import Disbursement, LedgerTransaction
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _offer(world, worker, partner: str, *needs) -> tuple[int, dict]:
    rid = world.assess(world.household(), *needs)["needs"][0]["request_id"]
    worker()
    (offer,) = [o for o in world.offers_of(partner) if o["request_id"] == rid]
    return rid, offer


def _disburse(client, offer: dict, body: dict):
    """Record a disbursement on ``offer`` through the API, as ``client``."""
    return client.post(f"/api/v1/offers/{offer['id']}/disbursements", json=body)


def _ledger_rows() -> int:
    return db.session().execute(select(func.count()).select_from(LedgerTransaction)).scalar_one()


def test_a_counselling_offer_records_sessions_and_moves_no_money(world, worker):
    """Accepting a service offer pledges nothing; each session is recorded with its date,
    hours, who gave it and notes; the ledger does not change; completing the offer
    completes the request."""
    p = world.partner("阳光社工", kind="social_org", categories=["counselling"], fund_fen=500 * YUAN)
    rid, offer = _offer(world, worker, "阳光社工", need("counselling", "high", description="孩子情绪低落"))
    assert offer["kind"] == "service"
    client = world.partner_clients["阳光社工"]
    before = _ledger_rows()
    accepted = client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["accepted_fen"] == 0
    sessions = [
        {"date": "2026-11-28", "hours": 1.5, "delivered_by": "王老师", "notes": "第一次面谈"},
        {"date": "2026-11-30", "hours": 0.75, "delivered_by": "王老师", "reference": "签到表-002"},
    ]
    for body in sessions:
        resp = _disburse(client, offer, body)
        assert resp.status_code == 201, resp.get_json()
    listed = client.get(f"/api/v1/offers/{offer['id']}/disbursements").get_json()["items"]
    assert [(d["kind"], d["date"], d["hours"], d["delivered_by"], d["amount_fen"]) for d in listed] == [
        ("service", "2026-11-28", 1.5, "王老师", 0),
        ("service", "2026-11-30", 0.75, "王老师", 0),
    ]
    assert [d["transaction_id"] for d in listed] == [None, None]
    assert listed[0]["notes"] == "第一次面谈"
    assert _ledger_rows() == before
    assert funds.balances(db.session(), p["id"]) == {
        "balance_fen": 500 * YUAN,
        "pledged_fen": 0,
        "available_fen": 500 * YUAN,
    }
    assert client.get(f"/api/v1/offers/{offer['id']}").get_json()["status"] == "in-progress"
    assert client.post(f"/api/v1/offers/{offer['id']}/complete", json={}).get_json()["status"] == "completed"
    assert world.request(rid)["status"] == "completed"
    assert audit.verify(db.session()).ok


def test_an_in_kind_offer_records_items_and_quantities(world, worker):
    """Goods are recorded as items (name, quantity, unit) with no money; sent as
    multipart, ``items`` is JSON text beside the evidence file."""
    world.partner("爱心超市", kind="charity", categories=["in_kind"])
    _rid, offer = _offer(world, worker, "爱心超市", need("in_kind", description="冬季被褥和大米"))
    assert offer["kind"] == "in_kind"
    client = world.partner_clients["爱心超市"]
    client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    body = {"items": [{"name": "大米", "quantity": 10, "unit": "kg"}, {"name": "棉被", "quantity": 2, "unit": "床"}]}
    resp = _disburse(client, offer, body)
    assert resp.status_code == 201, resp.get_json()
    got = resp.get_json()
    assert (got["kind"], got["amount_fen"], got["transaction_id"]) == ("in_kind", 0, None)
    assert got["items"] == body["items"]
    form = client.post(
        f"/api/v1/offers/{offer['id']}/disbursements",
        data={
            "items": '[{"name": "食用油", "quantity": 2.5, "unit": "L"}]',
            "reference": "送货单-17",
            "evidence": (io.BytesIO(b"%PDF-1.4 signed"), "note.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert form.status_code == 201, form.get_json()
    assert form.get_json()["items"] == [{"name": "食用油", "quantity": 2.5, "unit": "L"}]
    assert form.get_json()["evidence"]["filename"] == "note.pdf"
    assert db.session().execute(select(func.count()).select_from(LedgerTransaction)).scalar_one() == 0


def test_each_kind_refuses_the_fields_of_another(world, worker):
    """A service offer takes no amount, a money offer no session, goods need items: each
    a 422 in the envelope naming the fields."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    world.partner("基金会", categories=["medical"], fund_fen=5000 * YUAN)
    _r, service = _offer(world, worker, "社工站", need("counselling"))
    _r, money = _offer(world, worker, "基金会", need("medical", "high", 1000 * YUAN))
    sw, fund = world.partner_clients["社工站"], world.partner_clients["基金会"]
    sw.post(f"/api/v1/offers/{service['id']}/accept", json={})
    fund.post(f"/api/v1/offers/{money['id']}/accept", json={})
    err = assert_error_shape(_disburse(sw, service, {"amount_fen": 100, "kind": "service"}), 422)
    assert {"amount_fen", "date", "hours", "delivered_by"} <= set(err["details"])
    err = assert_error_shape(
        _disburse(sw, service, {"date": "2026-11-30", "hours": 0.33, "delivered_by": "王老师"}),
        422,
    )
    assert "hours" in err["details"]
    err = assert_error_shape(
        _disburse(fund, money, {"date": "2026-11-30", "hours": 1, "delivered_by": "x"}),
        422,
    )
    assert "amount_fen" in err["details"]
    err = assert_error_shape(_disburse(fund, money, {"amount_fen": 100, "kind": "service"}), 422)
    assert err["code"] == "wrong_disbursement_kind"
    err = assert_error_shape(
        fund.post(
            f"/api/v1/offers/{money['id']}/disbursements",
            data={"amount_fen": "100", "evidence": "not a file"},
            content_type="multipart/form-data",
        ),
        422,
    )
    assert "evidence" in err["details"]
    assert db.session().execute(select(func.count()).select_from(Disbursement)).scalar_one() == 0


def test_the_document_describes_each_shape(client):
    """OpenAPI: the JSON body is one of the three shapes; the output carries the session
    and goods fields; the offer says its kind."""
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/offers/{offer_id}/disbursements"]["post"]
    refs = [s["$ref"].rsplit("/", 1)[1] for s in post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]]
    assert refs == ["DisbursementIn", "ServiceSessionIn", "ItemDeliveryIn"]
    assert set(spec["components"]["schemas"]["ServiceSessionIn"]["required"]) == {"date", "hours", "delivered_by"}
    out = spec["components"]["schemas"]["DisbursementOut"]["properties"]
    assert {"date", "hours", "delivered_by", "items"} <= set(out)
    assert "kind" in spec["components"]["schemas"]["OfferOut"]["properties"]
    assert "409" in post["responses"]


def test_a_voucher_number_is_recorded_once_per_partner(world, worker):
    """The same reference twice from one partner is a 409 ``duplicate_reference`` naming
    the first disbursement; nothing more is paid. Another partner may use the same number."""
    world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    world.partner("乙", categories=["schooling"], fund_fen=5000 * YUAN)
    _r, offer = _offer(world, worker, "甲", need("living", "normal", 2000 * YUAN))
    _r, other = _offer(world, worker, "乙", need("schooling", "normal", 1000 * YUAN))
    a, b = world.partner_clients["甲"], world.partner_clients["乙"]
    a.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    b.post(f"/api/v1/offers/{other['id']}/accept", json={})
    body = {"amount_fen": 1000 * YUAN, "reference": " BANK-20261201-01 "}
    first = _disburse(a, offer, body)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["reference"] == "BANK-20261201-01"
    err = assert_error_shape(_disburse(a, offer, body), 409)
    assert err["code"] == "duplicate_reference"
    assert err["details"]["disbursement_id"] == first.get_json()["id"]
    assert err["details"]["offer_id"] == offer["id"]
    assert str(first.get_json()["id"]) in err["message"]
    assert a.get(f"/api/v1/offers/{offer['id']}").get_json()["disbursed_fen"] == 1000 * YUAN
    assert _disburse(b, other, body).status_code == 201
    no_reference = _disburse(a, offer, {"amount_fen": 100})
    again = _disburse(a, offer, {"amount_fen": 100})
    assert (no_reference.status_code, again.status_code) == (201, 201)


def test_the_database_refuses_a_repeated_voucher_too(world, worker):
    """The unique index on (partner, reference) holds without the domain's check; empty
    references may repeat."""
    world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    _r, offer = _offer(world, worker, "甲", need("living", "normal", 2000 * YUAN))
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    first = _disburse(client, offer, {"amount_fen": 100, "reference": "V-1"})
    row = db.session().get(Disbursement, first.get_json()["id"])
    columns = {
        c: getattr(row, c)
        for c in ("offer_id", "request_id", "partner_id", "household_id", "grid_id", "category", "actor")
    }
    s = db.session()
    s.add(Disbursement(**columns, amount_fen=0, kind="cash", reference="", created_at=row.created_at))
    s.add(Disbursement(**columns, amount_fen=0, kind="cash", reference="", created_at=row.created_at))
    s.flush()
    s.add(Disbursement(**columns, amount_fen=0, kind="cash", reference="V-1", session_date=date(2026, 1, 1)))
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        s.flush()
    s.rollback()
