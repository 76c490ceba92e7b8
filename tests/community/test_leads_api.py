"""Mobile grid members and their leads over the API, end to end: a courier signs up from
a phone (a double tap is one account, hostile text is refused, the sign-up is rate
limited); reports a household with a photo; the lead lands on the grid's caseworker
list and nobody else's; the caseworker visits from the lead (linking or recording the
household, a visit by the neighbour's-report channel) or closes it with a coded reason;
the reporter sees only its own leads and whether someone went — never the household."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import AuditEvent, Lead, Notification, Reporter, User, Visit
from tests.community.volunteer_world import API, ok
from tests.conftest import PASSWORD, ApiClient, unique
from tests.support import money
from tests.support.aid import make_world
from tests.support.images import png


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def anon(client) -> ApiClient:
    return ApiClient(client)


def sign_up_body(**extra: object) -> dict:
    return {
        "name": "李快递",
        "phone": "13600001111",
        "username": unique("courier-"),
        "password": PASSWORD,
        "kind": "courier",
        "organisation": "顺风快递武昌站",
        "consent": True,
        **extra,
    }


def courier(world, anon) -> ApiClient:
    body = sign_up_body()
    ok(anon.post(f"{API}/reporters", json=body), 201)
    return world.login(body["username"])


def test_a_courier_reports_and_the_caseworker_visits_from_the_lead(world, anon, make_user, login):
    """The lead lands on its grid's caseworker (told by a notification), not on another
    grid's; the photo is kept; the visit records a new household with the
    neighbour's-report channel; the reporter sees "visited" and the date, nothing more."""
    reporter = courier(world, anon)
    other_grid = unique("HD-O-")
    grid_body = {
        "code": other_grid,
        "name": "二网格",
        "district": "武昌区",
        "street": "中华路街道",
        "community": "昙华林社区",
    }
    ok(world.admin.post(f"{API}/grids", json=grid_body), 201)
    outsider = login(make_user("caseworker", grids=(other_grid,)))
    photo = "data:image/png;base64," + base64.b64encode(png()).decode()
    body = {"address": "科源社区中关村东路12号3单元", "seen": "独居老人，几天没取快递，敲门没人应", "urgency": "urgent"}
    made = ok(reporter.post(f"{API}/leads", json={**body, "photo": photo}, headers={"Idempotency-Key": "k1"}), 201)
    again = reporter.post(f"{API}/leads", json={**body, "photo": photo}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.get_json()["id"] == made["id"]
    assert (made["status"], made["grid"], made["has_photo"]) == ("new", world.grid, True)
    assert "household_id" not in made
    assert "reporter" not in made
    listed = ok(world.caseworker.get(f"{API}/leads?status=new"))["items"]
    assert [lead["id"] for lead in listed] == [made["id"]]
    assert listed[0]["reporter"]["organisation"] == "顺风快递武昌站"
    assert ok(outsider.get(f"{API}/leads"))["total"] == 0
    assert outsider.get(f"{API}/leads/{made['id']}").status_code == 404
    seen_photo = world.caseworker.get(f"{API}/leads/{made['id']}/photo")
    assert (seen_photo.status_code, seen_photo.mimetype, seen_photo.data) == (200, "image/png", png())
    assert seen_photo.headers["Cache-Control"] == "no-store"
    assert reporter.get(f"{API}/leads/{made['id']}/photo").status_code == 403  # never back to a phone
    assert outsider.get(f"{API}/leads/{made['id']}/photo").status_code == 404
    told = db.session().execute(
        select(Notification.code).where(Notification.dedupe_key == f"lead.reported:{made['id']}")
    )
    assert list(told.scalars()) == ["lead.reported"]

    household = {
        "grid": world.grid,
        "address": body["address"],
        "head_name": "孙秀兰",
        "monthly_income_fen": 80000,
        "members": [{"name": "孙秀兰", "relation": "head", "birth_date": "1941-06-01", "sex": "F"}],
    }
    visit = {"household": household, "findings": "独居，行动不便，需陪同就医"}
    assert outsider.post(f"{API}/leads/{made['id']}/visit", json=visit).status_code == 404
    assert reporter.post(f"{API}/leads/{made['id']}/visit", json=visit).status_code == 403
    visited = ok(world.caseworker.post(f"{API}/leads/{made['id']}/visit", json=visit), 201)
    assert visited["status"] == "visited"
    assert visited["household_id"]
    row = db.session().get(Visit, visited["visit_id"])
    assert (row.channel, row.household_id) == ("neighbour_report", visited["household_id"])
    twice = world.caseworker.post(f"{API}/leads/{made['id']}/close", json={"reason": "no_need"})
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "invalid_transition"

    mine = ok(reporter.get(f"{API}/leads"))["items"]
    assert [(m["status"], m["handled_at"] is not None) for m in mine] == [("visited", True)]
    assert "household_id" not in mine[0]
    assert "孙秀兰" not in json.dumps(mine)
    actions = set(db.session().execute(select(AuditEvent.action)).scalars())
    assert {"reporter.signed_up", "lead.reported", "lead.visited", "visit.recorded", "household.created"} <= actions


def test_leads_are_located_by_community_and_closed_with_a_reason(world, anon):
    """No grid named: the community (or the address) places it; nothing known is a 422
    saying what to add; a closed lead shows the reason code to its reporter."""
    reporter = courier(world, anon)
    where = reporter.post(f"{API}/leads", json={"address": "某某路1号", "seen": "孩子一个人在家"})
    assert where.status_code == 422
    assert where.get_json()["error"]["code"] == "where_unknown"
    unknown = reporter.post(f"{API}/leads", json={"address": "某某路1号", "seen": "孩子", "community": "无此社区"})
    assert unknown.get_json()["error"]["code"] == "unknown_community"
    bad_grid = reporter.post(f"{API}/leads", json={"address": "某某路1号", "seen": "孩子", "grid": "NOPE"})
    assert bad_grid.get_json()["error"]["code"] == "unknown_grid"
    not_image = reporter.post(
        f"{API}/leads", json={"address": "某某路1号", "seen": "孩子", "community": "科源社区", "photo": "aGVsbG8="}
    )
    assert not_image.status_code == 422
    assert not_image.get_json()["error"]["code"] == "not_an_image"
    made = ok(
        reporter.post(f"{API}/leads", json={"address": "某某路1号", "seen": "孩子", "community": "科源社区"}), 201
    )
    assert made["grid"] == world.grid
    closed = ok(world.caseworker.post(f"{API}/leads/{made['id']}/close", json={"reason": "already_known"}))
    assert closed["status"] == "closed"
    assert ok(world.caseworker.post(f"{API}/leads/{made['id']}/close", json={"reason": "already_known"}))["status"]
    mine = ok(reporter.get(f"{API}/leads/{made['id']}"))
    assert (mine["status"], mine["close_reason"]) == ("closed", "already_known")
    assert world.caseworker.post(f"{API}/leads", json={"address": "某某路1号", "seen": "x1"}).status_code == 403


def test_a_visit_links_a_household_already_registered(world, anon):
    reporter = courier(world, anon)
    household = world.household(head="周建华")
    made = ok(reporter.post(f"{API}/leads", json={"address": "科源社区5号", "seen": "家里有病人"}), 201)
    visited = ok(world.caseworker.post(f"{API}/leads/{made['id']}/visit", json={"household_id": household}), 201)
    assert visited["household_id"] == household
    again = world.caseworker.post(f"{API}/leads/{made['id']}/visit", json={"household_id": household})
    assert again.status_code == 200
    visits = db.session().execute(select(func.count()).select_from(Visit).where(Visit.household_id == household))
    assert visits.scalar_one() == 1
    both = {"household_id": household, "household": {"grid": world.grid}}
    assert world.caseworker.post(f"{API}/leads/{made['id']}/visit", json=both).status_code == 422


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"password": "pass\ud800word-long"}, "password"),
        ({"name": "李\x00快递"}, "name"),
        ({"organisation": "x" * 81}, "organisation"),
        ({"phone": "12345"}, "phone"),
        ({"consent": False}, "consent"),
        ({"kind": "spy"}, "kind"),
        ({"role": "admin"}, "role"),
    ],
)
def test_hostile_sign_ups_are_refused_with_the_field_named(anon, extra, field):
    raw = json.dumps(sign_up_body(**extra))
    resp = anon.client.post(f"{API}/reporters", data=raw, content_type="application/json")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert field in json.dumps(resp.get_json()["error"]["details"])
    assert db.session().execute(select(func.count()).select_from(Reporter)).scalar_one() == 0


