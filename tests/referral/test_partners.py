"""Partners over HTTP: each adapter's settings validated by that adapter, unknown adapters
and grids refused with what is known, secrets never shown (and encrypted at rest), who
may read a partner, balances from the ledger, and audited changes."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from broker import audit
from broker.money import ledger
from broker.platform import db
from broker.referral import partners
from models import AuditEvent, Partner
from tests.support.registry_data import make_grids

API = "/api/v1"
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def admin(as_role):
    client = as_role("admin")
    make_grids(client)
    return client


def partner_body(**kw) -> dict:
    body = {
        "name": "海淀区慈善总会",
        "kind": "charity",
        "adapter": "webhook",
        "adapter_config": {"url": "https://aid.example.org/hooks/aidbroker", "secret": SECRET},
        "categories": ["medical", "schooling"],
        "regions": ["HD-ZGC-01", "HD-ZGC-02"],
        "max_amount_fen": 5_000_000,
        "respond_within_hours": 72,
        "contact": "王芳 010-62345678",
    }
    body.update(kw)
    return body


def create(admin, **kw) -> dict:
    resp = admin.post(f"{API}/partners", json=partner_body(**kw))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_each_builtin_adapter_makes_a_partner(admin):
    """A partner is created with portal, webhook or auto_grant, its settings checked by that adapter."""
    hook = create(admin)
    assert hook["adapter_config"] == {"url": "https://aid.example.org/hooks/aidbroker", "timeout_seconds": None}
    assert (hook["balance_fen"], hook["pledged_fen"], hook["available_fen"]) == (0, 0, 0)
    fund = create(
        admin,
        name="科源社区互助基金",
        kind="mutual_aid_fund",
        adapter="auto_grant",
        adapter_config={"limit_fen": 100_000},
        categories=["emergency", "living"],
        regions=["HD-ZGC-01"],
    )
    assert fund["adapter_config"] == {"limit_fen": 100_000}
    assert fund["categories"] == ["living", "emergency"]
    team = create(
        admin,
        name="阳光志愿服务队",
        kind="volunteer_team",
        adapter="portal",
        adapter_config={"notify_email": "team@yangguang.example.org"},
        categories=["counselling"],
        regions=["*"],
    )
    assert team["regions"] == ["*"]
    assert "partner.created" in [e.action for e in db.session().execute(select(AuditEvent)).scalars()]


@pytest.mark.parametrize(
    ("adapter", "config", "bad_fields"),
    [
        ("webhook", {"url": "ftp://aid.example.org/x", "secret": SECRET}, {"adapter_config.url"}),
        ("webhook", {"url": "https://aid.example.org/x", "secret": "plain-text"}, {"adapter_config.secret"}),
        ("webhook", {"url": "https://aid.example.org/x", "secret": "whsec_c2hvcnQ="}, {"adapter_config.secret"}),
        ("webhook", {}, {"adapter_config.url", "adapter_config.secret"}),
        (
            "webhook",
            {"url": "https://a.example.org", "secret": SECRET, "timeout_seconds": 99},
            {"adapter_config.timeout_seconds"},
        ),
        ("auto_grant", {"limit_fen": 0}, {"adapter_config.limit_fen"}),
        ("auto_grant", {}, {"adapter_config.limit_fen"}),
        ("portal", {"notify_email": "not-an-email"}, {"adapter_config.notify_email"}),
        ("example_echo", {"channel": "Has Spaces"}, {"adapter_config.channel"}),
    ],
)
def test_adapter_config_errors_are_reported_per_field(admin, adapter, config, bad_fields):
    """Each adapter's own schema checks its settings; errors come back under adapter_config.<field>."""
    resp = admin.post(f"{API}/partners", json=partner_body(adapter=adapter, adapter_config=config))
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert set(err["details"]) == bad_fields
    assert adapter in err["message"]
    assert db.session().execute(select(Partner)).first() is None


def test_unknown_adapter_and_unknown_grids_are_422_saying_what_is_known(admin):
    """An unknown adapter lists the installed ones; unknown grid codes in regions are named."""
    err = admin.post(f"{API}/partners", json=partner_body(adapter="fax")).get_json()["error"]
    assert err["code"] == "unknown_adapter"
    for name in ("portal", "webhook", "auto_grant", "example_echo"):
        assert name in err["message"]
    err = admin.post(f"{API}/partners", json=partner_body(regions=["HD-ZGC-01", "XX-99"])).get_json()["error"]
    assert err["details"] == {"regions": ["unknown grid or region: XX-99"]}
    resp = admin.post(f"{API}/partners", json=partner_body(categories=["housing"], kind="bank"))
    assert resp.status_code == 422
    assert {"categories", "kind"} <= set(resp.get_json()["error"]["details"])
    create(admin)
    assert admin.post(f"{API}/partners", json=partner_body()).get_json()["error"]["code"] == "partner_exists"


def test_a_partner_can_use_the_plugin_adapter(admin):
    """An adapter from a separately installed package serves a partner like a built-in."""
    body = create(
        admin,
        name="腾飞科技爱心企业",
        kind="company",
        adapter="example_echo",
        adapter_config={"channel": "tengfei", "token": "s3cret-token"},
        categories=["in_kind"],
    )
    assert body["adapter"] == "example_echo"
    assert body["adapter_config"] == {"channel": "tengfei", "ceiling_fen": None}


