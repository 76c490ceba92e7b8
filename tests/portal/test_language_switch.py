"""``?lang=`` on any portal URL switches the language for the session; without it the
session's choice holds, and a user's stored preference is the default when they sign in."""

from __future__ import annotations

from sqlalchemy import select

from broker.people import users
from broker.platform import db
from models import User


def test_lang_in_the_url_switches_for_the_session(portal) -> None:
    assert '<html lang="zh-CN">' in portal.text("/login")
    assert '<html lang="en">' in portal.text("/login?lang=en")
    assert '<html lang="en">' in portal.text("/login")  # kept for the session
    assert '<html lang="zh-CN">' in portal.text("/login?lang=zh_CN")
    assert '<html lang="zh-CN">' in portal.text("/login?lang=fr")  # not ours: ignored


def test_the_users_stored_language_is_the_default(new_portal, make_user) -> None:
    name = make_user("auditor")
    user = db.session().execute(select(User).where(User.username == name)).scalar_one()
    users.set_locale(db.session(), user.id, "en", allowed=("zh_CN", "en"))
    db.commit()
    portal = new_portal()
    portal.login(name)
    assert '<html lang="en">' in portal.text("/auditor/")
    assert '<html lang="zh-CN">' in portal.text("/auditor/?lang=zh_CN")
    assert '<html lang="zh-CN">' in portal.text("/auditor/")


def test_exports_speak_the_readers_language(portal, make_user) -> None:
    portal.login(make_user("auditor"))
    zh = portal.get("/auditor/exports/ledger.csv").get_data().decode("utf-8-sig").splitlines()[0]
    assert zh.startswith("流水号,时间,类型,合作方")
    en = portal.get("/auditor/exports/ledger.csv?lang=en").get_data().decode("utf-8-sig").splitlines()[0]
    assert en.startswith("Transaction no.,Time,Kind,Partner")
    assert en.endswith("Handled by")
