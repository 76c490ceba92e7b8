"""The API's text for people: each field the domain keeps as a text code comes with its
code, its parameters and the sentence in the caller's language — ``Accept-Language``
first, else the language the user chose, else Chinese — and the OpenAPI schema says so."""

from __future__ import annotations

from sqlalchemy import select

from broker.people import users
from broker.platform import db
from models import User
from tests.support.aid import YUAN, make_world, need

EN = {"Accept-Language": "en"}


def _routed(as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    world.partner("慈善总会", categories=["medical"], fund_fen=10_000 * YUAN)
    world.partner("教育基金", categories=["schooling"], fund_fen=1_000 * YUAN)
    hid = world.household(head="王建国")
    rid = world.assess(hid, need("medical", "high", 700 * YUAN))["needs"][0]["request_id"]
    worker()
    return world, rid


def test_request_reasons_come_as_code_params_and_message_in_the_callers_language(as_role, make_user, login, worker):
    world, rid = _routed(as_role, make_user, login, worker)
    zh = world.request(rid)
    en = world.caseworker.get(f"/api/v1/requests/{rid}", headers=EN).get_json()
    whole_zh = zh["offers"][0]["reason_texts"][-1]
    whole_en = en["offers"][0]["reason_texts"][-1]
    assert whole_zh == {"code": "routing.whole", "params": {"amount_fen": 700 * YUAN}, "message": "能承担全部 ¥700"}
    assert whole_en == {**whole_zh, "message": "can carry the whole ¥700"}
    assert en["offers"][0]["reasons"][-1] == "can carry the whole ¥700"  # the old field, as sentences
    serves = en["offers"][0]["reason_texts"][0]
    assert serves["params"]["category"] == {"code": "category.medical", "params": {}}
    assert serves["message"] == f"serves Medical aid in {world.grid}"
    created = next(e for e in zh["timeline"] if e["event"] == "request.created")
    assert created["event_name"] == {"code": "event.request.created", "params": {}, "message": "请求已创建"}
    assert created["actor_name"]["code"] is None  # a user: their name, which has no language


def test_the_users_chosen_language_is_the_default_and_the_header_wins(as_role, make_user, login, worker):
    world, rid = _routed(as_role, make_user, login, worker)
    name = make_user("caseworker", grids=(world.grid,))
    user = db.session().execute(select(User).where(User.username == name)).scalar_one()
    users.set_locale(db.session(), user.id, "en", allowed=("zh_CN", "en"))
    db.commit()
    reader = login(name)
    offer = reader.get(f"/api/v1/requests/{rid}").get_json()["offers"][0]
    assert offer["reason_texts"][-1]["message"] == "can carry the whole ¥700"
    offer = reader.get(f"/api/v1/requests/{rid}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()
    assert offer["offers"][0]["reason_texts"][-1]["message"] == "能承担全部 ¥700"


def test_partners_see_the_household_as_a_text_code(as_role, make_user, login, worker):
    world, _rid = _routed(as_role, make_user, login, worker)
    (offer,) = world.offers_of("慈善总会")
    assert offer["household_name"] == {
        "code": "household.named",
        "params": {"name": "王**", "latin": "Wang**"},
        "message": "王**家",
    }
    assert offer["household"] == "王** household"  # kept for clients that read it
    en = world.partner_clients["慈善总会"].get(f"/api/v1/offers/{offer['id']}", headers=EN).get_json()
    assert en["household_name"]["message"] == "Wang** household"


def test_unmatched_reasons_and_status_notes(as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    world.partner("教育基金", categories=["schooling"], fund_fen=1_000 * YUAN)
    hid = world.household()
    rid = world.assess(hid, need("in_kind", "high"))["needs"][0]["request_id"]
    worker()
    detail = world.caseworker.get(f"/api/v1/requests/{rid}", headers=EN).get_json()
    assert detail["routing_note"] == {
        "code": "unmatched.none_could_take",
        "params": {"gap_fen": None},
        "message": "No partner in the broker could take this need.",
    }
    assert detail["routing_excluded"] == [
        {
            "code": "exclusion.partner",
            "params": {
                "partner": "教育基金",
                "reason": {"code": "exclusion.category_not_served", "params": {"category": "in_kind"}},
            },
            "message": "教育基金: does not serve this kind of need",
        }
    ]
    revoked = world.caseworker.post(f"/api/v1/requests/{rid}/cancel", json={"reason_code": "family_moved"})
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["status_reason"] == "family_moved"
    assert revoked.get_json()["status_note"] == {"code": "status.family_moved", "params": {}, "message": "家庭已迁出"}


def test_the_openapi_schema_documents_text_codes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    text = spec["components"]["schemas"]["TextOut"]
    assert set(text["properties"]) == {"code", "params", "message"}
    offer = spec["components"]["schemas"]["OfferOut"]["properties"]
    assert "Accept-Language" in offer["household_name"]["description"]
