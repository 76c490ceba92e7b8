"""A caseworker's whole day in a real Chromium, once in Chinese and once in English:
find the household, record a visit, add a member with a resident ID, assess a new need,
read the policy package, file an application with a phone photo and hand it in with the
department's reference number, put a request on hold and take it up again, and read the
notifications that a partner's refusal and the day's routing left — every page at 375
and 1280 px (screenshots), none wider than the phone.

What each page says is looked up in the portal's own catalogue for the language, so the
test proves the reader sees their language, not a fixed string."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.support import Translations
from sqlalchemy import func, select

from broker.platform import db
from models import AidRequest, Application, ApplicationFile, Member, Notification, Visit
from tests.conftest import PASSWORD
from tests.portal.conftest import another_id_number, build_loop
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.images import png

pytestmark = pytest.mark.browser

CATALOGUE = Path(__file__).resolve().parents[2] / "broker" / "portal" / "translations"
LOCALE = {"zh": "zh_CN", "en": "en"}


def say(lang: str, msgid: str, **params: object) -> str:
    """What the portal shows for ``msgid`` in ``lang``."""
    text = Translations.load(str(CATALOGUE), [LOCALE[lang]]).gettext(msgid)
    return text % params if params else text


def _count(model: type, *where: object) -> int:
    db.session.remove()
    n = db.session().execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.remove()
    return n


def _status(request_id: int) -> str:
    db.session.remove()
    status = db.session().get(AidRequest, request_id).status
    db.session.remove()
    return status


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_caseworkers_whole_day(lang, as_role, make_user, login, worker, visitors):  # noqa: F811
    loop = build_loop(as_role, make_user, login, worker, id_number=another_id_number(40 + len(lang)))
    (partner,) = loop.world.partner_clients.values()
    medical, counselling = loop.request_ids
    refused = partner.post(f"/api/v1/offers/{loop.offer_ids[0]}/reject", json={"reason": "本季度预算已用完"})
    assert refused.status_code == 200, refused.get_json()
    worker()

    tab = visitors(lang)
    page = tab.page
    tab.sign_in(loop.caseworker, PASSWORD)
    tab.shoot("day-home")

    # Find the household.
    page.locator("#q").fill("张建国")
    page.locator("form[role=search] button[type=submit]").click()
    page.locator("main").get_by_role("link", name="张建国").first.click()
    page.locator("#members-title").wait_for()
    tab.shoot("day-household")
    household = page.url

    # Record a visit.
    page.locator('a[href$="/visit"]').first.click()
    page.locator('[name="findings"]').fill("入户走访：孩子化疗第二周期，家属情绪稳定")
    page.locator("form.card button[type=submit]").click()
    page.get_by_text(say(lang, "Visit recorded.")).wait_for()
    assert _count(Visit, Visit.household_id == loop.household_id) >= 1

    # Add a member with a resident ID; the page shows it masked.
    new_id = another_id_number(60 + len(lang))
    page.locator('a[href$="/members/new"]').first.click()
    page.locator('[name="member-name"]').fill("李秀英")
    page.locator('[name="member-relation"]').select_option("spouse")
    page.locator('[name="member-id_number"]').fill(new_id)
    tab.shoot("day-member-new")
    page.locator("main form button[type=submit]").first.click()
    page.get_by_text(say(lang, "Member added.")).wait_for()
    assert new_id[:6] + "********" + new_id[14:] in page.locator("ul.people").inner_text()
    assert new_id not in page.content()
    assert _count(Member, Member.household_id == loop.household_id, Member.name == "李秀英") == 1

    # Assess a new need: schooling costs, which routing offers to the Red Cross.
    page.locator('a[href$="/assessment"]').first.click()
    page.locator('[name="summary"]').fill("复访：孩子开学在即")
    page.locator('[name="needs-0-category"]').select_option("schooling")
    page.locator('[name="needs-0-urgency"]').select_option("normal")
    page.locator('[name="needs-0-amount"]').fill("800")
    page.locator('[name="needs-0-description"]').fill("新学期学杂费")
    tab.shoot("day-assessment")
    page.locator("main form button[type=submit]").last.click()
    page.locator("#members-title").wait_for()
    worker()
    assert _count(AidRequest, AidRequest.household_id == loop.household_id, AidRequest.category == "schooling") == 1

    # The policy package, then an application filed from it with a phone photo.
    page.goto(household)
    page.locator("details#details-policy > summary").click()
    package = page.locator("details#details-policy").inner_text()
    assert "income_per_capita" not in package
    assert "_fen" not in package
    page.locator('details#details-policy a[href*="/applications/new"]').first.click()
    tab.shoot("day-application-new")
    page.locator("main form button[type=submit]").click()
    page.get_by_text(say(lang, "Application started: gather the documents on the checklist.")).wait_for()
    upload = page.locator('input[type="file"]').first
    assert upload.get_attribute("accept") == "image/*"
    upload.set_input_files({"name": "hukou.png", "mimeType": "image/png", "buffer": png(320, 240)})
    upload.locator("xpath=ancestor::form").locator("button[type=submit]").click()
    page.get_by_text(say(lang, "Photo kept; the document is ticked.")).wait_for()
    # The other papers are in hand: tick them, then hand it in with the reference number.
    checklist = page.locator('form[action$="/documents"]')
    for box in checklist.locator('input[type="checkbox"]').all():
        box.check()
    checklist.locator("button[type=submit]").click()
    page.get_by_text(say(lang, "Checklist saved.")).wait_for()
    step = page.locator("#next-step")
    step.locator('[name="status"]').select_option("submitted")
    step.locator('[name="reference"]').fill("民受〔2026〕207号")
    step.locator("button[type=submit]").click()
    page.get_by_text(say(lang, "Step recorded: %(status)s.", status=say(lang, "Submitted"))).wait_for()
    tab.shoot("day-application")
    db.session.remove()
    application = db.session().execute(select(Application)).scalars().one()
    assert application.reference == "民受〔2026〕207号"
    assert _count(ApplicationFile) == 1

    # Act on a request: hold it, then take it up again.
    page.goto(household)
    card = page.locator(f"#request-{counselling}")
    card.locator("details.hold > summary").click()
    card.locator(f"#hold-{counselling}").click()
    page.get_by_text(say(lang, "Request %(id)s is on hold.", id=counselling)).wait_for()
    assert _status(counselling) == "on-hold"
    page.locator(f"#resume-{counselling}").click()
    page.get_by_text(say(lang, "Request %(id)s is active again.", id=counselling)).wait_for()
    assert _status(counselling) == "active"

    # Read the notifications the day left: the refusal and the request no one could take.
    unread = _count(Notification, Notification.read_at.is_(None))
    assert unread >= 2
    page.locator('header a[href$="/inbox/"]').click()
    notices = page.locator("main .notification")
    notices.first.wait_for()
    assert notices.count() == unread
    tab.shoot("day-inbox")
    assert f"#{medical}" in page.locator("main").inner_text()
    page.locator('form[action$="/read-all"] button[type=submit]').click()
    page.get_by_text(say(lang, "%(n)s notification(s) marked as read.", n=unread)).wait_for()
    assert _count(Notification, Notification.read_at.is_(None)) == 0
