"""In a real Chromium on a phone, in Chinese and in English: a caseworker opens a family
with a child, and the auditor finds that read under "who looked" (谁查看过), filters
by the caseworker and by the household, and follows the links — screenshots at 375 and
1280 px, no page wider than the phone."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {
        "nav": "谁查看过",
        "user": "用户（登录名）",
        "filter": "筛选",
        "household": "家庭编号",
        "minors": "未成年人信息",
    },
    "en": {
        "nav": "Who looked",
        "user": "User (sign-in name)",
        "filter": "Filter",
        "household": "Household no.",
        "minors": "Children's details",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_auditor_sees_who_looked_at_a_family_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
    lang,
):
    """The caseworker's read of the household page is listed with the fields and the page."""
    loop = build_loop(as_role, make_user, login, worker)
    words = WORDS[lang]
    caseworker = visitors(lang)
    caseworker.sign_in(loop.caseworker, PASSWORD)
    caseworker.goto(f"/caseworker/households/{loop.household_id}")
    caseworker.page.locator("main h1").wait_for()

    auditor = visitors(lang)
    page = auditor.page
    page.set_viewport_size({"width": 375, "height": 800})
    auditor.sign_in(loop.auditor, PASSWORD)
    page.locator("header").get_by_role("link", name=words["nav"]).click()
    page.get_by_role("heading", name=words["nav"], exact=True).wait_for()
    page.get_by_label(words["user"]).fill(loop.caseworker)
    page.locator("main").get_by_role("button", name=words["filter"]).click()
    page.wait_for_url(f"**/auditor/access-log?*user={loop.caseworker}*")
    main = page.locator("main").inner_text()
    assert loop.caseworker in main
    assert words["minors"] in main  # the son's details were shown
    assert f"/caseworker/households/{loop.household_id}" in main
    assert auditor.fits_phone()
    auditor.shoot("auditor-access-log")

    page.locator("main .item").first.get_by_role("link", name=f"{words['household']}").click()
    page.wait_for_url(f"**/auditor/access-log?household={loop.household_id}")
    assert loop.caseworker in page.locator("main").inner_text()
