"""Needs assessments over HTTP: each need becomes a request with its routing job in the
same transaction; bad input is a 422 naming the field; scope is the caseworker's grids."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import AidRequest, Need, OutboxMessage
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def test_each_need_becomes_a_request_with_a_routing_job(world):
    """Three needs → three active requests (routing), each with one route_request outbox row."""
    hh = world.household()
    body = world.assess(
        hh,
        need("emergency", "critical", 700 * YUAN),
        need("medical", "high", 30000 * YUAN, "chemotherapy"),
        need("counselling", "normal"),
        summary="home visit after the diagnosis",
    )
    assert [n["category"] for n in body["needs"]] == ["emergency", "medical", "counselling"]
    assert all(
        n["request_id"] and (n["request_status"], n["routing_state"]) == ("active", "routing") for n in body["needs"]
    )
    s = db.session()
    reqs = s.execute(select(AidRequest).order_by(AidRequest.id)).scalars().all()
    assert [r.amount_fen for r in reqs] == [70000, 3000000, None]
    assert {r.household_id for r in reqs} == {hh}
    jobs = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "route_request")).scalars().all()
    assert sorted(j.payload["request_id"] for j in jobs) == [r.id for r in reqs]


def test_list_assessments_shows_needs_with_their_requests(world):
    """GET returns the household's assessments, newest first, each need linked to its request."""
    hh = world.household()
    first = world.assess(hh, need("living", "normal", 1500 * YUAN))
    second = world.assess(hh, need("schooling", "high", 3000 * YUAN))
    resp = world.caseworker.get(f"/api/v1/households/{hh}/assessments")
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [a["id"] for a in items] == [second["id"], first["id"]]
    assert items[0]["needs"][0]["request_id"] == second["needs"][0]["request_id"]


@pytest.mark.parametrize(
    ("needs", "field"),
    [
        ([{"category": "medical", "urgency": "high"}], "amount_fen"),
        ([{"category": "medicine", "urgency": "high", "amount_fen": 100}], "category"),
        ([{"category": "medical", "urgency": "soon", "amount_fen": 100}], "urgency"),
        ([{"category": "medical", "urgency": "high", "amount_fen": 12.5}], "amount_fen"),
        ([{"category": "medical", "urgency": "high", "amount_fen": "100"}], "amount_fen"),
        ([{"category": "medical", "urgency": "high", "amount_fen": 0}], "amount_fen"),
        ([{"category": "medical", "urgency": "high", "amount_fen": -5}], "amount_fen"),
        ([{"category": "medical", "urgency": "high", "amount_fen": 10**19}], "amount_fen"),
        ([{"category": "medical", "urgency": "high", "amount_fen": 100, "colour": "red"}], "colour"),
    ],
)
def test_bad_needs_are_422_naming_the_field(world, needs, field):
    """Each kind of bad need is refused with 422 and the offending field in details."""
    hh = world.household()
    resp = world.caseworker.post(f"/api/v1/households/{hh}/assessments", json={"needs": needs})
    err = assert_error_shape(resp, 422, "validation_error")
    assert field in err["details"]["needs"]["0"]
    assert db.session().execute(select(Need)).first() is None


def test_missing_or_empty_needs_are_422(world):
    """An assessment without needs, or with a non-list, names `needs`; a non-object body is 4xx."""
    hh = world.household()
    for body in ({"summary": "x"}, {"needs": []}, {"needs": "medical"}):
        err = assert_error_shape(world.caseworker.post(f"/api/v1/households/{hh}/assessments", json=body), 422)
        assert "needs" in err["details"]
    resp = world.caseworker.post(
        f"/api/v1/households/{hh}/assessments", data="{not json", content_type="application/json"
    )
    assert_error_shape(resp, 400, "bad_request")


def test_optional_amount_for_services(world):
    """Counselling and employment needs may go without an amount; in-kind may carry one."""
    hh = world.household()
    body = world.assess(hh, need("counselling"), need("employment"), need("in_kind", amount_fen=20000))
    amounts = [db.session().get(AidRequest, n["request_id"]).amount_fen for n in body["needs"]]
    assert amounts == [None, None, 20000]


def test_scope_other_grid_auditor_partner(world, as_role, make_user, login):
    """A caseworker of another grid gets 404; auditors read but may not assess; partners get 403."""
    hh = world.household()
    other = make_world(as_role, make_user, login)
    resp = other.caseworker.post(f"/api/v1/households/{hh}/assessments", json={"needs": [need("counselling")]})
    assert_error_shape(resp, 404, "not_found")
    assert_error_shape(other.caseworker.get(f"/api/v1/households/{hh}/assessments"), 404)
    auditor = as_role("auditor")
    assert_error_shape(auditor.post(f"/api/v1/households/{hh}/assessments", json={"needs": [need("counselling")]}), 403)
    assert auditor.get(f"/api/v1/households/{hh}/assessments").status_code == 200
    partner = world.partner("社区互助基金", categories=["emergency"])
    assert_error_shape(
        world.partner_clients["社区互助基金"].post(
            f"/api/v1/households/{hh}/assessments", json={"needs": [need("counselling")]}
        ),
        403,
    )
    assert partner["id"]
    assert_error_shape(world.caseworker.post("/api/v1/households/999999/assessments", json={"needs": []}), 422)
    assert_error_shape(
        world.caseworker.post("/api/v1/households/999999/assessments", json={"needs": [need("counselling")]}), 404
    )


def test_assessment_is_audited_per_request(world):
    """The request's timeline starts with `request.created` by the caseworker."""
    hh = world.household()
    body = world.assess(hh, need("medical", "high", 500 * YUAN))
    timeline = world.request(body["needs"][0]["request_id"])["timeline"]
    assert timeline[0]["event"] == "request.created"
    assert timeline[0]["actor"].startswith("caseworker-")
    assert timeline[0]["details"]["amount_fen"] == 500 * YUAN
