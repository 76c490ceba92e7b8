"""The adapter registry and the simple adapters: discovery through the entry-point group
(built-ins and an installed third-party package alike), a broken plugin reported by name
while the broker still starts, the contract every adapter keeps, portal and auto_grant
decisions, and the plugin delivering through real Redis."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from marshmallow import Schema

from adapters.base import Adapter, Context, Delivery, OfferInfo, PartnerInfo
from broker.platform import adapter_registry, queue
from broker.platform.errors import Invalid

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = {"portal", "webhook", "auto_grant"}


def offer(amount_fen: int | None = 70_000, **kw) -> OfferInfo:
    fields = {
        "id": 41,
        "request_id": 17,
        "category": "emergency",
        "urgency": "critical",
        "amount_fen": amount_fen,
        "respond_by": datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        "community": "科源社区",
        "description": "孩子急性白血病住院，家中急需生活费。",
        "household_label": "张** household",
        "partner_id": 3,
    }
    fields.update(kw)
    return OfferInfo(**fields)


def partner(config: dict, available_fen: int = 500_000, name: str = "科源社区互助基金") -> PartnerInfo:
    return PartnerInfo(id=3, name=name, kind="mutual_aid_fund", config=config, available_fen=available_fen)


CTX = Context(attempt=1, timeout_seconds=2.0)


def test_discovery_finds_the_builtins_and_the_installed_plugin():
    """The three built-ins and the separately installed example plugin are all found through entry points."""
    names = adapter_registry.names()
    assert set(names) >= BUILTINS | {"example_echo"}
    assert names == sorted(names)
    assert type(adapter_registry.get("example_echo")).__module__ == "aidbroker_example_adapter"
    assert adapter_registry.failed() == {}


@pytest.mark.parametrize("name", sorted(BUILTINS | {"example_echo"}))
def test_every_adapter_keeps_the_contract(name):
    """Each adapter is an Adapter named as registered, documented, with a config schema whose secrets are load-only."""
    adapter = adapter_registry.get(name)
    assert isinstance(adapter, Adapter)
    assert adapter.name == name
    assert adapter.description
    assert issubclass(adapter.config_schema, Schema)
    assert type(adapter).deliver is not Adapter.deliver
    for field_name, field in adapter.config_schema().fields.items():
        if field_name in ("secret", "token"):
            assert field.load_only, f"{name}.{field_name} must be load_only"


def test_unknown_adapter_and_config_errors_are_invalid():
    """get() names the known adapters; validate_config reports errors under adapter_config.<field>."""
    with pytest.raises(Invalid) as exc:
        adapter_registry.get("carrier_pigeon")
    assert exc.value.code == "unknown_adapter"
    assert "portal" in exc.value.message
    with pytest.raises(Invalid) as exc:
        adapter_registry.validate_config("auto_grant", {"limit_fen": "lots"})
    assert set(exc.value.details) == {"adapter_config.limit_fen"}
    assert adapter_registry.validate_config("auto_grant", {"limit_fen": 70_000}) == {"limit_fen": 70_000}
    assert adapter_registry.dump_config("webhook", {"url": "https://x.example.org", "secret": "whsec_x"}) == {
        "url": "https://x.example.org"
    }


def _broken_distribution(folder: Path) -> Path:
    dist = folder / "aidbroker_fax_adapter-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aidbroker-fax-adapter\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[aidbroker.adapters]\nfax = aidbroker_fax_adapter_missing:FaxAdapter\n", encoding="utf-8"
    )
    return folder


def test_a_broken_plugin_is_logged_by_name_and_the_rest_load(tmp_path, monkeypatch, caplog):
    """A plugin whose module cannot be imported is logged as an error naming it; every other adapter still loads."""
    monkeypatch.syspath_prepend(str(_broken_distribution(tmp_path)))
    try:
        with caplog.at_level(logging.ERROR, logger="broker.platform.adapter_registry"):
            adapter_registry.discover(reload=True)
        assert set(adapter_registry.names()) >= BUILTINS | {"example_echo"}
        assert "fax" not in adapter_registry.names()
        assert "ModuleNotFoundError" in adapter_registry.failed()["fax"]
        assert any("'fax'" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    finally:
        monkeypatch.undo()
        adapter_registry.discover(reload=True)
    assert "fax" not in adapter_registry.failed()


def test_the_app_starts_despite_a_broken_plugin(tmp_path):
    """A fresh process builds the app with a broken plugin installed, reporting it at start-up."""
    plugins = _broken_distribution(tmp_path / "site")
    script = textwrap.dedent(
        f"""
        from broker.factory import create_app
        from broker.platform import adapter_registry
        create_app({{"INSTANCE_PATH": {str(tmp_path / "instance")!r}, "REDIS_URL": {queue._state["url"]!r}}})
        print("STARTED", ",".join(adapter_registry.names()))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), str(ROOT)])}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "STARTED" in out.stdout
    assert "example_echo" in out.stdout
    assert "webhook" in out.stdout
    assert "adapter plugin 'fax'" in out.stderr
    assert "failed to load" in out.stderr


