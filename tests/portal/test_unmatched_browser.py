"""In a real Chromium: a need no partner could take heads the caseworker's list, with the
reasons in Chinese and the actions; retrying with nobody new leaves it there, and a
referral by hand to a named organisation — whose answers the caseworker then records
on the household page — takes it off the list and, once the help is given, completes
it."""

from __future__ import annotations

import pytest

from broker.platform import db
from models import AidRequest
from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import need

pytestmark = pytest.mark.browser


def _state(request_id: int) -> tuple[str, str]:
    db.session.remove()
    req = db.session().get(AidRequest, request_id)
    found = (req.status, req.routing_state)
    db.session.remove()
    return found


def test_caseworker_sees_the_unmatched_need_first_and_refers_it_by_hand(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    loop = build_loop(
        as_role,
        make_user,
        login,
        worker,
        needs=(need("counselling", "normal", None, "母亲长期陪护"), need("employment", "high", None, "父亲失业，求职")),
    )
    counselling, jobless = loop.request_ids
    assert _state(jobless) == ("active", "unmatched")
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(loop.caseworker, PASSWORD)
    section = page.locator("#unmatched")
    section.get_by_role("heading", name="没有合作方能承接的需求（1）").wait_for()
    # At the top of the list: above the search and the households table.
    assert section.bounding_box()["y"] < page.locator("main table").bounding_box()["y"]
    text = section.inner_text()
    assert "就业支持" in text
    assert "已转入就业匹配：请在匹配页为家庭成员选择岗位或培训。" in text  # no partner: job matching
    assert "不提供此类帮扶" in text
    assert page.locator(f"#unmatched-{counselling}").count() == 0
    caseworker.shoot("caseworker-unmatched")

    # Retry with nobody new: routed again, and back at the top.
    section.get_by_role("button", name="重新匹配").click()
    page.get_by_text(f"请求 {jobless} 正在重新匹配。").wait_for()
    worker()
    assert _state(jobless) == ("active", "unmatched")
    caseworker.goto("/caseworker/")
    page.locator(f"#unmatched-{jobless}").wait_for()

    # Refer by hand to a named organisation.
    page.locator(f"#unmatched-{jobless}").get_by_text("人工转介给机构").click()
    page.get_by_label("或填写新机构名称").fill("海淀区就业服务中心")
    page.get_by_label("联系方式（可选）").fill("010-6250 0000")
    page.locator(f"#refer-{jobless}").click()
    page.get_by_text("转介已记录：收到机构答复后请登记。").wait_for()
    assert page.locator("#unmatched").count() == 0
    assert _state(jobless) == ("active", "offered")

    # On the household page, the organisation's answers.
    caseworker.goto(f"/caseworker/households/{loop.household_id}#request-{jobless}")
    card = page.locator(f"#request-{jobless}")
    assert "海淀区就业服务中心" in card.inner_text()
    card.get_by_label("机构的答复").select_option(label="已承接")
    card.get_by_role("button", name="记录答复").click()
    page.get_by_text("机构的答复已记录。").wait_for()
    assert _state(jobless) == ("active", "covered")
    card = page.locator(f"#request-{jobless}")
    card.get_by_label("机构的答复").select_option(label="已提供帮扶")
    card.get_by_role("button", name="记录答复").click()
    page.get_by_text("机构的答复已记录。").wait_for()
    assert _state(jobless) == ("completed", "covered")
    assert "已完成" in page.locator(f"#request-{jobless} h3").inner_text()
