"""The volunteers' pages without a browser: the public sign-up (refusals on the page,
consent required), the leader's page (approve, new task), the volunteer's board
(claim, check in, check out, the family's code), the caseworker's confirmation, the
figures and their XLSX; both languages; a double tap does one thing."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from broker.platform import db, periods
from models import ServiceRecord, TaskClaim, Volunteer, VolunteerTask
from models.base import utcnow
from tests.community.volunteer_world import family, make_team, ok, served
from tests.conftest import PASSWORD
from tests.portal.conftest import csrf_token
from tests.support.aid import make_world, need
from tests.support.voice import agree

API = "/api/v1"


def _sign_up(portal, team_id: int, username: str, **extra: str):
    portal.get("/volunteers/join")
    body = {
        "team": str(team_id),
        "name": "周晓燕",
        "phone": "13911112222",
        "username": username,
        "password": PASSWORD,
        "skills": "陪诊，轮椅护送",
        "consent": "y",
        **extra,
    }
    return portal.post("/volunteers/join", body)


def _once_key(html: str, action: str) -> str:
    start = html.index(f'action="{action}"')
    chunk = html[start : start + 2000]
    marker = 'name="once_key" type="hidden" value="'
    at = chunk.index(marker) + len(marker)
    return chunk[at : chunk.index('"', at)]


def test_the_whole_volunteer_day_in_the_portal(app, new_portal, as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    team = make_team(world)
    leader = new_portal()
    leader.login(make_user("partner", partner_id=team.id))
    household = family(world)
    request_id = world.assess(household, need("counselling", description="陪同就医"))["needs"][0]["request_id"]
    worker()
    offer = next(o for o in world.offers_of(team.name) if o["request_id"] == request_id)
    ok(team.leader.post(f"{API}/offers/{offer['id']}/accept", json={}))

    visitor = new_portal()
    page = visitor.text("/volunteers/join")
    assert "报名当志愿者" in page
    refused = _sign_up(visitor, team.id, "zhou-1", consent="")
    assert refused.status_code == 400
    assert "报名需要你的同意。" in refused.get_data(as_text=True)
    assert _sign_up(visitor, team.id, "zhou-1").status_code == 303
    assert _sign_up(visitor, team.id, "zhou-1").status_code == 303  # the same sign-up twice: one
    assert db.session().execute(select(func.count()).select_from(Volunteer)).scalar_one() == 1
    taken = _sign_up(visitor, team.id, "zhou-1", password="another-password")
    assert "该用户名已被使用" in taken.get_data(as_text=True)
    volunteer = new_portal()
    volunteer.login("zhou-1")
    assert 'id="awaiting"' in volunteer.text("/volunteer/")

    html = leader.text("/partner/team")
    assert "周晓燕" in html
    volunteer_id = db.session().execute(select(Volunteer.id)).scalar_one()
    approve = f"/partner/team/volunteers/{volunteer_id}/approve"
    key = _once_key(html, approve)
    assert leader.post(approve, {"once_key": key}).status_code == 303
    assert leader.post(approve, {"once_key": key}).status_code == 303  # a double tap
    starts = periods.to_local(utcnow() + timedelta(minutes=30)).replace(tzinfo=None)
    html = leader.text("/partner/team")
    made = leader.post(
        "/partner/team/tasks",
        {
            "once_key": _once_key(html, "/partner/team/tasks"),
            "offer_id": str(offer["id"]),
            "kind": "escort",
            "title": "陪同复查",
            "place": "武汉市第一医院",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "slots": "1",
        },
    )
    assert made.status_code == 303, made.get_data(as_text=True)[:2000]
    task_id = db.session().execute(select(VolunteerTask.id)).scalar_one()

    board = volunteer.text("/volunteer/")
    assert "陪同复查" in board
    claim = f"/volunteer/tasks/{task_id}/claim"
    key = _once_key(board, claim)
    assert volunteer.post(claim, {"once_key": key}).status_code == 303
    assert volunteer.post(claim, {"once_key": key}).status_code == 303
    assert db.session().execute(select(func.count()).select_from(TaskClaim)).scalar_one() == 1
    board = volunteer.text("/volunteer/")
    assert "刘**" in board  # the family did not agree to volunteer contact: masked, no phone
    assert "13800138000" not in board
    assert "刘桂英" not in board
    agree(world.caseworker, household, "volunteer_contact")
    board = volunteer.text("/volunteer/")
    assert "刘桂英" in board
    assert "13800138000" in board
    check_in = f"/volunteer/tasks/{task_id}/check-in"
    assert volunteer.post(check_in, {"once_key": _once_key(board, check_in)}).status_code == 303
    served(task_id, hours=2)
    board = volunteer.text("/volunteer/")
    check_out = f"/volunteer/tasks/{task_id}/check-out"
    assert volunteer.post(check_out, {"once_key": _once_key(board, check_out)}).status_code == 303
    assert "给家庭发送验证码" in volunteer.text("/volunteer/")

    caseworker = new_portal()
    caseworker.login(make_user("caseworker", grids=(world.grid,)))
    listing = caseworker.text("/caseworker/volunteer-tasks")
    assert "周晓燕" in listing
    confirm = f"/caseworker/volunteer-tasks/{task_id}/confirm"
    assert caseworker.post(confirm, {"once_key": _once_key(listing, confirm)}).status_code == 303
    assert db.session().execute(select(func.count()).select_from(ServiceRecord)).scalar_one() == 1
    assert "没有等待家庭确认的志愿服务" in caseworker.text("/caseworker/volunteer-tasks")
    report = caseworker.text("/reports/volunteers")
    assert "科源社区" in report
    assert "<svg" in report
    book = load_workbook(io.BytesIO(caseworker.get("/reports/volunteers.xlsx").data))
    assert book.worksheets[1].cell(row=2, column=1).value == "科源社区"
    english = caseworker.text("/reports/volunteers?lang=en")
    assert "Volunteer figures" in english
    pdf = volunteer.get("/volunteer/certificate.pdf")
    assert pdf.data.startswith(b"%PDF")
    assert leader.get(f"/partner/team/volunteers/{volunteer_id}/certificate.pdf").data.startswith(b"%PDF")
    assert csrf_token(leader.text("/partner/team"))


def test_a_partner_that_is_no_team_is_told_so(app, new_portal, as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    charity = world.partner("海淀区慈善总会", categories=["living"])
    user = new_portal()
    user.login(make_user("partner", partner_id=charity["id"]))
    assert 'id="not-a-team"' in user.text("/partner/team")
