"""Notifications that reach people: a request no partner could take is sent, after the
commit and by a real RQ worker, to the caseworker's email (a local SMTP server) and to
their WeCom and DingTalk group robots (a local HTTP receiver), in the recipient's own
language; a failing channel is retried with back-off, then recorded as failed, while
the others go out."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from broker.people import channels, notify
from broker.platform import db, runtime
from broker.platform.errors import Invalid
from models import AidRequest, Notification, NotificationChannel, NotificationDelivery, OutboxMessage, User
from tests.support.aid import fire_scheduled, make_world, need
from tests.support.receivers import MailServer, RobotServer, text_of

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "d9f5b1c0e3a24f6b8c7d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d"
DING_SECRET = "SEC0123456789abcdef0123456789abcdef"


@pytest.fixture
def receivers(monkeypatch):
    """The local mail server and robot host, and the broker's settings pointed at them."""
    with MailServer() as mail, RobotServer() as robots:
        settings = runtime.settings()
        monkeypatch.setitem(settings, "NOTIFY_SMTP_URL", mail.url)
        for key, value in robots.settings().items():
            monkeypatch.setitem(settings, key, value)
        monkeypatch.setitem(settings, "NOTIFY_BACKOFF_SECONDS", 60.0)  # retries wait for the scheduler
        monkeypatch.setitem(settings, "NOTIFY_TIMEOUT_SECONDS", 5.0)
        yield mail, robots


@pytest.fixture
def world(as_role, make_user, login):
    return make_world(as_role, make_user, login)


@dataclass(frozen=True)
class Person:
    id: int
    username: str


def user(username: str) -> Person:
    row = db.session().execute(select(User).where(User.username == username)).scalar_one()
    return Person(row.id, row.username)


def caseworker_with_channels(world, make_user, *, locale: str | None = None) -> Person:
    """A caseworker of the world's grid with email and both robots chosen."""
    person = user(make_user("caseworker", grids=(world.grid,)))
    s = db.session()
    s.get(User, person.id).locale = locale
    channels.choose(s, person.id, "email", f"{person.username}@example.org")
    channels.choose(s, person.id, "wecom", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}")
    channels.choose(s, person.id, "dingtalk", DING_TOKEN, DING_SECRET)
    db.commit()
    return person


def unmatched_request(world) -> int:
    """A need no partner can take (there are none): routing tells the grid's caseworkers."""
    household = world.household()
    return world.assess(household, need("in_kind", "high"))["needs"][0]["request_id"]


def deliveries(user_id: int) -> dict[str, NotificationDelivery]:
    rows = db.session().execute(
        select(NotificationDelivery)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .where(Notification.user_id == user_id)
    )
    return {d.channel: d for d in rows.scalars()}


def test_email_and_robots_reach_the_local_receivers_in_the_recipients_language(receivers, world, make_user, worker):
    mail, robots = receivers
    chinese = caseworker_with_channels(world, make_user)
    english = caseworker_with_channels(world, make_user, locale="en")
    rid = unmatched_request(world)
    worker()

    by_address = {m["To"]: m for m in mail.messages}
    assert set(by_address) == {f"{chinese.username}@example.org", f"{english.username}@example.org"}
    zh = by_address[f"{chinese.username}@example.org"]
    assert zh["From"] == "aid@example.org"
    assert zh["Subject"] == "救助平台：有一条新通知"
    assert f"需求 #{rid} 没有合作方能够承接" in text_of(zh)
    en = by_address[f"{english.username}@example.org"]
    assert f"No partner could take request #{rid}." in text_of(en)

    wecom = robots.posts["/wecom"]
    assert [p["query"]["key"] for p in wecom] == [WECOM_KEY, WECOM_KEY]
    assert {p["json"]["msgtype"] for p in wecom} == {"text"}
    contents = sorted(p["json"]["text"]["content"] for p in wecom)
    assert any(f"需求 #{rid} 没有合作方能够承接" in c for c in contents)
    assert any(f"No partner could take request #{rid}." in c for c in contents)

    ding = robots.posts["/dingtalk"]
    assert len(ding) == 2
    for post in ding:  # signed as DingTalk checks it: HMAC-SHA256 of "<timestamp>\n<secret>", URL-encoded
        query = post["query"]
        assert query["access_token"] == DING_TOKEN
        digest = hmac.new(DING_SECRET.encode(), f"{query['timestamp']}\n{DING_SECRET}".encode(), hashlib.sha256)
        assert unquote(query["sign"]) == base64.b64encode(digest.digest()).decode()
        assert post["json"]["msgtype"] == "text"
        assert post["json"]["text"]["content"].startswith(("救助平台：有一条新通知", "Aid broker: something"))

    for person in (chinese, english):
        sent = deliveries(person.id)
        assert set(sent) == {"email", "wecom", "dingtalk"}
        assert {(d.status, d.attempts, d.last_error_code) for d in sent.values()} == {("sent", 1, None)}
        assert all(d.sent_at is not None for d in sent.values())

    # The same event again (a second routing round) is neither stored nor sent twice.
    s = db.session()
    assert notify.request_failed(s, s.get(AidRequest, rid)) == []
    db.commit()
    worker()
    assert len(mail.messages) == 2
    assert len(robots.posts["/wecom"]) == 2


