"""The department's reference number (受理编号) over the API: given with a step it is
kept on the application and on the step; one too long is a 422 in the documented shape."""

from __future__ import annotations

from tests.support.registry_data import make_grids, vendor_family

API = "/api/v1"


def test_a_step_keeps_the_departments_reference_number(as_role):
    make_grids(as_role("admin"))
    caseworker = as_role("caseworker", grids=("HD-ZGC-01",))
    hid = caseworker.post(f"{API}/households", json=vendor_family()).get_json()["id"]
    app = caseworker.post(f"{API}/households/{hid}/applications", json={"policy": "dibao"}).get_json()
    assert app["reference"] == ""
    codes = {d["code"]: True for d in app["documents"]}
    assert caseworker.post(f"{API}/applications/{app['id']}/documents", json={"documents": codes}).status_code == 200
    steps = f"{API}/applications/{app['id']}/steps"
    too_long = caseworker.post(steps, json={"status": "submitted", "reference": "号" * 81})
    assert too_long.status_code == 422
    assert "reference" in too_long.get_json()["error"]["details"]
    resp = caseworker.post(steps, json={"status": "submitted", "reference": "  民受〔2026〕118号 "})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["reference"] == "民受〔2026〕118号"
    assert body["steps"][-1]["data"]["reference"] == "民受〔2026〕118号"
    later = caseworker.post(steps, json={"status": "under-review"}).get_json()
    assert later["reference"] == "民受〔2026〕118号"
    assert "reference" not in later["steps"][-1]["data"]
