"""The OpenAPI document tells a client what it will meet, and the answers keep to it:
the bearer scheme applied to every protected operation (signing in stays open); every
error status an operation answers with documented in the error envelope (401, 403, 404,
409, 422, 429 …), no catch-all; ``Allow`` on a 405; ``WWW-Authenticate: Bearer`` on a
401; a body the document requires must be sent."""

from __future__ import annotations

from tests.api.test_access_matrix import API

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op


def _resolve(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def test_every_protected_operation_declares_the_bearer_scheme(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    ops = list(_operations(spec))
    assert len(ops) >= 50
    for path, method, op in ops:
        if path == f"{API}/auth/token":
            assert op["security"] == [], "signing in needs no token"
        elif (method, path) == ("get", f"{API}/concerns/{{reference}}"):
            assert op["security"] == [], "looking a concern up needs no token"
        elif (method, path) in {("post", f"{API}/volunteers"), ("get", f"{API}/teams")}:
            assert op["security"] == [], "a volunteer signs up, choosing a team, with no account yet"
        elif (method, path) == ("post", f"{API}/reporters"):
            assert op["security"] == [], "a mobile grid member signs up with no account yet"
        elif (method, path) == ("post", f"{API}/concerns"):
            assert op["security"] == [{}, {"bearer": []}], "anyone raises a concern; a caseworker records one"
        else:
            assert op.get("security") == [{"bearer": []}], (method, path)
    assert "/healthz" not in spec["paths"]


def test_every_error_status_is_documented_in_the_envelope(client):
    """401 wherever a token is needed, 403 wherever a role is, 404 on ids, 422 on input,
    409 on writes and 429 on signing in; every error answer is the envelope; and no
    ``default`` response hides an undocumented status."""
    spec = client.get(f"{API}/openapi.json").get_json()
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        statuses = set(op["responses"])
        assert "default" not in statuses, where
        assert {"431", "503"} <= statuses, where
        if op["security"]:
            assert "401" in statuses, where
            header = _resolve(spec, op["responses"]["401"])["headers"]["WWW-Authenticate"]
            assert header["required"] is True
        if "{" in path:
            assert "404" in statuses, where
        if "requestBody" in op or op.get("parameters"):
            assert "422" in statuses, where
        if "requestBody" in op:
            assert {"400", "413", "415"} <= statuses, where
        if method in ("post", "patch") and op["security"]:
            assert "409" in statuses, where
        for status, response in op["responses"].items():
            if int(status) >= 400:
                schema = _resolve(spec, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": ENVELOPE_REF}, (where, status)
    token = spec["paths"][f"{API}/auth/token"]["post"]["responses"]
    assert {"401", "422", "429"} <= set(token)
    assert "403" in spec["paths"][f"{API}/ledger"]["get"]["responses"]
    assert "403" not in spec["paths"][f"{API}/policies"]["get"]["responses"]  # any signed-in role


def test_a_405_says_which_methods_are_allowed(client):
    resp = client.delete(f"{API}/grids")
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    error = resp.get_json()["error"]
    assert error["code"] == "method_not_allowed"
    assert "POST" in error["details"]["allow"]


def test_a_401_names_the_bearer_scheme(client, make_user):
    """Without a token, with a wrong one, and for a wrong password: ``WWW-Authenticate``
    names Bearer (and says invalid_token when a token was sent and refused)."""
    missing = client.get(f"{API}/grids")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="aidbroker"'
    wrong = client.get(f"{API}/grids", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="aidbroker", error="invalid_token"'
    name = make_user("auditor")
    refused = client.post(f"{API}/auth/token", json={"username": name, "password": "wrong-password"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_patch_without_a_body_is_a_422_and_changes_nothing(as_role):
    """The document requires a body on PATCH: none at all is a 422 naming ``body``; a body
    that is not JSON a 415; an empty object remains a valid change of nothing."""
    admin = as_role("admin")
    partner = admin.post(
        f"{API}/partners",
        json={"name": "无体", "kind": "charity", "adapter": "portal", "categories": ["living"], "regions": ["*"]},
    ).get_json()
    path = f"{API}/partners/{partner['id']}"
    resp = admin.client.patch(path, headers=admin._headers(None))
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"] == {
        "body": ["required: send a JSON object (Content-Type: application/json)"]
    }
    resp = admin.client.patch(path, data="active=false", content_type="text/plain", headers=admin._headers(None))
    assert resp.status_code == 415
    assert resp.get_json()["error"]["code"] == "unsupported_media_type"
    assert admin.get(path).get_json()["active"] is True
    assert admin.patch(path, json={}).status_code == 200
    optional = admin.client.post(f"{API}/requests/999999/hold", headers=admin._headers(None))
    assert optional.status_code == 404  # an optional body may be left out: the request is looked up
