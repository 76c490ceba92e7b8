"""Restricted funds (定向/专项) in a real Chromium, in Chinese, on a phone: the admin
records the federation's serious-illness fund as money for medical needs only; the
partner's fund page lists its parts; the auditor's dashboard shows balances per
restriction. Screenshots at 375 and 1280 px; no page wider than the phone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import FundRestriction
from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser


def test_a_restricted_deposit_shows_as_a_part_of_the_fund_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    loop = build_loop(as_role, make_user, login, worker)
    admin = visitors("zh")
    admin.page.set_viewport_size({"width": 375, "height": 800})
    admin.sign_in(make_user("admin"), PASSWORD)
    admin.goto(f"/admin/partners/{loop.partner_id}/deposit")
    page = admin.page
    page.get_by_label("金额（元）").fill("500000")
    page.get_by_label("项目名称（如：大病救助专项基金）").fill("大病救助专项基金")
    page.get_by_role("group", name="仅限以下需求类别").get_by_label("医疗援助").check()
    admin.shoot("restricted-deposit-form")
    page.get_by_role("button", name="登记入账").click()
    page.get_by_text("已向").first.wait_for()
    assert page.get_by_role("cell", name="大病救助专项基金（限医疗援助；不限网格；无截止日）").count() == 1
    admin.shoot("restricted-deposit-done")

    db.session.remove()
    (restriction,) = db.session().scalars(select(FundRestriction)).all()
    assert (restriction.categories, restriction.programme) == (["medical"], "大病救助专项基金")

    partner = visitors("zh")
    partner.page.set_viewport_size({"width": 375, "height": 800})
    partner.sign_in(loop.partner, PASSWORD)
    partner.goto("/partner/fund")
    assert partner.page.get_by_role("heading", name="资金构成").count() == 1
    assert partner.page.get_by_text("非定向资金").count() >= 1
    partner.shoot("partner-fund-parts")

    auditor = visitors("zh")
    auditor.page.set_viewport_size({"width": 375, "height": 800})
    auditor.sign_in(loop.auditor, PASSWORD)
    auditor.goto("/auditor/")
    section = auditor.page.locator("section#restrictions")
    assert section.get_by_role("heading", name="定向资金余额").count() == 1
    assert section.get_by_text("¥500,000").count() >= 1
    section.scroll_into_view_if_needed()
    auditor.shoot("auditor-fund-parts")
