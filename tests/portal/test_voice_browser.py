"""In a real Chromium, on a 375-pixel phone, in Chinese: a neighbour raises a concern on
the public page without an account and looks it up by its reference (state and dates
only); the community's caseworker answers it before its deadline and the public page
says it is closed; an objection to a public notice, raised from the notice's code, is
not answered and is escalated to the auditor, whose dashboard and list show it; the
caseworker prints the public notice with masked names. The public page in English too.
Screenshots at 375 and 1280 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from broker import jobs
from broker.platform import db
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import make_world
from tests.support.voice import agree_to_notice, approved_application, past_deadline

pytestmark = pytest.mark.browser
API = "/api/v1"
COMMUNITY = "科源社区"
REFERENCE = re.compile(r"YJ-[0-9A-Z]{4}-[0-9A-Z]{4}")


def test_a_concern_answered_in_time_another_escalated_and_the_notice_printed(
    as_role,
    make_user,
    login,
    visitors,  # noqa: F811 - the fixture imported above
):
    world = make_world(as_role, make_user, login)
    caseworker_name = make_user("caseworker", grids=(world.grid,))
    auditor_name = make_user("auditor")
    members = [{"name": "王秀英", "relation": "head", "birth_date": "1970-02-03", "sex": "F"}]
    household = world.household(head="王秀英", consent=True, members=members)
    cw = login(caseworker_name)
    agree_to_notice(cw, household)
    approved_application(cw, household, "dibao", monthly_amount_fen=62000)
    notice = cw.post(f"{API}/notices", json={"community": COMMUNITY}).get_json()
    db.session.remove()

    # A neighbour, no account, on a phone.
    neighbour = visitors("zh")
    page = neighbour.page
    page.set_viewport_size({"width": 375, "height": 800})
    neighbour.goto("/concerns/new")
    page.get_by_role("heading", name="意见反馈", exact=True).wait_for()
    neighbour.shoot("concern-new")
    page.get_by_label("反映什么问题？").select_option("not_received")
    page.get_by_label("发生了什么").fill("楼下王阿姨说上个月的补助还没到账。")
    page.get_by_label("联系电话（选填，方便回访）").fill("139 0013 9000")
    page.get_by_label("所在社区（选填）").select_option(COMMUNITY)
    page.locator("main").get_by_role("button", name="提交").click()
    page.get_by_role("heading", name="收到", exact=True).wait_for()
    reference = page.locator("#filed-reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference)
    shown = page.locator("main").inner_text()
    assert "已受理，正在办理" in shown
    assert "补助还没到账" not in shown
    assert "139" not in shown
    neighbour.shoot("concern-received")

    # The caseworker of the community answers it, well before its deadline.
    caseworker = visitors("zh")
    caseworker.sign_in(caseworker_name, PASSWORD)
    caseworker.goto("/caseworker/concerns")
    caseworker.page.get_by_role("heading", name="意见反馈", exact=True).wait_for()
    caseworker.shoot("concern-list")
    caseworker.page.get_by_role("link", name=reference).click()
    caseworker.page.get_by_label("办结答复").fill("已核实：补助因银行卡号有误退回，已更正，本周内补发。")
    caseworker.shoot("concern-answer")
    caseworker.page.get_by_role("button", name="答复并办结").click()
    caseworker.page.get_by_text("已答复并办结。").wait_for()
    assert "已答复办结" in caseworker.page.locator("#state").inner_text()

    # The neighbour looks it up by the reference, typed as people type it.
    neighbour.goto("/concerns/status")
    page.get_by_label("受理编号").fill(reference.lower().replace("-", " "))
    page.locator("main").get_by_role("button", name="查询").click()
    page.locator("#state").wait_for()
    assert page.locator("#state").inner_text() == "已答复办结"
    neighbour.shoot("concern-status-closed")

    # An objection raised from the notice's code is left unanswered past its deadline.
    neighbour.goto(f"/concerns/new?ref={notice['code']}")
    assert page.get_by_label("反映什么问题？").input_value() == "objection"
    page.get_by_label("发生了什么").fill("该户家里开着小卖部，收入不低。")
    page.locator("main").get_by_role("button", name="提交").click()
    page.get_by_role("heading", name="收到", exact=True).wait_for()
    objection = page.locator("#filed-reference").inner_text().strip()
    past_deadline(objection)
    assert jobs.sweep_overdue_concerns() == 1
    assert jobs.sweep_overdue_concerns() == 0
    neighbour.goto(f"/concerns/status?reference={objection}")
    assert page.locator("#state").inner_text() == "已超期，转审计跟进"

    auditor = visitors("zh")
    auditor.sign_in(auditor_name, PASSWORD)
    auditor.goto("/auditor/#voice")
    voice = auditor.page.locator("#voice").inner_text()
    assert "群众意见" in voice
    assert "对公示有异议" in voice
    auditor.page.set_viewport_size({"width": 375, "height": 800})
    assert auditor.fits_phone()
    auditor.shoot("auditor-voice")
    auditor.goto("/caseworker/concerns?state=escalated")
    auditor.page.get_by_role("link", name=objection).wait_for()
    assert auditor.page.get_by_role("button", name="答复并办结").count() == 0

    # The public notice, printed: masked names, the period, the code to object with.
    caseworker.goto(f"/caseworker/notices/{notice['id']}")
    sheet = caseworker.page.locator(".notice-sheet").inner_text()
    assert "王**" in sheet
    assert "王秀英" not in sheet
    assert "最低生活保障" in sheet
    assert notice["code"] in sheet
    assert "620" in sheet
    assert objection in caseworker.page.locator("main").inner_text()  # the objection received in the period
    caseworker.shoot("notice-print")
    caseworker.page.emulate_media(media="print")
    assert caseworker.page.get_by_role("link", name="下载 PDF").is_hidden()


def test_the_public_page_in_english(visitors):  # noqa: F811 - the fixture imported above
    """The same public page in English, on a phone, with nothing in Chinese but the data."""
    visitor = visitors("en")
    visitor.goto("/concerns/new?lang=en")
    visitor.page.get_by_role("heading", name="Raise a concern", exact=True).wait_for()
    visitor.page.get_by_label("What happened").fill("The grant did not arrive.")
    visitor.page.locator("main").get_by_role("button", name="Send").click()
    visitor.page.get_by_role("heading", name="Received", exact=True).wait_for()
    assert "Received, being handled" in visitor.page.locator("main").inner_text()
    visitor.shoot("concern-received")