def test_a_double_tap_makes_one_account(app, anon):
    """The same sign-up twice in a row, and twice at once: one reporter, one user; the
    same username with another password is taken."""
    body = sign_up_body()
    ok(anon.post(f"{API}/reporters", json=body), 201)
    assert ok(anon.post(f"{API}/reporters", json=body))["name"] == "李快递"
    taken = anon.post(f"{API}/reporters", json={**body, "password": "another-password"})
    assert taken.status_code == 409
    assert taken.get_json()["error"]["code"] == "username_taken"
    racing = sign_up_body()
    db.session.remove()
    barrier = threading.Barrier(2)
    with money.live_server(app) as base:

        def tap(_i: int) -> int:
            barrier.wait()
            with httpx.Client(base_url=base, timeout=120) as http:
                return http.post(f"{API}/reporters", json=racing).status_code

        with ThreadPoolExecutor(2) as pool:
            assert sorted(pool.map(tap, range(2))) == [200, 201]
    users = db.session().execute(select(func.count()).select_from(User).where(User.username == racing["username"]))
    assert users.scalar_one() == 1


@pytest.fixture
def rate_limited(app) -> Iterator[None]:
    saved = {k: app.config.get(k) for k in ("RATELIMIT_ENABLED", "CONCERN_RATE_LIMIT")}
    app.config.update(RATELIMIT_ENABLED=True, CONCERN_RATE_LIMIT="2 per minute")
    try:
        yield
    finally:
        app.config.update(saved)


def test_the_sign_up_is_rate_limited_per_address(rate_limited, anon):
    anon.client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    for _ in range(2):
        ok(anon.post(f"{API}/reporters", json=sign_up_body()), 201)
    third = anon.post(f"{API}/reporters", json=sign_up_body())
    assert third.status_code == 429
    assert third.get_json()["error"]["code"]
    assert db.session().execute(select(func.count()).select_from(Reporter)).scalar_one() == 2
    assert db.session().execute(select(func.count()).select_from(Lead)).scalar_one() == 0
