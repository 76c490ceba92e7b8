"""Routing: who is asked, for how much, in what order, and why — and the reasons stored
on each offer and on the request's timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from broker.referral import routing
from models import AidRequest, Notification
from tests.conftest import unique
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def routed(world, request_id: int) -> list[dict]:
    """The `request.routed` decisions on the request's timeline, oldest first."""
    return [e["details"] for e in world.request(request_id)["timeline"] if e["event"] == "request.routed"]


def first_request(world, *needs) -> int:
    return world.assess(world.household(), *needs)["needs"][0]["request_id"]


def mutual_aid_fund(world, **extra) -> None:
    """社区互助基金: an auto-grant fund for emergencies, ¥5,000 in it, ¥1,000 limit."""
    world.partner(
        "社区互助基金",
        kind="mutual_aid_fund",
        adapter="auto_grant",
        adapter_config={"limit_fen": 1000 * YUAN},
        categories=["emergency"],
        fund_fen=5000 * YUAN,
        **extra,
    )


def test_every_partner_left_out_has_a_reason(world, worker, as_role, make_user, login):
    """Inactive, category, region and money exclusions are stored with their reasons."""
    elsewhere = make_world(as_role, make_user, login).grid
    world.partner("甲 慈善", categories=["medical"], fund_fen=10000 * YUAN)
    sleeping = world.partner("乙 已停用", categories=["medical"], fund_fen=10000 * YUAN)
    world.admin.patch(f"/api/v1/partners/{sleeping['id']}", json={"active": False})
    world.partner("丙 教育", categories=["schooling"], fund_fen=10000 * YUAN)
    world.partner("丁 外区", categories=["medical"], regions=[elsewhere], fund_fen=10000 * YUAN)
    world.partner("戊 小基金", categories=["medical"], fund_fen=300 * YUAN)
    rid = first_request(world, need("medical", "normal", 700 * YUAN))
    worker()
    (decision,) = routed(world, rid)
    reasons = {e["partner"]: e["reason"] for e in decision["excluded"]}
    assert reasons == {
        "乙 已停用": "inactive",
        "丙 教育": "category not served",
        "丁 外区": "region not served",
        "戊 小基金": "available ¥300.00 < needed ¥700.00",
    }
    assert [c["partner"] for c in decision["chosen"]] == ["甲 慈善"]
    offer = world.request(rid)["offers"][0]
    assert offer["rank"] == 1
    assert "能承担全部 ¥700" in offer["reasons"]  # the caller's language: Chinese by default
    assert {"code": "routing.whole", "params": {"amount_fen": 700 * YUAN}, "message": "能承担全部 ¥700"} in (
        offer["reason_texts"]
    )


def test_auto_grant_fund_first_for_an_emergency_under_its_limit(world, worker):
    """An auto-grant fund outranks a richer, faster partner for an emergency within its limit."""
    world.partner("红十字会", kind="red_cross", categories=["emergency"], respond_within_hours=2, fund_fen=90000 * YUAN)
    mutual_aid_fund(world, respond_within_hours=24)
    rid = first_request(world, need("emergency", "critical", 700 * YUAN))
    worker()
    detail = world.request(rid)
    assert detail["status"] == "completed"
    (offer,) = detail["offers"]
    assert offer["partner"]["name"] == "社区互助基金"
    assert any(r["code"] == "routing.auto_grant" for r in offer["reason_texts"])


def test_auto_grant_over_its_limit_is_passed_over(world, worker):
    """Over the auto-grant limit, the fund is left out with the limit as the reason."""
    world.partner("红十字会", kind="red_cross", categories=["emergency"], fund_fen=90000 * YUAN)
    mutual_aid_fund(world)
    rid = first_request(world, need("emergency", "critical", 1500 * YUAN))
    worker()
    (decision,) = routed(world, rid)
    assert [c["partner"] for c in decision["chosen"]] == ["红十字会"]
    assert {e["partner"]: e["reason"] for e in decision["excluded"]} == {
        "社区互助基金": "auto-grant limit ¥1,000.00 < needed ¥1,500.00"
    }