def test_a_failing_channel_is_retried_then_failed_while_the_others_go_out(
    receivers, world, make_user, worker, monkeypatch
):
    mail, robots = receivers
    monkeypatch.setitem(runtime.settings(), "NOTIFY_MAX_ATTEMPTS", 3)
    robots.statuses["/wecom"].extend([500, 503, 500])
    person = caseworker_with_channels(world, make_user)
    unmatched_request(world)
    worker()

    sent = deliveries(person.id)
    assert (sent["email"].status, sent["dingtalk"].status) == ("sent", "sent")
    assert (sent["wecom"].status, sent["wecom"].attempts, sent["wecom"].last_error_code) == ("pending", 1, "http_500")
    db.session.remove()

    for attempt in (2, 3):  # the back-off's time comes (the scheduler's job, fired now)
        assert fire_scheduled("send_notification") == 1
        worker()
        wecom = deliveries(person.id)["wecom"]
        assert wecom.attempts == attempt
        db.session.remove()

    sent = deliveries(person.id)
    assert (sent["wecom"].status, sent["wecom"].attempts, sent["wecom"].last_error_code) == ("failed", 3, "http_500")
    assert sent["wecom"].sent_at is None
    assert len(robots.posts["/wecom"]) == 3
    assert len(mail.messages) == 1  # sent once, not again with the retries
    assert len(robots.posts["/dingtalk"]) == 1
    pending = db.session().execute(select(OutboxMessage).where(OutboxMessage.processed_at.is_(None))).scalars().all()
    assert pending == []


def test_an_unreachable_mail_server_is_recorded_by_code(world, make_user, worker, monkeypatch):
    """Nobody listens at the mail server's address: the error is a code, not a log line."""
    monkeypatch.setitem(runtime.settings(), "NOTIFY_SMTP_URL", "mailto://127.0.0.1:9?from=aid@example.org")
    monkeypatch.setitem(runtime.settings(), "NOTIFY_MAX_ATTEMPTS", 1)
    person = user(make_user("caseworker", grids=(world.grid,)))
    channels.choose(db.session(), person.id, "email", "wang@example.org")
    db.commit()
    unmatched_request(world)
    worker()
    email = deliveries(person.id)["email"]
    assert (email.status, email.attempts, email.last_error_code) == ("failed", 1, "connection_failed")


@pytest.mark.parametrize(
    ("channel", "target", "secret", "field"),
    [
        ("email", "not-an-address", "", "target"),
        ("email", "a@b", "", "target"),
        ("wecom", "https://evil.example.org/cgi-bin/webhook/send?key=693a91f6abcd", "", "target"),
        ("wecom", "short", "", "target"),
        ("dingtalk", "http://oapi.dingtalk.com/robot/send?access_token=" + DING_TOKEN, "", "target"),
        ("dingtalk", DING_TOKEN, "not a secret!", "secret"),
        ("sms", "13800000000", "", "channel"),
    ],
)
def test_a_channel_is_checked_before_it_is_kept(world, make_user, channel, target, secret, field):
    person = user(make_user("caseworker", grids=(world.grid,)))
    with pytest.raises(Invalid) as refused:
        channels.choose(db.session(), person.id, channel, target, secret)
    assert field in refused.value.details
    db.session.rollback()
    assert db.session().execute(select(NotificationChannel)).scalars().all() == []


def test_a_robot_key_is_kept_encrypted_and_shown_only_as_a_hint(world, make_user):
    person = user(make_user("caseworker", grids=(world.grid,)))
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    chosen = channels.choose(db.session(), person.id, "wecom", url)
    channels.choose(db.session(), person.id, "email", "wangfang@example.org")
    db.commit()
    assert chosen.hint == "…5aaa"
    assert [(c.channel, c.hint) for c in channels.chosen(db.session(), person.id)] == [
        ("email", "w***@example.org"),
        ("wecom", "…5aaa"),
    ]
    row = channels.find(db.session(), person.id, "wecom")
    assert WECOM_KEY.encode() not in row.target_encrypted
    assert channels.stored_target(row) == {"key": WECOM_KEY}
    # Removing it stops sending there; removing it again is no error.
    assert channels.remove(db.session(), person.id, "wecom") is True
    assert channels.remove(db.session(), person.id, "wecom") is False
    db.commit()
    assert [c.channel for c in channels.chosen(db.session(), person.id)] == ["email"]
