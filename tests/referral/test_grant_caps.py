"""Auto-grant caps: a mutual-aid fund grants one household at most its cap in a period
without a human decision. The second emergency grant of the year is not paid at once: it
waits for the fund's people, and routing says why; another household is paid at once; a
reversed grant no longer counts; two needs of one household routed at the same moment
cannot both pass the cap."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from broker.platform import db
from broker.referral import routing
from models import AidRequest, Disbursement, Offer
from tests.support.aid import YUAN, make_world, need

CAPPED = {"limit_fen": 1000 * YUAN, "cap_fen_per_household": 700 * YUAN, "cap_period_days": 365}


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def capped_fund(world) -> dict:
    return world.partner(
        "社区互助基金",
        kind="mutual_aid_fund",
        adapter="auto_grant",
        adapter_config=CAPPED,
        categories=["emergency"],
        fund_fen=5000 * YUAN,
    )


def emergency(world, household_id: int) -> int:
    """A ¥700 critical emergency (confirmed: the same need again is the point here)."""
    body = {"summary": "走访", "needs": [need("emergency", "critical", 700 * YUAN)], "confirm_duplicate": True}
    resp = world.caseworker.post(f"/api/v1/households/{household_id}/assessments", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["needs"][0]["request_id"]


def test_the_second_grant_in_the_period_goes_to_the_funds_people(world, worker):
    """The first ¥700 is paid at once; the household's second ¥700 within the year waits in
    the fund's inbox, its reason naming the cap; a neighbour's ¥700 is paid at once."""
    capped_fund(world)
    household, neighbour = world.household(), world.household(head="王秀英")
    first = emergency(world, household)
    worker()
    assert world.request(first)["status"] == "completed"
    second = emergency(world, household)
    worker()
    detail = world.request(second)
    assert detail["status"] == "active"
    (offer,) = detail["offers"]
    assert offer["status"] == "received"
    over = next(r for r in offer["reason_texts"] if r["code"] == "routing.over_cap")
    assert over["params"] == {"cap_fen": 700 * YUAN, "days": 365, "received_fen": 700 * YUAN}
    assert "封顶" in over["message"] or "上限" in over["message"]
    other = emergency(world, neighbour)
    worker()
    assert world.request(other)["status"] == "completed"
    paid = db.session().scalar(select(func.count()).select_from(Disbursement))
    assert paid == 2


def test_a_cap_needs_its_period(world):
    """A cap without its period (or a period without a cap) is refused with the field named."""
    resp = world.admin.post(
        "/api/v1/partners",
        json={
            "name": "互助金",
            "kind": "mutual_aid_fund",
            "adapter": "auto_grant",
            "adapter_config": {"limit_fen": 1000 * YUAN, "cap_fen_per_household": 700 * YUAN},
            "categories": ["emergency"],
            "regions": ["*"],
        },
    )
    assert resp.status_code == 422
    assert "cap_period_days" in str(resp.get_json()["error"]["details"])


def test_two_needs_of_one_household_at_once_pass_the_cap_once(world, worker):
    """Two ¥700 emergencies of one household routed in two threads at the same moment:
    one is paid at once, the other waits for the fund's people (the cap is read under the
    fund's lock, just before paying)."""
    capped_fund(world)
    household = world.household()
    body = {"summary": "两次上报", "needs": [need("emergency", "critical", 700 * YUAN)] * 2, "confirm_duplicate": True}
    resp = world.caseworker.post(f"/api/v1/households/{household}/assessments", json=body)
    assert resp.status_code == 201, resp.get_json()
    ids = [n["request_id"] for n in resp.get_json()["needs"]]
    db.session.remove()
    barrier = threading.Barrier(2)

    def route(rid: int) -> None:
        barrier.wait()
        try:
            routing.route(db.session(), rid)
            db.commit()
        finally:
            db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(route, ids))
    worker()
    s = db.session()
    statuses = sorted(s.scalars(select(Offer.status).where(Offer.request_id.in_(ids))))
    assert statuses == ["completed", "received"]
    assert s.scalar(select(func.sum(Disbursement.amount_fen)).where(Disbursement.household_id == household)) == (
        700 * YUAN
    )
    assert sorted(s.scalars(select(AidRequest.status).where(AidRequest.id.in_(ids)))) == ["active", "completed"]
