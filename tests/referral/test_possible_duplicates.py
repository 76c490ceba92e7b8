"""An identical need for the same household within the window (same category, amount
and description) is not recorded and routed a second time without the caseworker's
say: the API answers 409 ``possible_duplicate`` naming the earlier request, and
``confirm_duplicate: true`` records it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker.platform import db, runtime
from models import AidRequest, OutboxMessage
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def _requests(household_id: int) -> int:
    db.session.remove()
    stmt = select(func.count()).select_from(AidRequest).where(AidRequest.household_id == household_id)
    return db.session().execute(stmt).scalar_one()


def _routings() -> int:
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "route_request")
    return db.session().execute(stmt).scalar_one()


def _post(world, household_id: int, *needs: dict, **extra) -> object:
    return world.caseworker.post(
        f"/api/v1/households/{household_id}/assessments", json={"summary": "复访", "needs": list(needs), **extra}
    )


def test_the_same_need_again_is_a_409_naming_the_earlier_request(world):
    """Sent again, the need is refused with the earlier request in the details; nothing
    is recorded or routed; with ``confirm_duplicate`` it is."""
    hh = world.household()
    rent = need("living", "high", 1000 * YUAN, "三个月房租")
    first = world.assess(hh, rent)["needs"][0]["request_id"]
    routed = _routings()
    err = assert_error_shape(_post(world, hh, need("counselling"), rent), 409, "possible_duplicate")
    (dup,) = err["details"]["duplicates"]
    assert (dup["need"], dup["request_id"], dup["category"]) == (1, first, "living")
    assert str(first) in err["message"]
    assert err["details"]["confirm_with"] == {"confirm_duplicate": True}
    assert (_requests(hh), _routings()) == (1, routed)
    confirmed = _post(world, hh, rent, confirm_duplicate=True)
    assert confirmed.status_code == 201, confirmed.get_json()
    assert _requests(hh) == 2


def test_a_different_need_or_another_family_is_not_a_duplicate(world):
    """Another amount, another description, another category or another household goes
    through at once."""
    hh, other = world.household(), world.household()
    world.assess(hh, need("living", "high", 1000 * YUAN, "三个月房租"))
    for body in (
        need("living", "high", 1200 * YUAN, "三个月房租"),
        need("living", "high", 1000 * YUAN, "取暖费"),
        need("emergency", "high", 1000 * YUAN, "三个月房租"),
    ):
        assert _post(world, hh, body).status_code == 201
    assert _post(world, other, need("living", "high", 1000 * YUAN, "三个月房租")).status_code == 201
    assert _requests(hh) == 4


def test_outside_the_window_the_same_need_goes_through(world, monkeypatch):
    """The window is a setting (``DUPLICATE_NEED_WINDOW_HOURS``); a need older than it is
    not held against a new one."""
    hh = world.household()
    world.assess(hh, need("counselling", description="情绪疏导"))
    assert _post(world, hh, need("counselling", description="情绪疏导")).status_code == 409
    monkeypatch.setitem(runtime.settings(), "DUPLICATE_NEED_WINDOW_HOURS", 0)
    assert _post(world, hh, need("counselling", description="情绪疏导")).status_code == 201


def test_the_document_offers_the_confirmation(client):
    """OpenAPI: ``confirm_duplicate`` on the assessment body and the 409 on the operation."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "confirm_duplicate" in spec["components"]["schemas"]["AssessmentIn"]["properties"]
    assert "409" in spec["paths"]["/api/v1/households/{household_id}/assessments"]["post"]["responses"]
