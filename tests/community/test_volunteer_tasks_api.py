"""Volunteers over the API, end to end: a phone sign-up approved by the team leader; a
service need routed to the team, accepted and handed out as a task; a volunteer claims
it, checks in and out; the family confirms (through its caseworker, or with the code it
got by SMS); the service record is written, the offer and its request complete, the
certificate prints and the figures move. Who may do what, and the refusals' codes."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from broker.community import service_records
from broker.platform import db, runtime
from models import AuditEvent, ServiceRecord, User, Volunteer
from tests.community.volunteer_world import API, family, make_team, ok, served
from tests.conftest import PASSWORD, ApiClient
from tests.support.aid import make_world
from tests.support.receivers import SmsGateway
from tests.support.registry_data import id_number


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@pytest.fixture
def anon(client) -> ApiClient:
    return ApiClient(client)


def test_sign_up_on_a_phone_then_the_leader_approves(world, anon, login):
    """Anyone signs up with a team (no token); the account signs in but cannot claim
    until the leader approves; another partner cannot see the sign-up; a declined
    volunteer cannot sign in; the same sign-up sent twice is one."""
    team = make_team(world)
    assert team.id in [t["id"] for t in ok(anon.get(f"{API}/teams"))["items"]]
    made = team.sign_up(anon, "王小明")
    assert made["status"] == "pending"
    assert "id_number" not in made
    again = {**_body_of(team, made), "password": PASSWORD}
    assert anon.post(f"{API}/volunteers", json=again).status_code == 200  # a retry: the first sign-up
    volunteer = login(made["username"])
    assert ok(volunteer.get(f"{API}/volunteers"))["total"] == 1
    pending = ok(team.leader.get(f"{API}/volunteers?status=pending"))["items"]
    assert [v["id"] for v in pending] == [made["id"]]
    other = make_team(world)
    assert other.leader.post(f"{API}/volunteers/{made['id']}/decision", json={"decision": "approve"}).status_code == 404
    assert ok(team.leader.post(f"{API}/volunteers/{made['id']}/decision", json={"decision": "approve"}))["status"] == (
        "active"
    )
    refused = team.leader.post(f"{API}/volunteers/{made['id']}/decision", json={"decision": "reject"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "invalid_transition"

    declined = team.sign_up(anon, "李四")
    ok(team.leader.post(f"{API}/volunteers/{declined['id']}/decision", json={"decision": "reject", "reason": "重复"}))
    token = anon.post(f"{API}/auth/token", json={"username": declined["username"], "password": PASSWORD})
    assert token.status_code == 401
    actions = set(db.session().execute(select(AuditEvent.action)).scalars())
    assert {"volunteer.signed_up", "volunteer.approved", "volunteer.rejected"} <= actions


def _body_of(team, made: dict) -> dict:
    return {
        "team": team.id,
        "name": made["name"],
        "phone": made["phone"],
        "username": made["username"],
        "skills": ["陪诊"],
        "languages": ["普通话"],
        "availability": "周末",
        "grids": [team.world.grid],
        "consent": True,
    }


def test_sign_up_refusals_say_what_to_fix(world, anon):
    """No consent, an unknown team or grid, a taken username, a bad ID number: a 4xx
    naming the field; an ID number is kept encrypted and links the volunteer to the
    registry household it names, without saying so."""
    team = make_team(world)
    base = {"team": team.id, "name": "赵六", "phone": "13912345678", "username": "zhao-liu", "password": PASSWORD}
    no_consent = anon.post(f"{API}/volunteers", json={**base, "consent": False})
    assert no_consent.status_code == 422
    assert "consent" in no_consent.get_json()["error"]["details"]
    assert anon.post(f"{API}/volunteers", json={**base, "consent": True, "team": 999999}).status_code == 422
    assert anon.post(f"{API}/volunteers", json={**base, "consent": True, "grids": ["NOPE"]}).status_code == 422
    bad_id = anon.post(f"{API}/volunteers", json={**base, "consent": True, "id_number": "110108198001011234"})
    assert bad_id.status_code == 422
    number = id_number(date(1980, 5, 1), "135")
    member = {"name": "周强", "relation": "head", "birth_date": "1980-05-01", "sex": "M", "id_number": number}
    household = world.household(head="周强", members=[member])
    made = ok(anon.post(f"{API}/volunteers", json={**base, "consent": True, "id_number": number}), 201)
    assert number not in str(made)
    row = db.session().get(Volunteer, made["id"])
    assert row.household_id == household
    assert number.encode() not in (row.id_number_enc or b"")
    twice = anon.post(
        f"{API}/volunteers", json={**base, "username": "zhao-liu-2", "consent": True, "id_number": number}
    )
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "already_signed_up"
    taken = anon.post(f"{API}/volunteers", json={**base, "password": "another-pass", "consent": True})
    assert taken.status_code == 409
    assert taken.get_json()["error"]["code"] == "username_taken"


def test_claim_check_in_out_and_the_caseworker_confirms_closing_the_request(world, anon, worker, as_role):
    """The whole loop for one task: the last place goes to one volunteer; hours from
    check-in to check-out; the caseworker confirms; a service record as the Ministry's
    rules ask; the offer completes with a service session; the request completes; the
    certificate prints; the figures count the hours and the response time."""
    team = make_team(world)
    first, second = team.volunteer(anon, "陈志愿"), team.volunteer(anon, "吴志愿")
    household = family(world)
    task = team.escort_task(worker, household)
    claim = ok(first.post(f"{API}/tasks/{task['id']}/claim"), 201)
    assert claim["status"] == "claimed"
    assert first.post(f"{API}/tasks/{task['id']}/claim").status_code == 200  # again: the same claim
    full = second.post(f"{API}/tasks/{task['id']}/claim")
    assert full.status_code == 409
    assert full.get_json()["error"]["code"] == "task_full"
    early = world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"})
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "nothing_to_confirm"
    assert second.post(f"{API}/tasks/{task['id']}/check-in").get_json()["error"]["code"] == "not_claimed"
    assert ok(first.post(f"{API}/tasks/{task['id']}/check-in"))["status"] == "checked_in"
    served(task["id"], hours=2)
    out = ok(first.post(f"{API}/tasks/{task['id']}/check-out"))
    assert out["status"] == "checked_out"
    assert 119 <= out["minutes"] <= 121

    assert team.leader.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "leader"}).status_code == 409
    done = ok(world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"}), 201)
    assert done["task"]["status"] == "done"
    assert len(done["records"]) == 1
    again = world.caseworker.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "caseworker"})
    assert again.status_code == 200
    assert again.get_json()["records"][0]["id"] == done["records"][0]["id"]
    record = db.session().get(ServiceRecord, done["records"][0]["id"])
    assert (record.kind, record.place, record.household_id, record.method) == (
        "escort",
        "武汉市第一医院",
        household,
        "caseworker",
    )
    assert record.verified_by_id is not None
    assert record.started_at < record.ended_at

    req = world.request(task["request"])
    assert req["status"] == "completed", req
    offer = ok(team.leader.get(f"{API}/offers/{task['offer_id']}"))
    assert offer["status"] == "completed"
    sessions = ok(team.leader.get(f"{API}/offers/{task['offer_id']}/disbursements"))["items"]
    assert [s["kind"] for s in sessions] == ["service"]

    pdf = first.get(f"{API}/volunteers/{team.volunteer_ids['陈志愿']}/certificate")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert second.get(f"{API}/volunteers/{team.volunteer_ids['陈志愿']}/certificate").status_code == 404

    auditor = as_role("auditor")
    figures = ok(auditor.get(f"{API}/reports/volunteers"))
    assert figures["current"]["person_times"] == 1
    assert figures["current"]["volunteers"] == 1
    assert 119 <= figures["current"]["minutes"] <= 121
    assert figures["current"]["hours_to_claim"] is not None
    assert figures["current"]["hours_to_done"] is not None
    assert figures["current"]["rows"][0]["community"] == "科源社区"
    book = load_workbook(io.BytesIO(auditor.get(f"{API}/reports/volunteers?format=xlsx").data))
    assert book.worksheets[1].cell(row=2, column=1).value == "科源社区"
    assert as_role("partner", partner_id=team.id).get(f"{API}/reports/volunteers").status_code == 403


def test_the_family_confirms_with_the_code_it_got_by_sms(world, anon, worker, monkeypatch):
    """After check-out the volunteer has the family texted a code (with its consent); a
    wrong code counts a try; the right one confirms, and the family's points hook runs."""
    seen: list[int] = []

    def hook(_s: object, row: ServiceRecord) -> None:
        seen.append(row.id)

    service_records.on_confirmed(hook)
    team = make_team(world)
    volunteer = team.volunteer(anon, "郑志愿")
    task = team.escort_task(worker, family(world))
    ok(volunteer.post(f"{API}/tasks/{task['id']}/claim"), 201)
    assert volunteer.post(f"{API}/tasks/{task['id']}/confirm-code").get_json()["error"]["code"] == "not_checked_out"
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-in"))
    served(task["id"], hours=1)
    ok(volunteer.post(f"{API}/tasks/{task['id']}/check-out"))
    with SmsGateway() as sms:
        monkeypatch.setitem(runtime.settings(), "SMS_GATEWAY_URL", sms.url)
        sent = ok(volunteer.post(f"{API}/tasks/{task['id']}/confirm-code"), 202)
        assert sent["phone"] == "138****8000"
        worker()
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.sent[-1]["message"]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    bad = volunteer.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "code", "code": wrong})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"]["attempts_left"] == 4
    done = ok(volunteer.post(f"{API}/tasks/{task['id']}/confirm", json={"method": "code", "code": code}), 201)
    assert done["records"][0]["method"] == "code"
    assert seen == [done["records"][0]["id"]]
    service_records._hooks.remove(hook)


def test_who_may_touch_a_team_and_its_tasks(world, anon, worker, make_user, login):
    """Tasks are the team's: another team's leader or volunteer learns nothing (404), a
    caseworker or auditor cannot claim (403), a pending volunteer cannot claim yet."""
    team, other = make_team(world), make_team(world)
    task = team.escort_task(worker, family(world, sms=False))
    outsider = other.volunteer(anon, "外队志愿者")
    assert outsider.post(f"{API}/tasks/{task['id']}/claim").status_code == 404
    assert outsider.get(f"{API}/teams/{team.id}/tasks").status_code == 404
    assert other.leader.get(f"{API}/teams/{team.id}/tasks").status_code == 404
    assert other.leader.post(f"{API}/teams/{team.id}/tasks", json={}).status_code in (404, 422)
    assert world.caseworker.post(f"{API}/tasks/{task['id']}/claim").status_code == 403
    pending = login(team.sign_up(anon, "待批准")["username"])
    refused = pending.post(f"{API}/tasks/{task['id']}/claim")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "volunteer_not_active"
    listed = ok(team.leader.get(f"{API}/teams/{team.id}/tasks"))["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    roles = set(db.session().execute(select(User.role)).scalars())
    assert "volunteer" in roles
