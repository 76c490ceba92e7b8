"""The portal in a real headless Chromium, against the app served on 127.0.0.1.

The closed loop through the browser: a partner signs in, accepts the medical offer,
records the disbursement (with a receipt), and accepts, serves and completes the
counselling offer; the caseworker then sees both requests completed on the household
page; the auditor's dashboard shows the amount. Once in Chinese and once in English.
Also: a form posted without its CSRF token is refused, another partner's offer is not
found, the pages fit a 375-pixel phone, the skip link is the first stop for the
keyboard, and no page breaks the Content-Security-Policy. Screenshots of the main
pages at 375 and 1280 pixels go to tests/artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.platform import db
from models import AidRequest, Offer
from tests.portal.conftest import ID_NUMBER, another_id_number, build_loop

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
TEXT = {
    "zh": {
        "username": "用户名",
        "password": "密码",
        "sign_in": "登录",
        "sign_out": "退出登录",
        "accept": "接受",
        "disburse": "登记发放",
        "complete": "标记为办结",
        "amount": "金额（元）",
        "reference": "凭证号（转账流水号、收据号）",
        "evidence": "凭证（收据照片或 PDF）",
        "session_date": "服务日期",
        "hours": "时长（小时）",
        "delivered_by": "服务提供人",
        "record_session": "登记服务",
        "session_recorded": "的服务，时长 1.5 小时",
        "accepted": "您已接受该邀约",
        "recorded": "已登记发放 ¥1,234.50",
        "completed_offer": "邀约已办结",
        "completed": "已完成",
        "inbox": "帮扶邀约",
        "medical": "医疗援助",
        "counselling": "心理慰藉",
        "coverage": "走访覆盖",
        "skip": "跳到正文",
        "csrf": "表单已过期或并非从本站提交",
        "not_found": "未找到",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "accept": "Accept",
        "disburse": "Record disbursement",
        "complete": "Mark as completed",
        "amount": "Amount (yuan)",
        "reference": "Reference (transfer no., receipt no.)",
        "evidence": "Evidence (photo or PDF of the receipt)",
        "session_date": "Date of the session",
        "hours": "Hours",
        "delivered_by": "Delivered by",
        "record_session": "Record session",
        "session_recorded": "Session of 1.5 hours on",
        "accepted": "You accepted the offer",
        "recorded": "Disbursement of ¥1,234.50 recorded",
        "completed_offer": "The offer is completed",
        "completed": "Completed",
        "inbox": "Offers",
        "medical": "Medical aid",
        "counselling": "Counselling",
        "coverage": "Visit coverage",
        "skip": "Skip to main content",
        "csrf": "The form had expired or was not sent from this site",
        "not_found": "Not found",
    },
}


class Visitor:
    """One person's browser tab: their own cookies, CSP violations collected."""

    def __init__(self, chromium: Any, base: str, shots: Path, lang: str) -> None:
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.base = base
        self.shots = shots
        self.lang = lang
        self.t = TEXT[lang]
        self.problems: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused to" in message.text):
            self.problems.append(message.text)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, username: str, password: str) -> None:
        self.goto("/login")
        if self.lang == "en" and self.page.get_by_role("button", name="English").count():
            self.page.get_by_role("button", name="English").click()
        self.page.get_by_label(self.t["username"]).fill(username)
        self.page.get_by_label(self.t["password"]).fill(password)
        self.page.locator("main").get_by_role("button", name=self.t["sign_in"]).click()
        self.page.wait_for_url(lambda url: "/login" not in url)
        self.page.wait_for_load_state()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name=self.t["sign_out"]).click()

    def fits_phone(self) -> bool:
        """At 375 px nothing makes the page scroll sideways (wide tables scroll in their own box)."""
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def shoot(self, name: str) -> None:
        """Screenshots at phone and desktop width; the phone one must not scroll sideways."""
        prefix = "" if self.lang == "zh" else "en-"
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            if width == 375:
                assert self.fits_phone(), f"{name} is wider than a 375-px phone"
            self.page.screenshot(path=str(self.shots / f"{prefix}{name}-{width}px.png"), full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitors(chromium, live_server, screenshots) -> Iterator[Any]:
    opened: list[Visitor] = []

    def open_tab(lang: str = "zh") -> Visitor:
        visitor = Visitor(chromium, live_server, screenshots, lang)
        opened.append(visitor)
        return visitor

    yield open_tab
    problems = [p for v in opened for p in v.problems]
    for visitor in opened:
        visitor.close()
    assert problems == [], "the browser reported Content-Security-Policy violations"


def _status(model: Any, row_id: int) -> str:
    db.session.remove()
    status = db.session().get(model, row_id).status
    db.session.remove()
    return status


def _closed_loop(lang: str, loop: Any, visitors: Any, worker: Any, *, shots: bool) -> None:
    from tests.conftest import PASSWORD

    partner = visitors(lang)
    t = partner.t
    page = partner.page
    partner.goto("/login")
    if shots and lang == "zh":
        partner.shoot("login")
    partner.sign_in(loop.partner, PASSWORD)
    page.get_by_role("heading", name=t["inbox"], exact=True).wait_for()
    assert "¥1,234.50" in page.content()
    if shots:
        partner.shoot("partner-inbox")

    # The medical offer: accept the whole amount, pay it out with a receipt.
    page.locator("main").get_by_role("link", name=t["medical"]).first.click()
    assert ID_NUMBER not in page.content()
    if shots:
        partner.shoot("offer")
    page.locator("main").get_by_role("button", name=t["accept"]).click()
    page.get_by_text(t["accepted"]).wait_for()
    page.get_by_label(t["amount"], exact=True).fill("1,234.50")
    page.get_by_label(t["reference"]).fill("YH-2024-0718")
    page.get_by_label(t["evidence"]).set_input_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 receipt"}
    )
    page.locator("main").get_by_role("button", name=t["disburse"]).click()
    page.get_by_text(t["recorded"]).wait_for()
    assert t["completed"] in page.locator("main").inner_text()
    assert _status(Offer, loop.offer_ids[0]) == "completed"

    # The counselling offer: a service, no money; accept, record a session, complete it.
    partner.goto("/partner/")
    page.locator("main").get_by_role("link", name=t["counselling"]).first.click()
    page.locator("main").get_by_role("button", name=t["accept"]).click()
    page.get_by_text(t["accepted"]).wait_for()
    assert page.get_by_label(t["amount"], exact=True).count() == 0
    page.get_by_label(t["session_date"]).fill("2026-11-30")
    page.get_by_label(t["hours"], exact=True).fill("1.5")
    page.get_by_label(t["delivered_by"]).fill("王老师")
    page.locator("main").get_by_role("button", name=t["record_session"]).click()
    page.get_by_text(t["session_recorded"]).wait_for()
    assert "王老师" in page.locator("main").inner_text()
    page.locator("main").get_by_role("button", name=t["complete"]).click()
    page.get_by_text(t["completed_offer"]).wait_for()
    partner.sign_out()
    page.get_by_label(t["username"]).wait_for()
    worker()
    assert [_status(AidRequest, rid) for rid in loop.request_ids] == ["completed", "completed"]

    # The caseworker sees both requests completed on the household page.
    caseworker = visitors(lang)
    caseworker.sign_in(loop.caseworker, PASSWORD)
    caseworker.page.locator("main").get_by_role("link", name="张建国").first.click()
    main = caseworker.page.locator("main")
    for rid in loop.request_ids:  # closed requests are folded on the page: read them unopened
        assert t["completed"] in main.locator(f"#request-{rid} h3").text_content()
    assert ID_NUMBER not in caseworker.page.content()
    if shots:
        caseworker.shoot("household")
        caseworker.goto("/caseworker/coverage")
        caseworker.page.get_by_role("heading", name=t["coverage"], exact=True).wait_for()
        caseworker.shoot("coverage")

    # The auditor's dashboard shows the amount.
    auditor = visitors(lang)
    auditor.sign_in(loop.auditor, PASSWORD)
    auditor.page.locator("svg.chart").first.wait_for()
    dashboard = auditor.page.locator("main").inner_text()
    assert "¥1,234.50" in dashboard
    assert t["medical"] in auditor.page.locator("svg#by-category").text_content()
    if shots:
        auditor.shoot("auditor-dashboard")
        auditor.goto("/auditor/ledger")
        auditor.shoot("auditor-ledger")


