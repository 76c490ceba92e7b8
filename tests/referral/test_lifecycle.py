"""The request and offer lifecycles: caseworker moves (withdraw, hold, resume, retry, complete),
partner moves, what each does to the money, and 409 with the current status for any
move the state does not allow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.money import funds
from broker.platform import db
from models import OutboxMessage
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def one_offer(world, worker, partner: str, *needs) -> tuple[int, dict]:
    rid = world.assess(world.household(), *needs)["needs"][0]["request_id"]
    worker()
    (offer,) = [o for o in world.offers_of(partner) if o["request_id"] == rid]
    return rid, offer


def available(partner: dict) -> int:
    return funds.balances(db.session(), partner["id"])["available_fen"]


def test_withdraw_revokes_offers_and_releases_pledges(world, worker):
    """Withdrawing (``revoked``, with a reason code) releases the pledge to the fund,
    withdraws every live offer, and tells the partner."""
    p = world.partner("慈善总会", categories=["medical"], fund_fen=10000 * YUAN)
    rid, offer = one_offer(world, worker, "慈善总会", need("medical", "high", 2000 * YUAN))
    client = world.partner_clients["慈善总会"]
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", json={"amount_fen": 1500 * YUAN}).status_code == 200
    assert available(p) == 8500 * YUAN
    worker()  # the unaccepted ¥500 found no other partner
    resp = world.caseworker.post(
        f"/api/v1/requests/{rid}/cancel", json={"reason_code": "family_moved", "note": "家庭已搬离本市"}
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "revoked"
    assert body["status_reason"] == "family_moved"
    revoked = [e for e in world.request(rid)["timeline"] if e["event"] == "request.revoked"]
    assert revoked[0]["details"]["note"] == "家庭已搬离本市"
    assert body["offers"][0]["status"] == "cancelled"
    assert body["funded_fen"] == 0
    assert available(p) == 10000 * YUAN
    withdrawals = db.session().execute(select(OutboxMessage).where(OutboxMessage.kind == "withdraw_offer")).scalars()
    assert [m.payload["offer_id"] for m in withdrawals] == [offer["id"]]
    err = assert_error_shape(client.post(f"/api/v1/offers/{offer['id']}/complete", json={}), 409, "invalid_transition")
    assert err["details"]["current_status"] == "cancelled"
    assert "cancelled" in err["message"]
    err = assert_error_shape(
        world.caseworker.post(f"/api/v1/requests/{rid}/cancel", json={"reason_code": "other"}), 409
    )
    assert err["code"] == "invalid_transition"
    assert err["details"]["current_status"] == "revoked"


def test_withdraw_needs_a_reason_code(world):
    """A missing or unknown reason code is 422 naming `reason_code`."""
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    for body in ({}, {"reason_code": "   "}, {"reason_code": 5}, {"reason_code": "bored"}):
        err = assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/cancel", json=body), 422)
        assert "reason_code" in err["details"]


def test_hold_stops_routing_and_resume_restarts_it(world, worker):
    """A held request gets no offers; resumed, it is routed from where it was."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    held = world.caseworker.post(f"/api/v1/requests/{rid}/hold", json={"reason": "family in hospital"})
    assert held.get_json()["status"] == "on-hold"
    worker()
    assert world.request(rid)["offers"] == []
    err = assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/hold", json={}), 409)
    assert err["details"]["current_status"] == "on-hold"
    resumed = world.caseworker.post(f"/api/v1/requests/{rid}/resume")
    assert (resumed.get_json()["status"], resumed.get_json()["routing_state"]) == ("active", "routing")
    worker()
    assert [o["status"] for o in world.request(rid)["offers"]] == ["received"]
    assert world.request(rid)["routing_state"] == "offered"
    err = assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/resume"), 409, "invalid_transition")
    assert err["details"]["current_status"] == "active"