def test_adapters_endpoint_lists_adapters_and_their_settings(as_role):
    """Admins see each adapter, its settings and which are secret."""
    body = as_role("admin").get("/api/v1/adapters").get_json()
    by_name = {a["name"]: a for a in body["items"]}
    assert set(by_name) >= BUILTINS | {"example_echo"}
    assert by_name["webhook"]["config_fields"]["secret"] == {"required": True, "secret": True}
    assert by_name["auto_grant"]["config_fields"]["limit_fen"] == {"required": True, "secret": False}
    assert as_role("caseworker").get("/api/v1/adapters").status_code == 403


def test_portal_delivers_to_the_inbox():
    """The portal adapter's delivery is the offer appearing in the partner's inbox."""
    result = adapter_registry.get("portal").deliver(offer(), partner({"notify_email": None}), CTX)
    assert result.outcome == "delivered"


@pytest.mark.parametrize(
    ("amount", "available", "outcome", "fragment"),
    [
        (70_000, 500_000, "accepted", "within"),
        (100_000, 500_000, "accepted", "within"),
        (100_001, 500_000, "declined", "over 科源社区互助基金's auto-grant limit of 1000.00 元"),
        (70_000, 69_999, "declined", "Not enough in the fund"),
        (None, 500_000, "declined", "No amount"),
    ],
)
def test_auto_grant_decisions(amount, available, outcome, fragment):
    """Within the limit and the fund: accepted and paid at once; otherwise declined with a reason to act on."""
    adapter = adapter_registry.get("auto_grant")
    result = adapter.deliver(offer(amount), partner({"limit_fen": 100_000}, available), CTX)
    assert isinstance(result, Delivery)
    assert result.outcome == outcome
    assert fragment in result.reason
    if outcome == "accepted":
        assert result.accept_fen == result.disburse_fen == amount
    else:
        assert result.accept_fen is None
        assert result.disburse_fen is None


def test_the_plugin_delivers_and_withdraws_through_real_redis():
    """The third-party adapter works through the registry with the Redis the broker lends it."""
    conn = queue.connection()
    ctx = Context(attempt=1, timeout_seconds=2.0, redis=conn)
    echo = adapter_registry.get("example_echo")
    config = adapter_registry.validate_config("example_echo", {"channel": "tengfei", "ceiling_fen": 200_000})
    info = PartnerInfo(id=9, name="腾飞科技爱心企业", kind="company", config=config, available_fen=0)
    assert echo.deliver(offer(150_000), info, ctx).outcome == "delivered"
    assert echo.deliver(offer(250_000, id=42), info, ctx).outcome == "declined"
    echo.withdraw(offer(150_000), info, ctx, "expired")
    events = [json.loads(x) for x in conn.lrange("example_echo:tengfei", 0, -1)]
    assert events == [
        {"event": "created", "offer_id": 41, "amount_fen": 150_000, "label": "张** household"},
        {"event": "withdrawn", "offer_id": 41, "reason": "expired"},
    ]
