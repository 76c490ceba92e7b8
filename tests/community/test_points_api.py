"""Family volunteer points over HTTP, as a caseworker, an auditor and an admin use them:
rules and shop set by the admin, hours earned once per source, a redemption sent twice
with one Idempotency-Key done once, more than the family has refused with what it has,
and the monthly statement as JSON and as an XLSX that opens."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from broker.platform import db
from models import Grid
from tests.support import points as enrolled

API = "/api/v1"


def _world(as_role):
    s = db.session()
    h = enrolled.family(s)
    code = s.get(Grid, h.grid_id).code
    db.commit()
    return h.id, as_role("caseworker", grids=(code,)), as_role("admin")


def test_a_family_earns_redeems_and_reads_its_statement(as_role):
    household, cw, admin = _world(as_role)
    rule = {"community": enrolled.COMMUNITY, "activity": "escort", "points_per_hour": 10, "monthly_cap": 100}
    assert admin.put(f"{API}/points/rules", json=rule).status_code == 200
    item = admin.post(
        f"{API}/points/shop",
        json={"community": enrolled.COMMUNITY, "name": "洗衣液", "price_points": 12, "stock": 2},
        headers={"Idempotency-Key": "shop-1"},
    )
    assert item.status_code == 201
    item_id = item.get_json()["id"]
    hours = {"activity": "escort", "minutes": 120, "source_ref": "svc:1"}
    first = cw.post(f"{API}/points/accounts/{household}/earn", json=hours)
    again = cw.post(f"{API}/points/accounts/{household}/earn", json=hours)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["points"] == 20
    assert again.get_json()["id"] == first.get_json()["id"]

    tap = {"Idempotency-Key": "redeem-tap-1"}
    r1 = cw.post(f"{API}/points/accounts/{household}/redeem", json={"item_id": item_id}, headers=tap)
    r2 = cw.post(f"{API}/points/accounts/{household}/redeem", json={"item_id": item_id}, headers=tap)
    assert r1.status_code == 201
    assert r2.get_json() == r1.get_json()
    assert r1.get_json()["balance"] == 8
    too_much = cw.post(f"{API}/points/accounts/{household}/redeem", json={"item_id": item_id})
    assert too_much.status_code == 409
    assert too_much.get_json()["error"]["code"] == "not_enough_points"
    assert too_much.get_json()["error"]["details"] == {"balance": 8, "needed": 12}

    account = cw.get(f"{API}/points/accounts/{household}").get_json()
    assert (account["balance"], account["earned"], account["redeemed"], account["consent"]) == (8, 20, 12, True)
    statement = cw.get(f"{API}/points/accounts/{household}/statement", headers={"Accept-Language": "zh-CN"})
    body = statement.get_json()
    assert (body["opening"], body["earned"], body["redeemed"], body["closing"]) == (0, 20, 12, 8)
    assert [line["points"] for line in body["lines"]] == [20, -12]
    assert body["lines"][1]["what"]["message"] == "兑换 洗衣液 × 1"
    sheet = cw.get(f"{API}/points/accounts/{household}/statement?format=xlsx&month={body['month']}")
    assert sheet.status_code == 200
    ws = load_workbook(io.BytesIO(sheet.data)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "兑换 洗衣液 × 1" in cells
    assert 8 in cells


def test_bad_input_is_a_422_naming_the_field(as_role):
    household, cw, admin = _world(as_role)
    for body, field in (
        ({"activity": "escort", "minutes": 1.5, "source_ref": "x"}, "minutes"),
        ({"activity": "flying", "minutes": 10, "source_ref": "x"}, "activity"),
        ({"activity": "escort", "minutes": 10, "source_ref": "a\x00b"}, "source_ref"),
        ({"activity": "escort", "minutes": 10, "source_ref": "x" * 121}, "source_ref"),
    ):
        resp = cw.post(f"{API}/points/accounts/{household}/earn", json=body)
        assert resp.status_code == 422, body
        assert field in resp.get_json()["error"]["details"]
    resp = cw.get(f"{API}/points/accounts/{household}/statement?month=2026-13")
    assert resp.status_code == 422
    resp = cw.post(
        f"{API}/points/accounts/{household}/earn", json={"activity": "escort", "minutes": 10, "source_ref": "x"}
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "no_points_rule"
    resp = admin.put(f"{API}/points/rules", json={"community": "x", "activity": "escort", "points_per_hour": 0})
    assert resp.status_code == 422


def test_out_of_scope_and_wrong_roles(as_role):
    household, _cw, _admin = _world(as_role)
    other = as_role("caseworker")
    auditor = as_role("auditor")
    assert other.get(f"{API}/points/accounts/{household}").status_code == 404
    assert auditor.get(f"{API}/points/accounts/{household}").status_code == 200
    body = {"activity": "escort", "minutes": 10, "source_ref": "x"}
    assert auditor.post(f"{API}/points/accounts/{household}/earn", json=body).status_code == 403
    assert other.put(f"{API}/points/rules", json={}).status_code == 403
