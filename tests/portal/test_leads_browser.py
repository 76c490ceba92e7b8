"""In a real Chromium, on a 375-pixel phone: a courier signs up on the public page and
reports a household with a photo from the camera; the grid's caseworker finds it on the
day page and the leads list, opens the lead and records the visit with a new household;
the courier's page says that someone went. In Chinese, and the reporter's pages in
English too. Screenshots at 375 and 1280 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import pytest

from broker.platform import db
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import make_world
from tests.support.images import png

pytestmark = pytest.mark.browser


def test_a_courier_reports_and_the_caseworker_visits_on_a_phone(
    as_role,
    make_user,
    login,
    visitors,  # noqa: F811 - the fixture imported above
):
    world = make_world(as_role, make_user, login)
    caseworker_name = make_user("caseworker", grids=(world.grid,))
    db.session.remove()

    rider = visitors("zh")
    page = rider.page
    page.set_viewport_size({"width": 375, "height": 800})
    rider.goto("/reporters/join")
    page.get_by_role("heading", name="成为移动网格员", exact=True).wait_for()
    page.get_by_label("姓名", exact=True).fill("王骑手")
    page.get_by_label("手机号", exact=True).fill("13712345678")
    page.get_by_label("你的身份", exact=True).select_option("courier")
    page.get_by_label("公司或单位（选填）", exact=True).fill("美团外卖武昌站")
    page.get_by_label("登录用户名", exact=True).fill("wang-rider")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("我同意社工保存我的姓名和电话，以便跟进我的上报。", exact=True).check()
    rider.shoot("reporter-join")
    page.locator("main").get_by_role("button", name="注册成为移动网格员").click()
    page.get_by_text("感谢注册。").wait_for()
    rider.sign_in("wang-rider", PASSWORD)
    page.get_by_role("heading", name="上报一户人家", exact=True).wait_for()
    page.get_by_label("地址", exact=True).fill("科源社区中关村东路8号2单元301")
    page.get_by_label("你看到了什么？", exact=True).fill("独居老人，最近几次送餐都没人开门")
    page.get_by_label("紧急程度", exact=True).select_option("urgent")
    page.get_by_label("照片（选填）", exact=True).set_input_files(
        {"name": "door.png", "mimeType": "image/png", "buffer": png(320, 240)}
    )
    rider.shoot("reporter-form")
    page.get_by_role("button", name="提交上报").click()
    page.locator("#my-leads").get_by_text("等待走访").wait_for()
    rider.shoot("reporter-leads")

    caseworker = visitors("zh")
    cw = caseworker.page
    caseworker.sign_in(caseworker_name, PASSWORD)
    cw.locator("#leads-to-visit").wait_for()
    caseworker.shoot("caseworker-day-leads")
    caseworker.goto("/caseworker/leads")
    cw.get_by_role("heading", name="移动网格员的走访线索", exact=True).wait_for()
    cw.set_viewport_size({"width": 375, "height": 800})
    caseworker.shoot("caseworker-leads")
    cw.locator("#leads-waiting").get_by_role("link").first.click()
    cw.locator("#lead-seen").wait_for()
    caseworker.shoot("caseworker-lead")
    cw.get_by_label("户主姓名（新家庭）", exact=True).fill("陈阿婆")
    cw.get_by_label("出生日期", exact=True).fill("1938-04-02")
    cw.get_by_label("走访发现", exact=True).fill("独居，腿脚不便，需要陪同就医")
    cw.locator("#lead-visit").get_by_role("button", name="记录本次走访").click()
    cw.locator("#lead-outcome").wait_for()
    caseworker.shoot("caseworker-lead-visited")

    rider.goto("/reporter/")
    page.locator("#my-leads").get_by_text("已走访").wait_for()
    assert "陈阿婆" not in page.content()
    rider.goto("/reporter/?lang=en")
    page.get_by_role("heading", name="Report a household", exact=True).wait_for()
    rider.lang = "en"
    rider.shoot("reporter-leads")
    assert not rider.problems, rider.problems
    assert not caseworker.problems, caseworker.problems
