"""The jobs pages in the portal, in Chinese: a caseworker opens a job-support request's
matches (the "who" select, the reasons), enrols the mother on the course from there (sent
twice, kept once); the cooperative records her attendance and completion on the course
page; the caseworker places her in the home-based opening from the matches page, sees the
follow-up due on the placements page and records it; the home-based work page shows the
order and her earnings; the figures page has its charts and the XLSX; the cooperative
closes the cleaning job; English on ``?lang=en``."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select, update

from broker.platform import db
from models import Enrolment, Placement
from tests.community.test_jobs import embroidery_family, post_openings, workshop
from tests.portal.conftest import Portal
from tests.support.aid import make_world, need


def once_key(html: str) -> str:
    return html.split('name="once_key" type="hidden" value="')[1].split('"')[0]


def test_matches_enrol_attend_complete_place_follow_up_in_the_portal(app, as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    household, people = embroidery_family(world)
    mother = people["马秀兰"]
    partner, shop = workshop(world)
    embroidery, factory, course = post_openings(world, shop)
    request_id = world.assess(household, need("employment", description="想在家附近就业"))["needs"][0]["request_id"]
    worker()
    cw = Portal(app.test_client())
    cw.login(make_user("caseworker", grids=(world.grid,)))

    page = cw.text(f"/jobs/requests/{request_id}/matches")
    assert "为谁匹配" in page
    assert "马秀兰 · " in page
    assert "需要刺绣技能：请先参加培训" in page
    assert "对在家照顾 2 人的成员来说时间太长" in page
    assert "教授刺绣，有 1 个招聘中的岗位需要" in page
    key = once_key(page)
    body = {"member": str(mother), "course": str(course["id"]), "once_key": key}
    first = cw.post(f"/jobs/requests/{request_id}/enrol", body)
    assert first.status_code == 302, first.get_data(as_text=True)[:400]
    again = cw.post(f"/jobs/requests/{request_id}/enrol", body)
    assert again.status_code == 302
    assert db.session().execute(select(func.count()).select_from(Enrolment)).scalar_one() == 1
    db.session.remove()

    coop = Portal(app.test_client())
    coop.login(make_user("partner", partner_id=partner["id"]))
    page = coop.text(f"/jobs/courses/{course['id']}")
    assert "马**" in page  # no consent to share names with partners
    assert "出勤 0 / 3 次" in page
    enrolment = db.session().execute(select(Enrolment.id)).scalar_one()
    db.session.remove()
    for number in ("1", "2", "3"):
        assert coop.post(f"/jobs/enrolments/{enrolment}/attendance", {"session_no": number}).status_code == 302
    assert coop.post(f"/jobs/enrolments/{enrolment}/complete", {}).status_code == 302
    assert "已结业" in coop.text(f"/jobs/courses/{course['id']}")

    page = cw.text(f"/jobs/requests/{request_id}/matches?member={mother}")
    assert "居家就业：可以一边工作一边照顾家中 2 人" in page
    assert "该成员已完成刺绣培训" in page
    body = {"member": str(mother), "opening": str(embroidery["id"]), "once_key": once_key(page)}
    assert cw.post(f"/jobs/requests/{request_id}/place", body).status_code == 302
    # Three months on: the follow-up is due.
    db.session().execute(update(Placement).values(starts_on=date.today() - timedelta(days=95)))
    from models import PlacementFollowUp

    db.session().execute(
        update(PlacementFollowUp).where(PlacementFollowUp.months == 3).values(due_on=date.today() - timedelta(days=3))
    )
    db.commit()
    page = cw.text("/jobs/placements")
    assert "待回访（1）" in page
    assert "已到期" in page
    placement = db.session().execute(select(Placement.id)).scalar_one()
    db.session.remove()
    done = cw.post(
        f"/jobs/placements/{placement}/follow-ups/3",
        {"still_working": "yes", "earnings": "1500", "notes": "在家刺绣", "once_key": once_key(page)},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:400]
    page = cw.text("/jobs/placements")
    assert "待回访（0）" in page
    assert "仍在岗" in page
    assert "收入 ¥1,500" in page

    shop.post(
        f"/api/v1/openings/{embroidery['id']}/orders",
        json={"buyer": "兰州文创公司", "items": "刺绣香包", "quantity": 10, "amount_fen": 30000},
    )
    page = cw.text("/jobs/home-work")
    assert "兰州文创公司" in page
    assert "<strong>刺绣香包</strong>" in page
    assert "马秀兰" in page
    report = cw.text("/jobs/")
    assert "从培训到就业" in report
    assert "100.0%" in report
    sheet = cw.get("/jobs/report.xlsx")
    assert sheet.status_code == 200
    assert load_workbook(io.BytesIO(sheet.data)).active.max_row > 5

    page = coop.text(f"/jobs/openings/{factory['id']}")
    assert "关闭此岗位" in page
    assert coop.post(f"/jobs/openings/{factory['id']}/close", {}).status_code == 302
    assert "已关闭" in coop.text(f"/jobs/openings/{factory['id']}")
    assert "Close this opening" not in coop.text(f"/jobs/openings/{factory['id']}?lang=en")
    english = cw.text(f"/jobs/requests/{request_id}/matches?lang=en")
    assert "For whom" in english
