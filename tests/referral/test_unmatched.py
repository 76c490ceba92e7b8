"""A request no partner can take is never a dead end: it stays ``active`` with routing
state ``unmatched``, at the top of its caseworker's list with the reasons, and they
retry it, refer it by hand to a named organisation (an offer through the ``manual``
adapter), hold it or withdraw it — or let the reconciler retry it when a partner or a
fund that could take it appears."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from broker.referral import reconcile
from models import AuditEvent, Partner
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, deposit, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def unmatched_employment(world, worker) -> int:
    rid = world.assess(world.household(), need("employment", "high", description="父亲失业"))["needs"][0]["request_id"]
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"]) == ("active", "unmatched")
    return rid


def sweep() -> reconcile.SweepResult:
    result = reconcile.sweep(db.session())
    db.commit()
    return result


def test_unmatched_requests_come_first_with_their_reasons(world, worker):
    """The employment need nobody serves is listed first (before a newer request) and by
    `routing_state=unmatched`, with the reasons as codes and parameters."""
    world.partner("社区互助基金", categories=["living"], fund_fen=5000 * YUAN)
    body = world.assess(world.household(), need("employment", "high"), need("living", "normal", 800 * YUAN))
    jobless, living = (n["request_id"] for n in body["needs"])
    worker()
    listing = world.caseworker.get("/api/v1/requests").get_json()["items"]
    assert [r["id"] for r in listing] == [jobless, living]
    assert [r["routing_state"] for r in listing] == ["unmatched", "offered"]
    only = world.caseworker.get("/api/v1/requests?routing_state=unmatched").get_json()
    assert (only["total"], only["items"][0]["id"]) == (1, jobless)
    reasons = only["items"][0]["routing_reasons"]
    assert reasons["code"] == "job_matching"  # nobody serves it: it goes to the openings and courses
    assert reasons["excluded"] == [
        {
            "partner_id": world.partners["社区互助基金"]["id"],
            "partner": "社区互助基金",
            "code": "category_not_served",
            "params": {"category": "employment"},
        }
    ]
    err = assert_error_shape(world.caseworker.get("/api/v1/requests?routing_state=lost"), 422)
    assert "routing_state" in err["details"]


def test_retry_reopens_for_routing_without_a_new_assessment(world, worker):
    """Retry with nobody new: still unmatched. A partner for employment appears: retry
    offers it there — the same request, reopened (audited with who did it)."""
    rid = unmatched_employment(world, worker)
    retried = world.caseworker.post(f"/api/v1/requests/{rid}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert (retried.get_json()["status"], retried.get_json()["routing_state"]) == ("active", "routing")
    worker()
    assert world.request(rid)["routing_state"] == "unmatched"
    world.partner("就业服务站", kind="social_org", categories=["employment"])
    assert world.caseworker.post(f"/api/v1/requests/{rid}/retry").status_code == 200
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"], detail["need_id"]) == (
        "active",
        "offered",
        world.request(rid)["need_id"],
    )
    assert [(o["partner"]["name"], o["status"]) for o in detail["offers"]] == [("就业服务站", "received")]
    reopened = [e for e in detail["timeline"] if e["event"] == "request.reopened"]
    assert len(reopened) == 2
    assert reopened[0]["actor"].startswith("caseworker-")
    err = assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/retry"), 409, "not_unmatched")
    assert err["details"]["routing_state"] == "offered"


def test_reconciler_retries_only_when_the_caseworker_chose_it_and_someone_can_take_it(world, worker):
    """`auto_retry` set: a sweep with nobody new changes nothing (no audit event); once a
    fund is topped up, the sweep reopens it and routing offers it. Without the flag, the
    other request stays unmatched."""
    partner = world.partner("助学基金会", categories=["schooling"], fund_fen=0)
    hh = world.household()
    flagged, plain = (
        n["request_id"]
        for n in world.assess(hh, need("schooling", "normal", 600 * YUAN), need("schooling", "normal", 500 * YUAN))[
            "needs"
        ]
    )
    worker()
    for rid in (flagged, plain):
        detail = world.request(rid)
        assert detail["routing_state"] == "unmatched"
        assert [x["code"] for x in detail["routing_reasons"]["excluded"]] == ["short_of_funds"]
    patched = world.caseworker.patch(f"/api/v1/requests/{flagged}", json={"auto_retry": True})
    assert patched.status_code == 200
    assert patched.get_json()["auto_retry"] is True
    assert_error_shape(world.caseworker.patch(f"/api/v1/requests/{flagged}", json={}), 422)
    before = db.session().execute(select(AuditEvent.id)).scalars().all()
    assert sweep().retried == 0
    assert db.session().execute(select(AuditEvent.id)).scalars().all() == before
    deposit(partner["id"], 1000 * YUAN)
    assert sweep().retried == 1
    worker()
    assert world.request(flagged)["routing_state"] == "offered"
    assert [o["amount_fen"] for o in world.request(flagged)["offers"]] == [600 * YUAN]
    assert world.request(plain)["routing_state"] == "unmatched"
    reopened = [e for e in world.request(flagged)["timeline"] if e["event"] == "request.reopened"]
    assert reopened[0]["details"]["by"] == "reconciler: retry automatically"


def test_refer_by_hand_to_a_named_organisation_and_record_the_outcome(world, as_role, worker):
    """A referral is an offer to a light `manual` partner made for the organisation; the
    caseworker records its answers, and the request completes like any other. Routing
    never picks such a partner by itself."""
    rid = unmatched_employment(world, worker)
    resp = world.caseworker.post(
        f"/api/v1/requests/{rid}/refer",
        json={"organisation": "海淀区就业服务中心", "contact": "010-6250 0000", "note": "已电话联系王老师"},
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    (offer,) = body["offers"]
    assert (offer["partner"]["name"], offer["status"], body["routing_state"]) == (
        "海淀区就业服务中心",
        "received",
        "offered",
    )
    org = db.session().execute(select(Partner).where(Partner.name == "海淀区就业服务中心")).scalar_one()
    assert (org.adapter, org.contact, org.categories) == ("manual", "010-6250 0000", ["employment"])
    org_id = org.id
    err = assert_error_shape(
        world.caseworker.post(f"/api/v1/requests/{rid}/refer", json={"partner_id": org_id}), 409, "already_referred"
    )
    assert err["details"]["partner_id"] == org_id
    taken = world.caseworker.post(f"/api/v1/referrals/{offer['id']}/outcome", json={"outcome": "accepted"})
    assert taken.status_code == 200, taken.get_json()
    assert world.request(rid)["routing_state"] == "covered"
    done = world.caseworker.post(
        f"/api/v1/referrals/{offer['id']}/outcome", json={"outcome": "completed", "note": "已推荐到岗"}
    )
    assert done.status_code == 200, done.get_json()
    detail = world.request(rid)
    assert detail["status"] == "completed"
    assert detail["offers"][0]["status"] == "completed"
    # Another family's employment need: the organisation on file is not routed to by itself.
    second = unmatched_employment(world, worker)
    codes = {x["partner"]: x["code"] for x in world.request(second)["routing_reasons"]["excluded"]}
    assert codes["海淀区就业服务中心"] == "manual_referral"
    again = world.caseworker.post(f"/api/v1/requests/{second}/refer", json={"partner_id": org_id})
    assert again.status_code == 201
    declined = again.get_json()["offers"][0]
    no = world.caseworker.post(f"/api/v1/referrals/{declined['id']}/outcome", json={"outcome": "declined"})
    assert no.status_code == 200
    worker()
    assert world.request(second)["routing_state"] == "unmatched"
    # A partner taking offers through the broker is routed to, not referred to by hand.
    world.partner("社工站", kind="social_org", categories=["counselling"])
    err = assert_error_shape(
        world.caseworker.post(f"/api/v1/requests/{second}/refer", json={"organisation": "社工站"}), 409, "not_manual"
    )
    # Only caseworkers of the grid (and admins) refer; a routed offer is not a referral.
    assert (
        as_role("auditor").post(f"/api/v1/requests/{second}/refer", json={"organisation": "某机构"}).status_code == 403
    )
    assert_error_shape(world.caseworker.post("/api/v1/referrals/999999/outcome", json={"outcome": "accepted"}), 404)


def test_hold_and_withdraw_an_unmatched_request(world, worker):
    """Held, it stays unmatched and comes back unmatched on resume; withdrawn, it is
    `revoked` with the reason code, and off the open list."""
    rid = unmatched_employment(world, worker)
    held = world.caseworker.post(f"/api/v1/requests/{rid}/hold", json={"reason": "家属外出务工"})
    assert (held.get_json()["status"], held.get_json()["routing_state"]) == ("on-hold", "unmatched")
    assert world.caseworker.get("/api/v1/requests?routing_state=unmatched&status=active").get_json()["total"] == 0
    resumed = world.caseworker.post(f"/api/v1/requests/{rid}/resume").get_json()
    assert (resumed["status"], resumed["routing_state"]) == ("active", "unmatched")
    revoked = world.caseworker.post(f"/api/v1/requests/{rid}/cancel", json={"reason_code": "need_met_elsewhere"})
    assert revoked.status_code == 200
    assert (revoked.get_json()["status"], revoked.get_json()["status_reason"]) == ("revoked", "need_met_elsewhere")
    assert_error_shape(world.caseworker.post(f"/api/v1/requests/{rid}/retry"), 409, "not_unmatched")


def test_a_request_recorded_by_mistake_is_entered_in_error_unless_money_was_paid(world, worker):
    """`entered-in-error` withdraws the live offers and ends the request; once the family
    was paid, it is refused (409 already_disbursed)."""
    world.partner("甲", categories=["living"], fund_fen=5000 * YUAN)
    hh = world.household()
    mistaken, paid = (
        n["request_id"]
        for n in world.assess(hh, need("living", "normal", 300 * YUAN), need("living", "normal", 200 * YUAN))["needs"]
    )
    worker()
    marked = world.caseworker.post(f"/api/v1/requests/{mistaken}/entered-in-error", json={"note": "录重了"})
    assert marked.status_code == 200, marked.get_json()
    detail = world.request(mistaken)
    assert detail["status"] == "entered-in-error"
    assert [o["status"] for o in detail["offers"]] == ["cancelled"]
    (offer,) = [o for o in world.offers_of("甲") if o["request_id"] == paid]
    client = world.partner_clients["甲"]
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", json={}).status_code == 200
    pay = client.post(f"/api/v1/offers/{offer['id']}/disbursements", json={"amount_fen": 100 * YUAN, "kind": "cash"})
    assert pay.status_code == 201
    assert_error_shape(
        world.caseworker.post(f"/api/v1/requests/{paid}/entered-in-error", json={}), 409, "already_disbursed"
    )
