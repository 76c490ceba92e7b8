"""In a real Chromium, on a 375-px phone and in Chinese (and the report once in English):
the caseworker records a left-behind child from the household page, makes a mentor plan,
records a contact with a concern on the plan's page, reads the care figures, and records
that the child left the group when the parents came home."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import CareContact
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import make_world

pytestmark = pytest.mark.browser
API = "/api/v1"


def test_a_caseworker_cares_for_a_left_behind_child_on_a_phone(
    as_role,
    make_user,
    login,
    visitors,  # noqa: F811 - the fixture imported above
):
    world = make_world(as_role, make_user, login)
    username = make_user("caseworker", grids=(world.grid,))
    household = world.household(
        head="王桂兰",
        members=[
            {"name": "王桂兰", "relation": "head", "birth_date": "1956-02-11", "sex": "F"},
            {"name": "王小宇", "relation": "grandchild", "birth_date": "2015-09-01", "sex": "M"},
        ],
    )
    db.session.remove()
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(username, PASSWORD)
    page.set_viewport_size({"width": 375, "height": 800})
    caseworker.goto(f"/caseworker/households/{household}")
    section = page.locator("#care")
    section.get_by_role("heading", name="特殊群体与关爱计划").wait_for()
    section.get_by_role("link", name="登记特殊群体").click()
    page.get_by_label("成员").select_option(label="王小宇")
    page.get_by_label("特殊群体").select_option(label="留守儿童")
    page.get_by_label("信息来源").select_option(label="走访发现")
    caseworker.shoot("care-special-group-form")
    page.get_by_role("button", name="保存特殊群体登记").click()
    page.get_by_text("特殊群体已登记。").wait_for()
    assert "留守儿童" in page.locator("#care").inner_text()

    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#care").get_by_role("link", name="建立关爱计划").click()
    page.get_by_label("关爱对象").select_option(label="王小宇 · 留守儿童")
    page.get_by_label("计划类型").select_option(label="梦想导师")
    page.get_by_label("联系频次").select_option(label="每周")
    mentor = page.locator("#carer-mentor")
    mentor.get_by_label("姓名").fill("李梦")
    mentor.get_by_label("电话").fill("139 0931 0001")
    mentor.get_by_label("所在单位").fill("崇信县志愿者协会")
    caseworker.shoot("care-plan-form")
    page.get_by_role("button", name="建立关爱计划").click()
    page.get_by_text("关爱计划已建立。").wait_for()

    # Right after the visit, on the phone: the contact and the concern it raised.
    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_label("联系人").select_option(label="李梦")
    page.get_by_label("方式").select_option(label="上门探访")
    page.get_by_label("联系内容").fill("辅导数学作业，聊了学校的事")
    page.get_by_label("反映的问题（会通知社工）").fill("晚上一个人在家会害怕")
    caseworker.shoot("care-contact-form")
    page.get_by_role("button", name="保存联系记录").click()
    page.get_by_text("联系已记录，按时完成。").wait_for()
    contacts = page.locator("#contacts").inner_text()
    assert "辅导数学作业" in contacts
    assert "晚上一个人在家会害怕" in contacts
    caseworker.shoot("care-plan-with-contact")
    db.session.remove()
    assert db.session().execute(select(CareContact.summary)).scalars().all() == ["辅导数学作业，聊了学校的事"]
    db.session.remove()

    caseworker.goto("/caseworker/")
    page.locator("#care-link").click()
    page.get_by_role("heading", name="特殊群体关爱").wait_for()
    assert "结对帮扶儿童数" in page.content()
    assert page.locator("svg.chart").count() == 2
    caseworker.shoot("care-report")

    # The parents came home: the child leaves the group, and the plan ends with it.
    caseworker.goto(f"/caseworker/households/{household}")
    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#care").get_by_role("link", name="离开该群体…").click()
    page.get_by_role("heading", name="成员离开特殊群体").wait_for()
    page.get_by_label("离开原因").select_option(label="情况变化（如父母返乡）")
    caseworker.shoot("care-group-end-form")
    page.get_by_role("button", name="登记离开该群体").click()
    page.get_by_text("已登记：该成员已离开该群体，1 个关爱计划随之结束。").wait_for()
    care = page.locator("#care").inner_text()
    assert "情况变化（如父母返乡）" in care
    assert "建立关爱计划" not in care
    caseworker.shoot("care-group-ended")

    english = visitors("en")
    english.sign_in(username, PASSWORD)
    english.goto("/care/?lang=en")
    english.page.get_by_role("heading", name="Care for special groups").wait_for()
    english.shoot("care-report")
