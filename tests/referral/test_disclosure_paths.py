"""Every way a description reaches a partner — the offers API, the partner's portal page,
the webhook body a real partner receiver verifies and reads, the partner's own export —
carries none of the family's names, address, phone, ID or card numbers, for generated
descriptions with them embedded (fewer examples than the domain test: each goes through
the whole loop over HTTP and a real worker)."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from openpyxl import load_workbook
from sqlalchemy import select

from broker.platform import db
from broker.registry import identity
from models import Offer
from tests.portal.conftest import Portal
from tests.registry.test_redaction import ADDRESS, NAMES, descriptions, fold
from tests.support.aid import YUAN, make_world, need
from tests.support.partner_server import PartnerServer

EXAMPLES = int(os.environ.get("DISCLOSURE_HTTP_EXAMPLES", "20"))
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.·•/\\,、|:()\[\]*#~'\"\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _flat(text: str) -> str:
    """Text folded (full-width to ASCII) with every separator removed."""
    return _SEPARATORS.sub("", fold(text))


def found(text: str, secrets: list[str]) -> list[str]:
    flat = _flat(text)
    return [s for s in secrets if _flat(s) in flat or (len(s) == 18 and s[:14] in flat)]


def _family(world, seq: int) -> int:
    """A family named as the generator names it, at its address, with ID numbers."""
    head_id = identity.make("110105", date(1985, 3, 12), f"{seq:03d}")
    resp = world.caseworker.post(
        "/api/v1/households",
        json={
            "grid": world.grid,
            "address": ADDRESS,
            "head_name": NAMES[1],
            "phone": "13912345678",
            # Over the low-income line: no policy holds part of its needs back, so both go
            # to the partners (policy before charity has tests of its own).
            "monthly_income_fen": 900000,
            "consent_to_share": False,
            "members": [
                {"name": NAMES[1], "relation": "head", "id_number": head_id},
                {"name": NAMES[0], "relation": "child", "birth_date": "2014-03-02", "conditions": ["leukaemia"]},
                {"name": NAMES[2], "relation": "spouse", "birth_date": "1983-01-09"},
                {"name": NAMES[3], "relation": "other", "birth_date": "2016-06-01"},
            ],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


@pytest.fixture
def stage(app, as_role, make_user, login):
    """A grid, a portal partner for medical needs and a webhook partner (a real local
    receiver that verifies signatures) for schooling needs, both signed in."""
    world = make_world(as_role, make_user, login)
    with PartnerServer() as server:
        world.partner("慈善总会", categories=["medical"], fund_fen=900000 * YUAN)
        world.partner(
            "助学会",
            categories=["schooling"],
            adapter="webhook",
            adapter_config={"url": server.url, "secret": server.secret},
            fund_fen=900000 * YUAN,
        )
        portal = Portal(app.test_client())
        portal.login(make_user("partner", partner_id=world.partners["慈善总会"]["id"]))
        yield world, server, portal


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=descriptions())
def test_no_secret_reaches_a_partner_by_any_path(stage, worker, case):
    """API, portal page, webhook body and export: none carries a generated secret."""
    world, server, portal = stage
    text, secrets = case
    household = _family(world, len(server.events) + 1)
    world.assess(household, need("medical", "high", 500 * YUAN, text), need("schooling", "normal", 300 * YUAN, text))
    worker()
    offers = db.session().execute(select(Offer).order_by(Offer.id.desc()).limit(2)).scalars().all()
    medical = next(o for o in offers if o.request.category == "medical")
    api = world.partner_clients["慈善总会"].get(f"/api/v1/offers/{medical.id}")
    page = portal.get(f"/partner/offers/{medical.id}")
    csv = portal.get("/partner/exports/offers.csv")
    xlsx = portal.get("/partner/exports/offers.xlsx")
    assert api.status_code == page.status_code == csv.status_code == xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    cells = " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v)
    hook = next(e for e in reversed(server.events) if e["type"] == "offer.created")
    leaked = {
        "api": found(json.dumps(api.get_json(), ensure_ascii=False), secrets),
        "portal": found(page.get_data(as_text=True), secrets),
        "csv": found(csv.get_data(as_text=True), secrets),
        "xlsx": found(cells, secrets),
        "webhook": found(json.dumps(hook, ensure_ascii=False), secrets),
    }
    assert not any(leaked.values()), (text, leaked)
    assert api.get_json()["household"] == "李** household"


def test_a_partner_export_lists_its_offers_in_chinese_with_what_it_needs(stage, worker):
    """The export carries the offer, the masked household and the redacted need — and the
    need's own words (the diagnosis) survive, since that is what the partner acts on."""
    world, _server, portal = stage
    household = _family(world, 1)
    world.assess(household, need("medical", "high", 500 * YUAN, "王小军急性白血病化疗，李秀英电话13912345678"))
    worker()
    resp = portal.get("/partner/exports/offers.csv")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "急性白血病化疗" in body
    assert "李**家" in body
    assert "王小军" not in body
    assert "13912345678" not in body
    assert "[已隐去姓名]" in body or "[name removed]" in body
