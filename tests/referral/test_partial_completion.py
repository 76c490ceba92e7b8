"""A partner that completes under what it took on does not stall the request: what it
left unpaid goes back to routing at once — to other partners, and to the same partner
only when it says it can give more — and the timeline says what was offered, accepted
and paid, once each, with no routing round repeated after every payment."""

from __future__ import annotations

import pytest

from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def post(world, name: str, path: str, body: dict, status: int = 200) -> dict:
    resp = world.partner_clients[name].post(path, json=body)
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def offer_to(world, rid: int, name: str, status: str = "received") -> dict:
    (offer,) = [o for o in world.offers_of(name) if o["request_id"] == rid and o["status"] == status]
    return offer


def routed(detail: dict) -> list[dict]:
    return [e["details"] for e in detail["timeline"] if e["event"] == "request.routed"]


def test_the_unpaid_rest_goes_to_another_partner_at_once(world, worker):
    """甲 accepts ¥15,000 of a ¥30,000 medical gap (乙 is asked for the rest and takes
    it), pays ¥2,500 and completes: the ¥12,500 it left goes to 丙 — not back to 甲,
    and not to 乙, which is still carrying its share — and the request completes when
    all ¥30,000 is paid."""
    world.partner("甲", categories=["medical"], fund_fen=30000 * YUAN)
    world.partner("乙", categories=["medical"], fund_fen=15000 * YUAN)
    world.partner("丙", categories=["medical"], fund_fen=15000 * YUAN)
    rid = world.assess(world.household(), need("medical", "normal", 30000 * YUAN))["needs"][0]["request_id"]
    worker()
    a = offer_to(world, rid, "甲")
    assert a["amount_fen"] == 30000 * YUAN
    post(world, "甲", f"/api/v1/offers/{a['id']}/accept", {"amount_fen": 15000 * YUAN})
    worker()
    b = offer_to(world, rid, "乙")
    assert b["amount_fen"] == 15000 * YUAN
    post(world, "乙", f"/api/v1/offers/{b['id']}/accept", {})
    assert world.request(rid)["routing_state"] == "covered"
    post(world, "甲", f"/api/v1/offers/{a['id']}/disbursements", {"amount_fen": 2500 * YUAN, "kind": "cash"}, 201)
    post(world, "甲", f"/api/v1/offers/{a['id']}/complete", {"note": "本基金本次只能支付这些"})
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"], detail["funded_fen"]) == (
        "active",
        "partly-covered",
        17500 * YUAN,
    )
    worker()
    c = offer_to(world, rid, "丙")
    assert c["amount_fen"] == 12500 * YUAN
    last = routed(world.request(rid))[-1]
    codes = {x["partner"]: x["code"] for x in last["excluded"]}
    assert (codes["甲"], codes["乙"]) == ("completed", "carrying")
    post(world, "丙", f"/api/v1/offers/{c['id']}/accept", {})
    post(world, "丙", f"/api/v1/offers/{c['id']}/disbursements", {"amount_fen": 12500 * YUAN, "kind": "cash"}, 201)
    post(world, "乙", f"/api/v1/offers/{b['id']}/disbursements", {"amount_fen": 15000 * YUAN, "kind": "cash"}, 201)
    detail = world.request(rid)
    assert (detail["status"], detail["disbursed_fen"]) == ("completed", 30000 * YUAN)
    # The timeline: each amount once, named for what it is.
    money = [(e["event"], e["amounts"]) for e in detail["timeline"] if e["amounts"]]
    assert money == [
        ("offer.created", {"offered_fen": 30000 * YUAN}),
        ("offer.accepted", {"accepted_fen": 15000 * YUAN}),
        ("offer.created", {"offered_fen": 15000 * YUAN}),
        ("offer.accepted", {"accepted_fen": 15000 * YUAN}),
        ("disbursement.recorded", {"paid_fen": 2500 * YUAN}),
        ("offer.completed", {"released_fen": 12500 * YUAN}),
        ("offer.created", {"offered_fen": 12500 * YUAN}),
        ("offer.accepted", {"accepted_fen": 12500 * YUAN}),
        ("disbursement.recorded", {"paid_fen": 12500 * YUAN}),
        ("disbursement.recorded", {"paid_fen": 15000 * YUAN}),
    ]
    assert not [e for e in detail["timeline"] if e["event"].startswith("ledger.")]
    assert [len(r["chosen"]) for r in routed(detail)] == [1, 1, 1]


