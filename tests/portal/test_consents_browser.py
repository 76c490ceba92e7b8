"""In a real Chromium, in Chinese and in English: on the household page the caseworker
records the son's consent to be contacted by volunteers, signed by his father, with a
photo of the form taken on the phone (a minor without a guardian is refused first), and
withdraws the head's consent to share names, saying why — every step fitting a 375-px
phone, with screenshots."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import Consent
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.images import png

pytestmark = pytest.mark.browser


def _consents(household_id: int) -> list[Consent]:
    db.session.remove()
    stmt = select(Consent).where(Consent.household_id == household_id).order_by(Consent.id)
    found = list(db.session().execute(stmt).scalars())
    db.session.remove()
    return found


def test_record_a_minors_consent_with_a_photo_and_withdraw_one_in_chinese(loop, visitors):  # noqa: F811
    """The consent section works on a phone in Chinese, from the refusal to the withdrawal."""
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(loop.caseworker, PASSWORD)
    caseworker.goto(f"/caseworker/households/{loop.household_id}")
    section = page.locator("#consents")
    section.get_by_role("heading", name="授权同意").wait_for()
    assert section.locator("details#consent-new").get_attribute("open") is not None  # none yet: open
    page.set_viewport_size({"width": 375, "height": 900})
    caseworker.shoot("consents-empty")

    # A minor without a guardian: refused, with the reason.
    section.get_by_label("同意人").select_option(label="张小明")
    section.get_by_label("同意事项").select_option(label="志愿者可与其联系")
    section.get_by_label("同意书编号").fill("同意书-2026-031")
    section.get_by_role("button", name="登记授权").click()
    page.get_by_text("该成员是未成年人，请选择为其签字的监护人。").wait_for()
    assert _consents(loop.household_id) == []
    caseworker.shoot("consents-minor-refused")

    # Signed by the father, with a photo of the form.
    section = page.locator("#consents")
    section.get_by_label("同意人").select_option(label="张小明")
    section.get_by_label("同意事项").select_option(label="志愿者可与其联系")
    section.get_by_label("签字监护人（未成年人须填）").select_option(label="张建国")
    section.get_by_label("同意书编号").fill("同意书-2026-031")
    photo = section.get_by_label("同意书照片")
    assert photo.get_attribute("capture") == "environment"
    photo.set_input_files({"name": "form.png", "mimeType": "image/png", "buffer": png(320, 240)})
    section.get_by_role("button", name="登记授权").click()
    page.get_by_text("授权同意已登记。").wait_for()
    [minor] = _consents(loop.household_id)
    item = page.locator(f"#consent-{minor.id}")
    assert "由监护人张建国签字" in item.inner_text()
    assert item.locator("img").count() == 1
    caseworker.shoot("consents-recorded")

    # The head's consent to share with charities only, then withdrawn with the reason.
    section = page.locator("#consents")
    section.locator("details#consent-new > summary").click()
    section.get_by_label("同意人").select_option(label="张建国")
    section.get_by_label("同意事项").select_option(label="合作方可查看姓名")
    section.get_by_label("红十字会").check()
    section.get_by_label("同意书编号").fill("同意书-2026-032")
    section.get_by_role("button", name="登记授权").click()
    page.get_by_text("授权同意已登记。").wait_for()
    share = _consents(loop.household_id)[-1]
    assert share.partner_kinds == ["red_cross"]
    item = page.locator(f"#consent-{share.id}")
    assert "仅限：红十字会" in item.inner_text()
    item.locator("details > summary").click()
    item.get_by_label("撤回原因").fill("家属担心被邻居认出")
    caseworker.shoot("consents-withdrawing")
    item.get_by_role("button", name="撤回授权").click()
    page.get_by_text("授权已撤回").wait_for()
    assert _consents(loop.household_id)[-1].withdrawal_reason == "家属担心被邻居认出"
    assert "家属担心被邻居认出" in page.locator(f"#consent-{share.id}").inner_text()
    caseworker.shoot("consents-withdrawn")


def test_the_consent_section_reads_in_english(loop, visitors):  # noqa: F811
    """In English the same section names the purposes and the form's fields."""
    caseworker = visitors("en")
    page = caseworker.page
    caseworker.sign_in(loop.caseworker, PASSWORD)
    caseworker.goto(f"/caseworker/households/{loop.household_id}")
    section = page.locator("#consents")
    section.get_by_role("heading", name="Consent").wait_for()
    section.get_by_label("Who agrees").select_option(label="张建国")
    section.get_by_label("To what").select_option(label="Receives text messages")
    section.get_by_label("Number of the signed form").fill("F-2026-040")
    section.get_by_role("button", name="Record the consent").click()
    page.get_by_text("Consent recorded.").wait_for()
    assert "Receives text messages" in page.locator("#consents ul.consents").inner_text()
    caseworker.shoot("consents")
