"""A partner's answer to an offer — accepted, declined, or no answer by the deadline —
is told to the request's caseworkers (the grid's and whoever recorded the need), once
per offer and answer, as a code with parameters rendered in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from broker.people import notice_texts
from broker.platform import db
from broker.referral import offers
from models import Notification, User
from models.base import utcnow
from tests.support.aid import YUAN, make_world, need


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def notes(code: str) -> list[Notification]:
    db.session.remove()
    stmt = select(Notification).where(Notification.code == code).order_by(Notification.user_id)
    return list(db.session().execute(stmt).scalars())


def test_accepted_declined_and_expired_offers_are_told_to_the_requests_caseworkers(world, worker, make_user):
    colleague = make_user("caseworker", grids=(world.grid,))
    world.partner("阳光慈善", categories=["medical", "living", "schooling"], fund_fen=10_000 * YUAN)
    household = world.household()
    assessed = world.assess(
        household,
        need("medical", "high", 500 * YUAN),
        need("living", "normal", 300 * YUAN),
        need("schooling", "normal", 200 * YUAN),
    )
    medical, living, schooling = (n["request_id"] for n in assessed["needs"])
    worker()
    by_request = {o["request_id"]: o["id"] for o in world.offers_of("阳光慈善")}
    partner = world.partner_clients["阳光慈善"]

    assert (
        partner.post(f"/api/v1/offers/{by_request[medical]}/accept", json={"amount_fen": 450 * YUAN}).status_code == 200
    )
    assert partner.post(f"/api/v1/offers/{by_request[living]}/reject", json={"reason": "预算已用完"}).status_code == 200
    assert offers.expire(db.session(), by_request[schooling], now=utcnow() + timedelta(days=30)) == "expired"
    db.commit()
    worker()

    caseworkers = sorted(
        db.session().execute(select(User.id).where(User.role == "caseworker")).scalars()
    )  # the creator and the colleague
    assert len(caseworkers) == 2
    assert colleague
    accepted, declined, expired = notes("offer_accepted_amount"), notes("offer_rejected"), notes("offer_expired")
    for found, request_id in ((accepted, medical), (declined, living), (expired, schooling)):
        assert [n.user_id for n in found] == caseworkers
        assert {n.params["request_id"] for n in found} == {request_id}
        assert {n.params["household_id"] for n in found} == {household}
        assert {n.params["partner"] for n in found} == {"阳光慈善"}
    assert accepted[0].params["accepted_fen"] == 450 * YUAN
    assert notice_texts.render(accepted[0].code, accepted[0].params) == f"阳光慈善 已承接需求 #{medical} 中的 ¥450。"
    assert notice_texts.render(expired[0].code, expired[0].params, "en") == (
        f"阳光慈善 did not answer request #{schooling} in time; it goes on to other partners."
    )

    # Expiring again (the reconciler's second pass) tells nobody twice.
    assert offers.expire(db.session(), by_request[schooling], now=utcnow() + timedelta(days=31)) == "answered"
    db.commit()
    assert len(notes("offer_expired")) == 2


def test_a_missing_parameter_shows_as_a_dash_and_an_unknown_code_as_itself():
    """Rows kept from before a text changed still render."""
    assert notice_texts.render("request_short", {"request_id": 7}, "en").startswith(
        "Request #7 is still short of — and"
    )
    assert notice_texts.render("no_such_code", {}, "zh_CN") == "no_such_code"
    assert notice_texts.yuan(111000) == "¥1,110"
    assert notice_texts.yuan(111050) == "¥1,110.50"
