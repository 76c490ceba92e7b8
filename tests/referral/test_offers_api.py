"""The partner's side over HTTP: the inbox (own offers only, urgent first), accept with
pledges, reject, disbursements with evidence, complete — and what a partner may never
see or do."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.money import accounts, funds, ledger
from broker.money.ledger import Leg
from broker.platform import db, runtime
from broker.registry import identity
from models import Account, Disbursement
from models.base import utcnow
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def two_partners(world, worker):
    """Two portal partners with one living-aid offer each."""
    world.partner("甲", categories=["living"], max_amount_fen=1000 * YUAN, fund_fen=5000 * YUAN)
    world.partner("乙", categories=["living"], max_amount_fen=1000 * YUAN, fund_fen=4000 * YUAN)
    rid = world.assess(world.household(), need("living", "normal", 2000 * YUAN))["needs"][0]["request_id"]
    worker()
    (a,) = world.offers_of("甲")
    (b,) = world.offers_of("乙")
    return rid, a, b


def test_inbox_holds_only_the_partners_own_offers(world, two_partners):
    """Each partner lists exactly its own offer, with what it may know about the request."""
    rid, a, b = two_partners
    assert a["request_id"] == b["request_id"] == rid
    assert (a["partner"]["name"], b["partner"]["name"]) == ("甲", "乙")
    assert set(a) >= {"id", "request_id", "status", "category", "urgency", "amount_fen", "accepted_fen", "respond_by"}
    assert a["community"] == "科源社区"
    assert a["status"] == "received"


def test_another_partners_offer_is_not_found(world, two_partners):
    """Reading or acting on another partner's offer is 404, whatever the action."""
    _, a, _ = two_partners
    other = world.partner_clients["乙"]
    assert_error_shape(other.get(f"/api/v1/offers/{a['id']}"), 404, "not_found")
    assert_error_shape(other.get(f"/api/v1/offers/{a['id']}/disbursements"), 404)
    for action, body in (
        ("accept", {}),
        ("reject", {"reason": "x"}),
        ("complete", {}),
        ("disbursements", {"amount_fen": 100, "kind": "cash"}),
    ):
        assert_error_shape(other.post(f"/api/v1/offers/{a['id']}/{action}", json=body), 404, "not_found")
    assert world.offers_of("甲")[0]["status"] == "received"


def test_roles_that_may_not_use_the_inbox(world, two_partners, as_role):
    """Caseworkers are 403 on offers, partners 403 on requests, auditors and admins read but never answer."""
    rid, a, _ = two_partners
    assert_error_shape(world.caseworker.get("/api/v1/offers"), 403, "forbidden")
    assert_error_shape(world.caseworker.get(f"/api/v1/offers/{a['id']}"), 403)
    assert_error_shape(world.partner_clients["甲"].get("/api/v1/requests"), 403)
    assert_error_shape(world.partner_clients["甲"].get(f"/api/v1/requests/{rid}"), 403)
    auditor = as_role("auditor")
    listing = auditor.get(f"/api/v1/offers?partner={a['partner']['id']}").get_json()
    assert [o["id"] for o in listing["items"]] == [a["id"]]
    assert auditor.get("/api/v1/offers").get_json()["total"] == 2
    assert_error_shape(auditor.post(f"/api/v1/offers/{a['id']}/accept", json={}), 403)
    assert_error_shape(world.admin.post(f"/api/v1/offers/{a['id']}/accept", json={}), 403)
    assert_error_shape(as_role("caseworker").get(f"/api/v1/requests/{rid}"), 404)


def test_inbox_is_sorted_by_urgency_then_deadline_and_paginated(world, worker):
    """Critical before high before normal; within an urgency, the nearest deadline first; pages add up."""
    world.partner("甲", categories=["living", "medical"], fund_fen=90000 * YUAN)
    hh = world.household()
    world.assess(hh, need("living", "normal", 100 * YUAN), need("medical", "critical", 200 * YUAN))
    world.assess(hh, need("medical", "high", 300 * YUAN), need("living", "critical", 400 * YUAN))
    worker()
    items = world.offers_of("甲")
    assert [(o["urgency"], o["amount_fen"]) for o in items] == [
        ("critical", 200 * YUAN),
        ("critical", 400 * YUAN),
        ("high", 300 * YUAN),
        ("normal", 100 * YUAN),
    ]
    client = world.partner_clients["甲"]
    page2 = client.get("/api/v1/offers?per_page=3&page=2").get_json()
    assert (page2["total"], page2["page"], page2["per_page"]) == (4, 2, 3)
    assert [o["id"] for o in page2["items"]] == [items[3]["id"]]
    medical = client.get("/api/v1/offers?category=medical").get_json()["items"]
    assert {o["category"] for o in medical} == {"medical"}
    assert client.get("/api/v1/offers?status=accepted").get_json()["total"] == 0
    for query in ("page=0", "per_page=1000", "status=pending", "category=food", "page=x"):
        err = assert_error_shape(client.get(f"/api/v1/offers?{query}"), 422, "validation_error")
        assert query.split("=")[0] in err["details"]


