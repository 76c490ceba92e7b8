"""Setting up the broker in a real headless Chromium, in Chinese: an admin adds a grid, a
partner reached by webhook (its signing secret masked on the edit page, kept when left
blank), a deposit into its fund sent twice at once (one deposit), and a caseworker on
the grid, who then signs in. Every admin page fits a 375-pixel phone; screenshots at 375
and 1280 pixels go to tests/artifacts/screenshots/admin-*.png. Also in English: the
pages read in English, with the same checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from broker.money import funds
from broker.platform import db
from broker.referral import partners
from models import Grid, LedgerTransaction, Partner, User
from tests.conftest import PASSWORD, unique
from tests.portal.test_browser import Visitor
from tests.portal.test_browser_forms import SEND_TWICE

pytestmark = pytest.mark.browser

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
TEXT = {
    "zh": {
        "add_grid": "新增网格",
        "grid_code": "网格编码",
        "grid_name": "网格名称",
        "district": "区",
        "street": "街道",
        "community": "社区",
        "save_grid": "保存网格",
        "grid_added": "已新增网格",
        "add_partner": "新增合作方",
        "adapter": "邀约送达方式（对接方式）",
        "choose": "选择",
        "webhook": "网络回调（Webhook）",
        "name": "合作方名称",
        "medical": "医疗援助",
        "everywhere": "所有地区（全部网格）",
        "url": "合作方系统的接收地址（网址）",
        "secret": "签名密钥",
        "save_partner": "保存合作方",
        "partner_added": "已新增合作方",
        "edit": "编辑",
        "keep_secret": "留空则保留原密钥",
        "saved": "已保存",
        "deposit": "登记入账",
        "amount": "金额（元）",
        "donor": "来源（捐赠方或拨款）",
        "add_user": "新增用户",
        "username": "用户名",
        "password": "密码",
        "role": "角色",
        "caseworker": "社工",
        "save_user": "保存账号",
        "user_added": "已创建",
        "bad_url": "请输入以 http:// 或 https:// 开头的网址",
        "households": "我的住户",
    },
    "en": {
        "add_grid": "Add a grid",
        "grid_code": "Grid code",
        "grid_name": "Grid name",
        "district": "District",
        "street": "Street",
        "community": "Community",
        "save_grid": "Save grid",
        "grid_added": "added",
        "add_partner": "Add a partner",
        "adapter": "How offers reach it (adapter)",
        "choose": "Choose",
        "webhook": "Webhook",
        "name": "Partner name",
        "medical": "Medical aid",
        "everywhere": "Everywhere (all grids)",
        "url": "Address of the partner's system (URL)",
        "secret": "Signing secret",
        "save_partner": "Save partner",
        "partner_added": "added",
        "edit": "Edit",
        "keep_secret": "Leave empty to keep the secret",
        "saved": "saved",
        "deposit": "Record a deposit",
        "amount": "Amount (yuan)",
        "donor": "Source (donor or grant)",
        "add_user": "Add a user",
        "username": "Username",
        "password": "Password",
        "role": "Role",
        "caseworker": "Caseworker",
        "save_user": "Save account",
        "user_added": "created",
        "bad_url": "Enter a web address beginning with http:// or https://.",
        "households": "My households",
    },
}


@pytest.fixture
def visitors(chromium, live_server, screenshots) -> Iterator[Any]:
    """Browser tabs, one per person (as in test_browser.py); no CSP violation allowed."""
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


def _set_up_in_the_browser(lang: str, make_user: Any, visitors: Any) -> None:
    t = TEXT[lang]
    admin = visitors(lang)
    page, main = admin.page, admin.page.locator("main")
    admin.sign_in(make_user("admin"), PASSWORD)
    shoot = admin.shoot

    # A grid.
    code = unique("HD-ZGC-")
    admin.goto("/admin/grids")
    main.get_by_role("link", name=t["add_grid"]).click()
    page.get_by_label(t["grid_code"]).fill(code)
    page.get_by_label(t["grid_name"]).fill("中关村东路第一网格")
    page.get_by_label(t["district"], exact=True).fill("海淀区")
    page.get_by_label(t["street"], exact=True).fill("中关村街道")
    page.get_by_label(t["community"], exact=True).fill("科源社区")
    main.get_by_role("button", name=t["save_grid"]).click()
    page.get_by_text(t["grid_added"]).first.wait_for()
    assert _fresh().execute(select(Grid.name).where(Grid.code == code)).scalar_one() == "中关村东路第一网格"
    shoot("admin-grids")

    # A partner reached by webhook: choose the adapter, its settings appear.
    name = unique("科源社区互助基金")
    admin.goto("/admin/partners")
    main.get_by_role("link", name=t["add_partner"]).click()
    page.get_by_label(t["adapter"]).select_option("webhook")
    main.get_by_role("button", name=t["choose"], exact=True).click()
    page.get_by_label(t["url"]).wait_for()
    page.get_by_label(t["name"], exact=True).fill(name)
    main.get_by_label(t["medical"]).check()
    main.get_by_label(t["everywhere"]).check()
    page.get_by_label(t["url"]).fill("not a url")
    page.get_by_label(t["secret"]).fill(SECRET)
    main.get_by_role("button", name=t["save_partner"]).click()
    page.get_by_text(t["bad_url"]).wait_for()  # refused beside the field, in the page's language
    if lang == "zh":
        shoot("admin-partner-refused")
    page.get_by_label(t["url"]).fill("https://partner.example.cn/aid")
    page.get_by_label(t["secret"]).fill(SECRET)
    main.get_by_role("button", name=t["save_partner"]).click()
    page.get_by_text(t["partner_added"]).first.wait_for()
    partner = _fresh().execute(select(Partner).where(Partner.name == name)).scalar_one()
    assert partner.adapter == "webhook"
    shoot("admin-partners")

    # Its edit page: the secret is not on it, and left blank it is kept.
    admin.goto(f"/admin/partners/{partner.id}/edit")
    secret_box = page.get_by_label(t["secret"])
    assert secret_box.input_value() == ""
    assert secret_box.get_attribute("placeholder") == "••••"
    assert SECRET not in page.content()
    assert t["keep_secret"] in main.inner_text()
    shoot("admin-partner-edit")
    page.get_by_label(t["url"]).fill("https://partner.example.cn/aid/v2")
    main.get_by_role("button", name=t["save_partner"]).click()
    page.get_by_text(t["saved"]).first.wait_for()
    stored = _fresh().get(Partner, partner.id)
    assert stored.adapter_config["url"] == "https://partner.example.cn/aid/v2"
    assert partners.partner_info(_fresh(), stored).config["secret"] == SECRET

    # A deposit, the form sent twice at the same moment: deposited once.
    admin.goto(f"/admin/partners/{partner.id}/deposit")
    page.get_by_label(t["amount"]).fill("20,000")
    page.get_by_label(t["donor"]).fill("爱心企业 星辰科技有限公司")
    shoot("admin-deposit")
    answers = page.evaluate(SEND_TWICE, f'form[action="/admin/partners/{partner.id}/deposit"][method="post"]')
    assert [status for status, _ in answers] == [200, 200]
    assert funds.balances(_fresh(), partner.id)["available_fen"] == 2_000_000
    deposits = _fresh().execute(select(LedgerTransaction).where(LedgerTransaction.partner_id == partner.id)).all()
    assert len(deposits) == 1

    # A caseworker on the new grid, who then signs in.
    username = unique("li-")
    admin.goto("/admin/users")
    main.get_by_role("link", name=t["add_user"]).click()
    page.get_by_label(t["username"]).fill(username)
    page.get_by_label(t["password"], exact=True).fill("long-enough-1")
    page.get_by_label(t["role"]).select_option("caseworker")
    main.get_by_label(f"中关村东路第一网格 ({code})").check()
    if lang == "zh":
        shoot("admin-user-new")
    main.get_by_role("button", name=t["save_user"]).click()
    page.get_by_text(t["user_added"]).first.wait_for()
    user = _fresh().execute(select(User).where(User.username == username)).scalar_one()
    assert user.role == "caseworker"
    shoot("admin-users")
    admin.goto(f"/admin/users/{user.id}/edit")
    shoot("admin-user-edit")
    admin.goto(f"/admin/users/{user.id}/password")
    shoot("admin-user-password")
    admin.goto(f"/admin/grids/{code}/edit")
    shoot("admin-grid-edit")
    admin.goto("/admin/")
    shoot("admin-home")

    worker = visitors(lang)
    worker.sign_in(username, "long-enough-1")
    assert t["households"] in worker.page.locator("nav").inner_text()


def test_an_admin_sets_up_the_broker_in_chinese(make_user, visitors):
    _set_up_in_the_browser("zh", make_user, visitors)


def test_an_admin_sets_up_the_broker_in_english(make_user, visitors):
    _set_up_in_the_browser("en", make_user, visitors)
