"""The notifications inbox in the portal: a partner's answers and a request no partner
could take reach the caseworker's inbox in Chinese, newest first, each leading to the
household; the unread count on every page; marking one or all read (twice is no harm);
another user's notification is not found; and the page where a caseworker chooses email
or a work-group robot, which never shows a robot's key back."""

from __future__ import annotations

from sqlalchemy import func, select

from broker.platform import db
from models import AuditEvent, Notification
from tests.portal.conftest import PASSWORD

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def decline_the_medical_offer(loop, worker) -> int:
    """The partner declines the medical offer; with nobody else to ask, it is unmatched."""
    (client,) = loop.world.partner_clients.values()
    offer = loop.offer_ids[0]
    resp = client.post(f"/api/v1/offers/{offer}/reject", json={"reason": "本季度预算已用完"})
    assert resp.status_code == 200, resp.get_json()
    worker()
    db.session.remove()
    return loop.request_ids[0]


def unread() -> int:
    stmt = select(func.count()).select_from(Notification).where(Notification.read_at.is_(None))
    return db.session().execute(stmt).scalar_one()


def test_the_inbox_lists_newest_first_in_chinese_and_marks_read(portal, loop, worker):
    rid = decline_the_medical_offer(loop, worker)
    portal.login(loop.caseworker)
    home = portal.text("/caseworker/")
    assert "通知" in home
    assert "2 条未读" in home  # the count is on every page

    html = portal.text("/inbox/")
    failed = html.index(f"需求 #{rid} 没有合作方能够承接")
    declined = html.index(f"谢绝了需求 #{rid}，平台将转给其他合作方")
    assert failed < declined  # newest first
    assert f'href="/caseworker/households/{loop.household_id}#request-{rid}"' in html
    assert "No partner" not in html

    notes = db.session().execute(select(Notification.id).order_by(Notification.id)).scalars().all()
    assert len(notes) == 2
    db.session.remove()
    resp = portal.post(f"/inbox/{notes[1]}/read")
    assert resp.status_code == 302
    assert portal.post(f"/inbox/{notes[1]}/read").status_code == 302  # sent twice: no harm
    assert unread() == 1
    only_unread = portal.text("/inbox/?unread=1")
    assert "谢绝了需求" in only_unread
    assert "没有合作方能够承接" not in only_unread
    assert "1 条未读" in only_unread

    assert portal.post("/inbox/read-all", {"unread": "1"}).status_code == 302
    assert portal.post("/inbox/read-all").status_code == 302
    assert unread() == 0
    page = portal.text("/inbox/?unread=1")
    assert "没有未读通知" in page
    assert "条未读" not in page
    events = db.session().execute(select(AuditEvent.action).where(AuditEvent.action.like("notification.%")))
    assert sorted(events.scalars()) == ["notification.all_read", "notification.read"]


def test_only_the_owner_reads_a_notification(portal, new_portal, loop, worker, make_user):
    decline_the_medical_offer(loop, worker)
    note = db.session().execute(select(Notification.id)).scalars().first()
    db.session.remove()
    colleague = new_portal()
    colleague.login(make_user("caseworker"))
    assert "没有未读通知" not in colleague.text("/inbox/")
    assert "暂无通知" in colleague.text("/inbox/")
    assert colleague.post(f"/inbox/{note}/read").status_code == 404
    assert unread() == 2
    partner = new_portal()
    partner.login(loop.partner)
    assert partner.get("/inbox/").status_code == 403
    assert "条未读" not in partner.text("/partner/")


def test_choosing_a_channel_checks_it_and_never_shows_the_key(portal, loop):
    portal.login(loop.caseworker)
    page = portal.text("/inbox/channels")
    assert "企业微信群机器人" in page
    assert "钉钉群机器人" in page
    assert "平台尚未配置邮件服务器" in page

    bad = portal.post("/inbox/channels/email", {"email-channel": "email", "email-target": "not-an-address"})
    assert bad.status_code == 422
    assert "请输入电子邮件地址" in bad.get_data(as_text=True)
    wrong_host = portal.post(
        "/inbox/channels/wecom",
        {"wecom-channel": "wecom", "wecom-target": "https://evil.example.org/cgi-bin/webhook/send?key=abcdefgh12"},
    )
    assert wrong_host.status_code == 422
    assert "请粘贴群设置中显示的机器人 Webhook 地址" in wrong_host.get_data(as_text=True)

    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    for _ in range(2):  # sent twice: kept once
        resp = portal.post("/inbox/channels/wecom", {"wecom-channel": "wecom", "wecom-target": url})
        assert resp.status_code == 302
    page = portal.text("/inbox/channels")
    assert "正在发送到 …5aaa" in page
    assert WECOM_KEY not in page
    changes = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.channel_set")
    assert db.session().execute(changes).scalar_one() == 1
    db.session.remove()

    assert portal.post("/inbox/channels/wecom/remove").status_code == 302
    assert portal.post("/inbox/channels/wecom/remove").status_code == 302
    assert "正在发送到" not in portal.text("/inbox/channels")
    assert portal.post("/inbox/channels/sms", {"sms-target": "13800000000"}).status_code == 404


def test_a_form_without_its_token_is_refused(portal, loop):
    portal.login(loop.caseworker, PASSWORD)
    resp = portal.post("/inbox/read-all", csrf=False)
    assert resp.status_code == 400
