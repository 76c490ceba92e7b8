"""Jobs and skills over HTTP with a real RQ worker: a left-behind mother's job-support
need is handed to job matching (not left "category not served"); the matches explain
themselves; she is enrolled on an embroidery course, attends and completes it; the
home-based workshop now suits her and she is placed there, which completes the request;
the workshop records an order and her deliveries; the 3-month follow-up falls due on
the caseworker's list and is recorded with her earnings; the figures move at each step.
Also the scope rules, the partner's view of the family, and what bad input gets."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from broker.community import placements
from broker.platform import db
from models import AuditEvent, Notification
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import make_world, need

API = "/api/v1"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def ok(resp, status: int = 200) -> dict:
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def embroidery_family(world) -> tuple[int, dict[str, int]]:
    """A mother at home with her disabled mother-in-law and a small son; her husband works
    away. Returns the household and its members by name."""
    household = world.household(
        head="马秀兰",
        members=[
            {"name": "马秀兰", "relation": "head", "birth_date": "1988-04-02", "sex": "F", "employment": "unemployed"},
            {"name": "马小军", "relation": "child", "birth_date": "2019-06-01", "sex": "M"},
            {"name": "李桂花", "relation": "parent", "birth_date": "1950-03-01", "sex": "F", "employment": "retired"},
        ],
    )
    members = ok(world.caseworker.get(f"{API}/households/{household}"))["members"]
    return household, {m["name"]: m["id"] for m in members}


def workshop(world) -> tuple[dict, object]:
    partner = world.partner("泾川巧手刺绣合作社", kind="company", categories=["in_kind"])
    return partner, world.partner_clients["泾川巧手刺绣合作社"]


def post_openings(world, shop) -> tuple[dict, dict, dict]:
    embroidery = ok(
        shop.post(
            f"{API}/openings",
            json={
                "title": "居家刺绣计件",
                "kind": "handicraft",
                "skill": "刺绣",
                "district": "海淀区",
                "hours_per_week": 20,
                "pay_fen": 150,
                "pay_unit": "piece",
                "flexible": True,
                "home_based": True,
                "positions": 5,
            },
        ),
        201,
    )
    factory = ok(
        world.admin.post(
            f"{API}/openings",
            json={
                "partner_id": embroidery["partner_id"],
                "title": "服装厂流水线",
                "kind": "factory",
                "grid": world.grid,
                "hours_per_week": 48,
                "pay_fen": 380000,
                "positions": 2,
            },
        ),
        201,
    )
    course = ok(
        shop.post(
            f"{API}/courses",
            json={
                "title": "陇绣入门",
                "skill": "刺绣",
                "teacher": "非遗传承人 王师傅",
                "schedule": "每周二、四下午",
                "sessions": 3,
                "capacity": 10,
                "grid": world.grid,
            },
        ),
        201,
    )
    return embroidery, factory, course


def figures(world) -> dict:
    return ok(world.caseworker.get(f"{API}/reports/jobs"))


def reasons(rows: list[dict], key: int) -> set[str]:
    return {r["code"] for row in rows if row["id"] == key for r in row["reasons"]}


def test_an_employment_need_is_matched_to_a_course_then_a_home_based_job_and_followed_up(world, worker):
    household, people = embroidery_family(world)
    mother = people["马秀兰"]
    cw = world.caseworker
    _partner, shop = workshop(world)
    assessed = world.assess(household, need("employment", description="母亲想在家附近就业，要照顾老人孩子"))
    request_id = assessed["needs"][0]["request_id"]
    worker()
    req = world.request(request_id)
    assert (req["status"], req["routing_state"]) == ("active", "unmatched")
    assert req["routing_reasons"]["code"] == "job_matching"
    codes = db.session().execute(select(Notification.code)).scalars().all()
    assert "request_job_matching" in codes
    assert "request_failed" not in codes
    db.session.remove()

    before = figures(world)
    embroidery, factory, course = post_openings(world, shop)
    assert embroidery["place"] == {"grid": None, "community": None, "district": "海淀区"}
    assert factory["partner"] == "泾川巧手刺绣合作社"
    assert factory["free"] == 2

    # Matches: the course suits (it teaches what the home-based opening asks); the
    # home-based work needs the skill first; the factory is too long for a carer.
    found = ok(cw.get(f"{API}/requests/{request_id}/job-matches", headers={"Accept-Language": "zh-CN"}))
    assert found["member_id"] == mother
    assert [m["name"] for m in found["members"]] == ["马秀兰"]  # the child and the grandmother are not of working age
    assert found["cares_for"] == 2
    assert found["openings"] == []
    assert reasons(found["openings_left_out"], embroidery["id"]) == {"jobs.not.needs_skill"}
    assert reasons(found["openings_left_out"], factory["id"]) == {"jobs.not.carer_on_site"}
    assert [c["id"] for c in found["courses"]] == [course["id"]]
    assert {"jobs.why.same_grid", "jobs.why.course_skill", "jobs.why.rank"} <= reasons(found["courses"], course["id"])
    said = [r["message"] for r in found["courses"][0]["reasons"]]
    assert any("刺绣" in m for m in said), said

    # Enrolled for the request, attends, completes.
    enrolment = ok(
        cw.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": mother, "request_id": request_id}), 201
    )
    assert enrolment["status"] == "enrolled"
    assert enrolment["member_name"] == "马秀兰"
    assert_error_shape(
        cw.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": mother}), 409, "already_enrolled"
    )
    assert figures(world)["enrolled"] == before["enrolled"] + 1
    for number in (1, 2, 3, 3):  # a session sent twice is recorded once
        attended = ok(shop.post(f"{API}/enrolments/{enrolment['id']}/attendance", json={"session_no": number}))
    assert attended["attended"] == [1, 2, 3]
    assert attended["member_name"] == "马**"
    assert attended["household_id"] is None
    assert_error_shape(
        shop.post(f"{API}/enrolments/{enrolment['id']}/attendance", json={"session_no": 4}), 422, "validation_error"
    )
    done = ok(shop.post(f"{API}/enrolments/{enrolment['id']}/complete", json={}))
    assert done["status"] == "completed"
    assert_error_shape(shop.post(f"{API}/enrolments/{enrolment['id']}/withdraw", json={}), 409, "not_enrolled")
    assert figures(world)["courses_completed"] == before["courses_completed"] + 1

    # Now the home-based work suits her, first; the course is done.
    found = ok(cw.get(f"{API}/requests/{request_id}/job-matches?member_id={mother}"))
    assert [o["id"] for o in found["openings"]] == [embroidery["id"]]
    assert {"jobs.why.skill_done", "jobs.why.home_based_carer", "jobs.why.same_district"} <= reasons(
        found["openings"], embroidery["id"]
    )
    assert reasons(found["courses_left_out"], course["id"]) == {"jobs.not.skill_done"}

    # Placed from three months ago: the request is complete and the 3-month follow-up is due.
    started = date.today() - timedelta(days=95)
    placement = ok(
        cw.post(
            f"{API}/placements",
            json={
                "opening_id": embroidery["id"],
                "member_id": mother,
                "request_id": request_id,
                "starts_on": started.isoformat(),
            },
        ),
        201,
    )
    assert [f["due_on"] for f in placement["follow_ups"]] == [
        placements.add_months(started, 3).isoformat(),
        placements.add_months(started, 6).isoformat(),
    ]
    assert placement["pay_fen"] == 150
    assert placement["follow_ups"][0]["due"] is True
    req = world.request(request_id)
    assert (req["status"], req["routing_state"]) == ("completed", "covered")
    events = [e["event"] for e in req["timeline"]]
    assert "request.job_enrolled" in events
    assert "request.job_placed" in events
    due = ok(cw.get(f"{API}/placements/follow-ups-due"))["items"]
    assert [(f["placement_id"], f["months"]) for f in due] == [(placement["id"], 3)]
    assert ok(cw.get(f"{API}/openings/{embroidery['id']}"))["filled"] == 1

    # The workshop takes an order; she delivers pieces and earns.
    order = ok(
        shop.post(
            f"{API}/openings/{embroidery['id']}/orders",
            json={"buyer": "兰州文创公司", "items": "刺绣香包", "quantity": 100, "amount_fen": 300000},
        ),
        201,
    )
    for pieces in (60, 40):
        ok(
            shop.post(
                f"{API}/home-orders/{order['id']}/deliveries",
                json={"placement_id": placement["id"], "quantity": pieces, "earnings_fen": pieces * 1500},
            ),
            201,
        )
    assert_error_shape(
        shop.post(
            f"{API}/home-orders/{order['id']}/deliveries",
            json={"placement_id": placement["id"], "quantity": 1, "earnings_fen": 0},
        ),
        409,
        "order_delivered",
    )
    listed = ok(shop.get(f"{API}/home-orders"))["items"]
    assert [(o["id"], o["delivered"], o["status"]) for o in listed] == [(order["id"], 100, "delivered")]
    earned = ok(cw.get(f"{API}/home-earnings"))["items"]
    assert [(e["member_name"], e["pieces"], e["earnings_fen"]) for e in earned] == [("马秀兰", 100, 150000)]
    assert ok(shop.get(f"{API}/home-earnings"))["items"][0]["member_name"] == "马**"

    # The 3-month follow-up: still working, earning.
    followed = ok(
        cw.post(
            f"{API}/placements/{placement['id']}/follow-ups/3",
            json={"still_working": True, "earnings_fen": 150000, "notes": "在家刺绣，能照顾老人孩子"},
        )
    )
    assert (followed["still_working"], followed["earnings_fen"], followed["due"]) == (True, 150000, False)
    assert_error_shape(
        cw.post(f"{API}/placements/{placement['id']}/follow-ups/3", json={"still_working": True}),
        409,
        "follow_up_done",
    )
    assert_error_shape(
        cw.post(f"{API}/placements/{placement['id']}/follow-ups/6", json={"still_working": True}), 409, "not_due"
    )
    assert ok(cw.get(f"{API}/placements/follow-ups-due"))["items"] == []
    after = figures(world)
    assert after["placements"] == before["placements"] + 1
    assert (after["retained_3"], after["followed_up_3"], after["retention_3_pct"]) == (1, 1, 100.0)
    assert after["home_workers"] == before["home_workers"] + 1
    assert after["home_earnings_fen"] == before["home_earnings_fen"] + 150000
    sheet = cw.get(f"{API}/reports/jobs?format=xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert any(r[0] == "马秀兰" and r[2] == 100 for r in rows), rows
    actions = set(db.session().execute(select(AuditEvent.action).where(AuditEvent.household_id == household)).scalars())
    assert {"enrolment.created", "enrolment.attended", "enrolment.completed", "placement.created"} <= actions
    assert {"placement.followed_up", "home_order.delivered"} <= actions


def test_scope_the_partner_sees_its_own_and_bad_input_is_refused(world, as_role, make_user, login):
    _household, people = embroidery_family(world)
    partner, shop = workshop(world)
    embroidery, factory, course = post_openings(world, shop)
    other = world.partner("别家公司", kind="company", categories=["in_kind"])
    stranger = world.partner_clients["别家公司"]
    assert ok(stranger.get(f"{API}/openings"))["items"] == []
    assert_error_shape(stranger.get(f"{API}/openings/{embroidery['id']}"), 404, "not_found")
    assert_error_shape(stranger.post(f"{API}/openings/{embroidery['id']}/close", json={}), 404, "not_found")
    assert_error_shape(
        stranger.post(f"{API}/openings", json={**_opening(), "partner_id": partner["id"]}), 403, "forbidden"
    )
    assert other["id"] != partner["id"]
    # A caseworker of another grid: the family's member is not hers to enrol.
    elsewhere = make_world(as_role, make_user, login)
    assert_error_shape(
        elsewhere.caseworker.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": people["马秀兰"]}),
        404,
        "not_found",
    )
    enrolment = ok(
        world.caseworker.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": people["马秀兰"]}), 201
    )
    assert_error_shape(elsewhere.caseworker.get(f"{API}/enrolments/{enrolment['id']}"), 404, "not_found")
    assert ok(elsewhere.caseworker.get(f"{API}/enrolments"))["items"] == []
    assert_error_shape(stranger.get(f"{API}/enrolments/{enrolment['id']}"), 404, "not_found")
    # A partner places nobody; the auditor reads and changes nothing.
    body = {"opening_id": factory["id"], "member_id": people["马秀兰"]}
    assert_error_shape(shop.post(f"{API}/placements", json=body), 403, "forbidden")
    auditor = as_role("auditor")
    assert_error_shape(auditor.post(f"{API}/placements", json=body), 403, "forbidden")
    assert ok(auditor.get(f"{API}/reports/jobs"))["openings_open"] >= 2
    # Bad input.
    for bad in (
        {**_opening(), "pay_fen": -1},
        {**_opening(), "kind": "spy"},
        {**_opening(), "title": "x" * 500},
        {**_opening(), "home_based": "yes"},
        {**_opening(), "title": "\ud800"},
    ):
        assert shop.post(f"{API}/openings", json=bad).status_code == 422
    assert_error_shape(shop.post(f"{API}/openings", json={**_opening(), "grid": "NOPE"}), 422, "validation_error")
    assert_error_shape(
        world.caseworker.post(f"{API}/placements", json={**body, "member_id": 2**31 - 1}), 422, "validation_error"
    )
    assert_error_shape(world.caseworker.get(f"{API}/requests/{2**31 - 1}/job-matches"), 404, "not_found")
    # Closing: once; a closed opening places nobody.
    ok(shop.post(f"{API}/openings/{factory['id']}/close", json={}))
    assert_error_shape(shop.post(f"{API}/openings/{factory['id']}/close", json={}), 409, "opening_closed")
    assert_error_shape(world.caseworker.post(f"{API}/placements", json=body), 409, "opening_closed")
    # Orders only for home-based openings.
    assert_error_shape(
        shop.post(
            f"{API}/openings/{factory['id']}/orders",
            json={"buyer": "甲", "items": "乙", "quantity": 1, "amount_fen": 1},
        ),
        422,
        "validation_error",
    )


def test_a_course_takes_no_more_than_its_capacity_and_an_opening_its_positions(world):
    household = world.household(
        head="张大姐",
        members=[
            {"name": f"张{i}", "relation": "head" if i == 0 else "sibling", "birth_date": "1985-01-01", "sex": "F"}
            for i in range(4)
        ],
    )
    members = [m["id"] for m in ok(world.caseworker.get(f"{API}/households/{household}"))["members"]]
    _partner, shop = workshop(world)
    course = ok(
        shop.post(
            f"{API}/courses", json={"title": "家政", "skill": "家政", "teacher": "李老师", "sessions": 2, "capacity": 2}
        ),
        201,
    )
    opening = ok(shop.post(f"{API}/openings", json={**_opening(), "positions": 1}), 201)
    cw = world.caseworker
    made = [cw.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": m}) for m in members]
    assert [r.status_code for r in made] == [201, 201, 409, 409]
    assert_error_shape(made[2], 409, "course_full")
    ok(cw.post(f"{API}/enrolments/{made[0].get_json()['id']}/withdraw", json={}))
    ok(cw.post(f"{API}/courses/{course['id']}/enrolments", json={"member_id": members[2]}), 201)
    placed = [cw.post(f"{API}/placements", json={"opening_id": opening["id"], "member_id": m}) for m in members[:2]]
    assert [r.status_code for r in placed] == [201, 409]
    assert_error_shape(placed[1], 409, "opening_full")


def _opening() -> dict:
    return {"title": "保洁", "kind": "service", "hours_per_week": 20, "pay_fen": 200000, "positions": 3}
