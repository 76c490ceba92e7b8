"""In a real Chromium, in Chinese, on a 375-px phone: the caseworker records a household's
residence, assets and medical spending, and a member's kind of disability and legal
supporter; the household page shows them, and a bad amount is explained beside its
field. Screenshots at 375 and 1280 px."""

from __future__ import annotations

import pytest

from broker.platform import db
from models import Household
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser


def _household(household_id: int) -> Household:
    db.session.remove()
    household = db.session().get(Household, household_id)
    _ = household.members
    return household


def test_record_assets_medical_spending_and_a_supporter_in_chinese(loop, visitors):  # noqa: F811
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(loop.caseworker, PASSWORD)
    caseworker.goto(f"/caseworker/households/{loop.household_id}/edit")
    page.get_by_role("group", name="家庭财产与医疗支出（低保核对用）").wait_for()

    # A bad amount is explained beside its field; nothing is saved.
    page.get_by_label("家庭金融资产（元）").fill("很多")
    page.get_by_role("button", name="保存住户").click()
    page.locator(".has-error").first.wait_for()
    assert _household(loop.household_id).financial_assets_fen == 0
    caseworker.shoot("household-assets-refused")

    page.get_by_label("城乡类别").select_option(label="农村")
    page.get_by_label("家庭金融资产（元）").fill("12,000.50")
    page.get_by_label("拥有机动车（辆）").fill("1")
    page.get_by_label("自付医疗费用（元）").fill("24000")
    page.get_by_label("医疗费用按").select_option(label="每年")
    caseworker.shoot("household-assets-form")
    page.get_by_role("button", name="保存住户").click()
    page.get_by_text("住户信息已保存。").wait_for()
    saved = _household(loop.household_id)
    assert (saved.residence, saved.financial_assets_fen, saved.motor_vehicles) == ("rural", 1200050, 1)
    assert (saved.medical_spending_fen, saved.medical_spending_period, saved.medical_spending_monthly_fen) == (
        2400000,
        "yearly",
        200000,
    )

    # A member: a grade-3 intellectual disability, no able legal supporter.
    member = saved.members[0]
    caseworker.goto(f"/caseworker/households/{loop.household_id}/members/{member.id}/edit")
    page.get_by_label("残疾等级").select_option(label="3级")
    page.get_by_label("残疾类别").select_option(label="智力残疾")
    page.get_by_label("法定赡养、抚养、扶养义务人").select_option(label="无法定义务人，或其无履行义务能力")
    caseworker.shoot("member-supporter-form")
    page.get_by_role("button", name="保存成员").click()
    page.get_by_text("成员信息已保存。").wait_for()
    changed = _household(loop.household_id).members[0]
    assert (changed.disability_grade, changed.disability_kind, changed.supporter_able) == (3, "intellectual", False)

    page.locator("details#details-household > summary").click()
    details = page.locator("details#details-household").inner_text()
    assert "农村" in details
    assert "¥12,000.50" in details
    assert "每年" in details
    assert "无法定义务人，或其无履行义务能力" in page.locator("ul.people").inner_text()
    caseworker.shoot("household-assets-shown")