def test_webhook_secret_is_never_returned_and_is_encrypted_at_rest(admin, as_role):
    """The signing secret is never in a response or audit row nor readable in the table; the adapter gets it."""
    created = create(admin)
    auditor = as_role("auditor")
    texts = [
        admin.get(f"{API}/partners/{created['id']}").get_data(as_text=True),
        auditor.get(f"{API}/partners").get_data(as_text=True),
        admin.patch(f"{API}/partners/{created['id']}", json={"contact": "李强"}).get_data(as_text=True),
    ]
    for text in texts:
        assert SECRET not in text
        assert "secret" not in text
    stored = db.session().get(Partner, created["id"])
    assert SECRET not in str(stored.adapter_config)
    for row in db.session().execute(select(AuditEvent)).scalars():
        assert SECRET not in (row.before or "") + (row.after or "") + (row.details or "")
    info = partners.partner_info(db.session(), stored)
    assert info.config["secret"] == SECRET
    assert info.config["url"] == "https://aid.example.org/hooks/aidbroker"


def test_who_may_read_partners(admin, as_role, make_user, login):
    """Admins and auditors read all partners; a partner's users read only their own; caseworkers get 403."""
    mine = create(admin)
    other = create(admin, name="北京市红十字会", kind="red_cross", regions=["*"])
    own = login(make_user("partner", partner_id=mine["id"]))
    assert own.get(f"{API}/partners/{mine['id']}").status_code == 200
    assert own.get(f"{API}/partners/{other['id']}").status_code == 404
    assert own.get(f"{API}/partners").status_code == 403
    assert own.patch(f"{API}/partners/{mine['id']}", json={"active": False}).status_code == 403
    caseworker = as_role("caseworker", grids=("HD-ZGC-01",))
    assert caseworker.get(f"{API}/partners/{mine['id']}").status_code == 403
    assert caseworker.post(f"{API}/partners", json=partner_body(name="x")).status_code == 403
    auditor = as_role("auditor")
    assert auditor.get(f"{API}/partners").get_json()["total"] == 2
    assert auditor.patch(f"{API}/partners/{mine['id']}", json={"active": False}).status_code == 403
    assert admin.get(f"{API}/partners/999").status_code == 404


def test_partner_shows_its_ledger_balances(admin):
    """balance_fen, pledged_fen and available_fen come from the ledger."""
    fund = create(
        admin,
        name="科源社区互助基金",
        kind="mutual_aid_fund",
        adapter="auto_grant",
        adapter_config={"limit_fen": 70_000},
    )
    session = db.session()
    ledger.deposit(session, fund["id"], "科源社区互助基金", 500_000, reference="捐赠-2026-001")
    db.commit()
    body = admin.get(f"{API}/partners/{fund['id']}").get_json()
    assert (body["balance_fen"], body["available_fen"], body["pledged_fen"]) == (500_000, 500_000, 0)
    info = partners.partner_info(db.session(), db.session().get(Partner, fund["id"]))
    assert info.available_fen == 500_000
    assert info.config == {"limit_fen": 70_000}


def test_patch_deactivates_and_keeps_secrets_it_was_not_given(admin):
    """Deactivation is audited as such; a config edit without the secret keeps it; a bad edit changes nothing."""
    created = create(admin)
    pid = created["id"]
    resp = admin.patch(f"{API}/partners/{pid}", json={"active": False})
    assert resp.get_json()["active"] is False
    actions = [e.action for e in db.session().execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert actions[-1] == "partner.deactivated"

    resp = admin.patch(
        f"{API}/partners/{pid}", json={"adapter_config": {"url": "https://new.example.org/hook", "timeout_seconds": 3}}
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["adapter_config"] == {"url": "https://new.example.org/hook", "timeout_seconds": 3.0}
    info = partners.partner_info(db.session(), db.session().get(Partner, pid))
    assert info.config["secret"] == SECRET

    resp = admin.patch(f"{API}/partners/{pid}", json={"adapter_config": {"url": "mailto:x@example.org"}})
    assert set(resp.get_json()["error"]["details"]) == {"adapter_config.url"}
    resp = admin.patch(f"{API}/partners/{pid}", json={"adapter": "auto_grant"})
    assert set(resp.get_json()["error"]["details"]) == {"adapter_config.limit_fen"}
    resp = admin.patch(
        f"{API}/partners/{pid}",
        json={"adapter": "auto_grant", "adapter_config": {"limit_fen": 50_000}, "regions": ["*"], "active": True},
    )
    body = resp.get_json()
    assert (body["adapter"], body["adapter_config"], body["regions"], body["active"]) == (
        "auto_grant",
        {"limit_fen": 50_000},
        ["*"],
        True,
    )
    row = db.session().execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert row.action == "partner.updated"
    assert audit.loads(row.before)["adapter"] == "webhook"
    assert audit.loads(row.after)["adapter_config"] == {"limit_fen": 50_000}


def test_list_filters(admin):
    """The partner list filters by category, kind and active, and pages."""
    create(admin)
    create(admin, name="北京市红十字会", kind="red_cross", categories=["medical", "emergency"], regions=["*"])
    create(
        admin,
        name="心语社工服务中心",
        kind="social_org",
        adapter="portal",
        adapter_config={},
        categories=["counselling"],
    )
    names = lambda q: [p["name"] for p in admin.get(f"{API}/partners{q}").get_json()["items"]]  # noqa: E731
    assert names("?category=medical") == ["北京市红十字会", "海淀区慈善总会"]
    assert names("?kind=social_org") == ["心语社工服务中心"]
    page = admin.get(f"{API}/partners?category=medical&per_page=1&page=2").get_json()
    assert (page["total"], [p["name"] for p in page["items"]]) == (2, ["海淀区慈善总会"])
    assert admin.get(f"{API}/partners?category=housing").status_code == 422
