"""A member leaves a special group: a left-behind child whose parents came home. The
record is kept with the day and the reason, drops out of coverage and the figures, and
the child's mentor plan ends with it (no missed-contact alert follows). Recording the
child again reopens the record. Scope, bad input and a second ending get clear errors;
the portal page does the same in Chinese, safe to submit twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from broker.community import care_misses
from broker.platform import db
from models import AuditEvent
from models.base import utcnow
from tests.community.test_care_plans import family, figures, mentor_plan
from tests.platform.test_skeleton import assert_error_shape
from tests.portal.conftest import Portal
from tests.support.aid import make_world

API = "/api/v1"


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


def record_group(world, household: int, child: int, **extra) -> dict:
    resp = world.caseworker.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit", **extra},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def events(kind: str) -> int:
    n = db.session().execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == kind)).scalar_one()
    db.session.remove()
    return n


def test_the_parents_came_home_the_child_leaves_the_group_and_the_plan_ends(world):
    household, _, child = family(world)
    cw = world.caseworker
    record = record_group(world, household, child, known_on="2026-11-20")
    plan = mentor_plan(world, household, child)
    assert figures(world)["children_mentored"] == 1

    ended = cw.post(
        f"{API}/households/{household}/special-groups/{record['id']}/end",
        json={"reason": "circumstances_changed", "ended_on": "2026-12-01"},
    )
    assert ended.status_code == 200, ended.get_json()
    body = ended.get_json()
    assert (body["ended_on"], body["end_reason"]) == ("2026-12-01", "circumstances_changed")
    assert body["care_plans_ended"] == [plan["id"]]
    assert cw.get(f"{API}/care-plans/{plan['id']}").get_json()["status"] == "ended"
    assert care_misses.check(db.session(), plan["id"], now=utcnow() + timedelta(days=30)) == "done"
    db.session.remove()

    listed = cw.get(f"{API}/households/{household}/special-groups").get_json()["items"]
    assert [(r["id"], r["ended_on"]) for r in listed] == [(record["id"], "2026-12-01")]
    coverage = cw.get(f"{API}/special-groups/coverage").get_json()
    assert coverage["items"] == []
    assert coverage["counts"]["in_group"]["left_behind_child"] == 0
    found = figures(world)
    assert (found["children_mentored"], found["in_group"]["left_behind_child"]) == (0, 0)
    assert (events("special_group.ended"), events("care_plan.ended")) == (1, 1)

    assert_error_shape(
        cw.post(f"{API}/households/{household}/special-groups/{record['id']}/end", json={"reason": "moved_away"}),
        409,
        "group_ended",
    )
    refused = cw.post(
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
    assert_error_shape(refused, 422)

    again = record_group(world, household, child)  # the parents went back to the city
    assert again["id"] == record["id"]
    assert (again["ended_on"], again["end_reason"], again["known_on"]) == (None, None, date.today().isoformat())
    assert cw.get(f"{API}/special-groups/coverage").get_json()["counts"]["without_plan"]["left_behind_child"] == 1
    assert events("special_group.reopened") == 1


def test_scope_bad_input_and_dates_are_refused_clearly(world, as_role, make_user, login):
    household, _grandmother, child = family(world)
    record = record_group(world, household, child, known_on="2026-11-20")
    path = f"{API}/households/{household}/special-groups/{record['id']}/end"
    cw = world.caseworker

    other = make_world(as_role, make_user, login).caseworker
    assert_error_shape(other.post(path, json={"reason": "moved_away"}), 404)
    assert_error_shape(as_role("auditor").post(path, json={"reason": "moved_away"}), 403)
    world.partner("崇信县志愿者协会", categories=["counselling"], kind="volunteer_team")
    assert_error_shape(world.partner_clients["崇信县志愿者协会"].post(path, json={"reason": "moved_away"}), 403)
    assert_error_shape(cw.post(path, json={"reason": "bored"}), 422)
    assert_error_shape(cw.post(path, json={}), 422)
    assert_error_shape(cw.post(path, json={"reason": "moved_away", "ended_on": "2026-11-01"}), 422)
    future = (date.today() + timedelta(days=10)).isoformat()
    assert_error_shape(cw.post(path, json={"reason": "moved_away", "ended_on": future}), 422)
    assert_error_shape(
        cw.post(f"{API}/households/{household}/special-groups/999999/end", json={"reason": "moved_away"}), 404
    )
    assert cw.get(f"{API}/households/{household}/special-groups").get_json()["items"][0]["ended_on"] is None
    assert events("special_group.ended") == 0


def test_the_portal_page_records_the_ending_once_in_chinese(app, world, make_user):
    household, _, child = family(world)
    record = record_group(world, household, child)
    mentor_plan(world, household, child)
    username = make_user("caseworker", grids=(world.grid,))
    portal = Portal(app.test_client())
    portal.login(username)
    page = portal.text(f"/caseworker/households/{household}")
    assert "离开该群体…" in page
    path = f"/care/households/{household}/special-groups/{record['id']}/end"
    form = portal.text(path)
    assert "成员离开特殊群体" in form
    assert "情况变化（如父母返乡）" in form
    key = form.split('name="once_key" type="hidden" value="')[1].split('"')[0]
    body = {"reason": "circumstances_changed", "once_key": key}
    first = portal.post(path, body)
    assert first.status_code == 302, first.get_data(as_text=True)[:400]
    second = portal.post(path, body)  # the double tap on a slow phone
    assert second.status_code in (302, 303), second.get_data(as_text=True)[:400]
    assert events("special_group.ended") == 1
    page = portal.text(f"/caseworker/households/{household}")
    assert "情况变化（如父母返乡）" in page
    assert "离开该群体…" not in page
    assert portal.get(f"/care/households/{household}/special-groups/999999/end").status_code == 404