def test_closed_loop_in_chinese(loop, visitors, worker):
    """Partner accepts, disburses and completes; the caseworker sees it completed; the
    auditor sees the amount — in Chinese."""
    _closed_loop("zh", loop, visitors, worker, shots=True)


def test_closed_loop_in_english(loop, visitors, worker):
    """The same closed loop, read in English after switching the language on the sign-in page."""
    _closed_loop("en", loop, visitors, worker, shots=True)


def test_form_without_csrf_token_is_refused_in_the_browser(loop, visitors):
    """Removing the CSRF token from the accept form makes the server refuse it with a 400
    page; the offer is untouched."""
    from tests.conftest import PASSWORD

    partner = visitors("zh")
    partner.sign_in(loop.partner, PASSWORD)
    partner.goto(f"/partner/offers/{loop.offer_ids[0]}")
    partner.page.locator("main input[name=csrf_token]").evaluate_all("nodes => nodes.forEach(n => n.remove())")
    with partner.page.expect_response(lambda r: r.url.endswith("/accept")) as answer:
        partner.page.locator("main").get_by_role("button", name=partner.t["accept"]).click()
    assert answer.value.status == 400
    assert partner.t["csrf"] in partner.page.content()
    assert _status(Offer, loop.offer_ids[0]) == "received"


def test_another_partners_offer_is_not_found_in_the_browser(as_role, make_user, login, worker, visitors):
    """A partner typing another partner's offer address gets the 404 page."""
    from tests.conftest import PASSWORD

    first = build_loop(as_role, make_user, login, worker)
    second = build_loop(as_role, make_user, login, worker, id_number=another_id_number(23))
    intruder = visitors("zh")
    intruder.sign_in(second.partner, PASSWORD)
    intruder.page.get_by_role("heading", name=intruder.t["inbox"], exact=True).wait_for()
    response = intruder.goto(f"/partner/offers/{first.offer_ids[0]}")
    assert response.status == 404
    assert intruder.t["not_found"] in intruder.page.locator("h1").inner_text()


def test_keyboard_reaches_the_skip_link_first(loop, visitors):
    """With a keyboard alone, the first Tab stop is the skip link, and it leads to the main content."""
    from tests.conftest import PASSWORD

    caseworker = visitors("zh")
    caseworker.sign_in(loop.caseworker, PASSWORD)
    page = caseworker.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == caseworker.t["skip"]
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