def test_accept_pledges_and_partial_accept_routes_the_rest(world, two_partners, worker):
    """Accepting moves money fund → pledged; accepting less sends the shortfall onward."""
    rid, a, _ = two_partners
    client = world.partner_clients["甲"]
    resp = client.post(f"/api/v1/offers/{a['id']}/accept", json={"amount_fen": 600 * YUAN})
    assert resp.status_code == 200
    assert resp.get_json()["accepted_fen"] == 600 * YUAN
    balances = funds.balances(db.session(), a["partner"]["id"])
    assert balances == {"balance_fen": 5000 * YUAN, "pledged_fen": 600 * YUAN, "available_fen": 4400 * YUAN}
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"]) == ("active", "partly-covered")
    assert detail["funded_fen"] == 600 * YUAN
    routed = [e["details"] for e in detail["timeline"] if e["event"] == "request.routed"]
    assert (routed[-1]["gap_fen"], routed[-1]["outcome"]) == (400 * YUAN, "waiting")


def test_accept_bad_amounts_are_422(world, two_partners):
    """More than offered, zero, fractions and strings are refused with details on amount_fen."""
    _, a, _ = two_partners
    client = world.partner_clients["甲"]
    for amount in (1000 * YUAN + 1, 0, 12.5, "100", -1):
        err = assert_error_shape(client.post(f"/api/v1/offers/{a['id']}/accept", json={"amount_fen": amount}), 422)
        assert "amount_fen" in err["details"]
    assert world.offers_of("甲")[0]["status"] == "received"


def test_accept_without_the_money_is_409_with_a_clear_message(world, two_partners):
    """If the fund was promised elsewhere since the offer was made, accepting is 409 insufficient_funds."""
    _, a, _ = two_partners
    session = db.session()
    fund, pledged = accounts.partner_accounts(session, a["partner"]["id"], "甲")
    ledger.post(session, "pledge", [Leg(fund, -4500 * YUAN), Leg(pledged, 4500 * YUAN)], amount_fen=4500 * YUAN)
    db.commit()
    err = assert_error_shape(world.partner_clients["甲"].post(f"/api/v1/offers/{a['id']}/accept", json={}), 409)
    assert err["code"] == "insufficient_funds"
    assert "¥500.00 available" in err["message"]
    assert "¥1,000.00" in err["message"]
    assert world.offers_of("甲")[0]["status"] == "received"


def test_reject_needs_a_reason(world, two_partners):
    """A missing or blank reason is 422 naming `reason`; the offer is untouched."""
    _, a, _ = two_partners
    client = world.partner_clients["甲"]
    for body in ({}, {"reason": ""}, {"reason": "  \t"}, {"reason": ["x"]}):
        err = assert_error_shape(client.post(f"/api/v1/offers/{a['id']}/reject", json=body), 422)
        assert "reason" in err["details"]
    assert world.offers_of("甲")[0]["status"] == "received"


def test_disbursement_moves_money_to_the_household(world, two_partners):
    """A JSON disbursement pays pledged → beneficiary, copies the grouping columns, starts the offer."""
    rid, a, _ = two_partners
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{a['id']}/accept", json={})
    resp = client.post(
        f"/api/v1/offers/{a['id']}/disbursements", json={"amount_fen": 300 * YUAN, "kind": "cash", "reference": "T-1"}
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["amount_fen"], body["kind"], body["reference"], body["evidence"]) == (30000, "cash", "T-1", None)
    assert client.get(f"/api/v1/offers/{a['id']}").get_json()["status"] == "in-progress"
    row = db.session().get(Disbursement, body["id"])
    detail = world.request(rid)
    assert (row.request_id, row.category, row.household_id, row.grid_id) == (
        rid,
        "living",
        detail["household_id"],
        detail["grid_id"],
    )
    beneficiary = db.session().execute(select(Account).where(Account.kind == "beneficiary")).scalar_one()
    assert beneficiary.balance_fen == 300 * YUAN
    assert detail["disbursed_fen"] == 300 * YUAN
    listed = client.get(f"/api/v1/offers/{a['id']}/disbursements").get_json()["items"]
    assert [d["id"] for d in listed] == [body["id"]]


