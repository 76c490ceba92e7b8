"""`GET /api/v1/notifications` and `POST /api/v1/notifications/{id}/read`: the caller's
own notifications only, newest first, with code, parameters and the message in the
caller's language."""

from __future__ import annotations

from sqlalchemy import select

from broker.people import notify
from broker.platform import db
from models import User

API = "/api/v1/notifications"


def user_id(username: str) -> int:
    return db.session().execute(select(User.id).where(User.username == username)).scalar_one()


def tell(uid: int, n: int) -> None:
    """``n`` notifications for one user, oldest first: requests #1…#n short of ¥1,110.50."""
    s = db.session()
    for i in range(1, n + 1):
        notify.notify(s, [uid], "request_short", {"request_id": i, "uncovered_fen": 111050}, f"short:{i}")
    db.commit()


def test_the_callers_notifications_newest_first_with_code_params_and_message(make_user, login):
    name = make_user("caseworker")
    tell(user_id(name), 3)
    me = login(name)
    resp = me.get(f"{API}?per_page=2")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 2)
    first = body["items"][0]
    assert [i["params"]["request_id"] for i in body["items"]] == [3, 2]
    assert (first["code"], first["params"]) == ("request_short", {"request_id": 3, "uncovered_fen": 111050})
    assert first["message"].startswith("需求 #3 还差 ¥1,110.50")
    assert first["read_at"] is None
    assert [i["params"]["request_id"] for i in me.get(f"{API}?page=2&per_page=2").get_json()["items"]] == [1]


def test_marking_read_and_the_unread_filter(make_user, login):
    name = make_user("auditor")
    tell(user_id(name), 2)
    me = login(name)
    newest = me.get(API).get_json()["items"][0]
    read = me.post(f"{API}/{newest['id']}/read")
    assert read.status_code == 200
    assert read.get_json()["read_at"] is not None
    again = me.post(f"{API}/{newest['id']}/read")  # twice: no change
    assert again.get_json()["read_at"] == read.get_json()["read_at"]
    unread = me.get(f"{API}?unread=true").get_json()
    assert [i["id"] for i in unread["items"]] != [newest["id"]]
    assert unread["total"] == 1
    assert me.get(f"{API}?unread=false").get_json()["total"] == 2


def test_the_message_is_in_the_callers_stored_language(make_user, login):
    name = make_user("caseworker")
    uid = user_id(name)
    db.session().get(User, uid).locale = "en"
    db.commit()
    tell(uid, 1)
    (item,) = login(name).get(API).get_json()["items"]
    assert item["message"] == (
        "Request #1 is still short of ¥1,110.50 and no other partner can take the rest. "
        "Complete it as it is, or find more help."
    )


def test_another_users_notification_is_not_found(make_user, login):
    mine, theirs = make_user("caseworker"), make_user("caseworker")
    tell(user_id(theirs), 1)
    other = login(theirs).get(API).get_json()["items"][0]
    me = login(mine)
    assert me.get(API).get_json() == {"items": [], "page": 1, "per_page": 50, "total": 0}
    resp = me.post(f"{API}/{other['id']}/read")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    assert login(theirs).get(f"{API}?unread=true").get_json()["total"] == 1  # still unread
    assert me.post(f"{API}/999999/read").status_code == 404


def test_bad_input_is_a_clear_error(make_user, login, anon):
    me = login(make_user("admin"))
    for query in ("unread=perhaps", "colour=red", "per_page=0"):
        resp = me.get(f"{API}?{query}")
        assert resp.status_code == 422, query
        assert resp.get_json()["error"]["code"]
    assert anon.get(API).status_code == 401
    assert anon.post(f"{API}/1/read").status_code == 401
