"""Receipts (签收) in a real headless Chromium, in Chinese, on a 375-px phone: the family
signs with a finger on the caseworker's phone (the canvas), another delivery is
confirmed with the code the family got by SMS (through a real RQ worker and a local SMS
gateway); a delivery left unconfirmed past the partner's days heads the caseworker's
home page and the partner's list, and the auditor's reconciliation counts it; the
receipt slip prints the link for concerns. Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from broker.platform import db, runtime
from models import Disbursement, Receipt
from models.base import utcnow
from tests.conftest import PASSWORD
from tests.portal.test_browser import Visitor
from tests.referral.test_receipts import paid
from tests.support.aid import make_world
from tests.support.receivers import SmsGateway

pytestmark = pytest.mark.browser


@pytest.fixture
def tabs(chromium, live_server, screenshots) -> Iterator[Any]:
    opened: list[Visitor] = []

    def open_tab() -> Visitor:
        visitor = Visitor(chromium, live_server, screenshots, "zh")
        visitor.page.set_viewport_size({"width": 375, "height": 900})
        opened.append(visitor)
        return visitor

    yield open_tab
    problems = [p for v in opened for p in v.problems]
    for visitor in opened:
        visitor.close()
    assert problems == [], "the browser reported Content-Security-Policy violations"


def _receipt(disbursement_id: int) -> Receipt | None:
    db.session.remove()
    found = db.session().execute(select(Receipt).where(Receipt.disbursement_id == disbursement_id)).scalar_one_or_none()
    db.session.remove()
    return found


def _sign(page: Any) -> None:
    """A finger's stroke across the signature area."""
    box = page.locator("#signature-pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(x + w * (0.1 + 0.07 * i), y + h * (0.6 - 0.3 * (i % 2)))
    page.mouse.up()


def test_the_family_confirms_on_the_caseworkers_phone_and_the_unconfirmed_show(
    as_role, make_user, login, worker, tabs, monkeypatch
):
    """Signature on screen and SMS code each record a receipt; the unconfirmed delivery is
    on the caseworker's and the partner's lists and in the auditor's reconciliation."""
    world = make_world(as_role, make_user, login)
    signed, coded, late = paid(world, worker), paid(world, worker), paid(world, worker)
    db.session().execute(
        update(Disbursement)
        .where(Disbursement.id == late["disbursement"])
        .values(created_at=utcnow() - timedelta(days=9))
    )
    db.commit()
    caseworker = make_user("caseworker", grids=(world.grid,))
    auditor = make_user("auditor")
    with SmsGateway() as gateway:
        monkeypatch.setitem(runtime.settings(), "SMS_GATEWAY_URL", gateway.url)
        tab = tabs()
        page = tab.page
        tab.sign_in(caseworker, PASSWORD)
        assert "家庭未签收（1）" in page.locator("#unreceived").inner_text()
        tab.shoot("caseworker-home-unreceived")

        tab.goto(f"/caseworker/households/{signed['household']}")
        section = page.locator("#received")
        assert "等待家庭签收" in section.inner_text()
        tab.shoot("household-received")
        section.get_by_role("link", name="签收", exact=True).click()
        page.get_by_role("heading", name="请家属在此签名").wait_for()
        assert page.get_by_role("button", name="保存签名").is_disabled()
        tab.shoot("receipt")
        _sign(page)
        page.get_by_role("button", name="保存签名").click()
        page.get_by_text("已登记签收：家庭确认已收到。").wait_for()
        assert _receipt(signed["disbursement"]).method == "signature"
        assert "已签收" in page.locator(f"#delivered-{signed['disbursement']}").inner_text()

        tab.goto(f"/caseworker/disbursements/{coded['disbursement']}/receipt")
        page.get_by_role("button", name="发送短信验证码").click()
        page.get_by_text("验证码已发送到 138****8000").wait_for()
        worker()
        message = next(m["message"] for m in gateway.sent if "验证码" in m["message"])
        code = re.search(r"\b(\d{6})\b", message).group(1)
        page.get_by_label("家属收到的验证码").fill("000000" if code != "000000" else "111111")
        page.get_by_role("button", name="用验证码签收").click()
        page.get_by_text("验证码不对，还可以再试 4 次。").wait_for()
        page.get_by_label("家属收到的验证码").fill(code)
        page.get_by_role("button", name="用验证码签收").click()
        page.get_by_text("已登记签收：家庭确认已收到。").wait_for()
        assert _receipt(coded["disbursement"]).method == "code"

        tab.goto(f"/caseworker/disbursements/{late['disbursement']}/slip")
        assert f"/concerns/new?ref=R{late['disbursement']}" in page.locator("#slip").inner_text()
        tab.shoot("receipt-slip")

    partner = tabs()
    partner_user = make_user("partner", partner_id=world.partners[late["partner"]]["id"])
    partner.sign_in(partner_user, PASSWORD)
    partner.goto("/partner/unreceived")
    assert partner.page.locator(f"#unreceived-{late['disbursement']}").count() == 1
    partner.shoot("partner-unreceived")

    audit = tabs()
    audit.sign_in(auditor, PASSWORD)
    audit.goto("/auditor/reconciliation")
    assert audit.page.locator("#overdue-count").inner_text() == "1"
    audit.shoot("auditor-reconciliation")