@pytest.mark.parametrize(("urgency", "winner"), [("high", "快"), ("critical", "快"), ("normal", "富")])
def test_fastest_channel_for_urgent_needs_else_balance(world, worker, urgency, winner):
    """Critical and high needs go to the fastest responder; normal ones to the larger balance."""
    world.partner("富", categories=["living"], respond_within_hours=72, fund_fen=50000 * YUAN)
    world.partner("快", categories=["living"], respond_within_hours=4, fund_fen=10000 * YUAN)
    rid = first_request(world, need("living", urgency, 1000 * YUAN))
    worker()
    assert [o["partner"]["name"] for o in world.request(rid)["offers"]] == [winner]


def test_lower_load_then_acceptance_rate_then_id(world, worker):
    """With money out of the picture, open offers decide; then how often a partner accepts; then id."""
    a = world.partner("甲 社工", kind="social_org", categories=["counselling"])
    world.partner("乙 社工", kind="social_org", categories=["counselling"])
    first = first_request(world, need("counselling"))
    worker()
    assert [o["partner"]["name"] for o in world.request(first)["offers"]] == ["甲 社工"]  # tie → lower id
    second = first_request(world, need("counselling"))
    worker()
    assert [o["partner"]["name"] for o in world.request(second)["offers"]] == ["乙 社工"]  # 甲 has an open offer
    # 甲 declines its offer; 乙 takes on and finishes both; then 甲 (0 of 1) ranks below 乙 (2 of 2).
    (offer_a,) = world.offers_of("甲 社工")
    assert world.partner_clients["甲 社工"].post(f"/api/v1/offers/{offer_a['id']}/reject", json={"reason": "满员"})
    worker()
    for offer in world.offers_of("乙 社工"):
        client = world.partner_clients["乙 社工"]
        assert client.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
        assert client.post(f"/api/v1/offers/{offer['id']}/complete", json={}).status_code == 200
    third = first_request(world, need("counselling"))
    worker()
    offers = world.request(third)["offers"]
    assert [o["partner"]["name"] for o in offers] == ["乙 社工"]
    assert {"code": "routing.accepts", "params": {"accepted": 2, "answered": 2}} in [
        {k: r[k] for k in ("code", "params")} for r in offers[0]["reason_texts"]
    ]
    assert a["id"] < offers[0]["partner"]["id"]


def test_split_when_no_single_partner_can_carry_it(world, worker):
    """No partner can carry ¥30,000: shares go in rank order, capped by maximum and balance."""
    world.partner("慈善总会", categories=["medical"], max_amount_fen=20000 * YUAN, fund_fen=100000 * YUAN)
    world.partner("红十字会", kind="red_cross", categories=["medical"], fund_fen=6000 * YUAN)
    world.partner("爱心企业", kind="company", categories=["medical"], fund_fen=5000 * YUAN)
    rid = first_request(world, need("medical", "normal", 30000 * YUAN))
    worker()
    offers = world.request(rid)["offers"]
    assert [(o["partner"]["name"], o["amount_fen"], o["rank"]) for o in offers] == [
        ("慈善总会", 20000 * YUAN, 1),
        ("红十字会", 6000 * YUAN, 2),
        ("爱心企业", 4000 * YUAN, 3),
    ]
    assert all(o["reason_texts"][-1]["code"] == "routing.share" for o in offers)


def test_a_partner_is_never_offered_more_than_it_can_still_promise(world, worker):
    """Money already on unanswered offers counts against a partner's available fund."""
    world.partner("慈善总会", categories=["living"], fund_fen=1000 * YUAN)
    first = first_request(world, need("living", "normal", 800 * YUAN))
    second = first_request(world, need("living", "normal", 800 * YUAN))
    worker()
    assert world.request(first)["offers"][0]["amount_fen"] == 800 * YUAN
    second_detail = world.request(second)
    assert second_detail["offers"][0]["amount_fen"] == 200 * YUAN
    assert "可用 ¥200" in second_detail["offers"][0]["reasons"]


