"""Policy before charity: a medical need of a household that qualifies for medical
assistance (医疗救助) and has not had its application decided is offered to charities
only for what the policy will not cover; the rest is held until the application is
decided (approved: covered; rejected or withdrawn: released and routed at once), or
until the caseworker's recorded override routes it in full. A decision and an override
arriving together route the money exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from broker import audit
from broker.platform import db
from broker.platform.errors import Conflict
from broker.platform.scope import Principal
from broker.referral import policy_holds
from models import AuditEvent, PolicyHold, User
from tests.support.aid import YUAN, make_world, need

API = "/api/v1"
NEED = 30000 * YUAN
HALF = 15000 * YUAN
SICK_CHILD = {"name": "王小军", "relation": "child", "birth_date": "2014-03-02", "conditions": ["leukaemia"]}


@pytest.fixture
def world(as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    world.partner("市慈善总会", categories=["medical"], fund_fen=100000 * YUAN)
    world.partner("红十字会", kind="red_cross", categories=["medical"], respond_within_hours=72, fund_fen=100000 * YUAN)
    return world


def family(world, *, qualifies: bool = True) -> int:
    """The household: with a sick child, its income per head (¥1,800 a month over two) is
    under the low-income line; the sick person alone, at ¥1,800, is over it."""
    if qualifies:
        return world.household(
            head="李秀英", members=[{"name": "李秀英", "relation": "head", "birth_date": "1984-10-12"}, SICK_CHILD]
        )
    return world.household(head="王小军", members=[{**SICK_CHILD, "relation": "head", "birth_date": "1980-03-02"}])


def medical_request(world, household: int, urgency: str = "high") -> int:
    return world.assess(household, need("medical", urgency, NEED, "白血病化疗自付缺口"))["needs"][0]["request_id"]


def file_application(world, household: int) -> dict:
    resp = world.caseworker.post(f"{API}/households/{household}/applications", json={"policy": "medical_aid"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def submit(world, app: dict) -> None:
    codes = {d["code"]: True for d in app["documents"]}
    assert (
        world.caseworker.post(f"{API}/applications/{app['id']}/documents", json={"documents": codes}).status_code == 200
    )
    assert step(world, app["id"], "submitted").status_code == 200


def step(world, app_id: int, status: str, **extra: Any):
    return world.caseworker.post(f"{API}/applications/{app_id}/steps", json={"status": status, **extra})


def offered(detail: dict) -> list[tuple[str, int]]:
    return [(o["partner"]["name"], o["amount_fen"]) for o in detail["offers"] if o["status"] != "cancelled"]


def pay_in_full(world, name: str) -> None:
    (offer,) = [o for o in world.offers_of(name) if o["status"] in ("requested", "received")]
    client = world.partner_clients[name]
    assert client.post(f"{API}/offers/{offer['id']}/accept", json={}).status_code == 200
    paid = client.post(
        f"{API}/offers/{offer['id']}/disbursements", json={"amount_fen": offer["amount_fen"], "kind": "cash"}
    )
    assert paid.status_code == 201, paid.get_json()


def test_a_qualifying_household_that_has_not_applied_is_offered_only_the_uncovered_part(world, worker):
    """Half of the ¥30,000 gap (medical_aid's expected share) is held, charities are offered
    the other half, and the routing reasons, the offer and the timeline say why, in Chinese and English."""
    rid = medical_request(world, family(world))
    worker()
    detail = world.request(rid)
    assert offered(detail) == [("市慈善总会", HALF)]
    assert detail["policy_held_fen"] == HALF
    assert detail["policy_covered_fen"] == 0
    (hold,) = detail["policy_holds"]
    assert (hold["policy"]["code"], hold["status"], hold["amount_fen"], hold["application"]) == (
        "medical_aid",
        "held",
        HALF,
        None,
    )
    assert hold["note"]["message"] == "为医疗救助保留 ¥15,000：等待家庭提出申请"
    (offer,) = detail["offers"]
    assert any(r["code"] == "routing.policy_held" for r in offer["reason_texts"])
    assert any("医疗救助" in r for r in offer["reasons"])
    (routed,) = [e for e in detail["timeline"] if e["event"] == "request.routed"]
    assert routed["details"]["held"][0]["params"]["held_fen"] == HALF
    assert "policy_hold.held" in [e["event"] for e in detail["timeline"]]
    english = world.caseworker.get(f"{API}/requests/{rid}", headers={"Accept-Language": "en"}).get_json()
    assert english["policy_holds"][0]["note"]["message"] == (
        "¥15,000 held for Medical assistance: waiting for the household to apply"
    )
    worker()  # routing again changes nothing: the hold is made once
    assert db.session().execute(select(PolicyHold)).scalars().all()[0].amount_fen == HALF
    assert len(world.request(rid)["offers"]) == 1


def test_a_household_that_does_not_qualify_is_routed_in_full(world, worker):
    """Over the low-income line, medical assistance does not apply: the whole gap goes to charities."""
    rid = medical_request(world, family(world, qualifies=False))
    worker()
    detail = world.request(rid)
    assert offered(detail) == [("市慈善总会", NEED)]
    assert detail["policy_holds"] == []
    assert detail["policy_held_fen"] == 0
    assert "held" not in next(e for e in detail["timeline"] if e["event"] == "request.routed")["details"]


def test_approval_covers_the_held_part_and_the_request_completes(world, worker):
    """Filed before routing, the hold waits for that application; the charity pays its half;
    approval records the other half as covered by the policy and the request completes."""
    household = family(world)
    app = file_application(world, household)
    rid = medical_request(world, household)
    worker()
    (hold,) = world.request(rid)["policy_holds"]
    assert hold["application"] == {"id": app["id"], "status": "documents-gathering"}
    assert hold["note"]["code"] == "hold.held_application"
    pay_in_full(world, "市慈善总会")
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["disbursed_fen"], detail["routing_state"]) == ("active", HALF, "partly-covered")
    submit(world, app)
    assert step(world, app["id"], "approved").status_code == 200
    worker()
    detail = world.request(rid)
    assert (detail["status"], detail["routing_state"], detail["status_reason"]) == (
        "completed",
        "covered",
        "fulfilled_with_policy",
    )
    assert detail["policy_covered_fen"] == HALF
    assert detail["policy_held_fen"] == 0
    assert detail["policy_holds"][0]["status"] == "covered"
    assert "policy_hold.covered" in [e["event"] for e in detail["timeline"]]
    assert offered(detail) == [("市慈善总会", HALF)]
    assert audit.verify(db.session()).ok


def test_rejection_releases_the_held_part_to_routing_at_once(world, worker):
    """An application filed after the hold, then rejected: the hold is released, linked to
    that application, and the held half is offered to the next charity."""
    household = family(world)
    rid = medical_request(world, household)
    worker()
    app = file_application(world, household)
    assert world.request(rid)["policy_holds"][0]["application"]["id"] == app["id"]
    submit(world, app)
    assert step(world, app["id"], "rejected", note="家庭收入核对后超过低收入标准").status_code == 200
    worker()
    detail = world.request(rid)
    assert offered(detail) == [("市慈善总会", HALF), ("红十字会", HALF)]
    (hold,) = detail["policy_holds"]
    assert (hold["status"], hold["application"]["id"]) == ("released", app["id"])
    assert detail["policy_held_fen"] == 0
    worker()
    assert len(world.request(rid)["offers"]) == 2


def test_withdrawn_application_releases_the_hold(world, worker):
    """Withdrawing the application is a decision too: the held part is routed."""
    household = family(world)
    app = file_application(world, household)
    rid = medical_request(world, household)
    worker()
    assert step(world, app["id"], "withdrawn", note="家庭决定不申请").status_code == 200
    worker()
    detail = world.request(rid)
    assert detail["policy_holds"][0]["status"] == "released"
    assert sum(a for _n, a in offered(detail)) == NEED


def test_an_override_routes_the_full_amount_once(world, worker):
    """The caseworker's override (with a reason, an Idempotency-Key) releases the hold and
    routes the held half; a replay returns the same answer; a new try finds nothing held (409)."""
    household = family(world)
    rid = medical_request(world, household, urgency="critical")
    worker()
    body = {"reason": "化疗下周开始，医院要求先交押金"}
    headers = {"Idempotency-Key": "override-1"}
    first = world.caseworker.post(f"{API}/requests/{rid}/policy-override", json=body, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["policy_holds"][0]["status"] == "overridden"
    assert first.get_json()["policy_holds"][0]["reason"] == body["reason"]
    again = world.caseworker.post(f"{API}/requests/{rid}/policy-override", json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers.get("Idempotency-Replayed") == "true"
    worker()
    detail = world.request(rid)
    assert offered(detail) == [("市慈善总会", HALF), ("红十字会", HALF)]
    assert detail["policy_holds"][0]["note"]["code"] == "hold.overridden"
    (event,) = [e for e in detail["timeline"] if e["event"] == "policy_hold.overridden"]
    assert event["details"]["reason"] == body["reason"]
    assert event["actor"] != "system"
    nothing = world.caseworker.post(
        f"{API}/requests/{rid}/policy-override", json=body, headers={"Idempotency-Key": "override-2"}
    )
    assert nothing.status_code == 409
    assert nothing.get_json()["error"]["code"] == "nothing_held"
    app = file_application(world, household)
    submit(world, app)
    assert step(world, app["id"], "approved").status_code == 200
    worker()  # a decision after an override changes nothing: the money is routed already
    detail = world.request(rid)
    assert detail["policy_holds"][0]["status"] == "overridden"
    assert sum(a for _n, a in offered(detail)) == NEED
    assert audit.verify(db.session()).ok


def test_override_is_refused_where_it_should_be(world, worker, as_role, make_user, login):
    """No reason: 422; a partner or an auditor: 403; a caseworker of another grid: 404;
    a request with nothing held: 409."""
    rid = medical_request(world, family(world))
    worker()
    url = f"{API}/requests/{rid}/policy-override"
    assert world.caseworker.post(url, json={"reason": " "}).status_code == 422
    assert world.caseworker.post(url, json={}).status_code == 422
    assert world.caseworker.post(url, json={"reason": "x" * 501}).status_code == 422
    assert world.partner_clients["市慈善总会"].post(url, json={"reason": "急"}).status_code == 403
    assert as_role("auditor").post(url, json={"reason": "急"}).status_code == 403
    other = make_world(as_role, make_user, login)
    assert other.caseworker.post(url, json={"reason": "急"}).status_code == 404
    full = medical_request(world, family(world, qualifies=False))
    worker()
    refused = world.caseworker.post(f"{API}/requests/{full}/policy-override", json={"reason": "急"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "nothing_held"
    assert world.request(rid)["policy_holds"][0]["status"] == "held"
    assert as_role("admin").post(url, json={"reason": "医院催缴"}).status_code == 200


def _race(*fns: Any) -> list[Any]:
    barrier = threading.Barrier(len(fns))

    def run(fn: Any) -> Any:
        barrier.wait()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the caller
            return exc
        finally:
            db.session.remove()

    with ThreadPoolExecutor(max_workers=len(fns)) as pool:
        return list(pool.map(run, fns))


def test_a_decision_and_an_override_together_route_the_money_exactly_once(world, worker):
    """The rejection's job and the caseworker's override race for the same hold: one moves
    it, the other finds it moved (nothing to do, or 409); the held half is offered once."""
    for _round in range(3):
        household = family(world)
        app = file_application(world, household)
        rid = medical_request(world, household)
        worker()
        submit(world, app)
        assert step(world, app["id"], "rejected", note="不符合条件").status_code == 200
        db.session.remove()
        admin = db.session().execute(select(User).where(User.role == "admin")).scalars().first()
        principal = Principal(user_id=admin.id, username=admin.username, role="admin")
        db.session.remove()

        def decide(app_id: int = app["id"]) -> int:
            moved = policy_holds.decided(db.session(), app_id)
            db.commit()
            return moved

        def override(principal: Principal = principal, rid: int = rid) -> str:
            policy_holds.override(db.session(), principal, rid, "等不及审批")
            db.commit()
            return "overridden"

        moved, overridden = _race(decide, override)
        assert (moved, overridden) == (0, "overridden") or (moved == 1 and isinstance(overridden, Conflict)), (
            moved,
            overridden,
        )
        worker()
        detail = world.request(rid)
        assert detail["policy_holds"][0]["status"] in ("released", "overridden")
        assert sum(o["amount_fen"] for o in detail["offers"] if o["status"] != "cancelled") == NEED
        moves = (
            db.session()
            .execute(
                select(AuditEvent.action).where(
                    AuditEvent.request_id == rid,
                    AuditEvent.action.in_(["policy_hold.released", "policy_hold.overridden"]),
                )
            )
            .scalars()
            .all()
        )
        assert len(moves) == 1, moves
    assert audit.verify(db.session()).ok
