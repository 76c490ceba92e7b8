"""Forms sent twice, in a real headless Chromium: a disbursement form submitted twice at
once (a slow phone, a second tap) records one disbursement; an assessment sent again
with the same form data after going back creates no second request; the same need typed
in again asks the caseworker to confirm, and is recorded when confirmed. Also the
in-kind form: goods are recorded as items and quantities, with no amount asked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import AidRequest, Disbursement
from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_browser import Visitor
from tests.support.aid import need

pytestmark = pytest.mark.browser

# Send the form's own data (its one-time key included) twice at the same moment, as a
# browser does when the first answer is slow to come and the button is pressed again.
SEND_TWICE = """
async (selector) => {
  const form = document.querySelector(selector);
  const send = () => fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin"});
  const answers = await Promise.all([send(), send()]);
  return answers.map(r => [r.status, new URL(r.url).pathname]);
}
"""
# The form's data as it was when sent, to send again later (Back, then "send again").
FORM_DATA = "form => Array.from(new FormData(form).entries())"
RESEND = """
async ([action, entries]) => {
  const body = new FormData();
  for (const [name, value] of entries) body.append(name, value);
  const answer = await fetch(action, {method: "POST", body, credentials: "same-origin"});
  return [answer.status, new URL(answer.url).pathname, await answer.text()];
}
"""


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


def _count(model, **where) -> int:
    db.session.remove()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    found = db.session().execute(stmt).scalar_one()
    db.session.remove()
    return found


def test_a_disbursement_form_submitted_twice_at_once_records_one(loop, visitors):
    """Both posts of the same form land on the offer page; one ¥1,000 disbursement."""
    partner = visitors("zh")
    partner.sign_in(loop.partner, PASSWORD)
    page = partner.page
    offer_id = loop.offer_ids[0]
    partner.goto(f"/partner/offers/{offer_id}")
    page.locator("main").get_by_role("button", name=partner.t["accept"]).click()
    page.get_by_text(partner.t["accepted"]).wait_for()
    page.get_by_label(partner.t["amount"], exact=True).fill("1,000")
    page.get_by_label(partner.t["reference"]).fill("YH-2026-1201")
    answers = page.evaluate(SEND_TWICE, f'form[action="/partner/offers/{offer_id}/disbursements"]')
    assert answers == [[200, f"/partner/offers/{offer_id}"]] * 2
    assert _count(Disbursement, offer_id=offer_id) == 1
    partner.goto(f"/partner/offers/{offer_id}")
    rows = page.locator("main section[aria-labelledby=disb-title] tbody tr")
    assert rows.count() == 1
    assert "YH-2026-1201" in rows.first.inner_text()
    assert "¥1,000.00" in rows.first.inner_text()


def test_an_assessment_sent_again_after_going_back_creates_no_second_request(loop, visitors, worker):
    """Save an assessment, go back, send the same form again: the caseworker lands on the
    household page with the same message, and there is still one new request."""
    caseworker = visitors("zh")
    caseworker.sign_in(loop.caseworker, PASSWORD)
    page = caseworker.page
    caseworker.goto(f"/caseworker/households/{loop.household_id}/assessment")
    page.locator("#needs-0-category").select_option("living")
    page.locator("#needs-0-amount").fill("800")
    page.locator("#needs-0-description").fill("冬季取暖费")
    form = page.locator("main form")
    sent = form.evaluate(FORM_DATA)
    action = form.get_attribute("action")
    before = _count(AidRequest, household_id=loop.household_id)
    page.locator("main").get_by_role("button", name="保存需求评估").click()
    page.wait_for_url(f"**/caseworker/households/{loop.household_id}")
    said = page.locator(".flashes").inner_text()
    page.go_back()
    status, landed, html = page.evaluate(RESEND, [action, sent])
    assert (status, landed) == (200, f"/caseworker/households/{loop.household_id}")
    shown = html[html.find('class="flashes"') :][:600]  # what the page said instead, should it not say that
    assert said in html, shown
    assert _count(AidRequest, household_id=loop.household_id) == before + 1
    worker()
    assert _count(AidRequest, household_id=loop.household_id) == before + 1


def test_the_same_need_typed_in_again_is_confirmed_in_the_browser(loop, visitors):
    """A fresh form with the same need shows the earlier request with "Record it anyway";
    nothing is recorded until the caseworker presses it."""
    caseworker = visitors("zh")
    caseworker.sign_in(loop.caseworker, PASSWORD)
    page = caseworker.page

    def fill_and_save() -> None:
        caseworker.goto(f"/caseworker/households/{loop.household_id}/assessment")
        page.locator("#needs-0-category").select_option("living")
        page.locator("#needs-0-amount").fill("800")
        page.locator("#needs-0-description").fill("冬季取暖费")
        page.locator("main").get_by_role("button", name="保存需求评估").click()

    fill_and_save()
    page.wait_for_url(f"**/caseworker/households/{loop.household_id}")
    before = _count(AidRequest, household_id=loop.household_id)
    fill_and_save()
    page.locator("#possible-duplicate").wait_for()
    assert "这项需求似乎已经登记过" in page.locator("#possible-duplicate").inner_text()
    assert _count(AidRequest, household_id=loop.household_id) == before
    page.get_by_role("button", name="仍然登记").click()
    page.wait_for_url(f"**/caseworker/households/{loop.household_id}")
    assert _count(AidRequest, household_id=loop.household_id) == before + 1


def test_a_counselling_session_is_recorded_in_the_browser(as_role, make_user, login, worker, visitors):
    """A service offer asks for no amount: the partner records the session's date, hours,
    who gave it and notes, and no money moves (in English)."""
    loop = build_loop(
        as_role, make_user, login, worker, needs=(need("counselling", "normal", None, "陪护家属心理疏导"),)
    )
    partner = visitors("en")
    partner.sign_in(loop.partner, PASSWORD)
    page = partner.page
    partner.goto(f"/partner/offers/{loop.offer_ids[0]}")
    page.locator("main").get_by_role("button", name="Accept").click()
    page.get_by_text("Record each session as you give it").wait_for()
    assert page.get_by_label("Amount (yuan)", exact=True).count() == 0
    page.get_by_label("Date of the session").fill("2026-11-30")
    page.get_by_label("Hours", exact=True).fill("2")
    page.get_by_label("Delivered by").fill("Ms Wang")
    page.get_by_label("Notes (optional)").fill("first session")
    page.locator("main").get_by_role("button", name="Record session").click()
    page.get_by_text("Session of 2 hours on 2026-11-30 recorded.").wait_for()
    assert "Ms Wang" in page.locator("main section[aria-labelledby=disb-title]").inner_text()
    db.session.remove()
    row = db.session().execute(select(Disbursement)).scalar_one()
    assert (row.kind, row.minutes, row.amount_fen, row.transaction_id) == ("service", 120, 0, None)
    db.session.remove()


def test_goods_are_recorded_as_items_in_the_browser(loop, make_user, worker, visitors):
    """An in-kind offer asks for no amount: the partner lists the items handed over, in
    Chinese, and no money moves."""
    world = loop.world
    shop = world.partner("爱心超市", kind="charity", categories=["in_kind"])
    world.assess(loop.household_id, need("in_kind", "normal", None, "冬季被褥和大米"))
    worker()
    (offer,) = world.offers_of("爱心超市")
    db.session.remove()
    partner = visitors("zh")
    partner.sign_in(make_user("partner", partner_id=shop["id"]), PASSWORD)
    page = partner.page
    partner.goto(f"/partner/offers/{offer['id']}")
    page.locator("main").get_by_role("button", name=partner.t["accept"]).click()
    page.get_by_text("发放物资时请登记").wait_for()
    assert page.get_by_label(partner.t["amount"], exact=True).count() == 0
    for row, (name, quantity, unit) in enumerate((("大米", "10", "公斤"), ("棉被", "2", "床"))):
        page.locator(f"#items-{row}-name").fill(name)
        page.locator(f"#items-{row}-quantity").fill(quantity)
        page.locator(f"#items-{row}-unit").fill(unit)
    page.locator("main").get_by_role("button", name="登记发放物资").click()
    page.get_by_text("已登记发放物资：2 项。").wait_for()
    listed = page.locator("main section[aria-labelledby=disb-title]").inner_text()
    assert "大米 × 10 公斤" in listed
    assert "棉被 × 2 床" in listed
    db.session.remove()
    row = db.session().execute(select(Disbursement)).scalar_one()
    assert (row.kind, row.amount_fen, row.transaction_id) == ("in_kind", 0, None)
    assert row.items == [
        {"name": "大米", "quantity": 10, "unit": "公斤"},
        {"name": "棉被", "quantity": 2, "unit": "床"},
    ]
    db.session.remove()