def test_no_candidate_leaves_the_request_unmatched_and_tells_the_caseworkers(world, worker, make_user):
    """No partner → active and `unmatched`, the reasons stored as codes, a notification to
    the grid's caseworkers, audited."""
    colleague = make_user("caseworker", grids=(world.grid,))
    world.partner("教育基金", categories=["schooling"], fund_fen=1000 * YUAN)
    rid = first_request(world, need("in_kind", "high"))
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")
    assert detail["routing_reasons"]["code"] == "none_could_take"
    assert [(x["partner"], x["code"], x["params"]) for x in detail["routing_reasons"]["excluded"]] == [
        ("教育基金", "category_not_served", {"category": "in_kind"})
    ]
    events = [e["event"] for e in detail["timeline"]]
    assert events[-2:] == ["request.routed", "request.unmatched"]
    notes = db.session().execute(select(Notification)).scalars().all()
    assert len(notes) == 2  # the creator and the colleague on the same grid
    assert {(n.code, n.params["request_id"]) for n in notes} == {("request_failed", rid)}
    assert colleague


def test_reject_routes_only_the_remainder_to_the_next_partner(world, worker):
    """After a rejection, the rejected share (not the whole amount) goes to the next partner."""
    world.partner("甲", categories=["medical"], max_amount_fen=2000 * YUAN, fund_fen=10000 * YUAN)
    world.partner("乙", categories=["medical"], max_amount_fen=2000 * YUAN, fund_fen=9000 * YUAN)
    world.partner("丙", categories=["medical"], max_amount_fen=2000 * YUAN, fund_fen=8000 * YUAN)
    rid = first_request(world, need("medical", "normal", 3000 * YUAN))
    worker()
    (offer_b,) = world.offers_of("乙")
    assert offer_b["amount_fen"] == 1000 * YUAN
    resp = world.partner_clients["乙"].post(f"/api/v1/offers/{offer_b['id']}/reject", json={"reason": "本月额度已满"})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "rejected"
    worker()
    decisions = routed(world, rid)
    assert decisions[1]["gap_fen"] == 1000 * YUAN
    assert [(c["partner"], c["amount_fen"]) for c in decisions[1]["chosen"]] == [("丙", 1000 * YUAN)]
    assert {e["partner"]: e["reason"] for e in decisions[1]["excluded"]} == {
        "甲": "already asked",
        "乙": "already asked",
    }


def test_short_request_is_unmatched_for_the_rest_and_warns(world, worker):
    """Partly covered with nobody left to ask: active, unmatched for the rest (code
    ``short``, the gap), caseworker told what is missing."""
    world.partner("甲", categories=["living"], max_amount_fen=500 * YUAN, fund_fen=10000 * YUAN)
    rid = first_request(world, need("living", "normal", 800 * YUAN))
    worker()
    (offer,) = world.offers_of("甲")
    assert offer["amount_fen"] == 500 * YUAN
    world.partner_clients["甲"].post(f"/api/v1/offers/{offer['id']}/accept", json={})
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")
    assert (detail["routing_reasons"]["code"], detail["routing_reasons"]["gap_fen"]) == ("short", 300 * YUAN)
    assert routed(world, rid)[-1]["outcome"] == "short"
    notes = db.session().execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert [n.code for n in notes] == ["offer_accepted_amount", "request_short"]  # 甲's answer, then the gap
    note = notes[-1]
    assert note.params["uncovered_fen"] == 300 * YUAN


def test_planning_is_deterministic_and_changes_nothing(world):
    """The same data always gives the same plan, and planning alone writes nothing."""
    for i in range(4):
        world.partner(unique(f"伙伴{i}-"), categories=["medical"], max_amount_fen=1000 * YUAN, fund_fen=5000 * YUAN)
    rid = first_request(world, need("medical", "high", 2500 * YUAN))
    session = db.session()
    req = session.get(AidRequest, rid)
    plans = []
    for _ in range(2):
        picks, decision, _ = routing.plan(session, req)
        plans.append(([(c.partner.id, amount) for c, amount, _ in picks], decision.excluded))
    assert plans[0] == plans[1]
    assert [amount for _, amount in plans[0][0]] == [1000 * YUAN, 1000 * YUAN, 500 * YUAN]
    assert req.offers == []
    session.rollback()
