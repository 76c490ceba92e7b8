"""The new household inputs over the API: recorded on POST and PATCH, returned with the
facts derived from them, read by the policy package (dibao's asset test and filing
office, tekun's supporter, medical aid after medical spending); hostile values are a
422 naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.support.registry_data import make_grids, vendor_family

API = "/api/v1"


@pytest.fixture
def caseworker(as_role):
    make_grids(as_role("admin"))
    return as_role("caseworker", grids=("HD-ZGC-01",))


def _package(client, hid: int) -> dict[str, dict]:
    body = client.get(f"{API}/households/{hid}/policy-package").get_json()
    return {e["policy"]["code"]: e for e in body["items"]}


def test_inputs_are_recorded_returned_and_read_by_the_package(caseworker):
    """The vendor family qualifies for dibao at its street office; a second car fails the
    asset test with the reason said in Chinese; recording the car away brings it back."""
    body = vendor_family() | {"residence": "urban", "financial_assets_fen": 500000, "motor_vehicles": 0}
    resp = caseworker.post(f"{API}/households", json=body)
    assert resp.status_code == 201, resp.get_json()
    hid = resp.get_json()["id"]
    got = caseworker.get(f"{API}/households/{hid}").get_json()
    assert (got["residence"], got["financial_assets_fen"], got["financial_assets_per_capita_fen"]) == (
        "urban",
        500000,
        100000,
    )
    dibao = _package(caseworker, hid)["dibao"]
    assert dibao["qualifies"]
    assert dibao["office"] == "中关村街道办事处"

    assert caseworker.patch(f"{API}/households/{hid}", json={"motor_vehicles": 2}).status_code == 200
    near = caseworker.get(f"{API}/households/{hid}/policy-package").get_json()["near_misses"]
    failed = next(n for n in near if n["policy"]["code"] == "dibao")["failed"]
    assert [c["text"] for c in failed] == ["motor_vehicles <= motor_vehicle_limit"]
    assert "机动车辆 2" in failed[0]["message"]

    assert caseworker.patch(f"{API}/households/{hid}", json={"motor_vehicles": 0}).status_code == 200
    assert _package(caseworker, hid)["dibao"]["qualifies"]


def test_filing_dibao_records_the_street_office(caseworker):
    hid = caseworker.post(f"{API}/households", json=vendor_family()).get_json()["id"]
    resp = caseworker.post(f"{API}/households/{hid}/applications", json={"policy": "dibao"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["department"] == "中关村街道办事处"


def test_a_member_without_an_able_supporter_brings_tekun(caseworker):
    body = {
        "grid": "HD-ZGC-01",
        "address": "海淀区中关村东路20号院1号楼",
        "monthly_income_fen": 50000,
        "members": [{"name": "赵老汉", "birth_date": "1946-05-01", "relation": "head", "supporter_able": True}],
    }
    hid = caseworker.post(f"{API}/households", json=body).get_json()["id"]
    assert "tekun" not in _package(caseworker, hid)
    member_id = caseworker.get(f"{API}/households/{hid}").get_json()["members"][0]["id"]
    resp = caseworker.patch(f"{API}/households/{hid}", json={"members": [{"id": member_id, "supporter_able": False}]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["unsupported_count"] == 1
    assert _package(caseworker, hid)["tekun"]["qualifies"]


def test_medical_spending_brings_medical_aid_to_a_family_above_the_line(caseworker):
    """Income 4000 yuan for two (2000 each, above the 1665-yuan low-income line) with a
    leukaemia patient; 12,000 yuan a year of medical spending leaves 1500 each."""
    body = {
        "grid": "HD-ZGC-01",
        "address": "海淀区中关村东路22号院",
        "monthly_income_fen": 400000,
        "members": [
            {"name": "孙强", "birth_date": "1985-01-01", "relation": "head"},
            {"name": "孙乐", "birth_date": "2012-01-01", "relation": "child", "conditions": ["白血病"]},
        ],
    }
    hid = caseworker.post(f"{API}/households", json=body).get_json()["id"]
    assert "medical_aid" not in _package(caseworker, hid)
    patch = {"medical_spending_fen": 1200000, "medical_spending_period": "yearly"}
    got = caseworker.patch(f"{API}/households/{hid}", json=patch).get_json()
    assert (got["medical_spending_monthly_fen"], got["income_after_medical_per_capita_fen"]) == (100000, 150000)
    assert _package(caseworker, hid)["medical_aid"]["qualifies"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"residence": "suburb"}, "residence"),
        ({"residence": "\ud800"}, "residence"),
        ({"financial_assets_fen": -1}, "financial_assets_fen"),
        ({"financial_assets_fen": "100"}, "financial_assets_fen"),
        ({"financial_assets_fen": 10**15}, "financial_assets_fen"),
        ({"motor_vehicles": 1.5}, "motor_vehicles"),
        ({"motor_vehicles": 21}, "motor_vehicles"),
        ({"surplus_housing": "maybe"}, "surplus_housing"),
        ({"medical_spending_fen": -3}, "medical_spending_fen"),
        ({"medical_spending_period": "weekly\x00"}, "medical_spending_period"),
    ],
)
def test_hostile_household_inputs_are_422_on_their_field(caseworker, change, field):
    resp = caseworker.post(f"{API}/households", json=vendor_family() | change)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["details"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"disability_kind": "psychic"}, "disability_kind"), ({"supporter_able": "perhaps"}, "supporter_able")],
)
def test_hostile_member_inputs_are_422_on_their_field(caseworker, change, field):
    body = vendor_family()
    body["members"][0] |= change
    resp = caseworker.post(f"{API}/households", json=body)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["details"]["members"]["0"]