def test_caseworker_confirms_completion_only_once_a_partner_took_it_on(world, worker):
    """`complete` is refused while only offered; once a partner took it on, it completes."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    rid, offer = one_offer(world, worker, "社工站", need("counselling"))
    err = assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/complete", json={}), 409)
    assert err["details"]["current_status"] == "active"
    world.partner_clients["社工站"].post(f"/api/v1/offers/{offer['id']}/accept", json={})
    done = world.caseworker.post(f"/api/v1/requests/{rid}/complete", json={"note": "三次心理疏导已完成"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "completed"
    assert done.get_json()["completed_at"]


def test_service_request_completes_when_its_offer_completes(world, worker):
    """A counselling request completes when the partner completes the accepted offer."""
    world.partner("社工站", kind="social_org", categories=["counselling"])
    rid, offer = one_offer(world, worker, "社工站", need("counselling", "high"))
    client = world.partner_clients["社工站"]
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", json={}).get_json()["status"] == "accepted"
    assert (world.request(rid)["status"], world.request(rid)["routing_state"]) == ("active", "covered")
    service = client.post(
        f"/api/v1/offers/{offer['id']}/disbursements",
        json={"date": "2026-11-30", "hours": 1, "delivered_by": "张社工", "reference": "第1次"},
    )
    assert service.status_code == 201
    assert client.get(f"/api/v1/offers/{offer['id']}").get_json()["status"] == "in-progress"
    assert client.post(f"/api/v1/offers/{offer['id']}/complete", json={}).get_json()["status"] == "completed"
    detail = world.request(rid)
    assert detail["status"] == "completed"
    assert [e["event"] for e in detail["timeline"]][-3:] == [
        "offer.completed",
        "request.completed",
        "follow_up.scheduled",
    ]


def test_under_spent_offer_returns_money_and_the_rest_is_routed(world, worker):
    """Completing an offer under its pledge releases the rest and routes the gap onward."""
    a = world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    world.partner("乙", categories=["living"], fund_fen=3000 * YUAN)
    rid, offer = one_offer(world, worker, "甲", need("living", "normal", 1000 * YUAN))
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    paid = client.post(f"/api/v1/offers/{offer['id']}/disbursements", json={"amount_fen": 600 * YUAN, "kind": "cash"})
    assert paid.status_code == 201
    assert client.post(f"/api/v1/offers/{offer['id']}/complete", json={}).get_json()["status"] == "completed"
    assert available(a) == 4400 * YUAN
    worker()
    detail = world.request(rid)
    assert detail["funded_fen"] == 600 * YUAN
    assert [(o["partner"]["name"], o["amount_fen"]) for o in detail["offers"]] == [
        ("甲", 1000 * YUAN),
        ("乙", 400 * YUAN),
    ]
    (offer_b,) = world.offers_of("乙")
    client_b = world.partner_clients["乙"]
    client_b.post(f"/api/v1/offers/{offer_b['id']}/accept", json={})
    client_b.post(f"/api/v1/offers/{offer_b['id']}/disbursements", json={"amount_fen": 400 * YUAN, "kind": "cash"})
    detail = world.request(rid)
    assert detail["status"] == "completed"
    assert detail["disbursed_fen"] == 1000 * YUAN


def test_everyone_declines_and_the_request_is_unmatched_with_reasons(world, worker):
    """When the last partner rejects, the request stays active, unmatched, naming who was
    asked and why not (as codes), and its caseworker is told."""
    world.partner("甲", categories=["schooling"], fund_fen=5000 * YUAN)
    world.partner("乙", categories=["schooling"], fund_fen=4000 * YUAN)
    rid, first = one_offer(world, worker, "甲", need("schooling", "normal", 3000 * YUAN))
    world.partner_clients["甲"].post(f"/api/v1/offers/{first['id']}/reject", json={"reason": "名额已满"})
    worker()
    (second,) = world.offers_of("乙")
    world.partner_clients["乙"].post(f"/api/v1/offers/{second['id']}/reject", json={"reason": "不在资助范围"})
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")
    reasons = detail["routing_reasons"]
    assert reasons["code"] == "none_could_take"
    assert {(x["partner"], x["code"]) for x in reasons["excluded"]} >= {("甲", "declined"), ("乙", "declined")}
    assert [o["status_reason"] for o in detail["offers"]] == ["名额已满", "不在资助范围"]
    listed = world.caseworker.get("/api/v1/requests?routing_state=unmatched").get_json()["items"]
    assert [r["id"] for r in listed] == [rid]


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ("received", "complete", {}),
        ("received", "disbursements", {"amount_fen": 100, "kind": "cash"}),
        ("accepted", "reject", {"reason": "changed our mind"}),
        ("accepted", "accept", {}),
        ("rejected", "accept", {}),
    ],
)
def test_illegal_offer_moves_are_409_with_the_current_status(world, worker, setup, action, body):
    """Each move the offer's state does not allow is refused, naming the current status."""
    world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    _, offer = one_offer(world, worker, "甲", need("living", "normal", 1000 * YUAN))
    client = world.partner_clients["甲"]
    if setup == "accepted":
        client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    elif setup == "rejected":
        client.post(f"/api/v1/offers/{offer['id']}/reject", json={"reason": "no"})
    err = assert_error_shape(client.post(f"/api/v1/offers/{offer['id']}/{action}", json=body), 409)
    assert err["code"] == "invalid_transition"
    assert err["details"]["current_status"] == setup


