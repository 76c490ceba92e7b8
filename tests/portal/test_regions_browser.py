"""The region tree in a real headless Chromium, in Chinese: an admin adds a street under
a district, is refused (beside the field) when moving a district under its own street,
and scopes an auditor to the street; the scoped auditor's dashboard rolls the money up
by region and shows only what lies below the street. Every page fits a 375-pixel phone;
screenshots go to tests/artifacts/screenshots/regions-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from broker.platform import db
from broker.platform.scope import Principal
from broker.registry import grids, regions
from models import Grid, User
from tests.conftest import PASSWORD, unique
from tests.portal.test_browser import Visitor
from tests.support import money

pytestmark = pytest.mark.browser
YUAN = 100


@pytest.fixture
def visitors(chromium, live_server, screenshots) -> Iterator[Any]:
    """Browser tabs, one per person; no CSP violation allowed."""
    opened: list[Visitor] = []

    def open_tab(lang: str = "zh") -> Visitor:
        opened.append(Visitor(chromium, live_server, screenshots, lang))
        return opened[-1]

    yield open_tab
    problems = [p for v in opened for p in v.problems]
    for visitor in opened:
        visitor.close()
    assert problems == [], "the browser reported Content-Security-Policy violations"


def _fresh() -> Any:
    db.session.remove()
    return db.session()


def _money_in_two_streets() -> None:
    """武昌区 with two streets, a grid in each, ¥500 paid on one and ¥300 on the other."""
    session = db.session()
    admin = Principal(user_id=0, username="seed", role="admin")
    for node in (
        {"code": "WC", "name": "武昌区", "kind": "district"},
        {"code": "WC-ZN", "name": "中南路街道", "kind": "street", "parent": "WC"},
        {"code": "WC-ZN-ZN", "name": "中南社区", "kind": "community", "parent": "WC-ZN"},
        {"code": "WC-SY", "name": "首义路街道", "kind": "street", "parent": "WC"},
        {"code": "WC-SY-SY", "name": "首义社区", "kind": "community", "parent": "WC-SY"},
    ):
        regions.create_region(session, admin, node)
    charity = money.partner(session, "市慈善总会", fund_fen=10_000 * YUAN)
    for region, amount in (("WC-ZN-ZN", 500), ("WC-SY-SY", 300)):
        body = {"code": unique("WC-G-"), "name": "网格", "district": "-", "street": "-", "community": "-"}
        grid = grids.create_grid(session, admin, {**body, "region": region})
        req = money.aid_request(session, money.household(session, grid), amount_fen=amount * YUAN)
        offer = money.pledged_offer(session, req, charity, amount * YUAN)
        money.disbursement(session, offer, req, amount * YUAN)
    db.commit()


def test_an_admin_edits_the_tree_and_scopes_an_auditor_who_sees_only_its_street(make_user, visitors):
    _money_in_two_streets()
    auditor = make_user("auditor")
    admin = visitors("zh")
    page, main = admin.page, admin.page.locator("main")
    admin.sign_in(make_user("admin"), PASSWORD)

    # A new street under 武昌区.
    admin.goto("/admin/regions")
    assert "武昌区" in main.inner_text()
    assert "中南路街道" in main.inner_text()
    admin.shoot("regions-tree")
    main.get_by_role("link", name="添加区域").click()
    page.get_by_label("区域编码").fill("WC-ZJ")
    page.get_by_label("区域名称").fill("紫阳街道")
    page.get_by_label("类型", exact=True).select_option("street")
    page.get_by_label("上级区域").select_option("WC")
    admin.shoot("regions-new")
    main.get_by_role("button", name="保存区域").click()
    page.get_by_text("已添加区域 紫阳街道").wait_for()
    assert "紫阳街道" in main.inner_text()

    # 武昌区's own subtree is not offered as its parent; a street with no parent is refused
    # beside the field, and nothing changes.
    admin.goto("/admin/regions/WC/edit")
    options = page.locator("select[name=parent] option").all_inner_texts()
    assert not any("(WC-ZJ)" in o or "(WC-ZN)" in o for o in options)  # its own subtree is not offered
    admin.goto("/admin/regions/WC-ZN/edit")
    page.get_by_label("上级区域").select_option("")
    main.get_by_role("button", name="保存区域").click()
    page.get_by_text("只能直接放在").wait_for()
    admin.shoot("regions-refused")
    assert _fresh().execute(select(Grid.street).where(Grid.street == "中南路街道")).first() is not None

    # The auditor scoped to 中南路街道.
    user_id = _fresh().execute(select(User.id).where(User.username == auditor)).scalar_one()
    admin.goto(f"/admin/users/{user_id}/edit")
    page.get_by_label("区域（仅限审计员和管理员）").select_option("WC-ZN")
    admin.shoot("regions-user-scope")
    main.get_by_role("button", name="保存账号").click()
    page.get_by_text("已保存").first.wait_for()
    assert _fresh().execute(select(User.region_id).where(User.id == user_id)).scalar_one() is not None

    # The scoped auditor's dashboard: ¥500 in all, rolled up by community; 首义路街道 absent.
    reader = visitors("zh")
    reader.sign_in(auditor, PASSWORD)
    reader.goto("/auditor/")
    text = reader.page.locator("main").inner_text()
    assert "按区域汇总" in text
    assert "武昌区 / 中南路街道 发放情况" in text
    assert "中南社区" in text
    assert "首义" not in text
    assert "¥500" in text
    assert "¥800" not in text
    reader.page.locator("#regions details").first.locator("summary").click()
    reader.shoot("regions-dashboard-scoped")