def test_a_partner_that_can_give_more_is_asked_again_and_payments_repeat_nothing(world, worker):
    """Only 甲 serves the need: it takes ¥15,000 of ¥30,000, the rest is unmatched
    (short). Its payments add no routing round. It completes saying it can give more:
    it is asked again for what is still missing."""
    world.partner("甲", categories=["medical"], fund_fen=30000 * YUAN)
    rid = world.assess(world.household(), need("medical", "normal", 30000 * YUAN))["needs"][0]["request_id"]
    worker()
    a = offer_to(world, rid, "甲")
    post(world, "甲", f"/api/v1/offers/{a['id']}/accept", {"amount_fen": 15000 * YUAN})
    worker()
    detail = world.request(rid)
    assert (detail["routing_state"], detail["routing_reasons"]["code"]) == ("unmatched", "short")
    assert detail["routing_reasons"]["gap_fen"] == 15000 * YUAN
    rounds = len(routed(detail))
    for _ in range(2):
        post(world, "甲", f"/api/v1/offers/{a['id']}/disbursements", {"amount_fen": 2500 * YUAN, "kind": "cash"}, 201)
        worker()
    detail = world.request(rid)
    assert len(routed(detail)) == rounds, "a payment is not a reason to route again"
    assert detail["routing_state"] == "unmatched"
    done = post(world, "甲", f"/api/v1/offers/{a['id']}/complete", {"more_available": True})
    assert done["status"] == "completed"
    worker()
    detail = world.request(rid)
    assert [(o["partner"]["name"], o["status"], o["amount_fen"]) for o in detail["offers"]] == [
        ("甲", "completed", 30000 * YUAN),
        ("甲", "received", 25000 * YUAN),
    ]
    assert detail["offers"][0]["more_available"] is True
    assert (detail["status"], detail["routing_state"], detail["funded_fen"]) == (
        "active",
        "partly-covered",
        5000 * YUAN,
    )


def test_a_partner_that_completes_without_more_is_not_asked_again(world, worker):
    """The same, completed without saying it can give more: the ¥25,000 still missing is
    unmatched, 甲 left out as `completed`, and the caseworker sees it."""
    world.partner("甲", categories=["medical"], fund_fen=30000 * YUAN)
    rid = world.assess(world.household(), need("medical", "normal", 30000 * YUAN))["needs"][0]["request_id"]
    worker()
    a = offer_to(world, rid, "甲")
    post(world, "甲", f"/api/v1/offers/{a['id']}/accept", {"amount_fen": 15000 * YUAN})
    post(world, "甲", f"/api/v1/offers/{a['id']}/disbursements", {"amount_fen": 5000 * YUAN, "kind": "cash"}, 201)
    post(world, "甲", f"/api/v1/offers/{a['id']}/complete", {})
    worker()
    detail = world.request(rid)
    assert len(detail["offers"]) == 1
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")
    assert (detail["routing_reasons"]["code"], detail["routing_reasons"]["gap_fen"]) == ("short", 25000 * YUAN)
    assert [(x["partner"], x["code"]) for x in detail["routing_reasons"]["excluded"]] == [("甲", "completed")]
    listed = world.caseworker.get("/api/v1/requests?routing_state=unmatched").get_json()["items"]
    assert [r["id"] for r in listed] == [rid]
