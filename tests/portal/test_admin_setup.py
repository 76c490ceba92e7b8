"""Setting up in the admin pages: grids, partners with their adapter settings, deposits.

Each action goes through the form as a browser sends it and lands in the real database
through the same domain functions and schemas as the admin API; bad input is a message
in Chinese next to its field (a 422, never a 500); a form sent twice does its work once;
every change is on the audit chain; and nobody but an admin gets in."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from broker import audit
from broker.money import funds
from broker.platform import db
from broker.referral import partners
from models import AuditEvent, Grid, LedgerTransaction, Partner
from tests.conftest import unique
from tests.portal.test_once import once_key

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # 24 bytes in base64
OTHER_SECRET = "whsec_" + "WllYV1ZVVFNSUVBPTk1MS0pJSEdGRURDQkE="  # 26 bytes


def _fresh() -> object:
    db.session.remove()
    return db.session()


def _events(action: str, object_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
    return list(_fresh().execute(stmt.order_by(AuditEvent.id)).scalars())


def _admin(portal, make_user) -> None:
    portal.login(make_user("admin"))


def _send(portal, path: str, data: dict, *, page: str | None = None):
    """Open the form's page and send it with its one-time key, as a browser would."""
    html = portal.text(page or path)
    return portal.post(path, {**data, "once_key": once_key(html, path)})


def _grid_form(code: str, name: str = "中关村东路第一网格") -> dict:
    return {"code": code, "name": name, "district": "海淀区", "street": "中关村街道", "community": "科源社区"}


def _new_grid(portal, code: str | None = None) -> str:
    code = code or unique("HD-T-")
    resp = _send(portal, "/admin/grids/new", _grid_form(code))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return code


# --- grids -------------------------------------------------------------------------------------


def test_an_admin_adds_a_grid_edits_it_and_sees_its_caseworkers(portal, make_user):
    _admin(portal, make_user)
    code = _new_grid(portal)
    grid = _fresh().execute(select(Grid).where(Grid.code == code)).scalar_one()
    assert (grid.name, grid.community) == ("中关村东路第一网格", "科源社区")
    assert _events("grid.created", grid.id)[0].actor.startswith("user:")
    worker = make_user("caseworker", grids=(code,))
    listing = portal.text("/admin/grids")
    assert code in listing
    assert worker in listing
    assert "已新增网格" in listing

    edit = f"/admin/grids/{code}/edit"
    assert "中关村东路第一网格" in portal.text(edit)
    resp = _send(portal, edit, {**_grid_form(code, "中关村东路第二网格"), "code": "IGNORED"})
    assert resp.status_code == 303
    grid = _fresh().get(Grid, grid.id)
    assert (grid.code, grid.name) == (code, "中关村东路第二网格")
    (changed,) = _events("grid.updated", grid.id)
    assert json.loads(changed.after) == {"name": "中关村东路第二网格"}
    assert audit.verify(_fresh()).ok


def test_a_grid_refused_says_why_in_chinese_next_to_each_field(portal, make_user):
    _admin(portal, make_user)
    before = _fresh().execute(select(func.count()).select_from(Grid)).scalar_one()
    resp = _send(portal, "/admin/grids/new", {**_grid_form("HD 01"), "name": "", "district": "区" * 81})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "格式不符合要求" in html  # the code, by the API's pattern
    assert "应为 1 至 120 个字符" in html  # the empty name
    assert "应为 1 至 80 个字符" in html
    assert "Length must be" not in html
    assert "pattern" not in html
    assert _fresh().execute(select(func.count()).select_from(Grid)).scalar_one() == before

    code = _new_grid(portal)
    again = _send(portal, "/admin/grids/new", _grid_form(code))
    assert again.status_code == 409
    assert f"编码为 {code} 的网格已存在" in again.get_data(as_text=True)


