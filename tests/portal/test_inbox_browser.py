"""In a real Chromium, in Chinese, on a phone: a partner declines, the caseworker sees the
unread count in the header, opens the inbox, follows a notification to the household,
marks everything read, and chooses a WeCom group robot — with screenshots at 375 and
1280 px, and no page wider than the phone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import Notification, NotificationChannel
from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def _count(model: type, *where: object) -> int:
    db.session.remove()
    n = db.session().execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    db.session.remove()
    return n


def test_caseworker_reads_notifications_and_chooses_a_robot_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    loop = build_loop(as_role, make_user, login, worker)
    (client,) = loop.world.partner_clients.values()
    medical = loop.request_ids[0]
    resp = client.post(f"/api/v1/offers/{loop.offer_ids[0]}/reject", json={"reason": "本季度预算已用完"})
    assert resp.status_code == 200, resp.get_json()
    worker()
    db.session.remove()

    caseworker = visitors("zh")
    page = caseworker.page
    page.set_viewport_size({"width": 375, "height": 800})
    caseworker.sign_in(loop.caseworker, PASSWORD)
    link = page.locator("header").get_by_role("link", name="通知 2 条未读")
    link.wait_for()
    assert caseworker.fits_phone()
    link.click()
    page.get_by_role("heading", name="通知", exact=True).wait_for()
    main = page.locator("main").inner_text()
    assert f"需求 #{medical} 没有合作方能够承接" in main
    assert "谢绝了需求" in main
    caseworker.shoot("caseworker-inbox")

    # A notification leads to the request on the household page.
    page.locator("main .notification").first.get_by_role("link", name="查看详情").click()
    page.wait_for_url(f"**/caseworker/households/{loop.household_id}#request-{medical}")

    caseworker.goto("/inbox/")
    page.get_by_role("button", name="全部标为已读").click()
    page.get_by_text("已将 2 条通知标为已读。").wait_for()
    assert page.locator("header").get_by_role("link", name="通知", exact=True).count() == 1
    assert _count(Notification, Notification.read_at.is_(None)) == 0

    # Choose a WeCom group robot; the key is never shown back.
    page.get_by_role("link", name="也通过邮件、企业微信或钉钉接收").click()
    section = page.locator("#channel-wecom")
    section.get_by_label("地址").fill(WECOM_URL)
    section.get_by_role("button", name="保存").click()
    page.get_by_text("已保存，通知也会发送到这里。").wait_for()
    assert "正在发送到 …5aaa" in page.locator("#channel-wecom").inner_text()
    assert "693a91f6" not in page.content()
    assert _count(NotificationChannel) == 1
    caseworker.shoot("caseworker-channels")
