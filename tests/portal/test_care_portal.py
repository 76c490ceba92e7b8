"""The care pages in the portal, in Chinese: a caseworker records a left-behind child on
the household page, makes a mentor plan, records a contact (sent twice, kept once), and
reads the figures, the coverage list and the XLSX; a partner named on the plan records a
contact and sees no name without consent; English on ``?lang=en``."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from broker.platform import db
from models import CareContact, CarePlan
from tests.portal.conftest import Portal
from tests.support.aid import make_world

API = "/api/v1"


def once_key(html: str) -> str:
    return html.split('name="once_key" type="hidden" value="')[1].split('"')[0]


def test_a_caseworker_records_a_group_makes_a_plan_and_records_a_contact_once(app, as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    username = make_user("caseworker", grids=(world.grid,))
    household = world.household(
        head="王桂兰",
        members=[
            {"name": "王桂兰", "relation": "head", "birth_date": "1956-02-11", "sex": "F"},
            {"name": "王小宇", "relation": "grandchild", "birth_date": "2015-09-01", "sex": "M"},
        ],
    )
    child = world.caseworker.get(f"{API}/households/{household}").get_json()["members"][1]["id"]
    portal = Portal(app.test_client())
    portal.login(username)
    page = portal.text(f"/caseworker/households/{household}")
    assert "特殊群体与关爱计划" in page
    assert "本户暂无成员登记为特殊群体。" in page

    path = f"/care/households/{household}/special-groups"
    form = portal.text(path)
    assert "留守儿童" in form
    assert "走访发现" in form
    done = portal.post(
        path, {"member": str(child), "group": "left_behind_child", "source": "visit", "once_key": once_key(form)}
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:400]
    page = portal.text(f"/caseworker/households/{household}")
    assert "王小宇</strong> · 留守儿童" in page
    assert "建立关爱计划" in page
    report = portal.text("/care/")
    assert "尚无关爱计划（1）" in report

    path = f"/care/households/{household}/plans/new"
    form = portal.text(path)
    body = {
        "who": f"{child}:left_behind_child",
        "kind": "mentor",
        "schedule": "weekly",
        "mentor-name": "李梦",
        "mentor-phone": "139 0931 0001",
        "mentor-organisation": "崇信县志愿者协会",
        "once_key": once_key(form),
    }
    made = portal.post(path, body)
    assert made.status_code == 302, made.get_data(as_text=True)[:600]
    plan_path = made.headers["Location"]
    plan_page = portal.text(plan_path)
    assert "梦想导师" in plan_page
    assert "李梦" in plan_page
    assert "下次应联系" in plan_page

    plan_id = int(plan_path.rstrip("/").split("/")[-1])
    carer = db.session().execute(select(CarePlan).where(CarePlan.id == plan_id)).scalar_one().carers[0].carer_id
    db.session.remove()
    contact = {
        "carer": str(carer),
        "channel": "visit",
        "summary": "辅导数学作业",
        "concerns": "",
        "new_need-urgency": "normal",
        "once_key": once_key(plan_page),
    }
    first = portal.post(f"/care/plans/{plan_id}/contacts", contact)
    assert first.status_code == 302, first.get_data(as_text=True)[:600]
    again = portal.post(f"/care/plans/{plan_id}/contacts", contact)
    assert again.status_code in (302, 303)
    count = db.session().execute(select(func.count()).select_from(CareContact)).scalar_one()
    db.session.remove()
    assert count == 1
    plan_page = portal.text(plan_path)
    assert "辅导数学作业" in plan_page
    assert "按时" in plan_page

    camps = portal.text("/care/camps")
    assert "王小宇" in camps
    camp = {"grid": world.grid, "title": "周末成长营", "held_on": "2026-11-28", "children": str(plan_id)}
    assert portal.post("/care/camps", {**camp, "once_key": once_key(camps)}).status_code == 302
    assert "1 名结对儿童参加" in portal.text("/care/camps")

    report = portal.text("/care/")
    assert "结对帮扶儿童数" in report
    assert "所有已登记的特殊群体成员都有关爱计划。" in report
    assert "<svg" in report
    book = load_workbook(io.BytesIO(portal.get("/care/report.xlsx").get_data()))
    assert book.active["A1"].value == "网格"
    english = portal.text("/care/?lang=en")
    assert "Children mentored" in english


def test_a_partner_named_on_a_plan_records_a_contact_and_sees_no_name(app, as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    team = world.partner("崇信县志愿者协会", categories=["counselling"], kind="volunteer_team")
    household = world.household(
        head="王桂兰",
        members=[
            {"name": "王桂兰", "relation": "head", "birth_date": "1956-02-11", "sex": "F"},
            {"name": "王小宇", "relation": "grandchild", "birth_date": "2015-09-01", "sex": "M"},
        ],
    )
    child = world.caseworker.get(f"{API}/households/{household}").get_json()["members"][1]["id"]
    world.caseworker.post(
        f"{API}/households/{household}/special-groups",
        json={"member_id": child, "group": "left_behind_child", "source": "visit"},
    )
    plan = world.caseworker.post(
        f"{API}/care-plans",
        json={
            "household_id": household,
            "member_id": child,
            "group": "left_behind_child",
            "kind": "mentor",
            "schedule": "weekly",
            "carers": [{"name": "李梦", "role": "mentor", "partner_id": team["id"]}],
        },
    ).get_json()
    portal = Portal(app.test_client())
    portal.login(make_user("partner", partner_id=team["id"]))
    listed = portal.text("/care/plans")
    assert f"/care/plans/{plan['id']}" in listed
    page = portal.text(f"/care/plans/{plan['id']}")
    assert "王小宇" not in page
    assert "王**" in page
    assert "为该问题登记需求" not in page  # opening a need is the caseworker's
    body = {
        "carer": str(plan["carers"][0]["id"]),
        "channel": "phone",
        "summary": "电话聊天",
        "once_key": once_key(page),
    }
    assert portal.post(f"/care/plans/{plan['id']}/contacts", body).status_code == 302
    assert "电话聊天" in portal.text(f"/care/plans/{plan['id']}")
    assert portal.get("/care/").status_code == 403
