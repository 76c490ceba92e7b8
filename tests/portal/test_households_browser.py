"""In a real Chromium, in Chinese: the caseworker finds the household, adds a member with
a resident ID (a misread digit is explained first), and puts a request on hold and
takes it up again — and every page of the registry fits a 375-px phone without
sideways scrolling, with screenshots at 375 and 1280 px."""

from __future__ import annotations

import pytest

from broker.platform import db
from models import AidRequest, Member
from tests.conftest import PASSWORD
from tests.portal.conftest import another_id_number
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser

NEW_ID = another_id_number(88)
BAD_CHECKSUM = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")


def _fits(page) -> bool:
    """Nothing on the page makes it scroll sideways at 375 px."""
    page.set_viewport_size({"width": 375, "height": 900})
    fits = page.evaluate("document.documentElement.scrollWidth <= 375")
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def _status(request_id: int) -> str:
    db.session.remove()
    status = db.session().get(AidRequest, request_id).status
    db.session.remove()
    return status


def test_find_the_household_add_a_member_and_act_on_a_request_in_chinese(loop, visitors):  # noqa: F811
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(loop.caseworker, PASSWORD)
    assert _fits(page)
    caseworker.shoot("caseworker-home")

    # Find the household.
    page.get_by_role("textbox", name="查找住户").fill("张建国")
    page.get_by_role("button", name="搜索").click()
    page.locator("main table").get_by_role("link", name="张建国").click()
    page.get_by_role("heading", name="家庭成员（2人）").wait_for()
    assert page.locator("details#details-visits").get_attribute("open") is None  # folded
    assert _fits(page)
    caseworker.shoot("caseworker-household")

    # Add a member: a misread digit is explained, then the right number is saved.
    page.get_by_role("link", name="添加成员").first.click()
    page.get_by_label("姓名").fill("李秀英")
    page.get_by_label("与户主关系").select_option(label="配偶")
    page.get_by_label("身份证号").fill(BAD_CHECKSUM)
    page.get_by_role("button", name="保存成员").click()
    page.get_by_text("最后一位校验码与前面的数字不符").wait_for()
    assert _fits(page)
    caseworker.shoot("caseworker-member-refused")
    page.get_by_label("身份证号").fill(NEW_ID)
    page.get_by_label("慢性病").check()
    page.get_by_role("button", name="保存成员").click()
    page.get_by_text("成员已添加。").wait_for()
    page.get_by_role("heading", name="家庭成员（3人）").wait_for()
    members = page.locator("ul.people").inner_text()
    assert NEW_ID[:6] + "********" + NEW_ID[14:] in members
    assert NEW_ID not in page.content()
    db.session.remove()
    assert db.session().query(Member).filter_by(household_id=loop.household_id, name="李秀英").count() == 1

    # Act on a request: hold it with a reason, then take it up again.
    medical = loop.request_ids[0]
    card = page.locator(f"#request-{medical}")
    card.locator("details.hold > summary").click()
    card.get_by_label("暂缓原因（可选）").fill("家属陪护外出")
    card.locator(f"#hold-{medical}").click()
    page.get_by_text(f"请求 {medical} 已暂缓。").wait_for()
    assert _status(medical) == "on-hold"
    page.locator(f"#resume-{medical}").click()
    page.get_by_text(f"请求 {medical} 已恢复办理。").wait_for()
    assert _status(medical) == "active"

    # Every other page of the registry fits a phone.
    household = f"/caseworker/households/{loop.household_id}"
    db.session.remove()
    head = db.session().query(Member).filter_by(household_id=loop.household_id).order_by(Member.id).first()
    for path, name in (
        ("/caseworker/households/new", "caseworker-household-new"),
        (f"{household}/edit", "caseworker-household-edit"),
        (f"{household}/state", "caseworker-household-state"),
        (f"{household}/members/{head.id}/edit", "caseworker-member-edit"),
        (f"{household}/members/{head.id}/deceased", "caseworker-member-deceased"),
        ("/caseworker/?state=inactive", "caseworker-home-inactive"),
        (f"{household}/visit", "caseworker-visit"),
        (f"{household}/assessment", "caseworker-assessment"),
    ):
        caseworker.goto(path)
        assert _fits(page), path
        caseworker.shoot(name)
