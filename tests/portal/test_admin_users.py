"""Accounts in the admin pages: creating one with its role, language and grids or
partner; changing them under the rules accounts are created by; deactivating and
reactivating; setting a new password by the one password rule (a lone surrogate sent raw
is a message on the form, never an error page). Each change is on the audit chain and
the person's API tokens end when they should."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from broker import audit
from broker.people import accounts, users
from broker.platform import db
from broker.platform.errors import Conflict, Invalid
from broker.portal import admin_messages
from models import ApiToken, AuditEvent, User
from tests.conftest import PASSWORD, unique
from tests.portal.test_admin_setup import _admin, _events, _fresh, _new_grid, _new_partner, _send
from tests.portal.test_once import once_key


def _user(username: str) -> User:
    return _fresh().execute(select(User).where(User.username == username)).scalar_one()


def _new_user(portal, **fields) -> object:
    data = {
        "username": unique("worker-"),
        "password": "long-enough-1",
        "display_name": "李社工",
        "role": "caseworker",
        "locale": "zh_CN",
        "grids": [],
        "partner": "",
        **fields,
    }
    return _send(portal, "/admin/users/new", data)


def test_an_admin_creates_a_caseworker_on_grids_who_can_sign_in(portal, make_user, new_portal):
    _admin(portal, make_user)
    first, second = _new_grid(portal), _new_grid(portal)
    name = unique("li-")
    resp = _new_user(portal, username=name, grids=[first, second], locale="en")
    assert resp.status_code == 303
    user = _user(name)
    assert (user.role, user.locale, user.display_name) == ("caseworker", "en", "李社工")
    assert accounts.grid_codes(_fresh(), user) == sorted([first, second])
    (created,) = _events("user.created", user.id)
    assert json.loads(created.after)["grids"] == [first, second]
    assert "long-enough-1" not in created.after
    assert name in portal.text("/admin/users")
    newcomer = new_portal()
    assert newcomer.login(name, "long-enough-1").status_code == 302
    assert "My households" in newcomer.text("/caseworker/")  # in the language the admin chose


def test_a_partner_clerk_needs_a_partner_and_only_a_clerk_has_one(portal, make_user):
    _admin(portal, make_user)
    partner_id = _new_partner(portal, "portal", {})
    grid = _new_grid(portal)
    cases = (
        ({"role": "partner"}, "请选择该经办人所属的合作方"),
        ({"role": "auditor", "partner": str(partner_id)}, "只有合作方经办人属于合作方"),
        ({"role": "admin", "grids": [grid]}, "只有社工负责网格"),
        ({"role": "caseworker", "grids": ["NO-SUCH"]}, "没有这个编码的网格"),
        ({"role": "boss"}, "请从给出的选项中选择"),
        ({"role": "partner", "partner": "²"}, "请输入数字"),
        ({"username": "two words"}, "格式不符合要求"),
        ({"password": "short"}, "应为 8 至 256 个字符"),
    )
    before = _fresh().execute(select(func.count()).select_from(User)).scalar_one()
    for fields, why in cases:
        resp = _new_user(portal, **fields)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, fields
        assert why in html, (fields, why)
    assert _fresh().execute(select(func.count()).select_from(User)).scalar_one() == before

    clerk = unique("clerk-")
    assert _new_user(portal, username=clerk, role="partner", partner=str(partner_id)).status_code == 303
    assert _user(clerk).partner_id == partner_id
    taken = _new_user(portal, username=clerk)
    assert taken.status_code == 409
    assert f"用户名 {clerk} 已被使用" in taken.get_data(as_text=True)


def test_a_form_sent_twice_creates_one_account(portal, make_user):
    _admin(portal, make_user)
    name = unique("twice-")
    html = portal.text("/admin/users/new")
    data = {"username": name, "password": "long-enough-1", "role": "auditor", "locale": "zh_CN", "partner": ""}
    data["once_key"] = once_key(html, "/admin/users/new")
    assert portal.post("/admin/users/new", data).status_code == 303
    assert portal.post("/admin/users/new", data).status_code == 303
    assert _fresh().execute(select(func.count()).where(User.username == name)).scalar_one() == 1


def test_an_admin_changes_role_grids_and_partner_on_the_chain(portal, make_user):
    _admin(portal, make_user)
    grid, partner_id = _new_grid(portal), _new_partner(portal, "portal", {})
    name = make_user("caseworker", grids=(grid,))
    user = _user(name)
    edit = f"/admin/users/{user.id}/edit"
    page = portal.text(edit)
    assert f'value="{grid}"' in page
    assert "checked" in page

    # A caseworker made a partner clerk leaves their grids and joins the partner.
    data = {"display_name": "王经办", "role": "partner", "locale": "zh_CN", "partner": str(partner_id)}
    assert _send(portal, edit, data).status_code == 303
    user = _user(name)
    assert (user.role, user.partner_id, user.display_name) == ("partner", partner_id, "王经办")
    assert accounts.grid_codes(_fresh(), user) == []
    (changed,) = _events("user.updated", user.id)
    assert json.loads(changed.before)["grids"] == [grid]
    assert json.loads(changed.after)["role"] == "partner"

    # Ticking a grid for a partner clerk is refused, and nothing changes.
    resp = _send(portal, edit, {**data, "grids": [grid]})
    assert resp.status_code == 422
    assert "只有社工负责网格" in resp.get_data(as_text=True)
    assert _user(name).role == "partner"
    assert audit.verify(_fresh()).ok


def test_deactivating_ends_sign_in_and_tokens_and_reactivating_restores_it(portal, make_user, new_portal, login):
    _admin(portal, make_user)
    name = make_user("auditor")
    api = login(name)
    user = _user(name)
    assert _fresh().execute(select(func.count()).where(ApiToken.user_id == user.id)).scalar_one() == 1
    other = new_portal()
    other.login(name)
    path = f"/admin/users/{user.id}/active"
    key = once_key(portal.text("/admin/users"), path)
    assert portal.post(path, {"active": "0", "once_key": key}).status_code == 303
    assert portal.post(path, {"active": "0", "once_key": key}).status_code == 303  # sent twice
    assert not _user(name).is_active
    assert len(_events("user.deactivated", user.id)) == 1
    assert _fresh().execute(select(func.count()).where(ApiToken.user_id == user.id)).scalar_one() == 0
    assert api.get("/api/v1/ledger").status_code == 401
    assert other.get("/auditor/").status_code == 302  # out at the next click

    key = once_key(portal.text("/admin/users"), path)
    assert portal.post(path, {"active": "1", "once_key": key}).status_code == 303
    assert _user(name).is_active
    assert len(_events("user.activated", user.id)) == 1
    assert new_portal().login(name).status_code == 302


def test_an_admin_cannot_lock_themselves_out(portal, make_user):
    me = make_user("admin")
    portal.login(me)
    user = _user(me)
    assert f"/admin/users/{user.id}/active" not in portal.text("/admin/users")  # no button
    resp = portal.post(f"/admin/users/{user.id}/active", {"active": "0"})
    assert resp.status_code == 303
    assert "不能对自己的账号这样操作" in portal.text("/admin/users")
    edit = f"/admin/users/{user.id}/edit"
    resp = _send(portal, edit, {"display_name": "", "role": "auditor", "locale": "zh_CN", "partner": ""})
    assert resp.status_code == 409
    assert "不能对自己的账号这样操作" in resp.get_data(as_text=True)
    assert _user(me).is_active
    assert _user(me).role == "admin"


def test_a_new_password_by_the_one_rule_ends_the_old_tokens(portal, make_user, new_portal, login):
    _admin(portal, make_user)
    name = make_user("caseworker")
    login(name)
    user = _user(name)
    path = f"/admin/users/{user.id}/password"
    short = _send(portal, path, {"password": "short"})
    assert short.status_code == 422
    assert "应为 8 至 256 个字符" in short.get_data(as_text=True)
    assert _send(portal, path, {"password": "a-new-one-42"}).status_code == 303
    assert _fresh().execute(select(func.count()).where(ApiToken.user_id == user.id)).scalar_one() == 0
    (event,) = _events("user.password_reset", user.id)
    assert "a-new-one-42" not in (event.details or "") + (event.after or "")
    assert new_portal().login(name, PASSWORD).status_code == 200  # the old one no longer works
    assert new_portal().login(name, "a-new-one-42").status_code == 302


def test_a_lone_surrogate_in_a_password_is_a_message_not_an_error_page(app, portal, make_user):
    """A lone surrogate cannot be stored or typed again: the one password rule refuses it
    (and a NUL) with a message in Chinese on the form. Sent raw as bytes that are no
    UTF-8, the form cannot be read at all: a 400 page that says so, nothing changed."""
    _admin(portal, make_user)
    user = _user(make_user("caseworker"))
    path = f"/admin/users/{user.id}/password"
    for bad, said in (("abc\ud800defgh", "含有无效字符（无法保存），请重新输入"), ("abc\x00defgh", "控制字符")):
        with pytest.raises(Invalid) as refused:
            users.check_password_rule(bad)
        assert refused.value.code == "password_not_text"
        (message,) = accounts.PasswordIn().validate({"password": bad})["password"]
        with app.test_request_context("/"):
            assert said in admin_messages.say(message, field="password")

    html = portal.text(path)
    raw = f"csrf_token={portal.token}&once_key={once_key(html, path)}&password=abc".encode() + b"\xed\xa0\x80defgh"
    resp = portal.client.post(path, data=raw, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    assert "表单已过期或并非从本站提交" in resp.get_data(as_text=True)
    assert _fresh().execute(select(func.count()).where(AuditEvent.action == "user.password_reset")).scalar_one() == 0


def test_the_domain_refuses_what_the_form_refuses(app, make_user):
    """The rules hold whichever way in: an admin's own role, a partner without partner."""
    me, other = make_user("admin"), make_user("auditor")
    other_id = _user(other).id
    session = _fresh()
    principal = users.principal_of(session.execute(select(User).where(User.username == me)).scalar_one())
    me_id = principal.user_id
    with pytest.raises(Conflict) as own:
        accounts.update(session, principal, me_id, {"role": "auditor"}, allowed_locales=("zh_CN", "en"))
    assert own.value.code == "own_account"
    db.session.rollback()
    with pytest.raises(Invalid) as unbound:
        accounts.update(session, principal, other_id, {"role": "partner"}, allowed_locales=("zh_CN", "en"))
    assert unbound.value.details == {"partner": ["required"]}
    db.session.rollback()
    assert _user(other).role == "auditor"
    assert _user(me).role == "admin"