def test_every_change_is_on_the_timeline(world, worker):
    """Accept, disbursement, money movements and completion all appear on the request's timeline."""
    world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    rid, offer = one_offer(world, worker, "甲", need("living", "normal", 1000 * YUAN))
    client = world.partner_clients["甲"]
    client.post(f"/api/v1/offers/{offer['id']}/accept", json={})
    client.post(f"/api/v1/offers/{offer['id']}/disbursements", json={"amount_fen": 1000 * YUAN, "kind": "cash"})
    events = [e["event"] for e in world.request(rid)["timeline"]]
    assert events == [
        "request.created",
        "offer.created",
        "request.routed",
        "request.routing_state",
        "offer.delivered",
        "offer.accepted",
        "request.routing_state",
        "disbursement.recorded",
        "offer.started",
        "offer.completed",
        "request.completed",
        "follow_up.scheduled",
    ]
    actors = {e["event"]: e["actor"] for e in world.request(rid)["timeline"]}
    assert actors["offer.accepted"].startswith("partner-")
    assert actors["request.routed"] == "system"


def test_request_list_filters_and_scope(world, as_role, make_user, login):
    """Caseworkers list their grids' requests only; filters narrow by status, category, grid, household."""
    other = make_world(as_role, make_user, login)
    mine = world.household()
    world.assess(mine, need("medical", "high", 100 * YUAN), need("counselling"))
    world.assess(world.household(), need("living", "normal", 200 * YUAN))
    other.assess(other.household(), need("medical", "normal", 300 * YUAN))
    listing = world.caseworker.get("/api/v1/requests").get_json()
    assert (listing["total"], listing["page"]) == (3, 1)
    assert {r["grid_id"] for r in listing["items"]} == {listing["items"][0]["grid_id"]}
    medical = world.caseworker.get("/api/v1/requests?category=medical").get_json()["items"]
    assert [r["amount_fen"] for r in medical] == [100 * YUAN]
    assert world.caseworker.get(f"/api/v1/requests?household={mine}").get_json()["total"] == 2
    assert world.caseworker.get("/api/v1/requests?status=active&per_page=1").get_json()["total"] == 3
    assert world.caseworker.get(f"/api/v1/requests?grid={other.grid}").get_json()["total"] == 0
    auditor = as_role("auditor")
    assert auditor.get("/api/v1/requests").get_json()["total"] == 4
    assert auditor.get(f"/api/v1/requests?grid={other.grid}").get_json()["total"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", "/api/v1/requests?status=open", None, "status"),
        ("get", "/api/v1/requests?category=food", None, "category"),
        ("get", "/api/v1/requests?household=abc", None, "household"),
        ("get", "/api/v1/requests?per_page=0", None, "per_page"),
        ("post", "/api/v1/requests/{rid}/hold", {"reason": 42}, "reason"),
        ("post", "/api/v1/requests/{rid}/hold", {"until": "tomorrow"}, "until"),
        ("post", "/api/v1/requests/{rid}/complete", {"note": "x" * 1001}, "note"),
        ("post", "/api/v1/requests/{rid}/cancel", {"reason_code": "other", "note": "x" * 1001}, "note"),
    ],
)
def test_bad_input_on_request_endpoints_is_422(world, method, path, body, field):
    """Query and body errors on the request endpoints are 422 naming the field, never a 500."""
    rid = world.assess(world.household(), need("counselling"))["needs"][0]["request_id"]
    call = getattr(world.caseworker, method)
    resp = call(path.format(rid=rid), json=body) if body is not None else call(path.format(rid=rid))
    err = assert_error_shape(resp, 422, "validation_error")
    assert field in err["details"]
    assert_error_shape(world.caseworker.get("/api/v1/requests/999999"), 404, "not_found")
