"""Family volunteer points in a real headless Chromium, on a 375-px phone, in Chinese: the
caseworker records the family's volunteer hours, the family picks an item in the points
shop and it is redeemed with one tap, the statement shows the month; the same page in
English. Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import Grid, Redemption
from tests.conftest import PASSWORD
from tests.portal.test_browser import Visitor
from tests.support import points as enrolled

pytestmark = pytest.mark.browser


def _family() -> tuple[int, str]:
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    enrolled.item(s, price=15, stock=3)
    found = h.id, s.get(Grid, h.grid_id).code
    db.commit()
    db.session.remove()
    return found


def test_a_family_earns_and_redeems_on_the_caseworkers_phone(chromium, live_server, screenshots, make_user):
    household, grid = _family()
    username = make_user("caseworker", grids=(grid,))
    v = Visitor(chromium, live_server, screenshots, "zh")
    try:
        v.page.set_viewport_size({"width": 375, "height": 900})
        v.sign_in(username, PASSWORD)
        v.goto(f"/caseworker/households/{household}")
        v.page.locator("#points-link").click()
        v.page.get_by_label("志愿服务类型").select_option("escort")
        v.page.get_by_label("服务时长（分钟）").fill("120")
        v.page.get_by_label("签到表或记录编号（选填）").fill("签到表-2026-11-07")
        v.page.get_by_role("button", name="增加积分").click()
        v.page.wait_for_load_state()
        assert "已增加 20 积分。" in v.page.inner_text("body")
        assert v.page.locator("#balance-title").inner_text() == "20 积分"
        v.shoot("points-account")
        v.page.locator("#points-shop").get_by_role("button", name="兑换").first.click()
        v.page.wait_for_load_state()
        assert "剩余 5 积分" in v.page.inner_text("body")
        v.shoot("points-redeemed")
        v.page.get_by_role("link", name="月度积分对账单").click()
        v.page.wait_for_load_state()
        assert "月末余额：5" in v.page.inner_text("#statement-summary")
        v.shoot("points-statement")
        assert problems_of(v) == []
    finally:
        v.close()
    db.session.remove()
    assert db.session().execute(select(func.count()).select_from(Redemption)).scalar_one() == 1
    db.session.remove()

    en = Visitor(chromium, live_server, screenshots, "en")
    try:
        en.sign_in(username, PASSWORD)
        en.goto(f"/caseworker/households/{household}/points?lang=en")
        assert "Points shop" in en.page.inner_text("body")
        en.shoot("points-account")
    finally:
        en.close()


def problems_of(visitor: Visitor) -> list[str]:
    return list(visitor.problems)