def test_disbursement_with_an_evidence_file(world, two_partners):
    """Multipart with a file stores it under the instance folder by SHA-256 and records the hash."""
    _, a, _ = two_partners
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{a['id']}/accept", json={})
    receipt = "收据 ¥1,000.00 已转账".encode()
    resp = client.client.post(
        f"/api/v1/offers/{a['id']}/disbursements",
        data={
            "amount_fen": "100000",
            "kind": "cash",
            "reference": "BANK-1",
            "evidence": (io.BytesIO(receipt), "r.txt"),
        },
        headers={"Authorization": f"Bearer {client.token}"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    evidence = resp.get_json()["evidence"]
    digest = hashlib.sha256(receipt).hexdigest()
    assert evidence["sha256"] == digest
    assert (evidence["filename"], evidence["size"]) == ("r.txt", len(receipt))
    stored = Path(runtime.settings()["INSTANCE_PATH"]) / "evidence" / digest[:2] / digest
    assert stored.read_bytes() == receipt
    assert client.get(f"/api/v1/offers/{a['id']}").get_json()["status"] == "completed"


def test_bad_disbursements_are_refused(world, two_partners):
    """Over the pledge, unknown kinds, fractions, bad form numbers: 422 on the field; no body: 400."""
    _, a, _ = two_partners
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{a['id']}/accept", json={"amount_fen": 500 * YUAN})
    url = f"/api/v1/offers/{a['id']}/disbursements"
    for body, field in (
        ({"amount_fen": 500 * YUAN + 1, "kind": "cash"}, "amount_fen"),
        ({"amount_fen": 100, "kind": "gold"}, "kind"),
        ({"amount_fen": 1.5, "kind": "cash"}, "amount_fen"),
        ({"kind": "cash"}, "amount_fen"),
        ({"amount_fen": 0, "kind": "cash"}, "amount_fen"),
        ({"amount_fen": 100, "kind": "cash", "reference": "x" * 121}, "reference"),
    ):
        err = assert_error_shape(client.post(url, json=body), 422, "validation_error")
        assert field in err["details"], (body, err)
    resp = client.client.post(
        url,
        data={"amount_fen": "12.5", "kind": "cash"},
        headers={"Authorization": f"Bearer {client.token}"},
        content_type="multipart/form-data",
    )
    assert "amount_fen" in assert_error_shape(resp, 422)["details"]
    resp = client.client.post(
        url, data="[1,2", headers={"Authorization": f"Bearer {client.token}"}, content_type="application/json"
    )
    assert_error_shape(resp, 400)
    assert db.session().execute(select(Disbursement)).first() is None


def test_acting_on_an_expired_offer_is_409(world, two_partners, worker):
    """Once its deadline passed and the reconciler expired it, the offer can no longer be accepted."""
    from broker.referral import reconcile

    _, a, _ = two_partners
    reconcile.sweep(db.session(), now=utcnow() + timedelta(hours=49))
    db.commit()
    err = assert_error_shape(world.partner_clients["甲"].post(f"/api/v1/offers/{a['id']}/accept", json={}), 409)
    assert err["details"]["current_status"] == "cancelled"
    assert err["details"]["status_reason"] == "expired"
    assert "expired" in err["message"]


def test_identity_numbers_and_names_stay_private(world, worker):
    """Partners never see ID numbers (not even typed into a description) nor names without consent."""
    world.partner("甲", categories=["medical"], fund_fen=9000 * YUAN)
    son_id = identity.make("110108", date(2014, 3, 2), "123")
    mother_id = identity.make("110108", date(1985, 7, 9), "246")
    members = [
        {"name": "王秀兰", "relation": "head", "id_number": mother_id},
        {"name": "王小明", "relation": "child", "id_number": son_id},  # no condition recorded: routed in full
    ]
    private = world.household(head="王秀兰", members=members)
    shared = world.household(head="刘德华", consent=True)
    world.assess(private, need("medical", "critical", 800 * YUAN, f"王小明 身份证 {son_id} 白血病住院"))
    world.assess(shared, need("medical", "high", 500 * YUAN, "住院押金"))
    worker()
    client = world.partner_clients["甲"]
    listing = client.get("/api/v1/offers").get_json()
    texts = [json.dumps(listing, ensure_ascii=False)] + [
        json.dumps(client.get(f"/api/v1/offers/{o['id']}").get_json(), ensure_ascii=False) for o in listing["items"]
    ]
    for text in texts:
        assert son_id not in text
        assert mother_id not in text
        assert son_id[6:14] + son_id[14:] not in text
        assert "王秀兰" not in text
    households = {o["amount_fen"]: o["household"] for o in listing["items"]}
    assert households == {800 * YUAN: "王** household", 500 * YUAN: "刘德华 household"}
    assert "[ID number removed]" in listing["items"][0]["description"]