def test_a_grid_form_sent_twice_adds_one_grid(portal, make_user):
    _admin(portal, make_user)
    code = unique("HD-TWICE-")
    html = portal.text("/admin/grids/new")
    data = {**_grid_form(code), "once_key": once_key(html, "/admin/grids/new")}
    first, second = portal.post("/admin/grids/new", data), portal.post("/admin/grids/new", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _fresh().execute(select(func.count()).where(Grid.code == code)).scalar_one() == 1


def test_only_admins_set_things_up(portal, make_user, new_portal):
    """A caseworker, an auditor or a partner clerk is refused every admin page and form,
    and nothing changes."""
    _admin(portal, make_user)
    code = _new_grid(portal)
    partner_id = _new_partner(portal, "portal", {})
    for role, kw in (("caseworker", {"grids": (code,)}), ("auditor", {}), ("partner", {"partner_id": partner_id})):
        other = new_portal()
        other.login(make_user(role, **kw))
        for path in ("/admin/grids/new", f"/admin/grids/{code}/edit", "/admin/partners/new", "/admin/users/new"):
            assert other.get(path).status_code == 403, (role, path)
        sent = {
            "/admin/grids/new": _grid_form(unique("HD-NO-")),
            f"/admin/partners/{partner_id}/deposit": {"amount": "100"},
            f"/admin/partners/{partner_id}/active": {"active": "0"},
            "/admin/users/new": {"username": unique("x-"), "password": "long-enough-1", "role": "admin"},
        }
        for path, data in sent.items():
            assert other.post(path, data).status_code == 403, (role, path)
    session = _fresh()
    assert session.get(Partner, partner_id).active
    assert funds.balances(session, partner_id)["balance_fen"] == 0


# --- partners ----------------------------------------------------------------------------------


def _partner_form(name: str, adapter: str, config: dict, **fields) -> dict:
    data = {
        "name": name,
        "kind": "mutual_aid_fund",
        "adapter": adapter,
        "categories": ["living", "medical"],
        "regions": ["*"],
        "max_amount": "",
        "respond_within_hours": "48",
        "contact": "王芳 010-62345678",
        "active": "y",
        **{f"cfg_{k}": v for k, v in config.items()},
    }
    data.update(fields)
    return data


def _new_partner(portal, adapter: str, config: dict, name: str | None = None, **fields) -> int:
    name = name or unique("科源社区互助基金")
    resp = _send(
        portal,
        "/admin/partners/new",
        _partner_form(name, adapter, config, **fields),
        page=f"/admin/partners/new?adapter={adapter}",
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return _fresh().execute(select(Partner.id).where(Partner.name == name)).scalar_one()


def test_a_webhook_partner_keeps_its_secret_masked_kept_and_replaceable(portal, make_user):
    _admin(portal, make_user)
    partner_id = _new_partner(
        portal, "webhook", {"url": "https://partner.example.cn/aid", "secret": SECRET, "timeout_seconds": "5"}
    )
    partner = _fresh().get(Partner, partner_id)
    assert partner.adapter == "webhook"
    assert partner.adapter_config["secret"].startswith("enc:v1:")
    assert partners.partner_info(_fresh(), partner).config["secret"] == SECRET
    created = _events("partner.created", partner_id)[0]
    assert SECRET not in (created.after or "")
    assert "enc:v1" not in (created.after or "")

    edit = f"/admin/partners/{partner_id}/edit"
    page = portal.text(edit)
    assert "https://partner.example.cn/aid" in page
    assert SECRET not in page
    assert "enc:v1" not in page
    assert 'placeholder="••••"' in page
    assert "留空则保留原密钥" in page

    # Left blank: the secret stays; the URL changes.
    resp = _send(
        portal, edit, _partner_form(partner.name, "webhook", {"url": "https://b.example.cn/aid", "secret": ""})
    )
    assert resp.status_code == 303
    kept = _fresh().get(Partner, partner_id)
    assert kept.adapter_config["url"] == "https://b.example.cn/aid"
    assert partners.partner_info(_fresh(), kept).config["secret"] == SECRET

    # Typed in: replaced, and the chain says a secret changed without holding it.
    resp = _send(
        portal,
        edit,
        _partner_form(partner.name, "webhook", {"url": "https://b.example.cn/aid", "secret": OTHER_SECRET}),
    )
    assert resp.status_code == 303
    session = _fresh()
    assert partners.partner_info(session, session.get(Partner, partner_id)).config["secret"] == OTHER_SECRET
    last = _events("partner.updated", partner_id)[-1]
    assert json.loads(last.details) == {"secret_changed": True}
    assert OTHER_SECRET not in (last.after or "")
    assert audit.verify(_fresh()).ok


def test_adapter_settings_refused_field_by_field_in_chinese(portal, make_user):
    _admin(portal, make_user)
    name = unique("坏配置基金")
    resp = _send(
        portal,
        "/admin/partners/new",
        _partner_form(name, "webhook", {"url": "not a url", "secret": "nope", "timeout_seconds": "99"}, categories=[]),
        page="/admin/partners/new?adapter=webhook",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请输入以 http:// 或 https:// 开头的网址" in html  # the url
    assert "签名密钥以 whsec_ 开头" in html  # the secret, by the adapter's own check
    assert "应在 0.5 至 30 之间" in html  # the timeout
    assert "请至少勾选一项" in html  # the categories, none ticked
    assert "Not a valid" not in html
    assert "must start" not in html
    assert "Length" not in html
    assert _fresh().execute(select(func.count()).where(Partner.name == name)).scalar_one() == 0

    # The auto-grant limit is typed in yuan and kept in fen; its bound is shown in yuan.
    zero = _send(
        portal,
        "/admin/partners/new",
        _partner_form(name, "auto_grant", {"limit_fen": "0"}),
        page="/admin/partners/new?adapter=auto_grant",
    )
    assert zero.status_code == 422
    assert "必须大于零" in zero.get_data(as_text=True)
    partner_id = _new_partner(portal, "auto_grant", {"limit_fen": "1,500.50"}, name=name, max_amount="3000")
    stored = _fresh().get(Partner, partner_id)
    assert stored.adapter_config == {"limit_fen": 150050}
    assert stored.max_amount_fen == 300000
    assert "1500.50" in portal.text(f"/admin/partners/{partner_id}/edit")


def test_a_partner_refused_for_what_the_api_refuses(portal, make_user):
    _admin(portal, make_user)
    name = unique("重名基金")
    _new_partner(portal, "portal", {}, name=name)
    same = _send(portal, "/admin/partners/new", _partner_form(name, "portal", {}))
    assert same.status_code == 409
    assert f"名为“{name}”的合作方已存在" in same.get_data(as_text=True)
    nowhere = _send(portal, "/admin/partners/new", _partner_form(unique("无地区"), "portal", {}, regions=["NO-SUCH"]))
    assert nowhere.status_code == 422
    assert "没有编码为 NO-SUCH 的网格" in nowhere.get_data(as_text=True)
    for hours in ("²", "soon", "0"):
        odd = _send(
            portal, "/admin/partners/new", _partner_form(unique("时限"), "portal", {}, respond_within_hours=hours)
        )
        assert odd.status_code == 422, hours
    unknown = portal.get("/admin/partners/new?adapter=carrier_pigeon")
    assert unknown.status_code == 422


def test_a_partner_is_deactivated_and_activated_on_the_chain(portal, make_user):
    _admin(portal, make_user)
    partner_id = _new_partner(portal, "portal", {"notify_email": "fund@example.cn"})
    listing = portal.text("/admin/partners")
    path = f"/admin/partners/{partner_id}/active"
    key = once_key(listing, path)
    assert portal.post(path, {"active": "0", "once_key": key}).status_code == 303
    assert portal.post(path, {"active": "0", "once_key": key}).status_code == 303  # sent twice
    assert not _fresh().get(Partner, partner_id).active
    assert len(_events("partner.deactivated", partner_id)) == 1
    assert "已停用" in portal.text("/admin/partners")
    assert (
        portal.post(path, {"active": "1", "once_key": once_key(portal.text("/admin/partners"), path)}).status_code
        == 303
    )
    assert _fresh().get(Partner, partner_id).active
    assert len(_events("partner.activated", partner_id)) == 1


# --- deposits ----------------------------------------------------------------------------------


def test_a_deposit_in_yuan_reaches_the_ledger_once(portal, make_user):
    _admin(portal, make_user)
    partner_id = _new_partner(portal, "portal", {})
    path = f"/admin/partners/{partner_id}/deposit"
    html = portal.text(path)
    data = {
        "amount": "1,234.50",
        "donor": "爱心企业 星辰科技有限公司",
        "reference": "BANK-0042",
        "memo": "",
        "once_key": once_key(html, path),
    }
    first, second = portal.post(path, data), portal.post(path, data)
    assert first.status_code == second.status_code == 303
    session = _fresh()
    assert funds.balances(session, partner_id)["available_fen"] == 123450
    (txn,) = session.execute(
        select(LedgerTransaction).where(LedgerTransaction.kind == "deposit", LedgerTransaction.reference == "BANK-0042")
    ).scalars()
    assert txn.amount_fen == 123450
    (event,) = _events("ledger.deposit", txn.id)
    assert json.loads(event.after)["donor"] == "爱心企业 星辰科技有限公司"
    page = portal.text(path)
    assert "¥1,234.50" in page
    assert "已向" in page


def test_a_deposit_refused_says_why_in_yuan(portal, make_user):
    _admin(portal, make_user)
    partner_id = _new_partner(portal, "portal", {})
    path = f"/admin/partners/{partner_id}/deposit"
    for amount, why in (("", "必填"), ("12.345", ""), ("abc", ""), ("0", ""), ("200000000", "¥100,000,000")):
        resp = _send(portal, path, {"amount": amount, "donor": "", "reference": "", "memo": ""})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, amount
        assert 'class="errors"' in html, amount
        assert why in html, amount
    too_long = _send(portal, path, {"amount": "10", "donor": "捐" * 121, "reference": "", "memo": ""})
    assert too_long.status_code == 422
    assert "最多 120 个字符" in too_long.get_data(as_text=True)
    assert funds.balances(_fresh(), partner_id)["balance_fen"] == 0
    assert portal.get("/admin/partners/999999/deposit").status_code == 404
