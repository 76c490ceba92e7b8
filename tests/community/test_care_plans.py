"""Special groups and care plans over HTTP with a real RQ worker: a left-behind child is
recorded, shows in coverage without a plan, gets a mentor plan; two contacts are
recorded; the third is missed and the scheduled check alerts the caseworker, once; the
figures move at each step. Also the scope rules, the consent rule for a carer's partner,
and what bad input gets."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from broker import jobs
from broker.community import care_misses, care_plans
from broker.platform import db
from models import AuditEvent, CareMiss, CarePlan, Notification
from models.base import utcnow
from tests.platform.test_skeleton import assert_error_shape
from tests.support.aid import fire_scheduled, make_world

API = "/api/v1"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def family(world) -> tuple[int, int, int]:
    """A grandmother raising her grandson while the parents work in the city: (household,
    grandmother, child)."""
    household = world.household(
        head="王桂兰",
        members=[
            {"name": "王桂兰", "relation": "head", "birth_date": "1956-02-11", "sex": "F"},
            {"name": "王小宇", "relation": "grandchild", "birth_date": "2015-09-01", "sex": "M"},
        ],
    )
    members = world.caseworker.get(f"{API}/households/{household}").get_json()["members"]
    return household, members[0]["id"], members[1]["id"]


def mentor_plan(world, household: int, child: int, partner_id: int | None = None) -> dict:
    body = {
        "household_id": household,
        "member_id": child,
        "group": "left_behind_child",
        "kind": "mentor",
        "schedule": "weekly",
        "carers": [
            {
                "name": "李梦",
                "role": "mentor",
                "phone": "139 0931 0001",
                "organisation": "崇信县志愿者协会",
                "partner_id": partner_id,
            }
        ],
    }
    resp = world.caseworker.post(f"{API}/care-plans", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def figures(world) -> dict:
    resp = world.caseworker.get(f"{API}/reports/care")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def missed_notes(household: int) -> list[Notification]:
    found = db.session().execute(select(Notification).where(Notification.code == "care_contact_missed")).scalars().all()
    db.session.remove()
    return [n for n in found if n.params["household_id"] == household]


def test_a_left_behind_child_gets_a_mentor_two_contacts_then_a_missed_third_alerts_the_caseworker(world, worker):
    household, _, child = family(world)
    cw = world.caseworker
    recorded = cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit", "known_on": "2026-11-20"},
    )
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["member_name"] == "王小宇"
    listed = cw.get(f"{API}/households/{household}/special-groups").get_json()["items"]
    assert [(r["group"], r["source"]) for r in listed] == [("left_behind_child", "visit")]

    coverage = cw.get(f"{API}/special-groups/coverage?group=left_behind_child").get_json()
    assert [i["member_id"] for i in coverage["items"]] == [child]
    assert coverage["counts"]["without_plan"]["left_behind_child"] == 1
    assert coverage["counts"]["grids"] == [
        {"grid": world.grid, "in_group": {"left_behind_child": 1}, "without_plan": {"left_behind_child": 1}}
    ]
    before = figures(world)
    assert before["children_mentored"] == 0
    assert before["contacts_due"] == 0
    assert before["regularity_pct"] is None

    plan = mentor_plan(world, household, child)
    assert plan["member_name"] == "王小宇"
    assert plan["schedule"] == "weekly"
    mentor = plan["carers"][0]["id"]
    assert cw.get(f"{API}/special-groups/coverage").get_json()["items"] == []
    assert figures(world)["children_mentored"] == 1

    for what in ("辅导数学作业", "周末成长营前谈心"):
        made = cw.post(
            f"{API}/care-plans/{plan['id']}/contacts", json={"carer_id": mentor, "channel": "visit", "summary": what}
        )
        assert made.status_code == 201, made.get_json()
        assert made.get_json()["on_time"] is True
    contacts = cw.get(f"{API}/care-plans/{plan['id']}/contacts").get_json()["items"]
    assert [c["summary"] for c in contacts] == ["周末成长营前谈心", "辅导数学作业"]
    two = figures(world)
    assert (two["contacts_due"], two["contacts_on_time"], two["contacts_missed"], two["regularity_pct"]) == (
        2,
        2,
        0,
        100.0,
    )
    worker()  # the checks scheduled so far are for days to come: nothing is missed
    assert missed_notes(household) == []

    # A week passes with no third contact: the check scheduled for the due date fires.
    db.session().execute(
        update(CarePlan).where(CarePlan.id == plan["id"]).values(next_due_at=utcnow() - timedelta(minutes=1))
    )
    db.commit()
    assert fire_scheduled(care_plans.CHECK_KIND) >= 1
    worker()
    notes = missed_notes(household)
    assert len(notes) == 1
    assert notes[0].params["care_plan_id"] == plan["id"]
    inbox = cw.get(f"{API}/notifications").get_json()["items"]
    assert [n["params"]["care_plan_id"] for n in inbox if n["code"] == "care_contact_missed"] == [plan["id"]]
    three = figures(world)
    assert (three["contacts_due"], three["contacts_on_time"], three["contacts_missed"]) == (3, 2, 1)
    assert three["regularity_pct"] == 66.7
    # The backstop finds nothing more, and the plan waits for the next week.
    assert jobs.sweep_missed_care_contacts() == 0
    # Next week's check, run early, puts itself back for its day: one, however often it runs.
    assert fire_scheduled(care_plans.CHECK_KIND) == 1
    worker()
    assert len(missed_notes(household)) == 1
    assert fire_scheduled(care_plans.CHECK_KIND) == 1
    worker()
    after = cw.get(f"{API}/care-plans/{plan['id']}").get_json()
    assert after["next_due_at"] > utcnow().isoformat()
    actions = (
        db.session().execute(select(AuditEvent.action).where(AuditEvent.household_id == household)).scalars().all()
    )
    assert {"special_group.recorded", "care_plan.created", "care_contact.recorded", "care_contact.missed"} <= set(
        actions
    )


def test_the_sweep_records_a_miss_whose_job_was_lost_and_twice_is_once(world):
    household, _, child = family(world)
    world.caseworker.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "survey"},
    )
    plan = mentor_plan(world, household, child)
    late = utcnow() + timedelta(days=8)
    assert care_misses.sweep(db.session(), now=late) == 1
    db.commit()
    assert care_misses.check(db.session(), plan["id"], now=late) == "not due"  # moved on a week
    db.commit()
    assert db.session().execute(select(func.count()).select_from(CareMiss)).scalar_one() == 1
    assert len(missed_notes(household)) == 1


def test_a_concern_raised_tells_the_caseworker_and_can_open_a_need(world, worker):
    household, _, child = family(world)
    cw = world.caseworker
    cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    plan = mentor_plan(world, household, child)
    body = {
        "carer_id": plan["carers"][0]["id"],
        "channel": "phone",
        "summary": "电话回访",
        "concerns": "孩子说晚上一个人害怕，奶奶腿疼",
        "new_need": {"category": "counselling", "urgency": "normal", "description": "儿童心理疏导"},
    }
    made = cw.post(f"{API}/care-plans/{plan['id']}/contacts", json=body)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["new_assessment_id"]
    notes = db.session().execute(select(Notification.code)).scalars().all()
    assert "care_concern_raised" in notes
    assessments = cw.get(f"{API}/households/{household}/assessments").get_json()
    assert any(n["category"] == "counselling" for a in assessments["items"] for n in a["needs"])


def test_scope_partners_named_on_a_plan_see_it_with_consent_others_see_nothing(world, as_role, make_user, login):
    household, head, child = family(world)
    cw = world.caseworker
    cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    team = world.partner("崇信县志愿者协会", categories=["counselling"], kind="volunteer_team")
    world.partner("别的机构", categories=["counselling"])
    plan = mentor_plan(world, household, child, partner_id=team["id"])
    named, other = world.partner_clients["崇信县志愿者协会"], world.partner_clients["别的机构"]
    seen = named.get(f"{API}/care-plans/{plan['id']}").get_json()
    assert seen["member_name"] is None
    assert seen["household"]["label"] == "王**"
    assert seen["household"]["address"] is None
    assert [p["id"] for p in named.get(f"{API}/care-plans").get_json()["items"]] == [plan["id"]]
    assert other.get(f"{API}/care-plans").get_json()["items"] == []
    assert_error_shape(other.get(f"{API}/care-plans/{plan['id']}"), 404)
    made = named.post(
        f"{API}/care-plans/{plan['id']}/contacts",
        json={
            "carer_id": plan["carers"][0]["id"],
            "channel": "visit",
            "summary": "王小宇作业完成得好，王桂兰电话13909310001",
        },
    )
    assert made.status_code == 201, made.get_json()
    assert "王小宇" not in made.get_json()["summary"]
    assert "13909310001" not in made.get_json()["summary"]
    assert cw.get(f"{API}/care-plans/{plan['id']}/contacts").get_json()["items"][0]["summary"].startswith("王小宇")
    # With the family's consent to volunteer contact (for the child, signed by the guardian), the carer sees who.
    body = {
        "member_id": child,
        "purpose": "volunteer_contact",
        "evidence": "同意书（监护人签字）",
        "guardian_member_id": head,
    }
    assert cw.post(f"{API}/households/{household}/consents", json=body).status_code == 201
    seen = named.get(f"{API}/care-plans/{plan['id']}").get_json()
    assert seen["member_name"] == "王小宇"
    # Another grid's caseworker: not found; an auditor reads and cannot write.
    stranger = make_world(as_role, make_user, login).caseworker
    assert_error_shape(stranger.get(f"{API}/care-plans/{plan['id']}"), 404)
    assert stranger.get(f"{API}/care-plans").get_json()["items"] == []
    auditor = login(make_user("auditor"))
    assert auditor.get(f"{API}/care-plans/{plan['id']}").status_code == 200
    refused = auditor.post(
        f"{API}/care-plans/{plan['id']}/contacts", json={"carer_id": plan["carers"][0]["id"], "channel": "visit"}
    )
    assert_error_shape(refused, 403)


def test_bad_input_is_a_422_or_409_naming_the_problem(world):
    household, head, child = family(world)
    cw = world.caseworker
    no_group = cw.post(
        f"{API}/care-plans",
        json={
            "household_id": household,
            "member_id": child,
            "group": "left_behind_child",
            "kind": "mentor",
            "schedule": "weekly",
            "carers": [{"name": "李梦", "role": "mentor"}],
        },
    )
    assert "group" in assert_error_shape(no_group, 422)["details"]
    bad = cw.post(
        f"{API}/households/{household}/special-groups", json={"member_id": child, "group": "orphan", "source": "visit"}
    )
    assert "group" in assert_error_shape(bad, 422)["details"]
    ok = cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": head, "group": "elderly_alone", "source": "civil_affairs"},
    )
    assert ok.status_code == 201
    again = cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": head, "group": "elderly_alone", "source": "visit"},
    )
    assert_error_shape(again, 409, "already_in_group")
    half = cw.post(
        f"{API}/care-plans",
        json={
            "household_id": household,
            "member_id": head,
            "group": "elderly_alone",
            "kind": "doctor_volunteer",
            "schedule": "monthly",
            "carers": [{"name": "张医生", "role": "doctor"}],
        },
    )
    assert "carers" in assert_error_shape(half, 422)["details"]
    future = cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "migrant_child", "source": "visit", "known_on": "2099-01-01"},
    )
    assert "known_on" in assert_error_shape(future, 422)["details"]
    hostile = cw.post(
        f"{API}/households/{household}/special-groups", json={"member_id": "x\ud800", "group": 7, "source": None}
    )
    assert_error_shape(hostile, 422)


def test_elderly_living_alone_with_a_doctor_and_a_volunteer_count_and_the_xlsx_opens(world):
    household, head, _ = family(world)
    cw = world.caseworker
    cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": head, "group": "elderly_alone", "source": "civil_affairs"},
    )
    made = cw.post(
        f"{API}/care-plans",
        json={
            "household_id": household,
            "member_id": head,
            "group": "elderly_alone",
            "kind": "doctor_volunteer",
            "schedule": "fortnightly",
            "carers": [
                {"name": "张医生", "role": "doctor", "organisation": "乡镇卫生院"},
                {"name": "小刘", "role": "volunteer"},
            ],
        },
    )
    assert made.status_code == 201, made.get_json()
    found = figures(world)
    assert (found["elderly_alone"], found["elderly_alone_cared"], found["without_plan"]["elderly_alone"]) == (1, 1, 0)
    resp = cw.get(f"{API}/reports/care?format=xlsx")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == ["网格", "指标或群体", "数量", "无关爱计划"]
    assert [world.grid, "孤寡老人", 1, 0] in [list(r) for r in cells]


def test_a_growth_camp_records_the_mentored_children_who_came(world, as_role, make_user, login):
    household, _, child = family(world)
    cw = world.caseworker
    cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    plan = mentor_plan(world, household, child)
    camp = {"grid": world.grid, "title": "周末成长营：手工课", "held_on": "2026-11-28", "plan_ids": [plan["id"]]}
    made = cw.post(f"{API}/camps", json=camp)
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["attendance"], made.get_json()["plan_ids"]) == (1, [plan["id"]])
    assert figures(world)["camp_attendances"] == 1
    listed = cw.get(f"{API}/camps").get_json()["items"]
    assert [c["title"] for c in listed] == ["周末成长营：手工课"]
    # Only mentored children of the grid come; another grid's caseworker records nothing here.
    stranger_plan = 10**6
    bad = cw.post(f"{API}/camps", json={**camp, "plan_ids": [stranger_plan]})
    assert "plan_ids" in assert_error_shape(bad, 422)["details"]
    future = cw.post(f"{API}/camps", json={**camp, "held_on": "2099-01-01"})
    assert "held_on" in assert_error_shape(future, 422)["details"]
    other = make_world(as_role, make_user, login).caseworker
    assert_error_shape(other.post(f"{API}/camps", json=camp), 403)
    assert other.get(f"{API}/camps").get_json()["items"] == []


def test_checks_racing_on_one_overdue_plan_record_one_miss_and_tell_once(world):
    """Eight checks at the same moment (threads, each with its own connection): the plan's
    row lock (serialised writers on SQLite) lets one record the miss; the others find the
    plan moved on."""
    household, _, child = family(world)
    world.caseworker.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    plan = mentor_plan(world, household, child)
    db.session().execute(
        update(CarePlan).where(CarePlan.id == plan["id"]).values(next_due_at=utcnow() - timedelta(hours=1))
    )
    db.commit()
    db.session.remove()
    barrier = threading.Barrier(8)

    def check(_i: int) -> str:
        barrier.wait()
        try:
            result = care_misses.check(db.session(), plan["id"])
            db.commit()
            return result
        except Exception as exc:  # noqa: BLE001 - a lost race shows in the results
            db.session().rollback()
            return repr(exc)
        finally:
            db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(check, range(8)))
    assert sorted(results) == ["missed"] + ["not due"] * 7
    assert db.session().execute(select(func.count()).select_from(CareMiss)).scalar_one() == 1
    assert len(missed_notes(household)) == 1


def test_an_ended_plan_takes_no_contact_and_falls_due_no_more(world):
    household, _, child = family(world)
    cw = world.caseworker
    cw.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    plan = mentor_plan(world, household, child)
    ended = cw.post(f"{API}/care-plans/{plan['id']}/end", json={"reason": "父母返乡，孩子随父母生活"})
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "ended"
    assert_error_shape(cw.post(f"{API}/care-plans/{plan['id']}/end", json={"reason": "再次"}), 409, "plan_ended")
    contact = {"carer_id": plan["carers"][0]["id"], "channel": "visit", "summary": "探访"}
    assert_error_shape(cw.post(f"{API}/care-plans/{plan['id']}/contacts", json=contact), 409, "plan_ended")
    assert care_misses.check(db.session(), plan["id"], now=utcnow() + timedelta(days=30)) == "done"
    db.session.remove()
    found = figures(world)
    assert found["children_mentored"] == 0
    assert found["without_plan"]["left_behind_child"] == 1
